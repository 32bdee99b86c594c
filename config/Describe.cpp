// describe(): the effective configuration as YAML, for `uniqgate validate`. The output
// loads back to an equal Config (apart from a written password, which shows as "***").

#include "config/ConfigLoader.hpp"
#include "config/Identifier.hpp"

#include <yaml-cpp/yaml.h>

namespace uniqgate::config {
namespace {

constexpr const char* masked_password = "***";

void emit_backend(YAML::Emitter& out, const BackendConfig& backend) {
    out << YAML::Key << "backend" << YAML::Value << YAML::BeginMap;
    if (!backend.unix_socket.empty()) {
        out << YAML::Key << "unix_socket" << YAML::Value << backend.unix_socket;
    } else {
        out << YAML::Key << "host" << YAML::Value << backend.host;
        out << YAML::Key << "port" << YAML::Value << backend.port;
    }
    out << YAML::EndMap;
}

void emit_tls(YAML::Emitter& out, const ClientTlsConfig& client, const BackendTlsConfig& backend) {
    out << YAML::Key << "client_tls" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "mode" << YAML::Value << to_string(client.mode);
    if (!client.cert.empty()) {
        out << YAML::Key << "cert" << YAML::Value << client.cert;
        out << YAML::Key << "key" << YAML::Value << client.key;
    }
    out << YAML::EndMap;
    out << YAML::Key << "backend_tls" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "mode" << YAML::Value << to_string(backend.mode);
    if (!backend.ca.empty()) {
        out << YAML::Key << "ca" << YAML::Value << backend.ca;
    }
    out << YAML::EndMap;
}

void emit_control(YAML::Emitter& out, const ControlConfig& control) {
    out << YAML::Key << "control" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "user" << YAML::Value << control.user;
    if (!control.password_env.empty()) {
        out << YAML::Key << "password_env" << YAML::Value << control.password_env;
    } else if (!control.password.empty()) {
        out << YAML::Key << "password" << YAML::Value << masked_password;
    }
    out << YAML::EndMap;
}

void emit_lock(YAML::Emitter& out, const LockConfig& lock) {
    out << YAML::Key << "lock" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "backend" << YAML::Value << to_string(lock.backend);
    out << YAML::Key << "timeout_ms" << YAML::Value << lock.timeout.count();
    out << YAML::EndMap;
}

void emit_soft_delete(YAML::Emitter& out, const SoftDelete& soft_delete) {
    out << YAML::Key << "soft_delete" << YAML::Value << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "column" << YAML::Value << detail::quote_identifier(soft_delete.column);
    out << YAML::Key << "live" << YAML::Value;
    if (soft_delete.live) {
        out << *soft_delete.live;  // the emitter quotes text that would read back as null
    } else {
        out << YAML::Null;
    }
    out << YAML::EndMap;
}

void emit_rule(YAML::Emitter& out, const Rule& rule) {
    out << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << rule.name;
    out << YAML::Key << "table" << YAML::Value << to_string(rule.table);
    out << YAML::Key << "key" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const std::string& column : rule.key) {
        out << detail::quote_identifier(column);
    }
    out << YAML::EndSeq;
    emit_soft_delete(out, rule.soft_delete);
    out << YAML::Key << "mode" << YAML::Value << to_string(rule.mode);
    out << YAML::Key << "on_duplicate" << YAML::Value << to_string(rule.on_duplicate);
    if (rule.mode == RuleMode::dedup) {
        out << YAML::Key << "dedup_table" << YAML::Value << to_string(rule.dedup_table);
    }
    out << YAML::Key << "unsupported" << YAML::Value << to_string(rule.unsupported);
    out << YAML::EndMap;
}

}  // namespace

std::string describe(const Config& config) {
    YAML::Emitter out;
    out << YAML::Comment("effective configuration: defaults filled in, passwords masked");
    out << YAML::BeginMap;
    out << YAML::Key << "listen" << YAML::Value << to_string(config.listen);
    emit_backend(out, config.backend);
    emit_tls(out, config.client_tls, config.backend_tls);
    out << YAML::Key << "admin" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "listen" << YAML::Value << to_string(config.admin.listen) << YAML::EndMap;
    emit_control(out, config.control);
    emit_lock(out, config.lock);
    out << YAML::Key << "rules" << YAML::Value;
    if (config.rules.empty()) {
        out << YAML::Flow;  // "rules: []" on one line
    }
    out << YAML::BeginSeq;
    for (const Rule& rule : config.rules) {
        emit_rule(out, rule);
    }
    out << YAML::EndSeq << YAML::EndMap;
    return std::string(out.c_str()) + "\n";
}

}  // namespace uniqgate::config
