#pragma once
// The validated configuration: plain structs, filled by ConfigLoader from YAML
// (see ../shared/DESIGN.md, "Interface"). Nothing here does I/O.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace uniqgate::config {

struct Endpoint {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;

    friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

struct BackendConfig {
    std::string host = "127.0.0.1";
    std::uint16_t port = 3306;
    std::string unix_socket;  // non-empty: connect here instead of host:port

    friend bool operator==(const BackendConfig&, const BackendConfig&) = default;
};

enum class ClientTlsMode { disabled, preferred, required };
enum class BackendTlsMode { disabled, preferred, required, verify_ca };

struct ClientTlsConfig {
    ClientTlsMode mode = ClientTlsMode::preferred;
    std::string cert;  // empty with mode preferred: a self-signed certificate is made at start-up
    std::string key;

    friend bool operator==(const ClientTlsConfig&, const ClientTlsConfig&) = default;
};

struct BackendTlsConfig {
    BackendTlsMode mode = BackendTlsMode::disabled;
    std::string ca;

    friend bool operator==(const BackendTlsConfig&, const BackendTlsConfig&) = default;
};

struct AdminConfig {
    Endpoint listen{"127.0.0.1", 9307};

    friend bool operator==(const AdminConfig&, const AdminConfig&) = default;
};

struct ControlConfig {
    std::string user = "uniqgate";
    std::string password;      // resolved: from `password:` or from the variable `password_env` names
    std::string password_env;  // as written, for `validate` output

    friend bool operator==(const ControlConfig&, const ControlConfig&) = default;
};

enum class LockBackend { local, mysql };

struct LockConfig {
    LockBackend backend = LockBackend::local;
    std::chrono::milliseconds timeout{5000};

    friend bool operator==(const LockConfig&, const LockConfig&) = default;
};

enum class RuleMode { serialize, dedup, observe };
enum class OnDuplicate { error, ignore, update };
enum class Unsupported { error, passthrough };

struct TableName {
    std::string schema;  // empty: the session's current database
    std::string table;

    friend bool operator==(const TableName&, const TableName&) = default;
};

struct SoftDelete {
    std::string column;
    // The value a live row holds; std::nullopt means "live while the column IS NULL"
    // (deleted_at style). Kept as the YAML scalar's text so it can be quoted into SQL.
    std::optional<std::string> live;

    friend bool operator==(const SoftDelete&, const SoftDelete&) = default;
};

struct Rule {
    std::string name;
    TableName table;
    std::vector<std::string> key;
    SoftDelete soft_delete;
    RuleMode mode = RuleMode::serialize;
    OnDuplicate on_duplicate = OnDuplicate::error;
    TableName dedup_table;  // dedup mode; defaults to <schema>.<table>__uniq
    Unsupported unsupported = Unsupported::error;

    friend bool operator==(const Rule&, const Rule&) = default;
};

struct Config {
    Endpoint listen{"127.0.0.1", 3307};
    BackendConfig backend;
    ClientTlsConfig client_tls;
    BackendTlsConfig backend_tls;
    AdminConfig admin;
    ControlConfig control;
    LockConfig lock;
    std::vector<Rule> rules;

    friend bool operator==(const Config&, const Config&) = default;
};

const char* to_string(ClientTlsMode mode);
const char* to_string(BackendTlsMode mode);
const char* to_string(LockBackend backend);
const char* to_string(RuleMode mode);
const char* to_string(OnDuplicate choice);
const char* to_string(Unsupported choice);

// "host:port", or "[host]:port" when host is an IPv6 address (as `listen:` accepts it).
std::string to_string(const Endpoint& endpoint);
// "schema.table" or "table", each part backtick-quoted when it is not a plain identifier
// (the same form `table:` accepts; e.g. "`my-db`.t").
std::string to_string(const TableName& name);

}  // namespace uniqgate::config
