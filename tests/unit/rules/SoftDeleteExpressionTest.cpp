// UPDATE ... SET deleted_at = NOW(): a soft delete written as a time function.
#include "rules/Analyser.hpp"

#include <gtest/gtest.h>

namespace uniqgate::rules {
namespace {

struct DeletedAtRule {
    config::Rule rule = [] {
        config::Rule r;
        r.name = "customer_email";
        r.table = {"shop", "customer"};
        r.key = {"email"};
        r.soft_delete = {"deleted_at", std::nullopt};
        return r;
    }();
    RuleSet rule_set{{rule}};
    TableSchema schema = [] {
        TableSchema t;
        t.columns = {{"id", ColumnType::integer, "", 0, false, true, {}},
                     {"email", ColumnType::text, "utf8mb4_general_ci", 0, false, false, {}},
                     {"deleted_at", ColumnType::temporal, "", 0, true, false, {DefaultKind::null, {}}}};
        t.primary_key = {"id"};
        return t;
    }();
    SessionContext session = [] {
        SessionContext s;
        s.current_database = "shop";
        return s;
    }();

    WritePlan analyse(std::string_view sql) const {
        return analyse_write(sql, rule_set.classify(sql, session), rule_set, session, &schema);
    }
};

TEST(SoftDeleteExpression, CurrentTimeFunctionsSoftDeleteALiveWhileNullRow) {
    const DeletedAtRule fixture;
    for (const char* sql : {"UPDATE customer SET deleted_at = NOW() WHERE id = 1",
                            "UPDATE customer SET deleted_at = now( ) WHERE id = 1",
                            "UPDATE customer SET deleted_at = CURRENT_TIMESTAMP WHERE id = 1",
                            "UPDATE customer SET deleted_at = CURRENT_TIMESTAMP(6) WHERE id = 1",
                            "UPDATE customer SET deleted_at = UTC_TIMESTAMP() WHERE email = 'a@b'"}) {
        const auto plan = fixture.analyse(sql);
        ASSERT_EQ(plan.rules.size(), 1U) << sql;
        EXPECT_TRUE(plan.rules[0].unsupported.empty()) << sql << ": " << plan.rules[0].unsupported;
        EXPECT_EQ(plan.rules[0].assigned_liveness, Liveness::not_live) << sql;
        EXPECT_FALSE(plan.needs_action()) << sql << ": a soft delete cannot create a duplicate";
    }
}

TEST(SoftDeleteExpression, OtherExpressionsStayUnknown) {
    const DeletedAtRule fixture;
    for (const char* sql : {"UPDATE customer SET deleted_at = IF(id > 1, NULL, NOW()) WHERE id = 1",
                            "UPDATE customer SET deleted_at = NOW() + INTERVAL 1 DAY WHERE id = 1",
                            "UPDATE customer SET deleted_at = NOW(x) WHERE id = 1"}) {
        const auto plan = fixture.analyse(sql);
        ASSERT_EQ(plan.rules.size(), 1U) << sql;
        EXPECT_FALSE(plan.rules[0].unsupported.empty()) << sql;
    }
}

}  // namespace
}  // namespace uniqgate::rules
