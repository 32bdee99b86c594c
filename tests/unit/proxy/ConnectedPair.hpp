#pragma once
// Two Connections over a connected pair of unix stream sockets, for tests of the I/O pieces.
#include "proxy/Connection.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <memory>

namespace uniqgate::proxy::test {

struct ConnectedPair {
    explicit ConnectedPair(boost::asio::io_context& loop) {
        boost::asio::local::stream_protocol::socket a(loop);
        boost::asio::local::stream_protocol::socket b(loop);
        boost::asio::local::connect_pair(a, b);
        ours = std::make_unique<Connection>(Connection::Socket(std::move(a)));
        peer = std::make_unique<Connection>(Connection::Socket(std::move(b)));
    }
    std::unique_ptr<Connection> ours;
    std::unique_ptr<Connection> peer;
};

}  // namespace uniqgate::proxy::test
