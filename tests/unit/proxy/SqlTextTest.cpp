// SQL the proxy builds for its own statements: quoting, and the existence-check
// query built from an INSERT's plan (literals copied verbatim).
#include "ProductSchema.hpp"
#include "proxy/PreparedWrites.hpp"
#include "proxy/SchemaCache.hpp"
#include "proxy/SqlText.hpp"
#include "rules/Analyser.hpp"

#include <gtest/gtest.h>

namespace uniqgate::proxy {
namespace {

TEST(SqlText, QuotesIdentifiersAndStrings) {
    EXPECT_EQ(quote_identifier("name"), "`name`");
    EXPECT_EQ(quote_identifier("we`ird"), "`we``ird`");
    EXPECT_EQ(quote_table("shop", "product"), "`shop`.`product`");
    EXPECT_EQ(quote_table("", "product"), "`product`");
    EXPECT_EQ(quote_string("it's", false), "'it''s'");
    EXPECT_EQ(quote_string("a\\b", false), "'a\\\\b'");
    EXPECT_EQ(quote_string("a\\b", true), "'a\\b'") << "NO_BACKSLASH_ESCAPES: a backslash is itself";
}

TEST(SqlText, EmbeddableInBlockOnlyWithoutSeparatorsOrLastInsertId) {
    const rules::LexOptions options{};
    EXPECT_TRUE(embeddable_in_block("INSERT INTO t (a) VALUES (?) -- done; really", options));
    EXPECT_TRUE(embeddable_in_block("INSERT INTO t (a) VALUES ('x;y', `last_insert_id`)", options))
        << "a ';' in a string and a quoted name are neither";
    EXPECT_FALSE(embeddable_in_block("INSERT INTO t (a) VALUES (?);", options)) << "a trailing ';'";
    EXPECT_FALSE(embeddable_in_block("INSERT INTO t (a) VALUES (Last_Insert_Id(?))", options));
    EXPECT_FALSE(embeddable_in_block("INSERT INTO t (a) VALUES ('open", options)) << "unterminated";
}

TEST(SqlText, LiveConditionForFlagsAndTimestamps) {
    EXPECT_EQ(live_condition({"delete_status", std::string("0")}, false), "`delete_status` = 0");
    EXPECT_EQ(live_condition({"deleted_at", std::nullopt}, false), "`deleted_at` IS NULL");
    EXPECT_EQ(live_condition({"state", std::string("live")}, false), "`state` = 'live'");
    EXPECT_EQ(live_condition({"state", std::string("-1.5")}, false), "`state` = -1.5");
}

TEST(SqlText, EntryValuesShowBinaryBytesAsTheServerDoes) {
    rules::ColumnInfo bytes{"code", rules::ColumnType::binary};
    rules::ColumnInfo text{"name", rules::ColumnType::text};
    EXPECT_EQ(entry_value(std::string("A\xCF\x9F", 3), bytes), "A\\xCF\\x9F");
    EXPECT_EQ(entry_value(std::string("a b~\x7f\0", 6), bytes), "a b~\\x7F\\x00");
    EXPECT_EQ(entry_value("\xC3\xA9", text), "\xC3\xA9") << "character strings go as they are";
}

TEST(SqlText, TextColumnsOfBinaryRowsAreCastOnlyWhenSentAsNumbers) {
    EXPECT_EQ(selected_as_text("`id`", rules::ColumnType::integer), "CAST(`id` AS CHAR)");
    EXPECT_EQ(selected_as_text("`at`", rules::ColumnType::temporal), "CAST(`at` AS CHAR)");
    EXPECT_EQ(selected_as_text("`x`", rules::ColumnType::floating), "CAST(`x` AS CHAR)");
    EXPECT_EQ(selected_as_text("`code`", rules::ColumnType::binary), "`code`") << "a cast could alter bytes";
    EXPECT_EQ(selected_as_text("`name`", rules::ColumnType::text), "`name`");
    EXPECT_EQ(selected_as_text("`price`", rules::ColumnType::decimal), "`price`");
}

using test::product_schema;

TEST(SchemaCache, ParsesInformationSchemaRows) {
    const auto schema = product_schema();
    ASSERT_EQ(schema.columns.size(), 4U);
    EXPECT_EQ(schema.primary_key, std::vector<std::string>{"id"});
    EXPECT_TRUE(schema.columns[0].auto_increment);
    EXPECT_EQ(schema.columns[1].type, rules::ColumnType::text);
    EXPECT_EQ(schema.columns[1].collation, "utf8mb4_general_ci");
    EXPECT_EQ(schema.columns[2].default_value.kind, rules::DefaultKind::literal);
    EXPECT_EQ(schema.columns[2].default_value.literal, "'std'");
    EXPECT_EQ(schema.columns[3].default_value.kind, rules::DefaultKind::literal);
    EXPECT_EQ(schema.columns[1].default_value.kind, rules::DefaultKind::none);
    EXPECT_FALSE(parse_schema_rows({}).has_value()) << "no rows: the table does not exist";
}

TEST(SchemaCache, ClearForgetsEveryTable) {
    SchemaCache cache;
    cache.store("shop", "product", std::make_shared<const rules::TableSchema>(product_schema()));
    EXPECT_NE(cache.find("shop", "product"), nullptr);
    EXPECT_EQ(cache.find("shop", "other"), nullptr);
    cache.clear();
    EXPECT_EQ(cache.find("shop", "product"), nullptr);
}

config::Rule product_rule() {
    config::Rule rule;
    rule.name = "product_name_model";
    rule.table = {"shop", "product"};
    rule.key = {"name", "model"};
    rule.soft_delete = {"delete_status", std::string("0")};
    return rule;
}

// The plan of `sql` on shop.product with product_rule() (the plan points into rule_set).
struct ProductWrite {
    rules::RuleSet rule_set{{product_rule()}};
    rules::WritePlan plan;

