#include "proxy/RuleSql.hpp"

#include <cctype>

namespace uniqgate::proxy {
namespace {

// "0", "-1", "2.5": written into SQL as a number, so the comparison is numeric as the
// application's own `delete_status = 0` would be. Anything else becomes a string literal.
bool is_plain_number(std::string_view text) {
    if (!text.empty() && (text.front() == '-' || text.front() == '+')) text.remove_prefix(1);
    bool digits = false;
    bool dot = false;
    for (const char c : text) {
        if (std::isdigit(static_cast<unsigned char>(c)) != 0) {
            digits = true;
        } else if (c == '.' && !dot) {
            dot = true;
        } else {
            return false;
        }
    }
    return digits;
}

}  // namespace

RuleSql::RuleSql(const ControlConnection& conn, const config::Rule& rule)
    : conn_(conn), rule_(rule), table_(ControlConnection::quote_table(rule.table)) {}

std::string RuleSql::column_ref(std::string_view alias, const std::string& column) {
    const std::string quoted = ControlConnection::quote_identifier(column);
    return alias.empty() ? quoted : std::string(alias) + "." + quoted;
}

std::string RuleSql::key_list(std::string_view alias) const {
    std::string out;
    for (const auto& column : rule_.key) out += (out.empty() ? "" : ", ") + column_ref(alias, column);
    return out;
}

std::string RuleSql::keys_match(std::string_view left, std::string_view right) const {
    std::string out;
    for (const auto& column : rule_.key) {
        out += (out.empty() ? "" : " AND ") + column_ref(left, column) + " = " + column_ref(right, column);
    }
    return out;
}

std::string RuleSql::live_condition(std::string_view alias) const {
    const std::string column = column_ref(alias, rule_.soft_delete.column);
    if (!rule_.soft_delete.live) return column + " IS NULL";
    const std::string& value = *rule_.soft_delete.live;
    return column + " = " + (is_plain_number(value) ? value : conn_.quote_string(value));
}

std::string RuleSql::live_rows(std::string_view alias) const {
    std::string out = live_condition(alias);
    for (const auto& column : rule_.key) out += " AND " + column_ref(alias, column) + " IS NOT NULL";
    return out;
}

config::TableName effective_dedup_table(const config::Rule& rule) {
    config::TableName dedup = rule.dedup_table;
    if (dedup.table.empty()) dedup.table = rule.table.table + "__uniq";
    if (dedup.schema.empty()) dedup.schema = rule.table.schema;
    return dedup;
}

}  // namespace uniqgate::proxy
