#include "proxy/PreparedWrites.hpp"

#include "protocol/BoundValueText.hpp"

#include <array>
#include <bit>
#include <cmath>
#include <optional>

namespace uniqgate::proxy {

namespace {

// Well-formed UTF-8 (shortest forms, no surrogates, at most U+10FFFF).
bool is_valid_utf8(protocol::ByteView bytes) {
    std::size_t i = 0;
    while (i < bytes.size()) {
        const std::uint8_t lead = bytes[i];
        std::size_t length = 0;
        std::uint32_t code = 0;
        if (lead < 0x80) {
            ++i;
            continue;
        }
        if ((lead & 0xe0) == 0xc0) {
            length = 2;
            code = lead & 0x1fU;
        } else if ((lead & 0xf0) == 0xe0) {
            length = 3;
            code = lead & 0x0fU;
        } else if ((lead & 0xf8) == 0xf0) {
            length = 4;
            code = lead & 0x07U;
        } else {
            return false;
        }
        if (i + length > bytes.size()) return false;
        for (std::size_t k = 1; k < length; ++k) {
            if ((bytes[i + k] & 0xc0) != 0x80) return false;
            code = (code << 6) | (bytes[i + k] & 0x3fU);
        }
        static constexpr std::uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
        if (code < kSmallest[length] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return false;
        i += length;
    }
    return true;
}

// A bound FLOAT or DOUBLE whose value is a whole number from 0 to 2^53.
std::optional<std::uint64_t> integral_double(protocol::ParamType type, protocol::ByteView bytes) {
    double value = 0;
    if (type.type == protocol::field_type::double_type && bytes.size() == sizeof(double)) {
        std::uint64_t bits = 0;
        for (std::size_t i = 0; i < sizeof bits; ++i) bits |= static_cast<std::uint64_t>(bytes[i]) << (8 * i);
        value = std::bit_cast<double>(bits);
    } else if (type.type == protocol::field_type::float_type && bytes.size() == sizeof(float)) {
        std::uint32_t bits = 0;
        for (std::size_t i = 0; i < sizeof bits; ++i) bits |= static_cast<std::uint32_t>(bytes[i]) << (8 * i);
        value = static_cast<double>(std::bit_cast<float>(bits));
    } else {
        return std::nullopt;
    }
    constexpr double kExactIntegers = 9007199254740992.0;  // 2^53
    if (!(value >= 0 && value <= kExactIntegers) || std::floor(value) != value) return std::nullopt;
    return static_cast<std::uint64_t>(value);
}

bool is_utf8_charset(std::string_view charset) { return charset == "utf8mb4" || charset == "utf8" || charset == "utf8mb3"; }

}  // namespace

std::vector<rules::Span> find_placeholders(std::string_view sql, const rules::LexOptions& options,
                                           std::vector<bool>* row_counts) {
    std::vector<rules::Span> spans;
    rules::Lexer lexer(sql, options);
    std::array<rules::Token, 3> before{};  // the three tokens before this one, nearest first
    for (rules::Token token = lexer.next(); token.kind != rules::TokenKind::end; token = lexer.next()) {
        if (token.kind == rules::TokenKind::placeholder) {
            const auto begin = static_cast<std::uint32_t>(token.text.data() - sql.data());
            spans.push_back({begin, begin + static_cast<std::uint32_t>(token.text.size())});
            // LIMIT ?, LIMIT ? OFFSET ?, LIMIT n, ?
            const bool count_after_comma = before[0].is_punct(',') && before[2].is_keyword("LIMIT") &&
                                           (before[1].is(rules::TokenKind::placeholder) ||
                                            before[1].is(rules::TokenKind::number));
            if (row_counts != nullptr) {
                row_counts->push_back(before[0].is_keyword("LIMIT") || before[0].is_keyword("OFFSET") ||
                                      count_after_comma);
            }
        }
        before = {token, before[0], before[1]};
    }
    return spans;
}

namespace {

// One bound value as a literal: see bind_as_text.
protocol::Result<std::string> bound_literal(const PreparedWrite& write, std::size_t index, protocol::ParamType type,
                                            protocol::ParamValue value, std::string_view charset) {
    using Kind = protocol::ParamValue::Kind;
    if (value.kind == Kind::default_value || value.kind == Kind::ignore) return std::string("DEFAULT");
    if (value.kind == Kind::long_data) {
        const bool sent = index < write.has_long_data.size() && write.has_long_data[index];
        value = protocol::ParamValue::of(sent ? std::string_view(write.long_data[index]) : std::string_view());
    }
    const bool row_count = index < write.row_counts.size() && write.row_counts[index];
    if (row_count && value.kind == Kind::value) {
        if (const auto count = integral_double(type, value.bytes)) return std::to_string(*count);
    }
    std::string_view value_charset = charset;
    if (value.kind == Kind::value && is_utf8_charset(charset) && !is_valid_utf8(value.bytes)) value_charset = "binary";
    return protocol::render_sql_literal(type, value, value_charset);
}

// Appends write.sql[from, to) with each placeholder in it replaced by its value.
std::error_code append_bound(std::string& out, const PreparedWrite& write, std::uint32_t from, std::uint32_t to,
                             const std::vector<protocol::ParamType>& types,
                             const std::vector<protocol::ParamValue>& params, std::string_view charset) {
    std::uint32_t copied = from;
    for (std::size_t i = 0; i < write.placeholders.size(); ++i) {
        const auto& placeholder = write.placeholders[i];
        if (placeholder.begin < from || placeholder.end > to) continue;
        if (i >= params.size() || i >= types.size()) return make_error_code(protocol::ProtocolErrc::malformed);
        auto literal = bound_literal(write, i, types[i], params[i], charset);
        if (!literal) return literal.error();
        out.append(write.sql, copied, placeholder.begin - copied);
        out += literal.value();
        copied = placeholder.end;
    }
    out.append(write.sql, copied, to - copied);
    return {};
}

}  // namespace

protocol::Result<std::string> bind_as_text(const PreparedWrite& write, const protocol::StmtExecute& execute,
                                           std::string_view charset) {
    if (write.placeholders.size() != execute.params.size() || execute.types.size() != execute.params.size()) {
        return protocol::ProtocolErrc::malformed;
    }
    std::string out;
    out.reserve(write.sql.size() + 16 * execute.params.size());
    const auto error = append_bound(out, write, 0, static_cast<std::uint32_t>(write.sql.size()), execute.types,
                                    execute.params, charset);
    if (error) return error;
    return out;
}

protocol::Result<std::string> bind_rows_as_text(const PreparedWrite& write, rules::Span row,
                                                const protocol::StmtBulkExecute& bulk, std::string_view charset) {
    for (const auto& placeholder : write.placeholders) {
        if (placeholder.begin < row.begin || placeholder.end > row.end) return protocol::ProtocolErrc::unsupported;
    }
    if (bulk.rows.empty() || bulk.types.size() != write.placeholders.size()) return protocol::ProtocolErrc::malformed;
    std::string out(write.sql, 0, row.begin);
    for (std::size_t r = 0; r < bulk.rows.size(); ++r) {
        if (bulk.rows[r].size() != write.placeholders.size()) return protocol::ProtocolErrc::malformed;
        if (r > 0) out += ", ";
        const auto error = append_bound(out, write, row.begin, row.end, bulk.types, bulk.rows[r], charset);
        if (error) return error;
    }
    out.append(write.sql, row.end);
    return out;
}

bool append_bulk_row(BoundRows& out, const PreparedWrite& write, rules::Span part,
                     const std::vector<protocol::ParamType>& types, const std::vector<protocol::ParamValue>& row) {
    if (row.size() != write.placeholders.size() || types.size() != row.size()) return false;
    std::uint32_t at = part.begin;
    for (std::size_t i = 0; i < row.size(); ++i) {
        const auto& placeholder = write.placeholders[i];
        if (placeholder.begin < at || placeholder.end > part.end) return false;
        out.sql.append(write.sql, at, placeholder.begin - at);
        at = placeholder.end;
        const auto& value = row[i];
        switch (value.kind) {
            case protocol::ParamValue::Kind::value:
                out.values.emplace_back(std::string(reinterpret_cast<const char*>(value.bytes.data()), value.bytes.size()));
                break;
            case protocol::ParamValue::Kind::null:
                out.values.emplace_back(std::nullopt);
                break;
            case protocol::ParamValue::Kind::default_value:
            case protocol::ParamValue::Kind::ignore:
                out.sql += "DEFAULT";
                continue;
            case protocol::ParamValue::Kind::long_data:
                return false;
        }
        out.sql += '?';
        out.types.push_back(types[i]);
    }
    out.sql.append(write.sql, at, part.end - at);
    return true;
}

std::optional<std::uint32_t> statement_id_of(protocol::ByteView payload) {
    if (payload.size() < 5) return std::nullopt;
    return static_cast<std::uint32_t>(payload[1]) | (static_cast<std::uint32_t>(payload[2]) << 8) |
           (static_cast<std::uint32_t>(payload[3]) << 16) | (static_cast<std::uint32_t>(payload[4]) << 24);
}

void PreparedWrites::remember(std::uint32_t id, PreparedWrite write) {
    write.has_long_data.assign(write.param_count, false);
    write.long_data.assign(write.param_count, std::string());
    table_changes_.erase(id);
    writes_.insert_or_assign(id, std::move(write));
}

void PreparedWrites::remember(std::uint32_t id, rules::TemporaryTableChange change) {
    writes_.erase(id);
    table_changes_.insert_or_assign(id, std::move(change));
}

PreparedWrite* PreparedWrites::find(std::uint32_t id) noexcept {
    const auto it = writes_.find(resolve(id));
    return it == writes_.end() ? nullptr : &it->second;
}

const rules::TemporaryTableChange* PreparedWrites::find_table_change(std::uint32_t id) const noexcept {
    const auto it = table_changes_.find(resolve(id));
    return it == table_changes_.end() ? nullptr : &it->second;
}

}  // namespace uniqgate::proxy
