// libFuzzer target: ResponseTracker on arbitrary conversations. Input layout:
// 4 bytes of capabilities, then records of [kind][length u16][bytes]. The kind
// byte's low bit makes a server frame claim 0xFFFFFF bytes (a continued packet)
// whatever its real size, since the tracker must never read past the bytes it is
// given. The tracker decides which side speaks next, as the proxy would.
#include "protocol/ByteReader.hpp"
#include "protocol/Frame.hpp"
#include "protocol/ResponseTracker.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace uniqgate::protocol;
    using Next = ResponseTracker::Next;
    ByteReader in(ByteView(data, size));
    ResponseTracker tracker(in.u32());
    Next next = Next::done;
    while (in.remaining() >= 3) {
        const std::uint8_t kind = in.u8();
        const std::uint16_t length = in.u16();
        const std::string_view bytes = in.fixed_string(std::min<std::size_t>(length, in.remaining()));
        const ByteView payload = to_byte_view(bytes);
        const std::uint32_t claimed = (kind & 1) ? kMaxFramePayload : static_cast<std::uint32_t>(payload.size());
        const FrameHeader header{claimed, kind};
        switch (next) {
        case Next::done:
            next = tracker.on_command(payload);  // starts afresh, even after a failure
            break;
        case Next::server_frame: {
            // The record read as frames in a receive buffer: every frame skip_rows takes
            // must be one that on_server_frame would take as a row.
            const std::size_t skipped = tracker.skip_rows(payload);
            if (skipped > payload.size()) std::abort();
            ResponseTracker replay = tracker;
            for (std::size_t at = 0; at < skipped;) {
                const FrameHeader row = decode_frame_header(payload.data() + at);
                if (at + kFrameHeaderSize + row.payload_length > skipped) std::abort();
                if (replay.on_server_frame(row, payload.subspan(at + kFrameHeaderSize, row.payload_length)) !=
                        Next::server_frame ||
                    replay.failed()) {
                    std::abort();
                }
                at += kFrameHeaderSize + row.payload_length;
            }
            next = tracker.on_server_frame(header, payload);
            break;
        }
        case Next::client_infile_data:
            next = tracker.on_client_frame(header);
            break;
        case Next::client_auth_data:
            next = Next::server_frame;  // the proxy relays one client packet
            break;
        }
        if (tracker.failed() && next != Next::done) {
            std::abort();  // a failed tracker must stop the conversation
        }
        (void)tracker.status_flags();
        (void)tracker.ended_with_error();
    }
    return 0;
}
