#pragma once
// Transaction-control statements, so the session knows when a transaction (and the
// key locks it holds) ends or begins. The authoritative state is still the
// SERVER_STATUS_IN_TRANS / SERVER_STATUS_AUTOCOMMIT flags of the reply; this says
// what the statement asks for before the reply arrives.
// https://dev.mysql.com/doc/refman/8.0/en/commit.html, .../implicit-commit.html

#include "rules/Lexer.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace uniqgate::rules {

enum class TransactionEffect : std::uint8_t {
    none,
    begin,                  // BEGIN [WORK], START TRANSACTION ... (commits the open one first)
    commit,                 // COMMIT [WORK] [AND [NO] CHAIN] [[NO] RELEASE]
    rollback,               // ROLLBACK ... (not TO SAVEPOINT)
    savepoint,              // SAVEPOINT name
    rollback_to_savepoint,  // ROLLBACK [WORK] TO [SAVEPOINT] name
    release_savepoint,      // RELEASE SAVEPOINT name
    set_autocommit,         // SET [SESSION] autocommit = ...
    implicit_commit,        // DDL, LOCK/UNLOCK TABLES, GRANT, ANALYZE TABLE, ...: commits first
    xa,                     // XA START/END/PREPARE/COMMIT/ROLLBACK/RECOVER
};

enum class XaVerb : std::uint8_t { none, start, end, prepare, commit, rollback, recover };

struct TransactionControl {
    TransactionEffect effect = TransactionEffect::none;
    bool chain = false;                // AND CHAIN: a new transaction starts at once
    bool release = false;              // RELEASE: the server closes the connection afterwards
    bool read_only = false;            // START TRANSACTION READ ONLY
    bool consistent_snapshot = false;  // START TRANSACTION WITH CONSISTENT SNAPSHOT
    std::optional<bool> autocommit{};  // set_autocommit: the new value; nullopt if not a literal
    XaVerb xa = XaVerb::none;
    std::string_view savepoint{};      // savepoint name token text (may be backticked)
};

// The statement whose first keyword (already read) is `first`; `lexer` is positioned
// after it. Returns effect none for statements that do not control transactions.
[[nodiscard]] TransactionControl classify_transaction(const Token& first, Lexer& lexer) noexcept;

// True for statements that cause an implicit commit, by first keyword (ALTER,
// CREATE, DROP, RENAME, TRUNCATE, GRANT, ...). CREATE/DROP TEMPORARY TABLE do not.
[[nodiscard]] bool causes_implicit_commit(const Token& first, Lexer& lexer) noexcept;

}  // namespace uniqgate::rules
