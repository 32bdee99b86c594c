#pragma once
// SQL text the proxy builds for its own statements. Values are never pasted as
// raw client bytes: literals are copied verbatim from tokens the lexer read as
// complete literals, or quoted here with the escaping the session's sql_mode needs.

#include "config/Config.hpp"
#include "rules/Plan.hpp"
#include "rules/SessionContext.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace uniqgate::proxy {

// `name` with backticks, inner backticks doubled.
std::string quote_identifier(std::string_view name);
// `schema`.`table`, or `table` when schema is empty.
std::string quote_table(std::string_view schema, std::string_view table);
// 'value' with quotes doubled, and backslashes doubled unless NO_BACKSLASH_ESCAPES.
std::string quote_string(std::string_view value, bool no_backslash_escapes);
// The rule's "row is live" condition, e.g. `delete_status` = 0 or `deleted_at` IS NULL.
std::string live_condition(const config::SoftDelete& soft_delete, bool no_backslash_escapes);

// The SQL text of one key value of an INSERT row: the literal as written, or the
// column's default literal. Empty when it has none (expression, parameter).
std::string_view key_value_text(const rules::ValueRef& value, std::string_view sql, const rules::ColumnInfo& column);
// Appends key value `k` of `row` to `out`: as key_value_text, or, with `parameters`, a `?`
// of a prepared statement stays `?` and its parameter index is appended to `parameters`,
// to be bound with the client's own value.
void append_key_value(std::string& out, const rules::RulePlan& rule, std::size_t row, std::size_t k,
                      std::string_view sql, const rules::TableSchema& schema, std::vector<std::uint32_t>* parameters);

// "(v1, v2)" for a row's key (or "v1" for a one-column key).
std::string key_tuple(const rules::RulePlan& rule, std::size_t row, std::string_view sql,
                      const rules::TableSchema& schema);

// One key value as the server prints it in a duplicate-entry message: a character
// string as it is, a binary one (BINARY, VARBINARY, BLOB) with bytes outside 0x20-0x7E
// as \xHH.
std::string entry_value(std::string_view value, const rules::ColumnInfo& column);
// The duplicate-entry text MySQL shows: key values joined by '-', e.g. 'Widget-X1'.
// Bytes of binary columns are shown as the server shows them (entry_value).
std::string duplicate_entry_text(const rules::RulePlan& rule, std::size_t row, std::string_view sql,
                                 const rules::TableSchema& schema, const rules::SessionContext& session);

// One condition per key: `k1` = <v1> AND `k2` = <v2>, with the row's literals on the
// right so the server compares under the column's collation and type. With
// `parameters`, a value that is a `?` of a prepared statement stays `?` and its
// parameter index is appended there, to be bound with the client's own value.
std::string key_equals(const rules::RulePlan& rule, std::size_t row, std::string_view sql,
                       const rules::TableSchema& schema, std::vector<std::uint32_t>* parameters = nullptr);

// (SELECT <i>, <pk...> FROM t WHERE <live> AND <conditions[i]>) UNION ALL ..., each part
// tagged with its position i. `suffix` ends each part (e.g. " LIMIT 1"). Rows come
// back as [i, pk columns...]. `string_columns` selects the tag as a string and the
// primary key as CAST(... AS BINARY): a prepared statement's binary rows then hold
// exactly the text a COM_QUERY would have returned.
std::string tagged_live_rows_query(const config::Rule& rule, const std::vector<std::string>& conditions,
                                   const rules::TableSchema& schema, std::string_view schema_name,
                                   std::string_view table, bool no_backslash_escapes, std::string_view suffix,
                                   bool string_columns = false);

// The value texts of one VALUES row "(v1, v2, ...)", or of an INSERT ... SET list
// "a = v1, b = v2" (set_form), split at top-level commas; empty on a lexer error.
std::vector<std::string_view> split_row_values(std::string_view row_text, bool set_form,
                                               const rules::LexOptions& options);

