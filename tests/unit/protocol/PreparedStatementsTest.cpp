// COM_STMT_EXECUTE / SEND_LONG_DATA / CLOSE / RESET / BULK_EXECUTE on raw bytes.
// Behaviour marked "MariaDB 10.11" was checked by sending the packet to a real
// server and reading back what it stored.
#include "protocol/PreparedStatements.hpp"

#include "protocol/BoundValueText.hpp"

#include "TestSupport.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace uniqgate::protocol {
namespace {

using test::decode_every_prefix;
using test::from_hex;
using test::to_hex;

constexpr ParamType kLongLong{field_type::longlong, 0};
constexpr ParamType kVarString{field_type::var_string, 0};

std::string hex_of(ByteView bytes) { return to_hex(bytes); }

// A one-parameter COM_STMT_EXECUTE (statement 1, types sent) around `value_hex`.
Bytes execute_with(ParamType type, std::string_view value_hex, bool null = false) {
    Bytes p = from_hex("17010000000001000000");  // statement 1, no cursor, 1 iteration
    p.push_back(null ? 1 : 0);
    p.push_back(1);
    p.push_back(type.type);
    p.push_back(type.flags);
    const Bytes value = from_hex(value_hex);
    p.insert(p.end(), value.begin(), value.end());
    return p;
}

std::size_t execute_prefixes(const Bytes& payload, std::uint16_t count, std::span<const ParamType> previous = {},
                             const std::vector<bool>& long_data = {}) {
    return decode_every_prefix(payload, [&](ByteView p) {
        return decode_stmt_execute(p, count, previous, long_data).has_value();
    });
}

// One row per wire format: the value as sent and the bytes the decoder must return.
struct TypeFixture {
    const char* name;
    ParamType type;
    const char* wire;   // after the types
    const char* bytes;  // ParamValue::bytes
};

const TypeFixture kTypeFixtures[] = {
    {"tiny", {field_type::tiny, 0}, "ff", "ff"},
    {"tiny_unsigned", {field_type::tiny, kUnsignedParamFlag}, "ff", "ff"},
    {"short", {field_type::short_int, 0}, "feff", "feff"},
    {"long", {field_type::long_int, 0}, "fbffffff", "fbffffff"},
    {"float", {field_type::float_type, 0}, "0000c03f", "0000c03f"},
    {"longlong", {field_type::longlong, 0}, "0700000000000000", "0700000000000000"},
    {"double", {field_type::double_type, 0}, "9a9999999999b93f", "9a9999999999b93f"},
    {"date_empty", {field_type::date, 0}, "00", ""},
    {"date", {field_type::date, 0}, "04e8070102", "e8070102"},
    {"date_with_time", {field_type::date, 0}, "07e8070102030405", "e8070102030405"},
    {"datetime", {field_type::datetime, 0}, "0be807010203040506000000", "e807010203040506000000"},
    {"timestamp", {field_type::timestamp, 0}, "07e8070102030405", "e8070102030405"},
    {"time_empty", {field_type::time, 0}, "00", ""},
    {"time", {field_type::time, 0}, "080101000000020304", "0101000000020304"},
    {"time_micro", {field_type::time, 0}, "0c0000000000020304f4010000", "0000000000020304f4010000"},
    {"decimal", {field_type::decimal, 0}, "03312e35", "312e35"},
    {"newdecimal", {field_type::newdecimal, 0}, "042d312e35", "2d312e35"},
    {"varchar", {field_type::varchar, 0}, "026162", "6162"},
    {"var_string", {field_type::var_string, 0}, "00", ""},
    {"string", {field_type::string, 0}, "026162", "6162"},
    {"enum", {field_type::enum_type, 0}, "026162", "6162"},
    {"set", {field_type::set, 0}, "026162", "6162"},
    {"tiny_blob", {field_type::tiny_blob, 0}, "0100", "00"},
    {"medium_blob", {field_type::medium_blob, 0}, "0100", "00"},
    {"long_blob", {field_type::long_blob, 0}, "0100", "00"},
    {"blob", {field_type::blob, 0}, "0100", "00"},
};

TEST(StmtExecute, DecodesEveryWireFormatAndRoundTrips) {
    for (const TypeFixture& f : kTypeFixtures) {
        SCOPED_TRACE(f.name);
        const Bytes payload = execute_with(f.type, f.wire);
        const auto decoded = decode_stmt_execute(payload, 1, {});
        ASSERT_TRUE(decoded) << decoded.error().message();
        const StmtExecute& e = decoded.value();
        EXPECT_EQ(e.statement_id, 1u);
        EXPECT_TRUE(e.new_params_bound);
        ASSERT_EQ(e.types.size(), 1u);
        EXPECT_EQ(e.types[0], f.type);
        ASSERT_EQ(e.params.size(), 1u);
        EXPECT_EQ(e.params[0].kind, ParamValue::Kind::value);
        EXPECT_EQ(hex_of(e.params[0].bytes), to_hex(from_hex(f.bytes)));
        EXPECT_EQ(encode_stmt_execute(e), payload);
        EXPECT_EQ(execute_prefixes(payload, 1), 0u);
    }
}

TEST(StmtExecute, DecodesTheMariaDbGoldenExecute) {
    // mariadb-10.11-transcripts.txt, eof.execute: two LONGLONG parameters 7 and 0.
    const Bytes payload = from_hex("1703000000000100000000010800080007000000000000000000000000000000");
    const auto decoded = decode_stmt_execute(payload, 2, {});
    ASSERT_TRUE(decoded);
    const StmtExecute& e = decoded.value();
    EXPECT_EQ(e.statement_id, 3u);
    EXPECT_EQ(e.flags, cursor::no_cursor);
    EXPECT_EQ(e.iteration_count, 1u);
    EXPECT_EQ(hex_of(e.null_bitmap), "00");
    EXPECT_EQ(e.types, (std::vector<ParamType>{kLongLong, kLongLong}));
    EXPECT_EQ(hex_of(e.params[0].bytes), "0700000000000000");
    EXPECT_EQ(hex_of(e.params[1].bytes), "0000000000000000");
    EXPECT_EQ(encode_stmt_execute(e), payload);
    EXPECT_EQ(execute_prefixes(payload, 2), 0u);
}

// Captured from libmariadb 3.x (mysql_stmt_* API) against MariaDB 10.11: 13
// parameters TINY, SHORT unsigned, LONG, LONGLONG unsigned, FLOAT, DOUBLE,
// NEWDECIMAL, STRING, BLOB (sent with two COM_STMT_SEND_LONG_DATA chunks), DATE,
// DATETIME, TIME and a NULL LONG. The server stored
// -3,65535,-123456,18446744073709551615,0.1,-2.5,-12.50,héllo',0001FF,2024-01-02,
// 2024-01-02 03:04:05.000006,-26:03:04.000500,NULL.
constexpr const char* kLibmariadbExecute =
    "17010000000001000000" "0010" "01" "010002800300088004000500f600fe00fc000a000c000b000300"
    "fd" "ffff" "c01dfeff" "ffffffffffffffff" "cdcccc3d" "00000000000004c0" "062d31322e3530" "0768c3a96c6c6f27"
    "04e8070102" "0be807010203040506000000" "0c01000000001a0304f4010000";

TEST(StmtExecute, DecodesARealLibmariadbExecuteWithLongData) {
    const Bytes payload = from_hex(kLibmariadbExecute);
    std::vector<bool> long_data(13);
    long_data[8] = true;
    const auto decoded = decode_stmt_execute(payload, 13, {}, long_data);
    ASSERT_TRUE(decoded) << decoded.error().message();
    const StmtExecute& e = decoded.value();
    const char* expected[] = {"-3", "65535", "-123456", "18446744073709551615", "1.0000000149011612e-01", "-2.5e+00", "-12.50",
                              "X'68C3A96C6C6F27'", "", "'2024-01-02'", "'2024-01-02 03:04:05.000006'",
                              "'-26:03:04.000500'", "NULL"};
    for (std::size_t i = 0; i < 13; ++i) {
        SCOPED_TRACE(i);
        if (i == 8) {
            EXPECT_EQ(e.params[i].kind, ParamValue::Kind::long_data);
            continue;
        }
        const auto literal = render_sql_literal(e.types[i], e.params[i]);
        ASSERT_TRUE(literal) << literal.error().message();
        EXPECT_EQ(literal.value(), expected[i]);
    }
    EXPECT_EQ(encode_stmt_execute(e), payload);
    EXPECT_EQ(execute_prefixes(payload, 13, {}, long_data), 0u);
    // The long data itself, as libmariadb sent it.
    EXPECT_EQ(hex_of(decode_send_long_data(from_hex("180100000008000001")).value().data), "0001");
    EXPECT_EQ(decode_send_long_data(from_hex("18010000000800ff")).value().param_index, 8u);
}

TEST(StmtExecute, DecodesLibmariadbsSecondExecuteWithoutTypes) {
    // The same statement executed again without rebinding: no types, and
    // libmariadb still leaves out the BLOB that had long data, and MariaDB 10.11
    // stored NULL for it with the later parameters read correctly. Yet a raw
    // second execution after long data, without types, had the server read a value
    // for that parameter. Which state the server keeps is not settled; the
    // caller's long_data flag decides here.
    const Bytes payload = from_hex(
        "17010000000001000000" "0010" "00" "fd" "ffff" "07000000" "ffffffffffffffff" "cdcccc3d" "00000000000004c0"
        "062d31322e3530" "0768c3a96c6c6f27" "04e8070102" "0be807010203040506000000" "0c01000000001a0304f4010000");
    std::vector<bool> long_data(13);
    long_data[8] = true;
    const auto first = decode_stmt_execute(from_hex(kLibmariadbExecute), 13, {}, long_data);
    ASSERT_TRUE(first);
    const auto second = decode_stmt_execute(payload, 13, first.value().types, long_data);
    ASSERT_TRUE(second) << second.error().message();
    EXPECT_FALSE(second.value().new_params_bound);
    EXPECT_EQ(render_plain_text(second.value().types[2], second.value().params[2]).value(), "7");
    EXPECT_EQ(render_plain_text(second.value().types[9], second.value().params[9]).value(), "2024-01-02");
    // Without the flag the decoder reads the DATE's bytes as the BLOB and fails later.
    EXPECT_FALSE(decode_stmt_execute(payload, 13, first.value().types));
}

TEST(StmtExecute, ReadsTheCursorFlag) {
    const Bytes payload = from_hex("1703000000010100000000010800080007000000000000000000000000000000");
    const auto decoded = decode_stmt_execute(payload, 2, {});
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded.value().flags, cursor::read_only);
}

