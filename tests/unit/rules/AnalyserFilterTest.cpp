// UPDATE, DELETE, TRUNCATE and LOAD DATA on rule tables.

#include "RulesTestSupport.hpp"

#include <gtest/gtest.h>

#include <string>

namespace uniqgate::rules {
namespace {

using testing::analyse;

TEST(AnalyseUpdate, KeyWriteGivesSpansAndNewValues) {
    const std::string sql = "UPDATE product SET name = 'x', price = price + 1 WHERE id = 5 ORDER BY id DESC LIMIT 1";
    const auto a = analyse(sql);
    const RulePlan& rule = a.plan.rules.at(0);
    EXPECT_TRUE(rule.unsupported.empty()) << rule.unsupported;
    EXPECT_TRUE(rule.writes_key);
    EXPECT_FALSE(rule.writes_soft_delete);
    EXPECT_EQ(rule.assigned_key_values[0].text.in(sql), "'x'");
    EXPECT_EQ(rule.assigned_key_values[1].kind, ValueKind::not_assigned);
    EXPECT_EQ(a.plan.filter.where.in(sql), "id = 5");
    EXPECT_EQ(a.plan.filter.order_by.in(sql), "id DESC");
    EXPECT_EQ(a.plan.filter.limit.in(sql), "1");
    EXPECT_EQ(a.plan.filter.table_reference.in(sql), "product");
    EXPECT_EQ(a.plan.filter.set_list.in(sql), "name = 'x', price = price + 1");
    EXPECT_TRUE(rule.actions.read_old_keys);
    EXPECT_TRUE(rule.actions.lock_keys);
    EXPECT_TRUE(rule.actions.check_live);
}

TEST(AnalyseUpdate, UpdateOfOtherColumnsIsRelayed) {
    const auto a = analyse("UPDATE product SET price = 3 WHERE name = 'a'");
    EXPECT_FALSE(a.plan.needs_action());
}

TEST(AnalyseUpdate, SoftDeleteNeedsNothingInSerializeMode) {
    const auto a = analyse("UPDATE `product` SET `delete_status` = 1 WHERE `id` = 3");
    EXPECT_TRUE(a.plan.rules[0].writes_soft_delete);
    EXPECT_EQ(a.plan.rules[0].assigned_liveness, Liveness::not_live);
    EXPECT_FALSE(a.plan.needs_action());
}

TEST(AnalyseUpdate, UndeleteIsCheckedLikeAnInsert) {
    const auto a = analyse("UPDATE product p SET p.delete_status = 0 WHERE p.id = 3");
    EXPECT_EQ(a.plan.rules[0].assigned_liveness, Liveness::live);
    EXPECT_TRUE(a.plan.rules[0].actions.check_live);
    EXPECT_EQ(a.plan.filter.table_reference.in("UPDATE product p SET p.delete_status = 0 WHERE p.id = 3"), "product p");
}

TEST(AnalyseUpdate, DedupSoftDeleteRemovesOldKeysOnly) {
    // NOW() never returns NULL: for a live-while-NULL rule it is a soft delete.
    const auto a = analyse("UPDATE users SET deleted_at = NOW() WHERE id = 1");
    EXPECT_TRUE(a.plan.unsupported_reason().empty());
    EXPECT_TRUE(a.plan.rules[0].actions.delete_dedup_keys);
    EXPECT_FALSE(a.plan.rules[0].actions.insert_dedup_keys);
    const auto c = analyse("UPDATE users SET deleted_at = NOW() + INTERVAL 1 DAY WHERE id = 1");
    EXPECT_EQ(c.plan.unsupported_reason(), "UPDATE setting the soft-delete column to an expression on rule 'users_email' cannot be checked");
    const auto b = analyse("UPDATE users SET deleted_at = '2024-01-01 00:00:00' WHERE id = 1");
    const Actions& actions = b.plan.rules[0].actions;
    EXPECT_TRUE(actions.read_old_keys);
    EXPECT_TRUE(actions.delete_dedup_keys);
    EXPECT_FALSE(actions.insert_dedup_keys);
}

TEST(AnalyseUpdate, KeySetToAnExpressionCannotBeChecked) {
    const auto a = analyse("UPDATE product SET name = CONCAT(name, '-old') WHERE id = 1");
    EXPECT_EQ(a.plan.unsupported_reason(), "UPDATE setting key column 'name' to an expression on rule 'product_name_model' cannot be checked");
}

TEST(AnalyseUpdate, KeyOrSoftDeleteSetToTheirDefault) {
    // model's default is '' (a constant): the key's new value is known.
    const auto a = analyse("UPDATE product SET model = DEFAULT WHERE id = 1");
    EXPECT_TRUE(a.plan.unsupported_reason().empty()) << a.plan.unsupported_reason();
    EXPECT_EQ(a.plan.rules[0].assigned_key_values[1].kind, ValueKind::column_default);
    EXPECT_TRUE(a.plan.rules[0].actions.check_live);
    // delete_status's default 0 is the live value: an un-delete.
    const auto b = analyse("UPDATE product SET delete_status = DEFAULT WHERE id = 1");
    EXPECT_EQ(b.plan.rules[0].assigned_liveness, Liveness::live);
    EXPECT_TRUE(b.plan.rules[0].actions.check_live);
    // deleted_at defaults to NULL, the live value there.
    const auto c = analyse("UPDATE users SET deleted_at = DEFAULT WHERE id = 1");
    EXPECT_EQ(c.plan.rules[0].assigned_liveness, Liveness::live);
    // name has no default: nothing to check against.
    const auto d = analyse("UPDATE product SET name = DEFAULT WHERE id = 1");
    EXPECT_EQ(d.plan.unsupported_reason(), "UPDATE setting key column 'name' to an expression on rule 'product_name_model' cannot be checked");
}

TEST(AnalyseUpdate, PlaceholderKeysAreParameters) {
    const std::string sql = "update product set delete_status=?,model=?,name=?,price=? where id=?";
    const auto a = analyse(sql);
    const RulePlan& rule = a.plan.rules[0];
    EXPECT_TRUE(rule.unsupported.empty()) << rule.unsupported;
    EXPECT_EQ(rule.assigned_key_values[0].parameter, 2U);
    EXPECT_EQ(rule.assigned_key_values[1].parameter, 1U);
    EXPECT_EQ(rule.assigned_liveness, Liveness::needs_parameters);
    EXPECT_EQ(a.plan.filter.where.in(sql), "id=?");
}

TEST(AnalyseUpdate, MultiTableKeyWriteCannotBeChecked) {
    const auto a = analyse("UPDATE orders o JOIN product p ON p.id = o.product_id SET p.name = 'x' WHERE o.id = 1");
    EXPECT_TRUE(a.plan.filter.multi_table);
    EXPECT_EQ(a.plan.unsupported_reason(), "multi-table UPDATE of key or soft-delete columns on rule 'product_name_model' cannot be checked");
    const auto b = analyse("UPDATE orders o, product p SET o.qty = 2 WHERE p.id = o.product_id");
    EXPECT_FALSE(b.plan.needs_action());
}

TEST(AnalyseUpdate, WithClauseIsKeptForTheKeyRead) {
    const std::string sql = "WITH old AS (SELECT id FROM product WHERE price = 0) UPDATE product SET name = 'z' WHERE id IN (SELECT id FROM old)";
    const auto a = analyse(sql);
    EXPECT_EQ(a.plan.filter.with_clause.in(sql), "WITH old AS (SELECT id FROM product WHERE price = 0)");
    EXPECT_EQ(a.plan.filter.where.in(sql), "id IN (SELECT id FROM old)");
}

TEST(AnalyseDelete, DedupDeleteReadsAndRemovesOldKeys) {
    const std::string sql = "DELETE FROM users WHERE tenant_id = 3 ORDER BY id LIMIT 10";
    const auto a = analyse(sql);
    const Actions& actions = a.plan.rules[0].actions;
    EXPECT_TRUE(actions.read_old_keys);
    EXPECT_TRUE(actions.delete_dedup_keys);
    EXPECT_EQ(a.plan.filter.where.in(sql), "tenant_id = 3");
    EXPECT_EQ(a.plan.filter.order_by.in(sql), "id");
    EXPECT_EQ(a.plan.filter.limit.in(sql), "10");
    EXPECT_EQ(a.plan.filter.table_reference.in(sql), "users");
}

TEST(AnalyseDelete, SerializeDeleteIsRelayed) {
    EXPECT_FALSE(analyse("DELETE FROM product WHERE id = 1").plan.needs_action());
    EXPECT_FALSE(analyse("DELETE p FROM product p JOIN orders o ON o.pid = p.id").plan.needs_action());
}

TEST(AnalyseDelete, AliasAndReturningAreRead) {
    const std::string sql = "DELETE FROM users AS u WHERE u.id = 1 RETURNING u.email";
    const auto a = analyse(sql);
    EXPECT_FALSE(a.plan.filter.multi_table);
    EXPECT_EQ(a.plan.filter.table_reference.in(sql), "users AS u");
    EXPECT_EQ(a.plan.filter.where.in(sql), "u.id = 1");
}

TEST(AnalyseDelete, MultiTableDeleteInDedupModeCannotBeChecked) {
    for (const char* sql : {"DELETE u FROM users u JOIN t ON t.id = u.id", "DELETE FROM u USING users u JOIN t ON t.id = u.id WHERE t.x = 1"}) {
        const auto a = analyse(sql);
        EXPECT_TRUE(a.plan.filter.multi_table) << sql;
        EXPECT_EQ(a.plan.unsupported_reason(), "multi-table DELETE on rule 'users_email' cannot be checked") << sql;
    }
}

TEST(AnalyseTruncate, DedupModeClearsTheDedupTable) {
    EXPECT_TRUE(analyse("TRUNCATE TABLE users").plan.rules[0].actions.clear_dedup_table);
    EXPECT_FALSE(analyse("TRUNCATE product").plan.needs_action());
}

TEST(AnalyseLoadData, CannotBeChecked) {
    EXPECT_EQ(analyse("LOAD DATA INFILE 'x.csv' INTO TABLE product").plan.unsupported_reason(),
              "LOAD DATA on rule 'product_name_model' cannot be checked");
}

}  // namespace
}  // namespace uniqgate::rules
