#pragma once
// Receive buffers shared by the sessions of one thread (one event loop).
//
// A session holds a buffer only while bytes are in flight through it; an idle one
// (waiting for its client's next command, which is most of a connection's life)
// holds none. The buffer a read lands in is then the one the loop used last, still
// in the cache where the kernel copies into it and the relay reads it, instead of
// one of thousands of per-session buffers gone cold since that session's previous
// command. It also keeps an idle connection's memory to its few hundred bytes of
// state. haproxy's buffer pools do the same for the same reasons.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace uniqgate::proxy {

class BufferPool {
public:
    static constexpr std::size_t kBlockSize = 64 * 1024;
    // Idle blocks kept for reuse; more are freed. A loop serves one event at a time, so
    // it rarely has more than a few sessions with bytes in flight.
    static constexpr std::size_t kMaxIdleBlocks = 64;

    // Frees a buffer and counts its bytes out of bytes_allocated(). Only the rare real
    // allocations and frees touch that shared counter; taking and giving back do not.
    struct BlockDeleter {
        std::size_t size = 0;
        void operator()(std::uint8_t* block) const noexcept;
    };
    using Block = std::unique_ptr<std::uint8_t[], BlockDeleter>;

    // A buffer of `size` bytes outside any pool (a receive buffer grown past a block),
    // counted in bytes_allocated() like the pools' blocks. Left uninitialised.
    static Block allocate(std::size_t size);

    BufferPool() { idle_.reserve(kMaxIdleBlocks); }

    // The pool of the calling thread; null once the thread is ending and its pool is
    // gone (a loop's sessions can be destroyed after its thread ran). Blocks may be
    // given back on another thread than the one they came from: they are heap memory.
    static BufferPool* this_thread() noexcept;

    // A block of kBlockSize bytes, the one given back last if there is one.
    Block take() {
        ++blocks_out_;
        if (idle_.empty()) return allocate(kBlockSize);
        Block block = std::move(idle_.back());
        idle_.pop_back();
        return block;
    }
    void give_back(Block block) noexcept {
        if (blocks_out_ > 0) --blocks_out_;
        if (idle_.size() < kMaxIdleBlocks) idle_.push_back(std::move(block));  // reserved: cannot throw
    }

    [[nodiscard]] std::size_t idle_blocks() const noexcept { return idle_.size(); }
    // Blocks taken from this pool and not given back to it.
    [[nodiscard]] std::size_t blocks_out() const noexcept { return blocks_out_; }

    // Bytes of receive buffers allocated now, process-wide: every pool's blocks, in use
    // or idle, and the buffers allocate() made. For the admin endpoint.
    static std::size_t bytes_allocated() noexcept;

private:
    std::vector<Block> idle_;
    std::size_t blocks_out_ = 0;
};

}  // namespace uniqgate::proxy
