#pragma once
// The proxy's own statements on a session's backend connection (existence
// checks, GET_LOCK, dedup-table writes, schema lookups). Their packets never
// reach the client.

#include "protocol/Constants.hpp"
#include "protocol/Messages.hpp"
#include "protocol/TextResultRow.hpp"
#include "proxy/Connection.hpp"
#include "proxy/FrameBuffer.hpp"

#include <string_view>
#include <vector>

namespace uniqgate::proxy {

// The outcome of one statement (a multi-statement string yields one per statement
// up to and including the first error).
struct StatementOutcome {
    bool is_error = false;
    protocol::ErrPacket error{};
    protocol::OkPacket ok{};  // the OK, or a result set's terminator (status flags, warnings)
    std::vector<protocol::TextRow> rows{};
    // With `keep_result_sets`: a result set's packets as the server sent them, the column
    // count, the definitions (and their EOF) and the rows; not the terminator.
    std::vector<protocol::Bytes> result_packets{};
};

// The index of the first outcome that is an error, or outcomes.size(): a pipeline goes on
// after an error, and the first one is what failed.
[[nodiscard]] inline std::size_t first_failed(const std::vector<StatementOutcome>& outcomes) noexcept {
    std::size_t at = 0;
    while (at < outcomes.size() && !outcomes[at].is_error) ++at;
    return at;
}

// Sends `sql` as COM_QUERY and reads the whole response. `ec` is set when the
// connection failed or the response could not be followed; the connection is
// then unusable.
asio::awaitable<std::vector<StatementOutcome>> run_internal_query(Connection& backend, FrameBuffer& buffer,
                                                                 protocol::Capabilities caps, std::string_view sql,
                                                                 error_code& ec);

// Like run_internal_query, for a multi-statement string ("a\n;b\n;c"), whether or
// not the client enabled multi-statements; the server stops at the first statement
// that fails, which is why the proxy's wrapped writes use it. If the client did not
// enable them they are switched on (COM_SET_OPTION, pipelined) and `switched_on` is
// set: the session must then keep the client's own COM_QUERYs to single statements
// (switch_multi_statements_off before relaying one that is not).
asio::awaitable<std::vector<StatementOutcome>> run_internal_statements(Connection& backend, FrameBuffer& buffer,
                                                                      protocol::Capabilities caps,
                                                                      std::string_view sql, bool& switched_on,
                                                                      error_code& ec, bool keep_result_sets = false);

// The proxy's own prepared statements (values bound, never pasted into SQL text):
// COM_STMT_PREPARE answered with the statement's id and parameter count, or the
// server's error; the parameter and column definitions that follow are skipped.
struct PrepareOutcome {
    bool is_error = false;
    protocol::ErrPacket error{};
    protocol::StmtPrepareOk ok{};
};
asio::awaitable<PrepareOutcome> run_internal_prepare(Connection& backend, FrameBuffer& buffer,
                                                     protocol::Capabilities caps, std::string_view sql,
                                                     error_code& ec);
// One COM_STMT_EXECUTE (`payload`, command byte included) and its whole answer: an OK,
// an ERR, or a result set whose columns must all be strings (select CAST(... AS
// BINARY)), read as text rows.
asio::awaitable<StatementOutcome> run_internal_execute(Connection& backend, FrameBuffer& buffer,
                                                       protocol::Capabilities caps, const protocol::Bytes& payload,
                                                       error_code& ec);

// Commands (payloads, command byte included) sent in one write, the server answering
// each in turn: one outcome per command (see run_internal_execute), fewer when the
// connection failed (`ec`). Unlike a multi-statement, a failing command does not stop
// the ones after it: the proxy's pipelines are built so that they need not. The result
// set of command `kept_step` (the client's INSERT ... RETURNING) is kept as it came
// (StatementOutcome::result_packets), its rows of any type.
inline constexpr std::size_t kNoKeptStep = static_cast<std::size_t>(-1);
asio::awaitable<std::vector<StatementOutcome>> run_internal_pipeline(Connection& backend, FrameBuffer& buffer,
                                                                    protocol::Capabilities caps,
                                                                    const std::vector<protocol::Bytes>& commands,
                                                                    error_code& ec, std::size_t kept_step = kNoKeptStep);

// Switches multi-statements off again if run_internal_statements switched them on.
asio::awaitable<void> switch_multi_statements_off(Connection& backend, FrameBuffer& buffer, bool& switched_on,
                                                  error_code& ec);

}  // namespace uniqgate::proxy
