#include "proxy/Connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <openssl/ssl.h>

#include <cerrno>

namespace uniqgate::proxy {

namespace {
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
}

bool Connection::write_now(asio::const_buffer& buffer, error_code& ec) noexcept {
    if (tls_) return false;
    // Most writes fit the socket buffer at once. Writing now, non-blocking, skips
    // Asio's posted completion and the extra epoll round it costs per write; only
    // what does not fit waits for the socket asynchronously.
    if (!socket_.non_blocking()) socket_.non_blocking(true, ec);
    std::size_t n = 0;
    if (!ec) n = socket_.write_some(buffer, ec);
    if (ec.value() == EAGAIN && ec.category() == boost::system::system_category()) ec = {};
    buffer += n;
    return ec || buffer.size() == 0;
}

asio::awaitable<void> Connection::write_all(asio::const_buffer buffer, error_code& ec) {
    if (write_now(buffer, ec)) co_return;
    co_await write_rest(buffer, ec);
}

asio::awaitable<void> Connection::write_rest(asio::const_buffer buffer, error_code& ec) {
    std::size_t n = 0;
    if (tls_) {
        std::tie(ec, n) = co_await asio::async_write(*tls_, buffer, kNoThrow);
    } else {
        std::tie(ec, n) = co_await asio::async_write(socket_, buffer, kNoThrow);
    }
    (void)n;
}

asio::awaitable<void> Connection::start_tls(asio::ssl::context& context, asio::ssl::stream_base::handshake_type role,
                                            const std::string& server_name, error_code& ec) {
    tls_ = std::make_unique<asio::ssl::stream<Socket&>>(socket_, context);
    if (role == asio::ssl::stream_base::client && !server_name.empty()) {
        // SNI, and the name checked by verify_ca's host verification when enabled.
        SSL_set_tlsext_host_name(tls_->native_handle(), server_name.c_str());
    }
    std::tie(ec) = co_await tls_->async_handshake(role, kNoThrow);
}

std::string Connection::tls_description() const {
    if (!tls_) return {};
    SSL* ssl = const_cast<asio::ssl::stream<Socket&>&>(*tls_).native_handle();
    return std::string(SSL_get_version(ssl)) + " " + SSL_get_cipher_name(ssl);
}

void Connection::set_receive_low_water(std::size_t bytes) noexcept {
    error_code ignored;  // an unsupported socket type just wakes up earlier
    socket_.set_option(asio::socket_base::receive_low_watermark(static_cast<int>(bytes)), ignored);
}

void Connection::close() noexcept {
    error_code ignored;
    socket_.shutdown(Socket::shutdown_both, ignored);
    socket_.close(ignored);
}

}  // namespace uniqgate::proxy
