// `uniqgate migrate` (proxy::run_migrate) and the proxy's start-up check of dedup tables
// (proxy::dedup_table_problems) against the sandbox MariaDB. Each test makes its own tables
// `shop`.`ugmig_*` (and their `__uniq` tables) and drops them.
#include "Sandbox.hpp"

#include "proxy/ControlConnection.hpp"
#include "proxy/MigrateCommand.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <optional>
#include <sstream>
#include <thread>
#include <string>
#include <vector>

namespace uniqgate::test {
namespace {

using proxy::ControlConnection;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

struct Report {
    int exit_code = -1;
    std::string text;
};

constexpr const char* product_columns =
    "(id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50) NOT NULL, model VARCHAR(50) NULL, "
    "delete_status TINYINT NOT NULL DEFAULT 0) COLLATE utf8mb4_general_ci";

std::string dedup_rule(const std::string& name, const std::string& table, const std::string& key = "[name, model]",
                       const std::string& soft_delete = "{ column: delete_status, live: 0 }") {
    return "  - name: " + name + "\n    table: " + table + "\n    key: " + key + "\n    soft_delete: " + soft_delete +
           "\n    mode: dedup\n";
}

class Migrate : public ::testing::Test {
protected:
    void SetUp() override { conn_.emplace(ControlConnection::connect(Sandbox::get().config())); }

    void TearDown() override {
        for (const auto& table : tables_) conn_->query("DROP TABLE IF EXISTS `shop`.`" + table + "`");
    }

    // "shop.ugmig_<suffix>"; it and its __uniq table are dropped before and after the test.
    std::string table(const std::string& suffix, const std::string& columns = product_columns) {
        const std::string name = "ugmig_" + suffix;
        for (const auto& t : {name, name + "__uniq"}) {
            tables_.push_back(t);
            exec("DROP TABLE IF EXISTS `shop`.`" + t + "`");
        }
        if (!columns.empty()) exec("CREATE TABLE `shop`.`" + name + "` " + columns);
        return "shop." + name;
    }

    void exec(const std::string& sql) {
        const auto result = conn_->query(sql);
        ASSERT_TRUE(result.ok) << result.describe_error() << "\n  in: " << sql;
    }

    // The rows of `sql`, each as "v1|v2" (NULL as "NULL").
    std::vector<std::string> rows(const std::string& sql) {
        const auto result = conn_->query(sql);
        EXPECT_TRUE(result.ok) << result.describe_error() << "\n  in: " << sql;
        std::vector<std::string> out;
        for (const auto& row : result.rows) {
            std::string line;
            for (std::size_t i = 0; i < row.size(); ++i) line += (i > 0 ? "|" : "") + row[i].value_or("NULL");
            out.push_back(line);
        }
        return out;
    }

    bool exists(const std::string& schema_table) {
        const auto dot = schema_table.find('.');
        return !rows("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = '" + schema_table.substr(0, dot) +
                     "' AND TABLE_NAME = '" + schema_table.substr(dot + 1) + "'")
                    .empty();
    }

    static Report migrate(const std::string& rules, proxy::MigrateOptions options = {}) {
        std::ostringstream out;
        const int code = proxy::run_migrate(Sandbox::get().config("rules:\n" + rules), out, options);
        return {code, out.str()};
    }

