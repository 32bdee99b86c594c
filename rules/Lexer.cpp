#include "rules/Lexer.hpp"

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

namespace uniqgate::rules {
namespace {

// Byte classes in one table: the lexer asks these for nearly every byte it reads.
enum CharClass : std::uint8_t {
    space = 1,
    word = 2,
    digit = 4,
    hex_digit = 8,
    comment_start = 16,
    one_byte_punctuation = 32,  // always a token of its own: ( ) , ; = + * / ...
    plain_word_start = 64,      // starts a word and nothing else (not N'', X'', B'', digits)
};
constexpr auto char_classes = [] {
    std::array<std::uint8_t, 256> table{};
    for (int c = 0; c < 256; ++c) {
        std::uint8_t bits = 0;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') bits |= space;
        // Unquoted identifiers may hold any byte >= 0x80 (the manual allows U+0080 .. U+FFFF).
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$' || c >= 0x80) {
            bits |= word;
        }
        if (c >= '0' && c <= '9') bits |= digit | hex_digit;
        if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) bits |= hex_digit;
        // The bytes skip_space_and_comments acts on besides whitespace: #, --, /*, */.
        if (c == '#' || c == '-' || c == '/' || c == '*') bits |= comment_start;
        // What Lexer::next's switch would send to lex_punctuation's one-byte case, or to
        // lex_word, without a second look: the common tokens skip the switch.
        constexpr std::string_view not_one_byte = "'\"`@?.<>!:|&-";
        if (c < 0x80 && (bits & (space | word)) == 0 && not_one_byte.find(static_cast<char>(c)) == std::string_view::npos) {
            bits |= one_byte_punctuation;
        }
        constexpr std::string_view prefixes = "nNxXbB";
        if ((bits & word) != 0 && (bits & digit) == 0 && (c >= 0x80 || prefixes.find(static_cast<char>(c)) == std::string_view::npos)) {
            bits |= plain_word_start;
        }
        table[static_cast<std::size_t>(c)] = bits;
    }
    return table;
}();
constexpr bool has_class(char c, CharClass bits) noexcept { return (char_classes[static_cast<unsigned char>(c)] & bits) != 0; }
constexpr bool is_space(char c) noexcept { return has_class(c, space); }
constexpr bool may_start_comment(char c) noexcept { return has_class(c, comment_start); }
constexpr bool is_digit(char c) noexcept { return has_class(c, digit); }
constexpr bool is_hex_digit(char c) noexcept { return has_class(c, hex_digit); }
constexpr bool is_word_char(char c) noexcept { return has_class(c, word); }
constexpr bool in_range(unsigned char c, unsigned lo, unsigned hi) noexcept { return c >= lo && c <= hi; }

// The first byte in [p, end) equal to `quote` or a backslash, or end. Eight bytes at a
// time (a zero-byte test on the word XOR the byte repeated: the lowest flagged byte is
// exact), then byte by byte: string values are mostly short, but not all.
const char* find_quote_or_backslash(const char* p, const char* const end, char quote) noexcept {
    constexpr std::uint64_t ones = 0x0101010101010101;
    constexpr std::uint64_t highs = 0x8080808080808080;
    const std::uint64_t quotes = ones * static_cast<unsigned char>(quote);
    const std::uint64_t backslashes = ones * static_cast<unsigned char>('\\');
    while (end - p >= 8) {
        std::uint64_t word;
        std::memcpy(&word, p, sizeof word);
        const std::uint64_t q = word ^ quotes;
        const std::uint64_t b = word ^ backslashes;
        const std::uint64_t found = (((q - ones) & ~q) | ((b - ones) & ~b)) & highs;
        if (found != 0) {
            if constexpr (std::endian::native == std::endian::little) return p + std::countr_zero(found) / 8;
            break;  // big-endian: the byte loop finds it
        }
        p += 8;
    }
    while (p != end && *p != quote && *p != '\\') ++p;
    return p;
}

std::size_t skip_spaces(std::string_view text, std::size_t pos) noexcept {
    while (pos < text.size() && is_space(text[pos])) ++pos;
    return pos;
}

