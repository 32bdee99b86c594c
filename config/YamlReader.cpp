#include "config/YamlReader.hpp"

#include "config/ConfigLoader.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>

namespace uniqgate::config::detail {
namespace {

int line_of(const YAML::Node& node) {
    const YAML::Mark mark = node.Mark();
    return mark.is_null() ? 0 : mark.line + 1;
}

std::string child_path(const std::string& parent, std::string_view key) {
    return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

const char* describe_type(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Map: return "a mapping";
        case YAML::NodeType::Sequence: return "a list";
        case YAML::NodeType::Scalar: return "a scalar";
        default: return "an empty value";
    }
}

std::string join(std::initializer_list<std::string_view> words) {
    std::string joined;
    for (std::string_view word : words) {
        joined += (joined.empty() ? "" : ", ") + std::string(word);
    }
    return joined;
}

}  // namespace

void fail(const Source& source, int line, std::string_view path, std::string_view message) {
    std::string text = source.name + ":";
    if (line > 0) {
        text += std::to_string(line) + ":";
    }
    text += " ";
    if (!path.empty()) {
        text += std::string(path) + ": ";
    }
    throw ConfigError(text + std::string(message));
}

void fail(const Source& source, const Field& field, std::string_view message) {
    fail(source, field.line, field.path, message);
}

MapReader::MapReader(const Source& source, Field field, std::initializer_list<std::string_view> known)
    : source_(source), field_(std::move(field)) {
    if (!field_.node.IsMap()) {
        fail(source_, field_, std::string("expected a mapping, got ") + describe_type(field_.node));
    }
    for (const auto& entry : field_.node) {
        const YAML::Node& key = entry.first;
        const int key_line = line_of(key);
        if (!key.IsScalar()) {
            fail(source_, key_line, field_.path, "keys must be plain names");
        }
        const std::string name = key.Scalar();
        const std::string path = child_path(field_.path, name);
        if (std::find(known.begin(), known.end(), name) == known.end()) {
            fail(source_, key_line, path, "unknown key (expected one of " + join(known) + ")");
        }
        if (find(name)) {
            fail(source_, key_line, path, "repeated key");
        }
        // An empty value's mark points past the key's line; the key's line reads better.
        const YAML::Node& value = entry.second;
        const int line = value.IsNull() || line_of(value) == 0 ? key_line : line_of(value);
        entries_.emplace_back(name, Field{value, path, line});
    }
}

std::optional<Field> MapReader::find(std::string_view key) const {
    for (const auto& [name, field] : entries_) {
        if (name == key) {
            return field;
        }
    }
    return std::nullopt;
}

Field MapReader::require(std::string_view key) const {
    if (auto field = find(key)) {
        return *field;
    }
    fail(source_, field_, "missing required key '" + std::string(key) + "'");
}

std::vector<Field> read_list(const Source& source, const Field& field, EmptyList empty) {
    if (!field.node.IsSequence()) {
        fail(source, field, std::string("expected a list, got ") + describe_type(field.node));
    }
    if (field.node.size() == 0 && empty == EmptyList::refused) {
        fail(source, field, "must not be an empty list");
    }
    std::vector<Field> items;
    for (std::size_t i = 0; i < field.node.size(); ++i) {
        const YAML::Node item = field.node[i];
        const int line = line_of(item) == 0 ? field.line : line_of(item);
        items.push_back(Field{item, field.path + "[" + std::to_string(i) + "]", line});
    }
    return items;
}

std::string read_scalar(const Source& source, const Field& field, std::string_view what) {
    if (!field.node.IsScalar()) {
        fail(source, field, "expected " + std::string(what) + ", got " + describe_type(field.node));
    }
    return field.node.Scalar();
}

std::string read_string(const Source& source, const Field& field) {
    std::string text = read_scalar(source, field);
    if (text.empty()) {
        fail(source, field, "must not be empty");
    }
    return text;
}

std::int64_t read_integer(const Source& source, const Field& field, std::int64_t min, std::int64_t max) {
    const std::string text = read_scalar(source, field, "a number");
    std::int64_t value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, error] = std::from_chars(text.data(), end, value);
    if (error == std::errc::invalid_argument || ptr != end) {
        fail(source, field, "'" + text + "' is not a whole number");
    }
    if (error == std::errc::result_out_of_range || value < min || value > max) {
        fail(source, field,
             "'" + text + "' is out of range " + std::to_string(min) + ".." + std::to_string(max));
    }
    return value;
}

std::uint16_t read_port(const Source& source, const Field& field) {
    return static_cast<std::uint16_t>(read_integer(source, field, 1, 65535));
}

namespace {

// Splits "host:port" or "[ipv6]:port"; returns why not, or nullopt.
std::optional<std::string> split_endpoint(const std::string& text, std::string& host, std::string& port) {
    std::size_t colon = text.rfind(':');
    if (!text.empty() && text.front() == '[') {
        const std::size_t close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            return "write an IPv6 address as \"[::1]:3307\"";
        }
        host = text.substr(1, close - 1);
        colon = close + 1;
    } else if (colon == std::string::npos) {
        return "no ':port'";
    } else {
        host = text.substr(0, colon);
        if (host.find(':') != std::string::npos) {
            return "write an IPv6 address in brackets, e.g. \"[::1]:3307\"";
        }
    }
    if (host.empty() || host.find_first_of(" \t[]") != std::string::npos) {
        return "bad host";
    }
    port = text.substr(colon + 1);
    return std::nullopt;
}

}  // namespace

Endpoint read_endpoint(const Source& source, const Field& field) {
    const std::string text = read_string(source, field);
    std::string host;
    std::string port;
    if (auto why = split_endpoint(text, host, port)) {
        fail(source, field, "'" + text + "' is not host:port (" + *why + ")");
    }
    return Endpoint{host, read_port(source, Field{YAML::Node(port), field.path, field.line})};
}

std::string read_readable_file(const Source& source, const Field& field) {
    std::filesystem::path path = read_string(source, field);
    if (path.is_relative() && !source.base_dir.empty()) {
        path = source.base_dir / path;
    }
    std::error_code ignored;
    if (std::filesystem::is_directory(path, ignored)) {
        fail(source, field, "'" + path.string() + "' is a directory, not a file");
    }
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        fail(source, field, "cannot read '" + path.string() + "': " + std::strerror(errno));
    }
    return path.string();
}

}  // namespace uniqgate::config::detail