TEST(StmtExecute, NullBitmapMarksNullsWhichHaveNoValueBytes) {
    // 9 parameters: bitmap of two bytes; parameters 0 and 8 NULL, the rest TINY.
    Bytes p = from_hex("17050000000001000000");
    p.push_back(0x01);
    p.push_back(0x01);
    p.push_back(1);
    for (int i = 0; i < 9; ++i) {
        p.push_back(i == 0 ? field_type::null : field_type::tiny);
        p.push_back(0);
    }
    for (int i = 1; i < 8; ++i) {
        p.push_back(static_cast<std::uint8_t>(i));
    }
    const auto decoded = decode_stmt_execute(p, 9, {});
    ASSERT_TRUE(decoded) << decoded.error().message();
    const auto& params = decoded.value().params;
    ASSERT_EQ(params.size(), 9u);
    EXPECT_EQ(params[0].kind, ParamValue::Kind::null);
    EXPECT_EQ(params[8].kind, ParamValue::Kind::null);
    for (int i = 1; i < 8; ++i) {
        EXPECT_EQ(hex_of(params[i].bytes), to_hex(Bytes{static_cast<std::uint8_t>(i)}));
    }
    EXPECT_EQ(encode_stmt_execute(decoded.value()), p);
    EXPECT_EQ(execute_prefixes(p, 9), 0u);
}

