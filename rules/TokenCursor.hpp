#pragma once
// Internal to rules/: a statement's tokens in a vector with a read position, for the
// recursive-descent analysers. The tokens stop at the first top-level ';'.

#include "rules/Lexer.hpp"
#include "rules/Literal.hpp"
#include "rules/Plan.hpp"
#include "rules/SessionContext.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/container/small_vector.hpp>

namespace uniqgate::rules::detail {

// A value's tokens: [begin, end) indexes into TokenCursor::tokens().
struct TokenRange {
    std::uint32_t begin = 0;
    std::uint32_t end = 0;
    [[nodiscard]] bool empty() const noexcept { return begin == end; }
};

class TokenCursor {
public:
    TokenCursor(std::string_view sql, LexOptions options) : sql_(sql), tokens_(take_token_buffer()) {
        Lexer lexer(sql, options);
        tokens_.reserve(sql.size() / 4 + 8);  // typical SQL has a token every 4-6 bytes
        const Token stop = lexer.append_statement(tokens_);
        if (is_error(stop.kind)) error_ = stop.kind;
        if (sql.find('?') != std::string_view::npos) {  // memchr first: most statements have no placeholder
            for (std::uint32_t i = 0; i < tokens_.size(); ++i) {
                if (tokens_[i].kind == TokenKind::placeholder) placeholders_.push_back(i);
            }
        }
        end_token_ = Token{.kind = TokenKind::end, .text = sql.substr(sql.size())};
    }

    ~TokenCursor() { give_back_token_buffer(std::move(tokens_)); }
    TokenCursor(const TokenCursor&) = delete;
    TokenCursor& operator=(const TokenCursor&) = delete;

    [[nodiscard]] TokenKind error() const noexcept { return error_; }
    [[nodiscard]] const std::vector<Token>& tokens() const noexcept { return tokens_; }
    [[nodiscard]] std::uint32_t position() const noexcept { return pos_; }
    void seek(std::uint32_t position) noexcept { pos_ = position; }
    [[nodiscard]] bool at_end() const noexcept { return pos_ >= tokens_.size(); }
    [[nodiscard]] const Token& peek(std::uint32_t ahead = 0) const noexcept {
        return pos_ + ahead < tokens_.size() ? tokens_[pos_ + ahead] : end_token_;
    }
    const Token& next() noexcept {
        const Token& token = peek();
        if (!at_end()) ++pos_;
        return token;
    }
    bool accept(std::string_view upper_keyword) noexcept {
        if (!peek().is_keyword(upper_keyword)) return false;
        ++pos_;
        return true;
    }
    bool accept_punct(char c) noexcept {
        if (!peek().is_punct(c)) return false;
        ++pos_;
        return true;
    }
    // At '(': moves past the matching ')'. Returns false at the end of the statement.
    bool skip_parenthesised() noexcept {
        int depth = 0;
        while (!at_end()) {
            const Token& token = next();
            if (token.is_punct('(')) ++depth;
            if (token.is_punct(')') && --depth == 0) return true;
        }
        return false;
    }
    // Moves to the next top-level token for which stop() holds (or the end).
    template <class Stop>
    void skip_until(Stop stop) noexcept {
        int depth = 0;
        while (!at_end()) {
            const Token& token = peek();
            if (depth == 0 && stop(token)) return;
            if (token.is_punct('(')) ++depth;
            if (token.is_punct(')')) --depth;
            ++pos_;
        }
    }

    [[nodiscard]] std::uint32_t offset(const Token& token) const noexcept {
        return static_cast<std::uint32_t>(offset_in(sql_, token.text));
    }
    // Source text of tokens [begin, end).
    [[nodiscard]] Span span(std::uint32_t begin, std::uint32_t end) const noexcept {
        if (begin >= end || begin >= tokens_.size()) {
            const std::uint32_t at = begin < tokens_.size() ? offset(tokens_[begin]) : static_cast<std::uint32_t>(sql_.size());
            return Span{at, at};
        }
        const Token& last = tokens_[std::min<std::size_t>(end, tokens_.size()) - 1];
        return Span{offset(tokens_[begin]), offset(last) + static_cast<std::uint32_t>(last.text.size())};
    }
    [[nodiscard]] Span span(TokenRange range) const noexcept { return span(range.begin, range.end); }
    // 0-based ordinal of the placeholder at token index `index`.
    [[nodiscard]] std::uint32_t placeholder_ordinal(std::uint32_t index) const noexcept {
        return static_cast<std::uint32_t>(std::lower_bound(placeholders_.begin(), placeholders_.end(), index) - placeholders_.begin());
    }
    [[nodiscard]] std::uint32_t placeholder_count() const noexcept { return static_cast<std::uint32_t>(placeholders_.size()); }
    [[nodiscard]] std::string_view sql() const noexcept { return sql_; }

private:
    // The token vector's buffer goes back to a per-thread spare when the cursor is done, so
    // that statements after the first lex without allocating (allocate per thread, not per
    // statement). A buffer a huge statement has grown is let go rather than kept.
    static constexpr std::size_t kept_token_capacity = 16384;  // 384 KiB
    static std::vector<Token>& spare_token_buffer() noexcept {
        thread_local std::vector<Token> spare;
        return spare;
    }
    static std::vector<Token> take_token_buffer() noexcept { return std::move(spare_token_buffer()); }
    static void give_back_token_buffer(std::vector<Token>&& tokens) noexcept {
        std::vector<Token>& spare = spare_token_buffer();
        if (tokens.capacity() > kept_token_capacity || tokens.capacity() <= spare.capacity()) return;
        tokens.clear();
        spare = std::move(tokens);
    }

