// `uniqgate check` (proxy::run_check) against the sandbox MariaDB. Each test makes its own
// tables `shop`.`ugchk_*` and drops them, so it can run beside the other integration tests.
#include "Sandbox.hpp"

#include "proxy/CheckCommand.hpp"
#include "proxy/ControlConnection.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace uniqgate::test {
namespace {

using proxy::ControlConnection;
using ::testing::HasSubstr;
using ::testing::Not;

struct Report {
    int exit_code = -1;
    std::string text;
};

// A product table with a live flag (delete_status = 0 is live) and an index on the key.
constexpr const char* product_columns =
    "(id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50) NOT NULL, model VARCHAR(50) NULL, "
    "delete_status TINYINT NOT NULL DEFAULT 0, KEY name_model (name, model)) COLLATE utf8mb4_general_ci";

std::string rule_yaml(const std::string& name, const std::string& table, const std::string& mode = "serialize",
                      const std::string& key = "[name, model]",
                      const std::string& soft_delete = "{ column: delete_status, live: 0 }") {
    return "  - name: " + name + "\n    table: " + table + "\n    key: " + key + "\n    soft_delete: " + soft_delete +
           "\n    mode: " + mode + "\n";
}

class CheckCommand : public ::testing::Test {
protected:
    void SetUp() override { conn_.emplace(ControlConnection::connect(Sandbox::get().config())); }

    void TearDown() override {
        for (const auto& table : tables_) conn_->query("DROP TABLE IF EXISTS `shop`.`" + table + "`");
    }

    // "shop.ugchk_<suffix>", dropped before (a leftover of a crashed run) and after the test.
    std::string table(const std::string& suffix, const std::string& columns = product_columns) {
        const std::string name = "ugchk_" + suffix;
        tables_.push_back(name);
        exec("DROP TABLE IF EXISTS `shop`.`" + name + "`");
        if (!columns.empty()) exec("CREATE TABLE `shop`.`" + name + "` " + columns);
        return "shop." + name;
    }

    void exec(const std::string& sql) {
        const auto result = conn_->query(sql);
        ASSERT_TRUE(result.ok) << result.describe_error() << "\n  in: " << sql;
    }

    static Report check(const std::string& rules) {
        std::ostringstream out;
        const int code = proxy::run_check(Sandbox::get().config("rules:\n" + rules), out);
        return {code, out.str()};
    }

