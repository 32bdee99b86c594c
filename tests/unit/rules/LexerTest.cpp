#include "rules/Lexer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace uniqgate::rules {
namespace {

// "kind:text" per token, e.g. "id:SELECT num:1".
std::string describe(std::string_view sql, LexOptions options = {}) {
    static constexpr const char* names[] = {"end", "id", "qid", "str", "nstr", "xstr", "bstr", "num", "hex", "bit",
                                            "?", "var", "p", "ERR_STRING", "ERR_IDENT", "ERR_COMMENT"};
    Lexer lexer(sql, options);
    std::string out;
    for (Token token = lexer.next(); token.kind != TokenKind::end; token = lexer.next()) {
        if (!out.empty()) out += ' ';
        out += names[static_cast<int>(token.kind)];
        out += ':';
        out += token.text;
    }
    return out;
}

struct LexCase {
    std::string_view sql;
    std::string_view tokens;
};

class LexerTable : public ::testing::TestWithParam<LexCase> {};

TEST_P(LexerTable, ProducesTokensThatPointIntoTheText) {
    EXPECT_EQ(describe(GetParam().sql), GetParam().tokens) << GetParam().sql;
}

INSTANTIATE_TEST_SUITE_P(Cases, LexerTable, ::testing::Values(
    LexCase{"SELECT 1", "id:SELECT num:1"},
    LexCase{"  select\t*\nfrom t", "id:select p:* id:from id:t"},
    LexCase{"-- comment\nSELECT 1", "id:SELECT num:1"},
    LexCase{"SELECT 1 --comment", "id:SELECT num:1 p:- p:- id:comment"},
    LexCase{"SELECT 1 --", "id:SELECT num:1"},
    LexCase{"SELECT 1 -- x", "id:SELECT num:1"},
    LexCase{"SELECT 1 --\tx\nFROM", "id:SELECT num:1 id:FROM"},
    LexCase{"# hash comment\nSELECT 1", "id:SELECT num:1"},
    LexCase{"SELECT /* c */ 1", "id:SELECT num:1"},
    LexCase{"SELECT /*+ MAX_EXECUTION_TIME(1) */ 1", "id:SELECT num:1"},
    LexCase{"/*!40101 SET NAMES utf8 */", "id:SET id:NAMES id:utf8"},
    LexCase{"/*!SET x=1*/", "id:SET id:x p:= num:1"},
    LexCase{"INSERT /*!50100 IGNORE */ INTO t", "id:INSERT id:IGNORE id:INTO id:t"},
    LexCase{"/*!80000 SELECT */ 1", "id:SELECT num:1"},
    LexCase{"/*M!100100 DELETE */ FROM t", "id:DELETE id:FROM id:t"},
    LexCase{"/*M! SELECT 1*/", "id:SELECT num:1"},
    LexCase{"'it''s'", "str:'it''s'"},
    LexCase{"'a\\'b'", "str:'a\\'b'"},
    LexCase{"'\\\\' x", "str:'\\\\' id:x"},
    LexCase{"\"dq \"\" \\\" x\"", "str:\"dq \"\" \\\" x\""},
    LexCase{"_utf8mb4'abc'", "id:_utf8mb4 str:'abc'"},
    LexCase{"_latin1 'abc' COLLATE latin1_bin", "id:_latin1 str:'abc' id:COLLATE id:latin1_bin"},
    LexCase{"N'national' n'x'", "nstr:N'national' nstr:n'x'"},
    LexCase{"X'4142' x'' 0x41 0XG", "xstr:X'4142' xstr:x'' hex:0x41 id:0XG"},
    LexCase{"b'0101' B'1' 0b11 0b2", "bstr:b'0101' bstr:B'1' bit:0b11 id:0b2"},
    LexCase{"1 1.5 .5 1. 1e3 1E-3 1.5e+10 1e", "num:1 num:1.5 num:.5 num:1. num:1e3 num:1E-3 num:1.5e+10 id:1e"},
    LexCase{"1abc 123_x $a a$b", "id:1abc id:123_x id:$a id:a$b"},
    LexCase{"`my table` `a``b` `schema`.`t`", "qid:`my table` qid:`a``b` qid:`schema` p:. qid:`t`"},
    LexCase{"shop.product", "id:shop p:. id:product"},
    LexCase{"? , ?", "?:? p:, ?:?"},
    LexCase{"@x @@session.autocommit @'q x' @`b`", "var:@x var:@@session.autocommit var:@'q x' var:@`b`"},
    LexCase{"a<=>b a<=b a!=b a<>b a:=1 a->>'$.x' a||b", "id:a p:<=> id:b id:a p:<= id:b id:a p:!= id:b id:a p:<> id:b id:a p::= num:1 id:a p:->> str:'$.x' id:a p:|| id:b"},
    LexCase{"SELECT 'unterminated", "id:SELECT ERR_STRING:'unterminated"},
    LexCase{"SELECT `x", "id:SELECT ERR_IDENT:`x"},
    LexCase{"SELECT /* open", "id:SELECT ERR_COMMENT:/* open"},
    LexCase{"/*! SELECT 1", "id:SELECT num:1 ERR_COMMENT:"},
    LexCase{"'a\\", "ERR_STRING:'a\\"},
    LexCase{"SELECT 'x';", "id:SELECT str:'x' p:;"},
    LexCase{"caf\xC3\xA9 = 'é'", "id:caf\xC3\xA9 p:= str:'é'"},
    LexCase{"", ""},
    LexCase{"   \n\t ", ""}));

TEST(Lexer, NoBackslashEscapesEndsTheStringAtTheBackslashQuote) {
    LexOptions options;
    options.no_backslash_escapes = true;
    EXPECT_EQ(describe("'a\\' , 'b'", options), "str:'a\\' p:, str:'b'");
    EXPECT_EQ(describe("'\\\\'", options), "str:'\\\\'");
}

TEST(Lexer, GbkTrailByte5CIsNotAnEscape) {
    // 0x95 0x5C is one GBK character ("表"'s neighbour 昞 family); the quote after it closes the string.
    const std::string sql = "'\x95\x5C' , 'y'";
    LexOptions gbk;
    gbk.charset = Charset::gbk;
    EXPECT_EQ(describe(sql, gbk), "str:'\x95\x5C' p:, str:'y'");
    // Read as UTF-8 bytes the 0x5C escapes the quote: the string swallows the rest.
    EXPECT_EQ(describe(sql), "str:'\x95\\' , ' id:y ERR_STRING:'");
}

TEST(Lexer, SjisAndBig5TrailBytesStayInsideTheCharacter) {
    LexOptions sjis;
    sjis.charset = Charset::sjis;
    EXPECT_EQ(describe("'\x83\x5C'", sjis), "str:'\x83\x5C'");  // "ソ" in Shift_JIS
    LexOptions big5;
    big5.charset = Charset::big5;
    EXPECT_EQ(describe("'\xA5\x5C'", big5), "str:'\xA5\x5C'");  // "功" in Big5
    EXPECT_EQ(describe("`\xA5\x60`", big5), "qid:`\xA5\x60`");
}

TEST(Lexer, CharsetNamesMapToLexingFamilies) {
    EXPECT_EQ(charset_from_name("utf8mb4"), Charset::utf8);
    EXPECT_EQ(charset_from_name("UTF8"), Charset::utf8);
    EXPECT_EQ(charset_from_name("gbk"), Charset::gbk);
    EXPECT_EQ(charset_from_name("cp932"), Charset::sjis);
    EXPECT_EQ(charset_from_name("big5"), Charset::big5);
    EXPECT_EQ(charset_from_name("gb18030"), Charset::gb18030);
    EXPECT_EQ(charset_from_name("latin1"), Charset::latin1);
    EXPECT_EQ(charset_from_name("koi8r"), Charset::other_single_byte);
}

TEST(Lexer, AfterAnErrorOnlyEndFollows) {
    Lexer lexer("'open", {});
    EXPECT_EQ(lexer.next().kind, TokenKind::unterminated_string);
    EXPECT_EQ(lexer.next().kind, TokenKind::end);
    EXPECT_EQ(lexer.next().kind, TokenKind::end);
}

TEST(Lexer, OffsetsPointIntoTheOriginalText) {
    const std::string_view sql = "INSERT INTO t VALUES ('x')";
    Lexer lexer(sql, {});
    Token token;
    while ((token = lexer.next()).kind != TokenKind::string) {
    }
    EXPECT_EQ(lexer.offset_of(token), 22U);
    EXPECT_EQ(token.text.data(), sql.data() + 22);
}

TEST(Lexer, KeywordsCompareCaseInsensitively) {
    Lexer lexer("sElEcT", {});
    const Token token = lexer.next();
    EXPECT_TRUE(token.is_keyword("SELECT"));
    EXPECT_FALSE(token.is_keyword("SELEC"));
}

}  // namespace
}  // namespace uniqgate::rules
