#pragma once
// One client connection and its own backend connection, as a coroutine that
// reads top to bottom like the conversation it carries: connect, handshake
// (TLS and authentication pass through), then the command loop.

#include "config/Config.hpp"
#include "protocol/Messages.hpp"
#include "protocol/ResponseTracker.hpp"
#include "proxy/AuthRelay.hpp"
#include "proxy/Connection.hpp"
#include "proxy/FrameBuffer.hpp"
#include "proxy/Metrics.hpp"

#include <boost/asio/ssl/context.hpp>

#include <cstdint>
#include <string>

namespace uniqgate::proxy {

// What every session shares; owned by the Server, read-only while sessions run.
struct ProxyContext {
    const config::Config& config;
    asio::ssl::context* client_tls = nullptr;   // nullptr: client TLS disabled
    asio::ssl::context* backend_tls = nullptr;  // nullptr: backend TLS disabled
    Metrics& metrics;
};

class Session {
public:
    Session(ProxyContext& context, Connection::Socket client_socket, std::uint64_t id);

    asio::awaitable<void> run();

private:
    // Connection phase.
    asio::awaitable<bool> establish();
    asio::awaitable<bool> connect_backend();
    asio::awaitable<bool> exchange_handshake();
    asio::awaitable<bool> authenticate(AuthRelay relay, std::uint8_t client_seq, std::uint8_t backend_seq);
    asio::awaitable<void> refuse_client(std::uint16_t code, const std::string& sql_state, const std::string& message,
                                        std::uint8_t sequence_id);

    // Command phase.
    asio::awaitable<void> command_loop();
    asio::awaitable<bool> relay_command_packet(std::uint32_t first_frame_length);
    asio::awaitable<bool> relay_response();
    asio::awaitable<bool> relay_infile_data();
    asio::awaitable<bool> change_user();

    void close_both() noexcept;

    ProxyContext& context_;
    const std::uint64_t id_;
    Connection client_;
    Connection backend_;
    FrameBuffer client_buffer_;
    FrameBuffer backend_buffer_;
    protocol::ResponseTracker tracker_;
    protocol::Capabilities client_caps_ = 0;  // negotiated with the client (= with the backend, but for SSL)
    bool backend_is_unix_socket_ = false;
    std::string username_;     // for log lines
    std::string scramble_;     // from the backend's handshake, which the client answered
    std::string auth_plugin_;  // the plugin authentication ended with
};

}  // namespace uniqgate::proxy
