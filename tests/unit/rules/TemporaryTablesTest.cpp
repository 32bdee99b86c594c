// Which rule tables a session's CREATE TEMPORARY TABLE hides, and which a DROP TABLE may
// uncover again.

#include "RulesTestSupport.hpp"
#include "rules/TemporaryTables.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace uniqgate::rules {
namespace {

TemporaryTableChange change_of(std::string_view sql) {
    static const RuleSet rule_set(testing::test_rules());
    return temporary_table_change(sql, rule_set, testing::shop_session());
}

using Tables = std::vector<int>;

TEST(TemporaryTables, CreateTemporaryTableHidesTheRuleTableOfItsName) {
    EXPECT_EQ(change_of("CREATE TEMPORARY TABLE product (id INT)").created, Tables{0});
    EXPECT_EQ(change_of("create temporary table if not exists `shop`.`product` like other").created, Tables{0});
    EXPECT_EQ(change_of("CREATE OR REPLACE TEMPORARY TABLE users AS SELECT 1").created, Tables{1});
    EXPECT_EQ(change_of("/* ORM */ CREATE TEMPORARY TABLE shop.users (id INT)").created, Tables{1});
}

TEST(TemporaryTables, OtherTablesAndBaseTablesHideNothing) {
    EXPECT_TRUE(change_of("CREATE TABLE product (id INT)").empty());
    EXPECT_TRUE(change_of("CREATE TEMPORARY TABLE product_copy (id INT)").empty());
    EXPECT_TRUE(change_of("CREATE TEMPORARY TABLE other.product (id INT)").empty());
    EXPECT_TRUE(change_of("INSERT INTO product (name, model) VALUES ('a', 'b')").empty());
    EXPECT_TRUE(change_of("CREATE TEMPORARY").empty());
    EXPECT_TRUE(change_of("CREATE TEMPORARY TABLE shop.").empty());
    EXPECT_TRUE(change_of("").empty());
}

TEST(TemporaryTables, DropTableNamesEveryRuleTableInItsList) {
    EXPECT_EQ(change_of("DROP TEMPORARY TABLE product").dropped, Tables{0});
    EXPECT_EQ(change_of("DROP TABLE IF EXISTS other, shop.product, `users` RESTRICT").dropped, (Tables{0, 1}));
    EXPECT_TRUE(change_of("DROP TABLE other").empty());
    EXPECT_TRUE(change_of("DROP DATABASE shop").empty());
    EXPECT_TRUE(change_of("DROP TABLE").empty());
}

TEST(TemporaryTables, EveryStatementOfAMultiStatement) {
    const auto change = change_of("CREATE TEMPORARY TABLE product (id INT); INSERT INTO product VALUES (1); "
                                  "DROP TEMPORARY TABLE users");
    EXPECT_EQ(change.created, Tables{0});
    EXPECT_EQ(change.dropped, Tables{1});
}

}  // namespace
}  // namespace uniqgate::rules
