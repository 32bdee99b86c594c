#include "protocol/Frame.hpp"

#include <algorithm>

namespace uniqgate::protocol {

void append_packet(Bytes& out, ByteView payload, std::uint8_t& sequence_id) {
    const std::size_t frames = payload.size() / kMaxFramePayload + 1;
    out.reserve(out.size() + payload.size() + frames * kFrameHeaderSize);

    // A payload that is an exact multiple of 0xFFFFFF (including 0) ends with an
    // empty frame: the reader only stops at a frame shorter than 0xFFFFFF.
    std::size_t offset = 0;
    for (;;) {
        const std::size_t chunk = std::min<std::size_t>(payload.size() - offset, kMaxFramePayload);
        const std::size_t at = out.size();
        out.resize(at + kFrameHeaderSize);
        encode_frame_header(FrameHeader{static_cast<std::uint32_t>(chunk), sequence_id}, out.data() + at);
        const auto first = payload.begin() + static_cast<std::ptrdiff_t>(offset);
        out.insert(out.end(), first, first + static_cast<std::ptrdiff_t>(chunk));
        ++sequence_id;  // wraps at 256, as on the wire
        offset += chunk;
        if (chunk < kMaxFramePayload) {
            return;
        }
    }
}

Result<ReassembledPacket> reassemble_packet(ByteView buffer) {
    // First walk the headers only, so that a caller retrying on a growing buffer
    // does not copy a partial 16 MiB packet on every attempt.
    std::size_t pos = 0;
    std::size_t total = 0;
    FrameHeader header;
    do {
        if (buffer.size() - pos < kFrameHeaderSize) {
            return ProtocolErrc::truncated;
        }
        header = decode_frame_header(buffer.data() + pos);
        if (buffer.size() - pos - kFrameHeaderSize < header.payload_length) {
            return ProtocolErrc::truncated;
        }
        pos += kFrameHeaderSize + header.payload_length;
        total += header.payload_length;
    } while (header.continues());

    ReassembledPacket packet;
    packet.payload.reserve(total);
    packet.first_sequence_id = buffer[3];
    packet.last_sequence_id = header.sequence_id;
    packet.consumed = pos;
    for (std::size_t at = 0; at < pos;) {
        const FrameHeader frame = decode_frame_header(buffer.data() + at);
        const auto first = buffer.begin() + static_cast<std::ptrdiff_t>(at + kFrameHeaderSize);
        packet.payload.insert(packet.payload.end(), first, first + frame.payload_length);
        at += kFrameHeaderSize + frame.payload_length;
    }
    return packet;
}

}  // namespace uniqgate::protocol
