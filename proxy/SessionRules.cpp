// Rule enforcement in a Session: which statements concern a rule, and what
// the session does before relaying them (serialize mode: per-key locks and an
// existence check; see ../shared/DESIGN.md).
#include "proxy/InternalQuery.hpp"
#include "proxy/MysqlErrors.hpp"
#include "proxy/Session.hpp"
#include "proxy/SqlText.hpp"
#include "rules/Analyser.hpp"
#include "rules/StatementSplitter.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>

namespace uniqgate::proxy {

using protocol::Command;
using protocol::kFrameHeaderSize;

namespace {

// MySQL's own errors, so applications handle them as they would without the proxy.
using mysql_error::kNotSupportedYet;
using mysql_error::kNotSupportedYetState;

// The USE statement's database, if `sql` is one.
std::optional<std::string> use_target(std::string_view sql, const rules::LexOptions& options) {
    rules::Lexer lexer(sql, options);
    const rules::Token first = lexer.next();
    if (!first.is_keyword("USE")) return std::nullopt;
    const rules::Token name = lexer.next();
    if (name.kind != rules::TokenKind::identifier && name.kind != rules::TokenKind::quoted_identifier) {
        return std::nullopt;
    }
    return rules::identifier_value(name);
}

// Every rule that cannot check the statement allows it to pass unchecked.
bool all_unsupported_pass_through(const rules::WritePlan& plan) {
    for (const auto& rule : plan.rules) {
        if (!rule.unsupported.empty() && rule.rule->unsupported != config::Unsupported::passthrough) return false;
    }
    return true;
}

}  // namespace

bool Session::hides(int rule_table) const noexcept {
    return std::find(hidden_rule_tables_.begin(), hidden_rule_tables_.end(), rule_table) != hidden_rule_tables_.end();
}

// After a CREATE TEMPORARY TABLE or DROP TABLE the server accepted. A DROP TABLE of a name
// a temporary table hides drops the temporary table (a DROP of the base table itself
// leaves nothing to hide either).
void Session::note_temporary_tables(const rules::TemporaryTableChange& change) {
    for (const int table : change.dropped) std::erase(hidden_rule_tables_, table);
    for (const int table : change.created) {
        if (!hides(table)) hidden_rule_tables_.push_back(table);
    }
}

rules::TemporaryTableChange Session::temporary_table_change_of(std::string_view sql,
                                                               const rules::Classification& classification,
                                                               const rules::SessionContext& context) const {
    // Only statements that may create or drop tables can change what a temporary table hides.
    const bool may_change_tables =
        classification.kind == rules::StatementKind::ddl || classification.kind == rules::StatementKind::other;
    return may_change_tables ? rules::temporary_table_change(sql, context_.rules, context)
                             : rules::TemporaryTableChange{};
}

rules::SessionContext Session::rule_context() const noexcept {
    rules::SessionContext context;
    context.current_database = current_database_;
    context.no_backslash_escapes = (tracker_.status_flags() & protocol::status::no_backslash_escapes) != 0;
    context.charset = charset_;
    return context;
}

asio::awaitable<bool> Session::send_error(std::uint16_t code, std::string_view sql_state, const std::string& message) {
    const protocol::ErrPacket err{code, std::string(sql_state), message};
    const bool sent = co_await answer_error(err);
    co_return sent;
}

asio::awaitable<bool> Session::send_ok(std::uint64_t affected_rows, std::uint64_t last_insert_id) {
    protocol::OkPacket ok;
    ok.affected_rows = affected_rows;
    ok.last_insert_id = last_insert_id;
    ok.status_flags = tracker_.status_flags();
    const bool sent = co_await answer_ok(ok);
    co_return sent;
}

asio::awaitable<bool> Session::answer_error(const protocol::ErrPacket& error) {
    if (bulk_answers_) {
        if (!bulk_answers_->error) bulk_answers_->error = error;
        co_return true;
    }
    error_code ec;
    co_await write_packet(client_, protocol::encode_err(error, client_caps_), 1, ec);
    co_return !ec;
}

asio::awaitable<bool> Session::answer_ok(const protocol::OkPacket& ok) {
    if (bulk_answers_) {
        auto& total = bulk_answers_->total;
        total.affected_rows += ok.affected_rows;
        total.warnings = static_cast<std::uint16_t>(total.warnings + ok.warnings);
        if (total.last_insert_id == 0) total.last_insert_id = ok.last_insert_id;
        total.status_flags = ok.status_flags;
        co_return true;
    }
    error_code ec;
    co_await write_packet(client_, protocol::encode_ok(ok, client_caps_), 1, ec);
    co_return !ec;
}

asio::awaitable<bool> Session::answer_outcome(const StatementOutcome& outcome, std::uint16_t status_flags) {
    if (outcome.is_error) {
        // In a bulk execution run row by row, the bulk's end learns the status.
        const bool sent = co_await answer_error(outcome.error);
        co_return sent;
    }
    tracker_.set_status_flags(status_flags);
    const bool sent = co_await answer_ok(outcome.ok);
    co_return sent;
}

// Sends a statement the proxy (re)built or assembled, and relays its response (or,
// in a bulk execution run row by row, keeps it).
asio::awaitable<bool> Session::send_statement(std::string_view sql) {
    error_code ec;
    if (bulk_answers_) {
        auto outcomes = co_await run_internal_query(backend_, backend_buffer_, client_caps_, sql, ec);
        if (ec || outcomes.empty()) co_return false;
        const bool kept = co_await answer_outcome(outcomes.front(), outcomes.back().ok.status_flags);
        co_return kept;
    }
    const auto payload = protocol::encode_query(sql);
    co_await write_packet(backend_, payload, 0, ec);
    if (ec) co_return false;
    const auto next = tracker_.on_command(payload);
    if (next == protocol::ResponseTracker::Next::done) co_return true;
    const bool relayed = co_await relay_response();
    co_return relayed;
}

// COM_QUERY with rules configured. The whole statement is needed to classify it;
// statements that concern no rule are still relayed from the receive buffer.
asio::awaitable<bool> Session::intercept_query(std::uint32_t frame_length) {
    error_code ec;
    std::string assembled;
    std::string_view sql;
    const bool multi_frame = frame_length == protocol::kMaxFramePayload;
    if (multi_frame) {
        auto packet = co_await read_packet(client_, client_buffer_, SIZE_MAX, ec);
        if (ec) co_return false;
        assembled.assign(packet.payload.begin() + 1, packet.payload.end());
        sql = assembled;
    } else {
        co_await client_buffer_.fill(client_, kFrameHeaderSize + frame_length, ec);
        if (ec) co_return false;
        sql = std::string_view(reinterpret_cast<const char*>(client_buffer_.data()) + kFrameHeaderSize + 1,
                               frame_length - 1);
    }
    const bool single = co_await keep_client_query_single(sql);
    if (!single) co_return false;
    const auto context = rule_context();
    const auto classification = context_.rules.classify(sql, context);
    if (classification.kind == rules::StatementKind::ddl) context_.schemas.clear();
    // Only a BEGIN alone: "BEGIN; INSERT INTO other ..." may write (a trigger can reach a rule table).
    command_began_transaction_ = classification.kind == rules::StatementKind::transaction &&
                                 classification.transaction.effect == rules::TransactionEffect::begin &&
                                 rules::split_statements(sql, context.lex_options()).statements.size() == 1;
    if (classification.kind == rules::StatementKind::other) {
        if (auto database = use_target(sql, context.lex_options())) {
            pending_database_ = std::move(*database);
            database_change_pending_ = true;
        }
    }
    const auto temporary = temporary_table_change_of(sql, classification, context);
    if (!classification.involves_rule() || hides(classification.rule_table)) {
        bool relayed = false;
        if (multi_frame) {
            relayed = co_await send_statement(sql);
        } else {
            relayed = co_await relay_command(frame_length);
        }
        if (relayed && !temporary.empty() && !tracker_.ended_with_error()) note_temporary_tables(temporary);
        co_return relayed;
    }
    std::string statement(sql);
    if (!multi_frame) client_buffer_.consume(kFrameHeaderSize + frame_length);
    const bool enforced = co_await enforce(statement, classification);
    co_return enforced;
}

asio::awaitable<std::shared_ptr<const rules::TableSchema>> Session::table_schema(const std::string& schema,
                                                                                 const std::string& table,
                                                                                 error_code& ec) {
    if (auto cached = context_.schemas.find(schema, table)) co_return cached;
    const bool no_backslash = (tracker_.status_flags() & protocol::status::no_backslash_escapes) != 0;
    auto outcomes = co_await run_internal_query(backend_, backend_buffer_, client_caps_,
                                                schema_query(schema, table, no_backslash), ec);
    if (ec || outcomes.empty() || outcomes.front().is_error) co_return nullptr;
    auto facts = parse_schema_rows(outcomes.front().rows);
    if (!facts) co_return nullptr;
    auto shared = std::make_shared<const rules::TableSchema>(std::move(*facts));
    context_.schemas.store(schema, table, shared);
    co_return shared;
}

// The rule table's schema facts in the cache (looked up on the session's own
// connection if missing). Returns false if the connection failed; a table that
// cannot be found leaves the cache without it (the analyser then refuses).
asio::awaitable<bool> Session::load_table_facts(const rules::Classification& classification, error_code& ec) {
    const auto& table = context_.rules.tables()[static_cast<std::size_t>(classification.rule_table)];
    const std::string schema_name = table.name.schema.empty() ? current_database_ : table.name.schema;
    if (schema_name.empty()) co_return true;
    co_await table_schema(schema_name, table.name.table, ec);
    co_return !ec;
}

asio::awaitable<bool> Session::enforce(const std::string& sql, const rules::Classification& classification) {
    error_code ec;
    const bool have_facts = co_await load_table_facts(classification, ec);
    if (!have_facts) co_return false;
    const auto facts = cached_facts(classification);
    const auto decision = decide(sql, classification, rule_context(), facts.get());
    const bool done = co_await run_decision(sql, decision, facts.get());
    co_return done;
}

asio::awaitable<bool> Session::run_decision(const std::string& sql, const Decision& decision,
                                            const rules::TableSchema* facts) {
    bool done = false;
    switch (decision.verdict) {
        case Verdict::relay:
            done = co_await send_statement(sql);
            break;
        case Verdict::refuse:
            context_.metrics.statements_refused.fetch_add(1, std::memory_order_relaxed);
            done = co_await send_error(kNotSupportedYet, kNotSupportedYetState, "uniqgate: " + decision.reason);
            break;
        case Verdict::enforce_insert:
            done = co_await enforce_insert(sql, decision.plan, *facts);
            break;
        case Verdict::enforce_replace:
            done = co_await enforce_replace(sql, decision.plan, *facts);
            break;
        case Verdict::enforce_update:
            done = co_await enforce_update(sql, decision.plan, *facts);
            break;
        case Verdict::dedup_replace:
            done = co_await enforce_dedup_replace(sql, decision.plan, *facts);
            break;
        case Verdict::dedup_insert:
            done = co_await enforce_dedup_insert(sql, decision.plan, *facts);
            break;
        case Verdict::dedup_rows:
            done = co_await enforce_dedup_rows(sql, decision.plan, *facts);
            break;
        case Verdict::dedup_truncate:
            done = co_await enforce_dedup_truncate(sql, decision.plan);
            break;
    }
    co_return done;
}

// What to do with a statement that involves a rule table, before any I/O.
Session::Decision Session::decide(const std::string& sql, const rules::Classification& classification,
                                  const rules::SessionContext& context, const rules::TableSchema* facts) const {
    const auto& table = context_.rules.tables()[static_cast<std::size_t>(classification.rule_table)];
    const auto& first_rule = context_.rules.rules()[table.rule_indexes.front()];
    const auto refuse_unless_passthrough = [&](std::string reason, bool passthrough) {
        Decision decision;
        decision.verdict = passthrough ? Verdict::relay : Verdict::refuse;
        decision.reason = std::move(reason) + " (the rule's `unsupported: passthrough` relays such statements unchecked)";
        return decision;
    };
    const bool passthrough = first_rule.unsupported == config::Unsupported::passthrough;
    if (sql.find(';') != std::string::npos &&
        rules::split_statements(sql, context.lex_options()).statements.size() > 1) {
        return refuse_unless_passthrough("a multi-statement string writing table '" + table.name.table +
                                             "' cannot be checked for rule '" + first_rule.name + "'",
                                         passthrough);
    }
    if (context.current_database.empty() && table.name.schema.empty()) {
        return refuse_unless_passthrough("no database selected for table '" + table.name.table + "' of rule '" +
                                             first_rule.name + "'",
                                         passthrough);
    }
    Decision decision;
    decision.plan = rules::analyse_write(sql, classification, context_.rules, context, facts);
    const auto reason = decision.plan.unsupported_reason();
    if (!reason.empty()) {
        auto refusal = refuse_unless_passthrough(std::string(reason), all_unsupported_pass_through(decision.plan));
        refusal.plan = std::move(decision.plan);
        return refusal;
    }
    if (!decision.plan.needs_action()) {
        decision.verdict = Verdict::relay;
        return decision;
    }
    for (const auto& rule : decision.plan.rules) {
        if (rule.rule->mode == config::RuleMode::dedup && rule.actions.any()) {
            return decide_dedup(std::move(decision), facts);
        }
    }
    if (decision.plan.kind == rules::StatementKind::update) {
        if (facts == nullptr || facts->primary_key.empty()) {
            decision.verdict = Verdict::refuse;
            decision.reason = "an UPDATE that changes live keys of table '" + table.name.table + "' (rule '" +
                              first_rule.name + "') needs a primary key on the table to be checked";
            return decision;
        }
        decision.verdict = Verdict::enforce_update;
        return decision;
    }
    if (decision.plan.kind == rules::StatementKind::replace) {
        // Observe rules only log; serialize rules make REPLACE remove the live row holding the key.
        const bool serialized = std::any_of(decision.plan.rules.begin(), decision.plan.rules.end(),
                                            [](const auto& rule) { return rule.actions.lock_keys; });
        if (serialized && !decision.plan.insert.returning.empty()) {
            decision.verdict = Verdict::refuse;
            decision.reason = "REPLACE ... RETURNING on table '" + table.name.table + "' (rule '" + first_rule.name +
                              "') is not supported yet";
            return decision;
        }
        decision.verdict = serialized ? Verdict::enforce_replace : Verdict::enforce_insert;
        return decision;
    }
    if (decision.plan.kind != rules::StatementKind::insert) {
        decision.verdict = Verdict::refuse;
        decision.reason = std::string(rules::to_string(decision.plan.kind)) + " that changes the live keys of table '" +
                          table.name.table + "' (rule '" + first_rule.name + "') is not enforced yet";
        return decision;
    }
    decision.verdict = Verdict::enforce_insert;
    return decision;
}

// A write that changes live keys of a table with a dedup rule: which of the
// dedup paths keeps the dedup table exact, or why none can.
Session::Decision Session::decide_dedup(Decision decision, const rules::TableSchema* facts) const {
    const auto& plan = decision.plan;
    const config::Rule* dedup_rule = nullptr;
    std::size_t claiming_rules = 0;
    for (const auto& rule : plan.rules) {
        if (!rule.actions.any()) continue;
        if (rule.rule->mode != config::RuleMode::dedup) {
            decision.verdict = Verdict::refuse;
            decision.reason = "table '" + plan.table + "' has rules of different modes ('" + rule.rule->name +
                              "' is not dedup); give all its rules one mode";
            return decision;
        }
        dedup_rule = rule.rule;
        if (rule.actions.insert_dedup_keys) ++claiming_rules;
    }
    const auto refuse = [&](const std::string& what) {
        decision.verdict = Verdict::refuse;
        decision.reason = what + " on table '" + plan.table + "' (rule '" + dedup_rule->name +
                          "', mode dedup) is not supported yet";
        return decision;
    };
    switch (plan.kind) {
        case rules::StatementKind::insert: {
            const bool upsert = !plan.insert.on_duplicate_key_update.empty();
            if (upsert && (facts == nullptr || facts->primary_key.empty())) {
                return refuse("INSERT ... ON DUPLICATE KEY UPDATE without a primary key");
            }
            if (upsert && !plan.insert.row_alias.empty()) return refuse("INSERT ... AS <row alias> ON DUPLICATE KEY UPDATE");
            const bool row_by_row =
                upsert || plan.insert.ignore || dedup_rule->on_duplicate != config::OnDuplicate::error;
            // The plain wrapped write answers with the INSERT's own result set; the row-by-row
            // paths rewrite the INSERT, whose rows would then not be the client's.
            if (row_by_row && !plan.insert.returning.empty()) {
                return refuse("INSERT IGNORE, ON DUPLICATE KEY UPDATE or on_duplicate ignore/update with RETURNING");
            }
            if (row_by_row && claiming_rules > 1) return refuse("INSERT IGNORE or on_duplicate ignore/update with several dedup rules");
            decision.verdict = Verdict::dedup_insert;
            return decision;
        }
        case rules::StatementKind::replace:
            if (facts == nullptr || facts->primary_key.empty()) return refuse("REPLACE without a primary key");
            if (!plan.insert.returning.empty()) return refuse("REPLACE ... RETURNING");
            decision.verdict = Verdict::dedup_replace;
            return decision;
        case rules::StatementKind::update:
        case rules::StatementKind::delete_rows:
            if (facts == nullptr || facts->primary_key.empty()) {
                decision.verdict = Verdict::refuse;
                decision.reason = std::string(rules::to_string(plan.kind)) + " of table '" + plan.table + "' (rule '" +
                                  dedup_rule->name + "', mode dedup) needs a primary key on the table";
                return decision;
            }
            decision.verdict = Verdict::dedup_rows;
            return decision;
        case rules::StatementKind::truncate:
            decision.verdict = Verdict::dedup_truncate;
            return decision;
        default:
            return refuse(std::string(rules::to_string(plan.kind)));
    }
}

}  // namespace uniqgate::proxy
