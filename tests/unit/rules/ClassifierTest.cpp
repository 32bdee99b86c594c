// Classification of real-world statements: what ORMs and drivers send on connect, in
// transactions and for reads and writes. Each is checked against a rule table and an
// unrelated table, so the fast path is pinned both ways.

#include "RulesTestSupport.hpp"

#include <gtest/gtest.h>

#include <string>

namespace uniqgate::rules {
namespace {

using testing::analyse;

struct ClassifyCase {
    std::string_view sql;
    StatementKind kind;
    int rule_table;  // -1: no rule involved
};

class ClassifierTable : public ::testing::TestWithParam<ClassifyCase> {};

TEST_P(ClassifierTable, SaysKindAndRuleTable) {
    const Classification c = analyse(GetParam().sql).classification;
    EXPECT_EQ(to_string(c.kind), std::string(to_string(GetParam().kind))) << GetParam().sql;
    EXPECT_EQ(c.rule_table, GetParam().rule_table) << GetParam().sql;
}

constexpr auto read = StatementKind::read;
constexpr auto insert = StatementKind::insert;
constexpr auto update = StatementKind::update;
constexpr auto del = StatementKind::delete_rows;

INSTANTIATE_TEST_SUITE_P(Cases, ClassifierTable, ::testing::Values(
    // Connection set-up statements of drivers and ORMs.
    ClassifyCase{"/* mysql-connector-java-8.0.33 */SELECT  @@session.auto_increment_increment AS auto_increment_increment, @@character_set_client AS character_set_client", read, -1},
    ClassifyCase{"SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci", StatementKind::set, -1},
    ClassifyCase{"SET character_set_results = NULL", StatementKind::set, -1},
    ClassifyCase{"SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", StatementKind::set, -1},
    ClassifyCase{"SET sql_mode='STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION'", StatementKind::set, -1},
    ClassifyCase{"SELECT @@tx_isolation", read, -1},
    ClassifyCase{"SHOW WARNINGS", read, -1},
    ClassifyCase{"SHOW FULL COLUMNS FROM `product` FROM `shop`", read, -1},
    ClassifyCase{"select version()", read, -1},
    ClassifyCase{"USE shop", StatementKind::other, -1},
    ClassifyCase{"SELECT 1", read, -1},
    // Hibernate.
    ClassifyCase{"select p1_0.id,p1_0.name from product p1_0 where p1_0.id=?", read, -1},
    ClassifyCase{"insert into product (created_at,delete_status,model,name,price) values (?,?,?,?,?)", insert, 0},
    ClassifyCase{"insert into orders (product_id,qty) values (?,?)", insert, -1},
    ClassifyCase{"update product set delete_status=?,model=?,name=?,price=? where id=?", update, 0},
    ClassifyCase{"update orders set qty=? where id=?", update, -1},
    ClassifyCase{"delete from product where id=?", del, 0},
    ClassifyCase{"select p1_0.id from product p1_0 where p1_0.id=? for update", read, -1},
    // MyBatis (whitespace and newlines from XML mappers).
    ClassifyCase{"INSERT INTO product\n    ( name,\n      model )\n    VALUES\n    ( ?,\n      ? )", insert, 0},
    ClassifyCase{"\n    UPDATE product\n    SET name = ?\n    WHERE id = ?\n  ", update, 0},
    ClassifyCase{"\n  SELECT id, name FROM product WHERE name = ? AND delete_status = 0\n", read, -1},
    // Laravel / Eloquent.
    ClassifyCase{"insert into `product` (`name`, `model`, `updated_at`, `created_at`) values (?, ?, ?, ?)", insert, 0},
    ClassifyCase{"update `product` set `delete_status` = ?, `product`.`updated_at` = ? where `id` = ?", update, 0},
    ClassifyCase{"select * from `product` where `product`.`id` = ? limit 1", read, -1},
    ClassifyCase{"insert into `users` (`email`, `tenant_id`) values (?, ?)", insert, 1},
    // Django.
    ClassifyCase{"INSERT INTO `shop`.`product` (`name`, `model`) VALUES ('a', 'b')", insert, 0},
    ClassifyCase{"UPDATE `product` SET `name` = 'x' WHERE `product`.`id` = 1", update, 0},
    ClassifyCase{"DELETE FROM `users` WHERE `users`.`id` IN (1, 2)", del, 1},
    ClassifyCase{"SAVEPOINT `s140_x1`", StatementKind::transaction, -1},
    // ActiveRecord (comments appended by marginalia / query_log_tags).
    ClassifyCase{"INSERT INTO `product` (`name`, `model`) VALUES ('a', 'b') /*application:Shop,controller:products*/", insert, 0},
    ClassifyCase{"SELECT `product`.* FROM `product` WHERE `product`.`name` = 'a' LIMIT 1 /*action:show*/", read, -1},
    // GORM and sqlx.
    ClassifyCase{"INSERT INTO `product` (`name`,`model`,`delete_status`) VALUES (?,?,?),(?,?,?)", insert, 0},
    ClassifyCase{"UPDATE `product` SET `price`=? WHERE `product`.`delete_status` = ? AND `id` = ?", update, 0},
    ClassifyCase{"INSERT INTO users (tenant_id, email) VALUES (?, ?)", insert, 1},
    // Qualified names, other schemas, quoting.
    ClassifyCase{"INSERT INTO other.product (name) VALUES ('a')", insert, -1},
    ClassifyCase{"INSERT INTO shop . product (name) VALUES ('a')", insert, 0},
    ClassifyCase{"INSERT INTO `Product` (name) VALUES ('a')", insert, -1},
    ClassifyCase{"INSERT INTO `product``x` (name) VALUES ('a')", insert, -1},
    ClassifyCase{"INSERT INTO products (name) VALUES ('a')", insert, -1},
    ClassifyCase{"INSERT INTO other.users (email) VALUES ('a')", insert, -1},
    // Modifiers, hints, comments in odd places.
    ClassifyCase{"INSERT LOW_PRIORITY IGNORE INTO product (name) VALUES ('a')", insert, 0},
    ClassifyCase{"INSERT /*+ SET_VAR(foreign_key_checks=OFF) */ INTO product (name) VALUES ('a')", insert, 0},
    ClassifyCase{"INSERT -- why\n INTO # because\n product (name) VALUES ('a')", insert, 0},
    ClassifyCase{"/*!40000 INSERT INTO product */ (name) VALUES ('a')", insert, 0},
    ClassifyCase{"INSERT /*!50100 IGNORE */ product VALUES (1)", insert, 0},
    ClassifyCase{"insert product set name='x'", insert, 0},
    ClassifyCase{"REPLACE INTO product (name) VALUES ('a')", StatementKind::replace, 0},
    ClassifyCase{"REPLACE DELAYED product VALUES (1)", StatementKind::replace, 0},
    // Multi-table forms and CTEs.
    ClassifyCase{"UPDATE orders o JOIN product p ON p.id = o.product_id SET p.name = 'x'", update, 0},
    ClassifyCase{"UPDATE orders o, shop.product p SET o.qty = 1 WHERE p.id = o.product_id", update, 0},
    ClassifyCase{"UPDATE orders o JOIN customers c ON c.id = o.c SET o.qty = 1", update, -1},
    ClassifyCase{"UPDATE LOW_PRIORITY IGNORE product SET name = 'x'", update, 0},
    ClassifyCase{"DELETE p FROM product p JOIN orders o ON o.pid = p.id", del, 0},
    ClassifyCase{"DELETE FROM o USING orders o JOIN product p ON o.pid = p.id", del, 0},
    ClassifyCase{"DELETE QUICK FROM orders WHERE id IN (SELECT id FROM product)", del, -1},
    ClassifyCase{"WITH x AS (SELECT id FROM product) UPDATE product SET name = 'a' WHERE id IN (SELECT id FROM x)", update, 0},
    ClassifyCase{"WITH x AS (SELECT 1) SELECT * FROM x", read, -1},
    ClassifyCase{"WITH RECURSIVE x (n) AS (SELECT 1 UNION SELECT n + 1 FROM x WHERE n < 3) DELETE FROM orders", del, -1},
    ClassifyCase{"(SELECT 1) UNION (SELECT 2)", read, -1},
    ClassifyCase{"ANALYZE UPDATE product SET name = 'x'", update, 0},
    ClassifyCase{"ANALYZE FORMAT=JSON DELETE FROM users", del, 1},
    ClassifyCase{"ANALYZE SELECT 1", read, -1},
    ClassifyCase{"TRUNCATE TABLE product", StatementKind::truncate, 0},
    ClassifyCase{"TRUNCATE orders", StatementKind::truncate, -1},
    ClassifyCase{"LOAD DATA LOCAL INFILE '/tmp/x.csv' INTO TABLE product FIELDS TERMINATED BY ','", StatementKind::load_data, 0},
    ClassifyCase{"LOAD DATA INFILE 'x' REPLACE INTO TABLE orders", StatementKind::load_data, -1},
    ClassifyCase{"CALL add_product('a', 'b')", StatementKind::call, -1},
    // Transactions and DDL.
    ClassifyCase{"BEGIN", StatementKind::transaction, -1},
    ClassifyCase{"START TRANSACTION READ ONLY", StatementKind::transaction, -1},
    ClassifyCase{"COMMIT", StatementKind::transaction, -1},
    ClassifyCase{"rollback", StatementKind::transaction, -1},
    ClassifyCase{"SET autocommit=0", StatementKind::set, -1},
    ClassifyCase{"XA START 'x'", StatementKind::transaction, -1},
    ClassifyCase{"ALTER TABLE product ADD COLUMN x INT", StatementKind::ddl, -1},
    ClassifyCase{"CREATE TEMPORARY TABLE t (a INT)", StatementKind::other, -1},
    ClassifyCase{"CREATE TABLE t (a INT)", StatementKind::ddl, -1},
    ClassifyCase{"LOCK TABLES product WRITE", StatementKind::ddl, -1},
    ClassifyCase{"BEGIN NOT ATOMIC SELECT 1; END", StatementKind::other, -1},
    // Nothing to classify, or nothing readable.
    ClassifyCase{"", StatementKind::empty, -1},
    ClassifyCase{"  /* only a comment */  ", StatementKind::empty, -1},
    ClassifyCase{"INSERT INTO product VALUES ('open", insert, 0},
    ClassifyCase{"'open", StatementKind::unparseable, -1}));

TEST(Classifier, NoDatabaseSelectedStillMatchesQualifiedNames) {
    SessionContext session;
    EXPECT_EQ(analyse("INSERT INTO shop.product (name) VALUES ('a')", session).classification.rule_table, 0);
    EXPECT_EQ(analyse("INSERT INTO product (name) VALUES ('a')", session).classification.rule_table, -1);
}

TEST(Classifier, RuleWithoutSchemaFollowsTheSessionDatabase) {
    SessionContext session;
    session.current_database = "tenant7";
    EXPECT_EQ(analyse("INSERT INTO users (email) VALUES ('a')", session).classification.rule_table, 1);
    EXPECT_EQ(analyse("INSERT INTO tenant7.users (email) VALUES ('a')", session).classification.rule_table, 1);
    EXPECT_EQ(analyse("INSERT INTO shop.users (email) VALUES ('a')", session).classification.rule_table, -1);
}

TEST(Classifier, LowerCaseTableNamesFoldsTableAndSchemaNames) {
    SessionContext session = testing::shop_session();
    session.lower_case_table_names = 1;
    EXPECT_EQ(analyse("INSERT INTO SHOP.`Product` (name) VALUES ('a')", session).classification.rule_table, 0);
    session.lower_case_table_names = 0;
    EXPECT_EQ(analyse("INSERT INTO SHOP.`Product` (name) VALUES ('a')", session).classification.rule_table, -1);
}

TEST(Classifier, GbkConnectionDoesNotLetATrailByteHideTheTable) {
    SessionContext session = testing::shop_session();
    session.charset = Charset::gbk;
    // Read as UTF-8, '\x95\x5C' would escape its quote and the statement would look unterminated.
    EXPECT_EQ(analyse("INSERT INTO product (name) VALUES ('\x95\x5C')", session).classification.rule_table, 0);
    EXPECT_EQ(analyse("SELECT '\x95\x5C'", session).classification.kind, StatementKind::read);
}

TEST(Classifier, SeveralRulesOnOneTableShareATableGroup) {
    std::vector<config::Rule> rules = testing::test_rules();
    config::Rule sku = rules[0];
    sku.name = "product_sku";
    sku.key = {"sku"};
    rules.push_back(sku);
    const RuleSet rule_set(rules);
    ASSERT_EQ(rule_set.tables().size(), 2U);
    EXPECT_EQ(rule_set.tables()[0].rule_indexes, (std::vector<std::size_t>{0, 2}));
}

struct TransactionCase {
    std::string_view sql;
    TransactionEffect effect;
    bool chain = false;
    bool release = false;
    std::optional<bool> autocommit = std::nullopt;
};

class TransactionTable : public ::testing::TestWithParam<TransactionCase> {};

TEST_P(TransactionTable, SaysWhatTheStatementDoesToTheTransaction) {
    const TransactionCase& c = GetParam();
    const TransactionControl t = analyse(c.sql).classification.transaction;
    EXPECT_EQ(static_cast<int>(t.effect), static_cast<int>(c.effect)) << c.sql;
    EXPECT_EQ(t.chain, c.chain) << c.sql;
    EXPECT_EQ(t.release, c.release) << c.sql;
    EXPECT_EQ(t.autocommit, c.autocommit) << c.sql;
}

INSTANTIATE_TEST_SUITE_P(Cases, TransactionTable, ::testing::Values(
    TransactionCase{"BEGIN", TransactionEffect::begin},
    TransactionCase{"begin work", TransactionEffect::begin},
    TransactionCase{"START TRANSACTION", TransactionEffect::begin},
    TransactionCase{"START TRANSACTION WITH CONSISTENT SNAPSHOT, READ WRITE", TransactionEffect::begin},
    TransactionCase{"COMMIT", TransactionEffect::commit},
    TransactionCase{"COMMIT WORK AND CHAIN", TransactionEffect::commit, true},
    TransactionCase{"COMMIT AND NO CHAIN NO RELEASE", TransactionEffect::commit},
    TransactionCase{"COMMIT RELEASE", TransactionEffect::commit, false, true},
    TransactionCase{"ROLLBACK", TransactionEffect::rollback},
    TransactionCase{"ROLLBACK AND CHAIN RELEASE", TransactionEffect::rollback, true, true},
    TransactionCase{"ROLLBACK TO SAVEPOINT s1", TransactionEffect::rollback_to_savepoint},
    TransactionCase{"ROLLBACK WORK TO s1", TransactionEffect::rollback_to_savepoint},
    TransactionCase{"SAVEPOINT s1", TransactionEffect::savepoint},
    TransactionCase{"RELEASE SAVEPOINT s1", TransactionEffect::release_savepoint},
    TransactionCase{"SET autocommit=0", TransactionEffect::set_autocommit, false, false, false},
    TransactionCase{"set autocommit = 1", TransactionEffect::set_autocommit, false, false, true},
    TransactionCase{"SET @@autocommit := ON", TransactionEffect::set_autocommit, false, false, true},
    TransactionCase{"SET SESSION autocommit = OFF", TransactionEffect::set_autocommit, false, false, false},
    TransactionCase{"SET @@session.autocommit = 'ON'", TransactionEffect::set_autocommit, false, false, true},
    TransactionCase{"SET NAMES utf8mb4, autocommit = false", TransactionEffect::set_autocommit, false, false, false},
    TransactionCase{"SET autocommit = @saved", TransactionEffect::set_autocommit},
    TransactionCase{"SET GLOBAL autocommit = 0", TransactionEffect::none},
    TransactionCase{"SET @autocommit = 0", TransactionEffect::none},
    TransactionCase{"SET x = (SELECT 1), autocommit=1", TransactionEffect::set_autocommit, false, false, true},
    TransactionCase{"XA END 'x'", TransactionEffect::xa},
    TransactionCase{"TRUNCATE product", TransactionEffect::implicit_commit},
    TransactionCase{"DROP TABLE x", TransactionEffect::implicit_commit},
    TransactionCase{"DROP TEMPORARY TABLE x", TransactionEffect::none},
    TransactionCase{"CREATE OR REPLACE VIEW v AS SELECT 1", TransactionEffect::implicit_commit},
    TransactionCase{"GRANT SELECT ON *.* TO u", TransactionEffect::implicit_commit},
    TransactionCase{"ANALYZE TABLE product", TransactionEffect::implicit_commit},
    TransactionCase{"UNLOCK TABLES", TransactionEffect::implicit_commit},
    TransactionCase{"START SLAVE", TransactionEffect::implicit_commit},
    TransactionCase{"SELECT 1", TransactionEffect::none}));

TEST(Transaction, XaVerbsAndStartOptions) {
    EXPECT_EQ(analyse("XA PREPARE 'x'").classification.transaction.xa, XaVerb::prepare);
    EXPECT_EQ(analyse("XA COMMIT 'x' ONE PHASE").classification.transaction.xa, XaVerb::commit);
    const TransactionControl start = analyse("START TRANSACTION READ ONLY, WITH CONSISTENT SNAPSHOT").classification.transaction;
    EXPECT_TRUE(start.read_only);
    EXPECT_TRUE(start.consistent_snapshot);
    EXPECT_EQ(analyse("SAVEPOINT `sp 1`").classification.transaction.savepoint, "`sp 1`");
}

}  // namespace
}  // namespace uniqgate::rules
