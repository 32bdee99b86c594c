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

TEST(BufferPoolTest, CountsTheBytesAllocatedNotTheBlocksLentOut) {
    const std::size_t before = BufferPool::bytes_allocated();
    {
        BufferPool pool;
        auto block = pool.take();
        EXPECT_EQ(BufferPool::bytes_allocated(), before + BufferPool::kBlockSize);
        pool.give_back(std::move(block));  // kept idle: still allocated
        EXPECT_EQ(BufferPool::bytes_allocated(), before + BufferPool::kBlockSize);
        block = pool.take();  // reused: nothing new
        EXPECT_EQ(BufferPool::bytes_allocated(), before + BufferPool::kBlockSize);

        auto grown = BufferPool::allocate(3 * BufferPool::kBlockSize + 7);
        EXPECT_EQ(BufferPool::bytes_allocated(), before + 4 * BufferPool::kBlockSize + 7);
        grown.reset();
        EXPECT_EQ(BufferPool::bytes_allocated(), before + BufferPool::kBlockSize);

        std::vector<BufferPool::Block> blocks;
        for (std::size_t i = 0; i < BufferPool::kMaxIdleBlocks + 10; ++i) blocks.push_back(pool.take());
        for (auto& taken : blocks) pool.give_back(std::move(taken));
        // The blocks past the idle bound were freed; `block` is still out.
        EXPECT_EQ(BufferPool::bytes_allocated(), before + (BufferPool::kMaxIdleBlocks + 1) * BufferPool::kBlockSize);
    }  // the pool frees its idle blocks, and `block` is freed with it
    EXPECT_EQ(BufferPool::bytes_allocated(), before);
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
