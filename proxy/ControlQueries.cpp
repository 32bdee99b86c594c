#include "proxy/ControlQueries.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace uniqgate::proxy {

std::vector<SqlRow> rows_of(ControlConnection& conn, const std::string& sql) {
    QueryResult result = conn.query(sql);
    if (!result.ok) throw QueryFailed(result.describe_error() + "\n    statement: " + sql);
    return std::move(result.rows);
}

std::uint64_t count_of(ControlConnection& conn, const std::string& sql) {
    const auto rows = rows_of(conn, sql);
    if (rows.empty() || rows[0].empty() || !rows[0][0]) return 0;
    return std::stoull(*rows[0][0]);
}

bool same_column(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](unsigned char x, unsigned char y) {
        return std::tolower(x) == std::tolower(y);
    });
}

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& part : parts) out += (out.empty() ? "" : ", ") + part;
    return out;
}

std::string format_value(const SqlValue& value) {
    if (!value) return "NULL";
    std::string out = "'";
    for (const char c : *value) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '\'' || c == '\\') {
            out += '\\';
            out += c;
        } else if (byte < 0x20 || byte == 0x7f) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
            out += escaped;
        } else {
            out += c;
        }
    }
    return out + "'";
}

std::string format_tuple(const SqlRow& row, std::size_t count) {
    std::string out = "(";
    for (std::size_t i = 0; i < count && i < row.size(); ++i) out += (i > 0 ? ", " : "") + format_value(row[i]);
    return out + ")";
}

const ColumnInfo* TableInfo::find_column(std::string_view name) const {
    const auto it = std::find_if(columns.begin(), columns.end(), [&](const auto& c) { return same_column(c.name, name); });
    return it == columns.end() ? nullptr : &*it;
}

std::vector<std::string> TableInfo::missing_columns(const std::vector<std::string>& names) const {
    std::vector<std::string> missing;
    for (const auto& name : names) {
        if (!has_column(name) && std::find(missing.begin(), missing.end(), name) == missing.end()) {
            missing.push_back(name);
        }
    }
    return missing;
}

namespace {

ColumnInfo column_from(const SqlRow& row) {
    return {row.at(0).value_or(""), row.at(1).value_or(""), row.at(2), row.at(3), row.at(4).value_or("YES") == "YES"};
}

void load_indexes(ControlConnection& conn, const std::string& where, TableInfo& info) {
    std::string current;
    for (auto& row : rows_of(conn, "SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS" + where +
                                       " ORDER BY INDEX_NAME, SEQ_IN_INDEX")) {
        const std::string index = row.at(0).value_or("");
        if (info.indexes.empty() || index != current) info.indexes.emplace_back();
        current = index;
        info.indexes.back().push_back(row.at(1).value_or(""));  // NULL for an expression part
        if (index == "PRIMARY") info.primary_key.push_back(info.indexes.back().back());
    }
}

}  // namespace

std::optional<TableInfo> load_table_info(ControlConnection& conn, const config::TableName& table) {
    const std::string where = " WHERE TABLE_SCHEMA = " + conn.quote_string(table.schema) +
                              " AND TABLE_NAME = " + conn.quote_string(table.table);
    TableInfo info;
    for (const auto& row : rows_of(conn, "SELECT COLUMN_NAME, COLUMN_TYPE, CHARACTER_SET_NAME, COLLATION_NAME, "
                                         "IS_NULLABLE FROM information_schema.COLUMNS" +
                                             where + " ORDER BY ORDINAL_POSITION")) {
        info.columns.push_back(column_from(row));
    }
    if (info.columns.empty()) return std::nullopt;
    load_indexes(conn, where, info);
    return info;
}

bool has_key_index(const TableInfo& info, const std::vector<std::string>& key) {
    return std::any_of(info.indexes.begin(), info.indexes.end(), [&](const auto& index) {
        return index.size() >= key.size() &&
               std::is_permutation(key.begin(), key.end(), index.begin(), index.begin() + key.size(), same_column);
    });
}

}  // namespace uniqgate::proxy
