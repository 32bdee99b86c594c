// Where a server response ends. The rules, by command:
// https://mariadb.com/kb/en/result-set-packets/ and
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_command_phase.html
#include "protocol/ResponseTracker.hpp"

#include "protocol/ByteReader.hpp"
#include "protocol/Messages.hpp"

namespace uniqgate::protocol {

using Next = ResponseTracker::Next;

Next ResponseTracker::on_command(ByteView payload) noexcept {
    state_ = State::idle;
    ended_with_error_ = false;
    in_continuation_ = false;
    client_in_continuation_ = false;
    if (payload.empty()) {
        return fail();
    }
    command_ = static_cast<Command>(payload[0]);
    switch (command_) {
    case Command::quit:
    case Command::stmt_send_long_data:
    case Command::stmt_close:
        return Next::done;  // the server sends nothing back
    case Command::query:
    case Command::stmt_execute:
    case Command::process_info:
    case Command::mariadb_stmt_bulk_execute:  // may return rows (INSERT ... RETURNING)
        state_ = State::first_packet;
        break;
    case Command::stmt_prepare:
        state_ = State::prepare_first;
        break;
    case Command::field_list:
        state_ = State::field_list;
        break;
    case Command::statistics:
        state_ = State::single_packet;  // a bare string, no header byte
        break;
    case Command::stmt_fetch:
        state_ = State::rows;
        break;
    case Command::change_user:
        state_ = State::auth;
        break;
    default:
        state_ = State::simple_response;
        break;
    }
    return Next::server_frame;
}

Next ResponseTracker::on_server_frame(FrameHeader header, ByteView payload) noexcept {
    if (state_ == State::failed) {
        return Next::done;
    }
    if (in_continuation_) {
        // Continuation frames carry the rest of a packet already interpreted.
        in_continuation_ = header.continues();
        return in_continuation_ ? Next::server_frame : after_continuation_;
    }
    if (state_ == State::idle || state_ == State::infile_client) {
        return fail();
    }
    const Next next = on_packet(header, payload);
    if (header.continues() && state_ != State::failed) {
        in_continuation_ = true;
        after_continuation_ = next;
        return Next::server_frame;
    }
    return next;
}

Next ResponseTracker::on_client_frame(FrameHeader header) noexcept {
    if (state_ != State::infile_client) {
        return fail();
    }
    if (client_in_continuation_) {
        // An empty frame after a 0xFFFFFF frame only ends that packet, not the file.
        client_in_continuation_ = header.continues();
        return Next::client_infile_data;
    }
    if (header.payload_length == 0) {
        state_ = State::first_packet;  // the server now answers with OK or ERR
        return Next::server_frame;
    }
    client_in_continuation_ = header.continues();
    return Next::client_infile_data;
}

Next ResponseTracker::on_packet(FrameHeader header, ByteView payload) noexcept {
    if (!payload.empty() && payload[0] == header::err) {
        return on_err(payload);  // no state has a packet that starts with 0xFF
    }
    if (state_ == State::single_packet) {
        return finish();
    }
    if (payload.empty()) {
        return fail();
    }
    switch (state_) {
    case State::first_packet:
        return on_first_packet(payload);
    case State::column_defs:
        return on_column_def();
    case State::column_defs_eof:
        return on_column_defs_eof(payload);
    case State::rows:
    case State::field_list:  // a definition starts with the catalog's length, never 0xFE
        return on_row_or_end(header, payload);
    case State::prepare_first:
        return on_prepare_ok(payload);
    case State::prepare_params:
    case State::prepare_params_eof:
    case State::prepare_columns:
    case State::prepare_columns_eof:
        return on_prepare_def(payload);
    case State::simple_response:
        return on_simple_response(payload);
    case State::auth:
        return on_auth_packet(header, payload);
    default:
        return fail();
    }
}

Next ResponseTracker::on_first_packet(ByteView payload) noexcept {
    switch (payload[0]) {
    case header::ok:
        return on_ok(payload);
    case header::local_infile:
        state_ = State::infile_client;
        client_in_continuation_ = false;
        return Next::client_infile_data;
    default:
        break;
    }
    const auto count = decode_column_count(payload);
    if (!count) {
        return fail();
    }
    remaining_columns_ = count.value();
    state_ = State::column_defs;
    return Next::server_frame;
}

Next ResponseTracker::on_column_def() noexcept {
    if (--remaining_columns_ == 0) {
        state_ = (caps_ & cap::deprecate_eof) ? State::rows : State::column_defs_eof;
    }
    return Next::server_frame;
}

Next ResponseTracker::on_column_defs_eof(ByteView payload) noexcept {
    const auto eof = decode_eof(payload);
    if (!eof) {
        return fail();
    }
    status_flags_ = eof.value().status_flags;
    // With a cursor open, the rows come later, one COM_STMT_FETCH at a time. (Under
    // deprecate_eof the cursor's OK arrives in the rows state and ends it there.)
    if (command_ == Command::stmt_execute && (status_flags_ & status::cursor_exists)) {
        return finish();
    }
    state_ = State::rows;
    return Next::server_frame;
}

std::size_t ResponseTracker::skip_row_frames(ByteView frames) noexcept {
    const std::uint8_t* data = frames.data();
    const std::size_t size = frames.size();
    std::size_t pos = 0;
    while (size - pos > kFrameHeaderSize) {
        const std::uint32_t length = decode_frame_header(data + pos).payload_length;
        if (length == 0 || length == kMaxFramePayload || size - pos - kFrameHeaderSize < length) break;
        const std::uint8_t first = data[pos + kFrameHeaderSize];
        if (first == header::eof || first == header::err) break;
        pos += kFrameHeaderSize + length;
    }
    return pos;
}

Next ResponseTracker::on_row_or_end(FrameHeader header, ByteView payload) noexcept {
    // A text row may start with 0xFE (the length prefix of a string of 16 MiB or
    // more), but then it is longer than any terminator: under deprecate_eof the
    // terminating OK fits in one frame, a classic EOF in 9 bytes.
    const bool terminator = payload[0] == header::eof &&
                            ((caps_ & cap::deprecate_eof) ? !header.continues() : header.payload_length < 9);
    return terminator ? after_end_packet(terminator_status(payload)) : Next::server_frame;
}

Next ResponseTracker::on_prepare_ok(ByteView payload) noexcept {
    const auto ok = decode_stmt_prepare_ok(payload);
    if (!ok) {
        return fail();
    }
    remaining_params_ = ok.value().num_params;
    remaining_columns_ = ok.value().num_columns;
    return next_prepare_section();
}

Next ResponseTracker::on_prepare_def(ByteView payload) noexcept {
    if (state_ == State::prepare_params_eof || state_ == State::prepare_columns_eof) {
        const auto eof = decode_eof(payload);
        if (!eof) {
            return fail();
        }
        status_flags_ = eof.value().status_flags;
        return next_prepare_section();
    }
    const bool section_done = state_ == State::prepare_params ? --remaining_params_ == 0 : --remaining_columns_ == 0;
    if (section_done && !(caps_ & cap::deprecate_eof)) {
        state_ = state_ == State::prepare_params ? State::prepare_params_eof : State::prepare_columns_eof;
        return Next::server_frame;
    }
    return next_prepare_section();
}

Next ResponseTracker::next_prepare_section() noexcept {
    if (remaining_params_ > 0) {
        state_ = State::prepare_params;
        return Next::server_frame;
    }
    if (remaining_columns_ > 0) {
        state_ = State::prepare_columns;
        return Next::server_frame;
    }
    return finish();
}

Next ResponseTracker::on_simple_response(ByteView payload) noexcept {
    switch (payload[0]) {
    case header::ok:
        return end_with(ok_status(payload));
    case header::eof:  // COM_SET_OPTION, COM_DEBUG, COM_SHUTDOWN (OK under deprecate_eof)
        return end_with(terminator_status(payload));
    default:
        return fail();
    }
}

Next ResponseTracker::on_auth_packet(FrameHeader header, ByteView payload) noexcept {
    switch (payload[0]) {
    case header::ok:
        return end_with(ok_status(payload));
    case header::eof:  // AuthSwitchRequest: the client answers with the new plugin's data
        return Next::client_auth_data;
    case header::auth_more_data:
        // caching_sha2_password's "fast auth succeeded" (0x01 0x03) is followed by
        // the OK at once; any other data (full-auth request, RSA key) awaits the client.
        if (header.payload_length == 2 && payload.size() == 2 && payload[1] == 0x03) {
            return Next::server_frame;
        }
        return Next::client_auth_data;
    default:
        return fail();
    }
}

Next ResponseTracker::on_ok(ByteView payload) noexcept { return after_end_packet(ok_status(payload)); }

Next ResponseTracker::on_err(ByteView payload) noexcept {
    if (is_progress_report(payload)) {
        return Next::server_frame;  // MariaDB: an ERR-shaped progress report, not the end
    }
    ended_with_error_ = true;  // an ERR also ends any remaining multi-results
    return finish();
}

// The end of one result: another follows while the server sets more_results_exists.
Next ResponseTracker::after_end_packet(std::optional<std::uint16_t> status) noexcept {
    if (status && (*status & status::more_results_exists)) {
        status_flags_ = *status;
        state_ = State::first_packet;
        return Next::server_frame;
    }
    return end_with(status);
}

Next ResponseTracker::end_with(std::optional<std::uint16_t> status) noexcept {
    if (!status) {
        return fail();
    }
    status_flags_ = *status;
    return finish();
}

// The status of a packet that ends a result set: an OK with header 0xFE under
// deprecate_eof, a classic EOF otherwise.
std::optional<std::uint16_t> ResponseTracker::terminator_status(ByteView payload) const noexcept {
    if (caps_ & cap::deprecate_eof) {
        return ok_status(payload);
    }
    const auto eof = decode_eof(payload);
    return eof ? std::optional(eof.value().status_flags) : std::nullopt;
}

std::optional<std::uint16_t> ResponseTracker::ok_status(ByteView payload) const noexcept {
    // Only the status is needed: read up to it rather than decode (and copy) the info.
    ByteReader r(payload);
    r.u8();
    r.lenenc_int();
    r.lenenc_int();
    const std::uint16_t status = (caps_ & (cap::protocol_41 | cap::transactions)) ? r.u16() : status_flags_;
    return r.ok() ? std::optional(status) : std::nullopt;
}

Next ResponseTracker::finish() noexcept {
    state_ = State::idle;
    return Next::done;
}

Next ResponseTracker::fail() noexcept {
    state_ = State::failed;
    return Next::done;
}

}  // namespace uniqgate::protocol
