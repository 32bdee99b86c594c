// mode: dedup. Every write that changes the set of live keys of a rule table
// changes the rule's dedup table (the key as PRIMARY KEY) in the same
// transaction, so the database's own unique index decides — for any number of
// sessions and proxies (see ../shared/DESIGN.md, "mode: dedup").
//
// Each write is sent as one multi-statement (the server stops at the first
// error): START TRANSACTION in autocommit, a SAVEPOINT inside the client's own
// transaction, then the dedup-table changes and the client's statement.
#include "proxy/DedupSql.hpp"
#include "proxy/InternalQuery.hpp"
#include "proxy/MysqlErrors.hpp"
#include "proxy/Session.hpp"
#include "proxy/SqlText.hpp"
#include "rules/StatementSplitter.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <random>

namespace uniqgate::proxy {

namespace {

// The client's OK for the statement the proxy wrapped, with the status the
// server reported after the last wrapped statement (COMMIT, say).
protocol::OkPacket answer_for(protocol::OkPacket ok, std::uint16_t final_status) {
    ok.status_flags = static_cast<std::uint16_t>(final_status & ~protocol::status::more_results_exists);
    if (ok.session_state_changes.empty()) {
        ok.status_flags = static_cast<std::uint16_t>(ok.status_flags & ~protocol::status::session_state_changed);
    } else {
        ok.status_flags = static_cast<std::uint16_t>(ok.status_flags | protocol::status::session_state_changed);
    }
    return ok;
}

}  // namespace

// Before running a deadlocked write again: a short random pause, growing with the
// attempts, so that the transactions that collided do not meet again in step.
asio::awaitable<void> Session::back_off(int attempt) {
    static thread_local std::minstd_rand random(static_cast<unsigned>(id_));
    const int ceiling_us = 500 << std::min(attempt, 5);
    asio::steady_timer timer(backend_.socket().get_executor());
    timer.expires_after(std::chrono::microseconds(random() % static_cast<unsigned>(ceiling_us)));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

bool Session::client_enabled_multi_statements() const noexcept {
    return client_multi_statements_.value_or((client_caps_ & protocol::cap::multi_statements) != 0);
}

asio::awaitable<std::vector<StatementOutcome>> Session::run_statements(std::string_view sql, error_code& ec,
                                                                      bool keep_result_sets) {
    protocol::Capabilities caps = client_caps_ & ~protocol::cap::multi_statements;
    if (client_enabled_multi_statements()) caps |= protocol::cap::multi_statements;
    auto outcomes = co_await run_internal_statements(backend_, backend_buffer_, caps, sql, multi_statements_switched_on_,
                                                     ec, keep_result_sets);
    co_return outcomes;
}

asio::awaitable<bool> Session::keep_client_query_single(std::string_view sql) {
    if (!multi_statements_switched_on_ || sql.find(';') == std::string_view::npos) co_return true;
    if (!has_statement_separator(sql, rule_context().lex_options())) co_return true;
    error_code ec;
    co_await switch_multi_statements_off(backend_, backend_buffer_, multi_statements_switched_on_, ec);
    co_return !ec;
}

// The client's statement up to its last token (no trailing ';' or comment), to
// embed in a multi-statement; the plan's spans stay valid in it.
std::string Session::statement_text(const std::string& sql) const {
    if (sql.find(';') == std::string::npos) return sql;  // a trailing comment ends at the "\n;" that follows
    const auto split = rules::split_statements(sql, rule_context().lex_options());
    if (split.statements.size() != 1) return sql;
    const auto& statement = split.statements.front();
    return sql.substr(0, static_cast<std::size_t>(statement.data() - sql.data()) + statement.size());
}

// After an error the server may have ended the transaction (a deadlock rolls it
// back) without an OK to say so; the proxy must know before it chooses between a
// transaction of its own and a savepoint.
asio::awaitable<bool> Session::refresh_status_if_uncertain() {
    if (!(tracker_.status_flags() & protocol::status::in_trans) || !tracker_.ended_with_error()) co_return true;
    error_code ec;
    auto outcomes = co_await run_internal_query(backend_, backend_buffer_, client_caps_, "DO 0", ec);
    if (ec || outcomes.empty()) co_return false;
    if (!outcomes.front().is_error) tracker_.set_status_flags(outcomes.front().ok.status_flags);
    co_return true;
}

// Undoes a wrapped write that failed: the proxy's own transaction is rolled back;
// in the client's transaction the savepoint is (when the client's statement
// itself failed after the proxy's changes). Learns the status flags either way.
asio::awaitable<bool> Session::undo_wrapped_write(bool own_transaction, bool to_savepoint) {
    std::string undo = "DO 0";
    if (own_transaction) undo = "ROLLBACK";
    if (!own_transaction && to_savepoint) undo = "ROLLBACK TO SAVEPOINT " + std::string(kWriteSavepoint);
    error_code ec;
    auto outcomes = co_await run_internal_query(backend_, backend_buffer_, client_caps_, undo, ec);
    if (ec || outcomes.empty()) co_return false;
    if (outcomes.front().is_error) {  // the savepoint went with a rolled-back transaction
        outcomes = co_await run_internal_query(backend_, backend_buffer_, client_caps_, "DO 0", ec);
        if (ec || outcomes.empty()) co_return false;
        // What is open now is the READ ONLY transaction a guard left (guarded_dedup_write).
        if (!outcomes.front().is_error && (outcomes.front().ok.status_flags & protocol::status::in_trans_readonly)) {
            outcomes = co_await run_internal_query(backend_, backend_buffer_, client_caps_, "ROLLBACK", ec);
            if (ec || outcomes.empty()) co_return false;
        }
    }
    if (!outcomes.front().is_error) tracker_.set_status_flags(outcomes.front().ok.status_flags);
    co_return true;
}

// Undoes a failed wrapped write (see undo_wrapped_write) and answers the client `error`.
asio::awaitable<bool> Session::undo_and_answer(bool own_transaction, bool to_savepoint,
                                               const protocol::ErrPacket& error) {
    const bool undone = co_await undo_wrapped_write(own_transaction, to_savepoint);
    if (!undone) co_return false;
    const bool sent = co_await send_error(error.error_code, error.sql_state, error.message);
    co_return sent;
}

// Undoes a pipelined write (guarded steps, the client's write at `client_step`, then in
// the proxy's own transaction usually a last step that commits or rolls back) whose
// first failed step is `failed_step`. The proxy's own transaction was rolled back by
// that last step, unless it is what failed or there is none (after an INSERT ...
// RETURNING); in the client's, the savepoint is rolled back to, or the READ ONLY
// transaction a guard left (the error had ended the client's) rolled back.
asio::awaitable<bool> Session::undo_pipelined_write(const std::vector<StatementOutcome>& outcomes,
                                                    std::size_t failed_step, std::size_t client_step,
                                                    bool own_transaction) {
    const bool guard_replaced_transaction =
        !own_transaction && outcomes[client_step].is_error &&
        outcomes[client_step].error.error_code == mysql_error::kReadOnlyTransaction && failed_step < client_step;
    const bool last_step_ended_it = outcomes.size() > client_step + 1 && failed_step + 1 < outcomes.size();
    if (own_transaction && last_step_ended_it) {
        tracker_.set_status_flags(outcomes.back().ok.status_flags);
        co_return true;
    }
    const bool undone = co_await undo_wrapped_write(own_transaction || guard_replaced_transaction, true);
    co_return undone;
}

// Runs a pipeline whose steps before `client_step` are the proxy's guarded writes. A
// failed guard leaves a READ ONLY transaction in place of the proxy's own, and the steps
// after it fail; it cannot replace the client's transaction. There the steps from
// `client_step` on are sent only once those before went through (a second round trip):
// a refused write must not run at all (it would move LAST_INSERT_ID(), use up an
// auto-increment value, fire triggers, keep row locks), even if the savepoint undoes it.
// A step not sent has the failed step's outcome.
asio::awaitable<std::vector<StatementOutcome>> Session::run_guarded_pipeline(const std::vector<protocol::Bytes>& commands,
                                                                           std::size_t client_step,
                                                                           bool own_transaction, error_code& ec,
                                                                           std::size_t kept_step) {
    if (own_transaction || client_step == 0 || client_step >= commands.size()) {
        auto outcomes =
            co_await run_internal_pipeline(backend_, backend_buffer_, client_caps_, commands, ec, kept_step);
        co_return outcomes;
    }
    const std::vector<protocol::Bytes> guards(commands.begin(), commands.begin() + static_cast<std::ptrdiff_t>(client_step));
    auto outcomes = co_await run_internal_pipeline(backend_, backend_buffer_, client_caps_, guards, ec);
    if (ec || outcomes.size() != guards.size()) co_return outcomes;
    const std::size_t failed = first_failed(outcomes);
    if (failed < outcomes.size()) {
        pending_execute_sent_ = false;
        const StatementOutcome not_sent = outcomes[failed];
        outcomes.resize(commands.size(), not_sent);
        co_return outcomes;
    }
    const std::vector<protocol::Bytes> rest(commands.begin() + static_cast<std::ptrdiff_t>(client_step), commands.end());
    const std::size_t kept_in_rest = kept_step == kNoKeptStep ? kNoKeptStep : kept_step - client_step;
    auto tail = co_await run_internal_pipeline(backend_, backend_buffer_, client_caps_, rest, ec, kept_in_rest);
    for (auto& outcome : tail) outcomes.push_back(std::move(outcome));
    co_return outcomes;
}

// A wrapped write of an upsert failed with `error`: its savepoint (or the proxy's own
// transaction) is undone; a deadlock in the proxy's own transaction sets
// deadlock_to_retry_ for the caller to run it again, anything else is answered.
asio::awaitable<bool> Session::undo_for_retry_or_answer(bool own_transaction, const protocol::ErrPacket& error) {
    const bool undone = co_await undo_wrapped_write(own_transaction, true);
    if (!undone) co_return false;
    if (own_transaction && error.error_code == mysql_error::kLockDeadlock) {
        deadlock_to_retry_ = true;
        co_return true;
    }
    const bool sent = co_await send_error(error.error_code, error.sql_state, error.message);
    co_return sent;
}

// The end of a pipelined write whose first failed step is `failed_step`: undone
// (undo_pipelined_write); a deadlock in the proxy's own transaction asks for another
// attempt, after a back-off; anything else is answered, a 1062 from `dedup_rule`'s step
// as the rule's.
asio::awaitable<Session::WrappedResult> Session::settle_pipelined_failure(
    const std::vector<StatementOutcome>& outcomes, std::size_t failed_step, std::size_t client_step,
    bool own_transaction, int attempt, const config::Rule* dedup_rule) {
    const auto error = outcomes[failed_step].error;
    const bool undone = co_await undo_pipelined_write(outcomes, failed_step, client_step, own_transaction);
    if (!undone) co_return WrappedResult::lost;
    if (own_transaction && error.error_code == mysql_error::kLockDeadlock && attempt < kDeadlockRetries) {
        spdlog::debug("session {}: a pipelined write deadlocked (attempt {}); retrying", id_, attempt + 1);
        co_await back_off(attempt);
        co_return WrappedResult::retry;
    }
    const bool sent = co_await answer_wrapped_failure(error, dedup_rule);
    co_return sent ? WrappedResult::answered : WrappedResult::lost;
}

// Runs a wrapped write and answers the client: the client statement's own OK, or
// the failure (after undoing the proxy's part: the whole transaction it opened, or
// its savepoint when the failing step is `savepoint_from_step` or later). A deadlock
// in the proxy's own transaction asks the caller to run its statements again.
asio::awaitable<Session::WrappedResult> Session::finish_wrapped_write(
    const std::vector<std::string>& statements, std::size_t client_step, std::size_t savepoint_from_step,
    bool own_transaction, int attempt, const std::vector<const config::Rule*>& dedup_rule_of_step) {
    error_code ec;
    const std::string wrapped = join_statements(statements);
    auto outcomes = co_await run_statements(wrapped, ec, true);  // the client's INSERT ... RETURNING has rows
    if (ec || outcomes.empty()) co_return WrappedResult::lost;
    if (!outcomes.back().is_error) {
        if (outcomes.size() != statements.size()) co_return WrappedResult::lost;
        const auto& client_outcome = outcomes[client_step];
        const std::uint16_t final_status = outcomes.back().ok.status_flags;
        bool sent = false;
        if (client_outcome.result_packets.empty()) {
            sent = co_await send_wrapped_ok(client_outcome.ok, final_status);
        } else {
            sent = co_await send_wrapped_result(client_outcome, final_status);
        }
        co_return sent ? WrappedResult::answered : WrappedResult::lost;
    }
    const std::size_t failed_step = outcomes.size() - 1;
    const auto error = outcomes.back().error;
    const bool undone = co_await undo_wrapped_write(own_transaction, failed_step >= savepoint_from_step);
    if (!undone) co_return WrappedResult::lost;
    if (own_transaction && error.error_code == mysql_error::kLockDeadlock && attempt < kDeadlockRetries) {
        spdlog::debug("session {}: a wrapped write deadlocked (attempt {}); retrying", id_, attempt + 1);
        co_await back_off(attempt);
        co_return WrappedResult::retry;
    }
    const config::Rule* dedup_rule = failed_step < dedup_rule_of_step.size() ? dedup_rule_of_step[failed_step] : nullptr;
    const bool sent = co_await answer_wrapped_failure(error, dedup_rule);
    co_return sent ? WrappedResult::answered : WrappedResult::lost;
}

// Answers a wrapped write that went through with the client statement's own OK.
asio::awaitable<bool> Session::send_wrapped_ok(const protocol::OkPacket& client_ok, std::uint16_t final_status) {
    const auto answer = answer_for(client_ok, final_status);
    tracker_.set_status_flags(answer.status_flags);
    const bool sent = co_await answer_ok(answer);
    co_return sent;
}

// Answers a wrapped write that went through with the client statement's own result
// set (INSERT ... RETURNING): its packets as the server sent them, the terminator
// carrying the status after the last wrapped statement.
asio::awaitable<bool> Session::send_wrapped_result(const StatementOutcome& client_step, std::uint16_t final_status) {
    protocol::Bytes framed;
    std::uint8_t sequence_id = 1;
    for (const auto& payload : client_step.result_packets) protocol::append_packet(framed, payload, sequence_id);
    const auto status = answer_for(client_step.ok, final_status).status_flags;
    if (client_caps_ & protocol::cap::deprecate_eof) {
        auto terminator = client_step.ok;
        terminator.header = protocol::header::eof;
        terminator.status_flags = status;
        protocol::append_packet(framed, protocol::encode_ok(terminator, client_caps_), sequence_id);
    } else {
        protocol::append_packet(framed, protocol::encode_eof({client_step.ok.warnings, status}), sequence_id);
    }
    tracker_.set_status_flags(status);
    error_code ec;
    co_await client_.write_all(asio::buffer(framed), ec);
    co_return !ec;
}

// Answers a bound INSERT ... RETURNING that went through with its rows, in autocommit
// once its transaction is committed (a COMMIT that fails is the answer then).
asio::awaitable<bool> Session::answer_returned_rows(const StatementOutcome& client_step, bool own_transaction) {
    if (!own_transaction) {
        const bool sent = co_await send_wrapped_result(client_step, client_step.ok.status_flags);
        co_return sent;
    }
    error_code ec;
    const auto committed = co_await run_internal_query(backend_, backend_buffer_, client_caps_, "COMMIT", ec);
    if (ec || committed.empty()) co_return false;
    if (committed.front().is_error) {
        const bool sent = co_await undo_and_answer(true, false, committed.front().error);
        co_return sent;
    }
    const bool sent = co_await send_wrapped_result(client_step, committed.front().ok.status_flags);
    co_return sent;
}

// Answers a failed wrapped write: a duplicate in a dedup table is the rule's 1062.
asio::awaitable<bool> Session::answer_wrapped_failure(const protocol::ErrPacket& error, const config::Rule* dedup_rule) {
    if (dedup_rule != nullptr && error.error_code == mysql_error::kDupEntry) {
        context_.metrics.duplicates_refused.fetch_add(1, std::memory_order_relaxed);
        const std::string message = rename_duplicate_key(error.message, dedup_rule->name);
        const bool sent = co_await send_error(error.error_code, error.sql_state, message);
        co_return sent;
    }
    const bool sent = co_await send_error(error.error_code, error.sql_state, error.message);
    co_return sent;
}

asio::awaitable<bool> Session::enforce_dedup_insert(const std::string& sql, const rules::WritePlan& plan,
                                                    const rules::TableSchema& schema) {
    const bool refreshed = co_await refresh_status_if_uncertain();
    if (!refreshed) co_return false;
    for (const auto& rule : plan.rules) {
        if (rule.actions.insert_dedup_keys &&
            (rule.rule->on_duplicate != config::OnDuplicate::error || plan.insert.ignore ||
             !plan.insert.on_duplicate_key_update.empty())) {
            const bool done = co_await claim_dedup_keys_row_by_row(sql, plan, schema, rule);
            co_return done;
        }
    }
    if (fits_bound_dedup_insert(plan)) {
        const auto bound = co_await enforce_dedup_insert_bound(plan, schema);
        if (bound != BoundWrite::not_taken) co_return bound == BoundWrite::answered;
    }
    if (pending_execute_ != nullptr && !plan.insert.returning.empty()) {
        // As text, its rows would come back in the text protocol, not the binary one the
        // client's execute expects.
        const bool sent = co_await send_error(
            mysql_error::kNotSupportedYet, mysql_error::kNotSupportedYetState,
            "uniqgate: this prepared INSERT ... RETURNING into table '" + plan.table +
                "' cannot be checked with its values bound (a key that is an expression, or a session whose server "
                "refuses BEGIN NOT ATOMIC); send it as text");
        co_return sent;
    }
    const std::string statement = statement_text(sql);
    for (int attempt = 0;; ++attempt) {
        const bool own_transaction = opens_own_transaction(tracker_.status_flags());
        std::vector<std::string> statements{begin_statement(own_transaction)};
        std::vector<const config::Rule*> dedup_rule_of_step{nullptr};
        for (const auto& rule : plan.rules) {
            if (!rule.actions.insert_dedup_keys) continue;
            const auto table = dedup_table_sql(*rule.rule, plan.schema);
            auto insert = dedup_insert_values(rule, table, rows_in_key_order(rule), sql, schema, false);
            if (insert.empty()) continue;
            statements.push_back(std::move(insert));
            dedup_rule_of_step.push_back(rule.rule);
        }
        const std::size_t client_step = statements.size();
        statements.push_back(statement);
        if (own_transaction) statements.emplace_back("COMMIT");
        dedup_rule_of_step.resize(statements.size(), nullptr);

        const auto result = co_await finish_wrapped_write(statements, client_step, client_step, own_transaction,
                                                          attempt, dedup_rule_of_step);
        if (result == WrappedResult::retry) continue;
        co_return result == WrappedResult::answered;
    }
}

// Whether a COM_STMT_EXECUTE of an INSERT can take enforce_dedup_insert_bound: every
// dedup rule answers a duplicate with 1062, the client asks for no IGNORE or ODKU, and
// each key value is a parameter, a literal or a column default.
bool Session::fits_bound_dedup_insert(const rules::WritePlan& plan) const {
    if (!execute_bindable() || blocks_unavailable_ || plan.insert.ignore ||
        !plan.insert.on_duplicate_key_update.empty()) {
        return false;
    }
    for (const auto& rule : plan.rules) {
        if (!rule.actions.insert_dedup_keys) continue;
        if (bindable_keys(rule) == nullptr || rule.rule->on_duplicate != config::OnDuplicate::error) return false;
    }
    return true;
}

// A prepared INSERT in mode dedup with nothing written into SQL text: the dedup-table
// insert is a statement of the proxy's own with the client's values bound. A lone
// autocommit row whose OK the proxy can read back exactly (fits_one_block) goes in one
// command: one block of the proxy's holding the dedup inserts and the client's INSERT
// (claim_and_write_in_one_block). Otherwise the row goes in by the client's own
// COM_STMT_EXECUTE (the server's own OK: affected rows, insert id, warnings):
//   autocommit:           in one round trip, the guarded dedup insert (opening the
//                         transaction), the execute, COMMIT unless the execute failed
//                         (kCommitUnlessLastFailed); for a hot key, the dedup insert
//                         alone first
//   client's transaction: the guarded dedup insert (setting the savepoint), then, when
//                         it went in, the execute (run_guarded_pipeline)
// The dedup rows still go first, in key order. A pipeline does not stop at an error,
// so the dedup insert is guarded (guarded_dedup_write): if it fails, the execute fails
// too (its transaction is READ ONLY) and nothing is committed. After a failure in the
// client's transaction the savepoint is rolled back to. An INSERT ...
// RETURNING leaves ROW_COUNT() at -1 even when it succeeds, so in autocommit its COMMIT
// (or ROLLBACK) follows in a second round trip, chosen by the proxy from its answer.
asio::awaitable<Session::BoundWrite> Session::enforce_dedup_insert_bound(const rules::WritePlan& plan,
                                                                         const rules::TableSchema& schema) {
    std::vector<DedupClaim> claims;
    for (const auto& rule : plan.rules) {
        if (!rule.actions.insert_dedup_keys) continue;
        const auto rows = rows_in_key_order(rule);
        if (rows.empty()) continue;
        DedupClaim& claim = claims.emplace_back();
        claim.insert = dedup_insert_values(*bound_rule_plan(rule), dedup_table_sql(*rule.rule, plan.schema), rows,
                                           bound_execute_->sql, schema, false, &claim.parameters);
        claim.rule = rule.rule;
    }
    if (claims.empty()) {  // every row is inserted deleted (or has a NULL in its key): nothing to claim
        const std::string unused_text;  // the execute itself is sent
        const bool sent = co_await send_client_write(unused_text);
        co_return sent ? BoundWrite::answered : BoundWrite::lost;
    }
    PreparedWrite* write = bound_execute_->write;
    const bool returns_rows = !plan.insert.returning.empty();
    for (int attempt = 0;; ++attempt) {
        const bool own_transaction = opens_own_transaction(tracker_.status_flags());
        if (own_transaction && !returns_rows && fits_one_block(schema, claims.size())) {
            const auto result = co_await claim_and_write_in_one_block(claims, schema, attempt);
            if (!result) co_return BoundWrite::not_taken;
            if (*result == WrappedResult::retry) continue;
            co_return *result == WrappedResult::answered ? BoundWrite::answered : BoundWrite::lost;
        }
        // Most of this statement's recent executes repeated a live key (a hot key): the key
        // insert goes alone first, and a duplicate costs one command, not three.
        const bool claim_first = own_transaction && claims.size() == 1 && write != nullptr &&
                                 write->recent_duplicates >= kClaimFirstAbove;
        const bool room = co_await make_room_for_own_statements(plan.rules.size() + 1);  // key inserts, commit
        if (!room) co_return BoundWrite::lost;
        std::vector<protocol::Bytes> commands;
        std::vector<const config::Rule*> dedup_rule_of_step;
        for (const auto& claim : claims) {
            // Named, not a temporary in the co_await expression (GCC 12, docs/DEVELOPING.md).
            const std::string guarded = claim_first ? dedup_write_alone(claim.insert)
                                                    : guarded_dedup_write(claim.insert, own_transaction, commands.empty());
            protocol::Bytes execute;
            const OwnBlock block = co_await own_block_execute(guarded, claim.parameters, execute);
            if (block != OwnBlock::ready) co_return block == OwnBlock::lost ? BoundWrite::lost : BoundWrite::not_taken;
            commands.push_back(std::move(execute));
            dedup_rule_of_step.push_back(claim.rule);
        }
        error_code ec;
        if (claim_first) {
            const auto claimed = co_await run_internal_pipeline(backend_, backend_buffer_, client_caps_, commands, ec);
            if (ec || claimed.size() != commands.size()) co_return BoundWrite::lost;
            const bool duplicate = claimed.front().is_error && claimed.front().error.error_code == mysql_error::kDupEntry;
            write->note_duplicate(duplicate);
            if (claimed.front().is_error) {  // the block rolled its transaction back
                const auto error = claimed.front().error;
                if (error.error_code == mysql_error::kLockDeadlock && attempt < kDeadlockRetries) {
                    co_await back_off(attempt);
                    continue;
                }
                const bool sent = co_await answer_wrapped_failure(error, dedup_rule_of_step.front());
                co_return sent ? BoundWrite::answered : BoundWrite::lost;
            }
            tracker_.set_status_flags(claimed.front().ok.status_flags);
            commands.clear();
            dedup_rule_of_step.clear();
        }
        const std::size_t client_step = commands.size();
        const bool appended = co_await append_client_write(commands);
        if (!appended) co_return BoundWrite::lost;
        if (own_transaction && !returns_rows) {
            const std::string finish(kCommitUnlessLastFailed);
            const std::vector<std::uint32_t> no_parameters;
            protocol::Bytes execute;
            const OwnBlock block = co_await own_block_execute(finish, no_parameters, execute);
            if (block != OwnBlock::ready) co_return block == OwnBlock::lost ? BoundWrite::lost : BoundWrite::not_taken;
            commands.push_back(std::move(execute));
        }
        pending_execute_sent_ = sends_clients_execute();
        const auto outcomes =
            co_await run_guarded_pipeline(commands, client_step, own_transaction, ec, returns_rows ? client_step : kNoKeptStep);
        if (ec || outcomes.size() != commands.size()) co_return BoundWrite::lost;
        const std::size_t failed_step = first_failed(outcomes);
        if (write != nullptr && !claim_first) {
            write->note_duplicate(failed_step < client_step &&
                                  outcomes[failed_step].error.error_code == mysql_error::kDupEntry);
        }
        if (failed_step == outcomes.size() && returns_rows) {
            const auto answered = co_await answer_returned_rows(outcomes[client_step], own_transaction);
            co_return answered ? BoundWrite::answered : BoundWrite::lost;
        }
        if (failed_step == outcomes.size()) {
            const bool sent = co_await send_wrapped_ok(outcomes[client_step].ok, outcomes.back().ok.status_flags);
            co_return sent ? BoundWrite::answered : BoundWrite::lost;
        }
        const config::Rule* dedup_rule = failed_step < dedup_rule_of_step.size() ? dedup_rule_of_step[failed_step] : nullptr;
        const auto settled =
            co_await settle_pipelined_failure(outcomes, failed_step, client_step, own_transaction, attempt, dedup_rule);
        if (settled == WrappedResult::retry) continue;
        co_return settled == WrappedResult::answered ? BoundWrite::answered : BoundWrite::lost;
    }
}

// Whether enforce_dedup_insert_bound can run an autocommit write with `claims` dedup
// inserts as one block (claims_and_write_block) and answer exactly the OK the server
// would have sent for the INSERT alone: one row (a multi-row INSERT's OK has an info
// string), all its values in this execute (no long data, not a bulk row), embeddable
// text (embeddable_in_block: no LAST_INSERT_ID(expr), which would set the OK's insert
// id), an auto-increment column left to the server (its id is LAST_INSERT_ID(); an
// explicit one cannot be read back), and a session with CLIENT_MULTI_RESULTS (without
// it the server refuses a block that selects: 1312).
bool Session::fits_one_block(const rules::TableSchema& schema, std::size_t claims) const {
    const BoundExecute& bound = *bound_execute_;
    if (claims > kMaxClaimsInBlock || bound.used_long_data || bound.no_client_execute ||
        (client_caps_ & protocol::cap::multi_results) == 0) {
        return false;
    }
    std::optional<bool>* cached = bound.write != nullptr ? &bound.write->plan_as_prepared.fits_one_block : nullptr;
    if (cached != nullptr && cached->has_value()) return **cached;
    const rules::WritePlan& plan = bound.plan();
    const auto options = rule_context().lex_options();
    bool fits = plan.insert.rows.size() == 1 && plan.insert.returning.empty() && embeddable_in_block(bound.sql, options);
    if (fits) {
        for (const int column : insert_value_columns(bound.sql, plan.insert, schema, options)) {
            if (column >= 0 && schema.columns[static_cast<std::size_t>(column)].auto_increment) fits = false;
        }
    }
    if (cached != nullptr) *cached = fits;
    return fits;
}

// The write of enforce_dedup_insert_bound in one command (fits_one_block): the client's
// INSERT runs inside the proxy's block, its values bound again, and the client gets an
// OK made of what the block read back right after it (the server's own OK describes the
// block). nullopt: the server refused the block (blocks_unavailable_). A deadlock (the
// block rolled back) asks for another attempt, after a back-off.
asio::awaitable<std::optional<Session::WrappedResult>> Session::claim_and_write_in_one_block(
    const std::vector<DedupClaim>& claims, const rules::TableSchema& schema, int attempt) {
    const BoundExecute& bound = *bound_execute_;
    std::vector<std::string> inserts;
    std::vector<std::uint32_t> parameters;
    for (const auto& claim : claims) {
        inserts.push_back(claim.insert);
        parameters.insert(parameters.end(), claim.parameters.begin(), claim.parameters.end());
    }
    for (std::uint32_t i = 0; i < bound.values.size(); ++i) parameters.push_back(i);
    const std::string block = claims_and_write_block(inserts, bound.sql);
    protocol::Bytes execute;
    const OwnBlock made = co_await own_block_execute(block, parameters, execute);
    if (made == OwnBlock::refused) co_return std::nullopt;
    if (made == OwnBlock::lost) co_return WrappedResult::lost;
    error_code ec;
    const auto outcome = co_await run_internal_execute(backend_, backend_buffer_, client_caps_, execute, ec);
    if (ec) co_return WrappedResult::lost;
    const auto claim = outcome.is_error ? failed_claim(outcome.error) : std::nullopt;
    if (bound.write != nullptr) bound.write->note_duplicate(claim.has_value());
    if (outcome.is_error) {  // the block rolled its transaction back
        if (outcome.error.error_code == mysql_error::kLockDeadlock && attempt < kDeadlockRetries) {
            co_await back_off(attempt);
            co_return WrappedResult::retry;
        }
        protocol::ErrPacket error = outcome.error;
        if (claim) error.sql_state = mysql_error::kDupEntryState;
        const config::Rule* rule = claim && *claim < claims.size() ? claims[*claim].rule : nullptr;
        const bool sent = co_await answer_wrapped_failure(error, rule);
        co_return sent ? WrappedResult::answered : WrappedResult::lost;
    }
    const bool auto_increment = std::any_of(schema.columns.begin(), schema.columns.end(),
                                            [](const rules::ColumnInfo& column) { return column.auto_increment; });
    const auto answer = one_block_answer(outcome.rows, auto_increment);
    if (!answer) {
        spdlog::error("session {}: the server's answer to a dedup write block has no row of its INSERT's outcome", id_);
        co_return WrappedResult::lost;
    }
    const bool sent = co_await send_wrapped_ok(*answer, outcome.ok.status_flags);
    co_return sent ? WrappedResult::answered : WrappedResult::lost;
}

// Whether claim_dedup_keys_row_by_row can bind an execute's keys: a plan of the prepared
// statement that lines up, keys that are parameters, literals or defaults, and for more
// than one row to claim MariaDB's blocks (a pipeline goes on after a failed claim — a
// deadlock ends the transaction, and the next claim would commit on its own — so each
// claim is a guarded block).
bool Session::fits_bound_dedup_claims(const rules::WritePlan& plan, const rules::RulePlan& rule) const {
    return execute_bindable() && (rows_in_key_order(rule).size() == 1 || !blocks_unavailable_) &&
           bound_execute_->plan().insert.rows.size() == plan.insert.rows.size() && bindable_keys(rule) != nullptr;
}

// on_duplicate: ignore | update (and the client's own INSERT IGNORE): one INSERT
// IGNORE per row into the dedup table tells, by its affected rows, which rows
// claimed their key; the others are dropped or become updates of the live row
// that holds the key (locked by the INSERT IGNORE until the transaction ends).
asio::awaitable<bool> Session::claim_dedup_keys_row_by_row(const std::string& sql, const rules::WritePlan& plan,
                                                           const rules::TableSchema& schema,
                                                           const rules::RulePlan& rule) {
    const auto table = dedup_table_sql(*rule.rule, plan.schema);
    const auto rows = rows_in_key_order(rule);
    const bool no_backslash = rule_context().no_backslash_escapes;
    // An execute's keys are claimed by prepared statements of the proxy's own with the
    // client's values bound, pipelined after the BEGIN; more than one, each in a guarded
    // block, so that a failed claim makes the ones after it fail too.
    const rules::RulePlan* bound_rule = fits_bound_dedup_claims(plan, rule) ? bound_rule_plan(rule) : nullptr;
    for (int attempt = 0;; ++attempt) {
        const bool own_transaction = opens_own_transaction(tracker_.status_flags());
        std::vector<std::string> statements{begin_statement(own_transaction)};
        error_code ec;
        std::vector<StatementOutcome> outcomes;
        bool blocks_refused = false;
        std::vector<protocol::Bytes> commands{protocol::encode_query(statements.front())};
        if (bound_rule != nullptr) {
            const bool room = co_await make_room_for_own_statements(rows.size());
            if (!room) co_return false;
            for (const std::size_t row : rows) {
                std::vector<std::uint32_t> parameters;
                std::string claim =
                    dedup_insert_values(*bound_rule, table, {row}, bound_execute_->sql, schema, true, &parameters);
                if (rows.size() > 1) {
                    claim = guarded_dedup_write(claim, own_transaction, false);
                    protocol::Bytes execute;
                    const OwnBlock block = co_await own_block_execute(claim, parameters, execute);
                    if (block == OwnBlock::lost) co_return false;
                    blocks_refused = block == OwnBlock::refused;
                    if (blocks_refused) break;
                    commands.push_back(std::move(execute));
                    statements.push_back(claim);
                    continue;
                }
                std::uint32_t id = 0;
                protocol::ErrPacket refused{};
                const bool alive = co_await own_statement(claim, parameters.size(), id, refused);
                if (!alive) co_return false;
                if (refused.error_code != 0) {
                    const bool sent = co_await send_error(refused.error_code, refused.sql_state, refused.message);
                    co_return sent;
                }
                commands.push_back(own_execute(id, parameters));
                if (commands.back().empty()) co_return false;
                statements.push_back(claim);
            }
        }
        if (blocks_refused) {  // nothing ran yet: the same claims as text
            bound_rule = nullptr;
            statements.resize(1);
        }
        if (bound_rule != nullptr) {
            outcomes = co_await run_internal_pipeline(backend_, backend_buffer_, client_caps_, commands, ec);
            // The first error is the answer, as a multi-statement would have stopped there.
            const std::size_t failed = first_failed(outcomes);
            if (failed < outcomes.size()) outcomes.resize(failed + 1);
        } else {
            for (const std::size_t row : rows) {
                statements.push_back(dedup_insert_values(rule, table, {row}, sql, schema, true));
            }
            const std::string wrapped = join_statements(statements);
            outcomes = co_await run_statements(wrapped, ec);
        }
        if (ec || outcomes.empty()) co_return false;
        if (outcomes.back().is_error) {
            // In the client's transaction the claims before the failed one go too: the
            // savepoint, unless setting it is what failed.
            const auto error = outcomes.back().error;
            const bool undone = co_await undo_wrapped_write(own_transaction, outcomes.size() > 1);
            if (!undone) co_return false;
            if (own_transaction && error.error_code == mysql_error::kLockDeadlock && attempt < kDeadlockRetries) {
                spdlog::debug("session {}: claiming keys deadlocked (attempt {}); retrying", id_, attempt + 1);
                co_await back_off(attempt);
                continue;
            }
            const bool sent = co_await send_error(error.error_code, error.sql_state, error.message);
            co_return sent;
        }
        if (outcomes.size() != statements.size()) co_return false;
        const std::size_t row_count = plan.insert.rows.size();
        const bool upsert = !plan.insert.on_duplicate_key_update.empty();
        std::vector<bool> drop(row_count, false);
        std::vector<const rules::RulePlan*> update_rule(row_count, nullptr);
        std::vector<std::size_t> claimed;
        const bool rule_ignores = rule.rule->on_duplicate != config::OnDuplicate::update;
        for (std::size_t i = 0; i < rows.size(); ++i) {
            const std::size_t row = rows[i];
            if (outcomes[i + 1].ok.affected_rows > 0) {
                claimed.push_back(row);
                continue;
            }
            if (row >= row_count) continue;
            drop[row] = true;
            if (upsert) continue;  // not a duplicate: the row updates the live one
            context_.metrics.duplicates_refused.fetch_add(1, std::memory_order_relaxed);
            if (!rule_ignores) update_rule[row] = &rule;
        }
        deadlock_to_retry_ = false;
        bool done = false;
        if (upsert) {
            done = co_await upsert_into_live_rows(sql, plan, schema, rule, drop, claimed, own_transaction);
        }
        std::vector<OwnStep> after;
        if (plan.insert.ignore) {
            // The client's INSERT IGNORE may still skip a row for another reason.
            const std::string source = quote_table(plan.schema, plan.table);
            if (bound_rule != nullptr) {
                std::vector<std::uint32_t> parameters;
                after.push_back({dedup_release_unused_keys(*bound_rule, table, source, claimed, bound_execute_->sql,
                                                           schema, no_backslash, &parameters),
                                 std::move(parameters)});
            } else {
                after.push_back({dedup_release_unused_keys(rule, table, source, claimed, sql, schema, no_backslash)});
            }
            if (after.back().sql.empty()) after.clear();
        }
        if (!upsert) done = co_await run_upsert(sql, plan, schema, drop, update_rule, true, after);
        if (!done || !deadlock_to_retry_) co_return done;
        deadlock_to_retry_ = false;
        spdlog::debug("session {}: the write after claiming keys deadlocked (attempt {})", id_, attempt + 1);
        if (attempt < kDeadlockRetries) {
            co_await back_off(attempt);
            continue;
        }
        const bool sent = co_await send_error(mysql_error::kLockDeadlock, mysql_error::kLockDeadlockState,
                                              mysql_error::kLockDeadlockMessage);
        co_return sent;
    }
}

// INSERT ... ON DUPLICATE KEY UPDATE, after the keys were claimed: rows that got
// their key are inserted as written (a primary-key collision there updates that
// row, as without the proxy); each row whose key is live updates the live row
// holding it, through that row's primary key; claimed keys no row ended up
// holding are released. One multi-statement, answered with the summed counts.
asio::awaitable<bool> Session::upsert_into_live_rows(const std::string& sql, const rules::WritePlan& plan,
                                                     const rules::TableSchema& schema, const rules::RulePlan& rule,
                                                     const std::vector<bool>& key_was_live,
                                                     const std::vector<std::size_t>& claimed, bool own_transaction) {
    if (fits_bound_upsert(plan, schema) && bound_rule_plan(rule) != nullptr) {
        const bool done = co_await upsert_into_live_rows_bound(plan, schema, rule, key_was_live, claimed, own_transaction);
        co_return done;
    }
    const auto context = rule_context();
    const bool no_backslash = context.no_backslash_escapes;
    std::vector<std::size_t> live_rows;
    std::vector<std::string> statements;
    for (std::size_t row = 0; row < key_was_live.size(); ++row) {
        if (!key_was_live[row]) continue;
        live_rows.push_back(row);
        statements.push_back(
            live_holder_query(rule, row, sql, schema, quote_table(plan.schema, plan.table), no_backslash));
    }
    error_code ec;
    std::vector<PrimaryKey> holders(key_was_live.size());
    if (!statements.empty()) {
        const std::string reads = join_statements(statements);
        auto found = co_await run_statements(reads, ec);
        if (ec || found.empty()) co_return false;
        if (found.back().is_error) {
            const auto error = found.back().error;
            const bool answered = co_await undo_for_retry_or_answer(own_transaction, error);
            co_return answered;
        }
        bool complete = found.size() == live_rows.size();
        for (std::size_t i = 0; complete && i < found.size(); ++i) {
            complete = found[i].rows.size() == 1;
            if (complete) holders[live_rows[i]] = found[i].rows.front();
        }
        if (!complete) {
            // The key's holder is a row of this same statement: a batch that repeats a key.
            const protocol::ErrPacket refusal{
                mysql_error::kNotSupportedYet, std::string(mysql_error::kNotSupportedYetState),
                "uniqgate: an INSERT ... ON DUPLICATE KEY UPDATE whose rows repeat a key of rule '" + rule.rule->name +
                    "' (mode dedup) is not supported; send the rows separately"};
            const bool answered = co_await undo_and_answer(own_transaction, true, refusal);
            co_return answered;
        }
    }
    std::vector<std::string> after;
    auto release = dedup_release_unused_keys(rule, dedup_table_sql(*rule.rule, plan.schema),
                                             quote_table(plan.schema, plan.table), claimed, sql, schema, no_backslash);
    if (!release.empty()) after.push_back(std::move(release));
    const bool done = co_await upsert_into_holders(sql, plan, schema, *rule.rule, key_was_live, holders,
                                                   std::move(after), own_transaction);
    co_return done;
}

// Whether an upsert of an execute can be bound (write_upsert_bound, both modes): its plan as
// prepared lines up, a primary key to aim at, blocks available.
bool Session::fits_bound_upsert(const rules::WritePlan& plan, const rules::TableSchema& schema) const {
    return execute_bindable() && !blocks_unavailable_ &&
           bound_execute_->plan().insert.rows.size() == plan.insert.rows.size() && !schema.primary_key.empty();
}

// upsert_into_live_rows for an execute, nothing written into SQL text: each live key's
// holder is read and locked by a prepared statement of the proxy's own (the key bound),
// then write_upsert_bound, which also releases a claimed key no row ended up holding.
asio::awaitable<bool> Session::upsert_into_live_rows_bound(const rules::WritePlan& plan,
                                                           const rules::TableSchema& schema,
                                                           const rules::RulePlan& rule,
                                                           const std::vector<bool>& key_was_live,
                                                           const std::vector<std::size_t>& claimed,
                                                           bool own_transaction) {
    const auto context = rule_context();
    const auto& bound = *bound_execute_;
    const rules::RulePlan& bound_rule = *bound_rule_plan(rule);
    const std::string source = quote_table(plan.schema, plan.table);
    std::vector<std::optional<PrimaryKey>> holders(key_was_live.size());
    for (std::size_t row = 0; row < key_was_live.size(); ++row) {
        if (!key_was_live[row]) continue;
        std::vector<std::uint32_t> key_parameters;
        const std::string read = live_holder_query(bound_rule, row, bound.sql, schema, source,
                                                   context.no_backslash_escapes, &key_parameters);
        std::vector<protocol::TextRow> found;
        protocol::ErrPacket failure{};
        const bool alive = co_await read_rows_bound(read, key_parameters, found, failure);
        if (!alive) co_return false;
        if (failure.error_code == 0 && found.size() != 1) {
            // The key's holder is a row of this same statement: a batch that repeats a key.
            failure = {mysql_error::kNotSupportedYet, std::string(mysql_error::kNotSupportedYetState),
                       "uniqgate: an INSERT ... ON DUPLICATE KEY UPDATE whose rows repeat a key of rule '" +
                           rule.rule->name + "' (mode dedup) is not supported; send the rows separately"};
        }
        if (failure.error_code != 0) {
            const bool answered = co_await undo_for_retry_or_answer(own_transaction, failure);
            co_return answered;
        }
        holders[row] = found.front();
    }
    UpsertRelease release;
    release.sql = dedup_release_unused_keys(bound_rule, dedup_table_sql(*rule.rule, plan.schema), source, claimed,
                                            bound.sql, schema, context.no_backslash_escapes, &release.parameters);
    const bool done = co_await write_upsert_bound(schema, *rule.rule, holders, release, own_transaction);
    co_return done;
}

// The write of a prepared INSERT ... ON DUPLICATE KEY UPDATE, bound; `holders`: per row,
// the live row holding its key, if any. No live holder: the client's own execute. Else the
// rows whose key was free, as a statement of the proxy's own with their values bound
// (rebuild_without_rows), and each other row aimed at its holder (upsert_into_live_row),
// prepared with the client's values and the holder's primary key bound. Then a block that
// runs `release` and, in autocommit, commits, only if the write did not fail
// (after_client_write). With more than one write, each is a guarded block: a failed one
// fails those after it, the commit block included. A deadlock in the proxy's own
// transaction sets deadlock_to_retry_, as does a server that refuses a block (the next
// attempt goes without blocks).
asio::awaitable<bool> Session::write_upsert_bound(const rules::TableSchema& schema, const config::Rule& rule,
                                                  const std::vector<std::optional<PrimaryKey>>& holders,
                                                  const UpsertRelease& release, bool own_transaction) {
    const auto context = rule_context();
    const auto& bound = *bound_execute_;
    const auto client_count = static_cast<std::uint32_t>(bound.values.size());
    std::vector<bool> key_was_live;
    for (const auto& holder : holders) key_was_live.push_back(holder.has_value());
    const bool any_free = std::find(key_was_live.begin(), key_was_live.end(), false) != key_was_live.end();
    const bool any_live = std::find(key_was_live.begin(), key_was_live.end(), true) != key_was_live.end();
    const bool room = co_await make_room_for_own_statements(holders.size() + 2);
    if (!room) co_return false;

    // The writes, bound (the holders' primary keys as own values); the client's own execute
    // stands alone.
    std::vector<OwnStep> writes;
    std::vector<std::optional<std::string>> own_values;
    if (any_free && any_live) writes.push_back(kept_rows_bound(key_was_live));
    for (std::size_t row = 0; row < holders.size(); ++row) {
        if (!holders[row]) continue;
        OwnStep aimed{{}, std::vector<std::uint32_t>{}};
        const BoundUpsert aim{&bound.placeholders, client_count + static_cast<std::uint32_t>(own_values.size()),
                              &*aimed.parameters};
        own_values.insert(own_values.end(), holders[row]->begin(), holders[row]->end());
        aimed.sql = upsert_into_live_row(bound.sql, bound.plan(), schema, row, *holders[row],
                                         context.no_backslash_escapes, context.lex_options(), &aim);
        if (aimed.sql.empty()) {
            const protocol::ErrPacket failure{
                mysql_error::kNotSupportedYet, std::string(mysql_error::kNotSupportedYetState),
                "uniqgate: cannot aim row " + std::to_string(row + 1) + " of the prepared INSERT ... ON DUPLICATE "
                "KEY UPDATE at the live row holding its key (rule '" + rule.name + "')"};
            const bool answered = co_await undo_and_answer(own_transaction, true, failure);
            co_return answered;
        }
        writes.push_back(std::move(aimed));
    }
    std::vector<protocol::Bytes> commands;
    if (writes.empty()) {
        const bool appended = co_await append_client_write(commands);
        if (!appended) co_return false;
    }
    const bool guarded = writes.size() > 1;
    for (const auto& write : writes) {
        if (guarded) {
            const std::string block = guarded_dedup_write(write.sql, own_transaction, false);
            const auto refused = co_await append_block_or_undo(block, *write.parameters, own_values, commands,
                                                               own_transaction, true);
            if (refused) {
                deadlock_to_retry_ = *refused == BoundWrite::not_taken;  // run again, without blocks
                co_return *refused != BoundWrite::lost;
            }
            continue;
        }
        std::uint32_t id = 0;
        protocol::ErrPacket failure{};
        const bool prepared = co_await own_statement(write.sql, write.parameters->size(), id, failure);
        if (!prepared) co_return false;
        if (failure.error_code != 0) {
            const bool answered = co_await undo_and_answer(own_transaction, true, failure);
            co_return answered;
        }
        commands.push_back(own_execute(id, *write.parameters, own_values));
        if (commands.back().empty()) co_return false;
    }
    const std::size_t write_steps = commands.size();
    const std::string after = after_client_write(release.sql, own_transaction);
    if (!after.empty()) {
        const std::vector<std::optional<std::string>> no_own_values;  // named: GCC 12, docs/DEVELOPING.md
        const auto stop =
            co_await append_block_or_undo(after, release.parameters, no_own_values, commands, own_transaction, true);
        if (stop) {
            deadlock_to_retry_ = *stop == BoundWrite::not_taken;  // run again, without blocks
            co_return *stop != BoundWrite::lost;
        }
    }
    if (writes.empty()) pending_execute_sent_ = sends_clients_execute();
    error_code ec;
    const auto outcomes = co_await run_internal_pipeline(backend_, backend_buffer_, client_caps_, commands, ec);
    if (ec || outcomes.size() != commands.size()) co_return false;
    const std::size_t failed_step = first_failed(outcomes);
    if (failed_step == outcomes.size()) {
        auto answer = outcomes.front().ok;
        for (std::size_t i = 1; i < write_steps; ++i) {
            answer.affected_rows += outcomes[i].ok.affected_rows;
            answer.warnings = static_cast<std::uint16_t>(answer.warnings + outcomes[i].ok.warnings);
        }
        const bool sent = co_await send_wrapped_ok(answer, outcomes.back().ok.status_flags);
        co_return sent;
    }
    const auto error = outcomes[failed_step].error;
    const bool undone = co_await undo_pipelined_write(outcomes, failed_step, 0, own_transaction);
    if (!undone) co_return false;
    if (own_transaction && error.error_code == mysql_error::kLockDeadlock) {
        deadlock_to_retry_ = true;
        co_return true;
    }
    const bool sent = co_await answer_wrapped_failure(error, nullptr);
    co_return sent;
}

// The write of an INSERT ... ON DUPLICATE KEY UPDATE once the live rows holding its
// keys are known and locked: rows whose key was free are inserted as written (a
// primary-key collision there updates that row, as without the proxy); each other
// row updates its holder through the holder's primary key. Then `after`, and COMMIT
// when the proxy opened the transaction. One multi-statement, answered with the
// summed counts; a deadlock in the proxy's own transaction sets deadlock_to_retry_.
asio::awaitable<bool> Session::upsert_into_holders(const std::string& sql, const rules::WritePlan& plan,
                                                   const rules::TableSchema& schema, const config::Rule& rule,
                                                   const std::vector<bool>& key_was_live,
                                                   const std::vector<PrimaryKey>& holders,
                                                   std::vector<std::string> after, bool own_transaction) {
    const auto context = rule_context();
    std::vector<std::string> statements;
    if (std::find(key_was_live.begin(), key_was_live.end(), false) != key_was_live.end()) {
        statements.push_back(rebuild_without_rows(sql, plan.insert, key_was_live));
    }
    for (std::size_t row = 0; row < key_was_live.size(); ++row) {
        if (!key_was_live[row]) continue;
        auto statement = upsert_into_live_row(sql, plan, schema, row, holders[row], context.no_backslash_escapes,
                                              context.lex_options());
        if (statement.empty()) {
            const protocol::ErrPacket refusal{
                mysql_error::kNotSupportedYet, std::string(mysql_error::kNotSupportedYetState),
                "uniqgate: cannot read the values of row " + std::to_string(row + 1) + " (rule '" + rule.name + "')"};
            const bool answered = co_await undo_and_answer(own_transaction, true, refusal);
            co_return answered;
        }
        statements.push_back(std::move(statement));
    }
    const std::size_t counted = statements.size();
    for (auto& statement : after) statements.push_back(std::move(statement));
    if (own_transaction) statements.emplace_back("COMMIT");
    error_code ec;
    const std::string wrapped = join_statements(statements);
    auto outcomes = co_await run_statements(wrapped, ec);
    if (ec || outcomes.empty()) co_return false;
    if (outcomes.back().is_error || outcomes.size() != statements.size()) {
        if (!outcomes.back().is_error) co_return false;
        const auto error = outcomes.back().error;
        const bool answered = co_await undo_for_retry_or_answer(own_transaction, error);
        co_return answered;
    }
    protocol::OkPacket answer;
    for (std::size_t i = 0; i < counted; ++i) {
        const auto& ok = outcomes[i].ok;
        answer.affected_rows += ok.affected_rows;
        answer.warnings = static_cast<std::uint16_t>(answer.warnings + ok.warnings);
        if (answer.last_insert_id == 0) answer.last_insert_id = ok.last_insert_id;
    }
    const bool sent = co_await send_wrapped_ok(answer, outcomes.back().ok.status_flags);
    co_return sent;
}

// UPDATE (of a key or the soft-delete column) and DELETE: the rows to change are
// read and locked first; their live keys leave the dedup table, the statement
// runs (restricted to those rows), and the live keys they hold afterwards are
// claimed — a 1062 there is an un-delete or rename onto a live key.
asio::awaitable<bool> Session::enforce_dedup_rows(const std::string& sql, const rules::WritePlan& plan,
                                                  const rules::TableSchema& schema) {
    const bool refreshed = co_await refresh_status_if_uncertain();
    if (!refreshed) co_return false;
    if (fits_bound_dedup_rows(plan)) {
        const BoundWrite bound = co_await enforce_dedup_rows_bound(plan, schema);
        if (bound != BoundWrite::not_taken) co_return bound == BoundWrite::answered;
    }
    const bool no_backslash = rule_context().no_backslash_escapes;
    const std::string statement = statement_text(sql);
    const std::string source = quote_table(plan.schema, plan.table);
    for (int attempt = 0;; ++attempt) {
        const bool own_transaction = opens_own_transaction(tracker_.status_flags());
        error_code ec;
        const std::string read = begin_statement(own_transaction) + "\n;" + rows_to_change_query(statement, plan, schema, "");
        auto locked = co_await run_statements(read, ec);
        if (ec || locked.empty()) co_return false;
        if (locked.back().is_error || locked.size() != 2) {
            if (!locked.back().is_error) co_return false;
            const auto error = locked.back().error;
            const bool undone = co_await undo_wrapped_write(own_transaction, false);
            if (!undone) co_return false;
            if (own_transaction && error.error_code == mysql_error::kLockDeadlock && attempt < kDeadlockRetries) {
                co_await back_off(attempt);
                continue;
            }
            const bool sent = co_await send_error(error.error_code, error.sql_state, error.message);
            co_return sent;
        }
        const auto& rows = locked.back().rows;
        const std::string in_source = primary_key_in(schema, rows, no_backslash, "s.");
        const std::string in_rows = primary_key_in(schema, rows, no_backslash);

        std::vector<std::string> statements;
        std::vector<const config::Rule*> dedup_rule_of_step;
        for (const auto& rule : plan.rules) {
            if (!rule.actions.delete_dedup_keys || rows.empty()) continue;
            statements.push_back(dedup_delete_keys_of_rows(*rule.rule, dedup_table_sql(*rule.rule, plan.schema),
                                                           source, in_source, no_backslash));
            dedup_rule_of_step.push_back(nullptr);
        }
        const std::size_t client_step = statements.size();
        statements.push_back(restrict_filtered_write(statement, plan, in_rows));
        dedup_rule_of_step.push_back(nullptr);
        for (const auto& rule : plan.rules) {
            if (!rule.actions.insert_dedup_keys || rows.empty()) continue;
            statements.push_back(dedup_insert_keys_of_rows(*rule.rule, dedup_table_sql(*rule.rule, plan.schema),
                                                           source, in_rows, no_backslash));
            dedup_rule_of_step.push_back(rule.rule);
        }
        if (own_transaction) statements.emplace_back("COMMIT");
        dedup_rule_of_step.resize(statements.size(), nullptr);

        const auto result = co_await finish_wrapped_write(statements, client_step, 0, own_transaction, attempt,
                                                          dedup_rule_of_step);
        if (result == WrappedResult::retry) continue;
        co_return result == WrappedResult::answered;
    }
}

// Appends one of the proxy's own blocks (own_block_execute) to a write's pipeline. When it
// cannot, the write so far is undone (undo_wrapped_write) and the answer is what the caller
// returns: not_taken (the server refuses blocks: the text path takes over) or lost.
asio::awaitable<std::optional<Session::BoundWrite>> Session::append_block_or_undo(
    const std::string& block, const std::vector<std::uint32_t>& parameters,
    const std::vector<std::optional<std::string>>& own_values, std::vector<protocol::Bytes>& commands,
    bool own_transaction, bool to_savepoint) {
    protocol::Bytes execute;
    const OwnBlock prepared = co_await own_block_execute(block, parameters, execute, own_values);
    if (prepared == OwnBlock::ready) {
        commands.push_back(std::move(execute));
        co_return std::nullopt;
    }
    const bool undone = co_await undo_wrapped_write(own_transaction, to_savepoint);
    co_return prepared == OwnBlock::lost || !undone ? BoundWrite::lost : BoundWrite::not_taken;
}

// append_block_or_undo for a block that binds nothing.
asio::awaitable<std::optional<Session::BoundWrite>> Session::append_block_or_undo(
    const std::string& block, std::vector<protocol::Bytes>& commands, bool own_transaction, bool to_savepoint) {
    const std::vector<std::uint32_t> no_parameters;  // named: GCC 12, docs/DEVELOPING.md
    const std::vector<std::optional<std::string>> no_own_values;
    const auto stop =
        co_await append_block_or_undo(block, no_parameters, no_own_values, commands, own_transaction, to_savepoint);
    co_return stop;
}

// Whether a COM_STMT_EXECUTE of an UPDATE or DELETE can take enforce_dedup_rows_bound:
// the plan of the statement as prepared lines up with the bound one, and at most one rule claims keys (a 1062 from the
// block that claims them does not say which dedup table refused).
bool Session::fits_bound_dedup_rows(const rules::WritePlan& plan) const {
    if (!execute_bindable() || blocks_unavailable_) return false;
    const auto& prepared = bound_execute_->plan();
    if (prepared.kind != plan.kind || prepared.filter.table_reference.empty()) return false;
    const auto claiming = std::count_if(plan.rules.begin(), plan.rules.end(),
                                        [](const rules::RulePlan& rule) { return rule.actions.insert_dedup_keys; });
    return claiming <= 1;
}

// enforce_dedup_rows for a COM_STMT_EXECUTE, nothing written into SQL text: the rows
// to change are read (and locked) by a prepared statement of the proxy's own with the
// client's WHERE and values; the restricted write is the client's statement prepared
// by the proxy, the rows' primary keys bound as extra parameters, and so are they in
// the dedup-table changes. Two round trips, each one pipeline:
//   1. START TRANSACTION (or the savepoint), the read
//   2. the guarded removal of the rows' live keys (guarded_dedup_write), the
//      restricted write, and the claim of the keys the rows hold afterwards (with
//      COMMIT in autocommit) in a block that runs only if the write did not fail
//      (after_client_write)
// A server that refuses the blocks gets the text path (blocks_unavailable_).
asio::awaitable<Session::BoundWrite> Session::enforce_dedup_rows_bound(const rules::WritePlan& plan,
                                                                       const rules::TableSchema& schema) {
    const bool no_backslash = rule_context().no_backslash_escapes;
    const auto& bound = *bound_execute_;
    const std::string source = quote_table(plan.schema, plan.table);
    const std::string read = rows_to_change_query(bound.sql, bound.plan(), schema, "", true);
    const auto read_parameters = rows_to_change_parameters(bound.plan(), bound.placeholders);
    for (int attempt = 0;; ++attempt) {
        const bool own_transaction = opens_own_transaction(tracker_.status_flags());
        const bool room = co_await make_room_for_own_statements(4);  // read, removal, write, claim
        if (!room) co_return BoundWrite::lost;
        std::uint32_t read_id = 0;
        protocol::ErrPacket refused{};
        const bool read_prepared = co_await own_statement(read, read_parameters.size(), read_id, refused);
        if (!read_prepared) co_return BoundWrite::lost;
        if (refused.error_code != 0) co_return BoundWrite::not_taken;  // the text path answers what is wrong
        const std::vector<protocol::Bytes> reading{protocol::encode_query(begin_statement(own_transaction)),
                                                   own_execute(read_id, read_parameters)};
        if (reading.back().empty()) co_return BoundWrite::lost;
        error_code ec;
        const auto locked = co_await run_internal_pipeline(backend_, backend_buffer_, client_caps_, reading, ec);
        if (ec || locked.size() != reading.size()) co_return BoundWrite::lost;
        if (const std::size_t failed_read = first_failed(locked); failed_read < locked.size()) {
            const auto error = locked[failed_read].error;
            const bool undone = co_await undo_wrapped_write(own_transaction, false);
            if (!undone) co_return BoundWrite::lost;
            if (own_transaction && error.error_code == mysql_error::kLockDeadlock && attempt < kDeadlockRetries) {
                co_await back_off(attempt);
                continue;
            }
            const bool sent = co_await send_error(error.error_code, error.sql_state, error.message);
            co_return sent ? BoundWrite::answered : BoundWrite::lost;
        }

        // The rows' primary keys are bound after the client's parameters.
        const auto& rows = locked.back().rows;
        const OwnValues keys_of_rows = primary_keys_bound(rows, schema.primary_key.size());
        const auto& row_keys = keys_of_rows.values;
        const auto& row_key_parameters = keys_of_rows.parameters;
        std::vector<std::string> removals;
        std::vector<std::string> claims;
        std::vector<std::uint32_t> removal_parameters;
        std::vector<std::uint32_t> claim_parameters;
        const config::Rule* claiming_rule = nullptr;
        for (const auto& rule : plan.rules) {
            if (rows.empty()) break;
            const auto dedup_table = dedup_table_sql(*rule.rule, plan.schema);
            if (rule.actions.delete_dedup_keys) {
                removals.push_back(dedup_delete_keys_of_rows(*rule.rule, dedup_table, source,
                                                             primary_key_in_placeholders(schema, rows.size(), "s."),
                                                             no_backslash));
                removal_parameters.insert(removal_parameters.end(), row_key_parameters.begin(), row_key_parameters.end());
            }
            if (rule.actions.insert_dedup_keys) {
                claims.push_back(dedup_insert_keys_of_rows(*rule.rule, dedup_table, source,
                                                           primary_key_in_placeholders(schema, rows.size()),
                                                           no_backslash));
                claim_parameters.insert(claim_parameters.end(), row_key_parameters.begin(), row_key_parameters.end());
                claiming_rule = rule.rule;
            }
        }
        std::vector<protocol::Bytes> commands;
        if (!removals.empty()) {
            const std::string guarded = guarded_dedup_write(block_body(removals), own_transaction, false);
            const auto stop =
                co_await append_block_or_undo(guarded, removal_parameters, row_keys, commands, own_transaction, false);
            if (stop) co_return *stop;
        }
        const std::string write = restrict_filtered_write(bound.sql, bound.plan(),
                                                          primary_key_in_placeholders(schema, rows.size()));
        const auto write_parameters = restricted_write_parameters(bound.plan(), bound.placeholders, row_keys.size());
        std::uint32_t write_id = 0;
        const bool write_prepared = co_await own_statement(write, write_parameters.size(), write_id, refused);
        if (!write_prepared) co_return BoundWrite::lost;
        if (refused.error_code != 0) {
            const bool undone = co_await undo_wrapped_write(own_transaction, false);
            co_return undone ? BoundWrite::not_taken : BoundWrite::lost;
        }
        const std::size_t client_step = commands.size();
        commands.push_back(own_execute(write_id, write_parameters, row_keys));
        if (commands.back().empty()) co_return BoundWrite::lost;
        const std::string after = after_client_write(block_body(claims), own_transaction);
        if (!after.empty()) {
            const auto stop =
                co_await append_block_or_undo(after, claim_parameters, row_keys, commands, own_transaction, false);
            if (stop) co_return *stop;
        }

        const auto outcomes = co_await run_guarded_pipeline(commands, client_step, own_transaction, ec);
        if (ec || outcomes.size() != commands.size()) co_return BoundWrite::lost;
        const std::size_t failed_step = first_failed(outcomes);
        if (failed_step == outcomes.size()) {
            const bool sent = co_await send_wrapped_ok(outcomes[client_step].ok, outcomes.back().ok.status_flags);
            co_return sent ? BoundWrite::answered : BoundWrite::lost;
        }
        const bool claim_failed = !claims.empty() && failed_step == client_step + 1;
        const auto settled = co_await settle_pipelined_failure(outcomes, failed_step, client_step, own_transaction,
                                                               attempt, claim_failed ? claiming_rule : nullptr);
        if (settled == WrappedResult::retry) continue;
        co_return settled == WrappedResult::answered ? BoundWrite::answered : BoundWrite::lost;
    }
}

// TRUNCATE of a dedup rule's table empties its dedup table after it. TRUNCATE
// commits implicitly and cannot share a transaction: between the two a write of
// another session can at worst be refused as a duplicate, never let one through.
asio::awaitable<bool> Session::enforce_dedup_truncate(const std::string& sql, const rules::WritePlan& plan) {
    std::vector<std::string> statements{statement_text(sql)};
    for (const auto& rule : plan.rules) {
        if (rule.actions.clear_dedup_table) {
            statements.push_back("TRUNCATE TABLE " + dedup_table_sql(*rule.rule, plan.schema));
        }
    }
    error_code ec;
    const std::string wrapped = join_statements(statements);
    auto outcomes = co_await run_statements(wrapped, ec);
    if (ec || outcomes.empty()) co_return false;
    if (outcomes.back().is_error) {
        if (outcomes.size() > 1) {
            spdlog::error("session {}: TRUNCATE of {}.{} succeeded but emptying its dedup table failed: {} — "
                          "run `uniqgate migrate` to rebuild it",
                          id_, plan.schema, plan.table, outcomes.back().error.message);
        }
        const auto error = outcomes.back().error;
        const bool sent = co_await send_error(error.error_code, error.sql_state, error.message);
        co_return sent;
    }
    const bool sent = co_await send_wrapped_ok(outcomes.front().ok, outcomes.back().ok.status_flags);
    co_return sent;
}

}  // namespace uniqgate::proxy
