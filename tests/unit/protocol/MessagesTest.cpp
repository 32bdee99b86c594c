// OK / ERR / EOF / COM_STMT_PREPARE_OK / column count, on raw bytes. The hex
// fixtures marked "MariaDB" were captured from MariaDB 10.11.19.
#include "protocol/Messages.hpp"

#include "TestSupport.hpp"

#include <gtest/gtest.h>

namespace uniqgate::protocol {
namespace {

using test::decode_every_prefix;
using test::from_hex;

constexpr Capabilities kCaps41 = cap::protocol_41 | cap::transactions;
constexpr Capabilities kCapsTrack = kCaps41 | cap::session_track;

TEST(OkPacket, DecodesPlainOk) {
    const Bytes payload = from_hex("00000002000000");  // MariaDB, DO 1
    const auto ok = decode_ok(payload, kCapsTrack);
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok.value().header, header::ok);
    EXPECT_EQ(ok.value().affected_rows, 0u);
    EXPECT_EQ(ok.value().status_flags, status::autocommit);
    EXPECT_EQ(ok.value().warnings, 0);
    EXPECT_TRUE(ok.value().info.empty());
    EXPECT_EQ(encode_ok(ok.value(), kCapsTrack), payload);
}

TEST(OkPacket, DecodesInfoUnderSessionTrack) {
    // MariaDB, INSERT ... VALUES (1,'a'),(2,NULL)
    const Bytes payload = from_hex(
        "00020002000000265265636f7264733a203220204475706c6963617465733a203020205761726e696e67733a2030");
    const auto ok = decode_ok(payload, kCapsTrack);
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok.value().affected_rows, 2u);
    EXPECT_EQ(ok.value().info, "Records: 2  Duplicates: 0  Warnings: 0");
    EXPECT_EQ(encode_ok(ok.value(), kCapsTrack), payload);
}

TEST(OkPacket, InfoWithoutSessionTrackIsLengthEncodedOnRealServers) {
    // Both servers length-encode the info although the manual says string<EOF>.
    const Bytes payload = from_hex("0002000200000003616263");
    const auto ok = decode_ok(payload, kCaps41);
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok.value().info, "abc");
    EXPECT_EQ(encode_ok(ok.value(), kCaps41), payload);
}

TEST(OkPacket, InfoThatIsNotOneLengthEncodedStringIsKeptRaw) {
    const Bytes payload = from_hex("00000002000000616263");
    const auto ok = decode_ok(payload, kCaps41);
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok.value().info, "abc");
}

TEST(OkPacket, DecodesSessionStateChanges) {
    // MariaDB, SET autocommit=0: status session_state_changed, empty info, one
    // system-variable entry.
    const Bytes payload = from_hex("000000004000000011000f0a6175746f636f6d6d6974034f4646");
    const auto ok = decode_ok(payload, kCapsTrack);
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok.value().status_flags, status::session_state_changed);
    EXPECT_TRUE(ok.value().info.empty());
    EXPECT_EQ(test::to_hex(test::bytes_of(ok.value().session_state_changes)), "000f0a6175746f636f6d6d6974034f4646");
    EXPECT_EQ(encode_ok(ok.value(), kCapsTrack), payload);
}

TEST(OkPacket, DecodesTheFeHeaderedOkThatEndsAResultSet) {
    const Bytes payload = from_hex("fe000022000000");  // MariaDB, deprecate_eof
    const auto ok = decode_ok(payload, kCapsTrack | cap::deprecate_eof);
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok.value().header, header::eof);
    EXPECT_EQ(ok.value().status_flags, status::autocommit | 0x20);
    EXPECT_EQ(encode_ok(ok.value(), kCapsTrack), payload);
}

TEST(OkPacket, LargeCountsUseWideLengthEncoding) {
    OkPacket ok;
    ok.affected_rows = 0x1000000;
    ok.last_insert_id = 300;
    ok.status_flags = status::in_trans;
    const Bytes payload = encode_ok(ok, kCaps41);
    EXPECT_EQ(payload, from_hex("00fe0000000100000000fc2c0101000000"));
    const auto back = decode_ok(payload, kCaps41);
    ASSERT_TRUE(back);
    EXPECT_EQ(back.value().affected_rows, 0x1000000u);
    EXPECT_EQ(back.value().last_insert_id, 300u);
}

TEST(OkPacket, RejectsTruncatedAndMalformedInput) {
    EXPECT_EQ(decode_ok({}, kCaps41).error(), ProtocolErrc::truncated);
    EXPECT_EQ(decode_ok(from_hex("01000002000000"), kCaps41).error(), ProtocolErrc::malformed);
    EXPECT_EQ(decode_ok(from_hex("00fb0002000000"), kCaps41).error(), ProtocolErrc::malformed);
    EXPECT_EQ(decode_ok(from_hex("000000"), kCaps41).error(), ProtocolErrc::truncated);
    EXPECT_EQ(decode_ok(from_hex("0000000240000000ff"), kCapsTrack).error(), ProtocolErrc::malformed);
    const Bytes tracked = from_hex("000000004000000011000f0a6175746f636f6d6d6974034f4646");
    // Only the prefixes that stop before the optional info/state decode (as absent).
    EXPECT_EQ(decode_every_prefix(tracked, [](ByteView p) { return decode_ok(p, kCapsTrack).has_value(); }), 2u);
}

TEST(ErrPacket, DecodesSqlStateAndMessage) {
    // MariaDB, SELECT * FROM no_such_table
    const Bytes payload = from_hex(
        "ff7a042334325330325461626c65202766782e6e6f5f737563685f7461626c652720646f65736e2774206578697374");
    const auto err = decode_err(payload, kCaps41);
    ASSERT_TRUE(err);
    EXPECT_EQ(err.value().error_code, 1146);
    EXPECT_EQ(err.value().sql_state, "42S02");
    EXPECT_EQ(err.value().message, "Table 'fx.no_such_table' doesn't exist");
    EXPECT_EQ(encode_err(err.value(), kCaps41), payload);
    EXPECT_FALSE(is_progress_report(payload));
}

