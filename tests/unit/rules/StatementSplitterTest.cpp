#include "rules/StatementSplitter.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace uniqgate::rules {
namespace {

std::vector<std::string> split(std::string_view sql, LexOptions options = {}) {
    std::vector<std::string> out;
    for (const std::string_view statement : split_statements(sql, options).statements) out.emplace_back(statement);
    return out;
}

using Pieces = std::vector<std::string>;

TEST(StatementSplitter, SplitsAtTopLevelSemicolons) {
    EXPECT_EQ(split("SELECT 1; SELECT 2"), (Pieces{"SELECT 1", "SELECT 2"}));
    EXPECT_EQ(split("SELECT 1;"), (Pieces{"SELECT 1"}));
    EXPECT_EQ(split("SELECT 1"), (Pieces{"SELECT 1"}));
    EXPECT_EQ(split("  BEGIN ;\n INSERT INTO t VALUES (1);\nCOMMIT;  "), (Pieces{"BEGIN", "INSERT INTO t VALUES (1)", "COMMIT"}));
}

TEST(StatementSplitter, IgnoresSemicolonsInStringsCommentsAndIdentifiers) {
    EXPECT_EQ(split("SELECT 'a;b'; SELECT \"c;d\""), (Pieces{"SELECT 'a;b'", "SELECT \"c;d\""}));
    EXPECT_EQ(split("SELECT 1 /* ; */; SELECT `x;y`"), (Pieces{"SELECT 1 /* ; */", "SELECT `x;y`"}));
    EXPECT_EQ(split("SELECT 1 -- ;\n; SELECT 2"), (Pieces{"SELECT 1 -- ;", "SELECT 2"}));
    EXPECT_EQ(split("SELECT 'it''s;' ; SELECT '\\';'"), (Pieces{"SELECT 'it''s;'", "SELECT '\\';'"}));
}

TEST(StatementSplitter, DropsEmptyAndCommentOnlyPieces) {
    EXPECT_EQ(split(";;SELECT 1;; ;"), (Pieces{"SELECT 1"}));
    EXPECT_EQ(split("SELECT 1; /* trailing */"), (Pieces{"SELECT 1"}));
    EXPECT_TRUE(split("").empty());
}

TEST(StatementSplitter, KeepsStoredProgramBodiesWhole) {
    const std::string procedure =
        "CREATE PROCEDURE p() BEGIN DECLARE x INT; IF x THEN SELECT 1; END IF; "
        "CASE x WHEN 1 THEN SELECT 2; END CASE; SELECT CASE WHEN x THEN 1 END; END";
    EXPECT_EQ(split(procedure + "; SELECT 3"), (Pieces{procedure, "SELECT 3"}));
    const std::string trigger = "CREATE TRIGGER t BEFORE INSERT ON p FOR EACH ROW BEGIN SET NEW.a = 1; END";
    EXPECT_EQ(split(trigger + ";SELECT 1"), (Pieces{trigger, "SELECT 1"}));
    EXPECT_EQ(split("BEGIN NOT ATOMIC SELECT 1; SELECT 2; END; SELECT 3"),
              (Pieces{"BEGIN NOT ATOMIC SELECT 1; SELECT 2; END", "SELECT 3"}));
    EXPECT_EQ(split("BEGIN; SELECT 1; COMMIT"), (Pieces{"BEGIN", "SELECT 1", "COMMIT"}));
}

TEST(StatementSplitter, ReportsUnterminatedInputAndKeepsTheRest) {
    const SplitStatements result = split_statements("SELECT 1; SELECT 'open; SELECT 2", {});
    EXPECT_FALSE(result.ok());
    EXPECT_EQ(result.error, TokenKind::unterminated_string);
    ASSERT_EQ(result.statements.size(), 2U);
    EXPECT_EQ(result.statements[1], "SELECT 'open; SELECT 2");
}

TEST(StatementSplitter, GbkTrailByteDoesNotSwallowTheSeparator) {
    LexOptions gbk;
    gbk.charset = Charset::gbk;
    EXPECT_EQ(split("SELECT '\x95\x5C'; SELECT 2", gbk), (Pieces{"SELECT '\x95\x5C'", "SELECT 2"}));
}

TEST(StatementSplitter, NoBackslashEscapesChangesWhereStringsEnd) {
    LexOptions options;
    options.no_backslash_escapes = true;
    EXPECT_EQ(split("SELECT 'a\\'; SELECT 2", options), (Pieces{"SELECT 'a\\'", "SELECT 2"}));
}

}  // namespace
}  // namespace uniqgate::rules
