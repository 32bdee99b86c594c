// libFuzzer target: the prepared-statement decoders and the bound-value text.
// Byte 0 chooses the parameter count, byte 1 which parameters had long data,
// byte 2 the previous types; the rest is the payload. Beyond "no crash": a decoded
// command must survive encode -> decode unchanged, and every SQL literal must
// consist of characters that cannot end a string or start a new statement.
#include "protocol/BoundValueText.hpp"
#include "protocol/PreparedStatements.hpp"

#include <algorithm>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace uniqgate::protocol {
namespace {

void check(bool condition) {
    if (!condition) {
        std::abort();
    }
}

bool same(const std::vector<ParamValue>& a, const std::vector<ParamValue>& b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].kind != b[i].kind || !std::equal(a[i].bytes.begin(), a[i].bytes.end(), b[i].bytes.begin(),
                                                  b[i].bytes.end())) {
            return false;
        }
    }
    return true;
}

bool is_safe_literal(std::string_view sql) {
    std::size_t quotes = 0;
    for (const char c : sql) {
        const bool plain = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
                           c == ' ' || c == '.' || c == ':' || c == '+' || c == '-';
        if (c == '\'') {
            ++quotes;
        } else if (!plain) {
            return false;
        }
    }
    return quotes == 0 || (quotes == 2 && sql.back() == '\'');
}

void render_all(std::span<const ParamType> types, const std::vector<ParamValue>& values) {
    for (std::size_t i = 0; i < values.size() && i < types.size(); ++i) {
        if (auto sql = render_sql_literal(types[i], values[i], "utf8mb4")) {
            check(is_safe_literal(sql.value()));
        }
        (void)render_plain_text(types[i], values[i]);
    }
}

void fuzz_execute(ByteView p, std::uint16_t count, std::span<const ParamType> previous,
                  const std::vector<bool>& long_data) {
    auto e = decode_stmt_execute(p, count, previous, long_data);
    if (!e) {
        return;
    }
    const StmtExecute& first = e.value();
    const Bytes wire = encode_stmt_execute(first);
    const auto again = decode_stmt_execute(wire, count, previous, long_data);
    check(again && again.value().statement_id == first.statement_id && again.value().flags == first.flags &&
          again.value().iteration_count == first.iteration_count &&
          again.value().new_params_bound == first.new_params_bound && again.value().types == first.types &&
          same(again.value().params, first.params));
    render_all(first.types, first.params);
}

void fuzz_bulk(ByteView p, std::uint16_t count, std::span<const ParamType> previous) {
    auto b = decode_stmt_bulk_execute(p, count, previous);
    if (!b) {
        return;
    }
    const Bytes wire = encode_stmt_bulk_execute(b.value());
    const auto again = decode_stmt_bulk_execute(wire, count, previous);
    check(again && again.value().types == b.value().types && again.value().rows.size() == b.value().rows.size());
    for (std::size_t r = 0; r < b.value().rows.size(); ++r) {
        check(same(again.value().rows[r], b.value().rows[r]));
        render_all(b.value().types, b.value().rows[r]);
    }
}

void fuzz_small_commands(ByteView p) {
    if (auto chunk = decode_send_long_data(p)) {
        check(encode_send_long_data(chunk.value()) == Bytes(p.begin(), p.end()));
    }
    if (auto id = decode_stmt_close(p)) {
        check(encode_stmt_close(id.value()) == Bytes(p.begin(), p.end()));
    }
    if (auto id = decode_stmt_reset(p)) {
        check(encode_stmt_reset(id.value()) == Bytes(p.begin(), p.end()));
    }
    (void)decode_binary_datetime(p);
    (void)decode_binary_time(p);
}

constexpr ParamType kPreviousChoices[] = {
    {field_type::longlong, 0},   {field_type::var_string, 0}, {field_type::datetime, 0},
    {field_type::time, 0},       {field_type::newdecimal, 0}, {field_type::tiny, kUnsignedParamFlag},
    {field_type::double_type, 0}, {field_type::blob, 0},
};

}  // namespace
}  // namespace uniqgate::protocol

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace uniqgate::protocol;
    if (size < 3) {
        return 0;
    }
    const auto count = static_cast<std::uint16_t>(data[0] % 20);
    std::vector<bool> long_data;
    for (int i = 0; i < 8; ++i) {
        long_data.push_back(((data[1] >> i) & 1) != 0);
    }
    std::vector<ParamType> previous;
    for (std::uint16_t i = 0; i < count && data[2] != 0; ++i) {
        previous.push_back(kPreviousChoices[(data[2] + i) % std::size(kPreviousChoices)]);
    }
    const ByteView payload(data + 3, size - 3);
    fuzz_execute(payload, count, previous, long_data);
    fuzz_bulk(payload, count, previous);
    fuzz_small_commands(payload);
    return 0;
}
