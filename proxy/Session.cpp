// The command phase of a Session: relay each command and its response,
// forwarding bytes from the buffer they arrived in.
#include "proxy/Session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace uniqgate::proxy {

using protocol::Command;
using protocol::kFrameHeaderSize;
using Next = protocol::ResponseTracker::Next;

using namespace boost::asio::experimental::awaitable_operators;

namespace {
constexpr std::chrono::seconds kHandshakeTimeout{10};
// Frames up to this size are buffered whole before the tracker looks at them;
// larger ones (rows, blobs) are streamed and only their first bytes inspected,
// which is all that is needed to tell a row from an OK/EOF/ERR.
constexpr std::size_t kWholeFrameLimit = 16 * 1024;
constexpr std::size_t kLargeFramePeek = 64;
constexpr std::size_t kMaxAuthPacket = 64 * 1024;

std::size_t inspected_length(std::uint32_t payload_length) {
    return payload_length <= kWholeFrameLimit ? payload_length : kLargeFramePeek;
}
}  // namespace

Session::Session(ProxyContext& context, Connection::Socket client_socket, std::uint64_t id)
    : context_(context),
      id_(id),
      client_(std::move(client_socket)),
      backend_(Connection::Socket(client_.socket().get_executor())) {}

asio::awaitable<void> Session::run() {
    context_.metrics.connections_accepted.fetch_add(1, std::memory_order_relaxed);
    context_.metrics.connections_active.fetch_add(1, std::memory_order_relaxed);
    // A client that connects and never finishes the handshake must not hold a
    // backend connection forever.
    asio::steady_timer deadline(co_await asio::this_coro::executor, kHandshakeTimeout);
    auto outcome = co_await (establish() || deadline.async_wait(asio::as_tuple(asio::use_awaitable)));
    const bool established = outcome.index() == 0 && std::get<0>(outcome);
    if (outcome.index() == 1) {
        spdlog::info("session {}: handshake not completed within {} s; closing", id_, kHandshakeTimeout.count());
    }
    if (established) {
        spdlog::debug("session {}: user '{}' authenticated{}", id_, username_,
                      client_.is_tls() ? " (" + client_.tls_description() + ")" : "");
        co_await command_loop();
    } else {
        context_.metrics.connections_failed.fetch_add(1, std::memory_order_relaxed);
    }
    close_both();
    context_.metrics.connections_active.fetch_sub(1, std::memory_order_relaxed);
}

void Session::close_both() noexcept {
    client_.close();
    backend_.close();
}

asio::awaitable<void> Session::command_loop() {
    error_code ec;
    for (;;) {
        co_await client_buffer_.fill(client_, kFrameHeaderSize, ec);
        if (ec) co_return;  // the client went away: close the backend too
        const auto header = protocol::decode_frame_header(client_buffer_.data());
        if (header.sequence_id != 0 || header.payload_length == 0) {
            context_.metrics.client_protocol_errors.fetch_add(1, std::memory_order_relaxed);
            spdlog::warn("session {}: client sent a malformed command packet (length {}, sequence {}); closing",
                         id_, header.payload_length, header.sequence_id);
            co_return;
        }
        co_await client_buffer_.fill(client_, kFrameHeaderSize + inspected_length(header.payload_length), ec);
        if (ec) co_return;
        const auto command = static_cast<Command>(client_buffer_.data()[kFrameHeaderSize]);
        context_.metrics.commands.fetch_add(1, std::memory_order_relaxed);
        if (command == Command::change_user) {
            const bool changed = co_await change_user();
            if (!changed) co_return;
            continue;
        }
        const auto next = tracker_.on_command(
            {client_buffer_.data() + kFrameHeaderSize, inspected_length(header.payload_length)});
        const bool forwarded = co_await relay_command_packet(header.payload_length);
        if (!forwarded) co_return;
        if (command == Command::quit) co_return;
        if (next == Next::done) continue;
        const bool answered = co_await relay_response();
        if (!answered) co_return;
    }
}

// Forwards one client packet (all its frames) to the backend, streaming.
asio::awaitable<bool> Session::relay_command_packet(std::uint32_t first_frame_length) {
    error_code ec;
    std::uint32_t frame_length = first_frame_length;
    for (;;) {
        std::size_t to_send = kFrameHeaderSize + frame_length;
        while (to_send > 0) {
            if (client_buffer_.size() == 0) {
                co_await client_buffer_.read_more(client_, ec);
                if (ec) co_return false;
            }
            const std::size_t chunk = std::min(to_send, client_buffer_.size());
            co_await backend_.write_all(asio::buffer(client_buffer_.data(), chunk), ec);
            if (ec) co_return false;
            context_.metrics.bytes_client_to_backend.fetch_add(chunk, std::memory_order_relaxed);
            client_buffer_.consume(chunk);
            to_send -= chunk;
        }
        if (frame_length != protocol::kMaxFramePayload) co_return true;
        co_await client_buffer_.fill(client_, kFrameHeaderSize, ec);  // a continuation frame follows
        if (ec) co_return false;
        frame_length = protocol::decode_frame_header(client_buffer_.data()).payload_length;
    }
}

