// Connection's in-place I/O (write_now, async_read_some) and FrameBuffer's two-step
// read, on a connected pair of unix stream sockets: the pieces the relay's hot path
// is made of.
#include "proxy/Connection.hpp"
#include "proxy/FrameBuffer.hpp"
#include "tests/unit/proxy/ConnectedPair.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <gtest/gtest.h>

#include <sys/socket.h>

#include <numeric>
#include <vector>

namespace uniqgate::proxy {
namespace {

namespace asio = boost::asio;

using test::ConnectedPair;

std::vector<std::uint8_t> pattern(std::size_t size) {
    std::vector<std::uint8_t> bytes(size);
    std::iota(bytes.begin(), bytes.end(), std::uint8_t{0});
    return bytes;
}

template <typename Body>
void run_coroutine(asio::io_context& loop, Body body) {
    bool finished = false;
    asio::co_spawn(loop, body(), [&](const std::exception_ptr& error) {
        finished = true;
        if (error) std::rethrow_exception(error);
    });
    loop.run();
    EXPECT_TRUE(finished);
}

TEST(ConnectionTest, WriteNowSendsWhatFitsAtOnce) {
    asio::io_context loop;
    ConnectedPair pair(loop);
    const auto bytes = pattern(100);
    asio::const_buffer rest(bytes.data(), bytes.size());
    error_code ec;
    EXPECT_TRUE(pair.ours->write_now(rest, ec));
    EXPECT_FALSE(ec);
    EXPECT_EQ(rest.size(), 0U);

    std::vector<std::uint8_t> received(bytes.size());
    asio::read(pair.peer->socket(), asio::buffer(received));
    EXPECT_EQ(received, bytes);
}

// A full socket: write_now hands back the rest without an error and without waiting;
// write_rest finishes it once the peer reads, and the peer sees every byte in order.
TEST(ConnectionTest, WriteNowLeavesWhatDoesNotFitToWriteRest) {
    asio::io_context loop;
    ConnectedPair pair(loop);
    pair.ours->socket().set_option(asio::socket_base::send_buffer_size(4096));
    const auto bytes = pattern(4 * 1024 * 1024);
    asio::const_buffer rest(bytes.data(), bytes.size());
    error_code ec;
    EXPECT_FALSE(pair.ours->write_now(rest, ec));
    EXPECT_FALSE(ec) << ec.message();
    ASSERT_GT(rest.size(), 0U);
    ASSERT_LT(rest.size(), bytes.size());

    std::vector<std::uint8_t> received(bytes.size());
    run_coroutine(loop, [&]() -> asio::awaitable<void> {
        asio::co_spawn(
            loop,
            [&]() -> asio::awaitable<void> {
                co_await asio::async_read(pair.peer->socket(), asio::buffer(received), asio::use_awaitable);
            },
            asio::detached);
        error_code write_ec;
        co_await pair.ours->write_rest(rest, write_ec);
        EXPECT_FALSE(write_ec) << write_ec.message();
    });
    EXPECT_EQ(received, bytes);
}

TEST(ConnectionTest, WriteNowReportsAPeerThatWentAway) {
    asio::io_context loop;
    ConnectedPair pair(loop);
    pair.peer->close();
    const auto bytes = pattern(100);
    asio::const_buffer rest(bytes.data(), bytes.size());
    error_code ec;
    EXPECT_TRUE(pair.ours->write_now(rest, ec));  // nothing left to do: it failed
    EXPECT_TRUE(ec);
}

// FrameBuffer's space_for_more/commit with a read awaited in place: data lands after
// what is buffered, and a full buffer grows rather than offering no room.
TEST(ConnectionTest, ReadInPlaceAppendsToTheFrameBuffer) {
    asio::io_context loop;
    ConnectedPair pair(loop);
    FrameBuffer buffer;
    const auto bytes = pattern(BufferPool::kBlockSize + 20);  // past one pool block: it must grow
    asio::write(pair.peer->socket(), asio::buffer(bytes));

    run_coroutine(loop, [&]() -> asio::awaitable<void> {
        while (buffer.size() < bytes.size()) {
            const auto space = buffer.space_for_more();
            EXPECT_GT(space.size(), 0U);
            const auto [ec, got] = co_await pair.ours->async_read_some(space, kAwaitInPlace);
            EXPECT_FALSE(ec) << ec.message();
            if (ec) co_return;
            buffer.commit(got);
        }
    });
    ASSERT_EQ(buffer.size(), bytes.size());
    EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), buffer.data()));
}

TEST(ConnectionTest, ReadInPlaceReportsEndOfStream) {
    asio::io_context loop;
    ConnectedPair pair(loop);
    pair.peer->close();
    FrameBuffer buffer;
    run_coroutine(loop, [&]() -> asio::awaitable<void> {
        const auto [ec, got] = co_await pair.ours->async_read_some(buffer.space_for_more(), kAwaitInPlace);
        EXPECT_EQ(ec, asio::error::eof);
        EXPECT_EQ(got, 0U);
    });
}

}  // namespace
}  // namespace uniqgate::proxy
