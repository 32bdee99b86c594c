// ResponseTracker on hand-built packet sequences; GoldenTranscriptTest.cpp replays
// real MariaDB conversations.
#include "protocol/ResponseTracker.hpp"

#include "TestSupport.hpp"

#include <gtest/gtest.h>

namespace uniqgate::protocol {
namespace {

using test::from_hex;
using Next = ResponseTracker::Next;

constexpr Capabilities kLegacy = cap::protocol_41 | cap::transactions | cap::multi_results | cap::session_track |
                                 cap::local_files | cap::mariadb_progress;
constexpr Capabilities kDeprecateEof = kLegacy | cap::deprecate_eof;

const Bytes kOk = from_hex("00000002000000");
const Bytes kErr = from_hex("ff7a042334325330325461626c65");
const Bytes kEof = from_hex("fe00000200");
const Bytes kEofMore = from_hex("fe00000a00");
const Bytes kOkEnd = from_hex("fe000002000000");        // OK ending a result set, deprecate_eof
const Bytes kOkEndMore = from_hex("fe00000a000000");
const Bytes kColumnDef = from_hex("036465660000000131000c3f0001000000038100000000");
const Bytes kTextRow = from_hex("0131");
const Bytes kProgress = from_hex("ffffff0102020000000f456e642062756c6b20696e73657274");

class Tracker : public ::testing::TestWithParam<Capabilities> {
protected:
    explicit Tracker(Capabilities caps = kLegacy) : tracker_(caps) {}

    Next command(const char* hex) { return tracker_.on_command(from_hex(hex)); }

    // Sends one logical packet as frames; every frame but the last must ask for more.
    Next server(const Bytes& payload) {
        Bytes wire;
        std::uint8_t seq = 1;
        append_packet(wire, payload, seq);
        Next next = Next::server_frame;
        for (std::size_t at = 0; at < wire.size();) {
            const FrameHeader header = decode_frame_header(wire.data() + at);
            const ByteView frame(wire.data() + at + kFrameHeaderSize, header.payload_length);
            EXPECT_EQ(next, Next::server_frame) << "frame after the response ended";
            next = tracker_.on_server_frame(header, frame);
            at += kFrameHeaderSize + header.payload_length;
        }
        return next;
    }

    Next client(std::uint32_t length) { return tracker_.on_client_frame(FrameHeader{length, 2}); }

    // The packets that end a result set in the current EOF mode.
    bool deprecate_eof() const { return (GetParam() & cap::deprecate_eof) != 0; }
    const Bytes& end() const { return deprecate_eof() ? kOkEnd : kEof; }
    const Bytes& end_more() const { return deprecate_eof() ? kOkEndMore : kEofMore; }

    // Column count, definitions and (legacy) their EOF.
    void metadata(int columns) {
        Bytes count{static_cast<std::uint8_t>(columns)};
        EXPECT_EQ(server(count), Next::server_frame);
        for (int i = 0; i < columns; ++i) {
            EXPECT_EQ(server(kColumnDef), Next::server_frame);
        }
        if (!deprecate_eof()) {
            EXPECT_EQ(server(kEof), Next::server_frame);
        }
    }

    // A query whose one-column result starts with a row of 0xFFFFFF bytes or more: its first frame.
    void begin_continued_row() {
        command("0378");
        metadata(1);
        Bytes frame(kMaxFramePayload, 'x');
        frame[0] = 0xfc;
        EXPECT_EQ(tracker_.on_server_frame(FrameHeader{kMaxFramePayload, 5}, frame), Next::server_frame);
    }

