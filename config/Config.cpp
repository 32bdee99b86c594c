#include "config/Config.hpp"

#include "config/Identifier.hpp"

namespace uniqgate::config {

const char* to_string(ClientTlsMode mode) {
    switch (mode) {
        case ClientTlsMode::disabled: return "disabled";
        case ClientTlsMode::preferred: return "preferred";
        case ClientTlsMode::required: return "required";
    }
    return "?";
}

const char* to_string(BackendTlsMode mode) {
    switch (mode) {
        case BackendTlsMode::disabled: return "disabled";
        case BackendTlsMode::preferred: return "preferred";
        case BackendTlsMode::required: return "required";
        case BackendTlsMode::verify_ca: return "verify_ca";
    }
    return "?";
}

const char* to_string(LockBackend backend) {
    switch (backend) {
        case LockBackend::local: return "local";
        case LockBackend::mysql: return "mysql";
    }
    return "?";
}

const char* to_string(RuleMode mode) {
    switch (mode) {
        case RuleMode::serialize: return "serialize";
        case RuleMode::dedup: return "dedup";
        case RuleMode::observe: return "observe";
    }
    return "?";
}

const char* to_string(OnDuplicate choice) {
    switch (choice) {
        case OnDuplicate::error: return "error";
        case OnDuplicate::ignore: return "ignore";
        case OnDuplicate::update: return "update";
    }
    return "?";
}

const char* to_string(Unsupported choice) {
    switch (choice) {
        case Unsupported::error: return "error";
        case Unsupported::passthrough: return "passthrough";
    }
    return "?";
}

std::string to_string(const Endpoint& endpoint) {
    const bool ipv6 = endpoint.host.find(':') != std::string::npos;
    const std::string host = ipv6 ? "[" + endpoint.host + "]" : endpoint.host;
    return host + ":" + std::to_string(endpoint.port);
}

std::string to_string(const TableName& name) {
    const std::string table = detail::quote_identifier(name.table);
    return name.schema.empty() ? table : detail::quote_identifier(name.schema) + "." + table;
}

}  // namespace uniqgate::config
