// The command phase of a Session: relay each command and its response,
// forwarding bytes from the buffer they arrived in.
#include "proxy/Session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

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
        charset_ = charset_from_collation_id(client_charset_id_);
        charset_name_ = charset_name_from_collation_id(client_charset_id_);
        spdlog::debug("session {}: user '{}' authenticated{}", id_, username_,
                      client_.is_tls() ? " (" + client_.tls_description() + ")" : "");
        co_await command_loop();
    } else {
        context_.metrics.connections_failed.fetch_add(1, std::memory_order_relaxed);
    }
    if (holds_local_locks_) context_.locks.release_all(id_);  // a client that disconnects frees its keys
    close_both();
    context_.metrics.connections_active.fetch_sub(1, std::memory_order_relaxed);
}

void Session::close_both() noexcept {
    client_.close();
    backend_.close();
}

namespace {

// Counts a client command in ProxyContext::commands_in_flight while it is served.
struct CommandInFlight {
    explicit CommandInFlight(std::atomic<int>& in_flight) noexcept
        : counter(in_flight), others_before(in_flight.fetch_add(1, std::memory_order_relaxed)) {}
    ~CommandInFlight() { counter.fetch_sub(1, std::memory_order_relaxed); }
    CommandInFlight(const CommandInFlight&) = delete;
    CommandInFlight& operator=(const CommandInFlight&) = delete;

    std::atomic<int>& counter;
    const int others_before;
};

}  // namespace

