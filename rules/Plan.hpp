#pragma once
// The plan for a write to a rule table, as data: what the statement writes (spans of
// its source text, so the proxy copies literals verbatim and never re-quotes client
// bytes), which keys each row carries, and what the session must do per rule. Built by
// analyse_write (Analyser.hpp); executed by the proxy; tested without a server.

#include "config/Config.hpp"
#include "rules/RuleSet.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace uniqgate::rules {

// A half-open byte range [begin, end) of the statement text.
struct Span {
    std::uint32_t begin = 0;
    std::uint32_t end = 0;

    [[nodiscard]] bool empty() const noexcept { return begin == end; }
    [[nodiscard]] std::string_view in(std::string_view sql) const noexcept { return sql.substr(begin, end - begin); }
    bool operator==(const Span&) const = default;
};

enum class ValueKind : std::uint8_t {
    not_assigned,    // UPDATE: SET leaves this column alone
    literal,         // `text` is a constant (string, number, hex, TRUE, ...) to copy verbatim
    parameter,       // `parameter` is the 0-based index of the `?` (prepared statements)
    null,            // NULL (written or implied by the column default)
    column_default,  // DEFAULT or an omitted column with a literal default: TableSchema has the literal
    expression,      // anything else; `text` is the expression
};

struct ValueRef {
    ValueKind kind = ValueKind::not_assigned;
    Span text{};
    std::uint32_t parameter = 0;
};

enum class KeyStatus : std::uint8_t {
    known,             // identity() is the lock identity
    has_null,          // a key column is NULL: a unique index never calls such a row a duplicate
    not_live,          // the row is inserted soft-deleted: it cannot be a duplicate
    needs_parameters,  // keys or liveness come from `?`: known after COM_STMT_EXECUTE binds them
    unknown,           // `reason` says why (also in RulePlan::unsupported)
};

enum class Liveness : std::uint8_t { unchanged, live, not_live, unknown, needs_parameters };

struct RowKey {
    KeyStatus status = KeyStatus::unknown;
    std::uint32_t identity_begin = 0;  // into RulePlan::identities
    std::uint32_t identity_end = 0;
    std::string reason{};
};

// What the session does for one rule, in order: read_old_keys, lock_keys, check_live,
// then the statement with the dedup-table changes in the same transaction.
struct Actions {
    bool read_old_keys = false;      // SELECT key columns FROM t WHERE <same where> ... FOR UPDATE
    bool lock_keys = false;          // serialize: per-key locks on the new live keys, sorted
    bool check_live = false;         // SELECT live rows with the new keys (locking read inside a transaction)
    bool insert_dedup_keys = false;  // dedup: INSERT the new live keys into the dedup table
    bool delete_dedup_keys = false;  // dedup: DELETE the old live keys of the affected rows
    bool clear_dedup_table = false;  // dedup: TRUNCATE on the source table
    bool report_only = false;        // observe: log and count, never block

    [[nodiscard]] bool any() const noexcept {
        return read_old_keys || lock_keys || check_live || insert_dedup_keys || delete_dedup_keys || clear_dedup_table;
    }
};

struct RulePlan {
    std::size_t rule_index = 0;
    const config::Rule* rule = nullptr;
    Actions actions{};
    std::string unsupported{};  // non-empty: quotable reason this statement cannot be checked for the rule

    std::vector<int> key_columns{};  // TableSchema column index per rule key column (-1: not in the schema)
    int soft_delete_column = -1;

    // INSERT / REPLACE: one RowKey per row; key_values holds rows x key columns.
    std::vector<RowKey> rows{};
    std::vector<ValueRef> key_values{};
    std::vector<ValueRef> soft_delete_values{};  // per row
    std::string identities{};

    // Single-table UPDATE: what SET writes (assigned_key_values has one entry per key column).
    bool writes_key = false;
    bool writes_soft_delete = false;
    std::vector<ValueRef> assigned_key_values{};
    Liveness assigned_liveness = Liveness::unchanged;

    [[nodiscard]] std::string_view identity(std::size_t row) const noexcept {
        return std::string_view(identities).substr(rows[row].identity_begin, rows[row].identity_end - rows[row].identity_begin);
    }
    [[nodiscard]] std::span<const ValueRef> row_key_values(std::size_t row) const noexcept {
        const std::size_t width = rule->key.size();
        return std::span<const ValueRef>(key_values).subspan(row * width, width);
    }
};

struct InsertShape {
    bool ignore = false;
    bool set_form = false;              // INSERT ... SET a = 1, b = 2 (one row, `rows[0]` is the list)
    Span column_list{};                   // "(a, b)" as written; empty when absent
    Span values{};                        // first row's '(' .. last row's ')' (or the SET list)
    std::vector<Span> rows{};             // each "(...)" (ROW(...) without the ROW word)
    Span row_alias{};                     // "AS new(a, b)"
    Span on_duplicate_key_update{};       // the assignments after ON DUPLICATE KEY UPDATE
    Span returning{};                     // MariaDB RETURNING list
};

struct FilterShape {
    bool multi_table = false;
    Span with_clause{};      // "WITH ... " before UPDATE / DELETE, needed by the SELECT the proxy builds
    Span table_reference{};  // "shop.product AS p" (single-table forms)
    Span set_list{};         // UPDATE: the assignments
    Span where{};            // the condition, without the WHERE word
    Span order_by{};         // without ORDER BY
    Span limit{};            // without LIMIT
};

struct WritePlan {
    StatementKind kind = StatementKind::other;
    int rule_table = -1;  // into RuleSet::tables()
    std::string schema{};   // resolved: the session's database when the statement names none
    std::string table{};
    Span table_name{};      // as written
    std::uint32_t parameter_count = 0;
    InsertShape insert{};
    FilterShape filter{};
    std::vector<RulePlan> rules{};  // one per rule on the table

    // True when some rule needs the session to act; false: relay the statement untouched.
    [[nodiscard]] bool needs_action() const noexcept {
        for (const RulePlan& rule : rules) {
            if (rule.actions.any() || !rule.unsupported.empty()) return true;
        }
        return false;
    }
    // The first rule's reason the statement cannot be checked, or empty.
    [[nodiscard]] std::string_view unsupported_reason() const noexcept {
        for (const RulePlan& rule : rules) {
            if (!rule.unsupported.empty()) return rule.unsupported;
        }
        return {};
    }
};

}  // namespace uniqgate::rules
