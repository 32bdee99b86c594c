#pragma once
// The per-statement entry point: RuleSet::classify says, for every COM_QUERY, what
// kind of statement it is and whether it may write a rule's table. It reads only the
// first few tokens of typical statements and never allocates, so statements that
// concern no rule cost tens of nanoseconds (bench/micro). Statements that may write a
// rule table then go to analyse_write (Analyser.hpp) for the full plan.

#include "config/Config.hpp"
#include "rules/Lexer.hpp"
#include "rules/SessionContext.hpp"
#include "rules/TransactionControl.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace uniqgate::rules {

enum class StatementKind : std::uint8_t {
    empty,        // only whitespace and comments
    unparseable,  // the lexer reports an unterminated string, identifier or comment
    read,         // SELECT, SHOW, EXPLAIN, DESCRIBE, (SELECT ...), VALUES, TABLE, DO, HANDLER
    insert,
    replace,
    update,
    delete_rows,
    truncate,
    load_data,    // LOAD DATA / LOAD XML
    transaction,  // BEGIN, START TRANSACTION, COMMIT, ROLLBACK, SAVEPOINT, RELEASE SAVEPOINT, XA
    set,          // SET ... (TransactionControl says if it sets autocommit)
    ddl,          // statements with an implicit commit: ALTER, CREATE, DROP, LOCK TABLES, GRANT, ...
    call,         // CALL: a procedure may write anything; uniqgate cannot see inside
    other,        // USE, PREPARE, EXECUTE, KILL, ...
};

[[nodiscard]] const char* to_string(StatementKind kind) noexcept;

// Rules grouped by table: several rules (unique keys) may share one table.
struct RuleTable {
    config::TableName name;
    std::vector<std::size_t> rule_indexes;  // into RuleSet::rules()
};

struct Classification {
    StatementKind kind = StatementKind::other;
    TransactionControl transaction{};
    // Index into RuleSet::tables() of a rule table this statement may write, or -1.
    // Conservative: a multi-table UPDATE/DELETE naming a rule table anywhere in its
    // table references counts; analyse_write decides precisely.
    int rule_table = -1;

    [[nodiscard]] bool involves_rule() const noexcept { return rule_table >= 0; }
};

class RuleSet {
public:
    RuleSet() = default;
    explicit RuleSet(std::vector<config::Rule> rules);

    [[nodiscard]] Classification classify(std::string_view sql, const SessionContext& session) const noexcept;

    // Index into tables() of the rule table that `schema`.`table` names (schema may be
    // empty: the session's database), or -1. Names are SQL tokens (bare or backticked).
    [[nodiscard]] int find_table(const Token* schema, const Token& table, const SessionContext& session) const noexcept;

    [[nodiscard]] const std::vector<config::Rule>& rules() const noexcept { return rules_; }
    [[nodiscard]] const std::vector<RuleTable>& tables() const noexcept { return tables_; }

private:
    int table_after_insert(Lexer& lexer, const SessionContext& session) const noexcept;
    int table_in_references(Lexer& lexer, const SessionContext& session, bool stop_at_set) const noexcept;
    int table_after_keyword(Lexer& lexer, std::string_view keyword, const SessionContext& session) const noexcept;
    Classification classify_write(const Token& first, Lexer& lexer, const SessionContext& session) const noexcept;

    std::vector<config::Rule> rules_;
    std::vector<RuleTable> tables_;
};

// Equality of an identifier token (bare or `quoted` with doubled backticks) and a name,
// ASCII case-folded when fold_case (lower_case_table_names 1 or 2; column names always).
[[nodiscard]] bool identifier_equals(const Token& token, std::string_view name, bool fold_case) noexcept;

// The identifier's value: backticks removed and doubled backticks undone.
[[nodiscard]] std::string identifier_value(const Token& token);

}  // namespace uniqgate::rules
