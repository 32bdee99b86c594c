#include "proxy/PreparedWrites.hpp"

#include "protocol/BoundValueText.hpp"

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

bool is_utf8_charset(std::string_view charset) { return charset == "utf8mb4" || charset == "utf8" || charset == "utf8mb3"; }

}  // namespace

std::vector<rules::Span> find_placeholders(std::string_view sql, const rules::LexOptions& options) {
    std::vector<rules::Span> spans;
    rules::Lexer lexer(sql, options);
    for (rules::Token token = lexer.next(); token.kind != rules::TokenKind::end; token = lexer.next()) {
        if (token.kind != rules::TokenKind::placeholder) continue;
        const auto begin = static_cast<std::uint32_t>(token.text.data() - sql.data());
        spans.push_back({begin, begin + static_cast<std::uint32_t>(token.text.size())});
    }
    return spans;
}

protocol::Result<std::string> bind_as_text(const PreparedWrite& write, const protocol::StmtExecute& execute,
                                           std::string_view charset) {
    if (write.placeholders.size() != execute.params.size() || execute.types.size() != execute.params.size()) {
        return protocol::ProtocolErrc::malformed;
    }
    std::string out;
    out.reserve(write.sql.size() + 16 * execute.params.size());
    std::uint32_t copied = 0;
    for (std::size_t i = 0; i < execute.params.size(); ++i) {
        protocol::ParamValue value = execute.params[i];
        if (value.kind == protocol::ParamValue::Kind::long_data) {
            const bool sent = i < write.has_long_data.size() && write.has_long_data[i];
            value = protocol::ParamValue::of(sent ? std::string_view(write.long_data[i]) : std::string_view());
        }
        std::string_view value_charset = charset;
        if (value.kind == protocol::ParamValue::Kind::value && is_utf8_charset(charset) && !is_valid_utf8(value.bytes)) {
            value_charset = "binary";
        }
        auto literal = protocol::render_sql_literal(execute.types[i], value, value_charset);
        if (!literal) return literal.error();
        out.append(write.sql, copied, write.placeholders[i].begin - copied);
        out += literal.value();
        copied = write.placeholders[i].end;
    }
    out.append(write.sql, copied);
    return out;
}

std::optional<std::uint32_t> statement_id_of(protocol::ByteView payload) {
    if (payload.size() < 5) return std::nullopt;
    return static_cast<std::uint32_t>(payload[1]) | (static_cast<std::uint32_t>(payload[2]) << 8) |
           (static_cast<std::uint32_t>(payload[3]) << 16) | (static_cast<std::uint32_t>(payload[4]) << 24);
}

void PreparedWrites::remember(std::uint32_t id, PreparedWrite write) {
    write.has_long_data.assign(write.param_count, false);
    write.long_data.assign(write.param_count, std::string());
    writes_.insert_or_assign(id, std::move(write));
}

PreparedWrite* PreparedWrites::find(std::uint32_t id) noexcept {
    const auto it = writes_.find(resolve(id));
    return it == writes_.end() ? nullptr : &it->second;
}

}  // namespace uniqgate::proxy
