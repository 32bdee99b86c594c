#include "proxy/BufferPool.hpp"

#include <atomic>

namespace uniqgate::proxy {

namespace {
std::atomic<std::size_t> live_bytes{0};

// Trivially destructible, so still readable after the thread's pool is destroyed.
thread_local bool pool_destroyed = false;

struct ThreadPool {
    BufferPool pool;
    ThreadPool() = default;
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;
    ~ThreadPool() { pool_destroyed = true; }
};
thread_local ThreadPool thread_pool;
}  // namespace

BufferPool* BufferPool::this_thread() noexcept { return pool_destroyed ? nullptr : &thread_pool.pool; }

BufferPool::Block BufferPool::allocate(std::size_t size) {
    Block block(new std::uint8_t[size], BlockDeleter{size});  // every byte is written before it is read
    live_bytes.fetch_add(size, std::memory_order_relaxed);
    return block;
}

void BufferPool::BlockDeleter::operator()(std::uint8_t* block) const noexcept {
    delete[] block;
    live_bytes.fetch_sub(size, std::memory_order_relaxed);
}

std::size_t BufferPool::bytes_allocated() noexcept { return live_bytes.load(std::memory_order_relaxed); }

}  // namespace uniqgate::proxy
