#pragma once
// Splits a multi-statement COM_QUERY (CLIENT_MULTI_STATEMENTS) into its statements at
// top-level semicolons, as the server does: semicolons inside strings, comments and
// the BEGIN ... END body of CREATE PROCEDURE / FUNCTION / TRIGGER / EVENT (and
// MariaDB's BEGIN NOT ATOMIC) do not split.

#include "rules/Lexer.hpp"

#include <string_view>
#include <vector>

namespace uniqgate::rules {

struct SplitStatements {
    // Views into the input, whitespace-trimmed, without the separating ';'. Pieces that
    // hold only comments or whitespace are left out.
    std::vector<std::string_view> statements;
    // Set when the lexer stopped at an unterminated string, identifier or comment; the
    // remaining text is then the last statement, as the server would receive it.
    TokenKind error = TokenKind::end;

    [[nodiscard]] bool ok() const noexcept { return error == TokenKind::end; }
};

[[nodiscard]] SplitStatements split_statements(std::string_view sql, LexOptions options);

}  // namespace uniqgate::rules
