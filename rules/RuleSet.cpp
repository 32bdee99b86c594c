#include "rules/RuleSet.hpp"

#include <utility>

namespace uniqgate::rules {
namespace {

constexpr char fold(char c, bool fold_case) noexcept {
    return fold_case && c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool names_equal(std::string_view a, std::string_view b, bool fold_case) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (fold(a[i], fold_case) != fold(b[i], fold_case)) return false;
    }
    return true;
}

bool is_read_keyword(const Token& token) noexcept {
    static constexpr std::string_view words[] = {"SHOW", "EXPLAIN", "DESCRIBE", "DESC", "VALUES", "TABLE",
                                                 "DO", "HANDLER", "HELP", "CHECKSUM"};
    for (const auto word : words) {
        if (token.is_keyword(word)) return true;
    }
    return false;
}

// After WITH: skips the common table expressions (their bodies are parenthesised) to
// the main statement's keyword.
Token skip_common_table_expressions(Lexer& lexer) noexcept {
    int depth = 0;
    for (Token token = lexer.next();; token = lexer.next()) {
        if (token.kind == TokenKind::end || is_error(token.kind)) return token;
        if (token.is_punct('(')) ++depth;
        if (token.is_punct(')')) --depth;
        if (depth == 0 && (token.is_keyword("SELECT") || token.is_keyword("UPDATE") || token.is_keyword("DELETE") ||
                           token.is_keyword("TABLE") || token.is_keyword("VALUES"))) {
            return token;
        }
    }
}

}  // namespace

const char* to_string(StatementKind kind) noexcept {
    switch (kind) {
    case StatementKind::empty: return "empty";
    case StatementKind::unparseable: return "unparseable";
    case StatementKind::read: return "read";
    case StatementKind::insert: return "insert";
    case StatementKind::replace: return "replace";
    case StatementKind::update: return "update";
    case StatementKind::delete_rows: return "delete";
    case StatementKind::truncate: return "truncate";
    case StatementKind::load_data: return "load_data";
    case StatementKind::transaction: return "transaction";
    case StatementKind::set: return "set";
    case StatementKind::ddl: return "ddl";
    case StatementKind::call: return "call";
    case StatementKind::other: return "other";
    }
    return "?";
}

bool identifier_equals(const Token& token, std::string_view name, bool fold_case) noexcept {
    if (token.kind == TokenKind::identifier) return names_equal(token.text, name, fold_case);
    if (token.kind != TokenKind::quoted_identifier || token.text.size() < 2) return false;
    const std::string_view inner = token.text.substr(1, token.text.size() - 2);
    std::size_t j = 0;
    for (std::size_t i = 0; i < inner.size(); ++i, ++j) {
        if (j >= name.size() || fold(inner[i], fold_case) != fold(name[j], fold_case)) return false;
        if (inner[i] == '`') ++i;  // a doubled backtick stands for one
    }
    return j == name.size();
}

std::string identifier_value(const Token& token) {
    if (token.kind != TokenKind::quoted_identifier || token.text.size() < 2) return std::string(token.text);
    std::string value;
    const std::string_view inner = token.text.substr(1, token.text.size() - 2);
    for (std::size_t i = 0; i < inner.size(); ++i) {
        value += inner[i];
        if (inner[i] == '`') ++i;
    }
    return value;
}

RuleSet::RuleSet(std::vector<config::Rule> rules) : rules_(std::move(rules)) {
    for (std::size_t i = 0; i < rules_.size(); ++i) {
        const config::TableName& name = rules_[i].table;
        bool grouped = false;
        for (RuleTable& table : tables_) {
            if (table.name.schema == name.schema && table.name.table == name.table) {
                table.rule_indexes.push_back(i);
                grouped = true;
            }
        }
        if (!grouped) tables_.push_back(RuleTable{name, {i}});
    }
}

int RuleSet::find_table(const Token* schema, const Token& table, const SessionContext& session) const noexcept {
    const bool fold_case = session.lower_case_table_names != 0;
    for (std::size_t i = 0; i < tables_.size(); ++i) {
        const config::TableName& name = tables_[i].name;
        if (!identifier_equals(table, name.table, fold_case)) continue;
        // A rule without a schema means "this table in the session's current database".
        const std::string_view rule_schema = name.schema.empty() ? session.current_database : name.schema;
        const bool schema_matches = schema != nullptr ? identifier_equals(*schema, rule_schema, fold_case)
                                                      : names_equal(session.current_database, rule_schema, fold_case);
        if (schema_matches) return static_cast<int>(i);
    }
    return -1;
}

