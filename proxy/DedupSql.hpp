#pragma once
// SQL text of mode: dedup — the statements that keep a rule's dedup table (the
// key columns as PRIMARY KEY) equal to the set of live keys of its source table.
// Pure text building, tested without a server; the session runs them.

#include "protocol/Messages.hpp"
#include "protocol/TextResultRow.hpp"
#include "rules/Plan.hpp"
#include "rules/SessionContext.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace uniqgate::proxy {

// The proxy's savepoint inside a client's transaction: a failed write undoes only itself.
inline constexpr std::string_view kWriteSavepoint = "uniqgate_write";

// Whether a write wrapped by the proxy runs in a transaction of the proxy's own
// (autocommit, no transaction open) rather than under a savepoint in the client's.
[[nodiscard]] bool opens_own_transaction(std::uint16_t status_flags) noexcept;
// START TRANSACTION, or SAVEPOINT uniqgate_write inside the client's transaction.
[[nodiscard]] std::string begin_statement(bool own_transaction);

// `schema`.`table` of the rule's dedup table; an unqualified name lives in the
// statement's schema, as the source table does.
std::string dedup_table_sql(const config::Rule& rule, std::string_view statement_schema);

// The rows of an INSERT whose key for `rule` is known and live, ordered by key
// identity (statement order among equal keys), so that any two batches take the
// dedup table's index records in one order and cannot deadlock each other.
std::vector<std::size_t> rows_in_key_order(const rules::RulePlan& rule);

// "(v1, v2)" — a row's key values as the client wrote them (or the column defaults).
// With `parameters`, a value that is a `?` of a prepared statement stays `?` and its
// parameter index is appended there, to be bound with the client's own value.
std::string key_row_values(const rules::RulePlan& rule, std::size_t row, std::string_view sql,
                           const rules::TableSchema& schema, std::vector<std::uint32_t>* parameters = nullptr);

// INSERT INTO <dedup> (k1, k2) VALUES (...), (...) for `rows`; `ignore` makes it
// INSERT IGNORE; `parameters` as for key_row_values. Empty when `rows` is empty.
std::string dedup_insert_values(const rules::RulePlan& rule, std::string_view dedup_table,
                                const std::vector<std::size_t>& rows, std::string_view sql,
                                const rules::TableSchema& schema, bool ignore,
                                std::vector<std::uint32_t>* parameters = nullptr);

// A dedup-table write that, when it fails, makes the statements after it fail too, for
// pipelines (which, unlike a multi-statement, do not stop at an error): an anonymous
// MariaDB block whose exit handler leaves the session in a READ ONLY transaction (so
// the client's INSERT after it fails with 1792) and re-raises the error. In the proxy's
// own transaction (`own_transaction`) the handler rolls that back first; in the
// client's it replaces only a transaction the error ended. With `begin`, the block first
// opens the transaction (or sets the savepoint): begin_statement.
std::string guarded_dedup_write(std::string_view write, bool own_transaction, bool begin);

// A dedup-table write in a transaction of its own, alone in its round trip: the block
// starts the transaction and, when the write fails, rolls it back, so a duplicate leaves
// nothing to undo. Only in autocommit, and only for one write (a second block would run
// in autocommit after the first failed).
std::string dedup_write_alone(std::string_view write);

// A whole autocommit INSERT as one MariaDB block of the proxy's: one command where the
// pipeline takes three, each of which costs the server about as much as a small INSERT
// (bench/server_cost). It opens a transaction, runs the dedup-table inserts `claims`
// (a duplicate among them re-raised with claim_sqlstate(i), so that it cannot be taken
// for one in the client's own table), then the client's INSERT `client_write` as
// prepared (its `?` after the claims'), selects what that INSERT's own OK would have
// said (kOneBlockAnswerColumns, as strings) and commits. Any failure rolls the
// transaction back and is re-raised. At most kMaxClaimsInBlock claims.
std::string claims_and_write_block(const std::vector<std::string>& claims, std::string_view client_write);
inline constexpr std::size_t kMaxClaimsInBlock = 10;
// ROW_COUNT(), LAST_INSERT_ID(), @@warning_count of the client's INSERT.
inline constexpr std::size_t kOneBlockAnswerColumns = 3;
// The OK the client's INSERT would have had, from the row claims_and_write_block
// selected right after it: its affected rows and warnings, and as insert id the
// generated one (LAST_INSERT_ID()) when the table has an auto-increment column (the
// INSERT left it to the server: Session::fits_one_block), else 0. The status flags are
// the block's to set. nullopt when `rows` is not one such row.
std::optional<protocol::OkPacket> one_block_answer(const std::vector<protocol::TextRow>& rows,
                                                   bool table_has_auto_increment);
