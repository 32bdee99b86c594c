// FrameBuffer's storage from the thread's BufferPool: taken when bytes arrive, given
// back when they are all consumed, and not held by a read that is still waiting.
#include "proxy/FrameBuffer.hpp"
#include "tests/unit/proxy/ConnectedPair.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

namespace uniqgate::proxy {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

std::size_t blocks_out() { return BufferPool::this_thread()->blocks_out(); }

using Pair = test::ConnectedPair;

TEST(FrameBufferTest, TakesAPoolBlockForBytesAndGivesItBackWhenConsumed) {
    const std::size_t before = blocks_out();
    FrameBuffer buffer;
    EXPECT_FALSE(buffer.holds_storage());
    EXPECT_EQ(blocks_out(), before);

    const auto space = buffer.space_for_more();
    EXPECT_EQ(space.size(), BufferPool::kBlockSize);
    EXPECT_EQ(blocks_out(), before + 1);
    std::memcpy(space.data(), "abcdef", 6);
    buffer.commit(6);

    buffer.consume(2);
    buffer.release_if_empty();  // four bytes still buffered: kept
    ASSERT_TRUE(buffer.holds_storage());
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(buffer.data()), buffer.size()), "cdef");

    buffer.consume(4);
    buffer.release_if_empty();
    EXPECT_FALSE(buffer.holds_storage());
    EXPECT_EQ(blocks_out(), before);
}

TEST(FrameBufferTest, GrowsPastAPoolBlockKeepingWhatIsBuffered) {
    const std::size_t before = blocks_out();
    {
        FrameBuffer buffer;
        std::vector<std::uint8_t> bytes(BufferPool::kBlockSize + 100);
        std::iota(bytes.begin(), bytes.end(), std::uint8_t{7});
        std::size_t copied = 0;
        while (copied < bytes.size()) {
            const auto space = buffer.space_for_more();
            const std::size_t n = std::min(space.size(), bytes.size() - copied);
            std::memcpy(space.data(), bytes.data() + copied, n);
            buffer.commit(n);
            copied += n;
        }
        ASSERT_EQ(buffer.size(), bytes.size());
        EXPECT_EQ(std::memcmp(buffer.data(), bytes.data(), bytes.size()), 0);
        EXPECT_EQ(blocks_out(), before);  // the grown storage is the buffer's own; the block went back
    }
    EXPECT_EQ(blocks_out(), before);
}

// The point of the pool: sessions waiting for their peers hold no buffers.
TEST(FrameBufferTest, AWaitingReadHoldsNoStorage) {
    constexpr int kConnections = 32;
    asio::io_context loop;
    std::vector<std::unique_ptr<Pair>> pairs;
    std::vector<std::unique_ptr<FrameBuffer>> buffers;
    for (int i = 0; i < kConnections; ++i) {
        pairs.push_back(std::make_unique<Pair>(loop));
        buffers.push_back(std::make_unique<FrameBuffer>());
        buffers.back()->space_for_more();  // storage from an earlier exchange, all consumed
    }
    const std::size_t before = blocks_out() - kConnections;
    int finished = 0;
    for (int i = 0; i < kConnections; ++i) {
        asio::co_spawn(
            loop,
            [&, i]() -> asio::awaitable<void> {
                const auto [ec, got] = co_await pairs[i]->ours->async_read_into(*buffers[i], kAwaitInPlace);
                EXPECT_FALSE(ec) << ec.message();
                buffers[i]->commit(got);
                ++finished;
            },
            asio::detached);
    }
    loop.poll();  // every read started, none can finish
    EXPECT_EQ(finished, 0);
    EXPECT_EQ(blocks_out(), before);
    for (const auto& buffer : buffers) EXPECT_FALSE(buffer->holds_storage());

    for (int i = 0; i < kConnections; ++i) {
        const std::string message = "message " + std::to_string(i);
        asio::write(pairs[i]->peer->socket(), asio::buffer(message));
    }
    loop.run();
    ASSERT_EQ(finished, kConnections);
    for (int i = 0; i < kConnections; ++i) {
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(buffers[i]->data()), buffers[i]->size()),
                  "message " + std::to_string(i));
    }
    EXPECT_EQ(blocks_out(), before + kConnections);  // each holds its unconsumed bytes
    for (auto& buffer : buffers) {
        buffer->consume(buffer->size());
        buffer->release_if_empty();
    }
    EXPECT_EQ(blocks_out(), before);
}

TEST(FrameBufferTest, AReadAfterUnconsumedBytesAppendsToThem) {
    asio::io_context loop;
    Pair pair(loop);
    FrameBuffer buffer;
    asio::write(pair.peer->socket(), asio::buffer(std::string("head")));
    bool done = false;
    asio::co_spawn(
        loop,
        [&]() -> asio::awaitable<void> {
            auto [ec, got] = co_await pair.ours->async_read_into(buffer, kAwaitInPlace);
            buffer.commit(got);
            EXPECT_EQ(buffer.size(), 4U);
            std::tie(ec, got) = co_await pair.ours->async_read_into(buffer, kAwaitInPlace);  // waits
            EXPECT_FALSE(ec) << ec.message();
            buffer.commit(got);
            done = true;
        },
        asio::detached);
    loop.poll();
    EXPECT_FALSE(done);
    EXPECT_TRUE(buffer.holds_storage());  // "head" is still in it
    asio::write(pair.peer->socket(), asio::buffer(std::string("tail")));
    loop.run();
    ASSERT_TRUE(done);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(buffer.data()), buffer.size()), "headtail");
}

// A read raced against a timer (cancellation connected) takes Asio's path; the bytes
// still land in the buffer, and a cancelled read leaves it as it was.
TEST(FrameBufferTest, AReadRacedAgainstATimerStillFillsTheBuffer) {
    using namespace asio::experimental::awaitable_operators;
    asio::io_context loop;
    Pair pair(loop);
    FrameBuffer buffer;
    int rounds = 0;
    asio::co_spawn(
        loop,
        [&]() -> asio::awaitable<void> {
            asio::steady_timer timer(loop, 20ms);
            auto first = co_await (pair.ours->async_read_into(buffer, asio::use_awaitable) ||
                                   timer.async_wait(asio::use_awaitable));
            EXPECT_EQ(first.index(), 1U);  // nothing sent yet
            EXPECT_EQ(buffer.size(), 0U);
            ++rounds;
            asio::write(pair.peer->socket(), asio::buffer(std::string("late")));
            timer.expires_after(5s);
            auto second = co_await (pair.ours->async_read_into(buffer, asio::use_awaitable) ||
                                    timer.async_wait(asio::use_awaitable));
            EXPECT_EQ(second.index(), 0U);
            if (second.index() == 0) buffer.commit(std::get<0>(second));
            ++rounds;
        },
        asio::detached);
    loop.run();
    EXPECT_EQ(rounds, 2);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(buffer.data()), buffer.size()), "late");
}

}  // namespace
}  // namespace uniqgate::proxy