    ResponseTracker tracker_;
};

// Tests that run under both EOF modes construct the tracker with GetParam().
class BothEofModes : public Tracker {
protected:
    BothEofModes() : Tracker(GetParam()) {}
};

std::string eof_mode_name(const ::testing::TestParamInfo<Capabilities>& mode) {
    return (mode.param & cap::deprecate_eof) ? "DeprecateEof" : "Eof";
}

INSTANTIATE_TEST_SUITE_P(Protocol, BothEofModes, ::testing::Values(kLegacy, kDeprecateEof), eof_mode_name);

TEST_P(BothEofModes, OkEndsAQuery) {
    EXPECT_EQ(command("03444f2031"), Next::server_frame);
    EXPECT_EQ(server(from_hex("00000003000000")), Next::done);
    EXPECT_EQ(tracker_.status_flags(), status::autocommit | status::in_trans);
    EXPECT_FALSE(tracker_.ended_with_error());
    EXPECT_FALSE(tracker_.failed());
}

TEST_P(BothEofModes, ErrEndsAQuery) {
    command("0378");
    EXPECT_EQ(server(kErr), Next::done);
    EXPECT_TRUE(tracker_.ended_with_error());
    command("0378");
    EXPECT_FALSE(tracker_.ended_with_error());  // reset by the next command
}

TEST_P(BothEofModes, ResultSetEndsAtItsTerminator) {
    command("0378");
    metadata(1);
    EXPECT_EQ(server(kTextRow), Next::server_frame);
    EXPECT_EQ(server(from_hex("fb")), Next::server_frame);  // a NULL column
    EXPECT_EQ(server(from_hex("00")), Next::server_frame);  // an empty string column
    EXPECT_EQ(server(end()), Next::done);
    EXPECT_FALSE(tracker_.failed());
}

TEST_P(BothEofModes, MultipleResultSetsFollowMoreResultsExists) {
    command("0378");
    metadata(1);
    EXPECT_EQ(server(kTextRow), Next::server_frame);
    EXPECT_EQ(server(end_more()), Next::server_frame);
    EXPECT_EQ(server(from_hex("0001000a000000")), Next::server_frame);  // an OK in between, more follow
    metadata(1);
    EXPECT_EQ(server(end()), Next::done);
}

TEST_P(BothEofModes, StoredProcedureResultsEndWithAFinalOk) {
    command("0343414c4c20702829");
    metadata(1);
    EXPECT_EQ(server(kTextRow), Next::server_frame);
    EXPECT_EQ(server(end_more()), Next::server_frame);
    metadata(2);
    EXPECT_EQ(server(end_more()), Next::server_frame);
    EXPECT_EQ(server(kOk), Next::done);
}

TEST_P(BothEofModes, ErrInsideMultiResultsEndsEverything) {
    command("0378");
    metadata(1);
    EXPECT_EQ(server(end_more()), Next::server_frame);
    EXPECT_EQ(server(kErr), Next::done);
    EXPECT_TRUE(tracker_.ended_with_error());
}

TEST_P(BothEofModes, RowStartingWithFeAndLongerThanAFrameIsNotATerminator) {
    // A first column of 16 MiB: length prefix 0xFE + 8 bytes, like a terminator's header.
    Bytes row{0xfe, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00};
    row.resize(row.size() + 0x1000000, 'x');
    command("0378");
    metadata(1);
    EXPECT_EQ(server(row), Next::server_frame);
    EXPECT_EQ(server(end()), Next::done);
}

TEST_P(BothEofModes, ContinuationFramesAreNotInterpreted) {
    begin_continued_row();
    // The continuation looks like an EOF / ERR but belongs to the row.
    EXPECT_EQ(tracker_.on_server_frame(FrameHeader{5, 6}, kEof), Next::server_frame);
    EXPECT_EQ(server(end()), Next::done);
}

// Frames on the wire, as skip_rows sees them in the receive buffer.
Bytes frames(std::initializer_list<Bytes> packets) {
    Bytes wire;
    std::uint8_t seq = 3;
    for (const Bytes& packet : packets) append_packet(wire, packet, seq);
    return wire;
}

TEST_P(BothEofModes, SkipRowsTakesTheRowsUpToTheTerminator) {
    command("0378");
    const Bytes rows = frames({kTextRow, from_hex("fb"), from_hex("00"), from_hex("0c68656c6c6f2c20776f726c6421")});
    EXPECT_EQ(tracker_.skip_rows(rows), 0U);  // before the metadata: not in the rows yet
    metadata(1);
    Bytes wire = rows;
    const Bytes tail = frames({end(), kOk});
    wire.insert(wire.end(), tail.begin(), tail.end());
    EXPECT_EQ(tracker_.skip_rows(wire), rows.size());
    EXPECT_EQ(tracker_.skip_rows(rows), rows.size());
    // Skipping changed nothing: the terminator still ends the response.
    EXPECT_EQ(server(end()), Next::done);
    EXPECT_EQ(tracker_.skip_rows(rows), 0U);  // done: no rows any more
}

TEST_P(BothEofModes, SkipRowsStopsBeforeAFrameItCannotJudge) {
    command("0378");
    metadata(1);
    const Bytes row = frames({kTextRow});
    auto skipped_before = [&](const Bytes& next) {
        Bytes wire = row;
        wire.insert(wire.end(), next.begin(), next.end());
        return tracker_.skip_rows(wire);
    };
    EXPECT_EQ(skipped_before(frames({kErr})), row.size());
    EXPECT_EQ(skipped_before(frames({from_hex("fe00000000000000010000000000")})), row.size());  // 0xFE-led row
    EXPECT_EQ(skipped_before(frames({Bytes{}})), row.size());                                 // empty frame
    const Bytes whole = frames({from_hex("0568656c6c6f")});
    for (std::size_t cut = 1; cut < whole.size(); ++cut) {  // an incomplete frame, header included
        EXPECT_EQ(skipped_before(Bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(cut))), row.size());
    }
    EXPECT_EQ(skipped_before(whole), row.size() + whole.size());
    Bytes continued = from_hex("ffffff04");
    continued.resize(kFrameHeaderSize + kMaxFramePayload, 'x');
    continued[kFrameHeaderSize] = 0x01;
    EXPECT_EQ(skipped_before(continued), row.size());  // a packet going on in the next frame
    EXPECT_EQ(tracker_.skip_rows({}), 0U);
}

TEST_P(BothEofModes, SkipRowsTakesNothingInsideAContinuedPacket) {
    begin_continued_row();
    // The continuation frame is the row's rest, for on_server_frame to see.
    EXPECT_EQ(tracker_.skip_rows(frames({kTextRow})), 0U);
    EXPECT_EQ(tracker_.on_server_frame(FrameHeader{2, 6}, kTextRow), Next::server_frame);
    EXPECT_EQ(tracker_.skip_rows(frames({kTextRow})), kFrameHeaderSize + kTextRow.size());
}

TEST(TrackerRows, LegacyTerminatorIsShorterThanNineBytes) {
    ResponseTracker tracker(kLegacy);
    tracker.on_command(from_hex("0378"));
    for (const Bytes& p : {from_hex("01"), kColumnDef, kEof}) {
        EXPECT_EQ(tracker.on_server_frame(FrameHeader{static_cast<std::uint32_t>(p.size()), 1}, p), Next::server_frame);
    }
    const Bytes row = from_hex("fe0000000000000000aa");  // 0xFE but 10 bytes: a row
    EXPECT_EQ(tracker.on_server_frame(FrameHeader{10, 1}, row), Next::server_frame);
    EXPECT_EQ(tracker.on_server_frame(FrameHeader{5, 1}, kEof), Next::done);
}

TEST_P(BothEofModes, ProgressReportsDoNotEndTheResponse) {
    command("0378");
    EXPECT_EQ(server(kProgress), Next::server_frame);
    EXPECT_EQ(server(kProgress), Next::server_frame);
    EXPECT_EQ(server(kOk), Next::done);
    EXPECT_FALSE(tracker_.ended_with_error());
    command("0378");
    metadata(1);
    EXPECT_EQ(server(kProgress), Next::server_frame);
    EXPECT_EQ(server(end()), Next::done);
}

TEST_P(BothEofModes, LocalInfileRelaysClientDataUntilTheEmptyPacket) {
    command("034c4f4144");
    EXPECT_EQ(server(from_hex("fb78")), Next::client_infile_data);
    EXPECT_EQ(client(6), Next::client_infile_data);
    EXPECT_EQ(client(kMaxFramePayload), Next::client_infile_data);
    EXPECT_EQ(client(0), Next::client_infile_data);  // only ends the 0xFFFFFF-byte packet
    EXPECT_EQ(client(kMaxFramePayload), Next::client_infile_data);
    EXPECT_EQ(client(3), Next::client_infile_data);  // a continuation, not a terminator
    EXPECT_EQ(client(0), Next::server_frame);        // the end of the file
    EXPECT_EQ(server(kProgress), Next::server_frame);
    EXPECT_EQ(server(from_hex("0003000a000000")), Next::server_frame);  // more results follow
    EXPECT_EQ(server(kOk), Next::done);
}

TEST_P(BothEofModes, LocalInfileRefusedByTheServer) {
    command("034c4f4144");
    EXPECT_EQ(server(from_hex("fb78")), Next::client_infile_data);
    EXPECT_EQ(client(0), Next::server_frame);
    EXPECT_EQ(server(kErr), Next::done);
    EXPECT_TRUE(tracker_.ended_with_error());
}

TEST_P(BothEofModes, PrepareWithParamsAndColumns) {
    command("1653454c454354");
    EXPECT_EQ(server(from_hex("000300000002000300000000")), Next::server_frame);  // 2 columns, 3 params
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(server(kColumnDef), Next::server_frame);
    }
    if (!deprecate_eof()) {
        EXPECT_EQ(server(kEof), Next::server_frame);
    }
    EXPECT_EQ(server(kColumnDef), Next::server_frame);
    const Next last_column = server(kColumnDef);
    if (!deprecate_eof()) {
        EXPECT_EQ(last_column, Next::server_frame);
        EXPECT_EQ(server(kEof), Next::done);
    } else {
        EXPECT_EQ(last_column, Next::done);
    }
}

