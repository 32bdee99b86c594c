#pragma once
// Bound prepared-statement values as text: as a SQL literal the proxy may put into
// a statement it builds (never the client's raw bytes), and as plain text for key
// identities and MySQL's "Duplicate entry '...'" message.
//
// A parameter that arrived with COM_STMT_SEND_LONG_DATA is rendered by passing
// ParamValue::of(<the concatenated chunks>) with its type.

#include "protocol/PreparedStatements.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace uniqgate::protocol {

// A DATE, DATETIME or TIMESTAMP value (0, 4, 7 or 11 bytes on the wire; missing
// parts are zero).
struct BinaryDateTime {
    std::uint16_t year = 0;
    std::uint8_t month = 0;
    std::uint8_t day = 0;
    std::uint8_t hour = 0;
    std::uint8_t minute = 0;
    std::uint8_t second = 0;
    std::uint32_t microsecond = 0;
};
// A TIME value (0, 8 or 12 bytes on the wire).
struct BinaryTime {
    bool negative = false;
    std::uint32_t days = 0;
    std::uint8_t hours = 0;
    std::uint8_t minutes = 0;
    std::uint8_t seconds = 0;
    std::uint32_t microsecond = 0;
};

// Both check the length and the ranges (month <= 12, day <= 31, hour <= 23,
// minute and second <= 59, microsecond <= 999999; TIME: days * 24 + hours at most
// 838, either sign): a value outside them is `malformed`. Zero parts are allowed, as
// MySQL allows '0000-00-00'.
[[nodiscard]] Result<BinaryDateTime> decode_binary_datetime(ByteView bytes);
[[nodiscard]] Result<BinaryTime> decode_binary_time(ByteView bytes);

// The value as a SQL literal:
//   integers: decimal, signed or unsigned by the type's flag      -12, 18446744073709551615
//   FLOAT/DOUBLE: shortest text that reads back the same         0.1, 1e+30 (NaN/inf: malformed)
//   DECIMAL/NEWDECIMAL: the text if it is a plain decimal number  -12.50 (otherwise as a string)
//   strings, blobs, ENUM, SET: hex, with `_<charset> ` before it when `charset` is given
//                                                                  _utf8mb4 X'616263'
//   DATE: '2024-01-02'   DATETIME/TIMESTAMP: '2024-01-02 03:04:05[.000006]'
//   TIME: '-26:03:04[.000500]'   NULL: NULL
// `charset` must be a charset name ([A-Za-z0-9_]); anything else is `malformed`.
// Long data, DEFAULT and IGNORE have no text here: `no_value`.
[[nodiscard]] Result<std::string> render_sql_literal(ParamType type, const ParamValue& value,
                                                     std::string_view charset = {});

// The value as plain text: "123", "0.1", the string's bytes, "2024-01-02",
// "2024-01-02 03:04:05.000006", "-26:03:04". NULL, long data, DEFAULT and IGNORE:
// `no_value`.
[[nodiscard]] Result<std::string> render_plain_text(ParamType type, const ParamValue& value);

}  // namespace uniqgate::protocol