std::size_t skip_word_bytes(std::string_view text, std::size_t pos) noexcept {
    while (pos < text.size() && is_word_char(text[pos])) ++pos;
    return pos;
}

std::size_t skip_digits(std::string_view text, std::size_t pos) noexcept {
    while (pos < text.size() && is_digit(text[pos])) ++pos;
    return pos;
}

}  // namespace

Charset charset_from_name(std::string_view name) noexcept {
    if (iequals_upper(name, "UTF8MB4") || iequals_upper(name, "UTF8") || iequals_upper(name, "UTF8MB3")) {
        return Charset::utf8;
    }
    if (iequals_upper(name, "LATIN1")) return Charset::latin1;
    if (iequals_upper(name, "BINARY")) return Charset::binary;
    if (iequals_upper(name, "GBK")) return Charset::gbk;
    if (iequals_upper(name, "GB18030")) return Charset::gb18030;
    if (iequals_upper(name, "SJIS") || iequals_upper(name, "CP932")) return Charset::sjis;
    if (iequals_upper(name, "BIG5")) return Charset::big5;
    return Charset::other_single_byte;
}

std::size_t multibyte_char_length(std::string_view text, std::size_t at, Charset charset) noexcept {
    const auto lead = static_cast<unsigned char>(text[at]);
    if (lead < 0x80 || at + 1 >= text.size()) return 1;
    const auto trail = static_cast<unsigned char>(text[at + 1]);
    switch (charset) {
    case Charset::gbk:
        return in_range(lead, 0x81, 0xFE) && in_range(trail, 0x40, 0xFE) && trail != 0x7F ? 2 : 1;
    case Charset::gb18030:
        if (!in_range(lead, 0x81, 0xFE)) return 1;
        if (in_range(trail, 0x30, 0x39)) return at + 3 < text.size() ? 4 : 1;
        return in_range(trail, 0x40, 0xFE) && trail != 0x7F ? 2 : 1;
    case Charset::sjis:
        return (in_range(lead, 0x81, 0x9F) || in_range(lead, 0xE0, 0xFC)) &&
                       (in_range(trail, 0x40, 0x7E) || in_range(trail, 0x80, 0xFC))
                   ? 2
                   : 1;
    case Charset::big5:
        return in_range(lead, 0xA1, 0xF9) && (in_range(trail, 0x40, 0x7E) || in_range(trail, 0xA1, 0xFE)) ? 2 : 1;
    default:
        return 1;  // UTF-8 continuation bytes are all >= 0x80: byte-wise lexing is exact
    }
}

Token Lexer::make(TokenKind kind, std::size_t begin) noexcept {
    return Token{.kind = kind, .text = std::string_view(text_.data() + begin, pos_ - begin)};  // begin <= pos_ <= size: no checks needed
}

Token Lexer::fail(TokenKind kind) noexcept {
    failed_ = true;
    Token token{.kind = kind, .text = text_.substr(pos_)};
    pos_ = text_.size();
    return token;
}

bool Lexer::skip_space_and_comments() noexcept {
    while (pos_ < text_.size()) {
        const char c = text_[pos_];
        if (is_space(c)) {
            ++pos_;
        } else if (c == '#' || (c == '-' && peek(1) == '-' &&
                                (pos_ + 2 >= text_.size() || static_cast<unsigned char>(peek(2)) <= ' '))) {
            // "--" starts a comment only when followed by whitespace or a control character.
            const auto newline = text_.find('\n', pos_);
            pos_ = newline == std::string_view::npos ? text_.size() : newline + 1;
        } else if (c == '/' && peek(1) == '*') {
            const bool mariadb_executable = peek(2) == 'M' && peek(3) == '!';
            if (!in_executable_comment_ && (peek(2) == '!' || mariadb_executable)) {
                // The server executes the body (when its version is at least the one given);
                // reading it as code is the safe choice for a proxy that must see every write.
                pos_ += mariadb_executable ? 4 : 3;
                for (int digits = 0; digits < 6 && is_digit(peek()); ++digits) ++pos_;
                in_executable_comment_ = true;
                continue;
            }
            const auto close = text_.find("*/", pos_ + 2);
            if (close == std::string_view::npos) return false;
            pos_ = close + 2;
        } else if (c == '*' && peek(1) == '/' && in_executable_comment_) {
            pos_ += 2;
            in_executable_comment_ = false;
        } else {
            return true;
        }
    }
    return !in_executable_comment_;
}

