#pragma once
// The proxy's own connection to the backend as the `control` user (schema lookups,
// `uniqgate check`, `uniqgate migrate`), over libmariadb's blocking client API.
// Every call blocks: run it on a worker thread, never on an event-loop thread.
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
    // timeout, character set utf8mb4. Throws ControlConnectionError.
    static ControlConnection connect(const config::Config& config);

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

    st_mysql_stmt* prepared(std::string_view sql, QueryResult& failure);
    void close_statements() noexcept;

    st_mysql* mysql_ = nullptr;
    std::string endpoint_;
    std::vector<std::pair<std::string, st_mysql_stmt*>> statements_;  // execute_bound's, by SQL
};

}  // namespace uniqgate::proxy
