#pragma once
// YAML -> Config. Errors name the key path and the line, e.g.
//   "uniqgate.yaml:12: rules[0].mode: 'dedupe' is not one of serialize, dedup, observe"

#include "config/Config.hpp"

#include <stdexcept>
#include <string>

namespace uniqgate::config {

class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Throws ConfigError on any unknown key, invalid value or unreadable file.
Config load_config_file(const std::string& path);
Config load_config_string(const std::string& yaml_text, const std::string& source_name = "<string>");

// The effective configuration as YAML (defaults filled in, passwords masked).
std::string describe(const Config& config);

}  // namespace uniqgate::config
