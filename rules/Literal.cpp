#include "rules/Literal.hpp"

#include <boost/container/small_vector.hpp>

namespace uniqgate::rules {
namespace {

// Backslash escapes: https://dev.mysql.com/doc/refman/8.0/en/string-literals.html
// \% and \_ keep their backslash (they matter to LIKE only).
void append_escape(std::string& out, char c) {
    switch (c) {
    case '0': out += '\0'; break;
    case 'b': out += '\b'; break;
    case 'n': out += '\n'; break;
    case 'r': out += '\r'; break;
    case 't': out += '\t'; break;
    case 'Z': out += '\x1A'; break;
    case '%': out += "\\%"; break;
    case '_': out += "\\_"; break;
    default: out += c; break;
    }
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Hex digits to bytes; an odd count gets a leading zero, as the server does for 0x.
void append_hex_bytes(std::string& out, std::string_view digits) {
    std::size_t i = 0;
    if (digits.size() % 2 == 1) {
        out += static_cast<char>(hex_value(digits[0]));
        i = 1;
    }
    for (; i + 1 < digits.size(); i += 2) {
        out += static_cast<char>(hex_value(digits[i]) * 16 + hex_value(digits[i + 1]));
    }
}

// Bit digits to bytes, right-aligned: b'1000001' is "A".
void append_bit_bytes(std::string& out, std::string_view digits) {
    const std::size_t lead = digits.size() % 8;
    unsigned value = 0;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        value = value * 2 + (digits[i] == '1' ? 1U : 0U);
        if ((i + 1) % 8 == lead % 8) {
            out += static_cast<char>(value);
            value = 0;
        }
    }
}

// The read_* functions below overwrite `out` but keep its value's buffer: analysing an
// INSERT reads a literal per key value per row into the same Literal.
void reset(Literal& out, LiteralKind kind, Charset charset) {
    out.kind = kind;
    out.value.clear();
    out.charset = charset;
}

void read_bytes(const Token& token, Literal& out) {
    const std::string_view text = token.text;
    const bool quoted = token.kind == TokenKind::hex_string || token.kind == TokenKind::bit_string;
    const std::string_view digits = quoted ? text.substr(2, text.size() - 3) : text.substr(2);
    const bool hex = token.kind == TokenKind::hex_string || token.kind == TokenKind::hex_number;
    for (const char c : digits) {
        // X'zz': the server refuses it
        if (hex ? hex_value(c) < 0 : (c != '0' && c != '1')) return reset(out, LiteralKind::not_literal, Charset::utf8);
    }
    reset(out, LiteralKind::bytes, Charset::binary);
    hex ? append_hex_bytes(out.value, digits) : append_bit_bytes(out.value, digits);
}

bool is_string_token(const Token& token) noexcept {
    return token.kind == TokenKind::string || token.kind == TokenKind::national_string;
}

bool is_bytes_token(const Token& token) noexcept {
    return token.kind == TokenKind::hex_string || token.kind == TokenKind::bit_string ||
           token.kind == TokenKind::hex_number || token.kind == TokenKind::bit_number;
}

// Strips a trailing COLLATE name: it changes how the value compares in the expression,
// not the value stored into the column.
std::span<const Token> without_collate(std::span<const Token> tokens) noexcept {
    if (tokens.size() >= 3 && tokens[tokens.size() - 2].is_keyword("COLLATE")) return tokens.first(tokens.size() - 2);
    return tokens;
}

// A string token's value: the bytes between the quotes when the lexer saw nothing to
// undo in them (single-byte-safe charsets only, as in append_unquoted), else the decode.
void append_string_token(std::string& out, const Token& token, LexOptions connection) {
    if (token.verbatim && !has_multibyte_chars(connection.charset)) {
        const std::size_t open = token.kind == TokenKind::national_string ? 2 : 1;
        out.append(token.text.substr(open, token.text.size() - open - 1));
        return;
    }
    append_unquoted(out, token.text, connection);
}

void read_single_token(const Token& token, LexOptions connection, Literal& out) {
    if (is_string_token(token)) {
        reset(out, LiteralKind::string, token.kind == TokenKind::national_string ? Charset::utf8 : connection.charset);
        append_string_token(out.value, token, connection);
    } else if (is_bytes_token(token)) {
        read_bytes(token, out);
    } else if (token.kind == TokenKind::number) {
        reset(out, LiteralKind::number, connection.charset);
        out.value += token.text;
    } else if (token.kind == TokenKind::placeholder) {
        reset(out, LiteralKind::placeholder, connection.charset);
    } else if (token.is_keyword("NULL")) {
        reset(out, LiteralKind::null, connection.charset);
    } else if (token.is_keyword("DEFAULT")) {
        reset(out, LiteralKind::default_word, connection.charset);
    } else if (token.is_keyword("TRUE")) {
        reset(out, LiteralKind::number, connection.charset);
        out.value += '1';
    } else if (token.is_keyword("FALSE")) {
        reset(out, LiteralKind::number, connection.charset);
        out.value += '0';
    } else {
        reset(out, LiteralKind::not_literal, Charset::utf8);
    }
}

}  // namespace

void append_unquoted(std::string& out, std::string_view token_text, LexOptions options) {
    if (!token_text.empty() && (token_text[0] == 'n' || token_text[0] == 'N')) token_text.remove_prefix(1);
    if (token_text.size() < 2) return;
    const char quote = token_text[0];
    const std::string_view inner = token_text.substr(1, token_text.size() - 2);
    const bool single_byte_safe = options.charset == Charset::utf8 || options.charset == Charset::latin1 ||
                                  options.charset == Charset::binary || options.charset == Charset::other_single_byte;
    if (single_byte_safe && inner.find_first_of(quote) == std::string_view::npos &&
        (options.no_backslash_escapes || inner.find('\\') == std::string_view::npos)) {
        out.append(inner);  // the common case: nothing to undo
        return;
    }
    for (std::size_t i = 0; i < inner.size();) {
        const char c = inner[i];
        if (c == '\\' && !options.no_backslash_escapes && i + 1 < inner.size()) {
            append_escape(out, inner[i + 1]);
            i += 2;
        } else if (c == quote && i + 1 < inner.size() && inner[i + 1] == quote) {
            out += quote;
            i += 2;
        } else {
            const std::size_t length = multibyte_char_length(inner, i, options.charset);
            out.append(inner.substr(i, length));
            i += length;
        }
    }
}

void read_literal(std::span<const Token> tokens, LexOptions connection, Literal& out) {
    tokens = without_collate(tokens);
    if (tokens.empty()) return reset(out, LiteralKind::not_literal, Charset::utf8);
    if (tokens.size() == 1) return read_single_token(tokens[0], connection, out);
    const Token& head = tokens[0];
    if (tokens.size() == 2 && (head.is_punct('-') || head.is_punct('+')) && tokens[1].kind == TokenKind::number) {
        reset(out, LiteralKind::number, connection.charset);
        if (head.is_punct('-')) out.value += '-';
        out.value += tokens[1].text;
        return;
    }
    // DATE '2024-01-01', TIMESTAMP '...': the string, compared as text (see KeyIdentity).
    if (tokens.size() == 2 && (head.is_keyword("DATE") || head.is_keyword("TIME") || head.is_keyword("TIMESTAMP")) &&
        tokens[1].kind == TokenKind::string) {
        return read_single_token(tokens[1], connection, out);
    }
    std::size_t first_string = 0;
    Charset charset = connection.charset;
    if (head.kind == TokenKind::identifier && head.text.size() > 1 && head.text[0] == '_') {
        charset = charset_from_name(head.text.substr(1));  // _utf8mb4'..', _binary X'..'
        first_string = 1;
        if (tokens.size() == 2 && is_bytes_token(tokens[1])) {
            read_bytes(tokens[1], out);
            if (out.kind == LiteralKind::not_literal) return;
            out.kind = LiteralKind::string;
            out.charset = charset;
            return;
        }
    }
    reset(out, LiteralKind::string, charset);
    for (std::size_t i = first_string; i < tokens.size(); ++i) {
        if (!is_string_token(tokens[i])) return reset(out, LiteralKind::not_literal, Charset::utf8);
        append_string_token(out.value, tokens[i], connection);
    }
}

Literal read_literal(std::span<const Token> tokens, LexOptions connection) {
    Literal out;
    read_literal(tokens, connection, out);
    return out;
}

Literal read_literal_text(std::string_view text, LexOptions connection) {
    boost::container::small_vector<Token, 8> tokens;  // literals are a few tokens: no allocation
    Lexer lexer(text, connection);
    for (Token token = lexer.next(); token.kind != TokenKind::end; token = lexer.next()) {
        if (is_error(token.kind)) return {};
        tokens.push_back(token);
    }
    return read_literal(tokens, connection);
}

}  // namespace uniqgate::rules
