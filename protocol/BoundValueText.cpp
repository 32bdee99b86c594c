#include "protocol/BoundValueText.hpp"

#include "protocol/ByteReader.hpp"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace uniqgate::protocol {
namespace {

// Max TIME: 838:59:59.999999 (https://mariadb.com/kb/en/time/).
constexpr std::uint32_t kMaxTimeHours = 838;

std::uint64_t little_endian(ByteView bytes) noexcept {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        v |= static_cast<std::uint64_t>(bytes[i]) << (8 * i);
    }
    return v;
}

template <class T>
std::string to_text(T value) {
    char buffer[64];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    return ec == std::errc{} ? std::string(buffer, end) : std::string();
}

// Signed integers are sign-extended from their width; the unsigned flag keeps them as is.
Result<std::string> integer_text(ParamType type, ByteView bytes) {
    const std::size_t width = type.type == field_type::tiny        ? 1
                              : type.type == field_type::short_int ? 2
                              : type.type == field_type::long_int  ? 4
                                                                   : 8;
    if (bytes.size() != width) {
        return ProtocolErrc::malformed;
    }
    const std::uint64_t raw = little_endian(bytes);
    if (type.is_unsigned()) {
        return to_text(raw);
    }
    const unsigned unused_bits = 64 - 8 * static_cast<unsigned>(bytes.size());
    const auto value = static_cast<std::int64_t>(raw << unused_bits) >> unused_bits;
    return to_text(value);
}

Result<std::string> float_text(ParamType type, ByteView bytes) {
    if (type.type == field_type::float_type) {
        if (bytes.size() != 4) {
            return ProtocolErrc::malformed;
        }
        const float f = std::bit_cast<float>(static_cast<std::uint32_t>(little_endian(bytes)));
        if (!std::isfinite(f)) {
            return ProtocolErrc::malformed;  // SQL has no literal for NaN or infinity
        }
        return to_text(f);  // shortest text for the float, not for its widened double
    }
    if (bytes.size() != 8) {
        return ProtocolErrc::malformed;
    }
    const double value = std::bit_cast<double>(little_endian(bytes));
    if (!std::isfinite(value)) {
        return ProtocolErrc::malformed;
    }
    return to_text(value);
}

// The value as a DOUBLE literal, exponent always written: 1.5e+00, 1.0000000149011612e-01.
std::string double_literal(ParamType type, ByteView bytes) {
    const double value = type.type == field_type::float_type
                             ? static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(little_endian(bytes))))
                             : std::bit_cast<double>(little_endian(bytes));
    char buffer[64];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
    return ec == std::errc{} ? std::string(buffer, end) : std::string();
}

// [+-]digits[.digits] or [+-].digits: what the proxy may copy into SQL as a number.
bool is_plain_decimal(std::string_view s) noexcept {
    std::size_t i = 0;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
        ++i;
    }
    std::size_t digits = 0;
    bool seen_point = false;
    for (; i < s.size(); ++i) {
        if (s[i] >= '0' && s[i] <= '9') {
            ++digits;
        } else if (s[i] == '.' && !seen_point) {
            seen_point = true;
        } else {
            return false;
        }
    }
    return digits > 0;
}

std::string hex_literal(ByteView bytes, std::string_view charset) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(charset.size() + 2 + 3 + 2 * bytes.size());
    if (!charset.empty()) {
        out.append("_").append(charset).append(" ");
    }
    out.append("X'");
    for (const std::uint8_t b : bytes) {
        out.push_back(kDigits[b >> 4]);
        out.push_back(kDigits[b & 0xf]);
    }
    out.push_back('\'');
    return out;
}

bool is_charset_name(std::string_view s) noexcept {
    for (const char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok) {
            return false;
        }
    }
    return true;
}

std::string date_text(const BinaryDateTime& d) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "%04u-%02u-%02u", unsigned{d.year}, unsigned{d.month}, unsigned{d.day});
    return buffer;
}

std::string fraction_text(std::uint32_t microsecond) {
    if (microsecond == 0) {
        return {};
    }
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, ".%06u", unsigned{microsecond});
    return buffer;
}

std::string datetime_text(const BinaryDateTime& d) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, " %02u:%02u:%02u", unsigned{d.hour}, unsigned{d.minute}, unsigned{d.second});
    return date_text(d) + buffer + fraction_text(d.microsecond);
}

std::string time_text(const BinaryTime& t) {
    char buffer[32];
    const unsigned hours = static_cast<unsigned>(t.days * 24 + t.hours);
    std::snprintf(buffer, sizeof buffer, "%s%02u:%02u:%02u", t.negative ? "-" : "", hours, unsigned{t.minutes},
                  unsigned{t.seconds});
    return buffer + fraction_text(t.microsecond);
}

// The value's text and whether it may go into SQL unquoted (numbers) or needs
// quoting (temporal values); strings are handled by the callers.
struct Text {
    std::string text;
    bool is_number = false;
    std::string sql_literal{};  // when it differs from `text` (FLOAT/DOUBLE)
};