TEST(StmtExecute, WithoutTypesUsesThePreviousOnes) {
    const Bytes payload = from_hex("17030000000001000000" "00" "00" "0700000000000000" "026162");
    const std::vector<ParamType> previous{kLongLong, kVarString};
    const auto decoded = decode_stmt_execute(payload, 2, previous);
    ASSERT_TRUE(decoded);
    EXPECT_FALSE(decoded.value().new_params_bound);
    EXPECT_EQ(decoded.value().types, previous);
    EXPECT_EQ(hex_of(decoded.value().params[1].bytes), "6162");
    EXPECT_EQ(encode_stmt_execute(decoded.value()), payload);
    EXPECT_EQ(execute_prefixes(payload, 2, previous), 0u);
}

TEST(StmtExecute, WithoutTypesAndNoPreviousOnesIsAnError) {
    // MariaDB 10.11: "Incorrect arguments to mysqld_stmt_execute".
    const Bytes payload = from_hex("17030000000001000000" "00" "00" "026162" "026364");
    EXPECT_EQ(decode_stmt_execute(payload, 2, {}).error(), ProtocolErrc::malformed);
}

TEST(StmtExecute, WithoutParametersIsTenBytes) {
    const Bytes payload = from_hex("17090000000001000000");
    const auto decoded = decode_stmt_execute(payload, 0, {});
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded.value().statement_id, 9u);
    EXPECT_TRUE(decoded.value().params.empty());
    EXPECT_EQ(encode_stmt_execute(decoded.value()), payload);
    EXPECT_EQ(execute_prefixes(payload, 0), 0u);
}

