#pragma once
// A per-connection receive buffer. Relayed bytes are forwarded straight out of
// it (no per-packet allocation); whole packets are assembled only where the
// proxy has to read them (handshake, authentication).

#include "protocol/Frame.hpp"
#include "protocol/Result.hpp"
#include "proxy/Connection.hpp"

#include <cstdint>
#include <cstring>
#include <vector>

namespace uniqgate::proxy {

class FrameBuffer {
public:
    explicit FrameBuffer(std::size_t capacity = 64 * 1024) : data_(capacity) {}

    [[nodiscard]] std::size_t size() const noexcept { return end_ - begin_; }
    [[nodiscard]] const std::uint8_t* data() const noexcept { return data_.data() + begin_; }
    [[nodiscard]] std::uint8_t* mutable_data() noexcept { return data_.data() + begin_; }
    [[nodiscard]] protocol::ByteView view() const noexcept { return {data(), size()}; }
    void consume(std::size_t n) noexcept {
        begin_ += n;
        if (begin_ == end_) begin_ = end_ = 0;
    }

    // Reads until at least `n` bytes are buffered (growing the buffer if needed).
    // With `exact`, never reads past `n`: bytes after a packet that switches the
    // connection to TLS belong to the TLS engine, not to this buffer.
    asio::awaitable<void> fill(Connection& from, std::size_t n, error_code& ec, bool exact = false);
    // One read of whatever is available (at least one byte), compacting first.
    asio::awaitable<void> read_more(Connection& from, error_code& ec);
    // read_more in two halves for a read awaited in place (Connection::async_read_some):
    // where the next bytes go (never empty), then how many arrived.
    asio::mutable_buffer space_for_more();
    void commit(std::size_t n) noexcept { end_ += n; }

private:
    void make_room(std::size_t n);

    std::vector<std::uint8_t> data_;
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
