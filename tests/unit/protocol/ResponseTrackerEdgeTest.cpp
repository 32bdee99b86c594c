// ResponseTracker's failure modes, status bookkeeping and the partial-payload
// contract (the proxy streams large frames and shows the tracker their start only).
#include "protocol/ResponseTracker.hpp"

#include "TestSupport.hpp"

#include <gtest/gtest.h>

namespace uniqgate::protocol {
namespace {

using test::from_hex;
using Next = ResponseTracker::Next;

constexpr Capabilities kLegacy = cap::protocol_41 | cap::transactions | cap::session_track;
const Bytes kOk = from_hex("00000002000000");
const Bytes kEof = from_hex("fe00000200");
const Bytes kColumnDef = from_hex("036465660000000131000c3f0001000000038100000000");

Next feed(ResponseTracker& tracker, const Bytes& payload) {
    return tracker.on_server_frame(FrameHeader{static_cast<std::uint32_t>(payload.size()), 1}, payload);
}

TEST(TrackerFailure, EmptyCommandFails) {
    ResponseTracker tracker(kLegacy);
    EXPECT_EQ(tracker.on_command({}), Next::done);
    EXPECT_TRUE(tracker.failed());
    EXPECT_EQ(tracker.on_command(from_hex("0e")), Next::server_frame);
    EXPECT_FALSE(tracker.failed());
}

TEST(TrackerFailure, MalformedServerPacketsFailWithoutUndefinedBehaviour) {
    struct Case {
        const char* command;
        const char* packet;
    };
    for (const Case c : {Case{"0378", "fc01"},         // column count cut short
                         Case{"0378", ""},             // empty first packet
                         Case{"0378", "00"},           // OK without its fields
                         Case{"0e", "01"},             // not OK / ERR / EOF
                         Case{"0e", "fe00"},           // EOF cut short
                         Case{"1653", "0001"},         // COM_STMT_PREPARE_OK cut short
                         Case{"1653", "02"},           // not a COM_STMT_PREPARE_OK
                         Case{"1100", "02"}}) {        // not an auth packet
        ResponseTracker tracker(kLegacy);
        tracker.on_command(from_hex(c.command));
        const Bytes p = from_hex(c.packet);
        EXPECT_EQ(tracker.on_server_frame(FrameHeader{static_cast<std::uint32_t>(p.size()), 1}, p), Next::done)
            << c.packet;
        EXPECT_TRUE(tracker.failed()) << c.packet;
        EXPECT_EQ(tracker.on_server_frame(FrameHeader{7, 2}, kOk), Next::done);  // stays failed
        EXPECT_TRUE(tracker.failed());
    }
}

TEST(TrackerFailure, BadEofAfterColumnDefinitionsFails) {
    ResponseTracker tracker(kLegacy);
    tracker.on_command(from_hex("0378"));
    for (const Bytes& p : {from_hex("01"), kColumnDef}) {
        tracker.on_server_frame(FrameHeader{static_cast<std::uint32_t>(p.size()), 1}, p);
    }
    EXPECT_EQ(tracker.on_server_frame(FrameHeader{2, 3}, from_hex("0131")), Next::done);
    EXPECT_TRUE(tracker.failed());
}

TEST(TrackerFailure, FramesOutsideAResponseFail) {
    ResponseTracker idle(kLegacy);
    EXPECT_EQ(idle.on_server_frame(FrameHeader{7, 1}, kOk), Next::done);
    EXPECT_TRUE(idle.failed());
    ResponseTracker not_infile(kLegacy);
    not_infile.on_command(from_hex("0378"));
    EXPECT_EQ(not_infile.on_client_frame(FrameHeader{0, 2}), Next::done);
    EXPECT_TRUE(not_infile.failed());
    ResponseTracker server_during_infile(kLegacy);
    server_during_infile.on_command(from_hex("0378"));
    server_during_infile.on_server_frame(FrameHeader{2, 1}, from_hex("fb78"));
    EXPECT_EQ(server_during_infile.on_server_frame(FrameHeader{7, 2}, kOk), Next::done);
    EXPECT_TRUE(server_during_infile.failed());
}

TEST(TrackerStatus, StartsWithAutocommitAndCanBeSeeded) {
    ResponseTracker tracker;
    EXPECT_EQ(tracker.status_flags(), status::autocommit);
    tracker.set_status_flags(status::in_trans);
    EXPECT_EQ(tracker.status_flags(), status::in_trans);
    tracker.set_capabilities(kLegacy);
    tracker.on_command(from_hex("0e"));
    EXPECT_EQ(tracker.on_server_frame(FrameHeader{7, 1}, kOk), Next::done);
    EXPECT_EQ(tracker.status_flags(), status::autocommit);
}

TEST(TrackerPartialPayload, LargeFramesNeedOnlyTheirFirstBytes) {
    ResponseTracker tracker(kLegacy | cap::deprecate_eof);
    tracker.on_command(from_hex("0378"));
    EXPECT_EQ(feed(tracker, from_hex("01")), Next::server_frame);
    EXPECT_EQ(feed(tracker, kColumnDef), Next::server_frame);
    Bytes start(ResponseTracker::kInspectedBytes, 'x');
    start[0] = 0x05;  // a 20000-byte row, only its start shown
    EXPECT_EQ(tracker.on_server_frame(FrameHeader{20000, 4}, start), Next::server_frame);
    // A terminating OK with 20000 bytes of session state: status 0x4008 (more results).
    Bytes ok = from_hex("fe00000840000000");
    ok.resize(ResponseTracker::kInspectedBytes, 0xfc);
    EXPECT_EQ(tracker.on_server_frame(FrameHeader{20000, 5}, ok), Next::server_frame);
    EXPECT_NE(tracker.status_flags() & status::more_results_exists, 0);
    EXPECT_EQ(feed(tracker, kOk), Next::done);
}

TEST(TrackerPartialPayload, FastAuthSuccessIsJudgedByTheFrameLength) {
    ResponseTracker tracker(kLegacy);
    tracker.on_command(from_hex("11726f6f740000"));
    const Bytes start = from_hex("0103");  // the start of a longer AuthMoreData
    EXPECT_EQ(tracker.on_server_frame(FrameHeader{40, 2}, start), Next::client_auth_data);
}

}  // namespace
}  // namespace uniqgate::protocol
