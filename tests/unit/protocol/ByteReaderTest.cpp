#include "protocol/ByteReader.hpp"

#include "TestSupport.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace uniqgate::protocol {
namespace {

using test::from_hex;

TEST(ProtocolCategory, NamesAndDescribesEachError) {
    const std::error_code ec = ProtocolErrc::truncated;
    EXPECT_STREQ(ec.category().name(), "uniqgate.protocol");
    for (const auto e : {ProtocolErrc::truncated, ProtocolErrc::malformed, ProtocolErrc::unexpected_packet,
                         ProtocolErrc::too_large}) {
        EXPECT_FALSE(make_error_code(e).message().empty());
        EXPECT_EQ(&make_error_code(e).category(), &protocol_category());
    }
    EXPECT_NE(make_error_code(ProtocolErrc::malformed).message(), make_error_code(ProtocolErrc::truncated).message());
}

TEST(ByteReader, ReadsLittleEndianIntegers) {
    const Bytes data = from_hex("01 0201 050403 09080706 0f0e0d0c0b0a 1716151413121110");
    ByteReader r(data);
    EXPECT_EQ(r.u8(), 0x01);
    EXPECT_EQ(r.u16(), 0x0102);
    EXPECT_EQ(r.u24(), 0x030405u);
    EXPECT_EQ(r.u32(), 0x06070809u);
    EXPECT_EQ(r.u48(), 0x0a0b0c0d0e0fu);
    EXPECT_EQ(r.u64(), 0x1011121314151617u);
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(r.at_end());
}

TEST(ByteReader, FailureIsStickyAndNeverReadsPastTheEnd) {
    const Bytes data = from_hex("0102");
    ByteReader r(data);
    EXPECT_EQ(r.u32(), 0u);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.failure(), ProtocolErrc::truncated);
    EXPECT_EQ(r.u8(), 0);  // the bytes are there, but the reader stays failed
    EXPECT_EQ(r.remaining(), 0u);
    EXPECT_EQ(r.peek(), 0);
    EXPECT_TRUE(r.rest().empty());
}

TEST(ByteReader, PeekDoesNotConsume) {
    const Bytes data = from_hex("2a");
    ByteReader r(data);
    EXPECT_EQ(r.peek(), 0x2a);
    EXPECT_EQ(r.u8(), 0x2a);
    EXPECT_EQ(r.peek(), 0);
    EXPECT_TRUE(r.ok());
}

struct LenencCase {
    std::uint64_t value;
    const char* hex;
};

TEST(LenencInt, EncodesEachWidthAtItsEdges) {
    const LenencCase cases[] = {
        {0, "00"},
        {250, "fa"},
        {251, "fcfb00"},
        {0xffff, "fcffff"},
        {0x10000, "fd000001"},
        {0xffffff, "fdffffff"},
        {0x1000000, "fe0000000100000000"},
        {std::numeric_limits<std::uint64_t>::max(), "feffffffffffffffff"},
    };
    for (const auto& c : cases) {
        Bytes out;
        write_lenenc_int(out, c.value);
        EXPECT_EQ(out, from_hex(c.hex)) << c.value;
        ByteReader r(out);
        EXPECT_EQ(r.lenenc_int(), c.value);
        EXPECT_TRUE(r.ok() && r.at_end()) << c.value;
    }
}

TEST(LenencInt, NullIsOnlyAllowedWhereAsked) {
    const Bytes null = from_hex("fb");
    ByteReader nullable(null);
    EXPECT_EQ(nullable.lenenc_int_or_null(), std::nullopt);
    EXPECT_TRUE(nullable.ok());
    ByteReader strict(null);
    strict.lenenc_int();
    EXPECT_FALSE(strict.ok());
    EXPECT_EQ(strict.failure(), ProtocolErrc::malformed);
}

TEST(LenencInt, HeaderFfIsMalformed) {
    const Bytes data = from_hex("ff");
    ByteReader r(data);
    EXPECT_EQ(r.lenenc_int_or_null(), std::nullopt);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.failure(), ProtocolErrc::malformed);
}

TEST(LenencInt, TruncatedWideFormsFail) {
    for (const char* hex : {"", "fc", "fc01", "fd0102", "fe01020304050607"}) {
        const Bytes data = from_hex(hex);
        ByteReader r(data);
        r.lenenc_int();
        EXPECT_FALSE(r.ok()) << hex;
        EXPECT_EQ(r.failure(), ProtocolErrc::truncated) << hex;
    }
}

TEST(LenencString, ReadsAndRejectsOverlongLengths) {
    Bytes out;
    write_lenenc_string(out, "abc");
    EXPECT_EQ(out, from_hex("03616263"));
    ByteReader r(out);
    EXPECT_EQ(r.lenenc_string(), "abc");
    EXPECT_TRUE(r.ok());

    const Bytes huge = from_hex("feffffffffffffffff41");  // a length of 2^64-1 over one byte
    ByteReader h(huge);
    EXPECT_TRUE(h.lenenc_string().empty());
    EXPECT_FALSE(h.ok());
}

TEST(NullTerminatedString, ConsumesTheNulAndFailsWithoutOne) {
    Bytes out;
    write_null_terminated_string(out, "root");
    write_bytes(out, "xy");
    ByteReader r(out);
    EXPECT_EQ(r.null_terminated_string(), "root");
    EXPECT_EQ(r.rest(), "xy");
    EXPECT_TRUE(r.ok());
    const Bytes unterminated = from_hex("6162");
    ByteReader no_nul(unterminated);
    EXPECT_TRUE(no_nul.null_terminated_string().empty());
    EXPECT_FALSE(no_nul.ok());
}

TEST(ByteReader, FixedStringAndSkipCheckBounds) {
    const Bytes data = from_hex("61626364");
    ByteReader r(data);
    EXPECT_EQ(r.fixed_string(2), "ab");
    r.skip(1);
    EXPECT_EQ(r.position(), 3u);
    EXPECT_EQ(r.fixed_string(2), "");
    EXPECT_FALSE(r.ok());
    ByteReader s(data);
    s.skip(std::numeric_limits<std::size_t>::max());
    EXPECT_FALSE(s.ok());
}

TEST(Writers, WriteLittleEndian) {
    Bytes out;
    write_u8(out, 1);
    write_u16(out, 0x0302);
    write_u24(out, 0x060504);
    write_u32(out, 0x0a090807);
    write_u64(out, 0x1211100f0e0d0c0b);
    EXPECT_EQ(out, from_hex("01 0203 040506 0708090a 0b0c0d0e0f101112"));
}

}  // namespace
}  // namespace uniqgate::protocol