    ProductWrite(const std::string& sql, const rules::TableSchema& schema) {
        rules::SessionContext session;
        session.current_database = "shop";
        const auto classification = rule_set.classify(sql, session);
        EXPECT_TRUE(classification.involves_rule()) << sql;
        plan = rules::analyse_write(sql, classification, rule_set, session, &schema);
    }
};

TEST(SqlText, CheckQueryCopiesLiteralsVerbatimAndTagsRows) {
    const auto rule = product_rule();
    const auto schema = product_schema();
    rules::SessionContext session;
    session.current_database = "shop";
    const std::string sql = "INSERT INTO product (name, model) VALUES ('it''s', 'X\\'1'), ('b', DEFAULT)";
    const ProductWrite write(sql, schema);
    const auto& plan = write.plan;
    ASSERT_EQ(plan.rules.size(), 1U);
    const auto& rule_plan = plan.rules.front();
    ASSERT_TRUE(rule_plan.unsupported.empty()) << rule_plan.unsupported;
    EXPECT_EQ(key_equals(rule_plan, 0, sql, schema), "`name` = 'it''s' AND `model` = 'X\\'1'");
    EXPECT_EQ(key_equals(rule_plan, 1, sql, schema), "`name` = 'b' AND `model` = 'std'")
        << "DEFAULT takes the column's default literal";
    const std::vector<std::string> conditions = {key_equals(rule_plan, 0, sql, schema),
                                                 key_equals(rule_plan, 1, sql, schema)};
    EXPECT_EQ(tagged_live_rows_query(rule, conditions, schema, "shop", "product", false, " LIMIT 1"),
              "(SELECT 0, `id` FROM `shop`.`product` WHERE `delete_status` = 0 AND `name` = 'it''s' AND "
              "`model` = 'X\\'1' LIMIT 1) UNION ALL (SELECT 1, `id` FROM `shop`.`product` WHERE "
              "`delete_status` = 0 AND `name` = 'b' AND `model` = 'std' LIMIT 1)");
    EXPECT_EQ(duplicate_entry_text(rule_plan, 0, sql, schema, session), "it's-X'1");
}

TEST(SqlText, CheckQueryOfAPreparedStatementKeepsItsPlaceholders) {
    const auto rule = product_rule();
    const auto schema = product_schema();
    const std::string sql = "INSERT INTO product (price, name, model) VALUES (?, ?, 'x'), (?, ?, ?)";
    const ProductWrite write(sql, schema);
    const auto& plan = write.plan;
    ASSERT_EQ(plan.rules.size(), 1U);
    const auto& rule_plan = plan.rules.front();
    std::vector<std::uint32_t> first;
    std::vector<std::uint32_t> second;
    EXPECT_EQ(key_equals(rule_plan, 0, sql, schema, &first), "`name` = ? AND `model` = 'x'")
        << "a literal of the statement itself is still copied";
    EXPECT_EQ(first, (std::vector<std::uint32_t>{1}));
    EXPECT_EQ(key_equals(rule_plan, 1, sql, schema, &second), "`name` = ? AND `model` = ?");
    EXPECT_EQ(second, (std::vector<std::uint32_t>{3, 4}));
    EXPECT_EQ(tagged_live_rows_query(rule, {"`name` = ?"}, schema, "shop", "product", false, " LIMIT 1", true),
              "SELECT '0', CAST(`id` AS BINARY) FROM `shop`.`product` WHERE `delete_status` = 0 AND `name` = ? LIMIT 1")
        << "string columns only: the binary protocol's rows then carry the text a COM_QUERY would";
}

TEST(SqlText, RowsLeftOutOfAPreparedInsertTakeTheirParametersWithThem) {
    const auto schema = product_schema();
    const std::string sql =
        "INSERT INTO product (name, model, price) VALUES (?, ?, ?), (?, 'x', ?), (?, ?, 1) "
        "ON DUPLICATE KEY UPDATE price = ?";
    const ProductWrite write(sql, schema);
    const auto placeholders = find_placeholders(sql, {});
    std::vector<std::uint32_t> parameters;
    EXPECT_EQ(rebuild_without_rows(sql, write.plan.insert, {false, true, false}, placeholders, parameters),
              "INSERT INTO product (name, model, price) VALUES (?, ?, ?), (?, ?, 1) ON DUPLICATE KEY UPDATE price = ?");
    EXPECT_EQ(parameters, (std::vector<std::uint32_t>{0, 1, 2, 5, 6, 7})) << "the update's ? stays last";
}

TEST(SqlText, SplitsRowValuesAtTopLevelCommas) {
    const rules::LexOptions options{};
    EXPECT_EQ(split_row_values("('a', 1, CONCAT('x', ','), (2))", false, options),
              (std::vector<std::string_view>{"'a'", "1", "CONCAT('x', ',')", "(2)"}));
    EXPECT_EQ(split_row_values("name = 'a,b', price := 3 + 4", true, options),
              (std::vector<std::string_view>{"'a,b'", "3 + 4"}));
    EXPECT_TRUE(split_row_values("('unterminated", false, options).empty());
}

TEST(SqlText, ProbeBlockFailsWithTheDuplicateErrorAndLeavesAReadOnlyTransaction) {
    EXPECT_EQ(guarded_live_key_probe("EXISTS (SELECT 1 FROM `t` WHERE `k` = ?)"),
              "BEGIN NOT ATOMIC DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN START TRANSACTION READ ONLY; RESIGNAL; END; "
              "IF EXISTS (SELECT 1 FROM `t` WHERE `k` = ?) THEN SIGNAL SQLSTATE '23000' SET MYSQL_ERRNO = 1062, "
              "MESSAGE_TEXT = 'uniqgate: a live row has the key'; END IF; END")
        << "the handler catches the SIGNAL too: every failure leaves the READ ONLY transaction";
}

}  // namespace
}  // namespace uniqgate::proxy
