#include "rules/StatementSplitter.hpp"

namespace uniqgate::rules {
namespace {

std::string_view trim(std::string_view text) noexcept {
    constexpr std::string_view space = " \t\r\n\f\v";
    const auto first = text.find_first_not_of(space);
    if (first == std::string_view::npos) return text.substr(0, 0);
    return text.substr(first, text.find_last_not_of(space) - first + 1);
}

// Tracks BEGIN ... END nesting inside stored-program bodies, where ';' ends inner
// statements only. CASE counts too, because a CASE expression ends with a bare END.
class CompoundTracker {
public:
    void start_piece() noexcept {
        tokens_ = 0;
        compound_ = false;
        depth_ = 0;
        starts_with_create_ = false;
    }

    void see(const Token& token, Lexer& lexer) noexcept {
        if (tokens_++ == 0) {
            starts_with_create_ = token.is_keyword("CREATE");
            if (token.is_keyword("BEGIN")) {
                Lexer probe = lexer;
                compound_ = probe.next().is_keyword("NOT");  // BEGIN NOT ATOMIC
            }
        }
        if (starts_with_create_ && !compound_ &&
            (token.is_keyword("PROCEDURE") || token.is_keyword("FUNCTION") || token.is_keyword("TRIGGER") ||
             token.is_keyword("EVENT"))) {
            compound_ = true;
        }
        if (!compound_) return;
        if (token.is_keyword("BEGIN") || token.is_keyword("CASE")) {
            ++depth_;
        } else if (token.is_keyword("END")) {
            Lexer probe = lexer;
            const Token after = probe.next();
            if (after.is_keyword("IF") || after.is_keyword("LOOP") || after.is_keyword("WHILE") ||
                after.is_keyword("REPEAT") || after.is_keyword("FOR")) {
                lexer = probe;  // END IF and friends close blocks we do not count
                return;
            }
            if (after.is_keyword("CASE")) lexer = probe;
            if (depth_ > 0) --depth_;
        }
    }

    [[nodiscard]] bool inside_block() const noexcept { return depth_ > 0; }
    [[nodiscard]] bool has_tokens() const noexcept { return tokens_ > 0; }

private:
    int tokens_ = 0;
    int depth_ = 0;
    bool compound_ = false;
    bool starts_with_create_ = false;
};

}  // namespace

SplitStatements split_statements(std::string_view sql, LexOptions options) {
    SplitStatements result;
    Lexer lexer(sql, options);
    CompoundTracker tracker;
    tracker.start_piece();
    std::size_t piece_begin = 0;
    for (;;) {
        const Token token = lexer.next();
        if (is_error(token.kind)) {
            result.error = token.kind;
            result.statements.push_back(trim(sql.substr(piece_begin)));
            return result;
        }
        if (token.kind == TokenKind::end) break;
        if (token.is_punct(';') && !tracker.inside_block()) {
            const std::size_t at = lexer.offset_of(token);
            if (tracker.has_tokens()) result.statements.push_back(trim(sql.substr(piece_begin, at - piece_begin)));
            piece_begin = at + 1;
            tracker.start_piece();
            continue;
        }
        tracker.see(token, lexer);
    }
    if (tracker.has_tokens()) result.statements.push_back(trim(sql.substr(piece_begin)));
    return result;
}

}  // namespace uniqgate::rules
