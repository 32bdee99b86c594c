// DrainingReceive against Asio's own async_read_some, counting the recv calls each
// makes. This executable defines recv itself (it counts, then makes the system call),
// so the count covers every read Asio's reactor attempts; it is a test binary of its
// own so that no other test runs with it.
#undef _FORTIFY_SOURCE  // the fortified recv is an inline wrapper that cannot be replaced
#include "proxy/DrainingReceive.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>

namespace {
std::atomic<int> recv_calls{0};
}

extern "C" ssize_t recv(int fd, void* buffer, size_t length, int flags) {
    recv_calls.fetch_add(1);
    return syscall(SYS_recvfrom, fd, buffer, length, flags, nullptr, nullptr);
}

namespace uniqgate::proxy {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using namespace std::chrono_literals;

struct DrainingReceiveTest : ::testing::Test {
    DrainingReceiveTest() {
        asio::local::stream_protocol::socket ours(loop);
        asio::local::stream_protocol::socket theirs(loop);
        asio::local::connect_pair(ours, theirs);
        socket.emplace(std::move(ours));
        peer.emplace(std::move(theirs));
    }

    struct Read {
        bool done = false;
        error_code ec;
        std::size_t bytes = 0;
    };

    // Starts a read of up to `capacity` bytes into `data`; `read` tells when it is done.
    template <typename Reader>
    void start_read(Reader&& reader, Read& read, std::size_t capacity) {
        data.resize(capacity);
        read = {};
        reader(asio::buffer(data), [&read](error_code ec, std::size_t n) {
            read.done = true;
            read.ec = ec;
            read.bytes = n;
        });
    }
    void draining_read(Read& read, std::size_t capacity) {
        start_read([this](auto buffer, auto handler) { draining.async_read_some(*socket, buffer, std::move(handler)); },
                   read, capacity);
    }
    void asio_read(Read& read, std::size_t capacity) {
        start_read([this](auto buffer, auto handler) { socket->async_read_some(buffer, std::move(handler)); }, read,
                   capacity);
    }
    void peer_sends(const std::string& bytes) { asio::write(*peer, asio::buffer(bytes)); }
    // Runs the loop until `read` completes (or 2 s pass: a read that waits for an edge
    // that already went by would hang).
    void finish(Read& read) {
        loop.restart();
        const auto deadline = std::chrono::steady_clock::now() + 2s;
        while (!read.done && std::chrono::steady_clock::now() < deadline) loop.run_one_for(100ms);
    }
    std::string received(const Read& read) const {
        return {reinterpret_cast<const char*>(data.data()), read.bytes};
    }
    // The peer sends `bytes` and a draining read takes them: a short read, after which
    // the socket is known empty.
    void short_read_of(const std::string& bytes, Read& read) {
        peer_sends(bytes);
        draining_read(read, 100);
        finish(read);
        EXPECT_EQ(received(read), bytes);
    }

    asio::io_context loop{1};
    std::optional<StreamSocket> socket;
    std::optional<asio::local::stream_protocol::socket> peer;
    DrainingReceive draining{loop.get_executor()};
    std::vector<std::uint8_t> data;
};

// What this is about: after a short read, Asio's own read tries recv again before it
// waits, and that try fails.
TEST_F(DrainingReceiveTest, AsiosReadTriesFirstAfterAShortRead) {
    Read read;
    peer_sends("hello");
    asio_read(read, 100);
    finish(read);
    ASSERT_EQ(received(read), "hello");
    const int after_first = recv_calls.load();
    asio_read(read, 100);
    loop.restart();
    loop.poll();
    EXPECT_FALSE(read.done);
    EXPECT_EQ(recv_calls.load(), after_first + 1);  // the EAGAIN
}

TEST_F(DrainingReceiveTest, AShortReadMakesTheNextReadWaitWithoutTrying) {
    Read read;
    short_read_of("hello", read);
    const int after_first = recv_calls.load();

    draining_read(read, 100);
    loop.restart();
    loop.poll();
    EXPECT_FALSE(read.done);
    EXPECT_EQ(recv_calls.load(), after_first);  // no recv until epoll reports data

    peer_sends("world");
    finish(read);
    ASSERT_TRUE(read.done);
    EXPECT_FALSE(read.ec);
    EXPECT_EQ(received(read), "world");
    EXPECT_EQ(recv_calls.load(), after_first + 1);
}

TEST_F(DrainingReceiveTest, AFullReadKeepsTryingFirst) {
    Read read;
    peer_sends(std::string(150, 'x'));
    draining_read(read, 100);
    finish(read);
    ASSERT_EQ(read.bytes, 100U);
    draining_read(read, 100);  // the rest is there: read at once, no event needed
    finish(read);
    ASSERT_TRUE(read.done);
    EXPECT_EQ(read.bytes, 50U);
}

// Data that arrives while no read is pending: the loop sees its readiness event with
// nothing queued, and the next read must still find the data.
TEST_F(DrainingReceiveTest, DataArrivingBetweenReadsIsNotMissed) {
    Read read;
    short_read_of("one", read);
    peer_sends("two");
    loop.restart();
    loop.poll();  // the reactor takes the event now, with no operation queued
    loop.run_for(20ms);
    draining_read(read, 100);
    finish(read);
    ASSERT_TRUE(read.done);
    EXPECT_EQ(received(read), "two");
}

// Data that arrives right after a short read and before the next one starts: its
// event is still pending in epoll, and the next read waits for exactly that.
TEST_F(DrainingReceiveTest, DataArrivingRightAfterAShortReadIsNotMissed) {
    Read read;
    short_read_of("one", read);
    peer_sends("two");
    draining_read(read, 100);
    finish(read);
    ASSERT_TRUE(read.done);
    EXPECT_EQ(received(read), "two");
}

TEST_F(DrainingReceiveTest, EndOfStreamAfterAShortRead) {
    Read read;
    short_read_of("last", read);
    peer->close();
    draining_read(read, 100);
    finish(read);
    ASSERT_TRUE(read.done);
    EXPECT_EQ(read.ec, asio::error::eof);
}

// Writes of many sizes against reads of a few sizes, in both orders: every byte
// arrives, in order, and no read waits forever.
TEST_F(DrainingReceiveTest, InterleavedWritesAndReadsLoseNothing) {
    std::string sent;
    std::string got;
    Read read;
    for (int round = 0; round < 300; ++round) {
        const std::string chunk(1 + (round * 37) % 200, static_cast<char>('a' + round % 26));
        const std::size_t capacity = 1 + (round * 53) % 256;
        if (round % 3 == 0) {
            draining_read(read, capacity);
            peer_sends(chunk);
        } else {
            peer_sends(chunk);
            draining_read(read, capacity);
        }
        sent += chunk;
        finish(read);
        ASSERT_TRUE(read.done) << "round " << round;
        ASSERT_FALSE(read.ec) << read.ec.message();
        got += received(read);
        while (got.size() < sent.size()) {  // drain what this round left behind
            draining_read(read, 256);
            finish(read);
            ASSERT_TRUE(read.done) << "round " << round << " drain";
            got += received(read);
        }
    }
    EXPECT_EQ(got, sent);
}

}  // namespace
}  // namespace uniqgate::proxy