TEST(StmtExecute, KeepsTheLastPreparedStatementId) {
    const auto decoded = decode_stmt_execute(from_hex("17ffffffff0001000000"), 0, {});
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded.value().statement_id, kLastPreparedStatementId);
}

TEST(StmtExecute, LongDataParametersHaveATypeButNoValueAndTheirNullBitIsIgnored) {
    // MariaDB 10.11 stores the long data whether or not the NULL bit is set.
    for (const std::uint8_t bitmap : {0x00, 0x01}) {
        Bytes p = from_hex("170400000000010000000001fc0008000700000000000000");
        p[10] = bitmap;
        const auto decoded = decode_stmt_execute(p, 2, {}, {true, false});
        ASSERT_TRUE(decoded) << decoded.error().message();
        EXPECT_EQ(decoded.value().params[0].kind, ParamValue::Kind::long_data);
        EXPECT_TRUE(decoded.value().params[0].bytes.empty());
        EXPECT_EQ(decoded.value().types[0].type, field_type::blob);
        EXPECT_EQ(hex_of(decoded.value().params[1].bytes), "0700000000000000");
        EXPECT_EQ(execute_prefixes(p, 2, {}, {true, false}), 0u);
    }
    const Bytes plain = from_hex("170400000000010000000001fc0008000700000000000000");
    EXPECT_EQ(encode_stmt_execute(decode_stmt_execute(plain, 2, {}, {true}).value()), plain);
}

TEST(StmtExecute, LongDataForANumericTypeIsAnError) {
    // MariaDB 10.11: "Incorrect arguments to mysqld_stmt_execute".
    const Bytes p = from_hex("17040000000001000000" "00" "01" "08000800" "0700000000000000");
    EXPECT_EQ(decode_stmt_execute(p, 2, {}, {true, false}).error(), ProtocolErrc::malformed);
}