[[gnu::always_inline]] inline Token Lexer::lex_next() noexcept {
    if (failed_) return Token{.kind = TokenKind::end, .text = text_.substr(text_.size())};
    // Plain whitespace inline; comments, and the end of the text (where an unclosed
    // executable comment is an error), go through the full scan. The loops here step a
    // local position: a byte read through text_ may alias pos_, so stepping pos_ itself
    // stores it on every byte.
    pos_ = skip_spaces(text_, pos_);
    if ((pos_ == text_.size() || may_start_comment(text_[pos_])) && !skip_space_and_comments()) {
        return fail(TokenKind::unterminated_comment);
    }
    if (pos_ >= text_.size()) return Token{.kind = TokenKind::end, .text = text_.substr(text_.size())};
    const char c = text_[pos_];
    if (has_class(c, one_byte_punctuation)) {
        ++pos_;
        return make(TokenKind::punctuation, pos_ - 1);
    }
    if (has_class(c, plain_word_start)) return lex_word();
    const char next_char = peek(1);
    switch (c) {
    case '\'':
    case '"':
        return lex_quoted(0, c, TokenKind::string);
    case '`':
        return lex_backticked();
    case '@':
        return lex_variable();
    case '?':
        ++pos_;
        return make(TokenKind::placeholder, pos_ - 1);
    case 'n':
    case 'N':
        if (next_char == '\'') return lex_quoted(1, '\'', TokenKind::national_string);
        return lex_word();
    case 'x':
    case 'X':
        if (next_char == '\'') return lex_quoted(1, '\'', TokenKind::hex_string);
        return lex_word();
    case 'b':
    case 'B':
        if (next_char == '\'') return lex_quoted(1, '\'', TokenKind::bit_string);
        return lex_word();
    case '.':
        if (is_digit(next_char)) return lex_number();
        return lex_punctuation();
    default:
        if (is_digit(c)) return lex_number();
        if (is_word_char(c)) return lex_word();
        return lex_punctuation();
    }
}

Token Lexer::next() noexcept { return lex_next(); }

Token Lexer::append_statement(std::vector<Token>& tokens) {
    for (;;) {
        const Token token = lex_next();
        if (token.kind == TokenKind::end || is_error(token.kind) || token.is_punct(';')) return token;
        // Field by field: a whole-struct copy may read the kind and the text's size with one
        // 16-byte load, which cannot be forwarded from separate stores and stalls.
        tokens.push_back(Token{token.kind, token.verbatim, token.text});
    }
}

Token Lexer::lex_word() noexcept {
    const std::size_t begin = pos_;
    if (single_byte_) {
        pos_ = skip_word_bytes(text_, pos_);
        return make(TokenKind::identifier, begin);
    }
    while (pos_ < text_.size() && is_word_char(text_[pos_])) pos_ += char_length(pos_);
    if (pos_ > text_.size()) pos_ = text_.size();
    return make(TokenKind::identifier, begin);
}

Token Lexer::lex_number() noexcept {
    const std::size_t begin = pos_;
    if (peek() == '0' && (peek(1) == 'x' || peek(1) == 'b')) {
        const bool hex = peek(1) == 'x';
        std::size_t end = pos_ + 2;
        while (end < text_.size() && (hex ? is_hex_digit(text_[end]) : (text_[end] == '0' || text_[end] == '1'))) ++end;
        if (end > pos_ + 2 && (end == text_.size() || !is_word_char(text_[end]))) {
            pos_ = end;
            return make(hex ? TokenKind::hex_number : TokenKind::bit_number, begin);
        }
        return lex_word();  // 0xyz is an identifier
    }
    bool fractional = false;
    pos_ = skip_digits(text_, pos_);
    if (peek() == '.') {
        fractional = true;
        pos_ = skip_digits(text_, pos_ + 1);
    }
    if ((peek() == 'e' || peek() == 'E') &&
        (is_digit(peek(1)) || ((peek(1) == '+' || peek(1) == '-') && is_digit(peek(2))))) {
        pos_ = skip_digits(text_, pos_ + 2);
    }
    if (!fractional && pos_ < text_.size() && is_word_char(text_[pos_])) {
        pos_ = begin;  // identifiers may start with digits: 1st_quarter
        return lex_word();
    }
    return make(TokenKind::number, begin);
}

