#pragma once
// A MySQL/MariaDB-dialect lexer. Tokens are views into the caller's text (no copies,
// no allocation); comments and whitespace are skipped, executable comments
// (`/*! ... */`, `/*!50100 ... */`, `/*M! ... */`) are read as code because the
// server runs them. Every input yields tokens ending in `end`, or an error token
// (unterminated string, identifier or comment) after which only `end` follows.
// Shape after SQLite's tokenize.c and ClickHouse's Lexer: one switch on the next byte.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace uniqgate::rules {

enum class TokenKind : std::uint8_t {
    end,
    identifier,          // bare word: keywords too (compare with iequals), `_utf8mb4` introducers
    quoted_identifier,   // `name`, doubled backticks inside
    string,              // '..' or ".." (double quotes are strings unless sql_mode has ANSI_QUOTES)
    national_string,     // N'..'
    hex_string,          // X'..'
    bit_string,          // B'..'
    number,              // 12, 1.5, .5, 1e-3
    hex_number,          // 0x1F
    bit_number,          // 0b101
    placeholder,         // ? (prepared statements)
    variable,            // @user_var, @'quoted', @@session.sys_var
    punctuation,         // ( ) , . ; = and every other operator, 1 to 3 bytes
    unterminated_string,
    unterminated_identifier,
    unterminated_comment,
};

[[nodiscard]] constexpr bool is_error(TokenKind kind) noexcept {
    return kind >= TokenKind::unterminated_string;
}

// How the bytes of the connection charset affect lexing: in GBK, SJIS (cp932),
// BIG5 and GB18030 the second byte of a character may be 0x5C (backslash) or 0x60
// (backtick), which must not be read as an escape or a closing quote.
enum class Charset : std::uint8_t { utf8, latin1, binary, gbk, sjis, big5, gb18030, other_single_byte };

// Maps a character_set_client name ("utf8mb4", "gbk", "cp932", ...) to the lexing family.
[[nodiscard]] Charset charset_from_name(std::string_view name) noexcept;

// GBK, SJIS, BIG5 and GB18030: a character's trail byte may look like ASCII. In every
// other charset the lexer may step byte by byte (UTF-8 continuation bytes are >= 0x80).
[[nodiscard]] constexpr bool has_multibyte_chars(Charset charset) noexcept {
    return charset == Charset::gbk || charset == Charset::sjis || charset == Charset::big5 || charset == Charset::gb18030;
}

// Length of the character at `at` in `text`: 2 (GB18030: 4) when a multibyte lead byte
// is followed by a valid trail byte, so a trail byte 0x5C or 0x60 is never read alone.
[[nodiscard]] std::size_t multibyte_char_length(std::string_view text, std::size_t at, Charset charset) noexcept;

struct LexOptions {
    bool no_backslash_escapes = false;  // SERVER_STATUS_NO_BACKSLASH_ESCAPES (0x0200)
    Charset charset = Charset::utf8;
};

struct Token {
    TokenKind kind = TokenKind::end;
    // string / national_string from the lexer: no backslash and no doubled quote inside, so
    // the bytes between the quotes are the value (false is always safe: the full decode).
    // Next to `kind`, in its padding: a Token stays 24 bytes.
    bool verbatim = false;
    std::string_view text;  // points into the lexed text; for strings the quotes and prefix included

    [[nodiscard]] bool is(TokenKind k) const noexcept { return kind == k; }
    [[nodiscard]] bool is_punct(char c) const noexcept {
        return kind == TokenKind::punctuation && text.size() == 1 && text[0] == c;
    }
    [[nodiscard]] bool is_keyword(std::string_view upper_word) const noexcept;
    [[nodiscard]] bool is_name() const noexcept {
        return kind == TokenKind::identifier || kind == TokenKind::quoted_identifier;
    }
};

// ASCII case-insensitive equality; `upper` must be upper case.
[[nodiscard]] constexpr bool iequals_upper(std::string_view text, std::string_view upper) noexcept {
    if (text.size() != upper.size()) return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        if (c != upper[i]) return false;
    }
    return true;
}

inline bool Token::is_keyword(std::string_view upper_word) const noexcept {
    return kind == TokenKind::identifier && iequals_upper(text, upper_word);
}

class Lexer {
public:
    Lexer(std::string_view text, LexOptions options) noexcept
        : text_(text), options_(options), single_byte_(!has_multibyte_chars(options.charset)) {}

    // The next token; `end` forever once the text (or an error token) has been returned.
    Token next() noexcept;
    // Appends tokens to `tokens` up to, not including, the end, an error token or the first
    // ';' token; returns that token. For whole statements: here next() is inlined, while a
    // caller in another file gets each Token back through memory (a store-forwarding stall
    // per token that cost a fifth of analyse_write).
    Token append_statement(std::vector<Token>& tokens);

    [[nodiscard]] std::size_t position() const noexcept { return pos_; }
    [[nodiscard]] std::string_view text() const noexcept { return text_; }
    // Offset of a token's first byte in the lexed text.
    [[nodiscard]] std::size_t offset_of(const Token& token) const noexcept {
        return static_cast<std::size_t>(token.text.data() - text_.data());
    }

private:
    Token lex_next() noexcept;  // next()'s body, inlined into append_statement
    bool skip_space_and_comments() noexcept;  // false: unterminated comment
    Token lex_word() noexcept;
    Token lex_number() noexcept;
    Token lex_quoted(std::size_t prefix, char quote, TokenKind kind) noexcept;
    Token lex_backticked() noexcept;
    Token lex_variable() noexcept;
    Token lex_punctuation() noexcept;
    Token make(TokenKind kind, std::size_t begin) noexcept;
    Token fail(TokenKind kind) noexcept;
    [[nodiscard]] std::size_t char_length(std::size_t at) const noexcept {
        return multibyte_char_length(text_, at, options_.charset);
    }
    [[nodiscard]] char peek(std::size_t ahead = 0) const noexcept {
        return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
    }

    std::string_view text_;
    LexOptions options_;
    std::size_t pos_ = 0;
    bool single_byte_;  // !has_multibyte_chars(charset): step byte by byte
    bool in_executable_comment_ = false;
    bool failed_ = false;
};

// Offset of `part` (a view into `whole`) in `whole`.
[[nodiscard]] inline std::size_t offset_in(std::string_view whole, std::string_view part) noexcept {
    return static_cast<std::size_t>(part.data() - whole.data());
}

}  // namespace uniqgate::rules