TEST_P(BothEofModes, PrepareWithOnlyParamsOrOnlyColumnsOrNeither) {
    command("16444f203f");
    EXPECT_EQ(server(from_hex("000500000000000100000000")), Next::server_frame);
    EXPECT_EQ(server(kColumnDef), deprecate_eof() ? Next::done : Next::server_frame);
    if (!deprecate_eof()) {
        EXPECT_EQ(server(kEof), Next::done);
    }
    command("1653454c4543542031");
    EXPECT_EQ(server(from_hex("000400000001000000000000")), Next::server_frame);
    EXPECT_EQ(server(kColumnDef), deprecate_eof() ? Next::done : Next::server_frame);
    if (!deprecate_eof()) {
        EXPECT_EQ(server(kEof), Next::done);
    }
    command("16444f2031");
    EXPECT_EQ(server(from_hex("000600000000000000000000")), Next::done);
}

TEST_P(BothEofModes, PrepareErrorEndsIt) {
    command("1653454c454354");
    EXPECT_EQ(server(kErr), Next::done);
    EXPECT_TRUE(tracker_.ended_with_error());
}

TEST_P(BothEofModes, ExecuteWithCursorEndsAfterTheMetadata) {
    command("1703000000010100000000");
    EXPECT_EQ(server(from_hex("01")), Next::server_frame);
    EXPECT_EQ(server(kColumnDef), Next::server_frame);
    const Bytes cursor = deprecate_eof() ? from_hex("fe000042000000") : from_hex("fe00004200");
    EXPECT_EQ(server(cursor), Next::done);
    EXPECT_NE(tracker_.status_flags() & status::cursor_exists, 0);

    command("1c0300000001000000");  // COM_STMT_FETCH: binary rows, then the terminator
    EXPECT_EQ(server(from_hex("00000100000001610700000000000000")), Next::server_frame);
    EXPECT_EQ(server(deprecate_eof() ? from_hex("fe000082000000") : from_hex("fe00008200")), Next::done);
    EXPECT_NE(tracker_.status_flags() & status::last_row_sent, 0);
}