Token Lexer::lex_quoted(std::size_t prefix, char quote, TokenKind kind) noexcept {
    const std::size_t begin = pos_;
    const bool escapes = !options_.no_backslash_escapes && (kind == TokenKind::string || kind == TokenKind::national_string);
    std::size_t i = pos_ + prefix + 1;
    // Strings only; until a backslash or a doubled quote shows up.
    bool verbatim = single_byte_ && (kind == TokenKind::string || kind == TokenKind::national_string);
    while (i < text_.size()) {
        if (single_byte_) {
            // Plain bytes in a tight loop; the quote, an escape or the end below.
            const char* p = find_quote_or_backslash(text_.data() + i, text_.data() + text_.size(), quote);
            const char* const end = text_.data() + text_.size();
            i = static_cast<std::size_t>(p - text_.data());
            if (p == end) break;
        }
        const char c = text_[i];
        if (c == '\\') verbatim = false;
        if (c == '\\' && escapes) {
            i += 2;
        } else if (c == quote) {
            if (i + 1 < text_.size() && text_[i + 1] == quote) {
                verbatim = false;
                i += 2;  // a doubled quote stands for one
                continue;
            }
            pos_ = i + 1;
            Token token = make(kind, begin);
            token.verbatim = verbatim;
            return token;
        } else if (single_byte_) {
            ++i;
        } else {
            i += char_length(i);
        }
    }
    return fail(TokenKind::unterminated_string);
}

Token Lexer::lex_backticked() noexcept {
    const std::size_t begin = pos_;
    std::size_t i = pos_ + 1;
    while (i < text_.size()) {
        if (text_[i] == '`') {
            if (i + 1 < text_.size() && text_[i + 1] == '`') {
                i += 2;
                continue;
            }
            pos_ = i + 1;
            return make(TokenKind::quoted_identifier, begin);
        }
        i += char_length(i);
    }
    return fail(TokenKind::unterminated_identifier);
}

Token Lexer::lex_variable() noexcept {
    const std::size_t begin = pos_;
    ++pos_;
    if (peek() == '@') ++pos_;
    const char c = peek();
    if (c == '\'' || c == '"' || c == '`') {
        Token quoted = c == '`' ? lex_backticked() : lex_quoted(0, c, TokenKind::string);
        if (is_error(quoted.kind)) return quoted;
        return make(TokenKind::variable, begin);
    }
    while (pos_ < text_.size() && (is_word_char(text_[pos_]) || text_[pos_] == '.')) pos_ += char_length(pos_);
    if (pos_ > text_.size()) pos_ = text_.size();
    return make(TokenKind::variable, begin);
}

Token Lexer::lex_punctuation() noexcept {
    static constexpr std::string_view three_byte[] = {"<=>", "->>"};
    static constexpr std::string_view two_byte[] = {"<=", ">=", "<>", "!=", ":=", "||", "&&", "<<", ">>", "->"};
    const std::size_t begin = pos_;
    switch (text_[pos_]) {
    case '<': case '>': case '!': case ':': case '|': case '&': case '-': break;  // may start an operator below
    default:
        ++pos_;
        return make(TokenKind::punctuation, begin);
    }
    const std::string_view rest = text_.substr(pos_);
    for (const auto op : three_byte) {
        if (rest.starts_with(op)) {
            pos_ += 3;
            return make(TokenKind::punctuation, begin);
        }
    }
    for (const auto op : two_byte) {
        if (rest.starts_with(op)) {
            pos_ += 2;
            return make(TokenKind::punctuation, begin);
        }
    }
    ++pos_;
    return make(TokenKind::punctuation, begin);
}

}  // namespace uniqgate::rules