// serialize's one-round-trip check for a prepared INSERT, to be pipelined before the
// client's own execute: a MariaDB block that fails with 1062 when `live_key_exists` (an
// SQL condition, e.g. EXISTS (...) OR EXISTS (...)) holds. Any failure of it leaves a
// READ ONLY transaction behind (the exit handler), so the execute after it fails (1792)
// instead of inserting unchecked; the session then rolls that transaction back.
std::string guarded_live_key_probe(std::string_view live_key_exists);

// The INSERT without the rows marked in `drop` (their "(...)" spans removed).
std::string rebuild_without_rows(const std::string& sql, const rules::InsertShape& insert,
                                 const std::vector<bool>& drop);
// The same for a prepared statement `sql` with `placeholders`: its `?` stay, and the
// indexes of those the result keeps are appended to `parameters`, in order.
std::string rebuild_without_rows(const std::string& sql, const rules::InsertShape& insert,
                                 const std::vector<bool>& drop, const std::vector<rules::Span>& placeholders,
                                 std::vector<std::uint32_t>& parameters);

// "`k1`, `k2`" and "(`k1`, `k2`)".
std::string key_column_list(const config::Rule& rule);
// How primary-key columns are selected: as stored; every one as CAST(... AS BINARY) (see
// tagged_live_rows_query); or, for a prepared statement's binary rows, numeric and temporal
// ones as CAST(... AS CHAR), so that they arrive as the text protocol would send them.
enum class PrimaryKeyAs { stored, binary, text };
// `quoted_name` as a select-list item that a binary row sends as the text protocol
// would: CAST(... AS CHAR) for numeric and temporal types, which the binary protocol
// sends as numbers and structs; every other type (strings, DECIMAL, and bytes, which a
// cast to a character set could alter) as it is.
std::string selected_as_text(const std::string& quoted_name, rules::ColumnType type);
// "`id`" or "`a`, `b`": the table's primary-key columns.
std::string primary_key_column_list(const rules::TableSchema& schema, PrimaryKeyAs as = PrimaryKeyAs::stored);

// SELECT <pk columns><extra_columns> FROM <table reference> WHERE ... ORDER BY ... LIMIT ...
// FOR UPDATE: the rows a single-table UPDATE or DELETE will change, locked as the
// statement itself would lock them. `extra_columns` starts with ", " when not empty.
// With `string_columns` (a prepared statement's binary rows), primary-key columns of
// numeric and temporal types are selected as CAST(... AS CHAR).
std::string rows_to_change_query(std::string_view sql, const rules::WritePlan& plan, const rules::TableSchema& schema,
                                 std::string_view extra_columns, bool string_columns = false);
// The `?` of rows_to_change_query for a prepared statement's `sql` (`placeholders`
// of it, in order): the indexes of the client's parameters it binds, in order.
std::vector<std::uint32_t> rows_to_change_parameters(const rules::WritePlan& plan,
                                                     const std::vector<rules::Span>& placeholders);
// Appends the indexes of the `placeholders` that lie inside `span`, in order.
void append_parameters_within(const std::vector<rules::Span>& placeholders, rules::Span span,
                              std::vector<std::uint32_t>& out);

// The schema column of each value position of an INSERT row (-1: not in the
// schema): from the column list, from the SET assignments, or the table's order
// when the INSERT names no columns.
std::vector<int> insert_value_columns(const std::string& sql, const rules::InsertShape& insert,
                                      const rules::TableSchema& schema, const rules::LexOptions& options);

// Whether `sql` (one statement) can go into a MariaDB block of the proxy's as it is and
// its OK be read back there: no ';' (see has_statement_separator), nothing the lexer
// cannot read, and no LAST_INSERT_ID(...) (with an argument it sets the OK's insert id).
bool embeddable_in_block(std::string_view sql, const rules::LexOptions& options);

// Whether `sql` has a ';' outside strings, identifiers and comments — what the server
// reads as a statement separator (even a trailing one) when multi-statements are on.
bool has_statement_separator(std::string_view sql, const rules::LexOptions& options);

}  // namespace uniqgate::proxy
