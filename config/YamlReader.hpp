#pragma once
// Internal to config/: reading a yaml-cpp tree so that every error names the file, the
// line and the key path, as in "uniqgate.yaml:12: rules[0].mode: 'dedupe' is not one of ...".

#include "config/Config.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace uniqgate::config::detail {

struct Source {
    std::string name;                // the file name as given, or "<string>"
    std::filesystem::path base_dir;  // relative file paths in the config are resolved against it
};

// A node of the tree with its key path ("rules[0].mode") and 1-based line (0: unknown).
struct Field {
    YAML::Node node;
    std::string path;
    int line = 0;
};

// Throws ConfigError "<source>:<line>: <path>: <message>".
[[noreturn]] void fail(const Source& source, int line, std::string_view path, std::string_view message);
[[noreturn]] void fail(const Source& source, const Field& field, std::string_view message);

// A mapping whose keys must come from a fixed list; unknown and repeated keys are errors.
class MapReader {
public:
    MapReader(const Source& source, Field field, std::initializer_list<std::string_view> known);

    std::optional<Field> find(std::string_view key) const;
    Field require(std::string_view key) const;  // missing: an error at the mapping
    const Field& self() const { return field_; }

private:
    const Source& source_;
    Field field_;
    std::vector<std::pair<std::string, Field>> entries_;
};

// A list; its items have paths "<path>[i]".
enum class EmptyList { allowed, refused };
std::vector<Field> read_list(const Source& source, const Field& field, EmptyList empty);
// A scalar's text; `what` names the expected value in the error ("a string", "a number").
std::string read_scalar(const Source& source, const Field& field, std::string_view what = "a string");
// A non-empty scalar.
std::string read_string(const Source& source, const Field& field);
std::int64_t read_integer(const Source& source, const Field& field, std::int64_t min, std::int64_t max);
std::uint16_t read_port(const Source& source, const Field& field);
// "host:port" or "[ipv6]:port".
Endpoint read_endpoint(const Source& source, const Field& field);
// A path to a file that can be read now; relative paths are resolved against base_dir.
std::string read_readable_file(const Source& source, const Field& field);

// "'x' is not one of a, b, c" unless the text is the to_string() of one of `values`.
template <class Enum>
Enum read_choice(const Source& source, const Field& field, std::initializer_list<Enum> values) {
    const std::string text = read_scalar(source, field);
    std::string names;
    for (Enum value : values) {
        if (text == to_string(value)) {
            return value;
        }
        names += (names.empty() ? "" : ", ") + std::string(to_string(value));
    }
    fail(source, field, "'" + text + "' is not one of " + names);
}

}  // namespace uniqgate::config::detail
