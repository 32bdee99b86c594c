#include "proxy/ControlConnection.hpp"

#include <mysql.h>

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

ControlConnection ControlConnection::connect(const config::Config& config) {
    init_library_once();
    std::string endpoint = endpoint_text(config.backend);
    MYSQL* mysql = mysql_init(nullptr);
    if (mysql == nullptr) throw ControlConnectionError(connect_error(endpoint, config.control.user, "out of memory"));
    set_connect_options(mysql, config);
    if (real_connect(mysql, config) == nullptr) {
        const std::string reason = std::string(mysql_error(mysql)) + " (" + std::to_string(mysql_errno(mysql)) + ")";
        mysql_close(mysql);
        throw ControlConnectionError(connect_error(endpoint, config.control.user, reason));
    }
    ControlConnection connection(mysql, std::move(endpoint));
    if (tls_required(config.backend_tls) && connection.tls_cipher().empty()) {
        throw ControlConnectionError(connect_error(connection.endpoint_, config.control.user,
                                                   std::string("backend_tls.mode is ") +
                                                       config::to_string(config.backend_tls.mode) +
                                                       " but the server did not use TLS"));
    }
    return connection;
}

ControlConnection::ControlConnection(st_mysql* mysql, std::string endpoint)
    : mysql_(mysql), endpoint_(std::move(endpoint)) {}

ControlConnection::ControlConnection(ControlConnection&& other) noexcept
    : mysql_(std::exchange(other.mysql_, nullptr)),
      endpoint_(std::move(other.endpoint_)),
      statements_(std::move(other.statements_)) {
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
    }
    return *this;
}

ControlConnection::~ControlConnection() {
    close_statements();
    if (mysql_ != nullptr) mysql_close(mysql_);
}

void ControlConnection::close_statements() noexcept {
    for (auto& [sql, stmt] : statements_) mysql_stmt_close(stmt);
    statements_.clear();
}

QueryResult ControlConnection::query(std::string_view sql) {
    if (mysql_ == nullptr) {
        QueryResult result;
        result.error_code = 2006;  // CR_SERVER_GONE_ERROR: the closest client error for "no connection"
        result.sqlstate = "HY000";
        result.message = "control connection is not open (moved from)";
        return result;
    }
    if (mysql_real_query(mysql_, sql.data(), static_cast<unsigned long>(sql.size())) != 0) return error_result(mysql_);
    std::unique_ptr<MYSQL_RES, FreeResult> res(mysql_store_result(mysql_));
    QueryResult result;
    if (res == nullptr) {
        // No result set: fine for statements without one, an error for a failed read.
        if (mysql_field_count(mysql_) != 0) return error_result(mysql_);
        result.affected_rows = mysql_affected_rows(mysql_);
        if (const char* info = mysql_info(mysql_)) result.info = info;
    } else {
        result.rows = read_rows(res.get());
    }
    result.ok = true;
    return result;
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

MYSQL_STMT* ControlConnection::prepared(std::string_view sql, QueryResult& failure) {
    for (const auto& [text, stmt] : statements_) {
        if (text == sql) return stmt;
    }
    if (statements_.size() >= kMaxStatements) close_statements();
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
    statements_.emplace_back(std::string(sql), stmt);
    return stmt;
}

QueryResult ControlConnection::execute_bound(std::string_view sql, const std::vector<BoundParameter>& params) {
    QueryResult result;
    if (mysql_ == nullptr) return query(sql);  // the "not open" error
    MYSQL_STMT* stmt = prepared(sql, result);
    if (stmt == nullptr) return result;
    if (mysql_stmt_param_count(stmt) != params.size()) {
        result.error_code = 1210;  // ER_WRONG_ARGUMENTS, as the server would answer
        result.sqlstate = "HY000";
        result.message = "uniqgate: " + std::to_string(params.size()) + " values for " +
                         std::to_string(mysql_stmt_param_count(stmt)) + " parameters";
        return result;
    }
    std::vector<MYSQL_BIND> binds(params.size());
    std::vector<MYSQL_TIME> times(params.size());
    std::vector<unsigned long> lengths(params.size());
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
    if (mysql_stmt_bind_param(stmt, binds.data()) != 0 || mysql_stmt_execute(stmt) != 0) return statement_error(stmt);
    const my_bool update_max_length = 1;
    mysql_stmt_attr_set(stmt, STMT_ATTR_UPDATE_MAX_LENGTH, &update_max_length);
    if (mysql_stmt_store_result(stmt) != 0) return statement_error(stmt);
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
