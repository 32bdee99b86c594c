#pragma once
// The listener: accepts clients and runs one Session coroutine per client on
// one of `threads` event loops (each loop is single-threaded, so a session
// never needs locks for its own state).

#include "config/Config.hpp"
#include "proxy/Metrics.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <vector>

namespace uniqgate::proxy {

class Server {
public:
    // Binds the listening sockets; throws std::runtime_error with a clear
    // message if it cannot (address in use, bad TLS files).
    Server(const config::Config& config, unsigned threads);
    ~Server();

    // Serves until SIGINT, SIGTERM or stop().
    void run();
    // Thread-safe: makes run() return.
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace uniqgate::proxy