asio::awaitable<void> Session::command_loop() {
    error_code ec;
    for (;;) {
        bool backend_alive = true;
        if (holds_keys()) {
            backend_alive = co_await wait_for_command(ec);
        } else {
            // The relay's hot path: reads awaited in place, without a coroutine frame each.
            ec = {};
            backend_buffer_.release_if_empty();  // an idle session holds no receive buffer
            while (client_buffer_.size() < kFrameHeaderSize && !ec) {
                const auto [read_ec, got] = co_await client_.async_read_into(client_buffer_, kAwaitInPlace);
                client_buffer_.commit(got);
                ec = read_ec;
            }
        }
        if (!backend_alive) {
            spdlog::info("session {}: the backend connection ended during a transaction holding key locks; "
                         "releasing them and closing the client",
                         id_);
            co_return;
        }
        if (ec) co_return;  // the client went away: close the backend too
        const auto header = protocol::decode_frame_header(client_buffer_.data());
        if (header.sequence_id != 0 || header.payload_length == 0) {
            context_.metrics.client_protocol_errors.fetch_add(1, std::memory_order_relaxed);
            spdlog::warn("session {}: client sent a malformed command packet (length {}, sequence {}); closing",
                         id_, header.payload_length, header.sequence_id);
            co_return;
        }
        const std::size_t inspected = kFrameHeaderSize + inspected_length(header.payload_length);
        if (client_buffer_.size() < inspected) co_await client_buffer_.fill(client_, inspected, ec);
        if (ec) co_return;
        const auto command = static_cast<Command>(client_buffer_.data()[kFrameHeaderSize]);
        context_.metrics.commands.fetch_add(1, std::memory_order_relaxed);
        // Only rules make the proxy send pipelines: without them nothing is counted.
        const bool rules_active = !context_.rules.rules().empty();
        std::optional<CommandInFlight> in_flight;
        if (rules_active) {
            in_flight.emplace(context_.commands_in_flight);
            backend_.set_wait_for_all_answers(in_flight->others_before > 0);
        }
        if (multi_statements_switched_on_ &&
            (command == Command::change_user || command == Command::reset_connection || command == Command::set_option)) {
            // The session starts over (or the client chooses for itself): the server's
            // setting must be the client's again first.
            co_await switch_multi_statements_off(backend_, backend_buffer_, multi_statements_switched_on_, ec);
            if (ec) co_return;
        }
        if (command == Command::set_option && header.payload_length >= 3) {
            client_multi_statements_ = client_buffer_.data()[kFrameHeaderSize + 1] == 0;  // MULTI_STATEMENTS_ON
        }
        if (command == Command::reset_connection || command == Command::change_user) client_multi_statements_.reset();
        if (command == Command::change_user) {
            const bool changed = co_await change_user();
            if (!changed) co_return;
            continue;
        }
        if (command == Command::init_db) remember_init_db(header.payload_length);
        if (own_statement_prepared_last_) name_the_clients_last_prepared(command, header.payload_length);
        command_began_transaction_ = false;
        bool alive = true;
        if (rules_active && command == Command::query) {
            alive = co_await intercept_query(header.payload_length);
        } else if (rules_active && command == Command::stmt_prepare) {
            alive = co_await intercept_prepare(header.payload_length);
        } else if (command == Command::stmt_execute && !prepared_writes_.empty()) {
            alive = co_await intercept_execute(header.payload_length);
        } else if ((command == Command::stmt_send_long_data || command == Command::stmt_reset ||
                    command == Command::stmt_close || command == Command::mariadb_stmt_bulk_execute) &&
                   !prepared_writes_.empty()) {
            alive = co_await intercept_statement_command(command, header.payload_length);
        } else if (command != Command::reset_connection && command_is_buffered_whole(header.payload_length)) {
            // The relay's hot path: relay_command's work with every wait awaited in place, so a
            // command costs no coroutine frame (with many sessions waiting on the server at
            // once, Asio's small frame cache runs dry and each frame is a malloc and a free).
            const auto next = tracker_.on_command(
                {client_buffer_.data() + kFrameHeaderSize, inspected_length(header.payload_length)});
            asio::const_buffer unwritten;
            if (!forward_buffered_command(header.payload_length, unwritten, ec)) {
                co_await backend_.write_rest(unwritten, ec);
            }
            if (ec) co_return;
            command_forwarded(header.payload_length);
            if (next != Next::done) {
                ResponseRelay relay;
                auto step = forward_buffered_response(relay);
                while (step == RelayStep::read && relay.wanted == kFrameHeaderSize) {
                    const auto [read_ec, got] = co_await backend_.async_read_into(backend_buffer_, kAwaitInPlace);
                    backend_buffer_.commit(got);
                    step = read_ec ? RelayStep::failed : forward_buffered_response(relay);
                }
                if (step != RelayStep::done) alive = co_await relay_response(relay, step);
            }
        } else {
            if (command == Command::reset_connection) {
                prepared_writes_.clear();
                forget_own_statements();  // the server closes every prepared statement
                hidden_rule_tables_.clear();  // and drops the temporary tables
            }
            alive = co_await relay_command(header.payload_length);
        }
        if (!alive || command == Command::quit) co_return;
        if (database_change_pending_) {
            if (!tracker_.ended_with_error()) current_database_ = std::move(pending_database_);
            database_change_pending_ = false;
        }
        // Only existence checks read it, and only with rules. An ERR carries no status
        // flags: after one, assume the worst.
        if (rules_active) {
            if (tracker_.ended_with_error()) {
                own_writes_pending_ = true;
            } else if (!(tracker_.status_flags() & protocol::status::in_trans)) {
                own_writes_pending_ = false;
            } else {
                own_writes_pending_ = !command_began_transaction_;
            }
        }
        if (holds_keys()) co_await release_keys_if_transaction_ended();
    }
}

// Waits for the client's next command header while the session holds key locks,
// watching the backend too: a transaction killed there (KILL, a restart) must
// not keep its keys locked until the client happens to speak again. Returns
// false if the backend connection ended first.
asio::awaitable<bool> Session::wait_for_command(error_code& ec) {
    auto first = co_await (client_buffer_.fill(client_, kFrameHeaderSize, ec) || watch_backend());
    co_return first.index() == 0;
}

asio::awaitable<void> Session::watch_backend() {
    error_code ec;
    co_await backend_buffer_.read_more(backend_, ec);  // anything, even EOF: the server is done with us
}

// The usual command: one frame, all of it buffered.
bool Session::command_is_buffered_whole(std::uint32_t frame_length) const noexcept {
    return frame_length < protocol::kMaxFramePayload && client_buffer_.size() >= kFrameHeaderSize + frame_length;
}

