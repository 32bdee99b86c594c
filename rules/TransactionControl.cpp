#include "rules/TransactionControl.hpp"

namespace uniqgate::rules {
namespace {

// [AND [NO] CHAIN] [[NO] RELEASE] after COMMIT / ROLLBACK [WORK].
void read_completion_options(Token token, Lexer& lexer, TransactionControl& out) noexcept {
    if (token.is_keyword("AND")) {
        token = lexer.next();
        const bool no = token.is_keyword("NO");
        if (no) token = lexer.next();
        if (token.is_keyword("CHAIN")) out.chain = !no;
        token = lexer.next();
    }
    const bool no = token.is_keyword("NO");
    if (no) token = lexer.next();
    if (token.is_keyword("RELEASE")) out.release = !no;
}

TransactionControl start_transaction(Lexer& lexer) noexcept {
    TransactionControl out{TransactionEffect::begin};
    for (Token token = lexer.next(); token.kind != TokenKind::end && !token.is_punct(';'); token = lexer.next()) {
        if (token.is_keyword("SNAPSHOT")) out.consistent_snapshot = true;
        if (token.is_keyword("ONLY")) out.read_only = true;
    }
    return out;
}

TransactionControl commit_or_rollback(TransactionEffect effect, Lexer& lexer) noexcept {
    TransactionControl out{effect};
    Token token = lexer.next();
    if (token.is_keyword("WORK")) token = lexer.next();
    if (effect == TransactionEffect::rollback && token.is_keyword("TO")) {
        token = lexer.next();
        if (token.is_keyword("SAVEPOINT")) token = lexer.next();
        out.effect = TransactionEffect::rollback_to_savepoint;
        out.savepoint = token.text;
        return out;
    }
    read_completion_options(token, lexer, out);
    return out;
}

std::optional<bool> boolean_literal(const Token& value) noexcept {
    std::string_view text = value.text;
    if (value.kind == TokenKind::string && text.size() >= 2) text = text.substr(1, text.size() - 2);
    if (text == "1" || iequals_upper(text, "ON") || iequals_upper(text, "TRUE")) return true;
    if (text == "0" || iequals_upper(text, "OFF") || iequals_upper(text, "FALSE")) return false;
    return std::nullopt;
}

bool is_session_autocommit(std::string_view scope, const Token& name) noexcept {
    if (iequals_upper(scope, "GLOBAL") || iequals_upper(scope, "PERSIST") || iequals_upper(scope, "PERSIST_ONLY")) {
        return false;
    }
    std::string_view text = name.text;
    if (name.kind == TokenKind::variable) {
        if (!text.starts_with("@@")) return false;  // @autocommit is a user variable
        text.remove_prefix(2);
        for (std::string_view prefix : {"SESSION.", "LOCAL."}) {
            if (text.size() > prefix.size() && iequals_upper(text.substr(0, prefix.size()), prefix)) {
                text.remove_prefix(prefix.size());
            }
        }
    }
    return iequals_upper(text, "AUTOCOMMIT");
}

// SET a = 1, @@session.autocommit = 0, NAMES utf8: finds the autocommit assignment.
TransactionControl set_statement(Lexer& lexer) noexcept {
    TransactionControl out;
    Token token = lexer.next();
    while (token.kind != TokenKind::end && !token.is_punct(';')) {
        std::string_view scope;
        if (token.is_keyword("GLOBAL") || token.is_keyword("SESSION") || token.is_keyword("LOCAL") ||
            token.is_keyword("PERSIST") || token.is_keyword("PERSIST_ONLY")) {
            scope = token.text;
            token = lexer.next();
        }
        const Token name = token;
        token = lexer.next();
        const bool assigns = token.is_punct('=') || (token.kind == TokenKind::punctuation && token.text == ":=");
        if (assigns) token = lexer.next();
        const Token first_value = token;
        int depth = 0;
        int value_tokens = 0;
        while (token.kind != TokenKind::end && !token.is_punct(';') && !(depth == 0 && token.is_punct(','))) {
            if (token.is_punct('(')) ++depth;
            if (token.is_punct(')')) --depth;
            ++value_tokens;
            token = lexer.next();
        }
        if (assigns && is_session_autocommit(scope, name)) {
            out.effect = TransactionEffect::set_autocommit;
            out.autocommit = value_tokens == 1 ? boolean_literal(first_value) : std::nullopt;
        }
        if (token.is_punct(',')) token = lexer.next();
    }
    return out;
}

TransactionControl xa_statement(Lexer& lexer) noexcept {
    TransactionControl out{TransactionEffect::xa};
    const Token verb = lexer.next();
    if (verb.is_keyword("START") || verb.is_keyword("BEGIN")) out.xa = XaVerb::start;
    else if (verb.is_keyword("END")) out.xa = XaVerb::end;
    else if (verb.is_keyword("PREPARE")) out.xa = XaVerb::prepare;
    else if (verb.is_keyword("COMMIT")) out.xa = XaVerb::commit;
    else if (verb.is_keyword("ROLLBACK")) out.xa = XaVerb::rollback;
    else if (verb.is_keyword("RECOVER")) out.xa = XaVerb::recover;
    return out;
}

}  // namespace

TransactionControl classify_transaction(const Token& first, Lexer& lexer) noexcept {
    if (first.is_keyword("BEGIN")) {
        const Token token = lexer.next();
        // MariaDB's BEGIN NOT ATOMIC opens a compound statement, not a transaction.
        if (token.is_keyword("NOT")) return {};
        return TransactionControl{TransactionEffect::begin};
    }
    if (first.is_keyword("START")) {
        const Token token = lexer.next();
        if (token.is_keyword("TRANSACTION")) return start_transaction(lexer);
        return TransactionControl{TransactionEffect::implicit_commit};  // START SLAVE / REPLICA
    }
    if (first.is_keyword("COMMIT")) return commit_or_rollback(TransactionEffect::commit, lexer);
    if (first.is_keyword("ROLLBACK")) return commit_or_rollback(TransactionEffect::rollback, lexer);
    if (first.is_keyword("SAVEPOINT")) {
        return TransactionControl{.effect = TransactionEffect::savepoint, .savepoint = lexer.next().text};
    }
    if (first.is_keyword("RELEASE")) {
        Token token = lexer.next();
        if (!token.is_keyword("SAVEPOINT")) return {};
        return TransactionControl{.effect = TransactionEffect::release_savepoint, .savepoint = lexer.next().text};
    }
    if (first.is_keyword("SET")) return set_statement(lexer);
    if (first.is_keyword("XA")) return xa_statement(lexer);
    if (causes_implicit_commit(first, lexer)) return TransactionControl{TransactionEffect::implicit_commit};
    return {};
}

bool causes_implicit_commit(const Token& first, Lexer& lexer) noexcept {
    static constexpr std::string_view always[] = {
        "ALTER", "RENAME", "TRUNCATE", "GRANT", "REVOKE", "LOCK", "UNLOCK", "OPTIMIZE", "REPAIR",
        "FLUSH", "INSTALL", "UNINSTALL", "CACHE", "RESET", "CHANGE", "STOP"};
    for (const auto word : always) {
        if (first.is_keyword(word)) return true;
    }
    if (first.is_keyword("CREATE") || first.is_keyword("DROP")) {
        Token token = lexer.next();
        if (token.is_keyword("OR")) return true;  // CREATE OR REPLACE ...
        return !token.is_keyword("TEMPORARY");
    }
    if (first.is_keyword("ANALYZE") || first.is_keyword("CHECK")) {
        const Token token = lexer.next();
        return token.is_keyword("TABLE") || token.is_keyword("TABLES") || token.is_keyword("LOCAL") ||
               token.is_keyword("NO_WRITE_TO_BINLOG");
    }
    if (first.is_keyword("LOAD")) return lexer.next().is_keyword("INDEX");
    return false;
}

}  // namespace uniqgate::rules
