// REPLACE on a rule table. At a unique index over the live key, REPLACE deletes the
// live row holding a row's key before inserting the row (as it deletes rows it
// collides with on the primary key). uniqgate deletes those holders itself, in the
// same transaction as the REPLACE, and answers with MySQL's count: one per row
// inserted plus one per row deleted.
//
// serialize: the key locks and the existence check of an INSERT find the holders;
// the REPLACE's own primary-key deletions never create a duplicate.
// dedup: every row the REPLACE would delete is read and locked first, deleted with its
// live keys leaving the dedup table, the new live keys claimed, and the REPLACE must
// then insert only — if it still deleted a row (through a unique index of the table
// the proxy did not predict), the write is undone and refused.
#include "proxy/DedupSql.hpp"
#include "proxy/InternalQuery.hpp"
#include "proxy/MysqlErrors.hpp"
#include "proxy/Session.hpp"
#include "proxy/SqlText.hpp"

#include <spdlog/spdlog.h>

#include <set>

namespace uniqgate::proxy {

namespace {

constexpr int kReplaceRetries = 8;

std::string replaced_through_other_index(const rules::WritePlan& plan, const config::Rule& rule) {
    return "uniqgate: a REPLACE on table '" + plan.table + "' (rule '" + rule.name +
           "', mode dedup) that replaces a row through another unique index, or through a primary key "
           "not written as a literal, is not supported yet; nothing was changed";
}

// "uniqgate: REPLACE whose rows repeat a key of rule 'r' ..." when a row repeats an
// earlier row's key: the first would be replaced by the second, in statement order.
std::string repeated_key_refusal(const config::Rule& rule) {
    return "uniqgate: a REPLACE whose rows repeat a key of rule '" + rule.name +
           "' is not supported; send the rows separately";
}

bool repeats_a_key(const rules::RulePlan& rule) {
    std::set<std::string_view> seen;
    for (std::size_t row = 0; row < rule.rows.size(); ++row) {
        if (rule.rows[row].status == rules::KeyStatus::known && !seen.insert(rule.identity(row)).second) return true;
    }
    return false;
}

}  // namespace

asio::awaitable<bool> Session::enforce_replace(const std::string& sql, const rules::WritePlan& plan,
                                               const rules::TableSchema& schema) {
    for (const auto& rule : plan.rules) {
        if (rule.actions.lock_keys && repeats_a_key(rule)) {
            const bool sent = co_await send_error(mysql_error::kNotSupportedYet, mysql_error::kNotSupportedYetState,
                                                  repeated_key_refusal(*rule.rule));
            co_return sent;
        }
    }
    std::vector<InsertCheck> checks;
    const Step checked = co_await lock_and_find_live(sql, plan, schema, checks);
    if (checked != Step::go_on) co_return checked == Step::answered;

    const bool no_backslash = rule_context().no_backslash_escapes;
    std::vector<protocol::TextRow> holders;
    std::string holder_keys;  // the rows' key conditions, so a holder renamed since is left alone
    for (const auto& check : checks) {
        if (check.rule->actions.report_only) continue;
        for (std::size_t row = 0; row < check.duplicate.size(); ++row) {
            if (!check.duplicate[row]) continue;
            holders.push_back(check.holder[row]);
            holder_keys.append(holder_keys.empty() ? "(" : " OR (")
                .append(live_condition(check.rule->rule->soft_delete, no_backslash))
                .append(" AND ")
                .append(key_equals(*check.rule, row, sql, schema))
                .append(")");
        }
    }
    if (holders.empty()) {
        const bool sent = co_await send_client_write(sql);
        co_return sent;
    }
    // Outside a transaction the check read no primary key when the table has none:
    // the holders are then deleted by key, which the key locks keep exact.
    std::string where = "(" + holder_keys + ")";
    const bool by_primary_key = !schema.primary_key.empty() &&
                                std::none_of(holders.begin(), holders.end(), [](const auto& pk) { return pk.empty(); });
    if (by_primary_key) where = primary_key_in(schema, holders, no_backslash) + " AND " + where;

    const bool own_transaction = opens_own_transaction(tracker_.status_flags());
    if (by_primary_key && fits_bound_replace(checks)) {
        const auto bound = co_await replace_holders_bound(plan, schema, checks, holders, own_transaction);
        if (bound != BoundWrite::not_taken) co_return bound == BoundWrite::answered;
    }
    std::vector<std::string> statements{begin_statement(own_transaction),
                                        "DELETE FROM " + quote_table(plan.schema, plan.table) + " WHERE " + where,
                                        statement_text(sql)};
    if (own_transaction) statements.emplace_back("COMMIT");
    error_code ec;
    const std::string wrapped = join_statements(statements);  // named: GCC 12, docs/DEVELOPING.md
    auto outcomes = co_await run_statements(wrapped, ec);
    if (ec || outcomes.empty()) co_return false;
    if (outcomes.back().is_error || outcomes.size() != statements.size()) {
        if (!outcomes.back().is_error) co_return false;
        const auto error = outcomes.back().error;
        const bool answered = co_await undo_and_answer(own_transaction, outcomes.size() > 1, error);
        co_return answered;
    }
    auto answer = outcomes[2].ok;
    answer.affected_rows += outcomes[1].ok.affected_rows;
    const bool sent = co_await send_wrapped_ok(answer, outcomes.back().ok.status_flags);
    co_return sent;
}

// Whether enforce_replace can delete the holders of an execute's keys with its values
// bound (replace_holders_bound): every key to delete by is the client's parameters or
// literals, and the server runs MariaDB's blocks.
bool Session::fits_bound_replace(const std::vector<InsertCheck>& checks) const {
    if (!execute_bindable() || blocks_unavailable_) return false;
    return std::all_of(checks.begin(), checks.end(), [this](const InsertCheck& check) {
        return check.rule->actions.report_only || bindable_keys(*check.rule) != nullptr;
    });
}

// enforce_replace's write for a COM_STMT_EXECUTE, nothing written into SQL text: one
// pipeline of a guarded block that opens the transaction (or the savepoint) and deletes
// the live holders of the rows' keys (their primary keys and the rows' keys bound), the
// client's own execute, and in autocommit the block that commits unless the execute
// failed. A failed delete makes the execute fail too (guarded_dedup_write).
asio::awaitable<Session::BoundWrite> Session::replace_holders_bound(const rules::WritePlan& plan,
                                                                    const rules::TableSchema& schema,
                                                                    const std::vector<InsertCheck>& checks,
                                                                    const std::vector<protocol::TextRow>& holders,
                                                                    bool own_transaction) {
    const bool no_backslash = rule_context().no_backslash_escapes;
    const auto& bound = *bound_execute_;
    OwnValues holder_keys = primary_keys_bound(holders, schema.primary_key.size());
    auto& parameters = holder_keys.parameters;  // the rows' keys follow
    std::string key_conditions;  // a holder renamed since the check is left alone
    for (const auto& check : checks) {
        if (check.rule->actions.report_only) continue;
        const rules::RulePlan& rule = *bound_rule_plan(*check.rule);
        for (std::size_t row = 0; row < check.duplicate.size(); ++row) {
            if (!check.duplicate[row]) continue;
            key_conditions.append(key_conditions.empty() ? "(" : " OR (")
                .append(live_condition(check.rule->rule->soft_delete, no_backslash))
                .append(" AND ")
                .append(key_equals(rule, row, bound.sql, schema, &parameters))
                .append(")");
        }
    }
    const std::string deletion = "DELETE FROM " + quote_table(plan.schema, plan.table) + " WHERE " +
                                 primary_key_in_placeholders(schema, holders.size()) + " AND (" + key_conditions + ")";
    const bool room = co_await make_room_for_own_statements(2);  // the deletion, the commit
    if (!room) co_return BoundWrite::lost;
    std::vector<protocol::Bytes> commands;
    const std::string guarded = guarded_dedup_write(deletion, own_transaction, true);
    const auto guard_refused =
        co_await append_block_or_undo(guarded, parameters, holder_keys.values, commands, own_transaction, false);
    if (guard_refused) co_return *guard_refused;
    const std::size_t client_step = commands.size();
    const bool appended = co_await append_client_write(commands);
    if (!appended) co_return BoundWrite::lost;
    const std::string after = after_client_write("", own_transaction);
    if (!after.empty()) {
        const auto after_refused = co_await append_block_or_undo(after, commands, own_transaction, false);
        if (after_refused) co_return *after_refused;
    }
    pending_execute_sent_ = sends_clients_execute();
    error_code ec;
    const auto outcomes = co_await run_guarded_pipeline(commands, client_step, own_transaction, ec);
    if (ec || outcomes.size() != commands.size()) co_return BoundWrite::lost;
    const std::size_t failed_step = first_failed(outcomes);
    if (failed_step == outcomes.size()) {
        auto answer = outcomes[client_step].ok;
        answer.affected_rows += outcomes.front().ok.affected_rows;
        const bool sent = co_await send_wrapped_ok(answer, outcomes.back().ok.status_flags);
        co_return sent ? BoundWrite::answered : BoundWrite::lost;
    }
    const auto error = outcomes[failed_step].error;
    const bool undone = co_await undo_pipelined_write(outcomes, failed_step, client_step, own_transaction);
    if (!undone) co_return BoundWrite::lost;
    const bool sent = co_await answer_wrapped_failure(error, nullptr);
    co_return sent ? BoundWrite::answered : BoundWrite::lost;
}

asio::awaitable<bool> Session::enforce_dedup_replace(const std::string& sql, const rules::WritePlan& plan,
                                                     const rules::TableSchema& schema) {
    const bool refreshed = co_await refresh_status_if_uncertain();
    if (!refreshed) co_return false;
    const auto context = rule_context();
    const bool no_backslash = context.no_backslash_escapes;
    std::vector<const rules::RulePlan*> dedup_rules;
    for (const auto& rule : plan.rules) {
        if (!rule.actions.insert_dedup_keys && !rule.actions.delete_dedup_keys) continue;
        if (repeats_a_key(rule)) {
            const bool sent = co_await send_error(mysql_error::kNotSupportedYet, mysql_error::kNotSupportedYetState,
                                                  repeated_key_refusal(*rule.rule));
            co_return sent;
        }
        dedup_rules.push_back(&rule);
    }
    if (fits_bound_dedup_replace(dedup_rules)) {
        const auto bound = co_await enforce_dedup_replace_bound(plan, schema, dedup_rules);
        if (bound != BoundWrite::not_taken) co_return bound == BoundWrite::answered;
    }
    const std::string source = quote_table(plan.schema, plan.table);
    const std::string statement = statement_text(sql);
    const auto doomed = rows_replace_would_delete(statement, plan, schema, dedup_rules, context.lex_options(), no_backslash);
    const std::size_t row_count = plan.insert.rows.size();
    const std::string pk_columns = primary_key_column_list(schema);

    for (int attempt = 0;; ++attempt) {
        const bool own_transaction = opens_own_transaction(tracker_.status_flags());
        error_code ec;
        // 1. The new keys claimed or, when taken, locked in the dedup tables (every write of
        // a live key goes through them, so their holders cannot change now); then the rows
        // the REPLACE would delete, read: by the primary keys it writes (locked), and as the
        // holders of its keys — a plain read in the proxy's own transaction, whose first read
        // comes after those locks; a locking one in the client's, whose snapshot may be old.
        std::vector<std::string> reads{begin_statement(own_transaction)};
        std::vector<const config::Rule*> claiming{nullptr};
        for (const auto* rule : dedup_rules) {
            auto claim = dedup_claim_or_lock(*rule, dedup_table_sql(*rule->rule, plan.schema), rows_in_key_order(*rule),
                                             statement, schema);
            if (claim.empty()) continue;
            reads.push_back(std::move(claim));
            claiming.push_back(rule->rule);
        }
        const std::size_t first_read = reads.size();
        if (!doomed.by_primary_key.empty()) {
            reads.push_back("SELECT " + pk_columns + " FROM " + source + " WHERE " + doomed.by_primary_key + " FOR UPDATE");
        }
        if (!doomed.by_live_key.empty()) {
            reads.push_back("SELECT " + pk_columns + " FROM " + source + " WHERE " + doomed.by_live_key +
                            (own_transaction ? "" : " FOR UPDATE"));
        }
        claiming.resize(reads.size(), nullptr);
        const std::string reading = join_statements(reads);
        auto locked = co_await run_statements(reading, ec);
        if (ec || locked.empty()) co_return false;
        if (locked.back().is_error || locked.size() != reads.size()) {
            if (!locked.back().is_error) co_return false;
            const auto error = locked.back().error;
            const bool undone = co_await undo_wrapped_write(own_transaction, locked.size() > 1);
            if (!undone) co_return false;
            if (own_transaction && error.error_code == mysql_error::kLockDeadlock && attempt < kReplaceRetries) {
                co_await back_off(attempt);
                continue;
            }
            const config::Rule* claimed_for = claiming[locked.size() - 1];
            const bool sent = co_await answer_wrapped_failure(error, claimed_for);
            co_return sent;
        }
        std::vector<protocol::TextRow> doomed_rows;
        for (std::size_t i = first_read; i < locked.size(); ++i) {
            for (auto& row : locked[i].rows) {
                if (std::find(doomed_rows.begin(), doomed_rows.end(), row) == doomed_rows.end()) {
                    doomed_rows.push_back(std::move(row));
                }
            }
        }
        // 2. Their live keys leave the dedup tables, they go, the new keys are claimed,
        // and the REPLACE runs — now an insert.
        std::vector<std::string> statements;
        claiming.clear();  // per statement: the rule whose keys it claims
        const bool deletes = !doomed_rows.empty();
        std::size_t deleted_step = 0;
        if (deletes) {
            for (const auto* rule : dedup_rules) {
                statements.push_back(dedup_delete_keys_of_rows(*rule->rule, dedup_table_sql(*rule->rule, plan.schema),
                                                               source, primary_key_in(schema, doomed_rows,
                                                                                      no_backslash, "s."),
                                                               no_backslash));
                claiming.push_back(nullptr);
            }
            deleted_step = statements.size();
            statements.push_back("DELETE FROM " + source + " WHERE " + primary_key_in(schema, doomed_rows, no_backslash));
            claiming.push_back(nullptr);
        }
        for (const auto* rule : dedup_rules) {
            // The keys step 1 claimed, or claimed again where a deleted holder released them.
            auto insert = dedup_claim_or_lock(*rule, dedup_table_sql(*rule->rule, plan.schema), rows_in_key_order(*rule),
                                              statement, schema);
            if (insert.empty()) continue;
            statements.push_back(std::move(insert));
            claiming.push_back(rule->rule);
        }
        const std::size_t replace_step = statements.size();
        statements.push_back(statement);
        claiming.push_back(nullptr);
        const std::string wrapped = join_statements(statements);
        auto outcomes = co_await run_statements(wrapped, ec);
        if (ec || outcomes.empty()) co_return false;
        const bool failed = outcomes.back().is_error;
        if (!failed && outcomes.size() != statements.size()) co_return false;
        const bool replaced_more = !failed && outcomes[replace_step].ok.affected_rows != row_count;
        if (failed || replaced_more) {
            const auto error = outcomes.back().error;
            const bool undone = co_await undo_wrapped_write(own_transaction, true);
            if (!undone) co_return false;
            const std::size_t failed_step = outcomes.size() - 1;
            const config::Rule* claimed_for = failed_step < claiming.size() ? claiming[failed_step] : nullptr;
            if (own_transaction && failed && error.error_code == mysql_error::kLockDeadlock && attempt < kReplaceRetries) {
                spdlog::debug("session {}: REPLACE deadlocked (attempt {}); retrying", id_, attempt + 1);
                co_await back_off(attempt);
                continue;
            }
            if (replaced_more) {
                const bool sent = co_await send_error(mysql_error::kNotSupportedYet, mysql_error::kNotSupportedYetState,
                                                      replaced_through_other_index(plan, *dedup_rules.front()->rule));
                co_return sent;
            }
            const bool sent = co_await answer_wrapped_failure(error, claimed_for);
            co_return sent;
        }
        auto answer = outcomes[replace_step].ok;
        if (deletes) answer.affected_rows += outcomes[deleted_step].ok.affected_rows;
        std::uint16_t final_status = outcomes.back().ok.status_flags;
        if (own_transaction) {
            auto committed = co_await run_internal_query(backend_, backend_buffer_, client_caps_, "COMMIT", ec);
            if (ec || committed.empty()) co_return false;
            if (committed.front().is_error) {
                const auto error = committed.front().error;
                const bool answered = co_await undo_and_answer(own_transaction, true, error);
                co_return answered;
            }
            final_status = committed.front().ok.status_flags;
        }
        const bool sent = co_await send_wrapped_ok(answer, final_status);
        co_return sent;
    }
}

// Whether enforce_dedup_replace can take enforce_dedup_replace_bound: the keys of every
// rule it guards are the client's parameters or literals, and the server runs blocks.
bool Session::fits_bound_dedup_replace(const std::vector<const rules::RulePlan*>& dedup_rules) const {
    if (!execute_bindable() || blocks_unavailable_) return false;
    return std::all_of(dedup_rules.begin(), dedup_rules.end(),
                       [this](const rules::RulePlan* rule) { return bindable_keys(*rule) != nullptr; });
}

// enforce_dedup_replace for a COM_STMT_EXECUTE, nothing written into SQL text; the same
// steps, each a pipeline of the proxy's own prepared statements with the client's values
// bound (and the doomed rows' primary keys, read back as text):
//   1. START TRANSACTION (or the savepoint), the keys claimed or locked, the rows the
//      REPLACE would delete read and locked
//   2. when there are such rows, a guarded block that removes their live keys from the
//      dedup tables and claims the new keys again, a guarded block that deletes them;
//      then the client's own execute, and in autocommit a block that commits only if it
//      inserted exactly its rows (otherwise it replaced a row the proxy did not predict,
//      and everything is rolled back and refused)
asio::awaitable<Session::BoundWrite> Session::enforce_dedup_replace_bound(
    const rules::WritePlan& plan, const rules::TableSchema& schema,
    const std::vector<const rules::RulePlan*>& dedup_rules) {
    const auto context = rule_context();
    const bool no_backslash = context.no_backslash_escapes;
    const auto& bound = *bound_execute_;
    const std::string source = quote_table(plan.schema, plan.table);
    std::vector<const rules::RulePlan*> bound_rules;
    std::vector<OwnStep> claims;
    for (const auto* rule : dedup_rules) {
        bound_rules.push_back(bound_rule_plan(*rule));
        OwnStep claim{{}, std::vector<std::uint32_t>{}};
        claim.sql = dedup_claim_or_lock(*bound_rules.back(), dedup_table_sql(*rule->rule, plan.schema),
                                        rows_in_key_order(*rule), bound.sql, schema, &*claim.parameters);
        if (!claim.sql.empty()) claims.push_back(std::move(claim));
    }
    const auto doomed = rows_replace_would_delete(bound.sql, bound.plan(), schema, bound_rules, context.lex_options(),
                                                  no_backslash, &bound.placeholders, &dedup_rules);
    const std::string pk_columns = primary_key_column_list(schema, PrimaryKeyAs::text);
    std::vector<OwnStep> reads;
    if (!doomed.by_primary_key.empty()) {
        reads.push_back({"SELECT " + pk_columns + " FROM " + source + " WHERE " + doomed.by_primary_key + " FOR UPDATE",
                         doomed.by_primary_key_parameters});
    }
    const std::size_t row_count = plan.insert.rows.size();
    const config::Rule* only_rule = dedup_rules.size() == 1 ? dedup_rules.front()->rule : nullptr;

    for (int attempt = 0;; ++attempt) {
        const bool own_transaction = opens_own_transaction(tracker_.status_flags());
        const bool room = co_await make_room_for_own_statements(claims.size() + 6);
        if (!room) co_return BoundWrite::lost;
        // 1. claims, then the reads (the holders of the keys: a plain read in the proxy's own
        // transaction, whose first read comes after the claims' locks).
        auto reading_steps = claims;
        const std::size_t first_read = reading_steps.size() + 1;
        reading_steps.insert(reading_steps.end(), reads.begin(), reads.end());
        if (!doomed.by_live_key.empty()) {
            reading_steps.push_back({"SELECT " + pk_columns + " FROM " + source + " WHERE " + doomed.by_live_key +
                                         (own_transaction ? "" : " FOR UPDATE"),
                                     doomed.by_live_key_parameters});
        }
        std::vector<protocol::Bytes> reading{protocol::encode_query(begin_statement(own_transaction))};
        for (const auto& step : reading_steps) {
            std::uint32_t id = 0;
            protocol::ErrPacket refused{};
            const bool prepared = co_await own_statement(step.sql, step.parameters->size(), id, refused);
            if (!prepared) co_return BoundWrite::lost;
            if (refused.error_code != 0) co_return BoundWrite::not_taken;  // the text path answers what is wrong
            reading.push_back(own_execute(id, *step.parameters));
            if (reading.back().empty()) co_return BoundWrite::lost;
        }
        error_code ec;
        auto locked = co_await run_internal_pipeline(backend_, backend_buffer_, client_caps_, reading, ec);
        if (ec || locked.size() != reading.size()) co_return BoundWrite::lost;
        if (const std::size_t failed_read = first_failed(locked); failed_read < locked.size()) {
            const auto error = locked[failed_read].error;
            const bool undone = co_await undo_wrapped_write(own_transaction, failed_read > 0);
            if (!undone) co_return BoundWrite::lost;
            if (own_transaction && error.error_code == mysql_error::kLockDeadlock && attempt < kReplaceRetries) {
                co_await back_off(attempt);
                continue;
            }
            const bool claimed = failed_read > 0 && failed_read < first_read;
            const bool sent = co_await answer_wrapped_failure(error, claimed ? only_rule : nullptr);
            co_return sent ? BoundWrite::answered : BoundWrite::lost;
        }
        std::vector<protocol::TextRow> doomed_rows;
        for (std::size_t i = first_read; i < locked.size(); ++i) {
            for (auto& row : locked[i].rows) {
                if (std::find(doomed_rows.begin(), doomed_rows.end(), row) == doomed_rows.end()) {
                    doomed_rows.push_back(std::move(row));
                }
            }
        }

        // 2. The doomed rows' keys bound after the client's parameters.
        const OwnValues doomed_keys = primary_keys_bound(doomed_rows, schema.primary_key.size());
        const auto& row_keys = doomed_keys.values;
        const auto& row_key_parameters = doomed_keys.parameters;
        std::vector<protocol::Bytes> commands;
        std::size_t deleted_step = 0;
        if (!doomed_rows.empty()) {
            std::vector<std::string> body;
            std::vector<std::uint32_t> body_parameters;
            for (const auto* rule : dedup_rules) {
                body.push_back(dedup_delete_keys_of_rows(*rule->rule, dedup_table_sql(*rule->rule, plan.schema), source,
                                                         primary_key_in_placeholders(schema, doomed_rows.size(), "s."),
                                                         no_backslash));
                body_parameters.insert(body_parameters.end(), row_key_parameters.begin(), row_key_parameters.end());
            }
            for (const auto& claim : claims) {  // claimed again where a deleted holder released them
                body.push_back(claim.sql);
                body_parameters.insert(body_parameters.end(), claim.parameters->begin(), claim.parameters->end());
            }
            const std::string rekey = guarded_dedup_write(block_body(body), own_transaction, false);
            const auto rekey_refused =
                co_await append_block_or_undo(rekey, body_parameters, row_keys, commands, own_transaction, true);
            if (rekey_refused) co_return *rekey_refused;
            deleted_step = commands.size();
            const std::string deletion = guarded_dedup_write(
                "DELETE FROM " + source + " WHERE " + primary_key_in_placeholders(schema, doomed_rows.size()),
                own_transaction, false);
            const auto deletion_refused =
                co_await append_block_or_undo(deletion, row_key_parameters, row_keys, commands, own_transaction, true);
            if (deletion_refused) co_return *deletion_refused;
        }
        const std::size_t client_step = commands.size();
        const bool appended = co_await append_client_write(commands);
        if (!appended) co_return BoundWrite::lost;
        if (own_transaction) {
            // The count is the proxy's, not a value of the client's.
            const std::string commit = "BEGIN NOT ATOMIC IF ROW_COUNT() = " + std::to_string(row_count) +
                                       " THEN COMMIT; ELSE ROLLBACK; END IF; END";
            const auto commit_refused = co_await append_block_or_undo(commit, commands, own_transaction, true);
            if (commit_refused) co_return *commit_refused;
        }
        pending_execute_sent_ = sends_clients_execute();
        const auto outcomes = co_await run_guarded_pipeline(commands, client_step, own_transaction, ec);
        if (ec || outcomes.size() != commands.size()) co_return BoundWrite::lost;
        const std::size_t failed_step = first_failed(outcomes);
        if (failed_step == outcomes.size() && outcomes[client_step].ok.affected_rows != row_count) {
            // Rolled back by the commit block in the proxy's own transaction.
            if (own_transaction) {
                tracker_.set_status_flags(outcomes.back().ok.status_flags);
            } else {
                const bool undone = co_await undo_wrapped_write(false, true);
                if (!undone) co_return BoundWrite::lost;
            }
            const bool sent = co_await send_error(mysql_error::kNotSupportedYet, mysql_error::kNotSupportedYetState,
                                                  replaced_through_other_index(plan, *dedup_rules.front()->rule));
            co_return sent ? BoundWrite::answered : BoundWrite::lost;
        }
        if (failed_step == outcomes.size()) {
            auto answer = outcomes[client_step].ok;
            if (!doomed_rows.empty()) answer.affected_rows += outcomes[deleted_step].ok.affected_rows;
            const bool sent = co_await send_wrapped_ok(answer, outcomes.back().ok.status_flags);
            co_return sent ? BoundWrite::answered : BoundWrite::lost;
        }
        const bool rekey_failed = !doomed_rows.empty() && failed_step + 1 == deleted_step;
        const auto settled = co_await settle_pipelined_failure(outcomes, failed_step, client_step, own_transaction,
                                                               attempt, rekey_failed ? only_rule : nullptr);
        if (settled == WrappedResult::retry) continue;
        co_return settled == WrappedResult::answered ? BoundWrite::answered : BoundWrite::lost;
    }
}

}  // namespace uniqgate::proxy