// "23U0<index>": the SQLSTATE of a duplicate in claim `index` of claims_and_write_block.
std::string claim_sqlstate(std::size_t index);
// The claim of claims_and_write_block that failed with `error`, or nullopt when the error
// is not a claim's duplicate.
std::optional<std::size_t> failed_claim(const protocol::ErrPacket& error);

// Ends the proxy's own transaction after a pipeline: COMMIT when the statement before
// it succeeded, ROLLBACK when it failed (ROW_COUNT() is -1 after an error).
inline constexpr std::string_view kCommitUnlessLastFailed =
    "BEGIN NOT ATOMIC IF ROW_COUNT() < 0 THEN ROLLBACK; ELSE COMMIT; END IF; END";

// The statements that follow the client's write (`statements`, joined by "; "), as
// one MariaDB block sent right after it in a pipeline: they run only if the write
// did not fail (ROW_COUNT() < 0). In the proxy's own transaction the block commits,
// or rolls back when the write or one of them failed; in the client's it leaves the
// savepoint to the session. Empty when there is nothing to run.
std::string after_client_write(std::string_view statements, bool own_transaction);
// Statements as the body of one MariaDB block: "a; b".
std::string block_body(const std::vector<std::string>& statements);

// "(`pk1`, `pk2`) IN (('1', 'a'), ...)" for primary keys read back as text (the
// first columns of each row); "FALSE" for none. `qualifier` ("s.") prefixes the columns.
std::string primary_key_in(const rules::TableSchema& schema, const std::vector<protocol::TextRow>& keys,
                           bool no_backslash_escapes, std::string_view qualifier = {});
// "(`pk1`, `pk2`) IN ((?, ?), ...)" for `rows` rows, their values to be bound; "FALSE" for none.
std::string primary_key_in_placeholders(const rules::TableSchema& schema, std::size_t rows,
                                        std::string_view qualifier = {});

// DELETE d FROM <dedup> AS d JOIN <source> AS s ON d.k = s.k ... WHERE <rows> AND <s live>:
// the live keys the rows selected by `rows_condition` hold now.
std::string dedup_delete_keys_of_rows(const config::Rule& rule, std::string_view dedup_table,
                                      std::string_view source_table, std::string_view rows_condition,
                                      bool no_backslash_escapes);

// INSERT INTO <dedup> (k...) SELECT k... FROM <source> WHERE <rows> AND <live> AND k IS NOT NULL
// ORDER BY k: the live keys the rows selected by `rows_condition` hold now.
std::string dedup_insert_keys_of_rows(const config::Rule& rule, std::string_view dedup_table,
                                      std::string_view source_table, std::string_view rows_condition,
                                      bool no_backslash_escapes);

// DELETE d FROM <dedup> AS d WHERE (d.k...) IN (<rows' keys>) AND NOT EXISTS (a live source row
// with that key): after an INSERT IGNORE, which may have skipped rows (say, on a primary-key
// collision) whose keys the proxy had already claimed. Empty when `rows` is empty.
std::string dedup_release_unused_keys(const rules::RulePlan& rule, std::string_view dedup_table,
                                      std::string_view source_table, const std::vector<std::size_t>& rows,
                                      std::string_view sql, const rules::TableSchema& schema,
                                      bool no_backslash_escapes, std::vector<std::uint32_t>* parameters = nullptr);

// SELECT <pk> FROM <table> WHERE <live> AND <row's key> LIMIT 1 FOR UPDATE: the live row
// holding the key of INSERT row `row`, locked. With `parameters` (a prepared statement's
// `sql`), the key's `?` stay, their indexes in `parameters`, and the key comes as text.
std::string live_holder_query(const rules::RulePlan& rule, std::size_t row, std::string_view sql,
                              const rules::TableSchema& schema, std::string_view table, bool no_backslash_escapes,
                              std::vector<std::uint32_t>* parameters = nullptr);

