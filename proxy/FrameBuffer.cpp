#include "proxy/FrameBuffer.hpp"

#include <boost/asio/error.hpp>

namespace uniqgate::proxy {

using protocol::kFrameHeaderSize;

void FrameBuffer::make_room(std::size_t n) {
    if (begin_ > 0) {
        std::memmove(data_.data(), data_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
    }
    if (data_.size() < n) data_.resize(n);
}

asio::awaitable<void> FrameBuffer::fill(Connection& from, std::size_t n, error_code& ec, bool exact) {
    if (size() >= n) co_return;
    if (data_.size() - begin_ < n) make_room(n);
    while (size() < n) {
        const std::size_t room = exact ? n - size() : data_.size() - end_;
        const auto into = asio::buffer(data_.data() + end_, room);
        const auto [read_ec, got] = co_await from.async_read_some(into, kAwaitInPlace);
        ec = read_ec;
        if (ec) co_return;
        end_ += got;
    }
}

asio::mutable_buffer FrameBuffer::space_for_more() {
    if (end_ == data_.size()) make_room(data_.size());
    if (end_ == data_.size()) data_.resize(data_.size() * 2);
    return asio::buffer(data_.data() + end_, data_.size() - end_);
}

asio::awaitable<void> FrameBuffer::read_more(Connection& from, error_code& ec) {
    const auto [read_ec, got] = co_await from.async_read_some(space_for_more(), kAwaitInPlace);
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