TEST(StmtExecute, LengthEncodedLengthsMayUseTheWideForms) {
    // MariaDB 10.11 accepts a 0xFC length for strings and for temporal values alike.
    // The decoded values are views: the payloads must outlive them.
    const Bytes string_payload = execute_with(kVarString, "fc02006162");
    const auto s = decode_stmt_execute(string_payload, 1, {});
    ASSERT_TRUE(s);
    EXPECT_EQ(hex_of(s.value().params[0].bytes), "6162");
    const Bytes date_payload = execute_with({field_type::date, 0}, "fc0400e8070102");
    const auto d = decode_stmt_execute(date_payload, 1, {});
    ASSERT_TRUE(d);
    EXPECT_EQ(hex_of(d.value().params[0].bytes), "e8070102");
}

TEST(StmtExecute, ALongStringIsAViewIntoThePayload) {
    const std::string text(300, 'x');
    const Bytes payload = execute_with(kVarString, "fc2c01" + to_hex(test::bytes_of(text)));
    const auto decoded = decode_stmt_execute(payload, 1, {});
    ASSERT_TRUE(decoded);
    const ByteView bytes = decoded.value().params[0].bytes;
    EXPECT_EQ(bytes.size(), 300u);
    EXPECT_EQ(bytes.data(), payload.data() + payload.size() - 300);
    EXPECT_EQ(encode_stmt_execute(decoded.value()), payload);
}

TEST(StmtExecute, TypesTheServersReadDifferentlyAreUnsupported) {
    // MariaDB 10.11 binds INT24, YEAR, BIT and GEOMETRY as NULL without reading
    // bytes, and rejects JSON, the *2 temporal codes and unknown codes; MySQL reads
    // them as length-encoded strings.
    for (const std::uint8_t type : {field_type::int24, field_type::year, field_type::bit, field_type::geometry,
                                    field_type::json, field_type::newdate, field_type::timestamp2,
                                    field_type::datetime2, field_type::time2, std::uint8_t{20}, std::uint8_t{100},
                                    std::uint8_t{0xf2}}) {
        SCOPED_TRACE(int{type});
        EXPECT_FALSE(is_supported_param_type(type));
        EXPECT_EQ(decode_stmt_execute(execute_with({type, 0}, "026162"), 1, {}).error(), ProtocolErrc::unsupported);
        const ParamType previous[] = {{type, 0}};
        const Bytes no_types = from_hex("17010000000001000000" "00" "00" "026162");
        EXPECT_EQ(decode_stmt_execute(no_types, 1, previous).error(), ProtocolErrc::unsupported);
    }
}

TEST(StmtExecute, RejectsWhatTheServerRejectsOrReadsAsGarbage) {
    struct Case {
        const char* name;
        Bytes payload;
    };
    const Case cases[] = {
        // MariaDB 10.11 rejects a NULL-typed parameter whose NULL bit is clear.
        {"null_type_with_value", execute_with({field_type::null, 0}, "026162")},
        // ... and any flag byte but 0x00 and 0x80.
        {"flag_0x40", execute_with({field_type::short_int, 0x40}, "ffff")},
        {"flag_0x81", execute_with({field_type::short_int, 0x81}, "ffff")},
        // ... and new-params-bound values other than 0 and 1.
        {"bound_2", from_hex("17010000000001000000" "00" "02" "0800" "0700000000000000")},
        // Lengths the server reads past (TIME 9) or that no client sends (DATE 5).
        {"date_length_5", execute_with({field_type::date, 0}, "05e807010203")},
        {"datetime_length_12", execute_with({field_type::datetime, 0}, "0ce80701020304050600000000")},
        {"time_length_9", execute_with({field_type::time, 0}, "09000000000002030400")},
        {"time_length_0xfb", execute_with({field_type::time, 0}, "fb")},
        {"string_length_0xfb", execute_with(kVarString, "fb")},
        {"string_length_0xff", execute_with(kVarString, "ff")},
        // The servers ignore trailing bytes; they would mean we misread the packet.
        {"trailing_byte", execute_with(kLongLong, "070000000000000000")},
        {"trailing_without_params", from_hex("1701000000000100000000")},
        {"wrong_command", [] {
             Bytes p = execute_with(kLongLong, "0700000000000000");
             p[0] = static_cast<std::uint8_t>(Command::stmt_prepare);
             return p;
         }()},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        EXPECT_FALSE(decode_stmt_execute(c.payload, c.name == std::string("trailing_without_params") ? 0 : 1, {}));
    }
}

