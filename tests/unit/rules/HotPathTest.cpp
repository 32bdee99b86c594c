// Pins the shortcuts taken on the INSERT analysis hot path (bench/micro/micro_rules.cpp)
// to the results of the general code they bypass.

#include "rules/KeyIdentity.hpp"
#include "rules/Lexer.hpp"
#include "rules/Literal.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace uniqgate::rules {
namespace {

TEST(CanonicalNumber, PlainIntegersComeOutAsWritten) {
    EXPECT_EQ(canonical_number("42", 0), "42");
    EXPECT_EQ(canonical_number("42", -1), "42");
    EXPECT_EQ(canonical_number("42", 3), "42");
    EXPECT_EQ(canonical_number("-7", 0), "-7");
    EXPECT_EQ(canonical_number("+3", 0), "3");
    EXPECT_EQ(canonical_number("0", 0), "0");
    EXPECT_EQ(canonical_number("+0", 0), "0");
    EXPECT_EQ(canonical_number("-0", -1), "0");
    EXPECT_EQ(canonical_number("-007", 0), "-7");
    EXPECT_EQ(canonical_number("12345678901234567890123", 0), "12345678901234567890123");
    EXPECT_FALSE(canonical_number("-", 0));
    EXPECT_FALSE(canonical_number("+", 0));
    EXPECT_FALSE(canonical_number("--1", 0));
    EXPECT_FALSE(canonical_number("1-2", 0));
}

TEST(CollationKey, AsciiAndNonAsciiValuesFoldAlike) {
    const CollationTraits general_ci = collation_traits("utf8mb4_general_ci");
    EXPECT_EQ(collation_key("Product ABC-9", Charset::utf8, general_ci), "product abc-9");
    EXPECT_EQ(collation_key("Product ABC  ", Charset::utf8, general_ci), "product abc");
    EXPECT_EQ(collation_key("ÀBÇ d", Charset::utf8, general_ci), "abc d");
    EXPECT_EQ(collation_key("AbC", Charset::utf8, collation_traits("utf8mb4_bin")), "AbC");
    EXPECT_EQ(collation_key("AbC", Charset::utf8, collation_traits("utf8mb4_0900_as_ci")), "abc");
    std::string appended = "prefix";
    append_collation_key(appended, "XY", Charset::utf8, general_ci);
    EXPECT_EQ(appended, "prefixxy");
}

std::string text_identity(std::string_view literal_sql, const char* collation) {
    ColumnInfo column;
    column.name = "name";
    column.collation = collation;
    std::string out = "1:x";  // identities are appended to the previous key parts
    std::string reason;
    EXPECT_TRUE(append_key_identity(out, read_literal_text(literal_sql, {}), column, reason)) << reason;
    return out;
}

TEST(KeyIdentity, LengthPrefixCountsTheKeyNotTheValue) {
    EXPECT_EQ(text_identity("'ABCDEFGHIJ'", "utf8mb4_general_ci"), "1:x10:abcdefghij");
    EXPECT_EQ(text_identity("'abc  '", "utf8mb4_general_ci"), "1:x3:abc");
    EXPECT_EQ(text_identity("'abc  '", "utf8mb4_0900_ai_ci"), "1:x5:abc  ");
    EXPECT_EQ(text_identity("'Straße'", "utf8mb4_unicode_ci"), "1:x7:strasse");
    EXPECT_EQ(text_identity("'ÀÉ'", "utf8mb4_general_ci"), "1:x2:ae");
    EXPECT_EQ(text_identity("''", "utf8mb4_general_ci"), "1:x0:");
}

std::vector<Token> lex(std::string_view sql) {
    std::vector<Token> tokens;
    Lexer lexer(sql, {});
    lexer.append_statement(tokens);
    return tokens;
}

TEST(ReadLiteral, ReusedLiteralMatchesAFreshOne) {
    Literal reused;
    for (const char* sql : {"'a long string value, longer than fifteen bytes'", "42", "X'41'", "NULL", "'x' 'y'", "-1.5",
                            "_latin1'caf\xe9'", "X'zz'", "DEFAULT", "TRUE", "FALSE", "?", "a + 1", "_binary X'4142'", "'b'"}) {
        const std::vector<Token> tokens = lex(sql);
        const Literal fresh = read_literal(tokens, {});
        read_literal(tokens, {}, reused);
        EXPECT_EQ(reused.kind, fresh.kind) << sql;
        EXPECT_EQ(reused.value, fresh.value) << sql;
        EXPECT_EQ(reused.charset, fresh.charset) << sql;
    }
}

TEST(Lexer, AppendStatementStopsBeforeSemicolonOrError) {
    std::vector<Token> tokens;
    Lexer lexer("INSERT INTO t VALUES (1, 'a;b'); SELECT 1", {});
    const Token stop = lexer.append_statement(tokens);
    EXPECT_TRUE(stop.is_punct(';'));
    ASSERT_EQ(tokens.size(), 9U);
    EXPECT_EQ(tokens.back().text, ")");

    tokens.clear();
    Lexer unterminated("SELECT 'abc", {});
    EXPECT_EQ(unterminated.append_statement(tokens).kind, TokenKind::unterminated_string);
    EXPECT_EQ(tokens.size(), 1U);

    tokens.clear();
    Lexer whole("SELECT  1 -- comment", {});
    EXPECT_EQ(whole.append_statement(tokens).kind, TokenKind::end);
    EXPECT_EQ(tokens.size(), 2U);
}

TEST(Lexer, VerbatimStringsHaveNothingToUndo) {
    const auto first = [](std::string_view sql, LexOptions options) { return Lexer(sql, options).next(); };
    EXPECT_TRUE(first("'plain value'", {}).verbatim);
    EXPECT_TRUE(first("N'plain'", {}).verbatim);
    EXPECT_TRUE(first("\"double quoted\"", {}).verbatim);
    EXPECT_TRUE(first("''", {}).verbatim);
    EXPECT_FALSE(first("'it''s'", {}).verbatim);
    EXPECT_FALSE(first("'a\\nb'", {}).verbatim);
    EXPECT_FALSE(first("'a\\b'", {true, Charset::utf8}).verbatim);  // a backslash, even without escapes
    EXPECT_FALSE(first("'abc'", {false, Charset::gbk}).verbatim);    // multibyte charsets: the full decode
    EXPECT_FALSE(first("X'41'", {}).verbatim);
    EXPECT_FALSE(first("'unterminated", {}).verbatim);
}

TEST(ReadLiteral, VerbatimStringsReadLikeTheFullDecode) {
    for (const LexOptions options : {LexOptions{}, LexOptions{true, Charset::utf8}, LexOptions{false, Charset::latin1},
                                     LexOptions{false, Charset::sjis}}) {
        for (const char* sql : {"'plain'", "N'national'", "\"double\"", "''", "'it''s'", "'a\\nb'", "'a\\%'",
                                "'x' 'y'", "'x' \"y\" N'z'", "_latin1'caf\xe9'", "'caf\xc3\xa9'", "'\x81\x5c'"}) {
            std::vector<Token> tokens;
            Lexer(sql, options).append_statement(tokens);
            std::vector<Token> without_flag = tokens;
            for (Token& token : without_flag) token.verbatim = false;
            const Literal fast = read_literal(tokens, options);
            const Literal full = read_literal(without_flag, options);
            EXPECT_EQ(fast.kind, full.kind) << sql;
            EXPECT_EQ(fast.value, full.value) << sql;
            EXPECT_EQ(fast.charset, full.charset) << sql;
        }
    }
}

}  // namespace
}  // namespace uniqgate::rules
