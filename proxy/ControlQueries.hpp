#pragma once
// Helpers shared by the commands that work on the control connection (`check`, `migrate`,
// the start-up check of dedup tables): run a statement or throw, read what
// information_schema says about a table, and format values for reports.

#include "config/Config.hpp"
#include "proxy/ControlConnection.hpp"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace uniqgate::proxy {

// A statement failed; the message holds the server's error and the statement. The
// commands catch it per rule: that rule is reported as an error, the others still run.
class QueryFailed : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Runs `sql` and returns its rows; throws QueryFailed.
std::vector<SqlRow> rows_of(ControlConnection& conn, const std::string& sql);
// The first column of the first row as a number (0 for no row or NULL); throws QueryFailed.
std::uint64_t count_of(ControlConnection& conn, const std::string& sql);

// MySQL column names are case-insensitive.
bool same_column(std::string_view a, std::string_view b);

// "a, b, c"
std::string join(const std::vector<std::string>& parts);
// A value as reports show it: 'text' with quotes, backslashes and control bytes escaped; NULL.
std::string format_value(const SqlValue& value);
// "(v1, v2)" from the first `count` values of `row`.
std::string format_tuple(const SqlRow& row, std::size_t count);

// One column as information_schema.COLUMNS describes it.
struct ColumnInfo {
    std::string name;
    std::string column_type;   // e.g. "varchar(50)", "int(10) unsigned": valid in a CREATE TABLE
    SqlValue character_set;    // NULL for columns that are not character strings
    SqlValue collation;
    bool nullable = true;
};

// What information_schema says about one table. Names are as the server spells them.
struct TableInfo {
    std::vector<ColumnInfo> columns;                // in table order
    std::vector<std::vector<std::string>> indexes;  // each index's columns, in index order
    std::vector<std::string> primary_key;           // empty when the table has none

    const ColumnInfo* find_column(std::string_view name) const;
    bool has_column(std::string_view name) const { return find_column(name) != nullptr; }
    // The names of `names` the table lacks, each once, in the order given.
    std::vector<std::string> missing_columns(const std::vector<std::string>& names) const;
};

// std::nullopt when the table does not exist (or the control user cannot see it).
// `table` must have a schema. Throws QueryFailed.
std::optional<TableInfo> load_table_info(ControlConnection& conn, const config::TableName& table);

// True when some index's leading columns are exactly the key columns, in any order.
bool has_key_index(const TableInfo& info, const std::vector<std::string>& key);

}  // namespace uniqgate::proxy
