// mode: serialize (and observe) for UPDATEs that write a key column or the
// soft-delete column: an un-delete or a rename must not make two live rows share
// a key. The rows the UPDATE will change are read (and locked) first, their new
// keys computed, locked and checked against every other live row.
#include "proxy/ControlPool.hpp"
#include "proxy/DedupSql.hpp"
#include "proxy/InternalQuery.hpp"
#include "proxy/MysqlErrors.hpp"
#include "proxy/Session.hpp"
#include "proxy/SqlText.hpp"
#include "rules/KeyIdentity.hpp"
#include "rules/Literal.hpp"

#include <spdlog/spdlog.h>

#include <map>

namespace uniqgate::proxy {

namespace {


// Where one rule's columns sit in the row the pre-read returns.
struct RuleColumns {
    const rules::RulePlan* rule = nullptr;
    std::size_t first_key = 0;  // then rule->key.size() key columns, then the live flag
};

// The key columns and the live flag of each rule, after the primary key in the pre-read.
// `string_columns`: for a prepared statement's binary rows (selected_as_text).
std::string rule_columns(const std::vector<RuleColumns>& layout, const rules::TableSchema& schema, bool no_backslash,
                         bool string_columns) {
    std::string out;
    for (const auto& columns : layout) {
        for (std::size_t k = 0; k < columns.rule->rule->key.size(); ++k) {
            const int column = columns.rule->key_columns[k];
            const auto type = column < 0 ? rules::ColumnType::other : schema.columns[static_cast<std::size_t>(column)].type;
            const std::string name = quote_identifier(columns.rule->rule->key[k]);
            out += ", " + (string_columns ? selected_as_text(name, type) : name);
        }
        const std::string live = "(" + live_condition(columns.rule->rule->soft_delete, no_backslash) + ")";
        out += ", " + (string_columns ? "CAST(" + live + " AS CHAR)" : live);
    }
    return out;
}

// One row's key after the UPDATE, for one rule.
struct NewKey {
    std::string condition;  // `k1` = <v1> AND ...
    std::string entry;      // as MySQL prints it in 1062
    std::string identity;   // for locks and for rows of the statement that collide
};

// The condition of a new key with every value bound, for an execute.
struct BoundKey {
    const rules::RulePlan* rule = nullptr;  // the rule's plan of the prepared statement's text
    std::uint32_t client_parameters = 0;    // own values are numbered after these
    std::vector<std::optional<std::string>>* own_values = nullptr;  // a row's old values go here
    std::string condition;                  // `k1` = ? AND ...
    std::vector<std::uint32_t> parameters;  // of `condition`, as own_execute takes them
};

std::optional<NewKey> new_key(const rules::RulePlan& rule, const protocol::TextRow& row, std::size_t first_key,
                              std::string_view sql, const rules::TableSchema& schema,
                              const rules::SessionContext& context, BoundKey* bound) {
    NewKey key;
    if (bound != nullptr) {
        bound->condition.clear();
        bound->parameters.clear();
    }
    std::string reason;
    for (std::size_t k = 0; k < rule.rule->key.size(); ++k) {
        const auto& assigned = rule.assigned_key_values[k];
        const auto& column = schema.columns[static_cast<std::size_t>(rule.key_columns[k])];
        rules::Literal literal;
        std::string text;
        if (assigned.kind == rules::ValueKind::not_assigned) {
            const auto& old_value = row[first_key + k];
            if (!old_value) return std::nullopt;  // NULL: never a duplicate
            literal = rules::Literal{rules::LiteralKind::string, *old_value, context.charset};
            text = quote_string(*old_value, context.no_backslash_escapes);
        } else if (assigned.kind == rules::ValueKind::literal || assigned.kind == rules::ValueKind::column_default) {
            // SET k = DEFAULT: the column's default, a constant (the analyser refuses the others).
            text = assigned.kind == rules::ValueKind::literal ? std::string(assigned.text.in(sql))
                                                             : column.default_value.literal;
            literal = rules::read_literal_text(text, context.lex_options());
            if (literal.kind == rules::LiteralKind::null) return std::nullopt;
        } else {
            return std::nullopt;  // NULL assigned; other kinds are refused by the analyser
        }
        if (k > 0) {
            key.condition += " AND ";
            key.entry += '-';
        }
        key.condition += quote_identifier(rule.rule->key[k]) + " = " + text;
        if (bound != nullptr) {
            // The client's own literals (and the column's default) stay; its parameters and the row's
            // old values are bound.
            const auto& prepared = bound->rule->assigned_key_values[k];
            const bool client_literal =
                prepared.kind == rules::ValueKind::literal || prepared.kind == rules::ValueKind::column_default;
            bound->condition += (k > 0 ? " AND " : "") + quote_identifier(rule.rule->key[k]) + " = " + (client_literal ? text : "?");
            if (prepared.kind == rules::ValueKind::parameter) {
                bound->parameters.push_back(prepared.parameter);
            } else if (!client_literal) {
                bound->parameters.push_back(static_cast<std::uint32_t>(bound->client_parameters + bound->own_values->size()));
                bound->own_values->push_back(row[first_key + k]);
            }
        }
        key.entry += entry_value(literal.value, column);
        if (!rules::append_key_identity(key.identity, literal, column, reason)) key.identity += "\x1e" + text;
    }
    return key;
}

bool stays_or_becomes_live(const rules::RulePlan& rule, const protocol::TextRow& row, std::size_t live_flag) {
    switch (rule.assigned_liveness) {
        case rules::Liveness::live: return true;
        case rules::Liveness::not_live: return false;
        default: return row[live_flag].value_or("0") == "1";
    }
}

}  // namespace

// The UPDATE ends with an error the client must see; a transaction the proxy
// opened for it is rolled back first.
asio::awaitable<bool> Session::refuse_key_change(bool own_transaction, std::uint16_t code,
                                                 std::string_view sql_state, const std::string& message) {
    if (own_transaction) {
        error_code ec;
        auto outcomes = co_await run_internal_query(backend_, backend_buffer_, client_caps_, "ROLLBACK", ec);
        if (ec || outcomes.empty()) co_return false;
        tracker_.set_status_flags(outcomes.back().ok.status_flags);
    }
    const bool sent = co_await send_error(code, sql_state, message);
    co_return sent;
}

// The checks of enforce_update: the rows read (and locked), their new keys locked and
// checked against every other live row. In the proxy's own transaction the key locks
// are only tried while the rows are locked: a writer holding a key may itself wait for
// one of these rows (behind a gap lock, say), a cycle across InnoDB's and the proxy's
// locks that neither can see. The rows are let go (ROLLBACK), the keys waited for, and
// the checks start over with the keys held; after kLockRounds the wait happens in place.
asio::awaitable<Session::KeyChange> Session::check_key_changes(const std::string& sql, const rules::WritePlan& plan,
                                                               const rules::TableSchema& schema, bool own_transaction,
                                                               int round) {
    static constexpr int kLockRounds = 4;
    const auto context = rule_context();
    error_code ec;
    if (own_transaction) {
        auto begun = co_await run_internal_query(backend_, backend_buffer_, client_caps_, "START TRANSACTION", ec);
        if (ec || begun.empty() || begun.front().is_error) co_return KeyChange::lost;
        tracker_.set_status_flags(begun.front().ok.status_flags);
    }
    std::vector<RuleColumns> layout;
    std::size_t next_column = schema.primary_key.size();
    for (const auto& rule : plan.rules) {
        if (!rule.actions.check_live) continue;
        layout.push_back({&rule, next_column});
        next_column += rule.rule->key.size() + 1;
    }
    // An execute's rows are read by a prepared statement of the proxy's own with the
    // client's values bound, and its new keys are checked with them bound too.
    const bool bound = pending_execute_ != nullptr && bound_execute_ && bound_execute_->plan().kind == plan.kind;
    std::vector<protocol::TextRow> rows;
    protocol::ErrPacket read_failure{};
    if (bound) {
        const auto& prepared = *bound_execute_;
        const std::string read = rows_to_change_query(
            prepared.sql, prepared.plan(), schema, rule_columns(layout, schema, context.no_backslash_escapes, true), true);
        const bool alive = co_await read_rows_bound(read, rows_to_change_parameters(prepared.plan(), prepared.placeholders),
                                                    rows, read_failure);
        if (!alive) co_return KeyChange::lost;
    } else {
        const std::string read =
            rows_to_change_query(sql, plan, schema, rule_columns(layout, schema, context.no_backslash_escapes, false));
        const bool alive = co_await read_rows(read, rows, read_failure);
        if (!alive) co_return KeyChange::lost;
    }
    if (read_failure.error_code == mysql_error::kLockDeadlock && own_transaction && round < kDeadlockRetries) {
        co_return KeyChange::deadlocked;  // InnoDB rolled the proxy's transaction back
    }
    if (read_failure.error_code != 0) {
        const auto& err = read_failure;
        const bool sent = co_await refuse_key_change(own_transaction, err.error_code, err.sql_state, err.message);
        co_return sent ? KeyChange::answered : KeyChange::lost;
    }
    std::vector<std::vector<std::optional<std::string>>> updated_keys;
    for (const auto& row : rows) updated_keys.emplace_back(row.begin(), row.begin() + schema.primary_key.size());

    for (const auto& columns : layout) {
        const auto& rule = *columns.rule;
        KeyCheck check{rule.rule, {}, updated_keys, {}};
        std::optional<BoundKey> bound_key;
        if (const rules::RulePlan* prepared = bound ? bound_rule_plan(rule) : nullptr; prepared != nullptr) {
            bound_key = BoundKey{prepared, static_cast<std::uint32_t>(bound_execute_->values.size()), &check.own_values,
                                 {}, {}};
        }
        std::vector<std::string> entries;
        std::vector<std::string> lock_names;
        std::map<std::string, std::size_t> seen;
        std::optional<std::string> collision;
        for (const auto& row : rows) {
            if (!stays_or_becomes_live(rule, row, columns.first_key + rule.rule->key.size())) continue;
            auto key = new_key(rule, row, columns.first_key, sql, schema, context, bound_key ? &*bound_key : nullptr);
            if (!key) continue;
            if (!seen.emplace(key->identity, check.conditions.size()).second) {
                collision = key->entry;  // two rows of this UPDATE end up with one live key
                break;
            }
            if (rule.actions.lock_keys) lock_names.push_back(rule.rule->name + '\x1f' + key->identity);
            check.conditions.push_back(std::move(key->condition));
            if (bound_key) {
                check.bound_conditions.push_back(bound_key->condition);
                check.bound_parameters.push_back(bound_key->parameters);
            }
            entries.push_back(std::move(key->entry));
        }
        if (!collision && !lock_names.empty()) {
            const bool holds_rows = own_transaction && round < kLockRounds;
            const LockError locked = co_await lock_keys(lock_names, holds_rows ? LockWait::no : LockWait::yes);
            if (locked == LockError::timeout && holds_rows) {
                auto rolled_back = co_await run_internal_query(backend_, backend_buffer_, client_caps_, "ROLLBACK", ec);
                if (ec || rolled_back.empty()) co_return KeyChange::lost;
                tracker_.set_status_flags(rolled_back.back().ok.status_flags);
                const LockError waited = co_await lock_keys(std::move(lock_names), LockWait::yes);
                if (waited == LockError::none) co_return KeyChange::start_over;
                const bool answered = co_await answer_lock_failure(waited, false);
                co_return answered ? KeyChange::answered : KeyChange::lost;
            }
            if (locked != LockError::none) {
                const bool answered = co_await answer_lock_failure(locked, own_transaction);
                co_return answered ? KeyChange::answered : KeyChange::lost;
            }
        }
        if (!collision && !check.conditions.empty()) {
            check.found.assign(check.conditions.size(), false);
            protocol::ErrPacket failure{};
            const bool alive = co_await find_live(check, plan, schema, failure);
            if (!alive) co_return KeyChange::lost;
            if (failure.error_code == mysql_error::kLockDeadlock && own_transaction && round < kDeadlockRetries) {
                co_return KeyChange::deadlocked;
            }
            if (failure.error_code != 0) {
                const bool sent =
                    co_await refuse_key_change(own_transaction, failure.error_code, failure.sql_state, failure.message);
                co_return sent ? KeyChange::answered : KeyChange::lost;
            }
            for (std::size_t i = 0; i < check.found.size() && !collision; ++i) {
                if (check.found[i]) collision = entries[i];
            }
        }
        if (!collision) continue;
        if (rule.actions.report_only) {
            context_.metrics.observed_duplicates.fetch_add(1, std::memory_order_relaxed);
            spdlog::warn("session {}: observe: UPDATE makes duplicate entry '{}' for key '{}' on {}.{} (not blocked)",
                         id_, *collision, rule.rule->name, plan.schema, plan.table);
            continue;
        }
        context_.metrics.duplicates_refused.fetch_add(1, std::memory_order_relaxed);
        const bool sent = co_await refuse_key_change(
            own_transaction, mysql_error::kDupEntry, mysql_error::kDupEntryState, "Duplicate entry '" + *collision + "' for key '" + rule.rule->name + "'");
        co_return sent ? KeyChange::answered : KeyChange::lost;
    }
    co_return KeyChange::go_on;
}

asio::awaitable<bool> Session::enforce_update(const std::string& sql, const rules::WritePlan& plan,
                                              const rules::TableSchema& schema) {
    // In autocommit the proxy opens a transaction of its own, so the rows it reads
    // stay locked until the UPDATE has run; a deadlock there runs it all again.
    const bool own_transaction = opens_own_transaction(tracker_.status_flags());
    for (int round = 0;; ++round) {
        const KeyChange change = co_await check_key_changes(sql, plan, schema, own_transaction, round);
        if (change == KeyChange::deadlocked) co_await back_off(round);
        if (change == KeyChange::start_over || change == KeyChange::deadlocked) continue;
        if (change != KeyChange::go_on) co_return change == KeyChange::answered;
        if (!own_transaction) {
            const bool sent = co_await send_client_write(sql);
            co_return sent;
        }
        // The UPDATE inside the proxy's transaction (an execute as the client sent it),
        // then COMMIT; the answer is the UPDATE's own OK (affected rows, info, warnings)
        // with the status after COMMIT.
        error_code ec;
        std::vector<StatementOutcome> updated;
        if (pending_execute_ != nullptr) {
            const auto client_write = co_await client_write_command();
            if (client_write.empty()) co_return false;
            pending_execute_sent_ = sends_clients_execute();
            updated.push_back(co_await run_internal_execute(backend_, backend_buffer_, client_caps_, client_write, ec));
        } else {
            updated = co_await run_internal_query(backend_, backend_buffer_, client_caps_, sql, ec);
        }
        if (ec || updated.empty()) co_return false;
        if (updated.front().is_error) {
            const auto err = updated.front().error;
            if (err.error_code == mysql_error::kLockDeadlock && round < kDeadlockRetries) {
                auto rolled_back = co_await run_internal_query(backend_, backend_buffer_, client_caps_, "ROLLBACK", ec);
                if (ec || rolled_back.empty()) co_return false;
                tracker_.set_status_flags(rolled_back.back().ok.status_flags);
                co_await back_off(round);
                continue;
            }
            const bool sent = co_await refuse_key_change(true, err.error_code, err.sql_state, err.message);
            co_return sent;
        }
        auto committed = co_await run_internal_query(backend_, backend_buffer_, client_caps_, "COMMIT", ec);
        if (ec || committed.empty()) co_return false;
        if (committed.front().is_error) {
            const auto err = committed.front().error;
            const bool sent = co_await send_error(err.error_code, err.sql_state, err.message);
            co_return sent;
        }
        tracker_.set_status_flags(committed.front().ok.status_flags);
        auto answer = updated.front().ok;
        answer.status_flags = committed.front().ok.status_flags;
        const bool sent = co_await answer_ok(answer);
        co_return sent;
    }
}

}  // namespace uniqgate::proxy
