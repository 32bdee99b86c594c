// The per-statement path must not allocate: counts operator new calls around classify.

#include "RulesTestSupport.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <new>

namespace {
thread_local long allocations = 0;
}  // namespace

void* operator new(std::size_t size) {
    ++allocations;
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace uniqgate::rules {
namespace {

TEST(ClassifierAllocation, ClassifyNeverAllocates) {
    const RuleSet rule_set(testing::test_rules());
    const SessionContext session = testing::shop_session();
    for (const char* sql : {"SELECT 1", "UPDATE orders SET a = 1", "BEGIN", "SET autocommit = 0",
                            "INSERT INTO product (name) VALUES ('a')", "DELETE p FROM product p JOIN x", "/* c */ COMMIT AND CHAIN",
                            "WITH x AS (SELECT 1) UPDATE orders SET a = 1", "'unterminated"}) {
        const long before = allocations;
        const Classification c = rule_set.classify(sql, session);
        EXPECT_EQ(allocations, before) << sql;
        (void)c;
    }
}

}  // namespace
}  // namespace uniqgate::rules
