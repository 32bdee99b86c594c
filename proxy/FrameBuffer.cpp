#include "proxy/FrameBuffer.hpp"

#include <boost/asio/error.hpp>

#include <algorithm>

namespace uniqgate::proxy {

using protocol::kFrameHeaderSize;

void FrameBuffer::drop_storage() noexcept {
    if (!storage_) return;
    BufferPool* pool = capacity_ == BufferPool::kBlockSize ? BufferPool::this_thread() : nullptr;
    if (pool != nullptr) {
        pool->give_back(std::move(storage_));
    } else {
        storage_.reset();
    }
    capacity_ = begin_ = end_ = 0;
}

// Moves what is buffered into fresh storage of `capacity` bytes (at least size()).
void FrameBuffer::replace_storage(std::size_t capacity) {
    BufferPool* pool = capacity == BufferPool::kBlockSize ? BufferPool::this_thread() : nullptr;
    BufferPool::Block fresh = pool != nullptr ? pool->take() : BufferPool::allocate(capacity);
    const std::size_t buffered = size();
    if (buffered > 0) std::memcpy(fresh.get(), data(), buffered);
    drop_storage();
    storage_ = std::move(fresh);
    capacity_ = capacity;
    end_ = buffered;
}

// Makes room for `n` bytes from the front of the buffer.
void FrameBuffer::make_room(std::size_t n) {
    if (!storage_) {
        replace_storage(std::max(n, BufferPool::kBlockSize));
        return;
    }
    if (begin_ > 0) {
        std::memmove(storage_.get(), storage_.get() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
    }
    if (capacity_ < n) replace_storage(n);
}

asio::awaitable<void> FrameBuffer::fill(Connection& from, std::size_t n, error_code& ec, bool exact) {
    if (size() >= n) co_return;
    if (capacity_ - begin_ < n) make_room(n);
    while (size() < n) {
        const std::size_t room = exact ? n - size() : capacity_ - end_;
        const auto into = asio::buffer(storage_.get() + end_, room);
        const auto [read_ec, got] = co_await from.async_read_some(into, kAwaitInPlace);
        ec = read_ec;
        if (ec) co_return;
        end_ += got;
    }
}

void FrameBuffer::make_space() {
    make_room(capacity_);  // compacts, or takes storage if there is none
    if (end_ == capacity_) replace_storage(capacity_ * 2);
}

asio::awaitable<void> FrameBuffer::read_more(Connection& from, error_code& ec) {
    const auto [read_ec, got] = co_await from.async_read_into(*this, kAwaitInPlace);
    ec = read_ec;
    commit(got);
}

asio::awaitable<Packet> read_packet(Connection& from, FrameBuffer& buffer, std::size_t max_size, error_code& ec,
                                    bool exact) {
    Packet packet;
    for (;;) {
        co_await buffer.fill(from, kFrameHeaderSize, ec, exact);
        if (ec) co_return packet;
        const auto header = protocol::decode_frame_header(buffer.data());
        if (packet.payload.size() + header.payload_length > max_size) {
            ec = make_error_code(boost::asio::error::message_size);
            co_return packet;
        }
        co_await buffer.fill(from, kFrameHeaderSize + header.payload_length, ec, exact);
        if (ec) co_return packet;
        const auto* body = buffer.data() + kFrameHeaderSize;
        packet.payload.insert(packet.payload.end(), body, body + header.payload_length);
        packet.sequence_id = header.sequence_id;
        buffer.consume(kFrameHeaderSize + header.payload_length);
        if (!header.continues()) co_return packet;
    }
}

asio::awaitable<void> write_packet(Connection& to, protocol::ByteView payload, std::uint8_t sequence_id,
                                   error_code& ec) {
    protocol::Bytes framed;
    framed.reserve(payload.size() + kFrameHeaderSize);
    protocol::append_packet(framed, payload, sequence_id);
    co_await to.write_all(asio::buffer(framed), ec);
}

}  // namespace uniqgate::proxy