// Forwards the backend's response until the tracker says it is complete. Each
// read from the backend becomes at most one write to the client.
asio::awaitable<bool> Session::relay_response() {
    error_code ec;
    std::size_t uninspected = 0;  // payload bytes of the current frame still to pass through
    Next next = Next::server_frame;
    for (;;) {
        const std::uint8_t* data = backend_buffer_.data();
        const std::size_t size = backend_buffer_.size();
        std::size_t pos = 0;
        std::size_t wanted = kFrameHeaderSize;  // bytes needed at `pos` to make progress
        while (pos < size || uninspected == 0) {
            if (uninspected > 0) {
                const std::size_t n = std::min(uninspected, size - pos);
                pos += n;
                uninspected -= n;
                continue;
            }
            if (next != Next::server_frame) break;
            if (size - pos < kFrameHeaderSize) break;
            const auto header = protocol::decode_frame_header(data + pos);
            const std::size_t peek = inspected_length(header.payload_length);
            if (size - pos - kFrameHeaderSize < peek) {
                wanted = kFrameHeaderSize + peek;
                break;
            }
            next = tracker_.on_server_frame(header, {data + pos + kFrameHeaderSize, peek});
            pos += kFrameHeaderSize;
            uninspected = header.payload_length;
        }
        if (pos > 0) {
            co_await client_.write_all(asio::buffer(data, pos), ec);
            if (ec) co_return false;
            context_.metrics.bytes_backend_to_client.fetch_add(pos, std::memory_order_relaxed);
            backend_buffer_.consume(pos);
        }
        if (uninspected == 0 && next != Next::server_frame) {
            if (tracker_.failed()) {
                spdlog::error("session {}: cannot follow the backend's response; closing", id_);
                co_return false;
            }
            if (next == Next::done) co_return true;
            const bool file_sent = co_await relay_infile_data();  // Next::client_infile_data
            if (!file_sent) co_return false;
            next = Next::server_frame;
            continue;
        }
        if (wanted > kFrameHeaderSize) {
            co_await backend_buffer_.fill(backend_, wanted, ec);  // the frame header is now at the front
        } else {
            co_await backend_buffer_.read_more(backend_, ec);
        }
        if (ec) co_return false;
    }
}

// LOCAL INFILE: the client streams the file as packets ending with an empty one.
asio::awaitable<bool> Session::relay_infile_data() {
    error_code ec;
    for (;;) {
        co_await client_buffer_.fill(client_, kFrameHeaderSize, ec);
        if (ec) co_return false;
        const auto header = protocol::decode_frame_header(client_buffer_.data());
        const auto next = tracker_.on_client_frame(header);
        std::size_t to_send = kFrameHeaderSize + header.payload_length;
        while (to_send > 0) {
            if (client_buffer_.size() == 0) {
                co_await client_buffer_.read_more(client_, ec);
                if (ec) co_return false;
            }
            const std::size_t chunk = std::min(to_send, client_buffer_.size());
            co_await backend_.write_all(asio::buffer(client_buffer_.data(), chunk), ec);
            if (ec) co_return false;
            client_buffer_.consume(chunk);
            to_send -= chunk;
        }
        if (next != Next::client_infile_data) co_return true;
    }
}

// COM_CHANGE_USER re-runs authentication on the open connection.
asio::awaitable<bool> Session::change_user() {
    error_code ec;
    auto packet = co_await read_packet(client_, client_buffer_, kMaxAuthPacket, ec);
    if (ec) co_return false;
    co_await write_packet(backend_, packet.payload, packet.sequence_id, ec);
    if (ec) co_return false;
    // The scramble for a changed user comes in the server's AuthSwitchRequest;
    // the client's first answer uses the original handshake's, which the backend
    // checks itself.
    AuthRelay relay({client_.is_tls(), backend_.is_tls() || backend_is_unix_socket_, scramble_, auth_plugin_});
    const bool authenticated = co_await authenticate(std::move(relay), packet.sequence_id, packet.sequence_id);
    co_return authenticated;
}

}  // namespace uniqgate::proxy
