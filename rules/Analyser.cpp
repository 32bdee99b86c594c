#include "rules/Analyser.hpp"

#include "rules/TokenCursor.hpp"

namespace uniqgate::rules {
namespace {

using detail::TokenCursor;

std::string cannot_check(const RulePlan& rule, std::string_view what) {
    return std::string(what) + " on rule '" + rule.rule->name + "' cannot be checked";
}

void mark_all_unsupported(WritePlan& plan, std::string_view what) {
    for (RulePlan& rule : plan.rules) rule.unsupported = cannot_check(rule, what);
}

RulePlan make_rule_plan(const RuleSet& rule_set, std::size_t index, const TableSchema* schema) {
    RulePlan plan;
    plan.rule_index = index;
    plan.rule = &rule_set.rules()[index];
    for (const std::string& key : plan.rule->key) plan.key_columns.push_back(schema ? schema->find_column(key) : -1);
    plan.soft_delete_column = schema ? schema->find_column(plan.rule->soft_delete.column) : -1;
    plan.assigned_key_values.resize(plan.rule->key.size());
    return plan;
}

// Every key and soft-delete column must exist for the INSERT analysis to mean anything.
bool check_columns_known(RulePlan& rule) {
    for (std::size_t k = 0; k < rule.key_columns.size(); ++k) {
        if (rule.key_columns[k] < 0) {
            rule.unsupported = "cannot check rule '" + rule.rule->name + "': key column '" + rule.rule->key[k] + "' is not in the table";
            return false;
        }
    }
    if (rule.soft_delete_column < 0) {
        rule.unsupported = "cannot check rule '" + rule.rule->name + "': soft-delete column '" + rule.rule->soft_delete.column +
                           "' is not in the table";
        return false;
    }
    return true;
}

// The columns ON DUPLICATE KEY UPDATE writes must not be key or soft-delete columns:
// an update through another unique index could then create a duplicate unseen.
std::string_view odku_writes_rule_column(const TokenCursor& cursor, const detail::InsertSyntax& syntax, const config::Rule& rule) {
    for (const detail::TokenRange& column : syntax.update_columns) {
        if (column.empty()) continue;
        const Token& name = cursor.tokens()[column.end - 1];
        if (identifier_equals(name, rule.soft_delete.column, true)) return rule.soft_delete.column;
        for (const std::string& key : rule.key) {
            if (identifier_equals(name, key, true)) return key;
        }
    }
    return {};
}

void insert_actions(RulePlan& rule, bool replace) {
    bool any_key = false;
    for (const RowKey& row : rule.rows) any_key |= row.status == KeyStatus::known || row.status == KeyStatus::needs_parameters;
    switch (rule.rule->mode) {
    case config::RuleMode::serialize:
        rule.actions.lock_keys = rule.actions.check_live = any_key;
        break;
    case config::RuleMode::dedup:
        rule.actions.insert_dedup_keys = any_key;
        // REPLACE deletes the rows it collides with (by primary or unique key) first.
        rule.actions.read_old_keys = rule.actions.delete_dedup_keys = replace;
        break;
    case config::RuleMode::observe:
        rule.actions.check_live = rule.actions.report_only = any_key;
        break;
    }
}

void analyse_insert(TokenCursor& cursor, WritePlan& plan, const TableSchema* schema, const SessionContext& session) {
    detail::InsertSyntax syntax = detail::parse_insert(cursor, plan.insert);
    if (syntax.table.name != nullptr) plan.table_name = syntax.table.text;
    const std::string_view verb = plan.kind == StatementKind::replace ? "REPLACE" : "INSERT";
    if (syntax.from_query) return mark_all_unsupported(plan, std::string(verb) + " ... SELECT");
    if (!syntax.problem.empty()) return mark_all_unsupported(plan, std::string(verb) + " (" + syntax.problem + ")");
    if (schema == nullptr) return mark_all_unsupported(plan, std::string(verb) + " without the table's schema");
    for (RulePlan& rule : plan.rules) {
        if (!check_columns_known(rule)) continue;
        const std::string_view column = odku_writes_rule_column(cursor, syntax, *rule.rule);
        if (!column.empty()) {
            rule.unsupported = cannot_check(rule, "ON DUPLICATE KEY UPDATE of column '" + std::string(column) + "'");
            continue;
        }
        detail::plan_insert_keys(cursor, syntax, *schema, session, rule);
        if (rule.unsupported.empty()) insert_actions(rule, plan.kind == StatementKind::replace);
    }
}

// NOW(), CURRENT_TIMESTAMP and friends never return NULL: assigned to a
// `deleted_at`-style column (live while NULL) they always mean "deleted".
bool is_current_time_call(std::string_view text) {
    std::string word;
    for (const char c : text) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
        word += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    }
    if (const auto paren = word.find('('); paren != std::string::npos) {
        if (word.back() != ')') return false;
        const std::string_view inside = std::string_view(word).substr(paren + 1, word.size() - paren - 2);
        if (inside.find_first_not_of("0123456789") != std::string_view::npos) return false;  // only a precision
        word.resize(paren);
    }
    static constexpr std::string_view kCalls[] = {"NOW", "CURRENT_TIMESTAMP", "UTC_TIMESTAMP", "SYSDATE", "LOCALTIME",
                                                  "LOCALTIMESTAMP", "CURDATE", "CURRENT_DATE", "UTC_DATE",
                                                  "UNIX_TIMESTAMP"};
    for (const auto call : kCalls) {
        if (word == call) return true;
    }
    return false;
}

ColumnInfo column_or_text(const TableSchema* schema, int index) {
    if (schema != nullptr && index >= 0) return schema->columns[static_cast<std::size_t>(index)];
    return ColumnInfo{};
}

// What SET writes for one rule: key columns (with their new values) and liveness.
void read_assignments_for_rule(const TokenCursor& cursor, const detail::FilterSyntax& syntax, const TableSchema* schema,
                               const SessionContext& session, RulePlan& rule) {
    for (const detail::Assignment& assignment : syntax.assignments) {
        const Token& column = cursor.tokens()[assignment.column.end - 1];
        Literal literal;
        const ValueRef assigned = detail::classify_value(cursor, assignment.value, session.lex_options(), literal);
        // `SET c = DEFAULT`: the column's default, when it is a constant the proxy can use.
        const auto resolved = [&](int index) {
            if (assigned.kind != ValueKind::column_default) return assigned;
            if (schema == nullptr || index < 0) return ValueRef{ValueKind::expression, assigned.text};
            std::string reason;
            return detail::default_value(schema->columns[static_cast<std::size_t>(index)], session.lex_options(),
                                         assigned.text, literal, reason);
        };
        if (identifier_equals(column, rule.rule->soft_delete.column, true)) {
            const ValueRef value = resolved(rule.soft_delete_column);
            rule.writes_soft_delete = true;
            rule.assigned_liveness = detail::liveness_of(value.kind, literal, column_or_text(schema, rule.soft_delete_column),
                                                         rule.rule->soft_delete);
            if (rule.assigned_liveness == Liveness::unknown && !rule.rule->soft_delete.live &&
                is_current_time_call(cursor.span(assignment.value).in(cursor.sql()))) {
                rule.assigned_liveness = Liveness::not_live;
            }
        }
        for (std::size_t k = 0; k < rule.rule->key.size(); ++k) {
            if (!identifier_equals(column, rule.rule->key[k], true)) continue;
            rule.writes_key = true;
            rule.assigned_key_values[k] = resolved(rule.key_columns[k]);
        }
    }
}

void update_actions(RulePlan& rule, bool multi_table) {
    if (!rule.writes_key && !rule.writes_soft_delete) return;  // relayed untouched
    if (multi_table) {
        rule.unsupported = cannot_check(rule, "multi-table UPDATE of key or soft-delete columns");
        return;
    }
    for (std::size_t k = 0; k < rule.assigned_key_values.size(); ++k) {
        const ValueKind kind = rule.assigned_key_values[k].kind;
        if (kind == ValueKind::expression) {
            rule.unsupported = cannot_check(rule, "UPDATE setting key column '" + rule.rule->key[k] + "' to an expression");
            return;
        }
    }
    if (rule.assigned_liveness == Liveness::unknown) {
        rule.unsupported = cannot_check(rule, "UPDATE setting the soft-delete column to an expression");
        return;
    }
    // Only a soft delete: no new live key appears, dedup mode still drops the old ones.
    const bool only_deletes = !rule.writes_key && rule.assigned_liveness == Liveness::not_live;
    Actions& actions = rule.actions;
    switch (rule.rule->mode) {
    case config::RuleMode::serialize:
        actions.read_old_keys = actions.lock_keys = actions.check_live = !only_deletes;
        break;
    case config::RuleMode::dedup:
        actions.read_old_keys = actions.delete_dedup_keys = true;
        actions.insert_dedup_keys = !only_deletes;
        break;
    case config::RuleMode::observe:
        actions.read_old_keys = actions.check_live = actions.report_only = !only_deletes;
        break;
    }
}

void analyse_update(TokenCursor& cursor, WritePlan& plan, const TableSchema* schema, const SessionContext& session) {
    const detail::FilterSyntax syntax = detail::parse_update(cursor, plan.filter);
    if (syntax.table.name != nullptr) plan.table_name = syntax.table.text;
    if (!syntax.problem.empty()) return mark_all_unsupported(plan, "UPDATE (" + syntax.problem + ")");
    for (RulePlan& rule : plan.rules) {
        read_assignments_for_rule(cursor, syntax, schema, session, rule);
        update_actions(rule, plan.filter.multi_table);
    }
}

void analyse_delete(TokenCursor& cursor, WritePlan& plan) {
    const detail::FilterSyntax syntax = detail::parse_delete(cursor, plan.filter);
    if (syntax.table.name != nullptr) plan.table_name = syntax.table.text;
    for (RulePlan& rule : plan.rules) {
        // Removing rows never creates a duplicate; only the dedup table must follow.
        if (rule.rule->mode != config::RuleMode::dedup) continue;
        if (!syntax.problem.empty()) {
            rule.unsupported = cannot_check(rule, "DELETE (" + syntax.problem + ")");
        } else if (plan.filter.multi_table) {
            rule.unsupported = cannot_check(rule, "multi-table DELETE");
        } else {
            rule.actions.read_old_keys = rule.actions.delete_dedup_keys = true;
        }
    }
}

}  // namespace

