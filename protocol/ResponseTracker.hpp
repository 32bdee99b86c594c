#pragma once
// Knows where the server's response to a command ends, from the frames as they
// pass, without buffering them. The proxy feeds every frame it relays and asks
// what comes next. It also records the status flags of the last OK/EOF, which is
// how the session tracks transactions.
//
// Frame-level: a frame of 0xFFFFFF bytes is followed by continuation frames that
// belong to the same logical packet; only a packet's first frame is interpreted.
//
// Result sets whose column definitions the server may skip are not supported: the
// proxy must not negotiate cap::optional_resultset_metadata (MySQL 8) or
// cap::mariadb_cache_metadata, nor compression (frames would not be plain).

#include "protocol/Constants.hpp"
#include "protocol/Frame.hpp"

#include <cstdint>
#include <optional>

namespace uniqgate::protocol {

class ResponseTracker {
public:
    enum class Next {
        server_frame,       // keep reading from the server
        client_infile_data, // LOCAL INFILE: relay client frames (see on_client_frame) until it says so
        done,               // the response is complete; the next packet is the client's
        // COM_CHANGE_USER after an AuthSwitchRequest or AuthMoreData: relay exactly
        // one client packet (all its frames) to the server, then read the server
        // again (on_server_frame). The tracker does not need to see that packet.
        client_auth_data,
    };

    // The most payload bytes the tracker looks at in one frame (an OK packet's
    // header, two 9-byte length-encoded integers and the status flags).
    static constexpr std::size_t kInspectedBytes = 32;

    explicit ResponseTracker(Capabilities negotiated = 0) noexcept : caps_(negotiated) {}
    void set_capabilities(Capabilities negotiated) noexcept { caps_ = negotiated; }

    // The client sent `command` (its first payload byte); `payload` is the command
    // packet's first frame payload. Returns the first Next: `done` for commands
    // the server does not answer (COM_STMT_SEND_LONG_DATA, COM_STMT_CLOSE, COM_QUIT).
    // Resets ended_with_error() and failed().
    Next on_command(ByteView payload) noexcept;

    // One server frame of the current response. `payload` holds the frame's first
    // bytes: all of them, or at least kInspectedBytes; the tracker reads no further
    // and takes lengths from `header`, so a large row can be streamed.
    Next on_server_frame(FrameHeader header, ByteView payload) noexcept;

    // The bytes taken by the plain row frames at the front of `frames` (whole frames,
    // header and payload, as they came from the server), while the response is in its
    // rows: each is one on_server_frame would answer server_frame to without changing
    // anything. Stops before the first frame that is incomplete, continued, empty, or
    // starts with 0xFE or 0xFF (a terminator, an ERR, or a row too long to tell from
    // its first bytes), which on_server_frame then takes as usual. A result set's rows
    // are most of the frames a relay sees: skipped in one tight loop, a 100-row result
    // costs little more to relay than it costs a plain TCP relay.
    [[nodiscard]] std::size_t skip_rows(ByteView frames) const noexcept {
        return state_ == State::rows && !in_continuation_ ? skip_row_frames(frames) : 0;  // inline: called per frame
    }

    // One client frame during LOCAL INFILE: returns client_infile_data while more
    // file data follows, server_frame after the terminating empty packet.
    Next on_client_frame(FrameHeader header) noexcept;

    // Status flags of the last OK or EOF packet seen (initially from the handshake).
    [[nodiscard]] std::uint16_t status_flags() const noexcept { return status_flags_; }
    void set_status_flags(std::uint16_t flags) noexcept { status_flags_ = flags; }

    // The response ended with an ERR packet (the last one, for multi-results).
    [[nodiscard]] bool ended_with_error() const noexcept { return ended_with_error_; }

    // A malformed server response, or a call the conversation does not allow (the
    // session should close the connection). Every call returns `done` once failed;
    // on_command starts afresh.
    [[nodiscard]] bool failed() const noexcept { return state_ == State::failed; }

private:
    [[nodiscard]] static std::size_t skip_row_frames(ByteView frames) noexcept;

    enum class State {
        idle,
        first_packet,         // OK / ERR / LOCAL INFILE / column count
        column_defs,          // counting column definitions
        column_defs_eof,      // legacy EOF after column definitions
        rows,                 // rows until EOF / OK(0xFE) / ERR
        prepare_first,        // COM_STMT_PREPARE: COM_STMT_PREPARE_OK or ERR
        prepare_params,       // parameter definitions
        prepare_params_eof,
        prepare_columns,
        prepare_columns_eof,
        field_list,           // COM_FIELD_LIST: definitions until EOF / ERR
        single_packet,        // any one packet ends it (COM_STATISTICS)
        simple_response,      // one OK / ERR / EOF ends it
        infile_client,        // the client is sending file data
        auth,                 // COM_CHANGE_USER: until OK / ERR
        failed,
    };

    Next on_packet(FrameHeader header, ByteView payload) noexcept;
    Next on_first_packet(ByteView payload) noexcept;
    Next on_column_def() noexcept;
    Next on_column_defs_eof(ByteView payload) noexcept;
    Next on_row_or_end(FrameHeader header, ByteView payload) noexcept;
    Next on_prepare_ok(ByteView payload) noexcept;
    Next on_prepare_def(ByteView payload) noexcept;
    Next next_prepare_section() noexcept;
    Next on_simple_response(ByteView payload) noexcept;
    Next on_auth_packet(FrameHeader header, ByteView payload) noexcept;
    Next on_ok(ByteView payload) noexcept;
    Next on_err(ByteView payload) noexcept;
    Next after_end_packet(std::optional<std::uint16_t> status) noexcept;
    Next end_with(std::optional<std::uint16_t> status) noexcept;
    std::optional<std::uint16_t> terminator_status(ByteView payload) const noexcept;
    std::optional<std::uint16_t> ok_status(ByteView payload) const noexcept;
    Next finish() noexcept;
    Next fail() noexcept;

    Capabilities caps_;
    State state_ = State::idle;
    Command command_ = Command::sleep;
    std::uint64_t remaining_columns_ = 0;  // of the result set, or of the prepared statement
    std::uint16_t remaining_params_ = 0;
    std::uint16_t status_flags_ = status::autocommit;
    Next after_continuation_ = Next::server_frame;  // decided by the packet's first frame
    bool in_continuation_ = false;
    bool client_in_continuation_ = false;
    bool ended_with_error_ = false;
};

}  // namespace uniqgate::protocol