// Writes such a command to the backend without waiting: true when nothing is left to
// do (written, or failed: ec set), else `unwritten` is what the socket did not take.
bool Session::forward_buffered_command(std::uint32_t frame_length, asio::const_buffer& unwritten, error_code& ec) {
    unwritten = asio::const_buffer(client_buffer_.data(), kFrameHeaderSize + frame_length);
    return backend_.write_now(unwritten, ec);
}

void Session::command_forwarded(std::uint32_t frame_length) noexcept {
    context_.metrics.bytes_client_to_backend.fetch_add(kFrameHeaderSize + frame_length, std::memory_order_relaxed);
    client_buffer_.consume(kFrameHeaderSize + frame_length);
}

// The plain relay: the command from the receive buffer, then its response.
asio::awaitable<bool> Session::relay_command(std::uint32_t frame_length) {
    const auto next = tracker_.on_command({client_buffer_.data() + kFrameHeaderSize, inspected_length(frame_length)});
    if (command_is_buffered_whole(frame_length)) {
        error_code ec;
        asio::const_buffer unwritten;
        if (!forward_buffered_command(frame_length, unwritten, ec)) co_await backend_.write_rest(unwritten, ec);
        if (ec) co_return false;
        command_forwarded(frame_length);
    } else {
        const bool forwarded = co_await relay_command_packet(frame_length);
        if (!forwarded) co_return false;
    }
    if (next == Next::done) co_return true;
    const bool answered = co_await relay_response();
    co_return answered;
}

// MariaDB's statement id 0xFFFFFFFF means "the statement prepared last on this
// connection". When that is one of the proxy's own, the client's command gets the
// id the client means: the last one it prepared itself.
void Session::name_the_clients_last_prepared(Command command, std::uint32_t frame_length) noexcept {
    const bool names_a_statement = command == Command::stmt_execute || command == Command::stmt_send_long_data ||
                                   command == Command::stmt_reset || command == Command::stmt_close ||
                                   command == Command::stmt_fetch || command == Command::mariadb_stmt_bulk_execute;
    if (!names_a_statement || frame_length < 5 || client_buffer_.size() < kFrameHeaderSize + 5) return;
    std::uint8_t* id = client_buffer_.mutable_data() + kFrameHeaderSize + 1;
    if (id[0] != 0xff || id[1] != 0xff || id[2] != 0xff || id[3] != 0xff) return;
    const std::uint32_t clients = prepared_writes_.resolve(PreparedWrites::kLastPrepared);
    for (int i = 0; i < 4; ++i) id[i] = static_cast<std::uint8_t>(clients >> (8 * i));
}

void Session::remember_init_db(std::uint32_t frame_length) {
    // COM_INIT_DB: the rest of the packet is the name; it is current once the server says OK.
    const std::size_t available = std::min<std::size_t>(client_buffer_.size() - kFrameHeaderSize, frame_length);
    if (available < 1 || available != frame_length) return;
    pending_database_.assign(reinterpret_cast<const char*>(client_buffer_.data()) + kFrameHeaderSize + 1,
                             frame_length - 1);
    database_change_pending_ = true;
}

// Forwards one client frame (header included) from the receive buffer to the
// backend as its bytes arrive: a 16 MiB frame never has to fit in the buffer.
asio::awaitable<bool> Session::forward_client_frame(std::uint32_t payload_length) {
    error_code ec;
    std::size_t to_send = kFrameHeaderSize + payload_length;
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
    co_return true;
}

// Forwards one client packet (all its frames) to the backend, streaming.
asio::awaitable<bool> Session::relay_command_packet(std::uint32_t first_frame_length) {
    error_code ec;
    std::uint32_t frame_length = first_frame_length;
    for (;;) {
        const bool sent = co_await forward_client_frame(frame_length);
        if (!sent) co_return false;
        if (frame_length != protocol::kMaxFramePayload) co_return true;
        co_await client_buffer_.fill(client_, kFrameHeaderSize, ec);  // a continuation frame follows
        if (ec) co_return false;
        frame_length = protocol::decode_frame_header(client_buffer_.data()).payload_length;
    }
}

