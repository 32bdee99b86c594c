#include "config/ConfigLoader.hpp"

#include "config/RuleLoader.hpp"
#include "config/YamlReader.hpp"

#include <yaml-cpp/depthguard.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace uniqgate::config {
namespace {

using detail::Field;
using detail::MapReader;
using detail::Source;
using detail::fail;

// The longest lock wait accepted: one day. Longer waits are a mistake, not a setting.
constexpr std::int64_t max_timeout_ms = 86'400'000;

BackendConfig read_backend(const Source& source, const Field& field) {
    const MapReader map(source, field, {"host", "port", "unix_socket"});
    BackendConfig backend;
    if (auto socket = map.find("unix_socket")) {
        if (map.find("host") || map.find("port")) {
            fail(source, map.self(), "give either unix_socket or host and port, not both");
        }
        backend.unix_socket = detail::read_string(source, *socket);
        return backend;
    }
    if (auto host = map.find("host")) {
        backend.host = detail::read_string(source, *host);
    }
    if (auto port = map.find("port")) {
        backend.port = detail::read_port(source, *port);
    }
    return backend;
}

// Certificates and keys are only read when TLS can be on.
void refuse_when_disabled(const Source& source, const std::optional<Field>& field, bool disabled) {
    if (field && disabled) {
        fail(source, *field, "is not used when mode is disabled; remove it or choose another mode");
    }
}

ClientTlsConfig read_client_tls(const Source& source, const Field& field) {
    const MapReader map(source, field, {"mode", "cert", "key"});
    ClientTlsConfig tls;
    if (auto mode = map.find("mode")) {
        tls.mode = detail::read_choice(
            source, *mode, {ClientTlsMode::disabled, ClientTlsMode::preferred, ClientTlsMode::required});
    }
    const auto cert = map.find("cert");
    const auto key = map.find("key");
    refuse_when_disabled(source, cert, tls.mode == ClientTlsMode::disabled);
    refuse_when_disabled(source, key, tls.mode == ClientTlsMode::disabled);
    if (cert.has_value() != key.has_value()) {
        fail(source, map.self(), cert ? "cert is given without key" : "key is given without cert");
    }
    if (!cert && tls.mode == ClientTlsMode::required) {
        // Only `preferred` may fall back to a self-signed certificate made at start-up.
        fail(source, map.self(), "mode required needs cert and key");
    }
    if (cert) {
        tls.cert = detail::read_readable_file(source, *cert);
        tls.key = detail::read_readable_file(source, *key);
    }
    return tls;
}

BackendTlsConfig read_backend_tls(const Source& source, const Field& field) {
    const MapReader map(source, field, {"mode", "ca"});
    BackendTlsConfig tls;
    if (auto mode = map.find("mode")) {
        tls.mode = detail::read_choice(source, *mode,
                                       {BackendTlsMode::disabled, BackendTlsMode::preferred,
                                        BackendTlsMode::required, BackendTlsMode::verify_ca});
    }
    const auto ca = map.find("ca");
    refuse_when_disabled(source, ca, tls.mode == BackendTlsMode::disabled);
    if (!ca && tls.mode == BackendTlsMode::verify_ca) {
        fail(source, map.self(), "mode verify_ca needs ca");
    }
    if (ca) {
        tls.ca = detail::read_readable_file(source, *ca);
    }
    return tls;
}

AdminConfig read_admin(const Source& source, const Field& field) {
    const MapReader map(source, field, {"listen"});
    AdminConfig admin;
    if (auto listen = map.find("listen")) {
        admin.listen = detail::read_endpoint(source, *listen);
    }
    return admin;
}

ControlConfig read_control(const Source& source, const Field& field) {
    const MapReader map(source, field, {"user", "password", "password_env"});
    ControlConfig control;
    if (auto user = map.find("user")) {
        control.user = detail::read_string(source, *user);
    }
    const auto password = map.find("password");
    const auto password_env = map.find("password_env");
    if (password && password_env) {
        fail(source, map.self(), "give either password or password_env, not both");
    }
    if (password) {
        control.password = detail::read_scalar(source, *password);
    }
    if (password_env) {
        control.password_env = detail::read_string(source, *password_env);
        const char* value = std::getenv(control.password_env.c_str());
        if (value == nullptr) {
            fail(source, *password_env, "environment variable '" + control.password_env + "' is not set");
        }
        control.password = value;
    }
    return control;
}

LockConfig read_lock(const Source& source, const Field& field) {
    const MapReader map(source, field, {"backend", "timeout_ms"});
    LockConfig lock;
    if (auto backend = map.find("backend")) {
        lock.backend = detail::read_choice(source, *backend, {LockBackend::local, LockBackend::mysql});
    }
    if (auto timeout = map.find("timeout_ms")) {
        lock.timeout = std::chrono::milliseconds(detail::read_integer(source, *timeout, 1, max_timeout_ms));
    }
    return lock;
}

// Reads an optional section with `read` when present.
template <class T, class Read>
void read_section(const Source& source, const MapReader& map, std::string_view key, T& out, Read read) {
    if (auto field = map.find(key)) {
        out = read(source, *field);
    }
}

Config read_config(const Source& source, const Field& root) {
    const MapReader map(source, root,
                        {"listen", "backend", "client_tls", "backend_tls", "admin", "control", "lock", "rules"});
    Config config;
    read_section(source, map, "listen", config.listen, detail::read_endpoint);
    read_section(source, map, "backend", config.backend, read_backend);
    read_section(source, map, "client_tls", config.client_tls, read_client_tls);
    read_section(source, map, "backend_tls", config.backend_tls, read_backend_tls);
    read_section(source, map, "admin", config.admin, read_admin);
    read_section(source, map, "control", config.control, read_control);
    read_section(source, map, "lock", config.lock, read_lock);
    read_section(source, map, "rules", config.rules, detail::read_rules);
    return config;
}

std::vector<YAML::Node> parse_yaml(const std::string& text, const Source& source) {
    try {
        return YAML::LoadAll(text);
    } catch (const YAML::DeepRecursion& error) {
        fail(source, error.mark.line + 1, "", "invalid YAML: nested too deeply");
    } catch (const YAML::ParserException& error) {
        fail(source, error.mark.line + 1, "",
             "invalid YAML: " + error.msg + " (column " + std::to_string(error.mark.column + 1) + ")");
    }
}

Config load(const std::string& text, const Source& source) {
    const std::vector<YAML::Node> documents = parse_yaml(text, source);
    if (documents.empty() || documents.front().IsNull()) {
        fail(source, 1, "", "the configuration is empty; expected a mapping of settings such as 'backend:'");
    }
    if (documents.size() > 1) {
        fail(source, documents[1].Mark().line + 1, "", "expected one YAML document, found several ('---')");
    }
    try {
        return read_config(source, Field{documents.front(), "", documents.front().Mark().line + 1});
    } catch (const YAML::Exception& error) {
        // Not expected: the readers check node types first. Still a ConfigError, never a crash.
        fail(source, error.mark.line + 1, "", error.msg);
    }
}

}  // namespace

Config load_config_string(const std::string& yaml_text, const std::string& source_name) {
    return load(yaml_text, Source{source_name, {}});
}

Config load_config_file(const std::string& path) {
    std::error_code ignored;
    if (std::filesystem::is_directory(path, ignored)) {
        throw ConfigError(path + ": is a directory, not a configuration file");
    }
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        throw ConfigError(path + ": cannot read the configuration file: " + std::strerror(errno));
    }
    std::ostringstream text;
    text << file.rdbuf();
    if (file.bad()) {
        throw ConfigError(path + ": cannot read the configuration file");
    }
    return load(text.str(), Source{path, std::filesystem::path(path).parent_path()});
}

}  // namespace uniqgate::config
