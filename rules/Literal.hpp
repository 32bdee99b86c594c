#pragma once
// Literal values as the server reads them: which token sequences are constants, and
// what bytes or number they stand for. Used for key values and soft-delete values.

#include "rules/Lexer.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace uniqgate::rules {

enum class LiteralKind : std::uint8_t {
    not_literal,   // an expression, a column, a function call, a subquery
    string,        // '..', "..", N'..', _charset'..', 'a' 'b' (adjacent strings concatenate)
    number,        // 12, -1.5e3, TRUE, FALSE
    bytes,         // X'..', 0x.., b'..', 0b..: a string in string context, a number in numeric context
    null,          // NULL
    default_word,  // DEFAULT (the column's default)
    placeholder,   // ? : bound at COM_STMT_EXECUTE
};

struct Literal {
    LiteralKind kind = LiteralKind::not_literal;
    // string: the decoded bytes; number: the number text with its sign ("-1.5e3", "1");
    // bytes: the raw bytes X'41' stands for ("A").
    std::string value{};
    // string: the charset of the bytes (an introducer such as _latin1 overrides the
    // connection's); `binary` for _binary.
    Charset charset = Charset::utf8;
};

// Reads the tokens of one value (everything between the commas of a VALUES row) as a
// literal, or kind not_literal. `connection` gives escapes and the default charset.
[[nodiscard]] Literal read_literal(std::span<const Token> tokens, LexOptions connection);
// The same into `out`, reusing its buffer (hot loops read many literals).
void read_literal(std::span<const Token> tokens, LexOptions connection, Literal& out);

// The same from source text (e.g. a literal span copied into a plan, or a column default).
[[nodiscard]] Literal read_literal_text(std::string_view text, LexOptions connection);

// Contents of one quoted string token (quotes and any N prefix included), escapes undone.
void append_unquoted(std::string& out, std::string_view token_text, LexOptions options);

}  // namespace uniqgate::rules
