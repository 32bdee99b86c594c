// Connection-phase messages: the server greeting, the client's answer (and its
// SSLRequest prefix), and the auth exchange packets.
// https://mariadb.com/kb/en/connection/
#include "protocol/ByteReader.hpp"
#include "protocol/Messages.hpp"

#include <algorithm>

namespace uniqgate::protocol {
namespace {

constexpr std::size_t kScramblePart1 = 8;
constexpr std::size_t kMinScramblePart2 = 13;  // 12 bytes + NUL on every real server
constexpr std::size_t kMaxScramblePart2 = 0xff - kScramblePart1;
constexpr std::size_t kResponseFiller = 19;  // then 4 bytes of MariaDB extended caps

// MariaDB sends its extended capabilities in place of reserved bytes, and only
// when it clears CLIENT_MYSQL (bit 0); a MySQL peer always sets that bit.
bool has_mariadb_extension(Capabilities caps) { return (caps & cap::long_password) == 0; }

// Old servers (MySQL bug #59453) omit the NUL after the last string of a packet.
std::string_view nul_terminated_or_rest(ByteReader& r) {
    ByteReader probe = r;
    return probe.rest().find('\0') == std::string_view::npos ? r.rest() : r.null_terminated_string();
}

std::string_view strip_trailing_nuls(std::string_view s) {
    while (!s.empty() && s.back() == '\0') {
        s.remove_suffix(1);
    }
    return s;
}

void read_scramble_part2(ByteReader& r, std::uint8_t data_length, std::string& scramble) {
    // The scramble never contains NUL, so stripping the terminator (and any padding) is lossless.
    const std::size_t length = std::max<std::size_t>(kMinScramblePart2, data_length > 8 ? data_length - 8u : 0u);
    scramble.append(strip_trailing_nuls(r.fixed_string(length)));
}

// Part 2 goes out with its NUL and padded to 13 bytes; returns the bytes written.
std::size_t write_scramble_part2(Bytes& out, std::string_view part2) {
    // The length byte can describe at most 247 bytes of part 2; a scramble that
    // long (never sent by a real server) goes without its terminator.
    part2 = part2.substr(0, kMaxScramblePart2);
    const std::size_t field = std::min(std::max(kMinScramblePart2, part2.size() + 1), kMaxScramblePart2);
    write_bytes(out, part2);
    out.insert(out.end(), field - part2.size(), 0);
    return field;
}

// The first 32 bytes of HandshakeResponse41, which are also the whole SSLRequest.
void read_response_prefix(ByteReader& r, Capabilities& caps, std::uint32_t& max_packet, std::uint8_t& charset) {
    caps = r.u32();
    max_packet = r.u32();
    charset = r.u8();
    r.skip(kResponseFiller);
    const Capabilities extended = r.u32();
    if (has_mariadb_extension(caps)) {
        caps |= extended << 32;
    }
}

void write_response_prefix(Bytes& out, Capabilities caps, std::uint32_t max_packet, std::uint8_t charset) {
    write_u32(out, static_cast<std::uint32_t>(caps));
    write_u32(out, max_packet);
    write_u8(out, charset);
    out.insert(out.end(), kResponseFiller, 0);
    write_u32(out, has_mariadb_extension(caps) ? static_cast<std::uint32_t>(caps >> 32) : 0);
}

std::string_view read_auth_response(ByteReader& r, Capabilities caps) {
    if (caps & cap::plugin_auth_lenenc_client_data) {
        return r.lenenc_string();
    }
    if (caps & cap::secure_connection) {
        return r.fixed_string(r.u8());
    }
    return r.null_terminated_string();
}

void write_auth_response(Bytes& out, Capabilities caps, std::string_view data) {
    if (caps & cap::plugin_auth_lenenc_client_data) {
        write_lenenc_string(out, data);
    } else if (caps & cap::secure_connection) {
        data = data.substr(0, 0xff);
        write_u8(out, static_cast<std::uint8_t>(data.size()));
        write_bytes(out, data);
    } else {
        write_null_terminated_string(out, data);
    }
}

using Attributes = std::vector<std::pair<std::string, std::string>>;

// Connection attributes: a lenenc total length, then lenenc key/value pairs.
Result<Attributes> read_connect_attributes(ByteReader& r) {
    const std::string_view block = r.lenenc_string();
    if (!r.ok()) {
        return r.failure();
    }
    Attributes attributes;
    ByteReader pairs(to_byte_view(block));
    while (!pairs.at_end()) {
        const std::string_view key = pairs.lenenc_string();
        const std::string_view value = pairs.lenenc_string();
        if (!pairs.ok()) {
            return ProtocolErrc::malformed;  // the pairs overrun the declared block
        }
        attributes.emplace_back(key, value);
    }
    return attributes;
}

void write_connect_attributes(Bytes& out, const Attributes& attributes) {
    Bytes block;
    for (const auto& [key, value] : attributes) {
        write_lenenc_string(block, key);
        write_lenenc_string(block, value);
    }
    write_lenenc_int(out, block.size());
    out.insert(out.end(), block.begin(), block.end());
}

}  // namespace

Result<InitialHandshake> decode_initial_handshake(ByteView payload) {
    ByteReader r(payload);
    InitialHandshake h;
    h.protocol_version = r.u8();
    if (r.ok() && h.protocol_version != 10) {
        return ProtocolErrc::malformed;  // 0xFF here is an ERR the caller must check first
    }
    h.server_version = r.null_terminated_string();
    h.connection_id = r.u32();
    h.auth_plugin_data = r.fixed_string(kScramblePart1);
    r.skip(1);  // filler
    h.capabilities = r.u16();
    if (!r.ok()) {
        return r.failure();
    }
    if (r.at_end()) {
        return h;  // pre-4.1 servers stop here
    }
    h.character_set = r.u8();
    h.status_flags = r.u16();
    h.capabilities |= Capabilities{r.u16()} << 16;
    const std::uint8_t data_length = r.u8();
    r.skip(6);
    const Capabilities extended = r.u32();
    if (has_mariadb_extension(h.capabilities)) {
        h.capabilities |= extended << 32;
    }
    if (h.capabilities & cap::secure_connection) {
        read_scramble_part2(r, data_length, h.auth_plugin_data);
    }
    if (h.capabilities & cap::plugin_auth) {
        h.auth_plugin_name = nul_terminated_or_rest(r);
    }
    if (!r.ok()) {
        return r.failure();
    }
    return h;
}

Bytes encode_initial_handshake(const InitialHandshake& h) {
    const Capabilities caps = h.capabilities;
    const std::string_view scramble = h.auth_plugin_data;
    const std::string_view part1 = scramble.substr(0, kScramblePart1);
    const std::string_view part2 = scramble.substr(part1.size());

    Bytes out;
    write_u8(out, h.protocol_version);
    write_null_terminated_string(out, h.server_version);
    write_u32(out, h.connection_id);
    write_bytes(out, part1);
    out.insert(out.end(), kScramblePart1 - part1.size() + 1, 0);  // padding + filler
    write_u16(out, static_cast<std::uint16_t>(caps));
    write_u8(out, h.character_set);
    write_u16(out, h.status_flags);
    write_u16(out, static_cast<std::uint16_t>(caps >> 16));
    const std::size_t length_at = out.size();
    write_u8(out, 0);  // auth-plugin-data length, filled in below
    out.insert(out.end(), 6, 0);
    write_u32(out, has_mariadb_extension(caps) ? static_cast<std::uint32_t>(caps >> 32) : 0);
    if (caps & cap::secure_connection) {
        const std::size_t field = write_scramble_part2(out, part2);
        // Servers send 0 without plugin_auth; a longer part 2 needs the length to be read back.
        if ((caps & cap::plugin_auth) || field > kMinScramblePart2) {
            out[length_at] = static_cast<std::uint8_t>(kScramblePart1 + field);
        }
    }
    if (caps & cap::plugin_auth) {
        write_null_terminated_string(out, h.auth_plugin_name);
    }
    return out;
}

namespace {

// The optional tail of HandshakeResponse41; see the note in Messages.hpp.
Result<void> read_response_tail(ByteReader& r, HandshakeResponse& response) {
    const Capabilities caps = response.capabilities;
    if ((caps & cap::connect_with_db) && !r.at_end()) {
        response.database = r.null_terminated_string();
    }
    if ((caps & cap::plugin_auth) && !r.at_end()) {
        response.auth_plugin_name = nul_terminated_or_rest(r);
    }
    if ((caps & cap::connect_attrs) && !r.at_end()) {
        auto attributes = read_connect_attributes(r);
        if (!attributes) {
            return attributes.error();
        }
        response.connect_attributes = std::move(attributes).value();
    }
    if ((caps & cap::zstd_compression) && !r.at_end()) {
        response.zstd_compression_level = r.u8();
    }
    if (!r.ok()) {
        return r.failure();
    }
    return boost::outcome_v2::success();
}

}  // namespace

Result<HandshakeResponse> decode_handshake_response(ByteView payload) {
    ByteReader r(payload);
    HandshakeResponse response;
    read_response_prefix(r, response.capabilities, response.max_packet_size, response.character_set);
    if (r.ok() && !(response.capabilities & cap::protocol_41)) {
        return ProtocolErrc::malformed;  // HandshakeResponse320: no current client sends it
    }
    response.username = r.null_terminated_string();
    response.auth_response = read_auth_response(r, response.capabilities);
    if (!r.ok()) {
        return r.failure();
    }
    if (auto tail = read_response_tail(r, response); !tail) {
        return tail.error();
    }
    return response;
}

Bytes encode_handshake_response(const HandshakeResponse& response) {
    const Capabilities caps = response.capabilities;
    Bytes out;
    write_response_prefix(out, caps, response.max_packet_size, response.character_set);
    write_null_terminated_string(out, response.username);
    write_auth_response(out, caps, response.auth_response);
    // Stop at the first absent optional field: what follows it could not be parsed back.
    if (caps & cap::connect_with_db) {
        if (!response.database) {
            return out;
        }
        write_null_terminated_string(out, *response.database);
    }
    if (caps & cap::plugin_auth) {
        if (!response.auth_plugin_name) {
            return out;
        }
        write_null_terminated_string(out, *response.auth_plugin_name);
    }
    if (caps & cap::connect_attrs) {
        write_connect_attributes(out, response.connect_attributes);
    }
    if ((caps & cap::zstd_compression) && response.zstd_compression_level) {
        write_u8(out, *response.zstd_compression_level);
    }
    return out;
}

namespace {
constexpr std::size_t kSslRequestSize = 32;
}

bool is_ssl_request(ByteView payload) noexcept {
    ByteReader r(payload);
    return payload.size() == kSslRequestSize && (r.u32() & cap::ssl) != 0;
}

Result<SslRequest> decode_ssl_request(ByteView payload) {
    ByteReader r(payload);
    SslRequest request;
    read_response_prefix(r, request.capabilities, request.max_packet_size, request.character_set);
    if (!r.ok()) {
        return r.failure();
    }
    return request;
}

Bytes encode_ssl_request(const SslRequest& request) {
    Bytes out;
    write_response_prefix(out, request.capabilities, request.max_packet_size, request.character_set);
    return out;
}

Result<AuthSwitchRequest> decode_auth_switch_request(ByteView payload) {
    ByteReader r(payload);
    if (r.u8() != header::eof) {
        return r.ok() ? ProtocolErrc::malformed : ProtocolErrc::truncated;
    }
    AuthSwitchRequest request;
    request.plugin_name = r.null_terminated_string();
    request.plugin_data = r.rest();
    if (!r.ok()) {
        return r.failure();
    }
    return request;
}

Bytes encode_auth_switch_request(const AuthSwitchRequest& request) {
    Bytes out{header::eof};
    write_null_terminated_string(out, request.plugin_name);
    write_bytes(out, request.plugin_data);
    return out;
}

Result<AuthMoreData> decode_auth_more_data(ByteView payload) {
    ByteReader r(payload);
    if (r.u8() != header::auth_more_data) {
        return r.ok() ? ProtocolErrc::malformed : ProtocolErrc::truncated;
    }
    return AuthMoreData{std::string(r.rest())};
}

Bytes encode_auth_more_data(const AuthMoreData& more) {
    Bytes out{header::auth_more_data};
    write_bytes(out, more.data);
    return out;
}

}  // namespace uniqgate::protocol
