// The statements of mode: dedup, built from real analyser plans: key order, the
// rows of UPDATE/DELETE, the statement's own text kept verbatim, the 1062 rename.
#include "proxy/DedupSql.hpp"
#include "ProductSchema.hpp"
#include "proxy/PreparedWrites.hpp"
#include "proxy/SchemaCache.hpp"
#include "proxy/SqlText.hpp"
#include "rules/Analyser.hpp"

#include <gtest/gtest.h>

namespace uniqgate::proxy {
namespace {

using test::product_schema;

config::Rule dedup_rule() {
    config::Rule rule;
    rule.name = "product_name_model";
    rule.table = {"shop", "product"};
    rule.key = {"name", "model"};
    rule.soft_delete = {"delete_status", std::string("0")};
    rule.mode = config::RuleMode::dedup;
    rule.dedup_table = {"shop", "product__uniq"};
    return rule;
}

struct Analysed {
    rules::RuleSet rule_set;
    rules::TableSchema schema = product_schema();
    rules::WritePlan plan;

    explicit Analysed(const std::string& sql) : rule_set({dedup_rule()}) {
        rules::SessionContext session;
        session.current_database = "shop";
        const auto classification = rule_set.classify(sql, session);
        plan = rules::analyse_write(sql, classification, rule_set, session, &schema);
    }
    const rules::RulePlan& rule() const { return plan.rules.front(); }
};

TEST(DedupSql, InsertsKeysInIdentityOrderWithTheClientsLiterals) {
    const std::string sql =
        "INSERT INTO product (name, model) VALUES ('b', 'x'), ('A', 'x'), ('a ', 'x'), ('c', DEFAULT), ('d', 'x')";
    const Analysed analysed(sql);
    ASSERT_TRUE(analysed.rule().unsupported.empty()) << analysed.rule().unsupported;
    EXPECT_TRUE(analysed.rule().actions.insert_dedup_keys);
    const auto rows = rows_in_key_order(analysed.rule());
    EXPECT_EQ(rows, (std::vector<std::size_t>{1, 2, 0, 3, 4}))
        << "'A' and 'a ' are one key under _ci and keep statement order; then b, c, d";
    EXPECT_EQ(dedup_insert_values(analysed.rule(), "`shop`.`product__uniq`", rows, sql, analysed.schema, false),
              "INSERT INTO `shop`.`product__uniq` (`name`, `model`) VALUES ('A', 'x'), ('a ', 'x'), ('b', 'x'), "
              "('c', 'std'), ('d', 'x')");
    EXPECT_EQ(dedup_insert_values(analysed.rule(), "`d`", {3}, sql, analysed.schema, true),
              "INSERT IGNORE INTO `d` (`name`, `model`) VALUES ('c', 'std')");
    EXPECT_EQ(dedup_insert_values(analysed.rule(), "`d`", {}, sql, analysed.schema, false), "");
}

TEST(DedupSql, PreparedKeysStayParametersToBeBound) {
    const std::string sql = "INSERT INTO product (name, model, price) VALUES (?, 'x', ?), (?, ?, 1)";
    const Analysed analysed(sql);
    ASSERT_TRUE(analysed.rule().unsupported.empty()) << analysed.rule().unsupported;
    std::vector<std::uint32_t> parameters;
    EXPECT_EQ(dedup_insert_values(analysed.rule(), "`d`", {1, 0}, sql, analysed.schema, false, &parameters),
              "INSERT INTO `d` (`name`, `model`) VALUES (?, ?), (?, 'x')")
        << "the literal is copied, each ? stays one";
    EXPECT_EQ(parameters, (std::vector<std::uint32_t>{2, 3, 0})) << "the client's parameter indexes, in row order";
}

TEST(DedupSql, GuardedWriteLeavesAReadOnlyTransactionWhenItFails) {
    EXPECT_EQ(guarded_dedup_write("INSERT INTO `d` (`k`) VALUES (?)", true, true),
              "BEGIN NOT ATOMIC DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; START TRANSACTION READ ONLY; "
              "RESIGNAL; END; START TRANSACTION; INSERT INTO `d` (`k`) VALUES (?); END");
    EXPECT_EQ(guarded_dedup_write("INSERT INTO `d` (`k`) VALUES (?)", false, true),
              "BEGIN NOT ATOMIC DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN IF @@in_transaction = 0 THEN START "
              "TRANSACTION READ ONLY; END IF; RESIGNAL; END; SAVEPOINT uniqgate_write; INSERT INTO `d` (`k`) VALUES "
              "(?); END")
        << "inside the client's transaction only one the error ended is replaced";
    EXPECT_EQ(guarded_dedup_write("INSERT INTO `e` (`k`) VALUES (?)", true, false),
              "BEGIN NOT ATOMIC DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; START TRANSACTION READ ONLY; "
              "RESIGNAL; END; INSERT INTO `e` (`k`) VALUES (?); END")
        << "a second rule's block runs in the transaction the first opened";
}

TEST(DedupSql, RowsWithoutALiveKeyClaimNothing) {
    const std::string sql =
        "INSERT INTO product (name, model, delete_status) VALUES ('a', 'x', 1), ('b', 'x', 0)";
    const Analysed analysed(sql);
    EXPECT_EQ(rows_in_key_order(analysed.rule()), (std::vector<std::size_t>{1})) << "row 0 is inserted deleted";
}

TEST(DedupSql, ReplaceDeletesRowsWithItsLiteralIdsAndTheHoldersOfItsLiveKeys) {
    const std::string sql = "REPLACE INTO product (id, name, model, delete_status) VALUES "
                            "(7, 'a', 'x', 0), ('8', 'b', 'x', 1), (NULL, 'c', DEFAULT, 0), (NOW(), 'd', 'x', 0)";
    const Analysed analysed(sql);
    ASSERT_TRUE(analysed.rule().unsupported.empty()) << analysed.rule().unsupported;
    const auto doomed = rows_replace_would_delete(sql, analysed.plan, analysed.schema, {&analysed.rule()}, {}, false);
    EXPECT_EQ(doomed.by_primary_key, "(`id`) IN ((7), ('8'))") << "NULL and NOW() give ids nobody can predict";
    EXPECT_EQ(doomed.by_live_key,
              "(`delete_status` = 0 AND ((`name` = 'a' AND `model` = 'x') OR (`name` = 'c' AND `model` = 'std') OR "
              "(`name` = 'd' AND `model` = 'x')))")
        << "row 2 is inserted soft-deleted: it replaces no live row by its key";
}

TEST(DedupSql, PreparedReplaceKeepsItsParametersInBothConditions) {
    const std::string sql = "REPLACE INTO product (id, name, model) VALUES (?, ?, 'x'), (5, ?, ?)";
    const Analysed prepared(sql);
    const Analysed executed("REPLACE INTO product (id, name, model) VALUES (1, 'a', 'x'), (5, 'b', 'y')");
    const auto placeholders = find_placeholders(sql, {});
    const std::vector<const rules::RulePlan*> executed_rules{&executed.rule()};
    const auto doomed = rows_replace_would_delete(sql, prepared.plan, prepared.schema, {&prepared.rule()}, {}, false,
                                                  &placeholders, &executed_rules);
    EXPECT_EQ(doomed.by_primary_key, "(`id`) IN ((?), (5))");
    EXPECT_EQ(doomed.by_primary_key_parameters, (std::vector<std::uint32_t>{0}));
    EXPECT_EQ(doomed.by_live_key,
              "(`delete_status` = 0 AND ((`name` = ? AND `model` = 'x') OR (`name` = ? AND `model` = ?)))")
        << "which rows count is the execute's plan: the prepared one knows no key yet";
    EXPECT_EQ(doomed.by_live_key_parameters, (std::vector<std::uint32_t>{1, 2, 3}));
}

TEST(DedupSql, ReplaceWithoutIdsOrLiveKeysPredictsNothing) {
    const std::string sql = "REPLACE INTO product SET name = 'a', model = 'x', delete_status = 1";
    const Analysed analysed(sql);
    const auto doomed = rows_replace_would_delete(sql, analysed.plan, analysed.schema, {&analysed.rule()}, {}, false);
    EXPECT_EQ(doomed.by_primary_key, "");
    EXPECT_EQ(doomed.by_live_key, "");
}

TEST(DedupSql, ClaimOrLockKeepsTheKeyAsStored) {
    const std::string sql = "REPLACE INTO product (name, model) VALUES ('b', 'x'), ('A', 'x')";
    const Analysed analysed(sql);
    EXPECT_EQ(dedup_claim_or_lock(analysed.rule(), "`d`", rows_in_key_order(analysed.rule()), sql, analysed.schema),
              "INSERT INTO `d` (`name`, `model`) VALUES ('A', 'x'), ('b', 'x') ON DUPLICATE KEY UPDATE `name` = `name`")
        << "`name` = VALUES(`name`) would respell a key a row holds as 'a'";
    EXPECT_EQ(dedup_claim_or_lock(analysed.rule(), "`d`", {}, sql, analysed.schema), "");
}

TEST(DedupSql, DedupTableDefaultsToTheStatementsSchema) {
    auto rule = dedup_rule();
    EXPECT_EQ(dedup_table_sql(rule, "other"), "`shop`.`product__uniq`");
    rule.dedup_table.schema.clear();
    EXPECT_EQ(dedup_table_sql(rule, "tenant_7"), "`tenant_7`.`product__uniq`");
}

TEST(DedupSql, PrimaryKeyListsAndTheirQualifier) {
    const auto schema = product_schema();
    const std::vector<protocol::TextRow> keys = {{"1"}, {"it's"}, {std::nullopt}};
    EXPECT_EQ(primary_key_in(schema, keys, false), "(`id`) IN (('1'), ('it''s'), (NULL))");
    EXPECT_EQ(primary_key_in(schema, {{"7"}}, false, "s."), "(s.`id`) IN (('7'))");
    EXPECT_EQ(primary_key_in(schema, {}, false), "FALSE") << "no rows: the statement must change none";
}

TEST(DedupSql, KeysOfRowsJoinOnEveryKeyColumnAndOnlyLiveRows) {
    const auto rule = dedup_rule();
    EXPECT_EQ(dedup_delete_keys_of_rows(rule, "`shop`.`product__uniq`", "`shop`.`product`", "(s.`id`) IN (('1'))", false),
              "DELETE d FROM `shop`.`product__uniq` AS d JOIN `shop`.`product` AS s ON d.`name` = s.`name` AND "
              "d.`model` = s.`model` WHERE (s.`id`) IN (('1')) AND s.`delete_status` = 0");
    EXPECT_EQ(dedup_insert_keys_of_rows(rule, "`shop`.`product__uniq`", "`shop`.`product`", "(`id`) IN (('1'))", false),
              "INSERT INTO `shop`.`product__uniq` (`name`, `model`) SELECT `name`, `model` FROM `shop`.`product` "
              "WHERE (`id`) IN (('1')) AND `delete_status` = 0 AND `name` IS NOT NULL AND `model` IS NOT NULL "
              "ORDER BY `name`, `model`");
}

TEST(DedupSql, ReleasesClaimedKeysThatNoLiveRowHolds) {
    const std::string sql = "INSERT IGNORE INTO product (id, name, model) VALUES (1, 'a', 'x'), (2, 'b', 'y')";
    const Analysed analysed(sql);
    EXPECT_EQ(dedup_release_unused_keys(analysed.rule(), "`u`", "`p`", {0, 1}, sql, analysed.schema, false),
              "DELETE d FROM `u` AS d WHERE (d.`name`, d.`model`) IN (('a', 'x'), ('b', 'y')) AND NOT EXISTS "
              "(SELECT 1 FROM `p` AS s WHERE s.`name` = d.`name` AND s.`model` = d.`model` AND s.`delete_status` = 0)");
    EXPECT_EQ(dedup_release_unused_keys(analysed.rule(), "`u`", "`p`", {}, sql, analysed.schema, false), "");
}

TEST(DedupSql, RestrictsUpdatesAndDeletesToTheLockedRows) {
    {
        const std::string sql = "UPDATE product SET delete_status = 1 WHERE name = 'a' OR model = 'x' LIMIT 5";
        const Analysed analysed(sql);
        EXPECT_EQ(restrict_filtered_write(sql, analysed.plan, "(`id`) IN (('1'))"),
                  "UPDATE product SET delete_status = 1 WHERE (name = 'a' OR model = 'x') AND (`id`) IN (('1')) LIMIT 5")
            << "the client's OR must not escape the restriction";
    }
    {
        const std::string sql = "UPDATE product SET name = 'z' ORDER BY id LIMIT 1";
        const Analysed analysed(sql);
        EXPECT_EQ(restrict_filtered_write(sql, analysed.plan, "FALSE"),
                  "UPDATE product SET name = 'z' WHERE FALSE  ORDER BY id LIMIT 1");
    }
    {
        const std::string sql = "DELETE FROM product";
        const Analysed analysed(sql);
        EXPECT_TRUE(analysed.rule().actions.delete_dedup_keys);
        EXPECT_EQ(restrict_filtered_write(sql, analysed.plan, "(`id`) IN (('3'))"),
                  "DELETE FROM product WHERE (`id`) IN (('3')) ");
    }
}

TEST(DedupSql, PreparedRestrictionBindsTheRowKeysBetweenTheClientsParameters) {
    // The restriction goes after the WHERE: the client's parameters before it (SET, WHERE),
    // then the rows' keys (numbered after the client's 4), then the client's after it (LIMIT).
    const std::string sql = "UPDATE product SET name = ? WHERE model = ? OR price > ? LIMIT ?";
    const Analysed analysed(sql);
    const auto placeholders = find_placeholders(sql, rules::LexOptions{});
    EXPECT_EQ(restrict_filtered_write(sql, analysed.plan, primary_key_in_placeholders(analysed.schema, 2)),
              "UPDATE product SET name = ? WHERE (model = ? OR price > ?) AND (`id`) IN ((?), (?)) LIMIT ?");
    EXPECT_EQ(restricted_write_parameters(analysed.plan, placeholders, 2), (std::vector<std::uint32_t>{0, 1, 2, 4, 5, 3}));
    EXPECT_EQ(primary_key_in_placeholders(analysed.schema, 1, "s."), "(s.`id`) IN ((?))");
    EXPECT_EQ(primary_key_in_placeholders(analysed.schema, 0), "FALSE");
}

TEST(DedupSql, PreparedReadOfTheRowsBindsTheClientsFilterParameters) {
    const std::string sql = "WITH c AS (SELECT ? AS m) UPDATE product SET name = ? WHERE model IN (SELECT m FROM c) "
                            "AND price > ? ORDER BY id LIMIT ?";
    const Analysed analysed(sql);
    ASSERT_FALSE(analysed.plan.filter.where.empty());
    EXPECT_EQ(rows_to_change_query(sql, analysed.plan, analysed.schema, "", true),
              "WITH c AS (SELECT ? AS m) SELECT CAST(`id` AS CHAR) FROM product WHERE model IN (SELECT m FROM c) "
              "AND price > ? ORDER BY id LIMIT ? FOR UPDATE")
        << "an integer key comes as text from a prepared statement too";
    EXPECT_EQ(rows_to_change_parameters(analysed.plan, find_placeholders(sql, rules::LexOptions{})),
              (std::vector<std::uint32_t>{0, 2, 3}))
        << "the SET value is not read";
}

TEST(DedupSql, UpsertAimedAtTheHolderKeepsOrBindsEveryValue) {
    const std::string sql = "INSERT INTO product (name, model, delete_status) VALUES ('a', ?, ?) "
                            "ON DUPLICATE KEY UPDATE model = ?";
    const Analysed analysed(sql);
    const rules::LexOptions options;
    EXPECT_EQ(upsert_into_live_row(sql, analysed.plan, analysed.schema, 0, {"7"}, false, options),
              "INSERT INTO `shop`.`product` (`name`, `model`, `delete_status`, `id`) VALUES ('a', ?, ?, '7') "
              "ON DUPLICATE KEY UPDATE model = ?");
    const auto placeholders = find_placeholders(sql, options);
    std::vector<std::uint32_t> parameters;
    const BoundUpsert bound{&placeholders, 3, &parameters};
    EXPECT_EQ(upsert_into_live_row(sql, analysed.plan, analysed.schema, 0, {"7"}, false, options, &bound),
              "INSERT INTO `shop`.`product` (`name`, `model`, `delete_status`, `id`) VALUES ('a', ?, ?, ?) "
              "ON DUPLICATE KEY UPDATE model = ?");
    EXPECT_EQ(parameters, (std::vector<std::uint32_t>{0, 1, 3, 2}))
        << "the client's values, the holder's key (first own parameter), the update's value";

    // The client's own id gives way to the holder's: its `?` is not bound.
    const std::string with_id = "INSERT INTO product (id, name, model) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE model = ?";
    const Analysed aimed(with_id);
    const auto with_id_placeholders = find_placeholders(with_id, options);
    parameters.clear();
    const BoundUpsert holder{&with_id_placeholders, 4, &parameters};
    EXPECT_EQ(upsert_into_live_row(with_id, aimed.plan, aimed.schema, 0, {"9"}, false, options, &holder),
              "INSERT INTO `shop`.`product` (`id`, `name`, `model`) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE model = ?");
    EXPECT_EQ(parameters, (std::vector<std::uint32_t>{4, 1, 2, 3}));
}

TEST(DedupSql, WriteAloneRollsItsOwnTransactionBack) {
    EXPECT_EQ(dedup_write_alone("INSERT INTO u VALUES (?)"),
              "BEGIN NOT ATOMIC DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END; "
              "START TRANSACTION; INSERT INTO u VALUES (?); END")
        << "a duplicate leaves no transaction behind: nothing to undo, one round trip";
}

TEST(DedupSql, BlockAfterTheClientsWriteRunsOnlyIfItDidNotFail) {
    EXPECT_EQ(after_client_write(block_body({"INSERT INTO u SELECT 1", "INSERT INTO v SELECT 2"}), false),
              "BEGIN NOT ATOMIC IF ROW_COUNT() >= 0 THEN INSERT INTO u SELECT 1; INSERT INTO v SELECT 2; END IF; END");
    EXPECT_EQ(after_client_write("", false), "") << "the client's transaction: nothing to claim, no block";
    EXPECT_EQ(after_client_write("", true), kCommitUnlessLastFailed);
    EXPECT_EQ(after_client_write("INSERT INTO u SELECT 1", true),
              "BEGIN NOT ATOMIC DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END; "
              "IF ROW_COUNT() < 0 THEN ROLLBACK; ELSE INSERT INTO u SELECT 1; COMMIT; END IF; END")
        << "a failed claim rolls the proxy's transaction back before the error reaches it";
}

TEST(DedupSql, DuplicateMessageNamesTheRule) {
    EXPECT_EQ(rename_duplicate_key("Duplicate entry 'a-x' for key 'PRIMARY'", "product_name_model"),
              "Duplicate entry 'a-x' for key 'product_name_model'");
    EXPECT_EQ(rename_duplicate_key("Duplicate entry 'it's for key 'x'-y' for key 'PRIMARY'", "r"),
              "Duplicate entry 'it's for key 'x'-y' for key 'r'")
        << "the last ' for key ' is the index name, whatever the values hold";
}

TEST(DedupSql, JoinedStatementsSurviveATrailingLineComment) {
    EXPECT_EQ(join_statements({"START TRANSACTION", "INSERT INTO t VALUES (1) -- note", "COMMIT"}),
              "START TRANSACTION\n;INSERT INTO t VALUES (1) -- note\n;COMMIT");
}


TEST(DedupSql, OneBlockHoldsTheClaimsTheInsertAndTheCommit) {
    EXPECT_EQ(claims_and_write_block({"INSERT INTO d (k) VALUES (?)", "INSERT INTO e (k) VALUES (?)"},
                                     "INSERT INTO t (k) VALUES (?) -- note"),
              "BEGIN NOT ATOMIC DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END; "
              "START TRANSACTION; "
              "BEGIN NOT ATOMIC DECLARE EXIT HANDLER FOR 1062 RESIGNAL SQLSTATE '23U00' SET MYSQL_ERRNO = 1062; "
              "INSERT INTO d (k) VALUES (?); END; "
              "BEGIN NOT ATOMIC DECLARE EXIT HANDLER FOR 1062 RESIGNAL SQLSTATE '23U01' SET MYSQL_ERRNO = 1062; "
              "INSERT INTO e (k) VALUES (?); END; "
              "INSERT INTO t (k) VALUES (?) -- note\n; "
              "SELECT CAST(ROW_COUNT() AS CHAR), CAST(LAST_INSERT_ID() AS CHAR), CAST(@@warning_count AS CHAR); "
              "COMMIT; END")
        << "the newline keeps the client's trailing comment off the rest of the block";
}

TEST(DedupSql, OnlyAClaimsDuplicateNamesTheClaim) {
    protocol::ErrPacket error;
    error.error_code = 1062;
    error.sql_state = claim_sqlstate(3);
    EXPECT_EQ(failed_claim(error), std::optional<std::size_t>(3));
    error.sql_state = "23000";
    EXPECT_EQ(failed_claim(error), std::nullopt) << "a duplicate in the client's own table";
    error.error_code = 1213;
    error.sql_state = claim_sqlstate(0);
    EXPECT_EQ(failed_claim(error), std::nullopt);
    error.error_code = 1062;
    error.sql_state = "23U0x";
    EXPECT_EQ(failed_claim(error), std::nullopt);
}

TEST(DedupSql, OneBlockAnswerIsTheInsertsOwnOk) {
    const auto ok = one_block_answer({{"1", "42", "2"}}, true);
    ASSERT_TRUE(ok.has_value());
    EXPECT_EQ(ok->affected_rows, 1U);
    EXPECT_EQ(ok->last_insert_id, 42U);
    EXPECT_EQ(ok->warnings, 2U);
    EXPECT_EQ(one_block_answer({{"1", "42", "0"}}, false)->last_insert_id, 0U)
        << "without an auto-increment column the OK has no insert id, whatever LAST_INSERT_ID() holds";
    EXPECT_EQ(one_block_answer({{"1", "0", "70000"}}, true)->warnings, UINT16_MAX);
    EXPECT_FALSE(one_block_answer({}, true).has_value());
    EXPECT_FALSE(one_block_answer({{"1", "2"}}, true).has_value());
    EXPECT_FALSE(one_block_answer({{"-1", "2", "0"}}, true).has_value());
    EXPECT_FALSE(one_block_answer({{"1", std::nullopt, "0"}}, true).has_value());
    EXPECT_FALSE(one_block_answer({{"1x", "2", "0"}}, true).has_value());
}

}  // namespace
}  // namespace uniqgate::proxy
