#include "config/Identifier.hpp"

#include <algorithm>

namespace uniqgate::config::detail {
namespace {

// Characters MySQL accepts in an unquoted identifier: [0-9A-Za-z$_] and any non-ASCII
// (UTF-8) byte.
bool is_plain_char(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           c == '$' || c >= 0x80;
}

bool all_digits(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](unsigned char c) { return c >= '0' && c <= '9'; });
}

// Reads one identifier starting at `pos`, leaving `pos` just after it.
std::optional<std::string> read_part(std::string_view text, std::size_t& pos, std::string& out) {
    out.clear();
    if (pos < text.size() && text[pos] == '`') {
        for (++pos; pos < text.size(); ++pos) {
            if (text[pos] != '`') {
                out += text[pos];
            } else if (pos + 1 < text.size() && text[pos + 1] == '`') {
                out += '`';  // `` inside quotes is one backtick
                ++pos;
            } else {
                ++pos;
                return out.empty() ? std::optional<std::string>("empty name ``") : check_identifier_length(out);
            }
        }
        return "unterminated backtick quote";
    }
    const std::size_t begin = pos;
    while (pos < text.size() && is_plain_char(static_cast<unsigned char>(text[pos]))) {
        ++pos;
    }
    out = text.substr(begin, pos - begin);
    if (out.empty()) {
        if (pos < text.size() && text[pos] != '.') {
            return std::string("unexpected '") + text[pos] + "'; quote such names with backticks";
        }
        return "empty name";
    }
    if (all_digits(out)) {
        return "a name made only of digits must be quoted with backticks";
    }
    return check_identifier_length(out);
}

std::optional<std::string> unexpected_at(std::string_view text, std::size_t pos) {
    return std::string("unexpected '") + text[pos] + "' after a name; quote such names with backticks";
}

}  // namespace

std::optional<std::string> check_identifier_length(std::string_view name) {
    // Count UTF-8 characters: every byte except continuation bytes (10xxxxxx) starts one.
    const auto chars = std::count_if(name.begin(), name.end(),
                                     [](unsigned char c) { return (c & 0xC0) != 0x80; });
    if (static_cast<std::size_t>(chars) > max_identifier_length) {
        // Built step by step: GCC 12 -O3 reports a false -Wrestrict on the chained form.
        std::string message = "'";
        message += name;
        message += "' is longer than 64 characters";
        return message;
    }
    return std::nullopt;
}

std::optional<std::string> parse_identifier(std::string_view text, std::string& out) {
    std::size_t pos = 0;
    if (auto error = read_part(text, pos, out)) {
        return error;
    }
    if (pos != text.size()) {
        return unexpected_at(text, pos);
    }
    return std::nullopt;
}

std::optional<std::string> parse_table_name(std::string_view text, TableName& out) {
    std::size_t pos = 0;
    std::string first;
    if (auto error = read_part(text, pos, first)) {
        return error;
    }
    if (pos == text.size()) {
        out = TableName{"", first};
        return std::nullopt;
    }
    if (text[pos] != '.') {
        return unexpected_at(text, pos);
    }
    ++pos;
    std::string second;
    if (auto error = read_part(text, pos, second)) {
        return error;
    }
    if (pos != text.size()) {
        return text[pos] == '.' ? std::optional<std::string>("expected schema.table or table, not more parts")
                                : unexpected_at(text, pos);
    }
    out = TableName{first, second};
    return std::nullopt;
}

bool is_plain_identifier(std::string_view name) {
    return !name.empty() && !all_digits(name) &&
           std::all_of(name.begin(), name.end(), [](unsigned char c) { return is_plain_char(c); });
}

std::string quote_identifier(std::string_view name) {
    if (is_plain_identifier(name)) {
        return std::string(name);
    }
    std::string quoted = "`";
    for (char c : name) {
        quoted += c;
        if (c == '`') {
            quoted += '`';
        }
    }
    return quoted + "`";
}

}  // namespace uniqgate::config::detail
