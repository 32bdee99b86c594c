#pragma once
// Binary-protocol (prepared statement) commands: COM_STMT_EXECUTE,
// COM_STMT_SEND_LONG_DATA, COM_STMT_CLOSE, COM_STMT_RESET and MariaDB's
// COM_STMT_BULK_EXECUTE, as value types over the command's payload (the command
// byte included, like encode_query). Decoded values are views into the payload:
// a StmtExecute must not outlive the bytes it was decoded from.
//
// What the wire format of a parameter is, is decided by the server, not by the
// manual. Checked against MariaDB 10.11 with raw packets (and MariaDB's and
// MySQL's sql_prepare.cc):
// - TINY 1 byte, SHORT 2, LONG and FLOAT 4, LONGLONG and DOUBLE 8 (little endian;
//   the flag byte 0x80 marks an unsigned integer).
// - DATE, DATETIME, TIMESTAMP: a length (0, 4, 7 or 11) and that many bytes;
//   TIME: a length (0, 8 or 12) and that many bytes.
// - DECIMAL, NEWDECIMAL, VARCHAR, VAR_STRING, STRING, ENUM, SET and the four BLOB
//   types: a length-encoded string.
// - NULL: only with the parameter's NULL bit set (MariaDB rejects anything else).
// Every other type code is `unsupported`: MariaDB 10.11 binds INT24, YEAR, BIT and
// GEOMETRY parameters as NULL without reading any bytes and rejects JSON, NEWDATE's
// neighbours and unknown codes, while MySQL reads them all as length-encoded
// strings, so the same packet means different values on the two servers.
//
// Not supported: MySQL 8's CLIENT_QUERY_ATTRIBUTES layout (a parameter count and
// parameter names inside COM_STMT_EXECUTE). The proxy never negotiates that
// capability (proxy/SessionHandshake.cpp), so without it both servers read the
// packet as decoded here; the PARAMETER_COUNT_AVAILABLE cursor flag (0x08) means
// nothing then. MariaDB never sends a parameter count: it is implied by the
// COM_STMT_PREPARE_OK of the statement (or, for statement id 0xFFFFFFFF, of the
// last statement prepared on the connection), so the caller passes it in.
//
// The decoders are stricter than the servers, which tolerate some malformed
// packets by reading garbage (a short string at the end, a TIME of length 9):
// anything the proxy cannot read exactly the way the server does is an error.

#include "protocol/Constants.hpp"
#include "protocol/Frame.hpp"
#include "protocol/Messages.hpp"
#include "protocol/Result.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace uniqgate::protocol {

// MYSQL_TYPE_* (include/mysql_com.h, enum_field_types).
namespace field_type {
inline constexpr std::uint8_t decimal = 0x00;
inline constexpr std::uint8_t tiny = 0x01;
inline constexpr std::uint8_t short_int = 0x02;
inline constexpr std::uint8_t long_int = 0x03;
inline constexpr std::uint8_t float_type = 0x04;
inline constexpr std::uint8_t double_type = 0x05;
inline constexpr std::uint8_t null = 0x06;
inline constexpr std::uint8_t timestamp = 0x07;
inline constexpr std::uint8_t longlong = 0x08;
inline constexpr std::uint8_t int24 = 0x09;
inline constexpr std::uint8_t date = 0x0a;
inline constexpr std::uint8_t time = 0x0b;
inline constexpr std::uint8_t datetime = 0x0c;
inline constexpr std::uint8_t year = 0x0d;
inline constexpr std::uint8_t newdate = 0x0e;
inline constexpr std::uint8_t varchar = 0x0f;
inline constexpr std::uint8_t bit = 0x10;
inline constexpr std::uint8_t timestamp2 = 0x11;
inline constexpr std::uint8_t datetime2 = 0x12;
inline constexpr std::uint8_t time2 = 0x13;
inline constexpr std::uint8_t json = 0xf5;
inline constexpr std::uint8_t newdecimal = 0xf6;
inline constexpr std::uint8_t enum_type = 0xf7;
inline constexpr std::uint8_t set = 0xf8;
inline constexpr std::uint8_t tiny_blob = 0xf9;
inline constexpr std::uint8_t medium_blob = 0xfa;
inline constexpr std::uint8_t long_blob = 0xfb;
inline constexpr std::uint8_t blob = 0xfc;
inline constexpr std::uint8_t var_string = 0xfd;
inline constexpr std::uint8_t string = 0xfe;
inline constexpr std::uint8_t geometry = 0xff;
}  // namespace field_type

// COM_STMT_EXECUTE flags (enum_cursor_type).
namespace cursor {
inline constexpr std::uint8_t no_cursor = 0x00;
inline constexpr std::uint8_t read_only = 0x01;
inline constexpr std::uint8_t for_update = 0x02;
inline constexpr std::uint8_t scrollable = 0x04;
inline constexpr std::uint8_t parameter_count_available = 0x08;  // MySQL 8, query attributes only
}  // namespace cursor

// COM_STMT_BULK_EXECUTE flags.
namespace bulk_flag {
inline constexpr std::uint16_t send_unit_results = 64;  // MariaDB 11.5+ (10.11 rejects it)
inline constexpr std::uint16_t send_types_to_server = 128;
}  // namespace bulk_flag

