#pragma once
// One side of a proxied conversation: a stream socket (TCP or unix) that can be
// upgraded to TLS in the middle of the conversation, as the MySQL protocol's
// SSLRequest requires. I/O errors are returned, not thrown: a peer going away is
// an ordinary event for a proxy.

#include "proxy/DrainingReceive.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <memory>
#include <string>

namespace uniqgate::proxy {

namespace asio = boost::asio;
using boost::system::error_code;

// Completion token for Connection::async_read_some awaited directly in a coroutine:
// yields std::tuple<error_code, std::size_t>.
inline constexpr auto kAwaitInPlace = asio::as_tuple(asio::deferred);

class Connection {
public:
    using Socket = asio::generic::stream_protocol::socket;

    explicit Connection(Socket socket) : socket_(std::move(socket)), plain_reads_(socket_.get_executor()) {}

    asio::awaitable<void> write_all(asio::const_buffer buffer, error_code& ec);

    // Reads what has arrived (at least one byte), TLS or plain. Awaited in place
    // (`co_await c.async_read_some(b, kAwaitInPlace)`): a coroutine wrapper per read
    // would cost a frame and a resumption per command on the relay's hot path.
    template <typename Token>
    auto async_read_some(asio::mutable_buffer buffer, Token&& token) {
        return asio::async_initiate<Token, void(error_code, std::size_t)>(
            [this](auto handler, asio::mutable_buffer into) {
                if (tls_) {
                    tls_->async_read_some(into, std::move(handler));
                } else {
                    plain_reads_.async_read_some(socket_, into, std::move(handler));
                }
            },
            token, buffer);
    }
    // As async_read_some into `target` (a FrameBuffer): on a plain socket the target's
    // space is taken only when data has arrived, so a connection waiting for its peer
    // holds no receive buffer (BufferPool.hpp). Over TLS it is taken at once.
    template <typename Target, typename Token>
    auto async_read_into(Target& target, Token&& token) {
        return asio::async_initiate<Token, void(error_code, std::size_t)>(
            [this, &target](auto handler) {
                if (tls_) {
                    tls_->async_read_some(target.space_for_more(), std::move(handler));
                } else {
                    plain_reads_.async_read_into(socket_, target, std::move(handler));
                }
            },
            token);
    }
    // write_all in two halves, so that the hot path needs no coroutine frame when the
    // socket takes everything at once. write_now writes what the socket takes without
    // waiting and advances `buffer` past it: true when nothing is left to do (all
    // written, or failed: ec set). Over TLS it writes nothing. write_rest waits to
    // write what write_now left.
    bool write_now(asio::const_buffer& buffer, error_code& ec) noexcept;
    asio::awaitable<void> write_rest(asio::const_buffer buffer, error_code& ec);

    // TLS handshake on the open socket; after success every read and write is encrypted.
    asio::awaitable<void> start_tls(asio::ssl::context& context, asio::ssl::stream_base::handshake_type role,
                                    const std::string& server_name, error_code& ec);

    // SO_RCVLOWAT: readiness (and so a pending read) waits until `bytes` have arrived, or the
    // peer closed. Only a lower bound of what is certain to come is safe; 1 is the default.
    void set_receive_low_water(std::size_t bytes) noexcept;
    // Whether a pipeline's answers are read in one wake-up (run_internal_pipeline): worth it
    // when the CPU is busy with other sessions; alone, waking for each answer overlaps the
    // proxy's work with the server's and answers sooner.
    void set_wait_for_all_answers(bool wait) noexcept { wait_for_all_answers_ = wait; }
    [[nodiscard]] bool waits_for_all_answers() const noexcept { return wait_for_all_answers_; }

    [[nodiscard]] bool is_tls() const noexcept { return tls_ != nullptr; }
    [[nodiscard]] std::string tls_description() const;  // "TLSv1.3 TLS_AES_256_GCM_SHA384" or ""
    void close() noexcept;
    Socket& socket() noexcept { return socket_; }

private:
    Socket socket_;
    DrainingReceive plain_reads_;
    std::unique_ptr<asio::ssl::stream<Socket&>> tls_;
    bool wait_for_all_answers_ = false;
};

}  // namespace uniqgate::proxy