// One row of an INSERT ... ON DUPLICATE KEY UPDATE whose business key is live, aimed at
// the live row that holds the key: INSERT INTO <table> (<columns>) VALUES (<the row's values,
// primary key columns set to `primary_key`>) ON DUPLICATE KEY UPDATE <the client's assignments>,
// so the server updates that row, as a unique index over the key would make it. Empty when the
// row's columns or values cannot be read. With `bound`, `sql` is a prepared statement's
// text: its `?` stay and the primary key is `?` too, their indexes in bound->parameters.
struct BoundUpsert {
    const std::vector<rules::Span>* placeholders = nullptr;  // of `sql`
    std::uint32_t first_own_parameter = 0;                   // the primary key's, in key order
    std::vector<std::uint32_t>* parameters = nullptr;        // out
};
std::string upsert_into_live_row(const std::string& sql, const rules::WritePlan& plan, const rules::TableSchema& schema,
                                 std::size_t row, const protocol::TextRow& primary_key, bool no_backslash_escapes,
                                 const rules::LexOptions& options, const BoundUpsert* bound = nullptr);

// The rows a REPLACE would delete before inserting its rows, as two WHERE conditions
// (each empty when there is none): rows with a primary key the REPLACE writes as a
// literal, and, for each rule in `rules`, live rows holding a key of a row it inserts
// live. Primary keys written otherwise (expressions, DEFAULT, NULL) are not predicted;
// the caller sees such deletions in the REPLACE's affected rows.
// With `placeholders` (those of a prepared statement `sql`), a value that is a `?` stays
// `?` and the index of its parameter goes to the condition's parameters; `rules` are then
// the prepared statement's, and `executed` (in the same order) those of the execute,
// whose rows say which keys are known, live and not NULL.
struct ReplacedRows {
    std::string by_primary_key;
    std::string by_live_key;
    std::vector<std::uint32_t> by_primary_key_parameters{};
    std::vector<std::uint32_t> by_live_key_parameters{};
};
ReplacedRows rows_replace_would_delete(const std::string& sql, const rules::WritePlan& plan,
                                       const rules::TableSchema& schema,
                                       const std::vector<const rules::RulePlan*>& rules,
                                       const rules::LexOptions& options, bool no_backslash_escapes,
                                       const std::vector<rules::Span>* placeholders = nullptr,
                                       const std::vector<const rules::RulePlan*>* executed = nullptr);

// INSERT INTO <dedup> (k1, k2) VALUES (...) ON DUPLICATE KEY UPDATE k1 = k1 for `rows`:
// claims the keys that are free and locks those that are taken, changing nothing
// else; in key order, so two writers cannot deadlock on them. Empty when `rows` is.
// `parameters` as for dedup_insert_values.
std::string dedup_claim_or_lock(const rules::RulePlan& rule, std::string_view dedup_table,
                                const std::vector<std::size_t>& rows, std::string_view sql,
                                const rules::TableSchema& schema, std::vector<std::uint32_t>* parameters = nullptr);

// The UPDATE / DELETE restricted to the rows the proxy read (and locked) first:
// its WHERE becomes "(<where>) AND <restriction>" (or gains "WHERE <restriction>").
// Rows another transaction commits in between (READ COMMITTED has no gap locks) are
// then left alone rather than changed behind the dedup table's back.
std::string restrict_filtered_write(std::string_view sql, const rules::WritePlan& plan,
                                    std::string_view restriction);
// The parameters of restrict_filtered_write for a prepared statement (`placeholders`:
// its `?`, in order) whose restriction has `restriction_parameters` `?` of its own: the
// client's indexes, with the restriction's numbered from placeholders.size() on.
std::vector<std::uint32_t> restricted_write_parameters(const rules::WritePlan& plan,
                                                       const std::vector<rules::Span>& placeholders,
                                                       std::size_t restriction_parameters);

// MySQL's duplicate-key message with the dedup table's index name replaced by the
// rule's: "Duplicate entry 'a-b' for key 'PRIMARY'" -> "... for key '<rule>'".
std::string rename_duplicate_key(std::string_view message, std::string_view rule_name);

// Statements joined into one multi-statement string. A newline before each ';'
// ends a trailing "-- comment" of the client's statement.
std::string join_statements(const std::vector<std::string>& statements);

}  // namespace uniqgate::proxy