inline constexpr std::uint8_t kUnsignedParamFlag = 0x80;
// MariaDB 10.2+: "the statement prepared last on this connection".
inline constexpr std::uint32_t kLastPreparedStatementId = 0xffffffff;

// How many packets follow COM_STMT_PREPARE_OK: the parameter definitions and the
// column definitions, each non-empty section closed by an EOF unless
// cap::deprecate_eof. (The proxy does not negotiate MySQL's optional metadata or
// MariaDB's metadata cache, which would drop the definitions.)
[[nodiscard]] std::size_t prepare_ok_packets_following(const StmtPrepareOk& ok, Capabilities caps) noexcept;

// A parameter's type: the MYSQL_TYPE_* code and the flag byte (0x80: unsigned).
struct ParamType {
    std::uint8_t type = field_type::null;
    std::uint8_t flags = 0;

    [[nodiscard]] bool is_unsigned() const noexcept { return (flags & kUnsignedParamFlag) != 0; }
    friend bool operator==(const ParamType&, const ParamType&) = default;
};

// Whether the servers read this type the same way (see the top of this file).
[[nodiscard]] bool is_supported_param_type(std::uint8_t type) noexcept;

// One parameter of one execution.
struct ParamValue {
    enum class Kind : std::uint8_t {
        value,          // `bytes` holds it
        null,           // the NULL bit (COM_STMT_EXECUTE) or indicator NULL (bulk)
        long_data,      // sent before with COM_STMT_SEND_LONG_DATA; not in this packet
        default_value,  // bulk indicator DEFAULT
        ignore,         // bulk indicator IGNORE: default on INSERT, column left alone on UPDATE
    };
    Kind kind = Kind::null;
    // The value's bytes without their length prefix: the integer or float as sent,
    // a temporal value's 0/4/7/8/11/12 bytes, a string's content.
    ByteView bytes;

    [[nodiscard]] static ParamValue of(ByteView b) noexcept { return {Kind::value, b}; }
    [[nodiscard]] static ParamValue of(std::string_view s) noexcept;
    [[nodiscard]] bool is_value() const noexcept { return kind == Kind::value; }
};

struct StmtExecute {
    std::uint32_t statement_id = 0;
    std::uint8_t flags = cursor::no_cursor;
    std::uint32_t iteration_count = 1;  // always 1 in practice; both servers ignore it
    ByteView null_bitmap;               // as received; encode_stmt_execute rebuilds it from `params`
    bool new_params_bound = false;      // the types were sent in this packet
    std::vector<ParamType> types;       // from this packet, or the caller's previous types
    std::vector<ParamValue> params;     // value, null or long_data
};

// `param_count` comes from the statement's COM_STMT_PREPARE_OK. `previous_types`
// are the types this statement was last executed with (the server keeps them
// across executions; a packet without types and no previous ones is an error).
// `long_data[i]` says parameter i received COM_STMT_SEND_LONG_DATA since the last
// execution or reset: such a parameter has a type but no value and no NULL bit in
// the packet, and must be of a string, blob or decimal type. The server forgets
// long data after each COM_STMT_EXECUTE and on COM_STMT_RESET.
[[nodiscard]] Result<StmtExecute> decode_stmt_execute(ByteView payload, std::uint16_t param_count,
                                                      std::span<const ParamType> previous_types,
                                                      const std::vector<bool>& long_data = {});
// Writes the types iff new_params_bound. Kinds other than value, null and
// long_data are written as NULL.
[[nodiscard]] Bytes encode_stmt_execute(const StmtExecute& execute);

struct SendLongData {
    std::uint32_t statement_id = 0;
    std::uint16_t param_index = 0;  // the server checks it against the parameter count at execute
    ByteView data;                  // one chunk; chunks are appended in order
};
[[nodiscard]] Result<SendLongData> decode_send_long_data(ByteView payload);
[[nodiscard]] Bytes encode_send_long_data(const SendLongData& chunk);

// COM_STMT_CLOSE and COM_STMT_RESET: the statement id.
[[nodiscard]] Result<std::uint32_t> decode_stmt_close(ByteView payload);
[[nodiscard]] Result<std::uint32_t> decode_stmt_reset(ByteView payload);
[[nodiscard]] Bytes encode_stmt_close(std::uint32_t statement_id);
[[nodiscard]] Bytes encode_stmt_reset(std::uint32_t statement_id);

// MariaDB's COM_STMT_BULK_EXECUTE (0xFA, needs cap::mariadb_stmt_bulk_operations):
// the types (with send_types_to_server) and then rows until the end of the packet,
// each parameter preceded by an indicator (0 value, 1 NULL, 2 DEFAULT, 3 IGNORE).
// There is no NULL bitmap and no long data (the server rejects a bulk execution
// after COM_STMT_SEND_LONG_DATA), and at least one row.
struct StmtBulkExecute {
    std::uint32_t statement_id = 0;
    std::uint16_t flags = 0;
    std::vector<ParamType> types;                 // from this packet, or the caller's previous types
    std::vector<std::vector<ParamValue>> rows;    // each row: param_count values
};
[[nodiscard]] Result<StmtBulkExecute> decode_stmt_bulk_execute(ByteView payload, std::uint16_t param_count,
                                                               std::span<const ParamType> previous_types);
[[nodiscard]] Bytes encode_stmt_bulk_execute(const StmtBulkExecute& bulk);

}  // namespace uniqgate::protocol
