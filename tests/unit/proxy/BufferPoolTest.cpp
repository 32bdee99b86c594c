#include "proxy/BufferPool.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace uniqgate::proxy {
namespace {

TEST(BufferPoolTest, TheBlockGivenBackLastIsTakenNext) {
    BufferPool pool;
    auto first = pool.take();
    auto second = pool.take();
    EXPECT_EQ(pool.blocks_out(), 2U);
    const auto* second_address = second.get();
    pool.give_back(std::move(first));
    pool.give_back(std::move(second));
    EXPECT_EQ(pool.blocks_out(), 0U);
    EXPECT_EQ(pool.idle_blocks(), 2U);
    auto again = pool.take();  // the most recently used block: still in the cache
    EXPECT_EQ(again.get(), second_address);
    EXPECT_EQ(pool.idle_blocks(), 1U);
}

TEST(BufferPoolTest, KeepsABoundedNumberOfIdleBlocks) {
    BufferPool pool;
    std::vector<BufferPool::Block> blocks;
    for (std::size_t i = 0; i < BufferPool::kMaxIdleBlocks + 10; ++i) blocks.push_back(pool.take());
    for (auto& block : blocks) pool.give_back(std::move(block));
    EXPECT_EQ(pool.idle_blocks(), BufferPool::kMaxIdleBlocks);
    EXPECT_EQ(pool.blocks_out(), 0U);
}

TEST(BufferPoolTest, EachThreadHasItsOwnPool) {
    BufferPool* main_pool = BufferPool::this_thread();
    ASSERT_NE(main_pool, nullptr);
    BufferPool* other_pool = nullptr;
    std::thread([&] { other_pool = BufferPool::this_thread(); }).join();
    EXPECT_NE(other_pool, nullptr);
    EXPECT_NE(other_pool, main_pool);
}

}  // namespace
}  // namespace uniqgate::proxy
