#include "proxy/DedupTable.hpp"

#include "proxy/RuleSql.hpp"

#include <algorithm>

namespace uniqgate::proxy {
namespace {

// `name` varchar(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL
std::string column_definition(const ColumnInfo& column) {
    std::string out = ControlConnection::quote_identifier(column.name) + " " + column.column_type;
    if (column.character_set) out += " CHARACTER SET " + *column.character_set;
    if (column.collation) out += " COLLATE " + *column.collation;
    return out + " NOT NULL";
}

// The source's columns for the key, in rule order; the names as the source spells them.
std::vector<const ColumnInfo*> key_columns(const config::Rule& rule, const TableInfo& source) {
    std::vector<const ColumnInfo*> columns;
    for (const auto& name : rule.key) {
        if (const ColumnInfo* column = source.find_column(name)) columns.push_back(column);
    }
    return columns;
}

std::string describe(const SqlValue& value) { return value.value_or("none"); }

// The differences of one key column between the dedup table and the source.
void compare_column(const ColumnInfo& source, const ColumnInfo& dedup, std::vector<std::string>& mismatches) {
    const std::string column = ControlConnection::quote_identifier(source.name);
    if (dedup.column_type != source.column_type) {
        mismatches.push_back("column " + column + " is " + dedup.column_type + ", the source's is " +
                             source.column_type);
    }
    if (dedup.character_set != source.character_set || dedup.collation != source.collation) {
        mismatches.push_back("column " + column + " has character set " + describe(dedup.character_set) +
                             " collation " + describe(dedup.collation) + ", the source's has " +
                             describe(source.character_set) + " collation " + describe(source.collation));
    }
}

bool primary_key_is_the_key(const config::Rule& rule, const TableInfo& dedup) {
    // The order of the columns only changes the index layout, not which keys it refuses.
    return std::is_permutation(rule.key.begin(), rule.key.end(), dedup.primary_key.begin(), dedup.primary_key.end(),
                               same_column);
}

}  // namespace

std::string dedup_table_definition(const config::Rule& rule, const TableInfo& source) {
    std::string columns;
    std::vector<std::string> primary_key;
    for (const ColumnInfo* column : key_columns(rule, source)) {
        columns += column_definition(*column) + ", ";
        primary_key.push_back(ControlConnection::quote_identifier(column->name));
    }
    return "CREATE TABLE IF NOT EXISTS " + ControlConnection::quote_table(effective_dedup_table(rule)) + " (" +
           columns + "PRIMARY KEY (" + join(primary_key) + ")) ENGINE=InnoDB";
}

std::vector<std::string> dedup_table_mismatches(const config::Rule& rule, const TableInfo& source,
                                                const TableInfo& dedup) {
    std::vector<std::string> mismatches;
    for (const ColumnInfo* column : key_columns(rule, source)) {
        if (const ColumnInfo* copy = dedup.find_column(column->name)) {
            compare_column(*column, *copy, mismatches);
        } else {
            mismatches.push_back("it has no column " + ControlConnection::quote_identifier(column->name));
        }
    }
    std::vector<std::string> extra;
    for (const auto& column : dedup.columns) {
        const bool is_key = std::any_of(rule.key.begin(), rule.key.end(),
                                        [&](const auto& key) { return same_column(key, column.name); });
        if (!is_key) extra.push_back(ControlConnection::quote_identifier(column.name));
    }
    if (!extra.empty()) mismatches.push_back("it has column(s) " + join(extra) + " that are not key columns");
    if (!primary_key_is_the_key(rule, dedup)) {
        mismatches.push_back(
            (dedup.primary_key.empty() ? std::string("it has no primary key")
                                       : "its primary key is (" + join(dedup.primary_key) + ")") +
            "; it must be the key (" + join(rule.key) + ")");
    }
    return mismatches;
}

}  // namespace uniqgate::proxy
