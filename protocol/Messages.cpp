// Command-phase messages: OK, ERR, EOF, COM_STMT_PREPARE_OK, column count.
// https://mariadb.com/kb/en/result-set-packets/
#include "protocol/Messages.hpp"

#include "protocol/ByteReader.hpp"

namespace uniqgate::protocol {
namespace {

// Reads the first byte and checks it is one of the allowed headers.
bool read_header(ByteReader& r, std::uint8_t a, std::uint8_t b, std::uint8_t& out) {
    out = r.u8();
    return r.ok() && (out == a || out == b);
}

ProtocolErrc header_error(const ByteReader& r) {
    return r.ok() ? ProtocolErrc::malformed : r.failure();
}

// Without session tracking the manual documents info as string<EOF>, but both
// MySQL and MariaDB send it length-encoded (net_send_ok); accept the raw form
// only when the rest is not exactly one length-encoded string.
std::string read_plain_info(ByteReader& r) {
    const std::string_view rest = r.rest();
    ByteReader info(to_byte_view(rest));
    const std::string_view text = info.lenenc_string();
    return std::string(info.ok() && info.at_end() ? text : rest);
}

}  // namespace

Result<OkPacket> decode_ok(ByteView payload, Capabilities caps) {
    ByteReader r(payload);
    OkPacket ok;
    if (!read_header(r, header::ok, header::eof, ok.header)) {
        return header_error(r);
    }
    ok.affected_rows = r.lenenc_int();
    ok.last_insert_id = r.lenenc_int();
    if (caps & cap::protocol_41) {
        ok.status_flags = r.u16();
        ok.warnings = r.u16();
    } else if (caps & cap::transactions) {
        ok.status_flags = r.u16();
    }
    if (!r.ok()) {
        return r.failure();
    }
    if (!(caps & cap::session_track)) {
        ok.info = read_plain_info(r);
        return ok;
    }
    if (!r.at_end()) {
        ok.info = r.lenenc_string();
    }
    if ((ok.status_flags & status::session_state_changed) && !r.at_end()) {
        ok.session_state_changes = r.lenenc_string();
    }
    if (!r.ok()) {
        return r.failure();
    }
    return ok;
}

Bytes encode_ok(const OkPacket& ok, Capabilities caps) {
    Bytes out{ok.header};
    write_lenenc_int(out, ok.affected_rows);
    write_lenenc_int(out, ok.last_insert_id);
    if (caps & cap::protocol_41) {
        write_u16(out, ok.status_flags);
        write_u16(out, ok.warnings);
    } else if (caps & cap::transactions) {
        write_u16(out, ok.status_flags);
    }
    // Like the servers: the info goes out only when there is something to say
    // (or session state has to follow it).
    const bool has_state =
        (caps & cap::session_track) && (ok.status_flags & status::session_state_changed) && !ok.session_state_changes.empty();
    if (!ok.info.empty() || has_state) {
        write_lenenc_string(out, ok.info);
    }
    if (has_state) {
        write_lenenc_string(out, ok.session_state_changes);
    }
    return out;
}

Result<ErrPacket> decode_err(ByteView payload, Capabilities caps) {
    ByteReader r(payload);
    std::uint8_t first = 0;
    if (!read_header(r, header::err, header::err, first)) {
        return header_error(r);
    }
    ErrPacket err;
    err.error_code = r.u16();
    err.sql_state.clear();
    // Errors sent before the client's capabilities are known have no SQL state.
    if ((caps & cap::protocol_41) && r.peek() == '#') {
        r.skip(1);
        err.sql_state = r.fixed_string(5);
    }
    err.message = r.rest();
    if (!r.ok()) {
        return r.failure();
    }
    return err;
}

Bytes encode_err(const ErrPacket& err, Capabilities caps) {
    Bytes out{header::err};
    write_u16(out, err.error_code);
    if ((caps & cap::protocol_41) && !err.sql_state.empty()) {
        std::string state = err.sql_state.substr(0, 5);
        state.resize(5, '0');  // the field is fixed-width
        write_u8(out, '#');
        write_bytes(out, state);
    }
    write_bytes(out, err.message);
    return out;
}

bool is_progress_report(ByteView payload) noexcept {
    return payload.size() >= 3 && payload[0] == header::err && payload[1] == 0xff && payload[2] == 0xff;
}

bool is_eof_packet(ByteView payload) noexcept {
    // A text row may also start with 0xFE (a length prefix of a string >= 16 MiB),
    // but such a row is far longer than 9 bytes.
    return !payload.empty() && payload[0] == header::eof && payload.size() < 9;
}

Result<EofPacket> decode_eof(ByteView payload) {
    ByteReader r(payload);
    std::uint8_t first = 0;
    if (!read_header(r, header::eof, header::eof, first) || payload.size() >= 9) {
        return header_error(r);
    }
    EofPacket eof;
    eof.warnings = r.u16();
    eof.status_flags = r.u16();
    if (!r.ok()) {
        return r.failure();
    }
    return eof;
}

Bytes encode_eof(const EofPacket& eof) {
    Bytes out{header::eof};
    write_u16(out, eof.warnings);
    write_u16(out, eof.status_flags);
    return out;
}

Result<StmtPrepareOk> decode_stmt_prepare_ok(ByteView payload) {
    ByteReader r(payload);
    std::uint8_t first = 0;
    if (!read_header(r, header::ok, header::ok, first)) {
        return header_error(r);
    }
    StmtPrepareOk ok;
    ok.statement_id = r.u32();
    ok.num_columns = r.u16();
    ok.num_params = r.u16();
    r.skip(1);  // filler
    ok.warning_count = r.u16();
    // MySQL 8 appends a metadata_follows byte with optional_resultset_metadata; ignored.
    if (!r.ok()) {
        return r.failure();
    }
    return ok;
}

Bytes encode_stmt_prepare_ok(const StmtPrepareOk& ok) {
    Bytes out{header::ok};
    write_u32(out, ok.statement_id);
    write_u16(out, ok.num_columns);
    write_u16(out, ok.num_params);
    write_u8(out, 0);
    write_u16(out, ok.warning_count);
    return out;
}

Result<std::uint64_t> decode_column_count(ByteView payload) {
    ByteReader r(payload);
    const std::uint64_t count = r.lenenc_int();
    if (!r.ok()) {
        return r.failure();
    }
    if (count == 0) {
        return ProtocolErrc::malformed;  // 0x00 starts an OK packet, not a result set
    }
    // A trailing metadata_follows byte (MySQL 8, optional_resultset_metadata) is ignored.
    return count;
}

}  // namespace uniqgate::protocol