TEST(ErrPacket, ErrorsBeforeTheHandshakeHaveNoSqlState) {
    const Bytes payload = from_hex("ff6a04486f7374206e6f7420616c6c6f776564");  // 1130 "Host not allowed"
    const auto err = decode_err(payload, kCaps41);
    ASSERT_TRUE(err);
    EXPECT_EQ(err.value().error_code, 1130);
    EXPECT_TRUE(err.value().sql_state.empty());
    EXPECT_EQ(err.value().message, "Host not allowed");
    EXPECT_EQ(encode_err(err.value(), kCaps41), payload);
}

TEST(ErrPacket, EncodesDefaultSqlState) {
    ErrPacket err;
    err.error_code = 1062;
    err.message = "dup";
    EXPECT_EQ(encode_err(err, kCaps41), from_hex("ff2604234859303030647570"));
    EXPECT_EQ(encode_err(err, 0), from_hex("ff2604647570"));
}

TEST(ErrPacket, RejectsTruncatedAndMalformedInput) {
    EXPECT_EQ(decode_err({}, kCaps41).error(), ProtocolErrc::truncated);
    EXPECT_EQ(decode_err(from_hex("ff7a"), kCaps41).error(), ProtocolErrc::truncated);
    EXPECT_EQ(decode_err(from_hex("ff7a042334"), kCaps41).error(), ProtocolErrc::truncated);
    EXPECT_EQ(decode_err(from_hex("007a04"), kCaps41).error(), ProtocolErrc::malformed);
}

TEST(ProgressReport, IsAnErrShapedPacketWithCodeFfff) {
    // MariaDB, LOAD DATA LOCAL INFILE: stage 2 of 2, "End bulk insert".
    const Bytes payload = from_hex("ffffff0102020000000f456e642062756c6b20696e73657274");
    EXPECT_TRUE(is_progress_report(payload));
    const auto err = decode_err(payload, kCaps41);
    ASSERT_TRUE(err);
    EXPECT_EQ(err.value().error_code, 0xffff);
    EXPECT_FALSE(is_progress_report(from_hex("ffff")));
    EXPECT_FALSE(is_progress_report(from_hex("fe0000")));
}

TEST(EofPacket, DecodesWarningsAndStatus) {
    const Bytes payload = from_hex("fe01000a00");
    EXPECT_TRUE(is_eof_packet(payload));
    const auto eof = decode_eof(payload);
    ASSERT_TRUE(eof);
    EXPECT_EQ(eof.value().warnings, 1);
    EXPECT_EQ(eof.value().status_flags, status::autocommit | status::more_results_exists);
    EXPECT_EQ(encode_eof(eof.value()), payload);
}

TEST(EofPacket, NineBytesOrMoreIsNotAnEof) {
    const Bytes row = from_hex("fe0000000000000000");  // could be a row with a huge first column
    EXPECT_FALSE(is_eof_packet(row));
    EXPECT_EQ(decode_eof(row).error(), ProtocolErrc::malformed);
    EXPECT_FALSE(is_eof_packet({}));
    EXPECT_FALSE(is_eof_packet(from_hex("0000000200")));
    EXPECT_EQ(decode_eof(from_hex("0000000200")).error(), ProtocolErrc::malformed);
    EXPECT_EQ(decode_every_prefix(from_hex("fe00000200"), [](ByteView p) { return decode_eof(p).has_value(); }), 0u);
}

TEST(StmtPrepareOk, DecodesCountsAndRoundTrips) {
    const Bytes payload = from_hex("000300000003000200000000");  // MariaDB: 3 columns, 2 params
    const auto ok = decode_stmt_prepare_ok(payload);
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok.value().statement_id, 3u);
    EXPECT_EQ(ok.value().num_columns, 3);
    EXPECT_EQ(ok.value().num_params, 2);
    EXPECT_EQ(ok.value().warning_count, 0);
    EXPECT_EQ(encode_stmt_prepare_ok(ok.value()), payload);
    EXPECT_EQ(decode_every_prefix(payload, [](ByteView p) { return decode_stmt_prepare_ok(p).has_value(); }), 0u);
}

TEST(StmtPrepareOk, ToleratesMysqlMetadataFollowsByte) {
    const auto ok = decode_stmt_prepare_ok(from_hex("00010000000100000000000001"));
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok.value().num_columns, 1);
    EXPECT_EQ(decode_stmt_prepare_ok(from_hex("ff0100000001000000000000")).error(), ProtocolErrc::malformed);
}

TEST(ColumnCount, IsALengthEncodedIntegerOfAtLeastOne) {
    EXPECT_EQ(decode_column_count(from_hex("02")).value(), 2u);
    EXPECT_EQ(decode_column_count(from_hex("fc0001")).value(), 256u);
    EXPECT_EQ(decode_column_count(from_hex("0201")).value(), 2u);  // MySQL 8 metadata_follows
    EXPECT_EQ(decode_column_count(from_hex("00")).error(), ProtocolErrc::malformed);
    EXPECT_EQ(decode_column_count(from_hex("fb")).error(), ProtocolErrc::malformed);
    EXPECT_EQ(decode_column_count(from_hex("ff")).error(), ProtocolErrc::malformed);
    EXPECT_EQ(decode_column_count({}).error(), ProtocolErrc::truncated);
    EXPECT_EQ(decode_column_count(from_hex("fc01")).error(), ProtocolErrc::truncated);
}

}  // namespace
}  // namespace uniqgate::protocol
