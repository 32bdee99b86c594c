// libFuzzer target: the lexer and the statement splitter must be total on any bytes,
// under every connection charset and escape mode, and tokens must stay inside the input.

#include "rules/Lexer.hpp"
#include "rules/StatementSplitter.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    using namespace uniqgate::rules;
    // The first byte picks the session options; the rest is the statement.
    const LexOptions options{(data[0] & 1) != 0, static_cast<Charset>((data[0] >> 1) % 8)};
    const std::string_view sql(reinterpret_cast<const char*>(data + 1), size - 1);
    Lexer lexer(sql, options);
    std::size_t previous_end = 0;
    for (std::size_t steps = 0;; ++steps) {
        const Token token = lexer.next();
        const std::size_t begin = offset_in(sql, token.text);
        if (begin < previous_end || begin + token.text.size() > sql.size() || steps > sql.size() + 1) std::abort();
        previous_end = begin + token.text.size();
        if (token.kind == TokenKind::end) break;
        if (token.text.empty() && !is_error(token.kind)) std::abort();  // no progress would loop forever
    }
    for (const std::string_view statement : split_statements(sql, options).statements) {
        if (statement.data() < sql.data() || statement.data() + statement.size() > sql.data() + sql.size()) std::abort();
    }
    return 0;
}