    std::optional<ControlConnection> conn_;
    std::vector<std::string> tables_;
};

TEST_F(CheckCommand, CleanTableExitsZero) {
    const auto t = table("clean");
    exec("INSERT INTO " + t + " (name, model) VALUES ('Widget', 'X1'), ('Widget', 'X2'), ('Gadget', 'X1')");
    const auto report = check(rule_yaml("product_name_model", t));
    EXPECT_EQ(report.exit_code, 0) << report.text;
    EXPECT_THAT(report.text, HasSubstr("rule product_name_model (mode serialize): table " + t));
    EXPECT_THAT(report.text, HasSubstr("live duplicates: none"));
    EXPECT_THAT(report.text, HasSubstr("summary: 1 rule(s) checked: all clean"));
    EXPECT_THAT(report.text, Not(HasSubstr("warning")));
}

TEST_F(CheckCommand, ReportsLiveDuplicateGroups) {
    const auto t = table("dups");
    exec("INSERT INTO " + t + " (id, name, model, delete_status) VALUES (1, 'Widget', 'X1', 0), (2, 'Widget', 'X1', 0), "
         "(3, 'Gadget', 'Y', 0), (4, 'Widget', 'X1', 0), (5, 'Gadget', 'Y', 0), (6, 'Solo', 'Z', 0), (7, 'Gadget', 'Y', 1)");
    const auto report = check(rule_yaml("product_name_model", t));
    EXPECT_EQ(report.exit_code, 1) << report.text;
    EXPECT_THAT(report.text, HasSubstr("live duplicates: 2 group(s), 3 surplus row(s)"));
    EXPECT_THAT(report.text, HasSubstr("('Widget', 'X1'): 3 live rows; id: 1, 2, 4\n"));
    EXPECT_THAT(report.text, HasSubstr("('Gadget', 'Y'): 2 live rows; id: 3, 5\n"));
    EXPECT_THAT(report.text, HasSubstr("0 clean, 1 with live duplicates or dedup drift, 0 with errors"));
}

TEST_F(CheckCommand, SamplesAtMostFiveGroupsAndTenIds) {
    const auto t = table("many");
    for (int group = 0; group < 7; ++group) {
        exec("INSERT INTO " + t + " (name, model) VALUES ('g" + std::to_string(group) + "', 'm'), ('g" +
             std::to_string(group) + "', 'm')");
    }
    for (int i = 0; i < 12; ++i) exec("INSERT INTO " + t + " (name, model) VALUES ('big', 'm')");
    const auto report = check(rule_yaml("r", t));
    EXPECT_EQ(report.exit_code, 1) << report.text;
    EXPECT_THAT(report.text, HasSubstr("live duplicates: 8 group(s), 18 surplus row(s)"));
    EXPECT_THAT(report.text, HasSubstr("('big', 'm'): 12 live rows; id: 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, ...\n"));
    std::size_t sample_lines = 0;
    for (std::size_t at = report.text.find(" live rows; "); at != std::string::npos;
         at = report.text.find(" live rows; ", at + 1)) {
        ++sample_lines;
    }
    EXPECT_EQ(sample_lines, 5U) << report.text;
}

TEST_F(CheckCommand, SoftDeletedDuplicatesDoNotCount) {
    const auto t = table("softdel");
    exec("INSERT INTO " + t + " (name, model, delete_status) VALUES ('Widget', 'X1', 0), ('Widget', 'X1', 1), "
         "('Widget', 'X1', 1), ('Gadget', 'Y', 1), ('Gadget', 'Y', 1)");
    const auto report = check(rule_yaml("r", t));
    EXPECT_EQ(report.exit_code, 0) << report.text;
    EXPECT_THAT(report.text, HasSubstr("live duplicates: none"));
}

TEST_F(CheckCommand, NullKeyValuesNeverCollide) {
    const auto t = table("nullkey");
    exec("INSERT INTO " + t + " (name, model) VALUES ('Widget', NULL), ('Widget', NULL)");
    const auto report = check(rule_yaml("r", t));
    EXPECT_EQ(report.exit_code, 0) << "a unique index allows repeated NULLs\n" << report.text;
}

TEST_F(CheckCommand, LiveNullMeansDeletedAtIsNull) {
    const auto t = table("deleted_at", "(id INT PRIMARY KEY, email VARCHAR(80) NOT NULL, deleted_at DATETIME NULL)");
    exec("INSERT INTO " + t + " VALUES (1, 'a@x', NULL), (2, 'a@x', NULL), (3, 'a@x', '2024-01-01'), "
         "(4, 'b@x', NULL), (5, 'b@x', '2024-01-01'), (6, 'b@x', '2024-02-01')");
    const auto report = check(rule_yaml("user_email", t, "serialize", "[email]", "{ column: deleted_at, live: null }"));
    EXPECT_EQ(report.exit_code, 1) << report.text;
    EXPECT_THAT(report.text, HasSubstr("live when `deleted_at` IS NULL"));
    EXPECT_THAT(report.text, HasSubstr("live duplicates: 1 group(s), 1 surplus row(s)"));
    EXPECT_THAT(report.text, HasSubstr("('a@x'): 2 live rows; id: 1, 2\n"));
}

TEST_F(CheckCommand, StringLiveValueIsQuotedAndEscaped) {
    const auto t = table("state", "(id INT PRIMARY KEY, code VARCHAR(20) NOT NULL, state VARCHAR(20) NOT NULL)");
    exec("INSERT INTO " + t + " VALUES (1, 'A', 'o''k'), (2, 'A', 'o''k'), (3, 'B', 'o''k'), (4, 'B', 'gone')");
    const auto report = check(rule_yaml("r", t, "observe", "[code]", "{ column: state, live: \"o'k\" }"));
    EXPECT_EQ(report.exit_code, 1) << report.text;
    EXPECT_THAT(report.text, HasSubstr("live duplicates: 1 group(s), 1 surplus row(s)"));
    EXPECT_THAT(report.text, HasSubstr("('A'): 2 live rows; id: 1, 2\n"));
}

TEST_F(CheckCommand, CollationEqualVariantsCountAsDuplicates) {
    // No primary key here: the samples then show no ids.
    const auto t = table("collation", "(name VARCHAR(50) COLLATE utf8mb4_general_ci NOT NULL, delete_status INT NOT NULL)");
    exec("INSERT INTO " + t + " VALUES ('ABC', 0), ('abc', 0), ('abc ', 0), ('abd', 0)");
    const auto report = check(rule_yaml("r", t, "serialize", "[name]"));
    EXPECT_EQ(report.exit_code, 1) << report.text;
    EXPECT_THAT(report.text, HasSubstr("live duplicates: 1 group(s), 2 surplus row(s)"));
    EXPECT_THAT(report.text, HasSubstr(": 3 live rows\n"));
}

TEST_F(CheckCommand, MissingTableExitsTwoNamingIt) {
    const auto t = table("absent", "");
    const auto report = check(rule_yaml("r", t));
    EXPECT_EQ(report.exit_code, 2) << report.text;
    EXPECT_THAT(report.text, HasSubstr("error: table " + t + " not found"));
    EXPECT_THAT(report.text, HasSubstr("0 clean, 0 with live duplicates or dedup drift, 1 with errors"));
}

TEST_F(CheckCommand, MissingColumnsExitTwoNamingThem) {
    const auto t = table("nocols", "(id INT PRIMARY KEY, NAME VARCHAR(20))");
    const auto report = check(rule_yaml("r", t));
    EXPECT_EQ(report.exit_code, 2) << report.text;
    EXPECT_THAT(report.text, HasSubstr("error: table " + t + " has no column(s) model, delete_status\n"));
}

TEST_F(CheckCommand, TableWithoutSchemaIsAnError) {
    const auto report = check(rule_yaml("r", "product"));
    EXPECT_EQ(report.exit_code, 2) << report.text;
    EXPECT_THAT(report.text, HasSubstr("check needs schema-qualified tables"));
}

TEST_F(CheckCommand, WarnsWhenNoIndexLeadsWithTheKey) {
    const auto t = table("noindex", "(id INT PRIMARY KEY, name VARCHAR(20), model VARCHAR(20), delete_status INT)");
    const std::string warning =
        "warning: serialize: the existence check scans the table without an index on (name, model)";
    EXPECT_THAT(check(rule_yaml("r", t)).text, HasSubstr(warning));
    exec("ALTER TABLE " + t + " ADD KEY only_name (name)");
    EXPECT_THAT(check(rule_yaml("r", t)).text, HasSubstr(warning)) << "an index on part of the key is not enough";
    exec("ALTER TABLE " + t + " ADD KEY model_name (model, name, delete_status)");
    const auto report = check(rule_yaml("r", t));
    EXPECT_EQ(report.exit_code, 0) << "a warning alone does not fail the check\n" << report.text;
    EXPECT_THAT(report.text, Not(HasSubstr("warning"))) << "leading columns in any order cover the key";
}

TEST_F(CheckCommand, DedupTableInSyncIsClean) {
    const auto t = table("dd_sync");
    table("dd_sync__uniq", "(name VARCHAR(50) NOT NULL, model VARCHAR(50) NOT NULL, PRIMARY KEY (name, model))");
    exec("INSERT INTO " + t + " (name, model, delete_status) VALUES ('A', '1', 0), ('B', '1', 0), ('B', '1', 1)");
    exec("INSERT INTO " + t + "__uniq VALUES ('A', '1'), ('B', '1')");
    const auto report = check(rule_yaml("r", t, "dedup"));
    EXPECT_EQ(report.exit_code, 0) << report.text;
    EXPECT_THAT(report.text, HasSubstr("live keys missing from it: 0\n"));
    EXPECT_THAT(report.text, HasSubstr("keys in it that are not live in the source: 0\n"));
}

TEST_F(CheckCommand, DedupDriftMissingAndStaleKeysExitOne) {
    const auto t = table("dd_drift");
    table("dd_drift__uniq", "(name VARCHAR(50) NOT NULL, model VARCHAR(50) NOT NULL, PRIMARY KEY (name, model))");
    exec("INSERT INTO " + t + " (name, model, delete_status) VALUES ('A', '1', 0), ('B', '1', 0), ('C', '1', 0), "
         "('D', '1', 1)");
    exec("INSERT INTO " + t + "__uniq VALUES ('A', '1'), ('C', '1'), ('D', '1'), ('E', '1')");
    const auto report = check(rule_yaml("r", t, "dedup"));
    EXPECT_EQ(report.exit_code, 1) << report.text;
    EXPECT_THAT(report.text, HasSubstr("dedup table " + t + "__uniq:\n"));
    EXPECT_THAT(report.text, HasSubstr("live keys missing from it: 1\n      ('B', '1')\n"));
    EXPECT_THAT(report.text,
                HasSubstr("keys in it that are not live in the source: 2\n      ('D', '1')\n      ('E', '1')\n"));
}

TEST_F(CheckCommand, MissingDedupTableExitsTwo) {
    const auto t = table("dd_none");
    table("dd_none__uniq", "");
    const auto report = check(rule_yaml("r", t, "dedup"));
    EXPECT_EQ(report.exit_code, 2) << report.text;
    EXPECT_THAT(report.text, HasSubstr("error: dedup table " + t + "__uniq not found"));
}

TEST_F(CheckCommand, WorstRuleDecidesTheExitCode) {
    const auto clean = table("multi_clean");
    const auto dups = table("multi_dups");
    exec("INSERT INTO " + dups + " (name, model) VALUES ('A', '1'), ('A', '1')");
    const auto report =
        check(rule_yaml("clean", clean) + rule_yaml("dups", dups, "observe") + rule_yaml("gone", "shop.ugchk_multi_x"));
    EXPECT_EQ(report.exit_code, 2) << report.text;
    EXPECT_THAT(report.text,
                HasSubstr("summary: 3 rule(s) checked: 1 clean, 1 with live duplicates or dedup drift, 1 with errors"));
}

TEST_F(CheckCommand, CannotConnectExitsTwo) {
    auto config = Sandbox::get().config("rules:\n" + rule_yaml("r", "shop.product"));
    config.backend.port = 1;  // nothing listens there
    std::ostringstream out;
    EXPECT_EQ(proxy::run_check(config, out), 2) << out.str();
    EXPECT_THAT(out.str(), HasSubstr("error: cannot connect to 127.0.0.1:1 as 'uniqgate'"));
    EXPECT_THAT(out.str(), HasSubstr("summary: check did not run"));
}

}  // namespace
}  // namespace uniqgate::test
