#pragma once
// The frame layer: 3-byte little-endian payload length + 1-byte sequence id.
// A logical packet of 0xFFFFFF bytes or more is split into 0xFFFFFF-byte frames,
// followed by a shorter (possibly empty) final frame.

#include "protocol/Constants.hpp"
#include "protocol/Result.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace uniqgate::protocol {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

struct FrameHeader {
    std::uint32_t payload_length = 0;
    std::uint8_t sequence_id = 0;

    // A frame of exactly 0xFFFFFF bytes says "the packet goes on in the next frame".
    [[nodiscard]] bool continues() const noexcept { return payload_length == kMaxFramePayload; }
};

// `header` must point at 4 readable bytes.
[[nodiscard]] inline FrameHeader decode_frame_header(const std::uint8_t* header) noexcept {
    return FrameHeader{static_cast<std::uint32_t>(header[0]) | (static_cast<std::uint32_t>(header[1]) << 8) |
                           (static_cast<std::uint32_t>(header[2]) << 16),
                       header[3]};
}

inline void encode_frame_header(FrameHeader header, std::uint8_t* out) noexcept {
    out[0] = static_cast<std::uint8_t>(header.payload_length);
    out[1] = static_cast<std::uint8_t>(header.payload_length >> 8);
    out[2] = static_cast<std::uint8_t>(header.payload_length >> 16);
    out[3] = header.sequence_id;
}

// Appends `payload` to `out` as one logical packet, split into frames as needed.
// `sequence_id` is the id of the first frame and is advanced past the last one.
void append_packet(Bytes& out, ByteView payload, std::uint8_t& sequence_id);

// Reassembles one logical packet from the start of `buffer`.
// Returns the packet if it is complete; `consumed` is then the number of bytes
// (headers included) it took. Returns std::nullopt-like error `truncated` if
// more bytes are needed.
struct ReassembledPacket {
    Bytes payload;
    std::uint8_t first_sequence_id = 0;
    std::uint8_t last_sequence_id = 0;
    std::size_t consumed = 0;
};
[[nodiscard]] Result<ReassembledPacket> reassemble_packet(ByteView buffer);

}  // namespace uniqgate::protocol
