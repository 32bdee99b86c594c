// Replays conversations captured from MariaDB 10.11 (data/mariadb-10.11-transcripts.txt)
// through the ResponseTracker: it must ask for exactly the frames that came, from
// the side they came from, and say `done` at the last one. The messages in them
// must also decode and re-encode byte for byte.
#include "protocol/Messages.hpp"
#include "protocol/ResponseTracker.hpp"

#include "TestSupport.hpp"

#include <gtest/gtest.h>

namespace uniqgate::protocol {
namespace {

using Next = ResponseTracker::Next;
using test::Transcript;

const std::vector<Transcript>& transcripts() {
    static const auto all = test::load_transcripts("mariadb-10.11-transcripts.txt");
    return all;
}

// Feeds a transcript to a tracker; returns a description of the first mismatch.
std::string replay(const Transcript& t, ResponseTracker& tracker) {
    const auto& frames = t.frames;
    std::size_t i = 0;
    Next next = tracker.on_command(frames.at(i++).payload);
    while (i < frames.size()) {
        const auto& frame = frames[i];
        const std::string where = "frame " + std::to_string(i) + ": ";
        switch (next) {
        case Next::done:
            return where + "tracker said done but the conversation goes on";
        case Next::server_frame:
            if (frame.direction != 'S') {
                return where + "tracker waits for the server, the client spoke";
            }
            next = tracker.on_server_frame(frame.header(), frame.payload);
            ++i;
            break;
        case Next::client_infile_data:
            if (frame.direction != 'C') {
                return where + "tracker waits for file data, the server spoke";
            }
            next = tracker.on_client_frame(frame.header());
            ++i;
            break;
        case Next::client_auth_data:
            if (frame.direction != 'C') {
                return where + "tracker waits for auth data, the server spoke";
            }
            while (frames.at(i++).header().continues()) {
            }
            next = Next::server_frame;
            break;
        }
    }
    if (next != Next::done) {
        return "the conversation ended but the tracker waits for more";
    }
    return tracker.failed() ? "tracker failed" : "";
}

bool has(const std::string& name, const char* part) { return name.find(part) != std::string::npos; }

TEST(GoldenTranscripts, AreLoaded) {
    EXPECT_GE(transcripts().size(), 70u);
}

TEST(GoldenTranscripts, TrackerEndsEachResponseAtItsLastPacket) {
    for (const Transcript& t : transcripts()) {
        if (t.name == "handshake") {
            continue;
        }
        ResponseTracker tracker(t.caps);
        EXPECT_EQ(replay(t, tracker), "") << t.name;
        const bool error_expected = has(t.name, "_err") || has(t.name, "multi_error") || has(t.name, "unknown_command");
        EXPECT_EQ(tracker.ended_with_error(), error_expected) << t.name;
    }
}

const Transcript& named(const std::string& name) {
    for (const Transcript& t : transcripts()) {
        if (t.name == name) {
            return t;
        }
    }
    throw std::out_of_range(name);
}

TEST(GoldenTranscripts, ReplayNoticesAResponseCutShort) {
    Transcript cut = named("eof.select_rows");
    cut.frames.pop_back();  // drop the final EOF
    ResponseTracker tracker(cut.caps);
    EXPECT_NE(replay(cut, tracker), "");
    Transcript extended = named("deprecate_eof.query_ok");
    extended.frames.push_back(extended.frames.back());
    ResponseTracker tracker2(extended.caps);
    EXPECT_NE(replay(extended, tracker2), "");
}

TEST(GoldenTranscripts, CoverTheInterestingConversations) {
    // Fail loudly if a re-capture loses one of the cases the tracker must handle.
    for (const char* mode : {"eof.", "deprecate_eof."}) {
        for (const char* name : {"call_procedure", "multi_statements", "local_infile", "local_infile_big",
                                 "select_big_row", "execute_cursor", "fetch_one", "prepare", "field_list",
                                 "change_user_switch", "statistics", "stmt_close", "set_option_multi_on"}) {
            EXPECT_NO_THROW(named(std::string(mode) + name)) << mode << name;
        }
    }
}

TEST(GoldenTranscripts, TransactionStatusIsTracked) {
    for (const char* mode : {"eof.", "deprecate_eof."}) {
        ResponseTracker tracker;
        for (const Transcript& t : transcripts()) {
            if (t.name.rfind(mode, 0) != 0) {
                continue;
            }
            tracker.set_capabilities(t.caps);
            replay(t, tracker);
            const std::string step = t.name.substr(std::string(mode).size());
            if (step == "autocommit_off") {
                EXPECT_EQ(tracker.status_flags() & status::autocommit, 0) << t.name;
            } else if (step == "begin") {
                EXPECT_NE(tracker.status_flags() & status::in_trans, 0) << t.name;
            } else if (step == "rollback") {
                EXPECT_EQ(tracker.status_flags() & status::in_trans, 0) << t.name;
            } else if (step == "autocommit_on") {
                EXPECT_NE(tracker.status_flags() & status::autocommit, 0) << t.name;
            }
        }
    }
}

// Every OK, ERR and EOF packet of every transcript round-trips exactly.
TEST(GoldenTranscripts, OkErrEofPacketsRoundTrip) {
    std::size_t checked = 0;
    for (const Transcript& t : transcripts()) {
        const bool auth = has(t.name, "change_user");
        for (const auto& frame : t.frames) {
            const ByteView p = frame.payload;
            if (frame.direction != 'S' || p.empty() || p.size() >= 0xffff) {
                continue;
            }
            if (p[0] == header::err) {
                const auto err = decode_err(p, t.caps);
                ASSERT_TRUE(err) << t.name;
                EXPECT_EQ(encode_err(err.value(), t.caps), frame.payload) << t.name;
                ++checked;
            } else if (is_eof_packet(p) && !auth && !(t.caps & cap::deprecate_eof)) {
                EXPECT_EQ(encode_eof(decode_eof(p).value()), frame.payload) << t.name;
                ++checked;
            } else if ((p[0] == header::ok && p.size() == 7) || (p[0] == header::ok && has(t.name, "query")) ||
                       (p[0] == header::eof && (t.caps & cap::deprecate_eof) && !auth)) {
                const auto ok = decode_ok(p, t.caps);
                ASSERT_TRUE(ok) << t.name;
                EXPECT_EQ(encode_ok(ok.value(), t.caps), frame.payload) << t.name;
                ++checked;
            }
        }
    }
    EXPECT_GE(checked, 80u);
}

TEST(GoldenTranscripts, HandshakeRoundTrips) {
    const Transcript& t = transcripts().front();
    ASSERT_EQ(t.name, "handshake");
    const auto greeting = decode_initial_handshake(t.frames.at(0).payload);
    ASSERT_TRUE(greeting);
    EXPECT_EQ(encode_initial_handshake(greeting.value()), t.frames[0].payload);
    const auto response = decode_handshake_response(t.frames.at(1).payload);
    ASSERT_TRUE(response);
    EXPECT_EQ(response.value().capabilities, t.caps);
    EXPECT_EQ(encode_handshake_response(response.value()), t.frames[1].payload);
}

}  // namespace
}  // namespace uniqgate::protocol
