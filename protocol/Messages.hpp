#pragma once
// Protocol messages as small value types, each with a decode_* and encode_*
// over a logical packet's payload (the frame header excluded). Capabilities are
// passed in explicitly where the wire format depends on them.
//
// Round-trip guarantee: for packets as real servers and clients send them,
// encode_x(decode_x(payload).value(), ...) == payload byte for byte.

#include "protocol/Constants.hpp"
#include "protocol/Frame.hpp"
#include "protocol/Result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace uniqgate::protocol {

// Initial Handshake Packet, protocol version 10 (server -> client).
struct InitialHandshake {
    std::uint8_t protocol_version = 10;
    std::string server_version;
    std::uint32_t connection_id = 0;
    std::string auth_plugin_data;  // the whole scramble: part 1 (8 bytes) + part 2, no trailing NUL
    Capabilities capabilities = 0;  // high 32 bits: MariaDB extended capabilities
    std::uint8_t character_set = 0;
    std::uint16_t status_flags = 0;
    std::string auth_plugin_name;  // with cap::plugin_auth
};
[[nodiscard]] Result<InitialHandshake> decode_initial_handshake(ByteView payload);
[[nodiscard]] Bytes encode_initial_handshake(const InitialHandshake& handshake);

// HandshakeResponse41 (client -> server). SSLRequest is its first 32 bytes.
struct HandshakeResponse {
    Capabilities capabilities = 0;  // high 32 bits: MariaDB extended (when cap::long_password is clear)
    std::uint32_t max_packet_size = 0;
    std::uint8_t character_set = 0;
    std::string username;
    std::string auth_response;
    std::optional<std::string> database;          // present iff cap::connect_with_db
    std::optional<std::string> auth_plugin_name;  // present iff cap::plugin_auth
    std::vector<std::pair<std::string, std::string>> connect_attributes;  // iff cap::connect_attrs
    std::optional<std::uint8_t> zstd_compression_level;  // iff cap::zstd_compression (MySQL 8.0.18+)
};
// Clients may end the packet before the optional trailing fields (database, plugin
// name, attributes, zstd level); those then decode as absent, and the encoder
// stops at the first absent database or plugin name so the result still parses.
[[nodiscard]] Result<HandshakeResponse> decode_handshake_response(ByteView payload);
[[nodiscard]] Bytes encode_handshake_response(const HandshakeResponse& response);

struct SslRequest {
    Capabilities capabilities = 0;
    std::uint32_t max_packet_size = 0;
    std::uint8_t character_set = 0;
};
// An SSLRequest is a 32-byte payload with cap::ssl set.
[[nodiscard]] bool is_ssl_request(ByteView payload) noexcept;
[[nodiscard]] Result<SslRequest> decode_ssl_request(ByteView payload);
[[nodiscard]] Bytes encode_ssl_request(const SslRequest& request);

// AuthSwitchRequest (server -> client, header 0xFE during authentication).
struct AuthSwitchRequest {
    std::string plugin_name;
    std::string plugin_data;  // as sent, including a trailing NUL if the server sent one
};
[[nodiscard]] Result<AuthSwitchRequest> decode_auth_switch_request(ByteView payload);
[[nodiscard]] Bytes encode_auth_switch_request(const AuthSwitchRequest& request);

// AuthMoreData (server -> client, header 0x01).
struct AuthMoreData {
    std::string data;
};
[[nodiscard]] Result<AuthMoreData> decode_auth_more_data(ByteView payload);
[[nodiscard]] Bytes encode_auth_more_data(const AuthMoreData& more);

// OK packet (header 0x00, or 0xFE when it ends a result set under cap::deprecate_eof).
struct OkPacket {
    std::uint8_t header = header::ok;
    std::uint64_t affected_rows = 0;
    std::uint64_t last_insert_id = 0;
    std::uint16_t status_flags = 0;
    std::uint16_t warnings = 0;
    std::string info;
    std::string session_state_changes;  // raw, present iff cap::session_track and status::session_state_changed
};
[[nodiscard]] Result<OkPacket> decode_ok(ByteView payload, Capabilities caps);
[[nodiscard]] Bytes encode_ok(const OkPacket& ok, Capabilities caps);

struct ErrPacket {
    std::uint16_t error_code = 0;
    std::string sql_state = "HY000";  // five characters
    std::string message;
};
[[nodiscard]] Result<ErrPacket> decode_err(ByteView payload, Capabilities caps);
[[nodiscard]] Bytes encode_err(const ErrPacket& err, Capabilities caps);

// MariaDB's progress report travels as an ERR packet with code 0xFFFF; it is not
// an error and does not end a response.
[[nodiscard]] bool is_progress_report(ByteView payload) noexcept;

struct EofPacket {
    std::uint16_t warnings = 0;
    std::uint16_t status_flags = 0;
};
// A classic EOF packet: header 0xFE and a payload shorter than 9 bytes.
[[nodiscard]] bool is_eof_packet(ByteView payload) noexcept;
[[nodiscard]] Result<EofPacket> decode_eof(ByteView payload);
[[nodiscard]] Bytes encode_eof(const EofPacket& eof);

// COM_STMT_PREPARE_OK.
struct StmtPrepareOk {
    std::uint32_t statement_id = 0;
    std::uint16_t num_columns = 0;
    std::uint16_t num_params = 0;
    std::uint16_t warning_count = 0;
};
[[nodiscard]] Result<StmtPrepareOk> decode_stmt_prepare_ok(ByteView payload);
[[nodiscard]] Bytes encode_stmt_prepare_ok(const StmtPrepareOk& ok);

// The first packet of a result set: the column count.
[[nodiscard]] Result<std::uint64_t> decode_column_count(ByteView payload);

}  // namespace uniqgate::protocol