TEST(StmtExecute, TruncatedStringsAreErrorsNotShortReads) {
    // MariaDB 10.11 stores whatever is there; the proxy must not guess.
    EXPECT_EQ(decode_stmt_execute(execute_with(kVarString, "056162"), 1, {}).error(), ProtocolErrc::truncated);
    EXPECT_EQ(decode_stmt_execute(execute_with(kVarString, "fe0500000000000000"), 1, {}).error(),
              ProtocolErrc::truncated);
}

TEST(StmtExecute, EncodesAValueBuiltByTheProxy) {
    StmtExecute e;
    e.statement_id = 0x01020304;
    e.new_params_bound = true;
    e.types = {kLongLong, kVarString, kVarString};
    const Bytes seven = from_hex("0700000000000000");
    e.params = {ParamValue::of(ByteView(seven)), ParamValue::of(std::string_view("ab")), ParamValue{}};
    EXPECT_EQ(to_hex(encode_stmt_execute(e)), "1704030201000100000004" "01" "0800fd00fd00" "0700000000000000" "026162");
}

TEST(PrepareOk, CountsTheDefinitionPacketsThatFollow) {
    const StmtPrepareOk both{1, 3, 2, 0};
    EXPECT_EQ(prepare_ok_packets_following(both, cap::protocol_41), 3u + 1 + 2 + 1);
    EXPECT_EQ(prepare_ok_packets_following(both, cap::protocol_41 | cap::deprecate_eof), 5u);
    EXPECT_EQ(prepare_ok_packets_following(StmtPrepareOk{1, 0, 1, 0}, cap::protocol_41), 2u);
    EXPECT_EQ(prepare_ok_packets_following(StmtPrepareOk{1, 2, 0, 0}, cap::protocol_41), 3u);
    EXPECT_EQ(prepare_ok_packets_following(StmtPrepareOk{1, 0, 0, 0}, cap::protocol_41), 0u);
}

TEST(PrepareOk, GoldenPrepareHasThreePacketsAfterTheOk) {
    // mariadb-10.11-transcripts.txt, eof.prepare_params_only: DO ? -> 1 param + EOF.
    const auto ok = decode_stmt_prepare_ok(from_hex("000500000000000100000000"));
    ASSERT_TRUE(ok);
    EXPECT_EQ(prepare_ok_packets_following(ok.value(), cap::protocol_41), 2u);
}

TEST(SendLongData, DecodesIdIndexAndChunk) {
    const Bytes payload = from_hex("18070000000100" "68656c6c6f");
    const auto chunk = decode_send_long_data(payload);
    ASSERT_TRUE(chunk);
    EXPECT_EQ(chunk.value().statement_id, 7u);
    EXPECT_EQ(chunk.value().param_index, 1u);
    EXPECT_EQ(hex_of(chunk.value().data), "68656c6c6f");
    EXPECT_EQ(encode_send_long_data(chunk.value()), payload);
    // From the 7-byte header on, every prefix is a valid (shorter) chunk; shorter ones are errors.
    EXPECT_EQ(decode_every_prefix(payload, [](ByteView p) { return decode_send_long_data(p).has_value(); }),
              payload.size() - 7);
}

