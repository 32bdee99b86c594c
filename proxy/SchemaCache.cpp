#include "proxy/SchemaCache.hpp"

#include "proxy/SqlText.hpp"

namespace uniqgate::proxy {

std::shared_ptr<const rules::TableSchema> SchemaCache::find(const std::string& schema, const std::string& table) const {
    std::lock_guard lock(mutex_);
    auto it = tables_.find({schema, table});
    return it == tables_.end() ? nullptr : it->second;
}

void SchemaCache::store(const std::string& schema, const std::string& table,
                        std::shared_ptr<const rules::TableSchema> facts) {
    std::lock_guard lock(mutex_);
    tables_[{schema, table}] = std::move(facts);
}

void SchemaCache::clear() {
    std::lock_guard lock(mutex_);
    tables_.clear();
}

std::string schema_query(const std::string& schema, const std::string& table, bool no_backslash_escapes) {
    return "SELECT COLUMN_NAME, DATA_TYPE, COLLATION_NAME, NUMERIC_SCALE, IS_NULLABLE, EXTRA, COLUMN_DEFAULT, "
           "COLUMN_KEY FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = " +
           quote_string(schema, no_backslash_escapes) + " AND TABLE_NAME = " +
           quote_string(table, no_backslash_escapes) + " ORDER BY ORDINAL_POSITION";
}

namespace {

// MariaDB 10.2.7+: SQL NULL = no default, 'NULL' = DEFAULT NULL, quoted text or a
// number = a literal, anything else an expression such as current_timestamp().
rules::ColumnDefault parse_default(const std::optional<std::string>& text) {
    if (!text) return {rules::DefaultKind::none, {}};
    if (*text == "NULL") return {rules::DefaultKind::null, {}};
    const bool quoted = !text->empty() && text->front() == '\'';
    const bool numeric = !text->empty() && text->find_first_not_of("-+.0123456789eE") == std::string::npos;
    if (quoted || numeric) return {rules::DefaultKind::literal, *text};
    return {rules::DefaultKind::expression, *text};
}

}  // namespace

std::optional<rules::TableSchema> parse_schema_rows(const std::vector<protocol::TextRow>& rows) {
    if (rows.empty()) return std::nullopt;
    rules::TableSchema facts;
    for (const auto& row : rows) {
        if (row.size() < 8 || !row[0] || !row[1]) return std::nullopt;
        rules::ColumnInfo column;
        column.name = *row[0];
        column.type = rules::column_type_from_data_type(*row[1]);
        column.collation = row[2].value_or("");
        column.numeric_scale = row[3] ? std::atoi(row[3]->c_str()) : 0;
        column.nullable = row[4].value_or("") == "YES";
        column.auto_increment = row[5].value_or("").find("auto_increment") != std::string::npos;
        column.default_value = parse_default(row[6]);
        if (row[7].value_or("") == "PRI") facts.primary_key.push_back(column.name);
        facts.columns.push_back(std::move(column));
    }
    return facts;
}

}  // namespace uniqgate::proxy
