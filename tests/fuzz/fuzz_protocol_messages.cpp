// libFuzzer target: every protocol decoder on the same input. The first 5 bytes
// choose the capabilities; the rest is the payload. Beyond "no crash", each
// decoded value must survive encode -> decode unchanged (the proxy re-encodes
// messages it has decoded).
#include "protocol/ByteReader.hpp"
#include "protocol/Frame.hpp"
#include "protocol/Messages.hpp"

#include <cstdlib>

namespace uniqgate::protocol {
namespace {

void check(bool condition) {
    if (!condition) {
        std::abort();
    }
}

bool same(const OkPacket& a, const OkPacket& b) {
    return a.header == b.header && a.affected_rows == b.affected_rows && a.last_insert_id == b.last_insert_id &&
           a.status_flags == b.status_flags && a.warnings == b.warnings && a.info == b.info &&
           a.session_state_changes == b.session_state_changes;
}

bool same(const InitialHandshake& a, const InitialHandshake& b) {
    return a.protocol_version == b.protocol_version && a.server_version == b.server_version &&
           a.connection_id == b.connection_id && a.auth_plugin_data == b.auth_plugin_data &&
           a.capabilities == b.capabilities && a.character_set == b.character_set &&
           a.status_flags == b.status_flags && a.auth_plugin_name == b.auth_plugin_name;
}

bool same(const HandshakeResponse& a, const HandshakeResponse& b) {
    return a.capabilities == b.capabilities && a.max_packet_size == b.max_packet_size &&
           a.character_set == b.character_set && a.username == b.username && a.auth_response == b.auth_response &&
           a.database == b.database && a.auth_plugin_name == b.auth_plugin_name &&
           a.connect_attributes == b.connect_attributes && a.zstd_compression_level == b.zstd_compression_level;
}

void fuzz_messages(ByteView p, Capabilities caps) {
    if (auto ok = decode_ok(p, caps)) {
        const auto again = decode_ok(encode_ok(ok.value(), caps), caps);
        check(again && same(ok.value(), again.value()));
    }
    if (auto err = decode_err(p, caps)) {
        const auto again = decode_err(encode_err(err.value(), caps), caps);
        check(again && again.value().error_code == err.value().error_code &&
              again.value().sql_state == err.value().sql_state && again.value().message == err.value().message);
    }
    (void)is_progress_report(p);
    if (is_eof_packet(p)) {
        if (auto eof = decode_eof(p)) {
            check(encode_eof(eof.value()) == Bytes(p.begin(), p.begin() + 5));
        }
    }
    if (auto prepared = decode_stmt_prepare_ok(p)) {
        const auto again = decode_stmt_prepare_ok(encode_stmt_prepare_ok(prepared.value()));
        check(again && again.value().statement_id == prepared.value().statement_id &&
              again.value().num_columns == prepared.value().num_columns &&
              again.value().num_params == prepared.value().num_params &&
              again.value().warning_count == prepared.value().warning_count);
    }
    (void)decode_column_count(p);
}

void fuzz_connection_phase(ByteView p) {
    if (auto h = decode_initial_handshake(p)) {
        const auto again = decode_initial_handshake(encode_initial_handshake(h.value()));
        check(again && same(h.value(), again.value()));
    }
    if (auto r = decode_handshake_response(p)) {
        const auto again = decode_handshake_response(encode_handshake_response(r.value()));
        check(again && same(r.value(), again.value()));
    }
    if (is_ssl_request(p)) {
        const auto ssl = decode_ssl_request(p);
        check(ssl.has_value());
        const auto again = decode_ssl_request(encode_ssl_request(ssl.value()));
        check(again && again.value().capabilities == ssl.value().capabilities &&
              again.value().max_packet_size == ssl.value().max_packet_size &&
              again.value().character_set == ssl.value().character_set);
    }
    if (auto sw = decode_auth_switch_request(p)) {
        check(encode_auth_switch_request(sw.value()) == Bytes(p.begin(), p.end()));
    }
    if (auto more = decode_auth_more_data(p)) {
        check(encode_auth_more_data(more.value()) == Bytes(p.begin(), p.end()));
    }
}

void fuzz_frames(ByteView p) {
    if (auto packet = reassemble_packet(p)) {
        Bytes wire;
        std::uint8_t seq = packet.value().first_sequence_id;
        append_packet(wire, packet.value().payload, seq);
        const auto again = reassemble_packet(wire);
        check(again && again.value().payload == packet.value().payload);
    }
}

}  // namespace
}  // namespace uniqgate::protocol

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace uniqgate::protocol;
    if (size < 5) {
        return 0;
    }
    ByteReader header(ByteView(data, 5));
    Capabilities caps = header.u32();
    caps |= Capabilities{header.u8()} << 32;
    const ByteView payload(data + 5, size - 5);
    fuzz_messages(payload, caps);
    fuzz_connection_phase(payload);
    fuzz_frames(payload);
    return 0;
}