TEST_P(BothEofModes, ExecuteWithoutCursorReturnsBinaryRows) {
    command("1703000000000100000000");
    metadata(1);
    EXPECT_EQ(server(from_hex("0000")), Next::server_frame);
    EXPECT_EQ(server(end()), Next::done);
}

TEST_P(BothEofModes, ExecuteReturningAnEmptyResult) {
    command("1703000000000100000000");
    metadata(1);
    EXPECT_EQ(server(end()), Next::done);
}

TEST_P(BothEofModes, FetchError) {
    command("1c0300000001000000");
    EXPECT_EQ(server(kErr), Next::done);
    EXPECT_TRUE(tracker_.ended_with_error());
}

TEST_P(BothEofModes, FieldListEndsAtEofOrErr) {
    command("047400");
    EXPECT_EQ(server(kColumnDef), Next::server_frame);
    EXPECT_EQ(server(kColumnDef), Next::server_frame);
    EXPECT_EQ(server(end()), Next::done);
    command("047400");
    EXPECT_EQ(server(kErr), Next::done);
}

TEST_P(BothEofModes, StatisticsIsOneBarePacket) {
    command("09");
    EXPECT_EQ(server(test::bytes_of("Uptime: 406  Threads: 1")), Next::done);
    EXPECT_FALSE(tracker_.ended_with_error());
}