TEST(SendLongData, AnEmptyChunkIsValidAndOtherCommandsAreNot) {
    EXPECT_TRUE(decode_send_long_data(from_hex("18070000000000")));
    EXPECT_EQ(decode_send_long_data(from_hex("19070000000000")).error(), ProtocolErrc::malformed);
    EXPECT_EQ(decode_send_long_data(from_hex("180700000000")).error(), ProtocolErrc::truncated);
}

TEST(StmtCloseReset, DecodeTheStatementId) {
    // mariadb-10.11-transcripts.txt: eof.stmt_close, eof.stmt_reset.
    const Bytes close = from_hex("1903000000");
    const Bytes reset = from_hex("1a03000000");
    EXPECT_EQ(decode_stmt_close(close).value(), 3u);
    EXPECT_EQ(decode_stmt_reset(reset).value(), 3u);
    EXPECT_EQ(encode_stmt_close(3), close);
    EXPECT_EQ(encode_stmt_reset(3), reset);
    EXPECT_EQ(decode_every_prefix(close, [](ByteView p) { return decode_stmt_close(p).has_value(); }), 0u);
    EXPECT_EQ(decode_every_prefix(reset, [](ByteView p) { return decode_stmt_reset(p).has_value(); }), 0u);
    EXPECT_FALSE(decode_stmt_close(reset));
    EXPECT_FALSE(decode_stmt_reset(close));
    EXPECT_FALSE(decode_stmt_close(from_hex("190300000000")));
}

// --- COM_STMT_BULK_EXECUTE -------------------------------------------------

TEST(StmtBulkExecute, DecodesRowsWithIndicators) {
    // MariaDB 10.11 stored (7,'ab') and (NULL,'cd') from this packet.
    const Bytes payload = from_hex("fa050000008000" "0800fd00" "00" "0700000000000000" "00" "026162" "01" "00" "026364");
    const auto decoded = decode_stmt_bulk_execute(payload, 2, {});
    ASSERT_TRUE(decoded) << decoded.error().message();
    const StmtBulkExecute& b = decoded.value();
    EXPECT_EQ(b.statement_id, 5u);
    EXPECT_EQ(b.flags, bulk_flag::send_types_to_server);
    EXPECT_EQ(b.types, (std::vector<ParamType>{kLongLong, kVarString}));
    ASSERT_EQ(b.rows.size(), 2u);
    EXPECT_EQ(hex_of(b.rows[0][0].bytes), "0700000000000000");
    EXPECT_EQ(hex_of(b.rows[0][1].bytes), "6162");
    EXPECT_EQ(b.rows[1][0].kind, ParamValue::Kind::null);
    EXPECT_EQ(hex_of(b.rows[1][1].bytes), "6364");
    EXPECT_EQ(encode_stmt_bulk_execute(b), payload);
    // A prefix that ends exactly after a row is itself a valid packet.
    const std::size_t first_row_end = payload.size() - 5;
    EXPECT_EQ(decode_every_prefix(payload, [](ByteView p) { return decode_stmt_bulk_execute(p, 2, {}).has_value(); }),
              1u);
    EXPECT_TRUE(decode_stmt_bulk_execute(ByteView(payload).first(first_row_end), 2, {}));
}

TEST(StmtBulkExecute, DefaultAndIgnoreIndicatorsAndPreviousTypes) {
    const Bytes payload = from_hex("fa050000000000" "00" "0700000000000000" "02" "03" "01");
    const std::vector<ParamType> previous{kLongLong, kVarString};
    const auto decoded = decode_stmt_bulk_execute(payload, 2, previous);
    ASSERT_TRUE(decoded) << decoded.error().message();
    const auto& rows = decoded.value().rows;
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0][1].kind, ParamValue::Kind::default_value);
    EXPECT_EQ(rows[1][0].kind, ParamValue::Kind::ignore);
    EXPECT_EQ(rows[1][1].kind, ParamValue::Kind::null);
    EXPECT_EQ(decoded.value().types, previous);
    EXPECT_EQ(encode_stmt_bulk_execute(decoded.value()), payload);
}

