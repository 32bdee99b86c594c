#include "rules/TemporaryTables.hpp"

#include "rules/Lexer.hpp"
#include "rules/StatementSplitter.hpp"

namespace uniqgate::rules {
namespace {

// "[schema.]table" at `token` (which is consumed, with what follows the name: `token`
// is then the first token after it). The rule table it names, or -1; -2 if no name.
int read_table_name(Lexer& lexer, Token& token, const RuleSet& rules, const SessionContext& session) {
    if (!token.is_name()) return -2;
    const Token first = token;
    token = lexer.next();
    if (!token.is_punct('.')) return rules.find_table(nullptr, first, session);
    const Token table = lexer.next();
    token = lexer.next();
    if (!table.is_name()) return -2;
    return rules.find_table(&first, table, session);
}

// Skips "IF EXISTS" / "IF NOT EXISTS" at `token`.
void skip_if_exists(Lexer& lexer, Token& token) {
    if (!token.is_keyword("IF")) return;
    token = lexer.next();
    if (token.is_keyword("NOT")) token = lexer.next();
    if (token.is_keyword("EXISTS")) token = lexer.next();
}

void add_change(std::string_view statement, const RuleSet& rules, const SessionContext& session,
                TemporaryTableChange& change) {
    Lexer lexer(statement, session.lex_options());
    const Token verb = lexer.next();
    Token token = lexer.next();
    if (verb.is_keyword("CREATE")) {
        if (token.is_keyword("OR")) {  // OR REPLACE
            token = lexer.next();
            token = lexer.next();
        }
        if (!token.is_keyword("TEMPORARY")) return;
        token = lexer.next();
        if (!token.is_keyword("TABLE")) return;
        token = lexer.next();
        skip_if_exists(lexer, token);
        const int table = read_table_name(lexer, token, rules, session);
        if (table >= 0) change.created.push_back(table);
        return;
    }
    if (!verb.is_keyword("DROP")) return;
    if (token.is_keyword("TEMPORARY")) token = lexer.next();
    if (!token.is_keyword("TABLE") && !token.is_keyword("TABLES")) return;
    token = lexer.next();
    skip_if_exists(lexer, token);
    for (;;) {
        const int table = read_table_name(lexer, token, rules, session);
        if (table == -2) return;
        if (table >= 0) change.dropped.push_back(table);
        if (!token.is_punct(',')) return;
        token = lexer.next();
    }
}

}  // namespace

TemporaryTableChange temporary_table_change(std::string_view sql, const RuleSet& rules,
                                            const SessionContext& session) {
    TemporaryTableChange change;
    for (const std::string_view statement : split_statements(sql, session.lex_options()).statements) {
        add_change(statement, rules, session, change);
    }
    return change;
}

}  // namespace uniqgate::rules
