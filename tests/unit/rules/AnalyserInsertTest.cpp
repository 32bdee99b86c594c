#include "RulesTestSupport.hpp"

#include <gtest/gtest.h>

#include <string>

namespace uniqgate::rules {
namespace {

using testing::analyse;

const RulePlan& product_rule(const testing::Analysed& a) { return a.plan.rules.at(0); }

std::vector<KeyStatus> statuses(const RulePlan& rule) {
    std::vector<KeyStatus> out;
    for (const RowKey& row : rule.rows) out.push_back(row.status);
    return out;
}

TEST(AnalyseInsert, MultiRowValuesGiveOneKeyPerRowWithSourceText) {
    const std::string sql = "INSERT INTO product (name, model, price) VALUES ('ABC', 'x  ', 1.5), ('it''s', 'a\\'b', 2)";
    const auto a = analyse(sql);
    const RulePlan& rule = product_rule(a);
    ASSERT_TRUE(rule.unsupported.empty()) << rule.unsupported;
    ASSERT_EQ(rule.rows.size(), 2U);
    EXPECT_EQ(rule.row_key_values(0)[0].text.in(sql), "'ABC'");
    EXPECT_EQ(rule.row_key_values(0)[1].text.in(sql), "'x  '");
    EXPECT_EQ(rule.row_key_values(1)[0].text.in(sql), "'it''s'");
    EXPECT_EQ(rule.row_key_values(1)[1].text.in(sql), "'a\\'b'");
    EXPECT_EQ(rule.identity(0), "3:abc1:x");
    EXPECT_EQ(rule.identity(1), "4:it's3:a'b");
    EXPECT_EQ(a.plan.insert.rows.size(), 2U);
    EXPECT_EQ(a.plan.insert.rows[1].in(sql), "('it''s', 'a\\'b', 2)");
    EXPECT_EQ(a.plan.insert.values.in(sql), "('ABC', 'x  ', 1.5), ('it''s', 'a\\'b', 2)");
    EXPECT_EQ(a.plan.insert.column_list.in(sql), "(name, model, price)");
    EXPECT_TRUE(rule.actions.lock_keys);
    EXPECT_TRUE(rule.actions.check_live);
    EXPECT_FALSE(rule.actions.insert_dedup_keys);
    EXPECT_EQ(a.plan.table_name.in(sql), "product");
    EXPECT_EQ(a.plan.schema, "shop");
    EXPECT_EQ(a.plan.table, "product");
}

TEST(AnalyseInsert, CollationEqualKeysShareAnIdentity) {
    const auto a = analyse("INSERT INTO product (name, model) VALUES ('ABC', 'm'), ('abc  ', 'M'), ('Abc', 'n')");
    const RulePlan& rule = product_rule(a);
    EXPECT_EQ(rule.identity(0), rule.identity(1));
    EXPECT_NE(rule.identity(0), rule.identity(2));
}

TEST(AnalyseInsert, NullKeyIsNeverADuplicate) {
    const auto a = analyse("INSERT INTO product (name, model) VALUES (NULL, 'm'), ('a', 'm')");
    EXPECT_EQ(statuses(product_rule(a)), (std::vector{KeyStatus::has_null, KeyStatus::known}));
}

TEST(AnalyseInsert, SoftDeletedRowIsNotLive) {
    const auto a = analyse("INSERT INTO product (name, model, delete_status) VALUES ('a', 'm', 1), ('a', 'm', 0), ('a', 'm', '0')");
    EXPECT_EQ(statuses(product_rule(a)), (std::vector{KeyStatus::not_live, KeyStatus::known, KeyStatus::known}));
}

TEST(AnalyseInsert, OmittedKeyColumnTakesItsLiteralDefault) {
    const std::string sql = "INSERT INTO product (name) VALUES ('a'), ('b')";
    const auto a = analyse(sql);
    const RulePlan& rule = product_rule(a);
    ASSERT_TRUE(rule.unsupported.empty()) << rule.unsupported;
    EXPECT_EQ(rule.row_key_values(0)[1].kind, ValueKind::column_default);
    EXPECT_EQ(rule.identity(0), "1:a0:");
}

TEST(AnalyseInsert, DefaultWordUsesTheColumnDefault) {
    const auto a = analyse("INSERT INTO product (name, model) VALUES ('a', DEFAULT)");
    EXPECT_EQ(product_rule(a).identity(0), "1:a0:");
}

TEST(AnalyseInsert, MissingKeyColumnWithoutDefaultIsReported) {
    const auto a = analyse("INSERT INTO product (model) VALUES ('m')");
    EXPECT_EQ(product_rule(a).unsupported, "cannot check rule 'product_name_model': row 1: key column 'name' has no default value");
}

TEST(AnalyseInsert, ExpressionKeyIsReportedWithItsText) {
    const auto a = analyse("INSERT INTO product (name, model) VALUES ('a', 'b'), (CONCAT('a', 'b'), 'c')");
    EXPECT_EQ(product_rule(a).unsupported,
              "cannot check rule 'product_name_model': row 2: key column 'name' is an expression: CONCAT('a', 'b')");
    EXPECT_EQ(product_rule(a).rows[1].status, KeyStatus::unknown);
}

TEST(AnalyseInsert, SubqueryKeyIsAnExpression) {
    const auto a = analyse("INSERT INTO product (name, model) VALUES ((SELECT 'x'), 'c')");
    EXPECT_NE(product_rule(a).unsupported.find("is an expression: (SELECT 'x')"), std::string::npos);
}

TEST(AnalyseInsert, PlaceholdersReferToParameterIndexes) {
    const std::string sql = "INSERT INTO product (price, name, model) VALUES (?, ?, ?), (?, ?, 'fixed')";
    const auto a = analyse(sql);
    const RulePlan& rule = product_rule(a);
    EXPECT_EQ(a.plan.parameter_count, 5U);
    EXPECT_EQ(statuses(rule), (std::vector{KeyStatus::needs_parameters, KeyStatus::needs_parameters}));
    EXPECT_EQ(rule.row_key_values(0)[0].kind, ValueKind::parameter);
    EXPECT_EQ(rule.row_key_values(0)[0].parameter, 1U);
    EXPECT_EQ(rule.row_key_values(0)[1].parameter, 2U);
    EXPECT_EQ(rule.row_key_values(1)[0].parameter, 4U);
    EXPECT_EQ(rule.row_key_values(1)[1].kind, ValueKind::literal);
    EXPECT_TRUE(rule.actions.lock_keys);
}

TEST(AnalyseInsert, PlaceholderInSoftDeleteColumnWaitsForBinding) {
    const auto a = analyse("insert into product (delete_status, name, model) values (?, 'a', 'b')");
    EXPECT_EQ(product_rule(a).rows[0].status, KeyStatus::needs_parameters);
    EXPECT_EQ(product_rule(a).soft_delete_values[0].parameter, 0U);
}

TEST(AnalyseInsert, WithoutColumnListRowsFollowTableOrder) {
    const auto a = analyse("INSERT INTO product VALUES (NULL, 'a', 'b', 1.00, 0, NOW())");
    EXPECT_TRUE(product_rule(a).unsupported.empty()) << product_rule(a).unsupported;
    EXPECT_EQ(product_rule(a).identity(0), "1:a1:b");
    const auto short_row = analyse("INSERT INTO product VALUES (NULL, 'a')");
    EXPECT_EQ(product_rule(short_row).unsupported,
              "cannot check rule 'product_name_model': the rows do not hold every column of the table");
}

TEST(AnalyseInsert, SetFormIsOneRow) {
    const std::string sql = "INSERT INTO product SET name = 'a', model = _utf8mb4'b' COLLATE utf8mb4_bin, price = 3";
    const auto a = analyse(sql);
    EXPECT_TRUE(a.plan.insert.set_form);
    ASSERT_EQ(product_rule(a).rows.size(), 1U);
    EXPECT_EQ(product_rule(a).identity(0), "1:a1:b");
    EXPECT_EQ(product_rule(a).row_key_values(0)[1].text.in(sql), "_utf8mb4'b' COLLATE utf8mb4_bin");
}

TEST(AnalyseInsert, IgnorePriorityPartitionAndValueWordAreRead) {
    const auto a = analyse("INSERT HIGH_PRIORITY IGNORE INTO shop.product PARTITION (p0, p1) (name, model) VALUE ('a', 'b')");
    EXPECT_TRUE(a.plan.insert.ignore);
    EXPECT_EQ(product_rule(a).identity(0), "1:a1:b");
}

TEST(AnalyseInsert, RowConstructorsAndRowAlias) {
    const std::string sql =
        "INSERT INTO product (name, model, price) VALUES ROW('a', 'b', 1), ROW('c', 'd', 2) AS new(n, m, p) "
        "ON DUPLICATE KEY UPDATE price = new.p";
    const auto a = analyse(sql);
    ASSERT_TRUE(product_rule(a).unsupported.empty()) << product_rule(a).unsupported;
    EXPECT_EQ(product_rule(a).rows.size(), 2U);
    EXPECT_EQ(a.plan.insert.rows[0].in(sql), "('a', 'b', 1)");
    EXPECT_EQ(a.plan.insert.row_alias.in(sql), "AS new(n, m, p)");
    EXPECT_EQ(a.plan.insert.on_duplicate_key_update.in(sql), "price = new.p");
}

TEST(AnalyseInsert, OnDuplicateKeyUpdateOfAKeyColumnCannotBeChecked) {
    const auto a = analyse("INSERT INTO product (id, name, model) VALUES (1, 'a', 'b') ON DUPLICATE KEY UPDATE name = VALUES(name)");
    EXPECT_EQ(product_rule(a).unsupported,
              "ON DUPLICATE KEY UPDATE of column 'name' on rule 'product_name_model' cannot be checked");
}

TEST(AnalyseInsert, InsertSelectAndTableCannotBeChecked) {
    for (const char* sql : {"INSERT INTO product (name, model) SELECT name, model FROM old_product",
                            "INSERT INTO product TABLE old_product", "INSERT INTO product (SELECT * FROM old_product)",
                            "INSERT INTO product (name) WITH x AS (SELECT 1) SELECT * FROM x"}) {
        EXPECT_EQ(product_rule(analyse(sql)).unsupported, "INSERT ... SELECT on rule 'product_name_model' cannot be checked") << sql;
    }
    EXPECT_EQ(product_rule(analyse("REPLACE INTO product SELECT * FROM x")).unsupported,
              "REPLACE ... SELECT on rule 'product_name_model' cannot be checked");
}

TEST(AnalyseInsert, MariadbReturningIsSkipped) {
    const std::string sql = "INSERT INTO product (name, model) VALUES ('a', 'b') RETURNING id, name";
    const auto a = analyse(sql);
    EXPECT_TRUE(product_rule(a).unsupported.empty());
    EXPECT_EQ(a.plan.insert.returning.in(sql), "id, name");
}

TEST(AnalyseInsert, ThousandRowsKeepEveryRowSpan) {
    std::string sql = "INSERT INTO product (name, model) VALUES ";
    for (int i = 0; i < 1000; ++i) sql += (i ? ",('n" : "('n") + std::to_string(i) + "', 'm')";
    const auto a = analyse(sql);
    const RulePlan& rule = product_rule(a);
    ASSERT_EQ(rule.rows.size(), 1000U);
    EXPECT_EQ(a.plan.insert.rows[999].in(sql), "('n999', 'm')");
    EXPECT_EQ(rule.identity(999), "4:n9991:m");
    for (const RowKey& row : rule.rows) EXPECT_EQ(row.status, KeyStatus::known);
}

TEST(AnalyseInsert, DedupRuleWithNullLiveValue) {
    const auto a = analyse("INSERT INTO users (tenant_id, email, deleted_at) VALUES (1, 'A@x', NULL), (1, 'b@x', '2024-01-01'), ('1', 'c@x ', DEFAULT)");
    const RulePlan& rule = a.plan.rules.at(0);
    EXPECT_EQ(rule.rule->name, "users_email");
    EXPECT_EQ(statuses(rule), (std::vector{KeyStatus::known, KeyStatus::not_live, KeyStatus::known}));
    EXPECT_EQ(rule.identity(0), "1:13:a@x");
    EXPECT_EQ(rule.identity(2), "1:14:c@x ");  // utf8mb4_0900_ai_ci is NO PAD
    EXPECT_TRUE(rule.actions.insert_dedup_keys);
    EXPECT_FALSE(rule.actions.lock_keys);
}

TEST(AnalyseInsert, ReplaceInDedupModeRemovesReplacedKeys) {
    const auto a = analyse("REPLACE INTO users (tenant_id, email) VALUES (1, 'a')");
    EXPECT_TRUE(a.plan.rules[0].actions.insert_dedup_keys);
    EXPECT_TRUE(a.plan.rules[0].actions.delete_dedup_keys);
    EXPECT_TRUE(a.plan.rules[0].actions.read_old_keys);
}

TEST(AnalyseInsert, UnreadableStatementsNameTheRule) {
    EXPECT_EQ(product_rule(analyse("INSERT INTO product (name) VALUES ('open")).unsupported,
              "a statement with an unterminated string, identifier or comment on rule 'product_name_model' cannot be checked");
    EXPECT_EQ(product_rule(analyse("INSERT INTO product (name, model) VALUES ('a', 'b'), ('c')")).unsupported,
              "INSERT (cannot read the VALUES rows) on rule 'product_name_model' cannot be checked");
    EXPECT_EQ(product_rule(analyse("INSERT INTO product (name) VALUES ('a') garbage")).unsupported,
              "INSERT (unexpected text after the inserted rows) on rule 'product_name_model' cannot be checked");
}

TEST(AnalyseInsert, MissingSchemaIsReported) {
    const RuleSet rule_set(testing::test_rules());
    const std::string_view sql = "INSERT INTO product (name) VALUES ('a')";
    const SessionContext session = testing::shop_session();
    const WritePlan plan = analyse_write(sql, rule_set.classify(sql, session), rule_set, session, nullptr);
    EXPECT_EQ(plan.unsupported_reason(), "INSERT without the table's schema on rule 'product_name_model' cannot be checked");
}

TEST(AnalyseInsert, GbkKeyEndingInTrailByte5C) {
    SessionContext session = testing::shop_session();
    session.charset = Charset::gbk;
    const std::string sql = "INSERT INTO product (name, model) VALUES ('\x95\x5C', 'm')";
    const auto a = analyse(sql, session);
    ASSERT_TRUE(product_rule(a).unsupported.empty()) << product_rule(a).unsupported;
    EXPECT_EQ(product_rule(a).row_key_values(0)[0].text.in(sql), "'\x95\x5C'");
    EXPECT_EQ(product_rule(a).identity(0), "2:\x95\x5C" "1:m");
}

TEST(AnalyseInsert, NoBackslashEscapesChangesTheKey) {
    SessionContext session = testing::shop_session();
    session.no_backslash_escapes = true;
    const auto a = analyse("INSERT INTO product (name, model) VALUES ('a\\', 'm')", session);
    EXPECT_EQ(product_rule(a).identity(0), "2:a\\1:m");
}

TEST(AnalyseInsert, StatementsOnOtherTablesGiveAnEmptyPlan) {
    const auto a = analyse("INSERT INTO orders (a) VALUES (1)");
    EXPECT_TRUE(a.plan.rules.empty());
    EXPECT_FALSE(a.plan.needs_action());
}

}  // namespace
}  // namespace uniqgate::rules

namespace uniqgate::rules {
namespace {

// Found by fuzz_rules_analyser: a column list longer than the rows read past the row.
TEST(AnalyseInsertFuzzRegression, ColumnListLongerThanRowsIsRefused) {
    const auto a = testing::analyse("INSERT INTO product (id, name, model) VALUES (1.0, 'x')");
    EXPECT_EQ(a.plan.unsupported_reason(), "cannot check rule 'product_name_model': the rows and the column list differ in length");
}

}  // namespace
}  // namespace uniqgate::rules
