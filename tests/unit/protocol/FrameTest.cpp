#include "protocol/Frame.hpp"

#include "TestSupport.hpp"

#include <gtest/gtest.h>

namespace uniqgate::protocol {
namespace {

using test::from_hex;

Bytes filled(std::size_t size) {
    Bytes payload(size);
    for (std::size_t i = 0; i < size; ++i) {
        payload[i] = static_cast<std::uint8_t>(i * 7);
    }
    return payload;
}

// Frame lengths and sequence ids of a buffer produced by append_packet.
std::vector<FrameHeader> headers_of(const Bytes& buffer) {
    std::vector<FrameHeader> headers;
    for (std::size_t at = 0; at < buffer.size();) {
        headers.push_back(decode_frame_header(buffer.data() + at));
        at += kFrameHeaderSize + headers.back().payload_length;
    }
    return headers;
}

TEST(FrameHeader, EncodesLittleEndianLengthThenSequenceId) {
    std::uint8_t out[4] = {};
    encode_frame_header(FrameHeader{0x123456, 9}, out);
    EXPECT_EQ(Bytes(out, out + 4), from_hex("56341209"));
    const FrameHeader back = decode_frame_header(out);
    EXPECT_EQ(back.payload_length, 0x123456u);
    EXPECT_EQ(back.sequence_id, 9);
    EXPECT_FALSE(back.continues());
    EXPECT_TRUE((FrameHeader{kMaxFramePayload, 0}.continues()));
}

TEST(AppendPacket, SmallPayloadIsOneFrame) {
    Bytes out;
    std::uint8_t seq = 3;
    append_packet(out, from_hex("0e"), seq);
    EXPECT_EQ(out, from_hex("010000030e"));
    EXPECT_EQ(seq, 4);
}

TEST(AppendPacket, EmptyPayloadIsOneEmptyFrame) {
    Bytes out;
    std::uint8_t seq = 0;
    append_packet(out, {}, seq);
    EXPECT_EQ(out, from_hex("00000000"));
    EXPECT_EQ(seq, 1);
}

TEST(AppendPacket, ExactlyMaxFrameNeedsATrailingEmptyFrame) {
    const Bytes payload = filled(kMaxFramePayload);
    Bytes out;
    std::uint8_t seq = 0;
    append_packet(out, payload, seq);
    const auto headers = headers_of(out);
    ASSERT_EQ(headers.size(), 2u);
    EXPECT_EQ(headers[0].payload_length, kMaxFramePayload);
    EXPECT_EQ(headers[1].payload_length, 0u);
    EXPECT_EQ(headers[1].sequence_id, 1);
    EXPECT_EQ(seq, 2);
}

TEST(AppendPacket, SixteenMebibytesSplitIntoFullFramesAndARest) {
    const std::size_t size = 2 * std::size_t{kMaxFramePayload} + 5;
    const Bytes payload = filled(size);
    Bytes out;
    std::uint8_t seq = 0;
    append_packet(out, payload, seq);
    const auto headers = headers_of(out);
    ASSERT_EQ(headers.size(), 3u);
    EXPECT_EQ(headers[0].payload_length, kMaxFramePayload);
    EXPECT_EQ(headers[1].payload_length, kMaxFramePayload);
    EXPECT_EQ(headers[2].payload_length, 5u);
    EXPECT_EQ(out.size(), size + 3 * kFrameHeaderSize);
}

TEST(AppendPacket, SequenceIdWrapsAt256) {
    Bytes out;
    std::uint8_t seq = 255;
    append_packet(out, filled(kMaxFramePayload + 1), seq);
    const auto headers = headers_of(out);
    ASSERT_EQ(headers.size(), 2u);
    EXPECT_EQ(headers[0].sequence_id, 255);
    EXPECT_EQ(headers[1].sequence_id, 0);
    EXPECT_EQ(seq, 1);
}

TEST(ReassemblePacket, RoundTripsEverySizeAroundTheFrameLimit) {
    for (const std::size_t size :
         {std::size_t{0}, std::size_t{1}, std::size_t{kMaxFramePayload} - 1, std::size_t{kMaxFramePayload},
          std::size_t{kMaxFramePayload} + 1, 2 * std::size_t{kMaxFramePayload}}) {
        const Bytes payload = filled(size);
        Bytes out;
        std::uint8_t seq = 7;
        append_packet(out, payload, seq);
        out.push_back(0xaa);  // the start of the next packet is not consumed
        const auto packet = reassemble_packet(out);
        ASSERT_TRUE(packet) << size;
        EXPECT_TRUE(packet.value().payload == payload) << size;
        EXPECT_EQ(packet.value().first_sequence_id, 7);
        EXPECT_EQ(packet.value().last_sequence_id, static_cast<std::uint8_t>(seq - 1));
        EXPECT_EQ(packet.value().consumed, out.size() - 1);
    }
}

TEST(ReassemblePacket, EveryPrefixOfASplitPacketIsTruncated) {
    Bytes out;
    std::uint8_t seq = 0;
    append_packet(out, filled(kMaxFramePayload), seq);  // two frames: full + empty
    // Checking every prefix of 16 MiB is slow; the interesting cuts are at frame edges.
    for (const std::size_t cut : {std::size_t{0}, std::size_t{3}, std::size_t{4}, std::size_t{5}, out.size() - 5,
                                  out.size() - 4, out.size() - 1}) {
        const auto packet = reassemble_packet(ByteView(out).first(cut));
        ASSERT_FALSE(packet) << cut;
        EXPECT_EQ(packet.error(), ProtocolErrc::truncated) << cut;
    }
    const Bytes small = from_hex("03000000010203");
    for (std::size_t cut = 0; cut < small.size(); ++cut) {
        EXPECT_EQ(reassemble_packet(ByteView(small).first(cut)).error(), ProtocolErrc::truncated);
    }
}

}  // namespace
}  // namespace uniqgate::protocol