    std::string_view sql_{};
    std::vector<Token> tokens_{};
    std::vector<std::uint32_t> placeholders_;
    Token end_token_;
    TokenKind error_ = TokenKind::end;
    std::uint32_t pos_ = 0;
};

// A name as written: `schema`.`table` or table (schema == nullptr).
struct QualifiedName {
    const Token* schema = nullptr;
    const Token* name = nullptr;
    Span text{};
};

// Reads name [. name] at the cursor; name == nullptr if the cursor is not at a name.
QualifiedName read_qualified_name(TokenCursor& cursor) noexcept;

// Parsed INSERT / REPLACE (Insert.cpp): the shape plus each row's value ranges.
struct InsertSyntax {
    QualifiedName table{};
    bool has_column_list = false;            // "(a, b)" or "()" given, or the SET form
    // Inline storage for the common sizes: both live only while the plan is built.
    boost::container::small_vector<const Token*, 16> column_names{};
    boost::container::small_vector<TokenRange, 64> values{};  // rows x row width (SET form: one row)
    std::uint32_t row_width = 0;
    std::size_t row_count = 0;
    std::vector<TokenRange> update_columns{};  // ON DUPLICATE KEY UPDATE targets
    bool from_query = false;                 // INSERT ... SELECT / TABLE / (SELECT ...)
    std::string problem{};                     // non-empty: could not be read
};
InsertSyntax parse_insert(TokenCursor& cursor, InsertShape& shape);

// Parsed UPDATE / DELETE (Filter.cpp).
struct Assignment {
    TokenRange column{};  // possibly qualified: t.col
    TokenRange value{};
};
struct FilterSyntax {
    QualifiedName table{};                  // single-table forms
    std::vector<Assignment> assignments{};  // UPDATE
    std::string problem{};
};
FilterSyntax parse_update(TokenCursor& cursor, FilterShape& shape);
FilterSyntax parse_delete(TokenCursor& cursor, FilterShape& shape);

// The value at `range` as a ValueRef, with its literal read into `literal`.
ValueRef classify_value(const TokenCursor& cursor, TokenRange range, LexOptions options, Literal& literal);

// The value a column gets when a row omits it or writes DEFAULT: column_default (its
// literal read into `literal`) when the default is a constant, null, or an expression with
// `reason` set (AUTO_INCREMENT, an expression default, no default). `text`: where DEFAULT stands.
ValueRef default_value(const ColumnInfo& column, LexOptions options, Span text, Literal& literal, std::string& reason);

// Liveness of a soft-delete column value against the rule's live value.
Liveness liveness_of(ValueKind kind, const Literal& literal, const ColumnInfo& column, const config::SoftDelete& soft_delete);

// Fills rule.rows, key_values, soft_delete_values and identities for an INSERT (InsertKeys.cpp).
void plan_insert_keys(const TokenCursor& cursor, const InsertSyntax& syntax, const TableSchema& schema,
                      const SessionContext& session, RulePlan& rule);

// Reads `col = value, ...` up to a top-level stop keyword.
template <class Stop>
std::vector<Assignment> read_assignments(TokenCursor& cursor, Stop stop) {
    std::vector<Assignment> out{};
    while (!cursor.at_end() && !stop(cursor.peek())) {
        Assignment assignment;
        assignment.column.begin = cursor.position();
        cursor.skip_until([](const Token& t) { return t.is_punct('=') || (t.kind == TokenKind::punctuation && t.text == ":="); });
        assignment.column.end = cursor.position();
        cursor.next();
        assignment.value.begin = cursor.position();
        cursor.skip_until([&stop](const Token& t) { return t.is_punct(',') || stop(t); });
        assignment.value.end = cursor.position();
        out.push_back(assignment);
        if (!cursor.accept_punct(',')) break;
    }
    return out;
}

}  // namespace uniqgate::rules::detail