    std::optional<ControlConnection> conn_;
    std::vector<std::string> tables_;
};

// information_schema's description of a table's columns, for comparing two tables.
std::string columns_of(const std::string& table) {
    return "SELECT COLUMN_NAME, COLUMN_TYPE, CHARACTER_SET_NAME, COLLATION_NAME, IS_NULLABLE, EXTRA "
           "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = '" +
           table.substr(5) + "' AND COLUMN_NAME IN ('name', 'model', 'code') ORDER BY COLUMN_NAME";
}

TEST_F(Migrate, CreatesTheDedupTableWithTheSourceColumnTypesAndCollations) {
    const auto t = table("types", "(id BIGINT PRIMARY KEY, name VARCHAR(50) CHARACTER SET latin1 COLLATE latin1_swedish_ci "
                                  "NULL, model VARCHAR(20) COLLATE utf8mb4_unicode_ci NOT NULL, code BIGINT UNSIGNED, "
                                  "delete_status INT NOT NULL DEFAULT 0) COLLATE utf8mb4_bin");
    const auto report = migrate(dedup_rule("r", t, "[model, name, code]"));
    ASSERT_EQ(report.exit_code, 0) << report.text;
    EXPECT_THAT(report.text, HasSubstr("dedup table " + t + "__uniq: created\n"));
    EXPECT_THAT(rows(columns_of(t + "__uniq")),
                ElementsAre("code|bigint(20) unsigned|NULL|NULL|NO|", "model|varchar(20)|utf8mb4|utf8mb4_unicode_ci|NO|",
                            "name|varchar(50)|latin1|latin1_swedish_ci|NO|"));
    EXPECT_EQ(rows("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = '" +
                   t.substr(5) + "__uniq'"),
              std::vector<std::string>{"3"})
        << "no columns besides the key";
    EXPECT_THAT(rows("SELECT COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'shop' AND "
                     "TABLE_NAME = '" + t.substr(5) + "__uniq' AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX"),
                ElementsAre("model", "name", "code"))
        << "the primary key is the key, in rule order";
    EXPECT_THAT(rows("SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = '" +
                     t.substr(5) + "__uniq'"),
                ElementsAre("InnoDB"));
}

TEST_F(Migrate, BackfillsOnlyLiveRowsWithoutNullKeyColumns) {
    const auto t = table("live");
    exec("INSERT INTO " + t + " (name, model, delete_status) VALUES ('A', '1', 0), ('B', '1', 1), ('C', NULL, 0), "
         "('D', '2', 0), ('D', '2', 1), ('E', '3', 2)");
    const auto report = migrate(dedup_rule("r", t));
    ASSERT_EQ(report.exit_code, 0) << report.text;
    EXPECT_THAT(rows("SELECT name, model FROM " + t + "__uniq ORDER BY name"), ElementsAre("A|1", "D|2"));
    EXPECT_THAT(report.text, HasSubstr("backfill: 2 live row(s) read in 1 batch(es), 2 key(s) inserted\n"));
    EXPECT_THAT(report.text, HasSubstr("live keys missing from it: 0\n"));
    EXPECT_THAT(report.text, HasSubstr("summary: 1 dedup rule(s): all dedup tables in place and filled"));
}

TEST_F(Migrate, SecondRunIsHarmless) {
    const auto t = table("twice");
    exec("INSERT INTO " + t + " (name, model) VALUES ('A', '1'), ('B', '1'), ('C', '1')");
    ASSERT_EQ(migrate(dedup_rule("r", t)).exit_code, 0);
    const auto again = migrate(dedup_rule("r", t));
    EXPECT_EQ(again.exit_code, 0) << again.text;
    EXPECT_THAT(again.text, HasSubstr("dedup table " + t + "__uniq: exists and matches the source\n"));
    EXPECT_THAT(again.text, HasSubstr("backfill: 3 live row(s) read in 1 batch(es), 0 key(s) inserted\n"));
    EXPECT_THAT(again.text, HasSubstr("stale keys removed: 0\n"));
    EXPECT_THAT(rows("SELECT name FROM " + t + "__uniq ORDER BY name"), ElementsAre("A", "B", "C"));
}

TEST_F(Migrate, RefusesWhenLiveDuplicatesExistListingTheGroups) {
    const auto t = table("dups");
    exec("INSERT INTO " + t + " (id, name, model, delete_status) VALUES (1, 'A', '1', 0), (2, 'A', '1', 0), "
         "(3, 'B', '2', 0), (4, 'B', '2', 0), (5, 'A', '1', 0), (6, 'C', '3', 0), (7, 'C', '3', 1), (8, 'N', NULL, 0), "
         "(9, 'N', NULL, 0)");
    const auto report = migrate(dedup_rule("product_name_model", t));
    EXPECT_EQ(report.exit_code, 1) << report.text;
    EXPECT_THAT(report.text, HasSubstr("live duplicates: 2 group(s), 3 surplus row(s)\n"));
    EXPECT_THAT(report.text, HasSubstr("('A', '1'): 3 live rows; id: 1, 2, 5\n"));
    EXPECT_THAT(report.text, HasSubstr("('B', '2'): 2 live rows; id: 3, 4\n"));
    EXPECT_THAT(report.text, HasSubstr("refused:"));
    EXPECT_THAT(report.text, HasSubstr("nothing was created"));
    EXPECT_THAT(report.text, HasSubstr("0 done, 1 refused because of live duplicates, 0 with errors"));
    EXPECT_FALSE(exists(t + "__uniq"));
}

TEST_F(Migrate, ListsUpToTenDuplicateGroups) {
    const auto t = table("many");
    for (int group = 0; group < 12; ++group) {
        const std::string name = "'g" + std::to_string(group / 10) + std::to_string(group % 10) + "'";
        exec("INSERT INTO " + t + " (name, model) VALUES (" + name + ", 'm'), (" + name + ", 'm')");
    }
    const auto report = migrate(dedup_rule("r", t));
    EXPECT_EQ(report.exit_code, 1) << report.text;
    EXPECT_THAT(report.text, HasSubstr("live duplicates: 12 group(s), 12 surplus row(s)"));
    EXPECT_THAT(report.text, HasSubstr("('g09', 'm'): 2 live rows; id: 19, 20\n"));
    EXPECT_THAT(report.text, Not(HasSubstr("('g10', 'm')")));
}

TEST_F(Migrate, MismatchedExistingDedupTableIsAnErrorAndLeftAlone) {
    const auto t = table("mismatch");
    exec("CREATE TABLE " + t + "__uniq (name VARCHAR(40) COLLATE utf8mb4_bin NOT NULL, model VARCHAR(50) "
         "COLLATE utf8mb4_general_ci NOT NULL, note INT, PRIMARY KEY (name)) COLLATE utf8mb4_general_ci");
    exec("INSERT INTO " + t + " (name, model) VALUES ('A', '1')");
    const auto report = migrate(dedup_rule("r", t));
    EXPECT_EQ(report.exit_code, 2) << report.text;
    EXPECT_THAT(report.text, HasSubstr("error: dedup table " + t + "__uniq exists but does not match the source"));
    EXPECT_THAT(report.text, HasSubstr("column `name` is varchar(40), the source's is varchar(50)"));
    EXPECT_THAT(report.text, HasSubstr("column `name` has character set utf8mb4 collation utf8mb4_bin, the source's "
                                       "has utf8mb4 collation utf8mb4_general_ci"));
    EXPECT_THAT(report.text, HasSubstr("it has column(s) `note` that are not key columns"));
    EXPECT_THAT(report.text, HasSubstr("its primary key is (name); it must be the key (name, model)"));
    EXPECT_THAT(rows("SELECT COUNT(*) FROM " + t + "__uniq"), ElementsAre("0")) << "nothing was backfilled";
    EXPECT_THAT(rows(columns_of(t + "__uniq")), ElementsAre("model|varchar(50)|utf8mb4|utf8mb4_general_ci|NO|",
                                                            "name|varchar(40)|utf8mb4|utf8mb4_bin|NO|"))
        << "the user's table is not altered";
}

TEST_F(Migrate, RemovesStaleKeys) {
    const auto t = table("stale");
    exec("INSERT INTO " + t + " (id, name, model) VALUES (1, 'A', '1'), (2, 'B', '1'), (3, 'C', '1')");
    ASSERT_EQ(migrate(dedup_rule("r", t)).exit_code, 0);
    // Soft-deleted without uniqgate (which would have removed the key), and a key nobody has.
    exec("UPDATE " + t + " SET delete_status = 1 WHERE id = 2");
    exec("INSERT INTO " + t + "__uniq VALUES ('Z', '9')");
    const auto report = migrate(dedup_rule("r", t));
    EXPECT_EQ(report.exit_code, 0) << report.text;
    EXPECT_THAT(report.text, HasSubstr("stale keys removed: 2\n"));
    EXPECT_THAT(report.text, HasSubstr("keys in it that are not live in the source: 0\n"));
    EXPECT_THAT(rows("SELECT name FROM " + t + "__uniq ORDER BY name"), ElementsAre("A", "C"));
}

TEST_F(Migrate, CompositePrimaryKeyAcrossSeveralBatches) {
    const auto t = table("composite", "(shop_id INT NOT NULL, seq VARCHAR(10) COLLATE utf8mb4_general_ci NOT NULL, "
                                      "name VARCHAR(20) NOT NULL, delete_status INT NOT NULL, PRIMARY KEY (shop_id, seq))");
    // 4 shops x 5 rows: batches of 3 end in the middle of a shop; every 4th row is deleted.
    std::string values;
    int n = 0;
    for (int shop = 1; shop <= 4; ++shop) {
        for (const char* seq : {"a", "B", "c", "D", "e"}) {
            values += std::string(values.empty() ? "" : ", ") + "(" + std::to_string(shop) + ", '" + seq + "', 'n" +
                      std::to_string(n) + "', " + (n % 4 == 3 ? "1" : "0") + ")";
            ++n;
        }
    }
    exec("INSERT INTO " + t + " VALUES " + values);
    proxy::MigrateOptions options;
    options.batch_rows = 3;
    const auto report = migrate(dedup_rule("r", t, "[name]"), options);
    ASSERT_EQ(report.exit_code, 0) << report.text;
    EXPECT_THAT(report.text, HasSubstr("backfill: 15 live row(s) read in 7 batch(es), 15 key(s) inserted\n"));
    EXPECT_THAT(rows("SELECT COUNT(*) FROM " + t + "__uniq"), ElementsAre("15"));
    EXPECT_THAT(rows("SELECT COUNT(*) FROM " + t + " AS s JOIN " + t + "__uniq AS d ON d.name = s.name WHERE "
                     "s.delete_status = 0"),
                ElementsAre("15"));
}

TEST_F(Migrate, CaseAndTrailingSpaceVariantsAreOneKeyUnderGeneralCi) {
    const auto t = table("collation", "(id INT PRIMARY KEY, name VARCHAR(20) COLLATE utf8mb4_general_ci NOT NULL, "
                                      "delete_status INT NOT NULL)");
    exec("INSERT INTO " + t + " VALUES (1, 'abc', 0), (2, 'ABC ', 0), (3, 'abd', 0)");
    const auto refused = migrate(dedup_rule("r", t, "[name]"));
    EXPECT_EQ(refused.exit_code, 1) << refused.text;
    EXPECT_THAT(refused.text, HasSubstr(": 2 live rows; id: 1, 2\n"));
    exec("UPDATE " + t + " SET delete_status = 1 WHERE id = 2");
    const auto report = migrate(dedup_rule("r", t, "[name]"));
    ASSERT_EQ(report.exit_code, 0) << report.text;
    EXPECT_THAT(rows("SELECT name FROM " + t + "__uniq ORDER BY name"), ElementsAre("abc", "abd"));
    const auto again = conn_->query("INSERT INTO " + t + "__uniq VALUES ('ABC ')");
    EXPECT_EQ(again.error_code, 1062U) << "the dedup table's primary key treats 'ABC ' as 'abc'";
}

TEST_F(Migrate, TableWithoutPrimaryKeyIsOnePass) {
    const auto t = table("nopk", "(name VARCHAR(20) NOT NULL, deleted_at DATETIME NULL)");
    exec("INSERT INTO " + t + " VALUES ('a', NULL), ('b', NULL), ('c', '2024-01-01'), ('d', NULL)");
    proxy::MigrateOptions options;
    options.batch_rows = 2;
    const auto report = migrate(dedup_rule("r", t, "[name]", "{ column: deleted_at, live: null }"), options);
    ASSERT_EQ(report.exit_code, 0) << report.text;
    EXPECT_THAT(report.text, HasSubstr("no primary key: the backfill is one pass"));
    EXPECT_THAT(report.text, HasSubstr("backfill: 3 live row(s) read in 1 batch(es), 3 key(s) inserted\n"));
}

TEST_F(Migrate, MissingTableOrColumnIsAnError) {
    const auto absent = table("absent", "");
    const auto nocol = table("nocol", "(id INT PRIMARY KEY, name VARCHAR(20), delete_status INT)");
    const auto report = migrate(dedup_rule("gone", absent) + dedup_rule("nocol", nocol));
    EXPECT_EQ(report.exit_code, 2) << report.text;
    EXPECT_THAT(report.text, HasSubstr("error: table " + absent + " not found"));
    EXPECT_THAT(report.text, HasSubstr("error: table " + nocol + " has no column(s) model\n"));
    EXPECT_THAT(report.text, HasSubstr("0 done, 0 refused because of live duplicates, 2 with errors"));
    EXPECT_FALSE(exists(nocol + "__uniq"));
}

TEST_F(Migrate, OnlyDedupRulesAreMigrated) {
    const auto t = table("serialize");
    const auto report = migrate("  - { name: s, table: " + t +
                                ", key: [name], soft_delete: { column: delete_status, live: 0 } }\n");
    EXPECT_EQ(report.exit_code, 0) << report.text;
    EXPECT_THAT(report.text, HasSubstr("no dedup rules configured, nothing to migrate"));
    EXPECT_FALSE(exists(t + "__uniq"));
}

TEST_F(Migrate, CannotConnectExitsTwo) {
    auto config = Sandbox::get().config("rules:\n" + dedup_rule("r", "shop.product"));
    config.backend.port = 1;  // nothing listens there
    std::ostringstream out;
    EXPECT_EQ(proxy::run_migrate(config, out), 2) << out.str();
    EXPECT_THAT(out.str(), HasSubstr("summary: migrate did not run: cannot connect"));
}

TEST_F(Migrate, ProgressIsALineEveryTenPercentOffATerminal) {
    const auto t = table("progress");
    std::string values;
    for (int i = 0; i < 100; ++i) values += std::string(values.empty() ? "" : ", ") + "('n" + std::to_string(i) + "', 'm')";
    exec("INSERT INTO " + t + " (name, model) VALUES " + values);
    std::ostringstream progress;
    proxy::MigrateOptions options;
    options.batch_rows = 10;
    options.progress = &progress;
    ASSERT_EQ(migrate(dedup_rule("r", t), options).exit_code, 0);
    EXPECT_THAT(progress.str(), HasSubstr("r: 10% 10/100 rows\nr: 20% 20/100 rows\n"));
    EXPECT_THAT(progress.str(), HasSubstr("r: 90% 90/100 rows\nr: done, 100 rows\n"));
}

TEST_F(Migrate, ProgressIsABarOnATerminal) {
    const auto t = table("bar");
    exec("INSERT INTO " + t + " (name, model) VALUES ('a', 'm'), ('b', 'm'), ('c', 'm'), ('d', 'm')");
    std::ostringstream progress;
    proxy::MigrateOptions options;
    options.batch_rows = 2;
    options.progress = &progress;
    options.progress_on_terminal = true;
    ASSERT_EQ(migrate(dedup_rule("r", t), options).exit_code, 0);
    EXPECT_THAT(progress.str(), HasSubstr("\rr: [##########..........] 50% 2/4 rows"));
    EXPECT_THAT(progress.str(), HasSubstr("\rr: [####################] 100% 4/4 rows\n"));
}

// What a uniqgate in dedup mode does for a soft-delete and an insert: the source row and
// the dedup table change in one transaction. A failed transaction (deadlock with the
// backfill) changes neither, so it is simply rolled back.
void dedup_mode_writes(ControlConnection& conn, const std::string& t, const std::atomic<bool>& stop, int& committed) {
    for (int i = 0; !stop.load(); ++i) {
        const std::string id = std::to_string(1 + (i * 7) % 600);
        const std::string fresh = "'new" + std::to_string(i) + "'";
        const std::vector<std::string> transaction =
            i % 2 == 0 ? std::vector<std::string>{"UPDATE " + t + " SET delete_status = 1 WHERE id = " + id +
                                                      " AND delete_status = 0",
                                                  "DELETE d FROM " + t + "__uniq AS d JOIN " + t +
                                                      " AS s ON s.name = d.name WHERE s.id = " + id}
                       : std::vector<std::string>{"INSERT INTO " + t + "__uniq (name) VALUES (" + fresh + ")",
                                                  "INSERT INTO " + t + " (name, delete_status) VALUES (" + fresh + ", 0)"};
        bool ok = conn.query("START TRANSACTION").ok;
        for (const auto& statement : transaction) ok = ok && conn.query(statement).ok;
        ok = ok && conn.query("COMMIT").ok;
        if (ok) {
            ++committed;
        } else {
            conn.query("ROLLBACK");
        }
    }
}

TEST_F(Migrate, BackfillWhileDedupModeWritesContinueLeavesNoDrift) {
    const auto t = table("concurrent", "(id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20) NOT NULL, "
                                       "delete_status INT NOT NULL)");
    const std::string rule = dedup_rule("r", t, "[name]");
    ASSERT_EQ(migrate(rule).exit_code, 0) << "creates the empty dedup table";
    std::string values;
    for (int i = 1; i <= 600; ++i) values += std::string(i > 1 ? ", " : "") + "('k" + std::to_string(i) + "', 0)";
    exec("INSERT INTO " + t + " (name, delete_status) VALUES " + values);  // rows from before the dedup mode

    auto writer_conn = ControlConnection::connect(Sandbox::get().config());
    ASSERT_TRUE(writer_conn.set_read_committed().ok);
    std::atomic<bool> stop{false};
    int committed = 0;
    std::thread writer([&] { dedup_mode_writes(writer_conn, t, stop, committed); });
    proxy::MigrateOptions options;
    options.batch_rows = 5;
    const auto report = migrate(rule, options);
    stop = true;
    writer.join();

    ASSERT_EQ(report.exit_code, 0) << report.text;
    EXPECT_GT(committed, 0) << "the writer ran during the migration";
    EXPECT_THAT(report.text, HasSubstr("live keys missing from it: 0\n"));
    EXPECT_THAT(report.text, HasSubstr("keys in it that are not live in the source: 0\n"));
    EXPECT_THAT(report.text, HasSubstr("stale keys removed: 0\n")) << "the locked backfill copied no deleted key";
    EXPECT_THAT(rows("SELECT COUNT(*) FROM " + t + "__uniq AS d WHERE NOT EXISTS (SELECT 1 FROM " + t +
                     " AS s WHERE s.name = d.name AND s.delete_status = 0)"),
                ElementsAre("0"));
    EXPECT_THAT(rows("SELECT (SELECT COUNT(*) FROM " + t + " WHERE delete_status = 0) = (SELECT COUNT(*) FROM " + t +
                     "__uniq)"),
                ElementsAre("1"));
}

TEST_F(Migrate, BackfillWaitsForAnUncommittedSoftDeleteInsteadOfCopyingItsKey) {
    const auto t = table("locked", "(id INT PRIMARY KEY, name VARCHAR(20) NOT NULL, delete_status INT NOT NULL)");
    const std::string rule = dedup_rule("r", t, "[name]");
    ASSERT_EQ(migrate(rule).exit_code, 0) << "creates the empty dedup table";
    exec("INSERT INTO " + t + " VALUES (1, 'a', 0), (2, 'b', 0), (3, 'c', 0)");

    // A soft-delete through uniqgate in dedup mode, in flight while the backfill runs: a plain
    // READ COMMITTED read would copy 'b' from the last committed version, leaving a stale key.
    auto writer = ControlConnection::connect(Sandbox::get().config());
    ASSERT_TRUE(writer.query("START TRANSACTION").ok);
    ASSERT_TRUE(writer.query("UPDATE " + t + " SET delete_status = 1 WHERE id = 2").ok);
    auto migration = std::async(std::launch::async, [&] { return migrate(rule); });
    EXPECT_EQ(migration.wait_for(std::chrono::milliseconds(500)), std::future_status::timeout)
        << "the backfill waits for the row lock";
    ASSERT_TRUE(writer.query("DELETE FROM " + t + "__uniq WHERE name = 'b'").ok);
    ASSERT_TRUE(writer.query("COMMIT").ok);
    const auto report = migration.get();

    ASSERT_EQ(report.exit_code, 0) << report.text;
    EXPECT_THAT(report.text, HasSubstr("backfill: 2 live row(s) read in 1 batch(es), 2 key(s) inserted\n"));
    EXPECT_THAT(report.text, HasSubstr("stale keys removed: 0\n"));
    EXPECT_THAT(rows("SELECT name FROM " + t + "__uniq ORDER BY name"), ElementsAre("a", "c"));
}

// ---- the proxy's start-up check

TEST_F(Migrate, StartUpCheckNamesAMissingDedupTableAndTheFix) {
    const auto t = table("startup");
    const auto config = Sandbox::get().config("rules:\n" + dedup_rule("product_name_model", t));
    EXPECT_THAT(proxy::dedup_table_problems(config, "F.yaml"),
                ElementsAre("rule 'product_name_model': dedup table " + t +
                            "__uniq does not exist; create and fill it with: uniqgate migrate --config F.yaml"));
    ASSERT_EQ(migrate(dedup_rule("product_name_model", t)).exit_code, 0);
    EXPECT_THAT(proxy::dedup_table_problems(config, "F.yaml"), IsEmpty());
}

TEST_F(Migrate, StartUpCheckRefusesAMismatchedDedupTable) {
    const auto t = table("startup_mismatch");
    exec("CREATE TABLE " + t + "__uniq (name VARCHAR(50) NOT NULL PRIMARY KEY) COLLATE utf8mb4_general_ci");
    const auto problems = proxy::dedup_table_problems(Sandbox::get().config("rules:\n" + dedup_rule("r", t)), "F");
    ASSERT_EQ(problems.size(), 1U);
    EXPECT_THAT(problems[0], HasSubstr("rule 'r': dedup table " + t + "__uniq does not match the source: it has no "
                                       "column `model`"));
}

TEST_F(Migrate, StartUpCheckNeedsTheControlPassword) {
    auto config = Sandbox::get().config("rules:\n" + dedup_rule("r", "shop.ugmig_nopw"));
    config.control.password.clear();
    EXPECT_THAT(proxy::dedup_table_problems(config, "F"),
                ElementsAre(HasSubstr("rule 'r' uses mode dedup, which needs the control account")));
    config.rules[0].mode = config::RuleMode::serialize;
    EXPECT_THAT(proxy::dedup_table_problems(config, "F"), IsEmpty()) << "only dedup rules need it";
}

}  // namespace
}  // namespace uniqgate::test
