#include "proxy/InternalQuery.hpp"

#include "protocol/PreparedStatements.hpp"

#include <boost/asio/error.hpp>

namespace uniqgate::proxy {

namespace header = protocol::header;

namespace {

constexpr std::size_t kMaxInternalPacket = 64 * 1024 * 1024;
// No command is answered in fewer bytes: an EOF packet (COM_SET_OPTION's answer) is 4 + 5,
// an OK packet 4 + 7 (0x00, affected rows, insert id, status flags, warnings; uniqgate
// requires CLIENT_PROTOCOL_41), an ERR longer.
constexpr std::size_t kMinResponseBytes = 9;

bool is_terminator(const protocol::Bytes& payload) {
    return !payload.empty() && payload[0] == header::eof && payload.size() < protocol::kMaxFramePayload;
}

protocol::OkPacket terminator_status(const protocol::Bytes& payload, protocol::Capabilities caps) {
    if (caps & protocol::cap::deprecate_eof) {
        auto ok = protocol::decode_ok(payload, caps);
        if (ok) return ok.value();
        return {};
    }
    protocol::OkPacket ok;
    auto eof = protocol::decode_eof(payload);
    if (eof) {
        ok.status_flags = eof.value().status_flags;
        ok.warnings = eof.value().warnings;
    }
    return ok;
}

// Rows of the text protocol, or (`binary_rows`) of a prepared statement whose columns
// are all strings (see protocol::decode_binary_string_row).
asio::awaitable<bool> read_result_set(Connection& backend, FrameBuffer& buffer, protocol::Capabilities caps,
                                      std::uint64_t columns, StatementOutcome& outcome, error_code& ec,
                                      bool binary_rows = false, bool keep = false) {
    const std::uint64_t definitions = columns + ((caps & protocol::cap::deprecate_eof) ? 0 : 1);
    for (std::uint64_t i = 0; i < definitions; ++i) {  // column definitions (and their EOF)
        auto definition = co_await read_packet(backend, buffer, kMaxInternalPacket, ec);
        if (ec) co_return false;
        if (keep) outcome.result_packets.push_back(std::move(definition.payload));
    }
    for (;;) {
        auto packet = co_await read_packet(backend, buffer, kMaxInternalPacket, ec);
        if (ec) co_return false;
        if (!packet.payload.empty() && packet.payload[0] == header::err) {
            auto err = protocol::decode_err(packet.payload, caps);
            outcome.is_error = true;
            if (err) outcome.error = err.value();
            co_return true;
        }
        if (is_terminator(packet.payload)) {
            outcome.ok = terminator_status(packet.payload, caps);
            co_return true;
        }
        auto row = binary_rows ? protocol::decode_binary_string_row(packet.payload, static_cast<std::size_t>(columns))
                               : protocol::decode_text_row(packet.payload, static_cast<std::size_t>(columns));
        // A kept result set is the client's (INSERT ... RETURNING): passed on as it came,
        // whatever its columns' types; only the proxy's own must be readable as strings.
        if (!row && !keep) co_return false;
        if (row) outcome.rows.push_back(std::move(row.value()));
        if (keep) outcome.result_packets.push_back(std::move(packet.payload));
    }
}

// The response to one COM_SET_OPTION: EOF (or OK) on success.
asio::awaitable<bool> read_set_option_response(Connection& backend, FrameBuffer& buffer, error_code& ec) {
    auto packet = co_await read_packet(backend, buffer, kMaxInternalPacket, ec);
    if (ec) co_return false;
    co_return !packet.payload.empty() && packet.payload[0] != header::err;
}

protocol::Bytes set_option_command(std::uint16_t option) {
    return {static_cast<std::uint8_t>(protocol::Command::set_option), static_cast<std::uint8_t>(option & 0xff),
            static_cast<std::uint8_t>(option >> 8)};
}

// MYSQL_OPTION_MULTI_STATEMENTS_ON / _OFF.
constexpr std::uint16_t kMultiStatementsOn = 0;
constexpr std::uint16_t kMultiStatementsOff = 1;

// One response: an OK, an ERR, or a result set (rows read as text, or with
// `binary_rows` as a prepared statement's string columns; with `keep`, its packets
// kept as well). False when it could not be followed (`ec` set).
asio::awaitable<bool> read_one_response(Connection& backend, FrameBuffer& buffer, protocol::Capabilities caps,
                                        bool binary_rows, bool keep, StatementOutcome& outcome, error_code& ec) {
    auto first = co_await read_packet(backend, buffer, kMaxInternalPacket, ec);
    if (ec) co_return false;
    if (first.payload.empty()) {
        ec = make_error_code(asio::error::invalid_argument);
        co_return false;
    }
    if (first.payload[0] == header::err) {
        auto err = protocol::decode_err(first.payload, caps);
        outcome.is_error = true;
        if (err) outcome.error = err.value();
        co_return true;
    }
    if (first.payload[0] == header::ok) {
        auto ok = protocol::decode_ok(first.payload, caps);
        if (ok) outcome.ok = ok.value();
        if (!ok) ec = make_error_code(asio::error::invalid_argument);
        co_return !ec;
    }
    auto columns = protocol::decode_column_count(first.payload);
    if (keep) outcome.result_packets.push_back(first.payload);
    bool read_ok = false;
    if (columns) read_ok = co_await read_result_set(backend, buffer, caps, columns.value(), outcome, ec, binary_rows, keep);
    if (!read_ok && !ec) ec = make_error_code(asio::error::invalid_argument);
    co_return read_ok;
}

asio::awaitable<std::vector<StatementOutcome>> read_query_responses(Connection& backend, FrameBuffer& buffer,
                                                                   protocol::Capabilities caps, error_code& ec,
                                                                   bool keep_result_sets = false) {
    std::vector<StatementOutcome> outcomes;
    for (;;) {
        StatementOutcome& outcome = outcomes.emplace_back();
        const bool read = co_await read_one_response(backend, buffer, caps, false, keep_result_sets, outcome, ec);
        // A multi-statement stops at its first error.
        if (!read || outcome.is_error) co_return outcomes;
        if (!(outcome.ok.status_flags & protocol::status::more_results_exists)) co_return outcomes;
    }
}

// The whole response to one command, up to its last result; the outcome describes the
// last, with the rows of the last result set before it when it has none (a block's
// SELECT, then the block's OK).
asio::awaitable<StatementOutcome> read_command_outcome(Connection& backend, FrameBuffer& buffer,
                                                       protocol::Capabilities caps, bool binary_rows, error_code& ec,
                                                       bool keep = false) {
    StatementOutcome outcome;
    std::vector<protocol::TextRow> earlier_rows;
    for (;;) {
        if (!outcome.rows.empty()) earlier_rows = std::move(outcome.rows);
        outcome = StatementOutcome{};
        const bool read = co_await read_one_response(backend, buffer, caps, binary_rows, keep, outcome, ec);
        if (!read || outcome.is_error) co_return outcome;
        if (!(outcome.ok.status_flags & protocol::status::more_results_exists)) {
            if (outcome.rows.empty()) outcome.rows = std::move(earlier_rows);
            co_return outcome;
        }
    }
}

}  // namespace

asio::awaitable<std::vector<StatementOutcome>> run_internal_query(Connection& backend, FrameBuffer& buffer,
                                                                 protocol::Capabilities caps, std::string_view sql,
                                                                 error_code& ec) {
    co_await write_packet(backend, protocol::encode_query(sql), 0, ec);
    if (ec) co_return std::vector<StatementOutcome>{};
    auto outcomes = co_await read_query_responses(backend, buffer, caps, ec);
    co_return outcomes;
}

asio::awaitable<PrepareOutcome> run_internal_prepare(Connection& backend, FrameBuffer& buffer,
                                                     protocol::Capabilities caps, std::string_view sql,
                                                     error_code& ec) {
    PrepareOutcome outcome;
    protocol::Bytes command = protocol::encode_query(sql);  // the same layout, another command byte
    command[0] = static_cast<std::uint8_t>(protocol::Command::stmt_prepare);
    co_await write_packet(backend, command, 0, ec);
    if (ec) co_return outcome;
    auto first = co_await read_packet(backend, buffer, kMaxInternalPacket, ec);
    if (ec) co_return outcome;
    if (!first.payload.empty() && first.payload[0] == header::err) {
        auto err = protocol::decode_err(first.payload, caps);
        outcome.is_error = true;
        if (err) outcome.error = err.value();
        co_return outcome;
    }
    auto ok = protocol::decode_stmt_prepare_ok(first.payload);
    if (!ok) {
        ec = make_error_code(asio::error::invalid_argument);
        co_return outcome;
    }
    outcome.ok = ok.value();
    const std::size_t definitions = protocol::prepare_ok_packets_following(outcome.ok, caps);
    for (std::size_t i = 0; i < definitions && !ec; ++i) co_await read_packet(backend, buffer, kMaxInternalPacket, ec);
    co_return outcome;
}

asio::awaitable<StatementOutcome> run_internal_execute(Connection& backend, FrameBuffer& buffer,
                                                       protocol::Capabilities caps, const protocol::Bytes& payload,
                                                       error_code& ec) {
    co_await write_packet(backend, payload, 0, ec);
    if (ec) co_return StatementOutcome{};
    auto outcome = co_await read_command_outcome(backend, buffer, caps, true, ec);
    co_return outcome;
}

asio::awaitable<std::vector<StatementOutcome>> run_internal_pipeline(Connection& backend, FrameBuffer& buffer,
                                                                    protocol::Capabilities caps,
                                                                    const std::vector<protocol::Bytes>& commands,
                                                                    error_code& ec, std::size_t kept_step) {
    std::vector<StatementOutcome> outcomes;
    protocol::Bytes framed;
    for (const auto& command : commands) {
        std::uint8_t sequence_id = 0;
        protocol::append_packet(framed, command, sequence_id);
    }
    co_await backend.write_all(asio::buffer(framed), ec);
    if (ec) co_return outcomes;
    if (commands.size() > 1 && buffer.size() == 0 && backend.waits_for_all_answers()) {
        // Every command is answered, in kMinResponseBytes at least: wait until all of the
        // answers can be there instead of waking up once per answer as the server sends them
        // (a third of the proxy's context switches in a prepared dedup write). A lower bound,
        // so the read never waits for bytes that will not come; a closed peer wakes it too.
        backend.set_receive_low_water(kMinResponseBytes * commands.size());
        co_await buffer.read_more(backend, ec);
        backend.set_receive_low_water(1);
        if (ec) co_return outcomes;
    }
    for (const auto& command : commands) {
        const bool binary_rows = !command.empty() && command[0] == static_cast<std::uint8_t>(protocol::Command::stmt_execute);
        const bool keep = outcomes.size() == kept_step;
        auto outcome = co_await read_command_outcome(backend, buffer, caps, binary_rows, ec, keep);
        if (ec) co_return outcomes;
        outcomes.push_back(std::move(outcome));
    }
    co_return outcomes;
}

asio::awaitable<std::vector<StatementOutcome>> run_internal_statements(Connection& backend, FrameBuffer& buffer,
                                                                      protocol::Capabilities caps,
                                                                      std::string_view sql, bool& switched_on,
                                                                      error_code& ec, bool keep_result_sets) {
    if ((caps & protocol::cap::multi_statements) || switched_on) {
        co_await write_packet(backend, protocol::encode_query(sql), 0, ec);
        if (ec) co_return std::vector<StatementOutcome>{};
        auto outcomes = co_await read_query_responses(backend, buffer, caps, ec, keep_result_sets);
        co_return outcomes;
    }
    // The client did not enable multi-statements (most drivers do not): switch them
    // on, pipelined in the same write; they stay on until the session must have them
    // off again (see switch_multi_statements_off).
    protocol::Bytes framed;
    for (const auto& command : {set_option_command(kMultiStatementsOn), protocol::encode_query(sql)}) {
        std::uint8_t sequence_id = 0;  // each command starts its own sequence
        protocol::append_packet(framed, command, sequence_id);
    }
    co_await backend.write_all(asio::buffer(framed), ec);
    std::vector<StatementOutcome> outcomes;
    if (ec) co_return outcomes;
    const bool enabled = co_await read_set_option_response(backend, buffer, ec);
    if (ec) co_return outcomes;
    switched_on = enabled;
    outcomes = co_await read_query_responses(backend, buffer, caps, ec, keep_result_sets);
    if (!ec && !enabled) ec = make_error_code(asio::error::operation_not_supported);
    co_return outcomes;
}

asio::awaitable<void> switch_multi_statements_off(Connection& backend, FrameBuffer& buffer, bool& switched_on,
                                                  error_code& ec) {
    if (!switched_on) co_return;
    co_await write_packet(backend, set_option_command(kMultiStatementsOff), 0, ec);
    if (ec) co_return;
    const bool disabled = co_await read_set_option_response(backend, buffer, ec);
    if (!ec && !disabled) ec = make_error_code(asio::error::operation_not_supported);
    switched_on = false;
}

}  // namespace uniqgate::proxy
