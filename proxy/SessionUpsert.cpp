// on_duplicate: update — INSERT ... ON DUPLICATE KEY UPDATE over live rows:
// rows whose key is live update that row instead (every inserted column but the
// primary key, the key columns and the soft-delete column), with MySQL's affected
// rows (1 per insert, 2 per changed row, 0 — or 1 with CLIENT_FOUND_ROWS — per
// unchanged one). All of it is one unit: a transaction of the proxy's own in
// autocommit, a savepoint inside the client's transaction.
#include "proxy/DedupSql.hpp"
#include "proxy/InternalQuery.hpp"
#include "proxy/MysqlErrors.hpp"
#include "proxy/Session.hpp"
#include "proxy/SqlText.hpp"

#include "rules/Lexer.hpp"
#include "rules/RuleSet.hpp"

#include <algorithm>
#include <optional>

namespace uniqgate::proxy {

namespace {

constexpr std::string_view kSavepoint = kWriteSavepoint;

// "Rows matched: 1  Changed: 1  Warnings: 0" -> 1
std::uint64_t changed_rows(const std::string& info) {
    const auto at = info.find("Changed: ");
    if (at == std::string::npos) return 0;
    return std::strtoull(info.c_str() + at + 9, nullptr, 10);
}

bool is_rule_column(const rules::RulePlan& rule, const rules::TableSchema& schema, int column) {
    const auto& name = schema.columns[static_cast<std::size_t>(column)].name;
    const auto& pk = schema.primary_key;
    if (std::find(pk.begin(), pk.end(), name) != pk.end()) return true;
    if (column == rule.soft_delete_column) return true;
    return std::find(rule.key_columns.begin(), rule.key_columns.end(), column) != rule.key_columns.end();
}

}  // namespace

// The UPDATE that takes the place of inserting `row`, or empty if it would set nothing.
// With `parameters`, `sql` and `plan` are the execute's prepared statement (bound_execute_)
// and its `?` stay, their indexes in `parameters`.
std::string Session::upsert_update(const std::string& sql, const rules::WritePlan& plan,
                                   const rules::TableSchema& schema, const rules::RulePlan& rule, std::size_t row,
                                   bool& malformed, std::vector<std::uint32_t>* parameters) const {
    const auto context = rule_context();
    const auto values =
        split_row_values(plan.insert.rows[row].in(sql), plan.insert.set_form, context.lex_options());
    const auto columns = insert_value_columns(sql, plan.insert, schema, context.lex_options());
    malformed = values.size() != columns.size();
    if (malformed) return {};
    std::string assignments;
    for (std::size_t i = 0; i < values.size(); ++i) {
        const int column = columns[i];
        if (column < 0 || is_rule_column(rule, schema, column)) continue;
        if (!assignments.empty()) assignments += ", ";
        assignments += quote_identifier(schema.columns[static_cast<std::size_t>(column)].name) + " = " +
                       std::string(values[i]);
        if (parameters != nullptr && bound_execute_) {
            const auto begin = static_cast<std::uint32_t>(values[i].data() - sql.data());
            append_parameters_within(bound_execute_->placeholders,
                                     {begin, begin + static_cast<std::uint32_t>(values[i].size())}, *parameters);
        }
    }
    if (assignments.empty()) return {};
    return "UPDATE " + quote_table(plan.schema, plan.table) + " SET " + assignments + " WHERE " +
           live_condition(rule.rule->soft_delete, context.no_backslash_escapes) + " AND " +
           key_equals(rule, row, sql, schema, parameters);
}

// Runs `step` on the session's backend connection. Returns false when the connection
// failed; the server's answer (an error too) lands in `outcome`.
asio::awaitable<bool> Session::run_own_step(const OwnStep& step, StatementOutcome& outcome) {
    error_code ec;
    if (!step.parameters) {
        auto outcomes = co_await run_internal_query(backend_, backend_buffer_, client_caps_, step.sql, ec);
        if (ec || outcomes.empty()) co_return false;
        outcome = std::move(outcomes.front());
        co_return true;
    }
    std::uint32_t id = 0;
    protocol::ErrPacket refused{};
    const bool alive = co_await own_statement(step.sql, step.parameters->size(), id, refused);
    if (!alive) co_return false;
    if (refused.error_code != 0) {
        outcome.is_error = true;
        outcome.error = refused;
        co_return true;
    }
    const auto payload = own_execute(id, *step.parameters);
    if (payload.empty()) co_return false;
    outcome = co_await run_internal_execute(backend_, backend_buffer_, client_caps_, payload, ec);
    co_return !ec;
}

asio::awaitable<bool> Session::run_upsert(const std::string& sql, const rules::WritePlan& plan,
                                          const rules::TableSchema& schema, const std::vector<bool>& drop,
                                          const std::vector<const rules::RulePlan*>& update_rule, bool begun,
                                          const std::vector<OwnStep>& after) {
    const auto status = tracker_.status_flags();
    const bool own_transaction = opens_own_transaction(status);
    const std::string begin = begin_statement(own_transaction);
    const std::string undo = own_transaction ? "ROLLBACK"
                                             : "ROLLBACK TO SAVEPOINT " + std::string(kSavepoint) +
                                                   "; RELEASE SAVEPOINT " + std::string(kSavepoint);
    const std::string finish = own_transaction ? "COMMIT" : "RELEASE SAVEPOINT " + std::string(kSavepoint);

    // An execute whose values can be bound: all its rows going in is the client's own
    // execute (client_write_command); its UPDATEs bind the values too.
    const bool bound = execute_bindable() &&
                       bound_execute_->plan().insert.rows.size() == plan.insert.rows.size();
    const bool inserts_all = std::find(drop.begin(), drop.end(), true) == drop.end();
    std::vector<OwnStep> steps;
    std::optional<std::size_t> client_execute_step;
    if (std::find(drop.begin(), drop.end(), false) != drop.end()) {
        if (bound && inserts_all) client_execute_step = steps.size();
        if (bound && !inserts_all) {
            steps.push_back(kept_rows_bound(drop));
        } else {
            steps.push_back({rebuild_without_rows(sql, plan.insert, drop)});
        }
    }
    std::vector<bool> step_is_update(steps.size(), false);
    for (std::size_t row = 0; row < update_rule.size(); ++row) {
        if (update_rule[row] == nullptr) continue;
        bool malformed = false;
        const rules::RulePlan* bound_rule = bound ? bound_rule_plan(*update_rule[row]) : nullptr;
        if (bound_rule != nullptr) {
            std::vector<std::uint32_t> parameters;
            auto update = upsert_update(bound_execute_->sql, bound_execute_->plan(), schema, *bound_rule, row, malformed,
                                        &parameters);
            if (!malformed) {
                steps.push_back({std::move(update), std::move(parameters)});
                step_is_update.push_back(true);
                continue;
            }
        }
        auto update = upsert_update(sql, plan, schema, *update_rule[row], row, malformed);
        if (malformed) {
            const bool sent = co_await send_error(mysql_error::kNotSupportedYet, mysql_error::kNotSupportedYetState,
                                                  "uniqgate: on_duplicate: update cannot read the values of row " +
                                                      std::to_string(row + 1) + " (rule '" +
                                                      update_rule[row]->rule->name + "')");
            co_return sent;
        }
        steps.push_back({std::move(update)});  // empty: the row would change nothing
        step_is_update.push_back(true);
    }
    const std::size_t counted_steps = steps.size();
    steps.insert(steps.end(), after.begin(), after.end());

    error_code ec;
    if (!begun) {
        auto started = co_await run_internal_query(backend_, backend_buffer_, client_caps_, begin, ec);
        if (ec || started.empty() || started.front().is_error) co_return false;
    }
    protocol::OkPacket answer;
    const bool found_rows = (client_caps_ & protocol::cap::found_rows) != 0;
    for (std::size_t i = 0; i < steps.size(); ++i) {
        if (steps[i].sql.empty()) {
            answer.affected_rows += found_rows ? 1 : 0;
            continue;
        }
        StatementOutcome outcome;
        if (client_execute_step == i) {
            const auto client_write = co_await client_write_command();
            if (client_write.empty()) co_return false;
            pending_execute_sent_ = sends_clients_execute();
            outcome = co_await run_internal_execute(backend_, backend_buffer_, client_caps_, client_write, ec);
            if (ec) co_return false;
        } else {
            const bool alive = co_await run_own_step(steps[i], outcome);
            if (!alive) co_return false;
        }
        if (outcome.is_error) {
            const auto err = outcome.error;
            auto undone = co_await run_statements(undo, ec);
            if (ec || undone.empty()) co_return false;
            tracker_.set_status_flags(undone.back().ok.status_flags);
            if (begun && own_transaction && err.error_code == mysql_error::kLockDeadlock) {
                deadlock_to_retry_ = true;  // the caller runs its own statements again
                co_return true;
            }
            const bool sent = co_await send_error(err.error_code, err.sql_state, err.message);
            co_return sent;
        }
        if (i >= counted_steps) continue;
        const auto& ok = outcome.ok;
        answer.warnings = static_cast<std::uint16_t>(answer.warnings + ok.warnings);
        if (!step_is_update[i]) {
            answer.affected_rows += ok.affected_rows;
            answer.last_insert_id = ok.last_insert_id;
        } else if (changed_rows(ok.info) > 0) {
            answer.affected_rows += 2;
        } else {
            answer.affected_rows += found_rows ? 1 : 0;
        }
    }
    auto finished = co_await run_internal_query(backend_, backend_buffer_, client_caps_, finish, ec);
    if (ec || finished.empty() || finished.front().is_error) co_return false;
    answer.status_flags = finished.back().ok.status_flags;
    tracker_.set_status_flags(answer.status_flags);
    const bool sent = co_await answer_ok(answer);
    co_return sent;
}

}  // namespace uniqgate::proxy
