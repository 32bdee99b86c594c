#include "config/RuleLoader.hpp"

#include "config/Identifier.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace uniqgate::config::detail {
namespace {

// MySQL compares column and index names case-insensitively.
std::string lowercase(std::string_view text) {
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return lower;
}

std::string read_rule_name(const Source& source, const Field& field) {
    const std::string name = read_string(source, field);
    const bool valid = std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return std::isalnum(c) != 0 || c == '_';
    });
    if (!valid) {
        fail(source, field, "'" + name + "' may only contain letters, digits and '_'");
    }
    if (auto error = check_identifier_length(name)) {
        fail(source, field, *error);
    }
    return name;
}

TableName read_table(const Source& source, const Field& field) {
    const std::string text = read_string(source, field);
    TableName table;
    if (auto error = parse_table_name(text, table)) {
        fail(source, field, "'" + text + "' is not a table name: " + *error);
    }
    return table;
}

std::string read_column(const Source& source, const Field& field) {
    const std::string text = read_string(source, field);
    std::string column;
    if (auto error = parse_identifier(text, column)) {
        fail(source, field, "'" + text + "' is not a column name: " + *error);
    }
    return column;
}

std::vector<std::string> read_key(const Source& source, const Field& field) {
    std::vector<std::string> key;
    std::set<std::string> seen;
    for (const Field& item : read_list(source, field, EmptyList::refused)) {
        std::string column = read_column(source, item);
        if (!seen.insert(lowercase(column)).second) {
            fail(source, item, "column '" + column + "' appears twice in the key");
        }
        key.push_back(std::move(column));
    }
    return key;
}

SoftDelete read_soft_delete(const Source& source, const Field& field, const std::vector<std::string>& key) {
    const MapReader map(source, field, {"column", "live"});
    const Field column = map.require("column");
    const Field live = map.require("live");
    SoftDelete soft_delete;
    soft_delete.column = read_column(source, column);
    const bool in_key = std::any_of(key.begin(), key.end(), [&](const std::string& name) {
        return lowercase(name) == lowercase(soft_delete.column);
    });
    if (in_key) {
        fail(source, column, "'" + soft_delete.column + "' is one of the key columns");
    }
    // `live: null` (or `~`, or nothing) means "live while the column IS NULL". A quoted
    // 'null' is the string.
    if (!live.node.IsNull()) {
        soft_delete.live = read_scalar(source, live, "a value or null");
    }
    return soft_delete;
}

TableName default_dedup_table(const TableName& table) {
    return TableName{table.schema, table.table + "__uniq"};
}

void read_dedup_table(const Source& source, const MapReader& map, Rule& rule) {
    const auto field = map.find("dedup_table");
    if (rule.mode != RuleMode::dedup) {
        if (field) {
            fail(source, *field, std::string("is only used with mode dedup (this rule's mode is ") +
                                     to_string(rule.mode) + ")");
        }
        return;
    }
    if (!field) {
        rule.dedup_table = default_dedup_table(rule.table);
        if (auto error = check_identifier_length(rule.dedup_table.table)) {
            fail(source, map.self(), "the default dedup_table " + *error + "; set dedup_table");
        }
        return;
    }
    rule.dedup_table = read_table(source, *field);
    if (rule.dedup_table == rule.table) {
        fail(source, *field, "must not be the rule's own table");
    }
}

Rule read_rule(const Source& source, const Field& field) {
    const MapReader map(source, field,
                        {"name", "table", "key", "soft_delete", "mode", "on_duplicate", "dedup_table", "unsupported"});
    Rule rule;
    rule.name = read_rule_name(source, map.require("name"));
    rule.table = read_table(source, map.require("table"));
    rule.key = read_key(source, map.require("key"));
    rule.soft_delete = read_soft_delete(source, map.require("soft_delete"), rule.key);
    if (auto mode = map.find("mode")) {
        rule.mode = read_choice(source, *mode, {RuleMode::serialize, RuleMode::dedup, RuleMode::observe});
    }
    if (auto choice = map.find("on_duplicate")) {
        rule.on_duplicate =
            read_choice(source, *choice, {OnDuplicate::error, OnDuplicate::ignore, OnDuplicate::update});
    }
    if (auto choice = map.find("unsupported")) {
        rule.unsupported = read_choice(source, *choice, {Unsupported::error, Unsupported::passthrough});
    }
    read_dedup_table(source, map, rule);
    return rule;
}

std::set<std::string> key_set(const Rule& rule) {
    std::set<std::string> columns;
    for (const std::string& column : rule.key) {
        columns.insert(lowercase(column));
    }
    return columns;
}

// Rules are checked against the earlier ones; the error points at the later rule.
void check_against_earlier(const Source& source, const Field& field, const std::vector<Rule>& rules,
                           std::size_t index) {
    const Rule& rule = rules[index];
    for (std::size_t i = 0; i < index; ++i) {
        const Rule& earlier = rules[i];
        const std::string other = "rules[" + std::to_string(i) + "] ('" + earlier.name + "')";
        if (lowercase(earlier.name) == lowercase(rule.name)) {
            fail(source, field, "name '" + rule.name + "' is already used by " + other);
        }
        if (earlier.table == rule.table && key_set(earlier) == key_set(rule)) {
            fail(source, field, "same table and key as " + other);
        }
        if (rule.mode == RuleMode::dedup && earlier.mode == RuleMode::dedup &&
            earlier.dedup_table == rule.dedup_table) {
            fail(source, field, "dedup_table '" + to_string(rule.dedup_table) + "' is also used by " + other);
        }
    }
}

}  // namespace

std::vector<Rule> read_rules(const Source& source, const Field& field) {
    const std::vector<Field> items = read_list(source, field, EmptyList::allowed);
    std::vector<Rule> rules;
    for (std::size_t i = 0; i < items.size(); ++i) {
        rules.push_back(read_rule(source, items[i]));
        check_against_earlier(source, items[i], rules, i);
    }
    return rules;
}

}  // namespace uniqgate::config::detail
