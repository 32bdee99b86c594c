#include "proxy/InternalQuery.hpp"

#include <boost/asio/error.hpp>

namespace uniqgate::proxy {

namespace header = protocol::header;

namespace {

constexpr std::size_t kMaxInternalPacket = 64 * 1024 * 1024;

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

asio::awaitable<bool> read_result_set(Connection& backend, FrameBuffer& buffer, protocol::Capabilities caps,
                                      std::uint64_t columns, StatementOutcome& outcome, error_code& ec) {
    for (std::uint64_t i = 0; i < columns; ++i) {  // column definitions: not needed
        co_await read_packet(backend, buffer, kMaxInternalPacket, ec);
        if (ec) co_return false;
    }
    if (!(caps & protocol::cap::deprecate_eof)) {
        co_await read_packet(backend, buffer, kMaxInternalPacket, ec);
        if (ec) co_return false;
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
        auto row = protocol::decode_text_row(packet.payload, static_cast<std::size_t>(columns));
        if (!row) co_return false;
        outcome.rows.push_back(std::move(row.value()));
    }
}

}  // namespace

asio::awaitable<std::vector<StatementOutcome>> run_internal_query(Connection& backend, FrameBuffer& buffer,
                                                                 protocol::Capabilities caps, std::string_view sql,
                                                                 error_code& ec) {
    std::vector<StatementOutcome> outcomes;
    co_await write_packet(backend, protocol::encode_query(sql), 0, ec);
    if (ec) co_return outcomes;
    for (;;) {
        auto first = co_await read_packet(backend, buffer, kMaxInternalPacket, ec);
        if (ec) co_return outcomes;
        StatementOutcome& outcome = outcomes.emplace_back();
        if (first.payload.empty()) {
            ec = make_error_code(asio::error::invalid_argument);
            co_return outcomes;
        }
        if (first.payload[0] == header::err) {
            auto err = protocol::decode_err(first.payload, caps);
            outcome.is_error = true;
            if (err) outcome.error = err.value();
            co_return outcomes;  // a multi-statement stops at its first error
        }
        if (first.payload[0] == header::ok) {
            auto ok = protocol::decode_ok(first.payload, caps);
            if (!ok) {
                ec = make_error_code(asio::error::invalid_argument);
                co_return outcomes;
            }
            outcome.ok = ok.value();
        } else {
            auto columns = protocol::decode_column_count(first.payload);
            bool read_ok = false;
            if (columns) read_ok = co_await read_result_set(backend, buffer, caps, columns.value(), outcome, ec);
            if (!read_ok) {
                if (!ec) ec = make_error_code(asio::error::invalid_argument);
                co_return outcomes;
            }
            if (outcome.is_error) co_return outcomes;
        }
        if (!(outcome.ok.status_flags & protocol::status::more_results_exists)) co_return outcomes;
    }
}

}  // namespace uniqgate::proxy