Result<Text> scalar_text(ParamType type, ByteView bytes) {
    switch (type.type) {
    case field_type::tiny:
    case field_type::short_int:
    case field_type::long_int:
    case field_type::longlong: {
        auto text = integer_text(type, bytes);
        return text ? Result<Text>(Text{std::move(text).value(), true}) : Result<Text>(text.error());
    }
    case field_type::float_type:
    case field_type::double_type: {
        auto text = float_text(type, bytes);
        if (!text) return Result<Text>(text.error());
        // The server binds a FLOAT parameter as the double it widens to; an exponent makes
        // the SQL literal a DOUBLE as well (without one, 0.1 would be a DECIMAL).
        auto literal = double_literal(type, bytes);
        return Result<Text>(Text{std::move(text).value(), true, std::move(literal)});
    }
    case field_type::date: {
        const auto d = decode_binary_datetime(bytes);
        return d ? Result<Text>(Text{date_text(d.value()), false}) : Result<Text>(d.error());
    }
    case field_type::datetime:
    case field_type::timestamp: {
        const auto d = decode_binary_datetime(bytes);
        return d ? Result<Text>(Text{datetime_text(d.value()), false}) : Result<Text>(d.error());
    }
    case field_type::time: {
        const auto t = decode_binary_time(bytes);
        return t ? Result<Text>(Text{time_text(t.value()), false}) : Result<Text>(t.error());
    }
    default:
        return ProtocolErrc::unsupported;
    }
}

bool is_decimal_type(std::uint8_t type) noexcept {
    return type == field_type::decimal || type == field_type::newdecimal;
}

bool is_string_type(std::uint8_t type) noexcept {
    return is_supported_param_type(type) && !is_decimal_type(type) && type >= field_type::varchar;
}

std::string_view as_chars(ByteView bytes) noexcept {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace

Result<BinaryDateTime> decode_binary_datetime(ByteView bytes) {
    if (bytes.size() != 0 && bytes.size() != 4 && bytes.size() != 7 && bytes.size() != 11) {
        return ProtocolErrc::malformed;
    }
    ByteReader r(bytes);
    BinaryDateTime d;
    if (bytes.size() >= 4) {
        d.year = r.u16();
        d.month = r.u8();
        d.day = r.u8();
    }
    if (bytes.size() >= 7) {
        d.hour = r.u8();
        d.minute = r.u8();
        d.second = r.u8();
    }
    if (bytes.size() == 11) {
        d.microsecond = r.u32();
    }
    const bool in_range = d.year <= 9999 && d.month <= 12 && d.day <= 31 && d.hour <= 23 && d.minute <= 59 &&
                          d.second <= 59 && d.microsecond <= 999999;
    if (!in_range) {
        return ProtocolErrc::malformed;
    }
    return d;
}

Result<BinaryTime> decode_binary_time(ByteView bytes) {
    if (bytes.size() != 0 && bytes.size() != 8 && bytes.size() != 12) {
        return ProtocolErrc::malformed;
    }
    ByteReader r(bytes);
    BinaryTime t;
    std::uint8_t sign = 0;
    if (bytes.size() >= 8) {
        sign = r.u8();
        t.days = r.u32();
        t.hours = r.u8();
        t.minutes = r.u8();
        t.seconds = r.u8();
    }
    if (bytes.size() == 12) {
        t.microsecond = r.u32();
    }
    t.negative = sign == 1;
    // Clients put whole hours in either field (libmariadb sends -26:03:04 as 0 days,
    // 26 hours); the server adds them up. Check days first so the sum cannot overflow.
    const bool in_range = sign <= 1 && t.days <= kMaxTimeHours / 24 && t.days * 24 + t.hours <= kMaxTimeHours &&
                          t.minutes <= 59 && t.seconds <= 59 && t.microsecond <= 999999;
    if (!in_range) {
        return ProtocolErrc::malformed;
    }
    return t;
}

Result<std::string> render_sql_literal(ParamType type, const ParamValue& value, std::string_view charset) {
    if (!is_charset_name(charset)) {
        return ProtocolErrc::malformed;
    }
    if (value.kind == ParamValue::Kind::null) {
        return std::string("NULL");
    }
    if (value.kind != ParamValue::Kind::value) {
        return ProtocolErrc::no_value;
    }
    if (is_decimal_type(type.type)) {
        const std::string_view text = as_chars(value.bytes);
        return is_plain_decimal(text) ? std::string(text) : hex_literal(value.bytes, charset);
    }
    if (is_string_type(type.type)) {
        return hex_literal(value.bytes, charset);
    }
    auto text = scalar_text(type, value.bytes);
    if (!text) {
        return text.error();
    }
    if (!text.value().sql_literal.empty()) {
        return std::move(text.value().sql_literal);
    }
    if (text.value().is_number) {
        return std::move(text.value().text);
    }
    return "'" + text.value().text + "'";  // digits, '-', ':', '.' and ' ' only
}

Result<std::string> render_plain_text(ParamType type, const ParamValue& value) {
    if (value.kind != ParamValue::Kind::value) {
        return ProtocolErrc::no_value;
    }
    if (is_decimal_type(type.type) || is_string_type(type.type)) {
        return std::string(as_chars(value.bytes));
    }
    auto text = scalar_text(type, value.bytes);
    if (!text) {
        return text.error();
    }
    return std::move(text.value().text);
}

}  // namespace uniqgate::protocol