// Forwards what the backend buffer holds of the response, as far as the tracker can
// follow it, in one write to the client; says what has to happen next.
RelayStep Session::forward_buffered_response(ResponseRelay& relay) {
    const std::uint8_t* data = backend_buffer_.data();
    const std::size_t size = backend_buffer_.size();
    std::size_t pos = 0;
    relay.wanted = kFrameHeaderSize;
    while (pos < size || relay.uninspected == 0) {
        if (relay.uninspected > 0) {
            const std::size_t n = std::min(relay.uninspected, size - pos);
            pos += n;
            relay.uninspected -= n;
            continue;
        }
        if (relay.next != Next::server_frame) break;
        pos += tracker_.skip_rows({data + pos, size - pos});
        if (size - pos < kFrameHeaderSize) break;
        const auto header = protocol::decode_frame_header(data + pos);
        const std::size_t peek = inspected_length(header.payload_length);
        if (size - pos - kFrameHeaderSize < peek) {
            relay.wanted = kFrameHeaderSize + peek;
            break;
        }
        relay.next = tracker_.on_server_frame(header, {data + pos + kFrameHeaderSize, peek});
        pos += kFrameHeaderSize;
        relay.uninspected = header.payload_length;
    }
    if (pos > 0) {
        relay.unwritten = asio::const_buffer(data, pos);
        relay.forwarding = pos;
        error_code ec;
        if (!client_.write_now(relay.unwritten, ec)) return RelayStep::write;
        if (ec) return RelayStep::failed;
    }
    return response_forwarded(relay, pos);
}

// The first `forwarded` bytes of the backend buffer reached the client.
RelayStep Session::response_forwarded(ResponseRelay& relay, std::size_t forwarded) {
    if (forwarded > 0) {
        context_.metrics.bytes_backend_to_client.fetch_add(forwarded, std::memory_order_relaxed);
        backend_buffer_.consume(forwarded);
    }
    if (relay.uninspected > 0 || relay.next == Next::server_frame) return RelayStep::read;
    if (tracker_.failed()) {
        spdlog::error("session {}: cannot follow the backend's response; closing", id_);
        return RelayStep::failed;
    }
    if (relay.next == Next::done) return RelayStep::done;
    // COM_CHANGE_USER never comes this way.
    return relay.next == Next::client_infile_data ? RelayStep::infile : RelayStep::failed;
}

asio::awaitable<bool> Session::relay_response(ResponseRelay relay, RelayStep step) {
    error_code ec;
    for (;;) {
        switch (step) {
            case RelayStep::done:
                co_return true;
            case RelayStep::failed:
                co_return false;
            case RelayStep::scan:
                break;
            case RelayStep::write:
                co_await client_.write_rest(relay.unwritten, ec);
                if (ec) co_return false;
                step = response_forwarded(relay, relay.forwarding);
                continue;
            case RelayStep::infile: {
                const bool file_sent = co_await relay_infile_data();
                if (!file_sent) co_return false;
                relay.next = Next::server_frame;
                break;
            }
            case RelayStep::read:
                if (relay.wanted > kFrameHeaderSize) {
                    co_await backend_buffer_.fill(backend_, relay.wanted, ec);  // the frame header is now at the front
                } else {
                    const auto [read_ec, got] = co_await backend_.async_read_into(backend_buffer_, kAwaitInPlace);
                    backend_buffer_.commit(got);
                    ec = read_ec;
                }
                if (ec) co_return false;
                break;
        }
        step = forward_buffered_response(relay);
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
        const bool sent = co_await forward_client_frame(header.payload_length);
        if (!sent) co_return false;
        if (next != Next::client_infile_data) co_return true;
    }
}

// COM_CHANGE_USER re-runs authentication on the open connection.
asio::awaitable<bool> Session::change_user() {
    prepared_writes_.clear();  // the server closes every prepared statement
    forget_own_statements();
    hidden_rule_tables_.clear();  // and drops the temporary tables
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
