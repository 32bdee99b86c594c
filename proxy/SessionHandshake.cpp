// The connection phase of a Session: backend connect, handshake rewrite, TLS on
// either leg, and the authentication exchange.
#include "proxy/Session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

namespace uniqgate::proxy {

namespace cap = protocol::cap;
using namespace std::chrono_literals;
using namespace boost::asio::experimental::awaitable_operators;

namespace {
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxHandshakePacket = 64 * 1024;
constexpr auto kBackendConnectTimeout = 5s;

// Capabilities the proxy does not carry through: it would have to implement
// them on both legs (compression), or they change message formats the session
// must understand (query attributes, optional metadata, MariaDB's metadata cache,
// COM_MULTI, progress reports). MariaDB's bulk execute stays: drivers behave
// differently without it (Connector/J's batch update counts), and its response
// is an ordinary one.
constexpr protocol::Capabilities kUnsupportedCaps =
    cap::compress | cap::zstd_compression | cap::query_attributes | cap::optional_resultset_metadata |
    cap::multi_factor_authentication | cap::mariadb_progress | cap::mariadb_com_multi |
    cap::mariadb_cache_metadata;
}  // namespace

rules::Charset charset_from_collation_id(std::uint8_t id) noexcept {
    switch (id) {
        case 1: case 84: return rules::Charset::big5;
        case 13: case 88: return rules::Charset::sjis;
        case 28: case 87: return rules::Charset::gbk;
        case 63: return rules::Charset::binary;
        case 5: case 8: case 15: case 31: case 47: case 48: case 49: case 94: return rules::Charset::latin1;
        default: return rules::Charset::utf8;  // utf8mb3/utf8mb4 and the rest: ASCII-safe
    }
}

const char* charset_name_from_collation_id(std::uint8_t id) noexcept {
    switch (charset_from_collation_id(id)) {
        case rules::Charset::big5: return "big5";
        case rules::Charset::sjis: return "sjis";
        case rules::Charset::gbk: return "gbk";
        case rules::Charset::binary: return "binary";
        case rules::Charset::latin1: return "latin1";
        default: break;
    }
    return (id == 33 || id == 83 || (id >= 192 && id <= 215)) ? "utf8mb3" : "utf8mb4";
}

asio::awaitable<void> Session::refuse_client(std::uint16_t code, const std::string& sql_state,
                                             const std::string& message, std::uint8_t sequence_id) {
    protocol::ErrPacket err{code, sql_state, message};
    // Before the client's capabilities are known, send the pre-4.1 form (no SQL
    // state), as the server itself does for errors it raises before the handshake.
    const auto caps = client_caps_ != 0 ? client_caps_ : protocol::Capabilities{0};
    error_code ec;
    co_await write_packet(client_, protocol::encode_err(err, caps), sequence_id, ec);
}

asio::awaitable<bool> Session::connect_backend() {
    const auto& backend = context_.config.backend;
    auto executor = co_await asio::this_coro::executor;
    asio::steady_timer timer(executor, kBackendConnectTimeout);
    error_code ec;
    std::string where;
    if (!backend.unix_socket.empty()) {
        where = backend.unix_socket;
        backend_is_unix_socket_ = true;
        asio::local::stream_protocol::endpoint endpoint(backend.unix_socket);
        auto outcome = co_await (backend_.socket().async_connect(endpoint, kNoThrow) || timer.async_wait(kNoThrow));
        ec = outcome.index() == 0 ? std::get<0>(std::get<0>(outcome)) : make_error_code(asio::error::timed_out);
    } else {
        where = backend.host + ":" + std::to_string(backend.port);
        asio::ip::tcp::resolver resolver(executor);
        auto [resolve_ec, results] = co_await resolver.async_resolve(backend.host, std::to_string(backend.port),
                                                                     kNoThrow);
        ec = resolve_ec;
        for (auto it = results.begin(); !resolve_ec && it != results.end(); ++it) {
            backend_.socket() = Connection::Socket(executor);
            auto outcome = co_await (backend_.socket().async_connect(it->endpoint(), kNoThrow) ||
                                     timer.async_wait(kNoThrow));
            ec = outcome.index() == 0 ? std::get<0>(std::get<0>(outcome)) : make_error_code(asio::error::timed_out);
            if (!ec) {
                backend_.socket().set_option(asio::ip::tcp::no_delay(true), ec);
                break;
            }
        }
    }
    if (ec) {
        context_.metrics.backend_connect_errors.fetch_add(1, std::memory_order_relaxed);
        spdlog::warn("session {}: cannot connect to backend {}: {}", id_, where, ec.message());
        // 2003 is what a client reports when it cannot reach the server itself.
        co_await refuse_client(2003, "HY000",
                               "Can't connect to MySQL server on '" + where + "' (" + std::to_string(ec.value()) +
                                   " \"" + ec.message() + "\") via uniqgate",
                               0);
        co_return false;
    }
    co_return true;
}

asio::awaitable<bool> Session::establish() {
    const bool connected = co_await connect_backend();
    if (!connected) co_return false;
    const bool handshaken = co_await exchange_handshake();
    co_return handshaken;
}

asio::awaitable<bool> Session::exchange_handshake() {
    error_code ec;
    auto server_hello = co_await read_packet(backend_, backend_buffer_, kMaxHandshakePacket, ec);
    if (ec) co_return false;
    if (!server_hello.payload.empty() && server_hello.payload[0] == protocol::header::err) {
        // "Too many connections", "Host is blocked": the client sees the server's words.
        co_await write_packet(client_, server_hello.payload, server_hello.sequence_id, ec);
        co_return false;
    }
    auto handshake = protocol::decode_initial_handshake(server_hello.payload);
    if (!handshake) {
        spdlog::error("session {}: backend sent a malformed handshake", id_);
        co_return false;
    }
    const protocol::Capabilities backend_caps = handshake.value().capabilities;
    auto offered = handshake.value();
    offered.capabilities = (backend_caps & ~(kUnsupportedCaps | cap::ssl)) | (context_.client_tls ? cap::ssl : 0);
    co_await write_packet(client_, protocol::encode_initial_handshake(offered), 0, ec);
    if (ec) co_return false;

    // Exact reads: a client may send its TLS ClientHello right behind the SSLRequest.
    auto answer = co_await read_packet(client_, client_buffer_, kMaxHandshakePacket, ec, /*exact=*/true);
    if (ec) {
        if (ec == asio::error::message_size) {
            context_.metrics.client_protocol_errors.fetch_add(1, std::memory_order_relaxed);
            spdlog::warn("session {}: client sent an oversized or garbled handshake response; closing", id_);
        }
        co_return false;
    }
    std::uint8_t client_seq = answer.sequence_id;
    if (protocol::is_ssl_request(answer.payload)) {
        if (!context_.client_tls) co_return false;  // asked for what was not offered
        co_await client_.start_tls(*context_.client_tls, asio::ssl::stream_base::server, {}, ec);
        if (ec) {
            spdlog::info("session {}: client TLS handshake failed: {}", id_, ec.message());
            co_return false;
        }
        answer = co_await read_packet(client_, client_buffer_, kMaxHandshakePacket, ec);
        if (ec) co_return false;
        client_seq = answer.sequence_id;
    }
    auto response = protocol::decode_handshake_response(answer.payload);
    if (!response) {
        context_.metrics.client_protocol_errors.fetch_add(1, std::memory_order_relaxed);
        spdlog::warn("session {}: malformed handshake response from client", id_);
        co_return false;
    }
    client_caps_ = response.value().capabilities & offered.capabilities;
    username_ = response.value().username;
    current_database_ = response.value().database.value_or("");
    client_charset_id_ = response.value().character_set;
    if (context_.config.client_tls.mode == config::ClientTlsMode::required && !client_.is_tls()) {
        co_await refuse_client(3159, "HY000",
                               "Connections using insecure transport are prohibited by uniqgate (client_tls: required)",
                               static_cast<std::uint8_t>(client_seq + 1));
        co_return false;
    }

    // The backend leg: TLS if configured and offered, then the client's response.
    auto forwarded = response.value();
    forwarded.capabilities = response.value().capabilities & ~(kUnsupportedCaps | cap::ssl);
    // What both ends will honour decides the response formats (EOF or not, ...).
    client_caps_ = forwarded.capabilities & backend_caps;
    std::uint8_t backend_seq = 1;
    const auto backend_tls_mode = context_.config.backend_tls.mode;
    const bool backend_offers_tls = (backend_caps & cap::ssl) != 0;
    if (context_.backend_tls && !backend_offers_tls && backend_tls_mode != config::BackendTlsMode::preferred) {
        spdlog::error("session {}: backend_tls is {} but the backend does not offer TLS", id_,
                      config::to_string(backend_tls_mode));
        co_await refuse_client(2026, "HY000", "uniqgate: TLS to the backend is required but the backend offers none",
                               static_cast<std::uint8_t>(client_seq + 1));
        co_return false;
    }
    if (context_.backend_tls && backend_offers_tls) {
        forwarded.capabilities |= cap::ssl;
        protocol::SslRequest request{forwarded.capabilities, forwarded.max_packet_size, forwarded.character_set};
        co_await write_packet(backend_, protocol::encode_ssl_request(request), backend_seq++, ec);
        if (!ec) {
            co_await backend_.start_tls(*context_.backend_tls, asio::ssl::stream_base::client,
                                        context_.config.backend.host, ec);
        }
        if (ec) {
            spdlog::error("session {}: backend TLS handshake failed: {}", id_, ec.message());
            co_await refuse_client(2026, "HY000", "uniqgate: TLS to the backend failed: " + ec.message(),
                                   static_cast<std::uint8_t>(client_seq + 1));
            co_return false;
        }
    }
    co_await write_packet(backend_, protocol::encode_handshake_response(forwarded), backend_seq, ec);
    if (ec) co_return false;

    AuthRelay relay({client_.is_tls(), backend_.is_tls() || backend_is_unix_socket_,
                     handshake.value().auth_plugin_data,
                     forwarded.auth_plugin_name.value_or(handshake.value().auth_plugin_name)});
    scramble_ = handshake.value().auth_plugin_data;
    auth_plugin_ = relay.plugin();
    const bool ok = co_await authenticate(std::move(relay), client_seq, backend_seq);
    tracker_.set_capabilities(client_caps_);
    co_return ok;
}

// Relays the authentication exchange. `client_seq` / `backend_seq` are the
// sequence ids of the last packet each leg carried; the legs may be numbered
// differently (an SSLRequest on one leg only, or packets the proxy itself sends).
asio::awaitable<bool> Session::authenticate(AuthRelay relay, std::uint8_t client_seq, std::uint8_t backend_seq) {
    auto verdict = AuthRelay::Verdict::read_backend;
    error_code ec;
    for (;;) {
        const bool from_backend = verdict == AuthRelay::Verdict::read_backend;
        Packet packet;
        if (from_backend) {
            packet = co_await read_packet(backend_, backend_buffer_, kMaxHandshakePacket, ec);
        } else {
            packet = co_await read_packet(client_, client_buffer_, kMaxHandshakePacket, ec);
        }
        if (ec) co_return false;
        (from_backend ? backend_seq : client_seq) = packet.sequence_id;
        auto step = from_backend ? relay.on_backend_packet(packet.payload) : relay.on_client_packet(packet.payload);
        for (auto& out : step.send) {
            auto& seq = out.to_client ? client_seq : backend_seq;
            co_await write_packet(out.to_client ? client_ : backend_, out.payload, ++seq, ec);
            if (ec) co_return false;
        }
        verdict = step.verdict;
        if (verdict == AuthRelay::Verdict::authenticated) {
            auto ok = protocol::decode_ok(packet.payload, client_caps_);
            if (ok) tracker_.set_status_flags(ok.value().status_flags);
            co_return true;
        }
        if (verdict == AuthRelay::Verdict::rejected) co_return false;
        if (verdict == AuthRelay::Verdict::failed) {
            spdlog::warn("session {}: unexpected packet during authentication (plugin {})", id_, relay.plugin());
            co_return false;
        }
    }
}

}  // namespace uniqgate::proxy
