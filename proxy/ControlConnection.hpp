#pragma once
// The proxy's own connection to the backend as the `control` user (schema lookups,
// `uniqgate check`, `uniqgate migrate`, serialize's shared checks), over libmariadb.
// The plain calls block: run them on a worker thread, never on an event-loop thread.
// A connection made non-blocking also runs queries as steps (begin_query, resume):
// the caller waits for the socket in its own event loop (ControlPool). This keeps
// libmariadb out of the event loop's code and the event loop out of this file.
//
// TLS follows `backend_tls.mode` (see ../shared/DESIGN.md, "Interface"):
//   disabled   plain connection.
//   preferred  TLS when the server offers it, no certificate verification (libmariadb 3.3
//              falls back to a plain connection when the server has no TLS).
//   required   TLS or fail (checked after the handshake), no certificate verification.
//   verify_ca  TLS or fail, server certificate chain verified against `backend_tls.ca`
//              (like the proxy's own backend leg: the host name is not checked).

#include "config/Config.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct st_mysql;       // MYSQL from <mysql.h>; kept out of this header
struct st_mysql_stmt;  // MYSQL_STMT

namespace uniqgate::proxy {

// Connecting failed; the message names the endpoint and the user, e.g.
// "cannot connect to 127.0.0.1:3306 as 'uniqgate': Access denied for user ... (1045)".
class ControlConnectionError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

using SqlValue = std::optional<std::string>;  // std::nullopt is SQL NULL
using SqlRow = std::vector<SqlValue>;

// The outcome of one statement. SQL errors are values here, never exceptions.
struct QueryResult {
    bool ok = false;
    unsigned error_code = 0;  // e.g. 1146 (ER_NO_SUCH_TABLE); 0 when ok
    std::string sqlstate;     // e.g. "42S02"; empty when ok
    std::string message;      // the server's (or client library's) text; empty when ok
    std::vector<SqlRow> rows;
    std::uint64_t affected_rows = 0;
    // mysql_info(): e.g. "Records: 100  Duplicates: 3  Warnings: 3" after INSERT ... SELECT;
    // empty when the statement has none.
    std::string info;

    // "ERROR 1146 (42S02): Table 'shop.x' doesn't exist", or "ok".
    std::string describe_error() const;
    // The connection cannot be used again: a client error such as 2006 (gone away) or 2013
    // (lost during the query), or the server's 1927 (killed while the query ran).
    bool connection_lost() const;
};

// A parameter of a prepared statement as the binary protocol carries it: the
// MYSQL_TYPE_* code, the unsigned flag and the value's bytes as on the wire
// (integers little endian, temporals in their 0/4/7/8/11/12-byte form); nullopt: NULL.
struct BoundParameter {
    std::uint8_t type = 6;  // MYSQL_TYPE_NULL
    bool is_unsigned = false;
    std::optional<std::string> bytes;
};

class ControlConnection {
public:
    // Connects to backend host:port (or unix_socket) as control.user with a 5 s connect
    // timeout, character set utf8mb4. Throws ControlConnectionError. The connect itself
    // blocks either way; `nonblocking` makes the stepped calls below available.
    static ControlConnection connect(const config::Config& config, bool nonblocking = false);

    ControlConnection(ControlConnection&& other) noexcept;
    ControlConnection& operator=(ControlConnection&& other) noexcept;
    ControlConnection(const ControlConnection&) = delete;
    ControlConnection& operator=(const ControlConnection&) = delete;
    ~ControlConnection();

    // Runs one statement (multi-statements are not enabled) and reads all its rows.
    QueryResult query(std::string_view sql);

    // `sql` as a prepared statement (prepared once per connection and kept) executed with
    // `params` bound, never written into the SQL; all rows read. Every column it selects
    // must be a string (select CAST(... AS BINARY)): rows come back as text.
    QueryResult execute_bound(std::string_view sql, const std::vector<BoundParameter>& params);

    // Stepped calls (a `nonblocking` connection only): query() and execute_bound() without
    // blocking. begin_* starts the call and returns what it waits for (a Wait mask; 0:
    // finished). Wait for that on socket(), call resume() with what happened, and so on
    // until it returns 0; then take_result(). One call at a time, and no blocking call
    // while one is pending.
    enum Wait : int { kRead = 1, kWrite = 2, kExcept = 4, kTimeout = 8 };  // libmariadb's MYSQL_WAIT_*
    int begin_query(std::string_view sql);
    int begin_execute_bound(std::string_view sql, const std::vector<BoundParameter>& params);
    int resume(int happened);
    QueryResult take_result();
    // The connection's socket; with kTimeout, how long to wait before resuming with it.
    int socket() const;
    unsigned timeout_ms() const;

    // SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED: every statement then sees
    // the latest committed rows instead of a snapshot.
    QueryResult set_read_committed();

    // `value` escaped for use between single quotes (mysql_real_escape_string: follows the
    // connection's character set and the server's NO_BACKSLASH_ESCAPES mode).
    std::string escape_string(std::string_view value) const;
    // 'value', escaped.
    std::string quote_string(std::string_view value) const;
    // `name` in backticks, inner backticks doubled. Always quotes, so keywords are safe.
    static std::string quote_identifier(std::string_view name);
    // `schema`.`table`, or `table` when schema is empty.
    static std::string quote_table(const config::TableName& name);

    // The TLS cipher in use, or empty for a plain connection.
    std::string tls_cipher() const;
    // "127.0.0.1:3306" or "unix socket /path".
    const std::string& endpoint() const { return endpoint_; }

private:
    ControlConnection(st_mysql* mysql, std::string endpoint);

    struct SteppedCall;  // a stepped call in progress

    st_mysql_stmt* cached_statement(std::string_view sql);
    st_mysql_stmt* prepared(std::string_view sql, QueryResult& failure);
    // Keeps `stmt`, prepared from `sql`, for the next execute of the same text.
    void keep_statement(std::string_view sql, st_mysql_stmt* stmt);
    void close_statements() noexcept;
    // Runs the stepped call's phases until one waits (its mask) or all are done (0).
    int step(int happened);

    st_mysql* mysql_ = nullptr;
    std::string endpoint_;
    std::vector<std::pair<std::string, st_mysql_stmt*>> statements_;  // execute_bound's, by SQL
    std::unique_ptr<SteppedCall> call_;
};

}  // namespace uniqgate::proxy