WritePlan analyse_write(std::string_view sql, const Classification& classification, const RuleSet& rule_set,
                        const SessionContext& session, const TableSchema* schema) {
    WritePlan plan;
    plan.kind = classification.kind;
    plan.rule_table = classification.rule_table;
    if (classification.rule_table < 0 || static_cast<std::size_t>(classification.rule_table) >= rule_set.tables().size()) {
        return plan;
    }
    const RuleTable& table = rule_set.tables()[static_cast<std::size_t>(classification.rule_table)];
    plan.schema = table.name.schema.empty() ? std::string(session.current_database) : table.name.schema;
    plan.table = table.name.table;
    for (const std::size_t index : table.rule_indexes) plan.rules.push_back(make_rule_plan(rule_set, index, schema));
    if (sql.size() >= UINT32_MAX) {
        mark_all_unsupported(plan, "a statement over 4 GiB");
        return plan;
    }
    TokenCursor cursor(sql, session.lex_options());
    plan.parameter_count = cursor.placeholder_count();
    if (cursor.error() != TokenKind::end) {
        mark_all_unsupported(plan, "a statement with an unterminated string, identifier or comment");
        return plan;
    }
    switch (plan.kind) {
    case StatementKind::insert:
    case StatementKind::replace: analyse_insert(cursor, plan, schema, session); break;
    case StatementKind::update: analyse_update(cursor, plan, schema, session); break;
    case StatementKind::delete_rows: analyse_delete(cursor, plan); break;
    case StatementKind::truncate:
        for (RulePlan& rule : plan.rules) rule.actions.clear_dedup_table = rule.rule->mode == config::RuleMode::dedup;
        break;
    case StatementKind::load_data: mark_all_unsupported(plan, "LOAD DATA"); break;
    default: break;
    }
    return plan;
}

}  // namespace uniqgate::rules
