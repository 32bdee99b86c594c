#include "rules/KeyIdentity.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>

namespace uniqgate::rules {
namespace {

// Exponents beyond this are out of range for every MySQL numeric type (DECIMAL has 65
// digits, DOUBLE ~1e308); such literals are refused rather than expanded.
constexpr int max_exponent = 400;

struct DecimalParts {
    bool negative = false;
    std::string digits;  // all significant digits, integer part first
    int point = 0;       // digits before the decimal point (may be < 0 or > digits.size())
};

std::optional<DecimalParts> parse_decimal(std::string_view text) {
    DecimalParts parts;
    std::size_t i = 0;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) parts.negative = text[i++] == '-';
    bool any_digit = false;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, any_digit = true) parts.digits += text[i];
    parts.point = static_cast<int>(parts.digits.size());
    if (i < text.size() && text[i] == '.') {
        for (++i; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, any_digit = true) parts.digits += text[i];
    }
    if (!any_digit) return std::nullopt;
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        bool negative_exponent = false;
        if (i < text.size() && (text[i] == '-' || text[i] == '+')) negative_exponent = text[i++] == '-';
        int exponent = 0;
        bool exponent_digits = false;
        for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, exponent_digits = true) {
            exponent = exponent * 10 + (text[i] - '0');
            if (exponent > max_exponent) return std::nullopt;
        }
        if (!exponent_digits) return std::nullopt;
        parts.point += negative_exponent ? -exponent : exponent;
    }
    if (i != text.size() || parts.digits.size() > static_cast<std::size_t>(max_exponent)) return std::nullopt;
    return parts;
}

// Rounds the digits to `scale` fractional digits, half away from zero.
void round_to_scale(DecimalParts& parts, int scale) {
    const int keep = parts.point + scale;
    if (keep < 0) {
        parts.digits.clear();
        return;
    }
    if (static_cast<std::size_t>(keep) >= parts.digits.size()) return;
    const bool round_up = parts.digits[static_cast<std::size_t>(keep)] >= '5';
    parts.digits.resize(static_cast<std::size_t>(keep));
    if (!round_up) return;
    for (std::size_t i = parts.digits.size(); i-- > 0;) {
        if (parts.digits[i] != '9') {
            ++parts.digits[i];
            return;
        }
        parts.digits[i] = '0';
    }
    parts.digits.insert(parts.digits.begin(), '1');  // 9.9 -> 10
    ++parts.point;
}

std::string format_decimal(const DecimalParts& parts) {
    std::string integer;
    std::string fraction;
    for (int i = std::min(parts.point, 0); i < static_cast<int>(parts.digits.size()) || i < parts.point; ++i) {
        const char digit = i >= 0 && i < static_cast<int>(parts.digits.size()) ? parts.digits[static_cast<std::size_t>(i)] : '0';
        (i < parts.point ? integer : fraction) += digit;
    }
    integer.erase(0, std::min(integer.find_first_not_of('0'), integer.size()));
    fraction.erase(fraction.find_last_not_of('0') + 1);
    std::string out;
    if (parts.negative && !(integer.empty() && fraction.empty())) out += '-';
    out += integer.empty() ? std::string_view("0") : std::string_view(integer);
    if (!fraction.empty()) {
        out += '.';
        out += fraction;
    }
    return out;
}

// "<length>:" into `prefix`; returns its length.
std::size_t length_prefix(char (&prefix)[24], std::size_t length) noexcept {
    char* end = std::to_chars(prefix, prefix + sizeof prefix - 1, length).ptr;  // 23 digits hold any size_t
    *end++ = ':';
    return static_cast<std::size_t>(end - prefix);
}

void append_part(std::string& out, std::string_view part) {
    char prefix[24];
    out.append(prefix, length_prefix(prefix, part.size()));
    out += part;
}

// A text value's part: its collation key, built in place. The key usually has the
// value's length (ASCII without trailing spaces): that prefix goes first and is fixed
// in the rare other case, rather than building the key in a temporary.
void append_text_part(std::string& out, std::string_view bytes, Charset charset, const CollationTraits& traits) {
    char prefix[24];
    const std::size_t guessed_size = length_prefix(prefix, bytes.size());
    out.append(prefix, guessed_size);
    const std::size_t begin = out.size();
    append_collation_key(out, bytes, charset, traits);
    if (out.size() - begin != bytes.size()) {
        const std::string key = out.substr(begin);
        out.resize(begin - guessed_size);
        append_part(out, key);
    }
}

std::optional<std::string> bytes_as_number(std::string_view bytes) {
    std::string_view significant = bytes;
    while (!significant.empty() && significant.front() == '\0') significant.remove_prefix(1);
    if (significant.size() > 8) return std::nullopt;
    std::uint64_t value = 0;
    for (const char c : significant) value = (value << 8) | static_cast<unsigned char>(c);
    return std::to_string(value);
}

