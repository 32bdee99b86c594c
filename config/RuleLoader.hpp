#pragma once
// Internal to config/: the `rules:` list.

#include "config/Config.hpp"
#include "config/YamlReader.hpp"

#include <vector>

namespace uniqgate::config::detail {

std::vector<Rule> read_rules(const Source& source, const Field& field);

}  // namespace uniqgate::config::detail
