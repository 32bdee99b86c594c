#include "proxy/ControlConnection.hpp"

#include <fcntl.h>
#include <mysql.h>

#include <cerrno>
#include <cstring>

#include <memory>
#include <mutex>
#include <utility>

namespace uniqgate::proxy {
namespace {

constexpr unsigned int connect_timeout_s = 5;

// mysql_init() initialises the library on first use, but not thread-safely: do it once here.
void init_library_once() {
    static std::once_flag once;
    std::call_once(once, [] { mysql_library_init(0, nullptr, nullptr); });
}

std::string endpoint_text(const config::BackendConfig& backend) {
    if (!backend.unix_socket.empty()) return "unix socket " + backend.unix_socket;
    return config::to_string(config::Endpoint{backend.host, backend.port});
}

std::string connect_error(const std::string& endpoint, const std::string& user, const std::string& reason) {
    return "cannot connect to " + endpoint + " as '" + user + "': " + reason;
}

// libmariadb 3.3: MYSQL_OPT_SSL_ENFORCE only switches TLS on (use_ssl); a CA makes it verify
// the server's certificate chain (the host name only with MYSQL_OPT_SSL_VERIFY_SERVER_CERT,
// which we leave off, like the proxy's own backend leg). "TLS or fail" is checked after the
// handshake in require_tls_if_configured().
void set_tls_options(MYSQL* mysql, const config::BackendTlsConfig& tls) {
    const my_bool use_tls = tls.mode != config::BackendTlsMode::disabled;
    mysql_options(mysql, MYSQL_OPT_SSL_ENFORCE, &use_tls);
    if (tls.mode == config::BackendTlsMode::verify_ca) mysql_options(mysql, MYSQL_OPT_SSL_CA, tls.ca.c_str());
}

bool tls_required(const config::BackendTlsConfig& tls) {
    return tls.mode == config::BackendTlsMode::required || tls.mode == config::BackendTlsMode::verify_ca;
}

void set_connect_options(MYSQL* mysql, const config::Config& config) {
    const unsigned int timeout = connect_timeout_s;
    mysql_options(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_options(mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    // Explicit, so host "localhost" with a port still means TCP and a socket path means the socket.
    const mysql_protocol_type protocol =
        config.backend.unix_socket.empty() ? MYSQL_PROTOCOL_TCP : MYSQL_PROTOCOL_SOCKET;
    mysql_options(mysql, MYSQL_OPT_PROTOCOL, &protocol);
    set_tls_options(mysql, config.backend_tls);
}

MYSQL* real_connect(MYSQL* mysql, const config::Config& config) {
    const auto& backend = config.backend;
    const auto& control = config.control;
    if (!backend.unix_socket.empty()) {
        return mysql_real_connect(mysql, "localhost", control.user.c_str(), control.password.c_str(), nullptr, 0,
                                  backend.unix_socket.c_str(), 0);
    }
    return mysql_real_connect(mysql, backend.host.c_str(), control.user.c_str(), control.password.c_str(), nullptr,
                              backend.port, nullptr, 0);
}

// libmariadb leaves the socket blocking after connecting. Its plain reads and writes do
// not care (MSG_DONTWAIT), but a TLS read inside a stepped call would block in SSL_read.
// Every libmariadb I/O path, blocking calls included, waits on EAGAIN itself; set here,
// behind the library's back, the flag stays (it believes the socket blocking already).
bool make_nonblocking(MYSQL* mysql) {
    const int fd = static_cast<int>(mysql_get_socket(mysql));
    const int flags = ::fcntl(fd, F_GETFL);
    return flags != -1 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != -1;
}

QueryResult error_result(MYSQL* mysql) {
    QueryResult result;
    result.error_code = mysql_errno(mysql);
    result.sqlstate = mysql_sqlstate(mysql);
    result.message = mysql_error(mysql);
    return result;
}

struct FreeResult {
    void operator()(MYSQL_RES* res) const { mysql_free_result(res); }
};

std::vector<SqlRow> read_rows(MYSQL_RES* res) {
    std::vector<SqlRow> rows;
    const unsigned int fields = mysql_num_fields(res);
    rows.reserve(mysql_num_rows(res));
    while (MYSQL_ROW row = mysql_fetch_row(res)) {
        const unsigned long* lengths = mysql_fetch_lengths(res);
        SqlRow& out = rows.emplace_back();
        out.reserve(fields);
        for (unsigned int i = 0; i < fields; ++i) {
            if (row[i] == nullptr) {
                out.emplace_back(std::nullopt);
            } else {
                out.emplace_back(std::string(row[i], lengths[i]));
            }
        }
    }
    return rows;
}

}  // namespace

std::string QueryResult::describe_error() const {
    if (ok) return "ok";
    return "ERROR " + std::to_string(error_code) + " (" + sqlstate + "): " + message;
}

bool QueryResult::connection_lost() const {
    constexpr unsigned kConnectionKilled = 1927;  // ER_CONNECTION_KILLED
    return !ok && ((error_code >= 2000 && error_code < 3000) || error_code == kConnectionKilled);
}

ControlConnection ControlConnection::connect(const config::Config& config, bool nonblocking) {
    init_library_once();
    std::string endpoint = endpoint_text(config.backend);
    MYSQL* mysql = mysql_init(nullptr);
    if (mysql == nullptr) throw ControlConnectionError(connect_error(endpoint, config.control.user, "out of memory"));
    set_connect_options(mysql, config);
    // Before connecting: libmariadb then sets up the context its stepped calls run in.
    if (nonblocking && mysql_options(mysql, MYSQL_OPT_NONBLOCK, nullptr) != 0) {
        mysql_close(mysql);
        throw ControlConnectionError(connect_error(endpoint, config.control.user, "no non-blocking client API"));
    }
    if (real_connect(mysql, config) == nullptr) {
        const std::string reason = std::string(mysql_error(mysql)) + " (" + std::to_string(mysql_errno(mysql)) + ")";
        mysql_close(mysql);
        throw ControlConnectionError(connect_error(endpoint, config.control.user, reason));
    }
    ControlConnection connection(mysql, std::move(endpoint));
    if (nonblocking && !make_nonblocking(mysql)) {
        throw ControlConnectionError(connect_error(connection.endpoint_, config.control.user,
                                                   std::string("cannot make the socket non-blocking: ") +
                                                       std::strerror(errno)));
    }
    if (tls_required(config.backend_tls) && connection.tls_cipher().empty()) {
        throw ControlConnectionError(connect_error(connection.endpoint_, config.control.user,
                                                   std::string("backend_tls.mode is ") +
                                                       config::to_string(config.backend_tls.mode) +
                                                       " but the server did not use TLS"));
    }
    return connection;
}

void ControlConnection::close_statements() noexcept {
    for (auto& [sql, stmt] : statements_) mysql_stmt_close(stmt);
    statements_.clear();
}

namespace {

QueryResult not_open() {
    QueryResult result;
    result.error_code = 2006;  // CR_SERVER_GONE_ERROR: the closest client error for "no connection"
    result.sqlstate = "HY000";
    result.message = "control connection is not open (moved from)";
    return result;
}

// After mysql_store_result(): its rows, or for a statement without a result set its
// affected rows; `res` (null for those, and for a failed read) is freed.
QueryResult stored_query_result(MYSQL* mysql, MYSQL_RES* stored) {
    std::unique_ptr<MYSQL_RES, FreeResult> res(stored);
    QueryResult result;
    if (res == nullptr) {
        // No result set: fine for statements without one, an error for a failed read.
        if (mysql_field_count(mysql) != 0) return error_result(mysql);
        result.affected_rows = mysql_affected_rows(mysql);
        if (const char* info = mysql_info(mysql)) result.info = info;
    } else {
        result.rows = read_rows(res.get());
    }
    result.ok = true;
    return result;
}

}  // namespace

QueryResult ControlConnection::query(std::string_view sql) {
    if (mysql_ == nullptr) return not_open();
    if (mysql_real_query(mysql_, sql.data(), static_cast<unsigned long>(sql.size())) != 0) return error_result(mysql_);
    return stored_query_result(mysql_, mysql_store_result(mysql_));
}

namespace {

// Per connection; then all are closed and prepared anew. A batched check's text is one
// per condition count (CheckBatcher::kMaxConditions per family): room for a few families.
constexpr std::size_t kMaxStatements = 128;

QueryResult statement_error(MYSQL_STMT* stmt) {
    QueryResult result;
    result.error_code = mysql_stmt_errno(stmt);
    result.sqlstate = mysql_stmt_sqlstate(stmt);
    result.message = mysql_stmt_error(stmt);
    return result;
}

std::uint32_t little_endian(const std::string& bytes, std::size_t at, std::size_t width) {
    std::uint32_t value = 0;
    for (std::size_t i = 0; i < width && at + i < bytes.size(); ++i) {
        value |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
    }
    return value;
}

// DATE / DATETIME / TIMESTAMP (0, 4, 7 or 11 bytes) and TIME (0, 8 or 12 bytes) as
// the binary protocol sends them, as libmariadb wants them bound.
MYSQL_TIME wire_time(std::uint8_t type, const std::string& bytes) {
    MYSQL_TIME time{};
    if (type == MYSQL_TYPE_TIME) {
        time.time_type = MYSQL_TIMESTAMP_TIME;
        if (bytes.size() >= 8) {
            time.neg = bytes[0] != 0;
            time.hour = little_endian(bytes, 1, 4) * 24 + static_cast<unsigned char>(bytes[5]);
            time.minute = static_cast<unsigned char>(bytes[6]);
            time.second = static_cast<unsigned char>(bytes[7]);
        }
        if (bytes.size() >= 12) time.second_part = little_endian(bytes, 8, 4);
        return time;
    }
    time.time_type = type == MYSQL_TYPE_DATE ? MYSQL_TIMESTAMP_DATE : MYSQL_TIMESTAMP_DATETIME;
    if (bytes.size() >= 4) {
        time.year = little_endian(bytes, 0, 2);
        time.month = static_cast<unsigned char>(bytes[2]);
        time.day = static_cast<unsigned char>(bytes[3]);
    }
    if (bytes.size() >= 7) {
        time.hour = static_cast<unsigned char>(bytes[4]);
        time.minute = static_cast<unsigned char>(bytes[5]);
        time.second = static_cast<unsigned char>(bytes[6]);
    }
    if (bytes.size() >= 11) time.second_part = little_endian(bytes, 7, 4);
    return time;
}

}  // namespace

namespace {

QueryResult wrong_parameter_count(std::size_t given, unsigned long wanted) {
    QueryResult result;
    result.error_code = 1210;  // ER_WRONG_ARGUMENTS, as the server would answer
    result.sqlstate = "HY000";
    result.message = "uniqgate: " + std::to_string(given) + " values for " + std::to_string(wanted) + " parameters";
    return result;
}

// An execute's parameters as libmariadb binds them. The buffers point into the
// BoundParameters given to bind(), which must outlive the execute.
struct ParameterBinds {
    std::vector<MYSQL_BIND> binds;
    std::vector<MYSQL_TIME> times;
    std::vector<unsigned long> lengths;

    void bind(const std::vector<BoundParameter>& params) {
        binds.assign(params.size(), MYSQL_BIND{});
        times.assign(params.size(), MYSQL_TIME{});
        lengths.assign(params.size(), 0);
        for (std::size_t i = 0; i < params.size(); ++i) {
            MYSQL_BIND& bind = binds[i];
            const BoundParameter& param = params[i];
            if (!param.bytes) {
                bind.buffer_type = MYSQL_TYPE_NULL;
                continue;
            }
            bind.buffer_type = static_cast<enum_field_types>(param.type);
            bind.is_unsigned = param.is_unsigned;
            switch (param.type) {
                case MYSQL_TYPE_DATE:
                case MYSQL_TYPE_DATETIME:
                case MYSQL_TYPE_TIMESTAMP:
                case MYSQL_TYPE_TIME:
                    times[i] = wire_time(param.type, *param.bytes);
                    bind.buffer = &times[i];
                    bind.buffer_length = sizeof(MYSQL_TIME);
                    break;
                case MYSQL_TYPE_VARCHAR:  // as Connector/J sends strings; libmariadb binds them as STRING
                case MYSQL_TYPE_ENUM:
                case MYSQL_TYPE_SET:
                    bind.buffer_type = MYSQL_TYPE_STRING;
                    [[fallthrough]];
                default:  // integers and floats as their little-endian bytes; strings, decimals, blobs
                    lengths[i] = static_cast<unsigned long>(param.bytes->size());
                    bind.buffer = const_cast<char*>(param.bytes->data());
                    bind.buffer_length = lengths[i];
                    bind.length = &lengths[i];
                    break;
            }
        }
    }
};

// Checks the count and binds `params` to `stmt`; an error result when either fails.
std::optional<QueryResult> bind_parameters(MYSQL_STMT* stmt, const std::vector<BoundParameter>& params,
                                           ParameterBinds& binds) {
    if (mysql_stmt_param_count(stmt) != params.size()) {
        return wrong_parameter_count(params.size(), mysql_stmt_param_count(stmt));
    }
    binds.bind(params);
    if (mysql_stmt_bind_param(stmt, binds.binds.data()) != 0) return statement_error(stmt);
    return std::nullopt;
}

// Before mysql_stmt_store_result(): it then records each column's longest value, which
// stored_statement_rows() sizes its buffers by.
void measure_stored_columns(MYSQL_STMT* stmt) {
    const my_bool update_max_length = 1;
    mysql_stmt_attr_set(stmt, STMT_ATTR_UPDATE_MAX_LENGTH, &update_max_length);
}

// After mysql_stmt_store_result(): every row as text (no I/O: the rows are stored), or
// for a statement without a result set its affected rows.
QueryResult stored_statement_rows(MYSQL_STMT* stmt) {
    QueryResult result;
    MYSQL_RES* metadata = mysql_stmt_result_metadata(stmt);
    if (metadata == nullptr) {
        result.affected_rows = mysql_stmt_affected_rows(stmt);
        result.ok = true;
        return result;
    }
    std::unique_ptr<MYSQL_RES, FreeResult> fields(metadata);
    const unsigned int columns = mysql_num_fields(metadata);
    std::vector<MYSQL_BIND> out(columns);
    std::vector<std::string> buffers(columns);
    std::vector<unsigned long> out_lengths(columns);
    std::vector<my_bool> nulls(columns);
    for (unsigned int c = 0; c < columns; ++c) {
        buffers[c].resize(mysql_fetch_field_direct(metadata, c)->max_length + 1);
        out[c].buffer_type = MYSQL_TYPE_STRING;
        out[c].buffer = buffers[c].data();
        out[c].buffer_length = static_cast<unsigned long>(buffers[c].size());
        out[c].length = &out_lengths[c];
        out[c].is_null = &nulls[c];
    }
    if (mysql_stmt_bind_result(stmt, out.data()) != 0) return statement_error(stmt);
    for (;;) {
        const int fetched = mysql_stmt_fetch(stmt);
        if (fetched == MYSQL_NO_DATA) break;
        if (fetched != 0) {  // 1: an error; MYSQL_DATA_TRUNCATED cannot happen with max_length buffers
            result = statement_error(stmt);
            mysql_stmt_free_result(stmt);
            return result;
        }
        SqlRow& row = result.rows.emplace_back();
        for (unsigned int c = 0; c < columns; ++c) {
            if (nulls[c]) {
                row.emplace_back(std::nullopt);
            } else {
                row.emplace_back(std::string(buffers[c].data(), out_lengths[c]));
            }
        }
    }
    mysql_stmt_free_result(stmt);
    result.ok = true;
    return result;
}

}  // namespace

MYSQL_STMT* ControlConnection::cached_statement(std::string_view sql) {
    for (const auto& [text, stmt] : statements_) {
        if (text == sql) return stmt;
    }
    return nullptr;
}

void ControlConnection::keep_statement(std::string_view sql, MYSQL_STMT* stmt) {
    if (statements_.size() >= kMaxStatements) close_statements();
    statements_.emplace_back(std::string(sql), stmt);
}

MYSQL_STMT* ControlConnection::prepared(std::string_view sql, QueryResult& failure) {
    if (MYSQL_STMT* cached = cached_statement(sql)) return cached;
    MYSQL_STMT* stmt = mysql_stmt_init(mysql_);
    if (stmt == nullptr) {
        failure = error_result(mysql_);
        return nullptr;
    }
    if (mysql_stmt_prepare(stmt, sql.data(), static_cast<unsigned long>(sql.size())) != 0) {
        failure = statement_error(stmt);
        mysql_stmt_close(stmt);
        return nullptr;
    }
    keep_statement(sql, stmt);
    return stmt;
}

QueryResult ControlConnection::execute_bound(std::string_view sql, const std::vector<BoundParameter>& params) {
    QueryResult result;
    if (mysql_ == nullptr) return not_open();
    MYSQL_STMT* stmt = prepared(sql, result);
    if (stmt == nullptr) return result;
    ParameterBinds binds;
    if (auto refused = bind_parameters(stmt, params, binds)) return std::move(*refused);
    if (mysql_stmt_execute(stmt) != 0) return statement_error(stmt);
    measure_stored_columns(stmt);
    if (mysql_stmt_store_result(stmt) != 0) return statement_error(stmt);
    return stored_statement_rows(stmt);
}

// A stepped call: the phases of query() or execute_bound(), each one of libmariadb's
// _start/_cont pairs.
struct ControlConnection::SteppedCall {
    enum class Phase { query, store_result, prepare, execute, store_statement_result, done };
    Phase phase = Phase::done;
    bool waiting = false;  // the phase started and waits: resume it with _cont
    std::string sql;
    std::vector<BoundParameter> params;  // `binds` point into these
    ParameterBinds binds;
    MYSQL_STMT* stmt = nullptr;
    int status = 0;
    MYSQL_RES* stored = nullptr;
    QueryResult result;

    void finish(QueryResult outcome) {
        result = std::move(outcome);
        phase = Phase::done;
    }
    // With `stmt` prepared: binds the parameters, and the execute is next (or the call
    // ends with the refusal).
    void bind_then_execute() {
        phase = Phase::execute;
        if (auto refused = bind_parameters(stmt, params, binds)) finish(std::move(*refused));
    }
};

// Defined here, where SteppedCall is complete.
ControlConnection::ControlConnection(st_mysql* mysql, std::string endpoint)
    : mysql_(mysql), endpoint_(std::move(endpoint)) {}

ControlConnection::ControlConnection(ControlConnection&& other) noexcept
    : mysql_(std::exchange(other.mysql_, nullptr)),
      endpoint_(std::move(other.endpoint_)),
      statements_(std::move(other.statements_)),
      call_(std::move(other.call_)) {
    other.statements_.clear();
}

ControlConnection& ControlConnection::operator=(ControlConnection&& other) noexcept {
    if (this != &other) {
        close_statements();
        if (mysql_ != nullptr) mysql_close(mysql_);
        mysql_ = std::exchange(other.mysql_, nullptr);
        endpoint_ = std::move(other.endpoint_);
        statements_ = std::move(other.statements_);
        other.statements_.clear();
        call_ = std::move(other.call_);
    }
    return *this;
}

ControlConnection::~ControlConnection() {
    close_statements();
    if (mysql_ != nullptr) mysql_close(mysql_);
}

int ControlConnection::begin_query(std::string_view sql) {
    call_ = std::make_unique<SteppedCall>();
    if (mysql_ == nullptr) {
        call_->finish(not_open());
        return 0;
    }
    call_->sql = std::string(sql);
    call_->phase = SteppedCall::Phase::query;
    return step(0);
}

int ControlConnection::begin_execute_bound(std::string_view sql, const std::vector<BoundParameter>& params) {
    call_ = std::make_unique<SteppedCall>();
    auto& call = *call_;
    if (mysql_ == nullptr) {
        call.finish(not_open());
        return 0;
    }
    call.sql = std::string(sql);
    call.params = params;
    call.stmt = cached_statement(sql);
    if (call.stmt != nullptr) {
        call.bind_then_execute();
        return step(0);
    }
    call.stmt = mysql_stmt_init(mysql_);
    if (call.stmt == nullptr) {
        call.finish(error_result(mysql_));
        return 0;
    }
    call.phase = SteppedCall::Phase::prepare;
    return step(0);
}

int ControlConnection::resume(int happened) { return call_ ? step(happened) : 0; }

QueryResult ControlConnection::take_result() {
    QueryResult result;
    if (call_) result = std::move(call_->result);
    call_.reset();
    return result;
}

int ControlConnection::socket() const { return mysql_ == nullptr ? -1 : static_cast<int>(mysql_get_socket(mysql_)); }

unsigned ControlConnection::timeout_ms() const { return mysql_ == nullptr ? 0 : mysql_get_timeout_value_ms(mysql_); }

int ControlConnection::step(int happened) {
    using Phase = SteppedCall::Phase;
    auto& call = *call_;
    for (;;) {
        int wait = 0;
        const auto length = static_cast<unsigned long>(call.sql.size());
        switch (call.phase) {
            case Phase::query:
                wait = call.waiting ? mysql_real_query_cont(&call.status, mysql_, happened)
                                    : mysql_real_query_start(&call.status, mysql_, call.sql.data(), length);
                break;
            case Phase::store_result:
                wait = call.waiting ? mysql_store_result_cont(&call.stored, mysql_, happened)
                                    : mysql_store_result_start(&call.stored, mysql_);
                break;
            case Phase::prepare:
                wait = call.waiting ? mysql_stmt_prepare_cont(&call.status, call.stmt, happened)
                                    : mysql_stmt_prepare_start(&call.status, call.stmt, call.sql.data(), length);
                break;
            case Phase::execute:
                wait = call.waiting ? mysql_stmt_execute_cont(&call.status, call.stmt, happened)
                                    : mysql_stmt_execute_start(&call.status, call.stmt);
                break;
            case Phase::store_statement_result:
                wait = call.waiting ? mysql_stmt_store_result_cont(&call.status, call.stmt, happened)
                                    : mysql_stmt_store_result_start(&call.status, call.stmt);
                break;
            case Phase::done:
                return 0;
        }
        if (wait != 0) {
            call.waiting = true;
            return wait;
        }
        call.waiting = false;
        happened = 0;
        // The phase is over: what its outcome means, and which phase comes next.
        switch (call.phase) {
            case Phase::query:
                if (call.status != 0) {
                    call.finish(error_result(mysql_));
                } else {
                    call.phase = Phase::store_result;
                }
                break;
            case Phase::store_result:
                call.finish(stored_query_result(mysql_, std::exchange(call.stored, nullptr)));
                break;
            case Phase::prepare:
                if (call.status != 0) {
                    call.finish(statement_error(call.stmt));
                    mysql_stmt_close(call.stmt);
                    call.stmt = nullptr;
                    break;
                }
                keep_statement(call.sql, call.stmt);
                call.bind_then_execute();
                break;
            case Phase::execute:
                if (call.status != 0) {
                    call.finish(statement_error(call.stmt));
                } else {
                    measure_stored_columns(call.stmt);
                    call.phase = Phase::store_statement_result;
                }
                break;
            case Phase::store_statement_result:
                call.finish(call.status != 0 ? statement_error(call.stmt) : stored_statement_rows(call.stmt));
                break;
            case Phase::done:
                break;
        }
    }
}

QueryResult ControlConnection::set_read_committed() {
    return query("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
}

std::string ControlConnection::escape_string(std::string_view value) const {
    std::string out(value.size() * 2 + 1, '\0');
    const auto size = static_cast<unsigned long>(value.size());
    // Without a connection (moved from) there is no character set or sql_mode to follow.
    const unsigned long length = mysql_ == nullptr ? mysql_escape_string(out.data(), value.data(), size)
                                                   : mysql_real_escape_string(mysql_, out.data(), value.data(), size);
    out.resize(length);
    return out;
}

std::string ControlConnection::quote_string(std::string_view value) const {
    return "'" + escape_string(value) + "'";
}

std::string ControlConnection::quote_identifier(std::string_view name) {
    std::string out = "`";
    for (const char c : name) {
        if (c == '`') out += '`';
        out += c;
    }
    out += '`';
    return out;
}

std::string ControlConnection::quote_table(const config::TableName& name) {
    if (name.schema.empty()) return quote_identifier(name.table);
    return quote_identifier(name.schema) + "." + quote_identifier(name.table);
}

std::string ControlConnection::tls_cipher() const {
    const char* cipher = mysql_ == nullptr ? nullptr : mysql_get_ssl_cipher(mysql_);
    return cipher == nullptr ? std::string() : std::string(cipher);
}

}  // namespace uniqgate::proxy
