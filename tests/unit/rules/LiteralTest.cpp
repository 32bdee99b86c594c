#include "rules/Literal.hpp"

#include <gtest/gtest.h>

#include <string>

namespace uniqgate::rules {
namespace {

struct LiteralCase {
    std::string_view sql;
    LiteralKind kind;
    std::string value;
};

class LiteralTable : public ::testing::TestWithParam<LiteralCase> {};

TEST_P(LiteralTable, DecodesWhatTheServerStores) {
    const Literal literal = read_literal_text(GetParam().sql, {});
    EXPECT_EQ(literal.kind, GetParam().kind) << GetParam().sql;
    EXPECT_EQ(literal.value, GetParam().value) << GetParam().sql;
}

INSTANTIATE_TEST_SUITE_P(Cases, LiteralTable, ::testing::Values(
    LiteralCase{"'abc'", LiteralKind::string, "abc"},
    LiteralCase{"'it''s'", LiteralKind::string, "it's"},
    LiteralCase{"'a\\'b'", LiteralKind::string, "a'b"},
    LiteralCase{"'\\\\'", LiteralKind::string, "\\"},
    LiteralCase{"\"say \"\"hi\"\"\"", LiteralKind::string, "say \"hi\""},
    LiteralCase{"'\\n\\t\\r\\0\\Z\\b'", LiteralKind::string, std::string("\n\t\r\0\x1A\b", 6)},
    LiteralCase{"'100\\%'", LiteralKind::string, "100\\%"},
    LiteralCase{"'a\\_b'", LiteralKind::string, "a\\_b"},
    LiteralCase{"'\\q'", LiteralKind::string, "q"},
    LiteralCase{"'a' 'b' \"c\"", LiteralKind::string, "abc"},
    LiteralCase{"_utf8mb4'x'", LiteralKind::string, "x"},
    LiteralCase{"_utf8mb4'x' COLLATE utf8mb4_bin", LiteralKind::string, "x"},
    LiteralCase{"N'nat'", LiteralKind::string, "nat"},
    LiteralCase{"X'4142'", LiteralKind::bytes, "AB"},
    LiteralCase{"0x414", LiteralKind::bytes, std::string("\x04\x14", 2)},
    LiteralCase{"b'1000001'", LiteralKind::bytes, "A"},
    LiteralCase{"0b0100000101000010", LiteralKind::bytes, "AB"},
    LiteralCase{"_binary X'41'", LiteralKind::string, "A"},
    LiteralCase{"42", LiteralKind::number, "42"},
    LiteralCase{"-1.5e3", LiteralKind::number, "-1.5e3"},
    LiteralCase{"+7", LiteralKind::number, "7"},
    LiteralCase{"TRUE", LiteralKind::number, "1"},
    LiteralCase{"false", LiteralKind::number, "0"},
    LiteralCase{"NULL", LiteralKind::null, ""},
    LiteralCase{"DEFAULT", LiteralKind::default_word, ""},
    LiteralCase{"?", LiteralKind::placeholder, ""},
    LiteralCase{"DATE '2024-01-02'", LiteralKind::string, "2024-01-02"},
    LiteralCase{"NOW()", LiteralKind::not_literal, ""},
    LiteralCase{"1 + 1", LiteralKind::not_literal, ""},
    LiteralCase{"CONCAT('a', 'b')", LiteralKind::not_literal, ""},
    LiteralCase{"(SELECT 1)", LiteralKind::not_literal, ""},
    LiteralCase{"@var", LiteralKind::not_literal, ""},
    LiteralCase{"name", LiteralKind::not_literal, ""},
    LiteralCase{"X'zz'", LiteralKind::not_literal, ""},
    LiteralCase{"'open", LiteralKind::not_literal, ""}));

TEST(Literal, NoBackslashEscapesKeepsBackslashes) {
    LexOptions options;
    options.no_backslash_escapes = true;
    EXPECT_EQ(read_literal_text("'a\\nb'", options).value, "a\\nb");
    EXPECT_EQ(read_literal_text("'\\\\'", options).value, "\\\\");
}

TEST(Literal, GbkStringEndingInTrailByte5CDecodesAsOneCharacter) {
    LexOptions gbk;
    gbk.charset = Charset::gbk;
    const Literal literal = read_literal_text("'\x95\x5C'", gbk);
    EXPECT_EQ(literal.kind, LiteralKind::string);
    EXPECT_EQ(literal.value, "\x95\x5C");
}

TEST(Literal, IntroducerSetsTheCharset) {
    EXPECT_EQ(read_literal_text("_latin1'x'", {}).charset, Charset::latin1);
    EXPECT_EQ(read_literal_text("_binary'x'", {}).charset, Charset::binary);
    EXPECT_EQ(read_literal_text("'x'", {}).charset, Charset::utf8);
}

}  // namespace
}  // namespace uniqgate::rules
