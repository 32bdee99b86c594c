#include "proxy/BufferPool.hpp"

namespace uniqgate::proxy {

namespace {
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

BufferPool::Block BufferPool::allocate() { return std::make_unique_for_overwrite<std::uint8_t[]>(kBlockSize); }

}  // namespace uniqgate::proxy
