#pragma once
// A per-connection receive buffer. Relayed bytes are forwarded straight out of
// it (no per-packet allocation); whole packets are assembled only where the
// proxy has to read them (handshake, authentication).

#include "protocol/Frame.hpp"
#include "protocol/Result.hpp"
#include "proxy/BufferPool.hpp"
#include "proxy/Connection.hpp"

#include <cstdint>
#include <cstring>

namespace uniqgate::proxy {

class FrameBuffer {
public:
    // Storage comes from the thread's BufferPool when the first bytes arrive and goes
    // back to it once they are all consumed (release_if_empty, and every read started
    // with async_read_into). A buffer that must grow past a pool block gets storage of
    // its own until it is empty again.
    FrameBuffer() noexcept = default;
    ~FrameBuffer() { drop_storage(); }
    FrameBuffer(const FrameBuffer&) = delete;
    FrameBuffer& operator=(const FrameBuffer&) = delete;

    [[nodiscard]] std::size_t size() const noexcept { return end_ - begin_; }
    [[nodiscard]] const std::uint8_t* data() const noexcept { return storage_.get() + begin_; }
    [[nodiscard]] std::uint8_t* mutable_data() noexcept { return storage_.get() + begin_; }
    [[nodiscard]] protocol::ByteView view() const noexcept { return {data(), size()}; }
    void consume(std::size_t n) noexcept {
        begin_ += n;
        if (begin_ == end_) begin_ = end_ = 0;
    }
    // Whether the buffer holds storage now (it does whenever size() > 0).
    [[nodiscard]] bool holds_storage() const noexcept { return storage_ != nullptr; }
    // Hands the storage back while nothing is buffered; pointers from data() are then stale.
    void release_if_empty() noexcept {
        if (end_ == 0) drop_storage();
    }

    // Reads until at least `n` bytes are buffered (growing the buffer if needed).
    // With `exact`, never reads past `n`: bytes after a packet that switches the
    // connection to TLS belong to the TLS engine, not to this buffer.
    asio::awaitable<void> fill(Connection& from, std::size_t n, error_code& ec, bool exact = false);
    // One read of whatever is available (at least one byte), compacting first.
    asio::awaitable<void> read_more(Connection& from, error_code& ec);
    // read_more in two halves for a read awaited in place (Connection::async_read_into):
    // where the next bytes go (never empty, taking storage if there is none), then how
    // many arrived.
    asio::mutable_buffer space_for_more() {
        if (end_ == capacity_) make_space();  // full, or no storage yet
        return asio::buffer(storage_.get() + end_, capacity_ - end_);
    }
    void commit(std::size_t n) noexcept { end_ += n; }

private:
    void make_room(std::size_t n);
    void make_space();
    void replace_storage(std::size_t capacity);
    void drop_storage() noexcept;

    BufferPool::Block storage_;
    std::size_t capacity_ = 0;  // of storage_; BufferPool::kBlockSize: a pool block
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
};

struct Packet {
    protocol::Bytes payload;
    std::uint8_t sequence_id = 0;  // of the last frame
};

// Reads one whole logical packet; fails with message_size past `max_size` bytes.
// `exact`: read no byte beyond the packet (see FrameBuffer::fill).
asio::awaitable<Packet> read_packet(Connection& from, FrameBuffer& buffer, std::size_t max_size, error_code& ec,
                                    bool exact = false);

// Frames `payload` starting at `sequence_id` and writes it.
asio::awaitable<void> write_packet(Connection& to, protocol::ByteView payload, std::uint8_t sequence_id,
                                   error_code& ec);

}  // namespace uniqgate::proxy
