// Rows of the proxy's own reads: text-protocol rows, and binary-protocol rows of
// string columns (the proxy's prepared reads select CAST(... AS BINARY)).
#include "protocol/TextResultRow.hpp"
#include "TestSupport.hpp"

#include <gtest/gtest.h>

namespace uniqgate::protocol {
namespace {

using test::from_hex;

TEST(TextResultRow, ValuesAndNull) {
    const auto row = decode_text_row(from_hex("01 30 fb 03 61 62 63"), 3);
    ASSERT_TRUE(row) << row.error().message();
    EXPECT_EQ(row.value(), (TextRow{"0", std::nullopt, "abc"}));
}

TEST(TextResultRow, TruncatedAndTrailingBytesAreErrors) {
    EXPECT_FALSE(decode_text_row(from_hex("01 30 03 61"), 2));
    EXPECT_FALSE(decode_text_row(from_hex("01 30 01 31 00"), 2));
}

TEST(BinaryStringRow, NullBitmapStartsAtBitTwo) {
    // header 00, bitmap for 3 columns = 1 byte; column 1 NULL -> bit 3 (0x08)
    const auto row = decode_binary_string_row(from_hex("00 08 01 30 03 61 62 63"), 3);
    ASSERT_TRUE(row) << row.error().message();
    EXPECT_EQ(row.value(), (TextRow{"0", std::nullopt, "abc"}));
}

TEST(BinaryStringRow, BitmapGrowsWithTheColumns) {
    // 7 columns: (7 + 9) / 8 = 2 bitmap bytes; column 6 NULL -> bit 8 -> second byte 0x01
    const auto row = decode_binary_string_row(from_hex("00 00 01 01 61 01 62 01 63 01 64 01 65 01 66"), 7);
    ASSERT_TRUE(row) << row.error().message();
    EXPECT_EQ(row.value(), (TextRow{"a", "b", "c", "d", "e", "f", std::nullopt}));
}

TEST(BinaryStringRow, MalformedInputIsAnError) {
    EXPECT_FALSE(decode_binary_string_row(from_hex(""), 1));
    EXPECT_FALSE(decode_binary_string_row(from_hex("fe 00 00 02 00"), 1)) << "an EOF is not a row";
    EXPECT_FALSE(decode_binary_string_row(from_hex("00"), 1)) << "no bitmap";
    EXPECT_FALSE(decode_binary_string_row(from_hex("00 00 05 61 62"), 1)) << "string shorter than its length";
    EXPECT_FALSE(decode_binary_string_row(from_hex("00 00 01 61 01 62"), 1)) << "trailing bytes";
}

}  // namespace
}  // namespace uniqgate::protocol
