#include "rules/SessionContext.hpp"

namespace uniqgate::rules {

ColumnType column_type_from_data_type(std::string_view data_type) noexcept {
    static constexpr std::string_view integers[] = {"TINYINT", "SMALLINT", "MEDIUMINT", "INT", "INTEGER", "BIGINT", "YEAR"};
    static constexpr std::string_view texts[] = {"CHAR", "VARCHAR", "TINYTEXT", "TEXT", "MEDIUMTEXT", "LONGTEXT", "ENUM", "SET"};
    static constexpr std::string_view binaries[] = {"BINARY", "VARBINARY", "TINYBLOB", "BLOB", "MEDIUMBLOB", "LONGBLOB"};
    static constexpr std::string_view temporals[] = {"DATE", "TIME", "DATETIME", "TIMESTAMP"};
    for (const auto name : integers) {
        if (iequals_upper(data_type, name)) return ColumnType::integer;
    }
    if (iequals_upper(data_type, "DECIMAL") || iequals_upper(data_type, "NUMERIC")) return ColumnType::decimal;
    if (iequals_upper(data_type, "FLOAT") || iequals_upper(data_type, "DOUBLE") || iequals_upper(data_type, "REAL")) {
        return ColumnType::floating;
    }
    for (const auto name : texts) {
        if (iequals_upper(data_type, name)) return ColumnType::text;
    }
    for (const auto name : binaries) {
        if (iequals_upper(data_type, name)) return ColumnType::binary;
    }
    for (const auto name : temporals) {
        if (iequals_upper(data_type, name)) return ColumnType::temporal;
    }
    return ColumnType::other;
}

int TableSchema::find_column(std::string_view name) const noexcept {
    // Column names are case-insensitive on every platform (ASCII folding here).
    for (std::size_t i = 0; i < columns.size(); ++i) {
        const std::string& candidate = columns[i].name;
        if (candidate.size() != name.size()) continue;
        bool equal = true;
        for (std::size_t j = 0; j < name.size() && equal; ++j) {
            const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
            equal = lower(candidate[j]) == lower(name[j]);
        }
        if (equal) return static_cast<int>(i);
    }
    return -1;
}

}  // namespace uniqgate::rules