TEST_P(BothEofModes, SimpleCommandsEndAtOneOkErrOrEof) {
    for (const char* cmd : {"0e", "026678", "1f", "1a03000000", "0c01000000", "07", "0d", "13"}) {
        EXPECT_EQ(command(cmd), Next::server_frame) << cmd;
        EXPECT_EQ(server(kOk), Next::done) << cmd;
        command(cmd);
        EXPECT_EQ(server(kErr), Next::done) << cmd;
    }
    EXPECT_EQ(command("1b0000"), Next::server_frame);  // COM_SET_OPTION answers with EOF
    EXPECT_EQ(server(end()), Next::done);
    EXPECT_FALSE(tracker_.failed());
}

TEST_P(BothEofModes, CommandsWithoutAResponseAreDoneAtOnce) {
    EXPECT_EQ(command("1903000000"), Next::done);  // COM_STMT_CLOSE
    EXPECT_EQ(command("18030000000000"), Next::done);  // COM_STMT_SEND_LONG_DATA
    EXPECT_EQ(command("01"), Next::done);  // COM_QUIT
    EXPECT_FALSE(tracker_.failed());
}

TEST_P(BothEofModes, ChangeUserWithAuthSwitch) {
    command("11726f6f740000");
    EXPECT_EQ(server(from_hex("fe6d7973716c5f6e61746976655f70617373776f726400414243")), Next::client_auth_data);
    EXPECT_EQ(server(from_hex("0000000240000000050103026678")), Next::done);
    EXPECT_EQ(tracker_.status_flags(), status::autocommit | status::session_state_changed);
}

TEST_P(BothEofModes, ChangeUserWithCachingSha2MoreData) {
    command("11726f6f740000");
    EXPECT_EQ(server(from_hex("0104")), Next::client_auth_data);  // perform full authentication
    EXPECT_EQ(server(from_hex("012d2d2d2d2d424547494e")), Next::client_auth_data);  // RSA key
    EXPECT_EQ(server(kErr), Next::done);
    EXPECT_TRUE(tracker_.ended_with_error());
    command("11726f6f740000");
    EXPECT_EQ(server(from_hex("0103")), Next::server_frame);  // fast auth: the OK follows
    EXPECT_EQ(server(kOk), Next::done);
}

}  // namespace
}  // namespace uniqgate::protocol
