#pragma once
// The admin HTTP endpoint: GET /metrics (Prometheus text format), GET /healthz.

#include "proxy/Metrics.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace uniqgate::proxy {

class AdminServer {
public:
    // Binds now; throws std::runtime_error if the address cannot be bound.
    AdminServer(boost::asio::io_context& loop, const boost::asio::ip::tcp::endpoint& endpoint, const Metrics& metrics);
    void start();

private:
    boost::asio::awaitable<void> accept_loop();
    boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);

    boost::asio::ip::tcp::acceptor acceptor_;
    const Metrics& metrics_;
};

}  // namespace uniqgate::proxy
