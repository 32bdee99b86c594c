// Bound values as SQL literals and plain text. Temporal cases marked "MariaDB
// 10.11" show what the server stored for the same bytes.
#include "protocol/BoundValueText.hpp"

#include "TestSupport.hpp"

#include <gtest/gtest.h>

#include <charconv>
#include <cstring>
#include <limits>

namespace uniqgate::protocol {
namespace {

using test::from_hex;

struct TextCase {
    const char* name;
    ParamType type;
    const char* bytes_hex;
    const char* literal;
    const char* plain;
};

const TextCase kCases[] = {
    {"tiny_signed", {field_type::tiny, 0}, "ff", "-1", "-1"},
    {"tiny_unsigned", {field_type::tiny, kUnsignedParamFlag}, "ff", "255", "255"},
    {"short_signed", {field_type::short_int, 0}, "0080", "-32768", "-32768"},
    {"short_unsigned", {field_type::short_int, kUnsignedParamFlag}, "ffff", "65535", "65535"},
    {"long_signed", {field_type::long_int, 0}, "fbffffff", "-5", "-5"},
    {"long_unsigned", {field_type::long_int, kUnsignedParamFlag}, "ffffffff", "4294967295", "4294967295"},
    {"longlong_min", {field_type::longlong, 0}, "0000000000000080", "-9223372036854775808", "-9223372036854775808"},
    {"longlong_unsigned_max", {field_type::longlong, kUnsignedParamFlag}, "ffffffffffffffff", "18446744073709551615",
     "18446744073709551615"},
    // SQL: a DOUBLE literal (exponent always) of the value the server binds — a FLOAT
    // widened to double; text: the shortest form of the value as sent.
    {"float_1_5", {field_type::float_type, 0}, "0000c03f", "1.5e+00", "1.5"},
    {"float_0_1_widened", {field_type::float_type, 0}, "cdcccc3d", "1.0000000149011612e-01", "0.1"},
    {"double_0_1", {field_type::double_type, 0}, "9a9999999999b93f", "1e-01", "0.1"},
    {"double_1e30", {field_type::double_type, 0}, "ea8ca039593e2946", "1e+30", "1e+30"},
    {"double_negative_zero", {field_type::double_type, 0}, "0000000000000080", "-0e+00", "-0"},
    {"decimal", {field_type::newdecimal, 0}, "2d31322e3530", "-12.50", "-12.50"},
    {"decimal_leading_point", {field_type::decimal, 0}, "2e35", ".5", ".5"},
    {"decimal_not_a_number", {field_type::newdecimal, 0}, "31273b", "X'31273B'", "1';"},
    {"decimal_exponent_is_not_plain", {field_type::newdecimal, 0}, "316532", "X'316532'", "1e2"},
    {"decimal_empty", {field_type::decimal, 0}, "", "X''", ""},
    {"string", {field_type::var_string, 0}, "616263", "X'616263'", "abc"},
    {"string_quote", {field_type::string, 0}, "27", "X'27'", "'"},
    {"blob_binary", {field_type::blob, 0}, "00ff", "X'00FF'", ""},  // plain: the two bytes, checked below
    {"enum", {field_type::enum_type, 0}, "6162", "X'6162'", "ab"},
    {"date", {field_type::date, 0}, "e8070102", "'2024-01-02'", "2024-01-02"},
    // MariaDB 10.11 stores only the date of a DATE sent with a time part.
    {"date_ignores_time", {field_type::date, 0}, "e807010203040506000000", "'2024-01-02'", "2024-01-02"},
    {"date_zero", {field_type::date, 0}, "", "'0000-00-00'", "0000-00-00"},
    {"datetime", {field_type::datetime, 0}, "e807010203040506000000", "'2024-01-02 03:04:05.000006'",
     "2024-01-02 03:04:05.000006"},
    {"datetime_seconds", {field_type::datetime, 0}, "e8070102030405", "'2024-01-02 03:04:05'", "2024-01-02 03:04:05"},
    {"datetime_date_only", {field_type::datetime, 0}, "e8070102", "'2024-01-02 00:00:00'", "2024-01-02 00:00:00"},
    {"datetime_zero", {field_type::datetime, 0}, "", "'0000-00-00 00:00:00'", "0000-00-00 00:00:00"},
    {"timestamp", {field_type::timestamp, 0}, "e8070102030405", "'2024-01-02 03:04:05'", "2024-01-02 03:04:05"},
    // MariaDB 10.11: -26:03:04 and 02:03:04.000500.
    {"time_negative_day", {field_type::time, 0}, "0101000000020304", "'-26:03:04'", "-26:03:04"},
    {"time_micro", {field_type::time, 0}, "0000000000020304f4010000", "'02:03:04.000500'", "02:03:04.000500"},
    {"time_zero", {field_type::time, 0}, "", "'00:00:00'", "00:00:00"},
    {"time_max", {field_type::time, 0}, "0022000000163b3b", "'838:59:59'", "838:59:59"},
    // libmariadb 3.x sends -26:03:04.000500 as 0 days and 26 hours.
    {"time_hours_over_a_day", {field_type::time, 0}, "01000000001a0304f4010000", "'-26:03:04.000500'",
     "-26:03:04.000500"},
};

TEST(BoundValueText, RendersEveryTypeAsLiteralAndPlainText) {
    for (const TextCase& c : kCases) {
        SCOPED_TRACE(c.name);
        const Bytes bytes = from_hex(c.bytes_hex);
        const ParamValue value = ParamValue::of(ByteView(bytes));
        const auto literal = render_sql_literal(c.type, value);
        ASSERT_TRUE(literal) << literal.error().message();
        EXPECT_EQ(literal.value(), c.literal);
        const auto plain = render_plain_text(c.type, value);
        ASSERT_TRUE(plain) << plain.error().message();
        const std::string expected_plain =
            std::string(c.name) == "blob_binary" ? std::string("\0\xff", 2) : std::string(c.plain);
        EXPECT_EQ(plain.value(), expected_plain);
    }
}

TEST(BoundValueText, StringsTakeTheCallersCharsetIntroducer) {
    const ParamValue abc = ParamValue::of(std::string_view("abc"));
    EXPECT_EQ(render_sql_literal({field_type::var_string, 0}, abc, "utf8mb4").value(), "_utf8mb4 X'616263'");
    EXPECT_EQ(render_sql_literal({field_type::var_string, 0}, ParamValue::of(std::string_view()), "binary").value(),
              "_binary X''");
    // Numbers and temporal values do not take one.
    const Bytes one = from_hex("01");
    EXPECT_EQ(render_sql_literal({field_type::tiny, 0}, ParamValue::of(ByteView(one)), "utf8mb4").value(), "1");
}

TEST(BoundValueText, ACharsetThatIsNotANameIsRefused) {
    const ParamValue abc = ParamValue::of(std::string_view("abc"));
    for (const char* bad : {"utf8 ", "x'", "utf8;DROP", "a-b", "ü"}) {
        SCOPED_TRACE(bad);
        EXPECT_EQ(render_sql_literal({field_type::var_string, 0}, abc, bad).error(), ProtocolErrc::malformed);
    }
}

TEST(BoundValueText, NullIsTheKeywordButHasNoPlainText) {
    const ParamValue null{};
    EXPECT_EQ(render_sql_literal({field_type::null, 0}, null).value(), "NULL");
    EXPECT_EQ(render_sql_literal({field_type::longlong, 0}, null).value(), "NULL");
    EXPECT_EQ(render_plain_text({field_type::longlong, 0}, null).error(), ProtocolErrc::no_value);
}

TEST(BoundValueText, LongDataDefaultAndIgnoreHaveNoText) {
    for (const auto kind : {ParamValue::Kind::long_data, ParamValue::Kind::default_value, ParamValue::Kind::ignore}) {
        const ParamValue v{kind, {}};
        EXPECT_EQ(render_sql_literal({field_type::blob, 0}, v).error(), ProtocolErrc::no_value);
        EXPECT_EQ(render_plain_text({field_type::blob, 0}, v).error(), ProtocolErrc::no_value);
    }
    // The caller renders collected long data by passing it as the value.
    EXPECT_EQ(render_sql_literal({field_type::blob, 0}, ParamValue::of(std::string_view("hello"))).value(),
              "X'68656C6C6F'");
}

TEST(BoundValueText, OutOfRangeTemporalValuesAreRefused) {
    struct Case {
        const char* name;
        std::uint8_t type;
        const char* hex;
    };
    // MariaDB 10.11 silently stores zero dates (or clamps TIME) for these; a
    // literal built from them would say something else.
    const Case cases[] = {
        {"month_13", field_type::date, "e8070d02"},
        {"day_32", field_type::date, "e8070120"},
        {"year_10000", field_type::date, "10270101"},
        {"hour_24", field_type::datetime, "e8070102180000"},
        {"minute_60", field_type::datetime, "e8070102003c00"},
        {"second_60", field_type::datetime, "e807010200003c"},
        {"micro_1e6", field_type::datetime, "e807010203040540420f00"},
        {"time_days_35", field_type::time, "0023000000000000"},
        {"time_839_hours", field_type::time, "0022000000170000"},
        {"time_sign_2", field_type::time, "0200000000010000"},
        {"time_micro_1e6", field_type::time, "000000000001000040420f00"},
        {"date_length_5", field_type::date, "e807010203"},
        {"time_length_9", field_type::time, "000000000001020300"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        const Bytes bytes = from_hex(c.hex);
        EXPECT_FALSE(render_sql_literal({c.type, 0}, ParamValue::of(ByteView(bytes))));
        EXPECT_FALSE(render_plain_text({c.type, 0}, ParamValue::of(ByteView(bytes))));
    }
}

TEST(BoundValueText, DecodesTemporalParts) {
    const Bytes dt = from_hex("e807010203040506000000");
    const auto d = decode_binary_datetime(dt);
    ASSERT_TRUE(d);
    EXPECT_EQ(d.value().year, 2024);
    EXPECT_EQ(d.value().month, 1);
    EXPECT_EQ(d.value().day, 2);
    EXPECT_EQ(d.value().hour, 3);
    EXPECT_EQ(d.value().minute, 4);
    EXPECT_EQ(d.value().second, 5);
    EXPECT_EQ(d.value().microsecond, 6u);
    const Bytes tm = from_hex("0101000000020304f4010000");
    const auto t = decode_binary_time(tm);
    ASSERT_TRUE(t);
    EXPECT_TRUE(t.value().negative);
    EXPECT_EQ(t.value().days, 1u);
    EXPECT_EQ(t.value().hours, 2);
    EXPECT_EQ(t.value().microsecond, 500u);
}

TEST(BoundValueText, NonFiniteFloatsAndWrongWidthsAreRefused) {
    const Bytes nan = from_hex("0000c07f");
    const Bytes inf = from_hex("000000000000f07f");
    EXPECT_EQ(render_sql_literal({field_type::float_type, 0}, ParamValue::of(ByteView(nan))).error(),
              ProtocolErrc::malformed);
    EXPECT_EQ(render_sql_literal({field_type::double_type, 0}, ParamValue::of(ByteView(inf))).error(),
              ProtocolErrc::malformed);
    const Bytes two = from_hex("0100");
    EXPECT_FALSE(render_sql_literal({field_type::tiny, 0}, ParamValue::of(ByteView(two))));
    EXPECT_FALSE(render_sql_literal({field_type::longlong, 0}, ParamValue::of(ByteView(two))));
    EXPECT_FALSE(render_sql_literal({field_type::double_type, 0}, ParamValue::of(ByteView(two))));
}

TEST(BoundValueText, FloatsRoundTripThroughTheirText) {
    for (const double d : {0.1, 1.0 / 3, 1e-300, 123456789.125, std::numeric_limits<double>::max(),
                           std::numeric_limits<double>::denorm_min()}) {
        Bytes bytes(8);
        std::memcpy(bytes.data(), &d, 8);
        const auto text = render_sql_literal({field_type::double_type, 0}, ParamValue::of(ByteView(bytes)));
        ASSERT_TRUE(text);
        double back = 0;
        const std::string& t = text.value();
        std::from_chars(t.data(), t.data() + t.size(), back);  // std::stod throws on subnormals
        EXPECT_EQ(back, d) << t;
    }
}

TEST(BoundValueText, UnsupportedTypesHaveNoText) {
    const Bytes bytes = from_hex("0100");
    EXPECT_EQ(render_sql_literal({field_type::year, 0}, ParamValue::of(ByteView(bytes))).error(),
              ProtocolErrc::unsupported);
    EXPECT_EQ(render_plain_text({field_type::bit, 0}, ParamValue::of(ByteView(bytes))).error(),
              ProtocolErrc::unsupported);
}

}  // namespace
}  // namespace uniqgate::protocol
