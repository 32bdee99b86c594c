// Prepared statements on rule tables (see ../shared/DESIGN.md, "Prepared
// statements"). COM_STMT_PREPARE of a write that a rule must check is analysed
// and remembered; each COM_STMT_EXECUTE of it is decided as the same write as
// text (its bound values rendered as literals by the proxy) and runs through
// the text path — the same checks, the same answers. The proxy's own reads for
// it (serialize's existence checks) are prepared statements of the proxy's own,
// executed with the client's values bound as the client bound them. Writes the
// rules let pass (and everything not on a rule table) are relayed as the client
// sent them.
#include "proxy/DedupSql.hpp"
#include "proxy/MysqlErrors.hpp"
#include "proxy/PreparedWrites.hpp"
#include "proxy/Session.hpp"
#include "rules/Analyser.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <numeric>

namespace uniqgate::proxy {

using protocol::Command;
using protocol::kFrameHeaderSize;

namespace {

std::string cannot_bind(std::string_view what, std::string_view table, const std::error_code& error) {
    return "uniqgate: cannot read the " + std::string(what) + " of a prepared write to table '" + std::string(table) +
           "' (" + error.message() + "); send it as text or set unsupported: passthrough";
}

protocol::Bytes statement_command(Command command, std::uint32_t id) {
    return {static_cast<std::uint8_t>(command), static_cast<std::uint8_t>(id), static_cast<std::uint8_t>(id >> 8),
            static_cast<std::uint8_t>(id >> 16), static_cast<std::uint8_t>(id >> 24)};
}

// The values of an execute's parameters as BoundExecute keeps them: NULL as nullopt,
// long data from `long_data`.
void append_bound_values(std::vector<std::optional<std::string>>& values, const std::vector<protocol::ParamValue>& params,
                         const std::vector<std::string>& long_data) {
    for (std::size_t i = 0; i < params.size(); ++i) {
        const auto& param = params[i];
        if (param.kind == protocol::ParamValue::Kind::long_data && i < long_data.size()) {
            values.emplace_back(long_data[i]);
        } else if (param.is_value()) {
            values.emplace_back(std::string(reinterpret_cast<const char*>(param.bytes.data()), param.bytes.size()));
        } else {
            values.emplace_back(std::nullopt);
        }
    }
}

}  // namespace

// The verdicts whose statements of the proxy's own bind an execute's values
// (bound_execute_); the others relay it, refuse it, or send no write of the client's.
bool Session::binds_values(Verdict verdict) noexcept {
    return verdict == Verdict::enforce_insert || verdict == Verdict::enforce_replace ||
           verdict == Verdict::dedup_insert || verdict == Verdict::dedup_replace || verdict == Verdict::dedup_rows ||
           verdict == Verdict::enforce_update;
}

// An INSERT ... RETURNING whose rows a duplicate may drop or turn into an update of the
// live row: the proxy would have to assemble its result set (done for text only).
bool Session::returns_rows_of_changed_insert(const rules::WritePlan& plan) {
    if (plan.kind != rules::StatementKind::insert || plan.insert.returning.empty()) return false;
    if (plan.insert.ignore || !plan.insert.on_duplicate_key_update.empty()) return true;
    return std::any_of(plan.rules.begin(), plan.rules.end(), [](const rules::RulePlan& rule) {
        return rule.rule->on_duplicate != config::OnDuplicate::error;
    });
}

std::shared_ptr<const rules::TableSchema> Session::cached_facts(const rules::Classification& classification) const {
    const auto& table = context_.rules.tables()[static_cast<std::size_t>(classification.rule_table)];
    const std::string& schema = table.name.schema.empty() ? current_database_ : table.name.schema;
    return context_.schemas.find(schema, table.name.table);
}

// COM_STMT_PREPARE. A statement on a rule table that a rule must check is
// remembered under the id the server gives it; one that no rule can check is
// refused here, before the client ever executes it.
asio::awaitable<bool> Session::intercept_prepare(std::uint32_t frame_length) {
    error_code ec;
    co_await client_buffer_.fill(client_, kFrameHeaderSize + frame_length, ec);
    if (ec) co_return false;
    const std::string sql(reinterpret_cast<const char*>(client_buffer_.data()) + kFrameHeaderSize + 1, frame_length - 1);
    const auto context = rule_context();
    const auto classification = context_.rules.classify(sql, context);
    if (!classification.involves_rule() || hides(classification.rule_table)) {
        // A CREATE TEMPORARY TABLE or DROP TABLE of a rule table's name changes what the
        // session's writes reach each time it runs, as it would as text.
        const auto change = temporary_table_change_of(sql, classification, context);
        const bool relayed = co_await relay_prepare(frame_length, nullptr, change.empty() ? nullptr : &change);
        co_return relayed;
    }
    const bool have_facts = co_await load_table_facts(classification, ec);
    if (!have_facts) co_return false;
    const auto facts = cached_facts(classification);
    auto decision = decide(sql, classification, context, facts.get());
    if (decision.verdict != Verdict::relay && decision.verdict != Verdict::refuse &&
        returns_rows_of_changed_insert(decision.plan)) {
        // Its answer would be rows the proxy rebuilds (rows skipped, or turned into updates).
        decision.verdict = Verdict::refuse;
        decision.reason = "a prepared INSERT ... RETURNING into table '" + decision.plan.table +
                          "' with INSERT IGNORE, ON DUPLICATE KEY UPDATE or on_duplicate ignore/update cannot be "
                          "checked; send it as text";
    }
    if (decision.verdict == Verdict::refuse) {
        client_buffer_.consume(kFrameHeaderSize + frame_length);
        context_.metrics.statements_refused.fetch_add(1, std::memory_order_relaxed);
        const bool sent = co_await send_error(mysql_error::kNotSupportedYet, mysql_error::kNotSupportedYetState,
                                              "uniqgate: " + decision.reason);
        co_return sent;
    }
    if (decision.verdict == Verdict::relay) {
        const bool relayed = co_await relay_prepare(frame_length, nullptr);
        co_return relayed;
    }
    PreparedWrite write;
    write.sql = sql;
    write.rule_table = classification.rule_table;
    write.placeholders = find_placeholders(sql, context.lex_options(), &write.row_counts);
    const auto& insert = decision.plan.insert;
    if (decision.plan.kind == rules::StatementKind::insert && !insert.set_form && insert.rows.size() == 1) {
        write.values_row = insert.rows.front();
    }
    write.returns_rows = decision.plan.kind == rules::StatementKind::insert && !insert.returning.empty();
    const bool relayed = co_await relay_prepare(frame_length, &write);
    co_return relayed;
}

// Relays a COM_STMT_PREPARE and its response, reading the statement id and
// parameter count from the first response packet on the way.
asio::awaitable<bool> Session::relay_prepare(std::uint32_t frame_length, PreparedWrite* track,
                                            const rules::TemporaryTableChange* table_change) {
    const auto next = tracker_.on_command({client_buffer_.data() + kFrameHeaderSize, frame_length});
    const bool forwarded = co_await relay_command_packet(frame_length);
    if (!forwarded) co_return false;
    if (next == protocol::ResponseTracker::Next::done) co_return true;
    error_code ec;
    co_await backend_buffer_.fill(backend_, kFrameHeaderSize, ec);
    if (ec) co_return false;
    const auto header = protocol::decode_frame_header(backend_buffer_.data());
    if (header.payload_length < 64) {  // a PREPARE_OK is 12 bytes; an ERR is not looked at
        co_await backend_buffer_.fill(backend_, kFrameHeaderSize + header.payload_length, ec);
        if (ec) co_return false;
        const auto ok = protocol::decode_stmt_prepare_ok({backend_buffer_.data() + kFrameHeaderSize, header.payload_length});
        if (ok) {
            prepared_writes_.prepared(ok.value().statement_id);
            own_statement_prepared_last_ = false;
            if (table_change != nullptr) prepared_writes_.remember(ok.value().statement_id, *table_change);
            if (track != nullptr) {
                track->param_count = ok.value().num_params;
                if (track->placeholders.size() == track->param_count) {
                    prepared_writes_.remember(ok.value().statement_id, std::move(*track));
                } else {
                    spdlog::warn("session {}: the server counts {} parameters in a prepared write, uniqgate {}; "
                                 "its executes will be refused",
                                 id_, track->param_count, track->placeholders.size());
                    prepared_writes_.remember(ok.value().statement_id, std::move(*track));
                }
            }
        }
    }
    const bool relayed = co_await relay_response();
    co_return relayed;
}

// COM_STMT_EXECUTE of a remembered write: bound into text, decided and enforced
// like the same statement sent as COM_QUERY.
asio::awaitable<bool> Session::intercept_execute(std::uint32_t frame_length) {
    const auto id = statement_id_of({client_buffer_.data() + kFrameHeaderSize, std::min<std::size_t>(frame_length, 5)});
    PreparedWrite* write = id ? prepared_writes_.find(*id) : nullptr;
    if (write == nullptr) {
        const auto* table_change = id ? prepared_writes_.find_table_change(*id) : nullptr;
        std::optional<rules::TemporaryTableChange> change;
        if (table_change != nullptr) change = *table_change;
        const bool relayed = co_await relay_command(frame_length);
        if (relayed && change && !tracker_.ended_with_error()) note_temporary_tables(*change);
        co_return relayed;
    }
    error_code ec;
    auto packet = co_await read_packet(client_, client_buffer_, SIZE_MAX, ec);
    if (ec) co_return false;
    const auto& table = context_.rules.tables()[static_cast<std::size_t>(write->rule_table)];
    auto decoded = protocol::decode_stmt_execute(packet.payload, write->param_count, write->types, write->has_long_data);
    if (!decoded || write->placeholders.size() != write->param_count) {
        const auto error = decoded ? make_error_code(protocol::ProtocolErrc::unsupported) : decoded.error();
        write->has_long_data.assign(write->param_count, false);
        const bool sent = co_await send_error(mysql_error::kNotSupportedYet, mysql_error::kNotSupportedYetState,
                                              cannot_bind("parameters", table.name.table, error));
        co_return sent;
    }
    auto& execute = decoded.value();
    if (execute.new_params_bound) write->types = execute.types;
    BoundExecute bound{write->sql, write->placeholders, {}, execute.types, {}};
    append_bound_values(bound.values, execute.params, write->long_data);
    auto text = bind_as_text(*write, execute, charset_name_);
    if (!text) {
        write->has_long_data.assign(write->param_count, false);
        const bool sent = co_await send_error(mysql_error::kNotSupportedYet, mysql_error::kNotSupportedYetState,
                                              cannot_bind("parameter values", table.name.table, text.error()));
        co_return sent;
    }
    const std::string sql = std::move(text).value();
    const auto classification = context_.rules.classify(sql, rule_context());
    bool used_long_data = false;
    for (const bool sent : write->has_long_data) used_long_data = used_long_data || sent;
    write->has_long_data.assign(write->param_count, false);  // the server forgets them after an execute, too
    for (auto& chunk : write->long_data) chunk.clear();

    // The execute as the server must get it: with its parameter types if the server
    // has not seen them yet (the execute that carried them ran as text). From here on
    // `execute` must not be read: its values pointed into the packet.
    protocol::Bytes payload = std::move(packet.payload);
    if (!execute.new_params_bound && !write->server_has_types) {
        execute.new_params_bound = true;
        payload = protocol::encode_stmt_execute(execute);
    }
    if (hides(write->rule_table)) {  // prepared before a temporary table took the name
        write->server_has_types = true;
        const bool relayed = co_await forward_execute(payload);
        co_return relayed;
    }
    const bool have_facts = co_await load_table_facts(classification, ec);
    if (!have_facts) co_return false;
    const auto facts = cached_facts(classification);
    const auto decision = decide(sql, classification, rule_context(), facts.get());
    if (decision.verdict == Verdict::relay) {
        write->server_has_types = true;
        const bool relayed = co_await forward_execute(payload);
        co_return relayed;
    }
    const std::uint32_t statement_id = prepared_writes_.resolve(*id);
    pending_execute_ = &payload;
    pending_execute_sent_ = false;
    if (binds_values(decision.verdict)) {
        // The proxy's own statements bind the values: they need the plan of the statement
        // as prepared, whose values are its parameters.
        bound.analysis = plan_as_prepared(*write, facts);
        bound.used_long_data = used_long_data;
        bound.write = write;
        bound_execute_ = std::move(bound);
    }
    // With long data, the client's write is its statement prepared by the proxy: prepared
    // first, so that the write's own statements cannot evict it (dedup_rows never sends it).
    OwnBlock copy = OwnBlock::ready;
    if (used_long_data && bound_execute_ && decision.verdict != Verdict::dedup_rows) {
        copy = co_await prepare_client_write();
    }
    bool done = copy == OwnBlock::refused;
    if (copy == OwnBlock::ready) done = co_await run_decision(sql, decision, facts.get());
    bound_execute_.reset();
    pending_execute_ = nullptr;
    if (pending_execute_sent_) write->server_has_types = true;
    if (!done) co_return false;
    if (!used_long_data || pending_execute_sent_) co_return true;
    // The execute never reached the server, which still holds the long data.
    const auto reset = statement_command(Command::stmt_reset, statement_id);
    co_await write_packet(backend_, reset, 0, ec);
    if (ec) co_return false;
    co_await read_packet(backend_, backend_buffer_, 1024, ec);
    co_return !ec;
}

// The plan of a statement as prepared (its values are `?` parameters), for the proxy's
// own statements to bind from.
std::shared_ptr<const rules::WritePlan> Session::plan_as_prepared(const std::string& sql,
                                                                  const rules::Classification& classification,
                                                                  const rules::TableSchema* facts) const {
    return std::make_shared<const rules::WritePlan>(
        rules::analyse_write(sql, classification, context_.rules, rule_context(), facts));
}

// The plan of a remembered write as prepared, from its cache while that was made under
// the same facts and session context (PreparedWrite::PlanAsPrepared).
std::shared_ptr<const rules::WritePlan> Session::plan_as_prepared(
    PreparedWrite& write, const std::shared_ptr<const rules::TableSchema>& facts) const {
    const auto context = rule_context();
    auto& cached = write.plan_as_prepared;
    if (cached.made_under(context, facts)) return cached.plan;
    cached.plan = plan_as_prepared(write.sql, context_.rules.classify(write.sql, context), facts.get());
    cached.facts = facts;
    cached.database = std::string(context.current_database);
    cached.no_backslash_escapes = context.no_backslash_escapes;
    cached.lower_case_table_names = context.lower_case_table_names;
    cached.charset = context.charset;
    cached.fits_one_block.reset();
    return cached.plan;
}

asio::awaitable<bool> Session::forward_execute(const protocol::Bytes& payload) {
    error_code ec;
    if (bulk_answers_) {
        const auto outcome = co_await run_internal_execute(backend_, backend_buffer_, client_caps_, payload, ec);
        if (ec) co_return false;
        const bool kept = co_await answer_outcome(outcome, outcome.ok.status_flags);
        co_return kept;
    }
    tracker_.on_command(payload);
    co_await write_packet(backend_, payload, 0, ec);
    if (ec) co_return false;
    const bool relayed = co_await relay_response();
    co_return relayed;
}

// The client's write itself, once the rules let it through unchanged: its own
// COM_STMT_EXECUTE when it came as one (the server runs the statement it prepared,
// with the values exactly as bound), otherwise `sql`.
asio::awaitable<bool> Session::send_client_write(const std::string& sql) {
    if (pending_execute_ == nullptr) {
        const bool sent = co_await send_statement(sql);
        co_return sent;
    }
    if (bound_execute_ && bound_execute_->no_client_execute) {
        const auto copy = co_await client_write_command();
        if (copy.empty()) co_return false;
        const bool sent = co_await forward_execute(copy);
        co_return sent;
    }
    pending_execute_sent_ = true;
    const bool sent = co_await forward_execute(*pending_execute_);
    co_return sent;
}

// The client's write as a command of the proxy's: its own COM_STMT_EXECUTE; or, when it
// carried long data (which the server forgets after one execute, while the proxy may run
// the write again after a deadlock), the client's statement prepared by the proxy with
// every value bound inline, long data included. Empty when that cannot be sent.
asio::awaitable<protocol::Bytes> Session::client_write_command() {
    if (sends_clients_execute()) co_return *pending_execute_;
    const auto& bound = *bound_execute_;
    std::uint32_t id = 0;
    protocol::ErrPacket refused{};
    const bool alive = co_await own_statement(bound.sql, bound.values.size(), id, refused);
    if (!alive || refused.error_code != 0) co_return protocol::Bytes{};
    std::vector<std::uint32_t> every_parameter(bound.values.size());
    std::iota(every_parameter.begin(), every_parameter.end(), 0U);
    co_return own_execute(id, every_parameter);
}

// Prepares what client_write_command sends when that is the client's statement as the
// proxy's own (long data, bulk rows), before anything else of the write runs. A server
// that refuses it (max_prepared_stmt_count reached; DEFAULT where a bulk row's indicator
// put it and SQL allows none) has that refusal answered: `refused`.
asio::awaitable<Session::OwnBlock> Session::prepare_client_write() {
    if (sends_clients_execute()) co_return OwnBlock::ready;
    std::uint32_t id = 0;
    protocol::ErrPacket refused{};
    const bool alive = co_await own_statement(bound_execute_->sql, bound_execute_->values.size(), id, refused);
    if (!alive) co_return OwnBlock::lost;
    if (refused.error_code == 0) co_return OwnBlock::ready;
    const bool sent = co_await answer_error(refused);
    co_return sent ? OwnBlock::refused : OwnBlock::lost;
}

// Appends client_write_command to a pipeline; false when it cannot be sent.
asio::awaitable<bool> Session::append_client_write(std::vector<protocol::Bytes>& commands) {
    auto command = co_await client_write_command();
    if (command.empty()) co_return false;
    commands.push_back(std::move(command));
    co_return true;
}

// COM_STMT_SEND_LONG_DATA, COM_STMT_RESET, COM_STMT_CLOSE and MariaDB's
// COM_STMT_BULK_EXECUTE on a remembered write; everything else is relayed.
asio::awaitable<bool> Session::intercept_statement_command(Command command, std::uint32_t frame_length) {
    const auto id = statement_id_of({client_buffer_.data() + kFrameHeaderSize, std::min<std::size_t>(frame_length, 5)});
    PreparedWrite* write = id ? prepared_writes_.find(*id) : nullptr;
    if (write == nullptr) {
        if (id && command == Command::stmt_close) prepared_writes_.forget(*id);  // a table change's statement
        const bool relayed = co_await relay_command(frame_length);
        co_return relayed;
    }
    if (command == Command::stmt_send_long_data) {
        error_code ec;
        auto packet = co_await read_packet(client_, client_buffer_, SIZE_MAX, ec);
        if (ec) co_return false;
        const auto chunk = protocol::decode_send_long_data(packet.payload);
        if (chunk && chunk.value().param_index < write->param_count) {
            const auto& data = chunk.value().data;
            write->long_data[chunk.value().param_index].append(reinterpret_cast<const char*>(data.data()), data.size());
            write->has_long_data[chunk.value().param_index] = true;
        }
        tracker_.on_command(packet.payload);
        co_await write_packet(backend_, packet.payload, 0, ec);
        co_return !ec;  // no response
    }
    const auto& table = context_.rules.tables()[static_cast<std::size_t>(write->rule_table)];
    const bool passthrough =
        context_.rules.rules()[table.rule_indexes.front()].unsupported == config::Unsupported::passthrough;
    if (command == Command::mariadb_stmt_bulk_execute && !passthrough && !hides(write->rule_table)) {
        const bool done = co_await intercept_bulk_execute(*write, table.name.table);
        co_return done;
    }
    if (command == Command::stmt_close) {
        prepared_writes_.forget(*id);
    } else if (command == Command::stmt_reset) {
        write->has_long_data.assign(write->param_count, false);
        for (auto& chunk : write->long_data) chunk.clear();
    }
    const bool relayed = co_await relay_command(frame_length);
    co_return relayed;
}

// MariaDB's COM_STMT_BULK_EXECUTE (Connector/J batches) of a remembered INSERT:
// one multi-row INSERT as text, enforced like one; its OK (total affected rows,
// first insert id) is what the server answers a bulk insert without unit results.
asio::awaitable<bool> Session::intercept_bulk_execute(PreparedWrite& write, const std::string& table) {
    error_code ec;
    auto packet = co_await read_packet(client_, client_buffer_, SIZE_MAX, ec);
    if (ec) co_return false;
    auto decoded = protocol::decode_stmt_bulk_execute(packet.payload, write.param_count, write.types);
    std::string refusal;
    if (!decoded) {
        refusal = cannot_bind("bulk parameters", table, decoded.error());
    } else if (decoded.value().flags & protocol::bulk_flag::send_unit_results) {
        refusal = "uniqgate: bulk execution with per-row results of a prepared write to table '" + table +
                  "' is not enforced yet; execute it row by row (Connector/J: useBulkStmts=false)";
    } else if (write.returns_rows) {
        // The proxy answers a bulk with an OK of its own; this one's answer is rows.
        refusal = "uniqgate: bulk execution of a prepared INSERT ... RETURNING into table '" + table +
                  "' is not enforced yet; execute it row by row";
    } else if (write.values_row.empty()) {
        // Not one multi-row INSERT: each row becomes the statement, all in one transaction.
        if (decoded.value().flags & protocol::bulk_flag::send_types_to_server) write.types = decoded.value().types;
        const bool done = co_await run_bulk_row_by_row(write, decoded.value(), table);
        co_return done;
    }
    std::string sql;
    if (refusal.empty()) {
        if (decoded.value().flags & protocol::bulk_flag::send_types_to_server) write.types = decoded.value().types;
        auto text = bind_rows_as_text(write, write.values_row, decoded.value(), charset_name_);
        if (text) {
            sql = std::move(text).value();
        } else {
            refusal = cannot_bind("bulk parameter values", table, text.error());
        }
    }
    if (!refusal.empty()) {
        context_.metrics.statements_refused.fetch_add(1, std::memory_order_relaxed);
        const bool sent = co_await send_error(mysql_error::kNotSupportedYet, mysql_error::kNotSupportedYetState, refusal);
        co_return sent;
    }
    const auto classification = context_.rules.classify(sql, rule_context());
    const bool have_facts = co_await load_table_facts(classification, ec);
    if (!have_facts) co_return false;
    if (!bind_bulk_insert(write, decoded.value())) {
        const bool done = co_await enforce(sql, classification);
        co_return done;
    }
    // Enforced like an execute of its rows' statement: what the proxy sends binds the values.
    const protocol::Bytes no_client_execute;
    pending_execute_ = &no_client_execute;
    const OwnBlock copy = co_await prepare_client_write();  // prepared first, as for long data
    bool done = copy == OwnBlock::refused;
    if (copy == OwnBlock::ready) done = co_await enforce(sql, classification);
    pending_execute_ = nullptr;
    bound_execute_.reset();
    co_return done;
}

// A bulk execution of a one-row INSERT ... VALUES as the execute of one statement with a
// row for each of its rows: bound_execute_ (no_client_execute: its write is the statement
// prepared by the proxy; a DEFAULT or IGNORE indicator is DEFAULT there). False, with
// nothing set, when the plans do not line up.
bool Session::bind_bulk_insert(PreparedWrite& write, const protocol::StmtBulkExecute& bulk) {
    if (bulk.rows.empty() || write.values_row.empty() || write.types.size() != write.param_count) return false;
    BoundRows rows{write.sql.substr(0, write.values_row.begin)};
    for (std::size_t i = 0; i < bulk.rows.size(); ++i) {
        if (i > 0) rows.sql += ", ";
        if (!append_bulk_row(rows, write, write.values_row, write.types, bulk.rows[i])) return false;
    }
    rows.sql.append(write.sql, write.values_row.end);
    const auto context = rule_context();
    BoundExecute bound{std::move(rows.sql), {}, {}, std::move(rows.types), std::move(rows.values)};
    bound.placeholders = find_placeholders(bound.sql, context.lex_options());
    if (bound.placeholders.size() != bound.values.size()) return false;
    const auto classification = context_.rules.classify(bound.sql, context);
    const auto facts = cached_facts(classification);
    bound.analysis = plan_as_prepared(bound.sql, classification, facts.get());
    if (bound.plan().insert.rows.size() != bulk.rows.size()) return false;
    bound.no_client_execute = true;
    bound.write = &write;
    bound_execute_ = std::move(bound);
    return true;
}

// MariaDB's COM_STMT_BULK_EXECUTE of a remembered write other than a one-row INSERT
// (Connector/J 2.x batches UPDATEs and DELETEs this way by default): the statement
// bound with each row in turn, decided and enforced like the same statement sent as
// text, all of it one statement's worth of work as the server does a bulk execution:
// in a transaction of the proxy's own in autocommit, under a savepoint in the
// client's; the first failure undoes every row and is the answer, otherwise one OK
// with the summed affected rows.
asio::awaitable<bool> Session::run_bulk_row_by_row(PreparedWrite& write, const protocol::StmtBulkExecute& bulk,
                                                   const std::string& table) {
    static constexpr std::string_view kBulkSavepoint = "uniqgate_bulk";
    std::vector<std::string> statements;  // rendered, to decide; sent only for rows that cannot be bound
    for (const auto& row : bulk.rows) {
        protocol::StmtExecute execute;
        execute.types = bulk.types;
        execute.params = row;
        const bool leaves_a_column_alone = std::any_of(row.begin(), row.end(), [](const auto& value) {
            return value.kind == protocol::ParamValue::Kind::ignore;
        });
        auto text = leaves_a_column_alone ? protocol::Result<std::string>(protocol::ProtocolErrc::unsupported)
                                          : bind_as_text(write, execute, charset_name_);
        if (!text) {
            context_.metrics.statements_refused.fetch_add(1, std::memory_order_relaxed);
            const bool sent = co_await send_error(mysql_error::kNotSupportedYet, mysql_error::kNotSupportedYetState,
                                                  cannot_bind("bulk parameter values", table, text.error()));
            co_return sent;
        }
        statements.push_back(std::move(text).value());
    }
    const bool refreshed = co_await refresh_status_if_uncertain();
    if (!refreshed) co_return false;
    const bool own_transaction = opens_own_transaction(tracker_.status_flags());
    error_code ec;
    // Named, not a temporary in the co_await expression (GCC 12, docs/DEVELOPING.md).
    const std::string begin = own_transaction ? std::string("START TRANSACTION") : "SAVEPOINT " + std::string(kBulkSavepoint);
    auto begun = co_await run_internal_query(backend_, backend_buffer_, client_caps_, begin, ec);
    if (ec || begun.empty()) co_return false;
    if (begun.front().is_error) {
        const bool sent = co_await answer_error(begun.front().error);
        co_return sent;
    }
    tracker_.set_status_flags(begun.front().ok.status_flags);
    bulk_answers_.emplace();
    bool alive = true;
    for (std::size_t row = 0; row < statements.size(); ++row) {
        alive = co_await enforce_bulk_row(write, bulk.types, bulk.rows[row], statements[row]);
        own_writes_pending_ = true;  // the next row's check must see this row's write
        if (!alive || bulk_answers_->error) break;
    }
    BulkAnswers answers = std::move(*bulk_answers_);
    bulk_answers_.reset();
    if (!alive) co_return false;
    std::string finish = own_transaction ? "COMMIT" : "RELEASE SAVEPOINT " + std::string(kBulkSavepoint);
    if (answers.error) finish = own_transaction ? "ROLLBACK" : "ROLLBACK TO SAVEPOINT " + std::string(kBulkSavepoint);
    auto finished = co_await run_internal_query(backend_, backend_buffer_, client_caps_, finish, ec);
    if (ec || finished.empty()) co_return false;
    if (finished.front().is_error) {
        // COMMIT failed, or the savepoint went with a transaction a deadlock rolled back:
        // the status after it says where the session stands.
        if (!answers.error) answers.error = finished.front().error;
        finished = co_await run_internal_query(backend_, backend_buffer_, client_caps_, "DO 0", ec);
        if (ec || finished.empty()) co_return false;
    }
    if (!finished.front().is_error) tracker_.set_status_flags(finished.front().ok.status_flags);
    if (answers.error) {
        const bool sent = co_await answer_error(*answers.error);
        co_return sent;
    }
    answers.total.status_flags = tracker_.status_flags();
    const bool sent = co_await answer_ok(answers.total);
    co_return sent;
}

// One row of a bulk execution run row by row, decided on its rendered text `sql` like an
// execute of the statement with the row's values: what the proxy sends binds them (the
// client's write is its statement prepared by the proxy: there is no execute of the
// client's to forward). A DEFAULT indicator is DEFAULT in that statement.
asio::awaitable<bool> Session::enforce_bulk_row(PreparedWrite& write, const std::vector<protocol::ParamType>& types,
                                                const std::vector<protocol::ParamValue>& row, const std::string& sql) {
    error_code ec;
    const auto context = rule_context();
    const auto classification = context_.rules.classify(sql, context);
    const bool have_facts = co_await load_table_facts(classification, ec);
    if (!have_facts) co_return false;
    const auto facts = cached_facts(classification);
    const auto decision = decide(sql, classification, context, facts.get());
    BoundRows rows;
    const bool bindable = (decision.verdict == Verdict::relay || binds_values(decision.verdict)) &&
                          append_bulk_row(rows, write, {0, static_cast<std::uint32_t>(write.sql.size())}, types, row);
    if (!bindable) {
        const bool done = co_await run_decision(sql, decision, facts.get());
        co_return done;
    }
    BoundExecute bound{std::move(rows.sql), {}, {}, std::move(rows.types), std::move(rows.values)};
    if (bound.sql == write.sql) {
        bound.placeholders = write.placeholders;
        bound.analysis = plan_as_prepared(write, facts);
    } else {  // DEFAULT in the place of some `?`
        bound.placeholders = find_placeholders(bound.sql, context.lex_options());
        bound.analysis = plan_as_prepared(bound.sql, context_.rules.classify(bound.sql, context), facts.get());
    }
    bound.no_client_execute = true;
    bound.write = &write;
    bound_execute_ = std::move(bound);
    const protocol::Bytes no_client_execute;
    pending_execute_ = &no_client_execute;
    const OwnBlock copy = co_await prepare_client_write();  // prepared first, as for long data
    bool done = copy == OwnBlock::refused;
    if (copy == OwnBlock::ready && decision.verdict == Verdict::relay) {
        const auto execute = co_await client_write_command();
        if (!execute.empty()) done = co_await forward_execute(execute);
    } else if (copy == OwnBlock::ready) {
        done = co_await run_decision(sql, decision, facts.get());
    }
    pending_execute_ = nullptr;
    bound_execute_.reset();
    co_return done;
}

// The plan of the execute being enforced (bound_execute_) for the same rule as
// `rendered`, a rule of the plan of its text with the values written in; nullptr
// when there is none or the two do not line up row for row.
const rules::RulePlan* Session::bound_rule_plan(const rules::RulePlan& rendered) const noexcept {
    if (!bound_execute_) return nullptr;
    for (const auto& rule : bound_execute_->plan().rules) {
        if (rule.rule_index == rendered.rule_index && rule.rows.size() == rendered.rows.size()) return &rule;
    }
    return nullptr;
}

const rules::RulePlan* Session::bindable_keys(const rules::RulePlan& rule) const {
    const rules::RulePlan* bound = bound_rule_plan(rule);
    if (bound == nullptr) return nullptr;
    for (const std::size_t row : rows_in_key_order(rule)) {
        for (const auto& value : bound->row_key_values(row)) {
            if (value.kind != rules::ValueKind::parameter && value.kind != rules::ValueKind::literal &&
                value.kind != rules::ValueKind::column_default) {
                return nullptr;
            }
        }
    }
    return bound;
}

// The execute's parameters `indexes` for the control connection's libmariadb; an index
// past the client's parameters is one of `own_values` (see own_execute).
std::vector<BoundParameter> Session::bound_parameters(const std::vector<std::uint32_t>& indexes,
                                                      const std::vector<std::optional<std::string>>& own_values) const {
    const std::size_t client_count = bound_execute_ ? bound_execute_->values.size() : 0;
    std::vector<BoundParameter> out;
    for (const std::uint32_t index : indexes) {
        auto& param = out.emplace_back();
        if (index >= client_count) {
            if (index - client_count >= own_values.size()) continue;
            param.type = protocol::field_type::var_string;
            param.bytes = own_values[index - client_count];
            continue;
        }
        if (index >= bound_execute_->types.size()) continue;
        param.type = bound_execute_->types[index].type;
        param.is_unsigned = bound_execute_->types[index].is_unsigned();
        param.bytes = bound_execute_->values[index];
    }
    return out;
}

// Keeps up to 64 of the proxy's own prepared statements per session; when `count` more
// would not fit, all of them are closed (and prepared anew when used again). A write that
// needs several statements makes room for all of them first, so that preparing the last
// cannot close the first.
asio::awaitable<bool> Session::make_room_for_own_statements(std::size_t count) {
    static constexpr std::size_t kMaxOwnStatements = 64;
    if (own_statements_.size() + count <= kMaxOwnStatements) co_return true;
    // The copy of a client's statement that carried long data stays: the write being
    // enforced prepared it first (client_write_command).
    const std::string* keep = sends_clients_execute() ? nullptr : &bound_execute_->sql;
    protocol::Bytes closes;  // COM_STMT_CLOSE has no answer: all of them in one write
    for (auto it = own_statements_.begin(); it != own_statements_.end();) {
        if (keep != nullptr && it->first == *keep) {
            ++it;
            continue;
        }
        std::uint8_t sequence_id = 0;
        protocol::append_packet(closes, protocol::encode_stmt_close(it->second), sequence_id);
        it = own_statements_.erase(it);
    }
    error_code ec;
    co_await backend_.write_all(asio::buffer(closes), ec);
    co_return !ec;
}

// One of the proxy's own prepared statements on the backend connection: prepared on
// first use and kept by its text. Returns false when the connection failed; when the
// server refuses it, `failure` says why (error_code 0 otherwise).
asio::awaitable<bool> Session::own_statement(const std::string& sql, std::size_t parameter_count, std::uint32_t& id,
                                             protocol::ErrPacket& failure) {
    if (const auto found = own_statements_.find(sql); found != own_statements_.end()) {
        id = found->second;
        co_return true;
    }
    const bool room = co_await make_room_for_own_statements(1);
    if (!room) co_return false;
    error_code ec;
    const auto prepared = co_await run_internal_prepare(backend_, backend_buffer_, client_caps_, sql, ec);
    if (ec) co_return false;
    own_statement_prepared_last_ = true;
    if (prepared.is_error) {
        failure = prepared.error;
        co_return true;
    }
    if (prepared.ok.num_params != parameter_count) {
        // Not kept: its parameters would be bound to the wrong places.
        failure = {mysql_error::kNotSupportedYet, std::string(mysql_error::kNotSupportedYetState),
                   "uniqgate: the server counts " + std::to_string(prepared.ok.num_params) +
                       " parameters in the proxy's own statement, uniqgate " + std::to_string(parameter_count)};
        protocol::Bytes close;
        std::uint8_t sequence_id = 0;
        protocol::append_packet(close, protocol::encode_stmt_close(prepared.ok.statement_id), sequence_id);
        co_await backend_.write_all(asio::buffer(close), ec);
        co_return !ec;
    }
    own_statements_.emplace(sql, prepared.ok.statement_id);
    id = prepared.ok.statement_id;
    co_return true;
}

// A COM_STMT_EXECUTE of the proxy's own statement `id` with the execute's parameters
// `parameters` (indexes into bound_execute_) bound as the client bound them; an index
// past the client's parameters binds `own_values` (the proxy's, as strings) from its
// first on. Empty when an index is out of range.
protocol::Bytes Session::own_execute(std::uint32_t id, const std::vector<std::uint32_t>& parameters,
                                     const std::vector<std::optional<std::string>>& own_values) const {
    const std::size_t client_count = bound_execute_ ? bound_execute_->values.size() : 0;
    if (bound_execute_ && bound_execute_->types.size() != client_count) return {};
    protocol::StmtExecute execute;
    execute.statement_id = id;
    execute.new_params_bound = true;
    for (const std::uint32_t index : parameters) {
        const bool own = index >= client_count;
        if (own && index - client_count >= own_values.size()) return {};
        const auto& value = own ? own_values[index - client_count] : bound_execute_->values[index];
        execute.types.push_back(own ? protocol::ParamType{protocol::field_type::var_string, 0} : bound_execute_->types[index]);
        execute.params.push_back(value ? protocol::ParamValue::of(std::string_view(*value)) : protocol::ParamValue{});
    }
    return protocol::encode_stmt_execute(execute);
}

Session::OwnValues Session::primary_keys_bound(const std::vector<protocol::TextRow>& rows,
                                               std::size_t key_columns) const {
    const std::size_t client_count = bound_execute_ ? bound_execute_->values.size() : 0;
    OwnValues out;
    for (const auto& row : rows) {
        for (std::size_t i = 0; i < key_columns && i < row.size(); ++i) {
            out.parameters.push_back(static_cast<std::uint32_t>(client_count + out.values.size()));
            out.values.push_back(row[i]);
        }
    }
    return out;
}

// One of the proxy's own MariaDB blocks (guarded_dedup_write, guarded_live_key_probe,
// after_client_write) as a COM_STMT_EXECUTE with the execute's `parameters` bound (see
// own_execute for `own_values`), in `payload`. A server that refuses the block (not
// MariaDB, or sql_mode=ORACLE) sets blocks_unavailable_: the session's executes then
// take the paths without blocks.
asio::awaitable<Session::OwnBlock> Session::own_block_execute(const std::string& sql,
                                                              const std::vector<std::uint32_t>& parameters,
                                                              protocol::Bytes& payload,
                                                              const std::vector<std::optional<std::string>>& own_values) {
    std::uint32_t id = 0;
    protocol::ErrPacket refused{};
    const bool alive = co_await own_statement(sql, parameters.size(), id, refused);
    if (!alive) co_return OwnBlock::lost;
    if (refused.error_code != 0) {
        spdlog::info("session {}: the server refused a statement block of the proxy's own ({}); this session's "
                     "prepared writes go without them",
                     id_, refused.message);
        blocks_unavailable_ = true;
        co_return OwnBlock::refused;
    }
    payload = own_execute(id, parameters, own_values);
    co_return payload.empty() ? OwnBlock::lost : OwnBlock::ready;
}

// One of the proxy's own reads, executed with the client's parameters bound (see
// own_statement, own_execute for `own_values`). Returns false when the connection
// failed; an SQL error lands in `failure`, rows (all string columns) in `rows`.
asio::awaitable<bool> Session::read_rows_bound(const std::string& sql, const std::vector<std::uint32_t>& parameters,
                                               std::vector<protocol::TextRow>& rows, protocol::ErrPacket& failure,
                                               const std::vector<std::optional<std::string>>& own_values) {
    std::uint32_t id = 0;
    const bool alive = co_await own_statement(sql, parameters.size(), id, failure);
    if (!alive) co_return false;
    if (failure.error_code != 0) co_return true;
    const auto payload = own_execute(id, parameters, own_values);
    if (payload.empty()) co_return false;
    error_code ec;
    auto outcome = co_await run_internal_execute(backend_, backend_buffer_, client_caps_, payload, ec);
    if (ec) co_return false;
    if (outcome.is_error) {
        failure = outcome.error;
    } else {
        rows = std::move(outcome.rows);
    }
    co_return true;
}

// The server forgets every prepared statement on COM_RESET_CONNECTION and COM_CHANGE_USER.
void Session::forget_own_statements() noexcept {
    own_statements_.clear();
    own_statement_prepared_last_ = false;
}

}  // namespace uniqgate::proxy