TEST(StmtBulkExecute, RejectsWhatMariaDbRejects) {
    const std::vector<ParamType> types{kLongLong};
    // No rows, an unknown indicator, a partial row, unknown flags, no parameters.
    EXPECT_FALSE(decode_stmt_bulk_execute(from_hex("fa0500000080000800"), 1, {}));
    EXPECT_EQ(decode_stmt_bulk_execute(from_hex("fa0500000080000800" "04"), 1, {}).error(), ProtocolErrc::malformed);
    EXPECT_FALSE(decode_stmt_bulk_execute(from_hex("fa05000000800008000800" "00" "0700000000000000" "00"), 2, {}));
    EXPECT_EQ(decode_stmt_bulk_execute(from_hex("fa0500000081000800" "01"), 1, {}).error(), ProtocolErrc::malformed);
    EXPECT_EQ(decode_stmt_bulk_execute(from_hex("fa0500000080000800" "01"), 0, {}).error(), ProtocolErrc::malformed);
    EXPECT_EQ(decode_stmt_bulk_execute(from_hex("fa050000000000" "01"), 1, {}).error(), ProtocolErrc::malformed);
    EXPECT_TRUE(decode_stmt_bulk_execute(from_hex("fa050000000000" "01"), 1, types));
    // MariaDB 11.5's SEND_UNIT_RESULTS is accepted (10.11 answers "not supported").
    EXPECT_TRUE(decode_stmt_bulk_execute(from_hex("fa05000000c0000800" "01"), 1, {}));
}

// --- Every prefix of every fixture, and a crude mutation sweep ------------------

TEST(PreparedStatements, EveryFixturePrefixIsAnErrorNeverACrash) {
    for (const TypeFixture& f : kTypeFixtures) {
        SCOPED_TRACE(f.name);
        const Bytes payload = execute_with(f.type, f.wire);
        EXPECT_EQ(execute_prefixes(payload, 1), 0u);
        const ParamType previous[] = {f.type};
        Bytes no_types(payload.begin(), payload.begin() + 11);
        no_types.push_back(0);
        no_types.insert(no_types.end(), payload.begin() + 14, payload.end());
        EXPECT_TRUE(decode_stmt_execute(no_types, 1, previous));
        EXPECT_EQ(execute_prefixes(no_types, 1, previous), 0u);
        Bytes bulk = from_hex("fa010000008000");
        bulk.push_back(f.type.type);
        bulk.push_back(f.type.flags);
        bulk.push_back(0);
        bulk.insert(bulk.end(), payload.begin() + 14, payload.end());
        EXPECT_TRUE(decode_stmt_bulk_execute(bulk, 1, {}));
        EXPECT_EQ(decode_every_prefix(bulk, [](ByteView p) { return decode_stmt_bulk_execute(p, 1, {}).has_value(); }),
                  0u);
    }
}

TEST(PreparedStatements, EverySingleByteChangeDecodesOrFailsCleanly) {
    // Under ASan this is a small deterministic fuzz: flip each byte of each fixture
    // to a few values and decode with several parameter counts.
    for (const TypeFixture& f : kTypeFixtures) {
        const Bytes payload = execute_with(f.type, f.wire);
        for (std::size_t i = 0; i < payload.size(); ++i) {
            for (const std::uint8_t v : {0x00, 0x01, 0x07, 0x80, 0xfb, 0xfc, 0xfe, 0xff}) {
                Bytes mutated = payload;
                mutated[i] = v;
                for (const std::uint16_t count : {0, 1, 2, 9}) {
                    if (auto e = decode_stmt_execute(mutated, count, {})) {
                        EXPECT_EQ(decode_stmt_execute(encode_stmt_execute(e.value()), count, e.value().types)
                                      .has_value(),
                                  true);
                    }
                    (void)decode_stmt_bulk_execute(mutated, count, {});
                }
            }
        }
    }
}

}  // namespace
}  // namespace uniqgate::protocol