bool append_numeric_identity(std::string& out, const Literal& value, const ColumnInfo& column, std::string& reason) {
    const int scale = column.type == ColumnType::integer ? 0 : column.type == ColumnType::decimal ? column.numeric_scale : -1;
    std::optional<std::string> number;
    if (value.kind == LiteralKind::bytes) {
        number = bytes_as_number(value.value);
    } else {
        std::string_view text = value.value;
        if (value.kind == LiteralKind::string) {
            // Strings convert with surrounding spaces ignored; anything else warns or fails.
            const auto first = text.find_first_not_of(" \t\n\r");
            text = first == std::string_view::npos ? std::string_view{} : text.substr(first, text.find_last_not_of(" \t\n\r") - first + 1);
        }
        number = canonical_number(text, scale);
    }
    if (!number) {
        reason = "value is not a number for column '" + column.name + "'";
        return false;
    }
    append_part(out, *number);
    return true;
}

// A plain integer without leading zeros ("42", "-7", "+3", "0") is already canonical at
// every scale: the common key value skips parsing and formatting.
std::optional<std::string> plain_integer(std::string_view text) {
    std::string_view digits = text;
    if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) digits.remove_prefix(1);
    if (text == "0") return std::string(text);
    if (digits.empty() || digits.size() > 20 || digits[0] == '0') return std::nullopt;  // "-0", "007": the slow path
    for (const char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
    }
    return std::string(text[0] == '+' ? digits : text);
}

CollationTraits parse_collation_traits(std::string_view collation) noexcept {
    CollationTraits traits;
    // Collation names are at most 64 ASCII characters; lower-casing into a local buffer
    // keeps this allocation-free, as it runs once per key value.
    char buffer[64];
    if (collation.empty() || collation.size() > sizeof buffer) {
        traits.case_insensitive = traits.accent_insensitive = true;
        return traits;
    }
    for (std::size_t i = 0; i < collation.size(); ++i) {
        const char c = collation[i];
        buffer[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    }
    const std::string_view name(buffer, collation.size());
    const auto has = [name](std::string_view part) { return name.find(part) != std::string_view::npos; };
    traits.pad_space = !(name == "binary" || has("_0900_") || has("nopad"));
    if (name.ends_with("_ci")) {
        traits.case_insensitive = true;
        traits.accent_insensitive = !has("_as_");
        traits.supplementary_chars_equal = (has("general") || has("unicode_ci") || has("unicode_nopad_ci")) && name.starts_with("utf8mb4");
        traits.sharp_s_is_ss = !has("general");
        traits.swedish = has("swedish");
    } else if (!name.ends_with("_bin") && !name.ends_with("_cs") && name != "binary") {
        traits.case_insensitive = traits.accent_insensitive = true;  // unknown: broadest equality
    }
    return traits;
}

}  // namespace

CollationTraits collation_traits(std::string_view collation) noexcept {
    // Every INSERT plan asks again for the same few collations (its key columns'), and a
    // name takes a dozen substring searches to read: the last few answers are kept per thread.
    struct Remembered {
        std::array<char, 64> name{};
        std::size_t size = 0;
        CollationTraits traits{};
    };
    thread_local std::array<Remembered, 4> remembered{};
    thread_local std::size_t next_slot = 0;
    if (collation.empty() || collation.size() > remembered[0].name.size()) return parse_collation_traits(collation);
    for (const Remembered& entry : remembered) {
        if (entry.size == collation.size() && std::memcmp(entry.name.data(), collation.data(), collation.size()) == 0) {
            return entry.traits;
        }
    }
    Remembered& entry = remembered[next_slot];
    next_slot = (next_slot + 1) % remembered.size();
    std::memcpy(entry.name.data(), collation.data(), collation.size());
    entry.size = collation.size();
    entry.traits = parse_collation_traits(collation);
    return entry.traits;
}

std::optional<std::string> canonical_number(std::string_view text, int scale) {
    if (std::optional<std::string> integer = plain_integer(text)) return integer;
    std::optional<DecimalParts> parts = parse_decimal(text);
    if (!parts) return std::nullopt;
    if (scale >= 0) round_to_scale(*parts, scale);
    return format_decimal(*parts);
}

bool append_key_identity(std::string& out, const Literal& value, const ColumnInfo& column, std::string& reason) {
    return append_key_identity(out, value, column, collation_traits(column.type == ColumnType::text ? column.collation : ""), reason);
}

bool append_key_identity(std::string& out, const Literal& value, const ColumnInfo& column, const CollationTraits& traits,
                         std::string& reason) {
    switch (column.type) {
    case ColumnType::integer:
    case ColumnType::decimal:
    case ColumnType::floating:
        return append_numeric_identity(out, value, column, reason);
    case ColumnType::text:
        if (value.kind == LiteralKind::number) {
            // A number stored into a text column is its text (approximation: 1e3 stays "1e3").
            std::string_view text = value.value;
            if (text.starts_with('+')) text.remove_prefix(1);
            append_text_part(out, text, Charset::utf8, traits);
        } else {
            append_text_part(out, value.value, value.charset, traits);
        }
        return true;
    case ColumnType::temporal: {
        // Compared as trimmed text: '2024-01-01' and '2024-01-01 00:00:00' stay distinct.
        std::string_view text = value.value;
        while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
        append_part(out, text);
        return true;
    }
    case ColumnType::binary:
    case ColumnType::other:
        append_part(out, value.value);
        return true;
    }
    return true;
}

}  // namespace uniqgate::rules
