#include "proxy/AdminServer.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include <stdexcept>

namespace uniqgate::proxy {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

namespace {
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
}

AdminServer::AdminServer(asio::io_context& loop, const asio::ip::tcp::endpoint& endpoint, const Metrics& metrics)
    : acceptor_(loop), metrics_(metrics) {
    error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        throw std::runtime_error("admin.listen: cannot listen on " + endpoint.address().to_string() + ":" +
                                 std::to_string(endpoint.port()) + ": " + ec.message());
    }
}

void AdminServer::start() { asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached); }

asio::awaitable<void> AdminServer::accept_loop() {
    for (;;) {
        auto [ec, socket] = co_await acceptor_.async_accept(kNoThrow);
        if (ec == asio::error::operation_aborted) co_return;
        if (ec) continue;
        asio::co_spawn(acceptor_.get_executor(), serve(std::move(socket)), asio::detached);
    }
}

asio::awaitable<void> AdminServer::serve(asio::ip::tcp::socket socket) {
    boost::beast::flat_buffer buffer;
    http::request<http::string_body> request;
    auto [read_ec, read_bytes] = co_await http::async_read(socket, buffer, request, kNoThrow);
    (void)read_bytes;
    if (read_ec) co_return;
    http::response<http::string_body> response;
    response.version(request.version());
    response.keep_alive(false);
    if (request.method() != http::verb::get) {
        response.result(http::status::method_not_allowed);
        response.body() = "only GET\n";
    } else if (request.target() == "/metrics") {
        response.result(http::status::ok);
        response.set(http::field::content_type, "text/plain; version=0.0.4");
        response.body() = metrics_.to_prometheus();
    } else if (request.target() == "/healthz") {
        response.result(http::status::ok);
        response.set(http::field::content_type, "text/plain");
        response.body() = "ok\n";
    } else {
        response.result(http::status::not_found);
        response.body() = "not found: try /metrics or /healthz\n";
    }
    response.prepare_payload();
    auto [write_ec, written] = co_await http::async_write(socket, response, kNoThrow);
    (void)write_ec;
    (void)written;
    error_code ignored;
    socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
}

}  // namespace uniqgate::proxy