Classification RuleSet::classify(std::string_view sql, const SessionContext& session) const noexcept {
    Lexer lexer(sql, session.lex_options());
    Token first = lexer.next();
    if (first.kind == TokenKind::end) return {StatementKind::empty};
    if (is_error(first.kind)) return {StatementKind::unparseable};
    if (first.is_keyword("SELECT") || first.is_punct('(')) return {StatementKind::read};
    if (first.is_keyword("WITH")) {
        first = skip_common_table_expressions(lexer);
        if (!first.is_keyword("UPDATE") && !first.is_keyword("DELETE")) return {StatementKind::read};
    }
    if (first.is_keyword("ANALYZE")) {
        // MariaDB's ANALYZE [FORMAT=JSON] UPDATE/DELETE/INSERT ... executes the statement.
        Lexer probe = lexer;
        Token next = probe.next();
        if (next.is_keyword("FORMAT")) {
            probe.next();
            probe.next();
            next = probe.next();
        }
        if (next.is_keyword("SELECT")) return {StatementKind::read};
        if (next.is_keyword("INSERT") || next.is_keyword("REPLACE") || next.is_keyword("UPDATE") ||
            next.is_keyword("DELETE")) {
            lexer = probe;
            first = next;
        }
    }
    Classification write = classify_write(first, lexer, session);
    if (write.kind != StatementKind::other) return write;
    if (is_read_keyword(first)) return {StatementKind::read};
    if (first.is_keyword("CALL")) return {StatementKind::call};
    Classification result{StatementKind::other};
    result.transaction = classify_transaction(first, lexer);
    switch (result.transaction.effect) {
    case TransactionEffect::none: break;
    case TransactionEffect::set_autocommit: result.kind = StatementKind::set; break;
    case TransactionEffect::implicit_commit: result.kind = StatementKind::ddl; break;
    default: result.kind = StatementKind::transaction; break;
    }
    if (result.kind == StatementKind::other && first.is_keyword("SET")) result.kind = StatementKind::set;
    return result;
}

Classification RuleSet::classify_write(const Token& first, Lexer& lexer, const SessionContext& session) const noexcept {
    Classification result;
    if (first.is_keyword("INSERT") || first.is_keyword("REPLACE")) {
        result.kind = first.is_keyword("INSERT") ? StatementKind::insert : StatementKind::replace;
        result.rule_table = table_after_insert(lexer, session);
    } else if (first.is_keyword("UPDATE")) {
        result.kind = StatementKind::update;
        result.rule_table = table_in_references(lexer, session, true);
    } else if (first.is_keyword("DELETE")) {
        result.kind = StatementKind::delete_rows;
        result.rule_table = table_in_references(lexer, session, false);
    } else if (first.is_keyword("TRUNCATE")) {
        result.kind = StatementKind::truncate;
        result.transaction.effect = TransactionEffect::implicit_commit;
        Lexer probe = lexer;
        if (probe.next().is_keyword("TABLE")) lexer = probe;
        result.rule_table = table_in_references(lexer, session, false);
    } else if (first.is_keyword("LOAD")) {
        Lexer probe = lexer;
        const Token what = probe.next();
        if (what.is_keyword("DATA") || what.is_keyword("XML")) {
            result.kind = StatementKind::load_data;
            result.rule_table = table_after_keyword(probe, "TABLE", session);
        }
    }
    return result;
}

int RuleSet::table_after_insert(Lexer& lexer, const SessionContext& session) const noexcept {
    Token token = lexer.next();
    while (token.is_keyword("LOW_PRIORITY") || token.is_keyword("DELAYED") || token.is_keyword("HIGH_PRIORITY") ||
           token.is_keyword("IGNORE") || token.is_keyword("INTO")) {
        token = lexer.next();
    }
    if (!token.is_name()) return -1;
    Lexer probe = lexer;
    if (probe.next().is_punct('.')) {
        const Token table = probe.next();
        return find_table(&token, table, session);
    }
    return find_table(nullptr, token, session);
}

// Checks every name in the table references of UPDATE (up to SET) or DELETE (up to
// WHERE / ORDER BY / LIMIT): multi-table forms write through aliases, so any rule
// table named there may be written.
int RuleSet::table_in_references(Lexer& lexer, const SessionContext& session, bool stop_at_set) const noexcept {
    int depth = 0;
    Token token = lexer.next();
    while (token.kind != TokenKind::end && !is_error(token.kind) && !token.is_punct(';')) {
        if (depth == 0 && (stop_at_set ? token.is_keyword("SET")
                                       : (token.is_keyword("WHERE") || token.is_keyword("ORDER") ||
                                          token.is_keyword("LIMIT") || token.is_keyword("RETURNING")))) {
            break;
        }
        if (token.is_punct('(')) ++depth;
        if (token.is_punct(')')) --depth;
        if (!token.is_name()) {
            token = lexer.next();
            continue;
        }
        const Token name = token;
        token = lexer.next();
        int found = -1;
        if (token.is_punct('.')) {
            const Token table = lexer.next();
            found = find_table(&name, table, session);
            token = lexer.next();
        } else {
            found = find_table(nullptr, name, session);
        }
        if (found >= 0) return found;
    }
    return -1;
}

int RuleSet::table_after_keyword(Lexer& lexer, std::string_view keyword, const SessionContext& session) const noexcept {
    for (Token token = lexer.next(); token.kind != TokenKind::end && !is_error(token.kind); token = lexer.next()) {
        if (token.is_keyword(keyword)) return table_after_insert(lexer, session);
    }
    return -1;
}

}  // namespace uniqgate::rules
