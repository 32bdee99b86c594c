#include "proxy/DedupSql.hpp"

#include "protocol/Constants.hpp"
#include "proxy/MysqlErrors.hpp"
#include "proxy/SqlText.hpp"
#include "rules/Literal.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>

namespace uniqgate::proxy {

namespace {

// "d.`k1` = s.`k1` AND d.`k2` = s.`k2`"
std::string keys_equal(const config::Rule& rule, std::string_view left, std::string_view right) {
    std::string out;
    for (const auto& key : rule.key) {
        if (!out.empty()) out += " AND ";
        const std::string column = quote_identifier(key);
        out.append(left).append(".").append(column).append(" = ").append(right).append(".").append(column);
    }
    return out;
}

}  // namespace

bool opens_own_transaction(std::uint16_t status_flags) noexcept {
    return (status_flags & protocol::status::autocommit) && !(status_flags & protocol::status::in_trans);
}

std::string begin_statement(bool own_transaction) {
    return own_transaction ? std::string("START TRANSACTION") : "SAVEPOINT " + std::string(kWriteSavepoint);
}

std::string dedup_table_sql(const config::Rule& rule, std::string_view statement_schema) {
    const auto& name = rule.dedup_table;
    return quote_table(name.schema.empty() ? statement_schema : std::string_view(name.schema), name.table);
}

std::vector<std::size_t> rows_in_key_order(const rules::RulePlan& rule) {
    std::vector<std::size_t> rows;
    for (std::size_t row = 0; row < rule.rows.size(); ++row) {
        if (rule.rows[row].status == rules::KeyStatus::known) rows.push_back(row);
    }
    std::stable_sort(rows.begin(), rows.end(),
                     [&](std::size_t a, std::size_t b) { return rule.identity(a) < rule.identity(b); });
    return rows;
}

std::string key_row_values(const rules::RulePlan& rule, std::size_t row, std::string_view sql,
                           const rules::TableSchema& schema, std::vector<std::uint32_t>* parameters) {
    std::string out = "(";
    for (std::size_t k = 0; k < rule.rule->key.size(); ++k) {
        if (k > 0) out += ", ";
        append_key_value(out, rule, row, k, sql, schema, parameters);
    }
    out += ")";
    return out;
}

std::string dedup_insert_values(const rules::RulePlan& rule, std::string_view dedup_table,
                                const std::vector<std::size_t>& rows, std::string_view sql,
                                const rules::TableSchema& schema, bool ignore, std::vector<std::uint32_t>* parameters) {
    if (rows.empty()) return {};
    std::string out = ignore ? "INSERT IGNORE INTO " : "INSERT INTO ";
    out.append(dedup_table).append(" (").append(key_column_list(*rule.rule)).append(") VALUES ");
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (i > 0) out += ", ";
        out += key_row_values(rule, rows[i], sql, schema, parameters);
    }
    return out;
}

std::string guarded_dedup_write(std::string_view write, bool own_transaction, bool begin) {
    // ROLLBACK first in the proxy's own transaction: the READ ONLY one that follows must
    // hold nothing. In the client's, only a transaction the error ended (a deadlock) is
    // replaced; the session rolls back to its savepoint after any failure.
    const std::string_view on_failure = own_transaction
                                            ? "ROLLBACK; START TRANSACTION READ ONLY;"
                                            : "IF @@in_transaction = 0 THEN START TRANSACTION READ ONLY; END IF;";
    std::string out = "BEGIN NOT ATOMIC DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ";
    out.append(on_failure).append(" RESIGNAL; END; ");
    if (begin) out.append(begin_statement(own_transaction)).append("; ");
    out.append(write).append("; END");
    return out;
}

namespace {

// "(`a`, `b`) IN (" with each column qualified.
std::string primary_key_in_head(const rules::TableSchema& schema, std::string_view qualifier) {
    std::string out = "(";
    for (std::size_t i = 0; i < schema.primary_key.size(); ++i) {
        if (i > 0) out += ", ";
        out.append(qualifier).append(quote_identifier(schema.primary_key[i]));
    }
    out += ") IN (";
    return out;
}

}  // namespace

std::string block_body(const std::vector<std::string>& statements) {
    std::string out;
    for (const auto& statement : statements) out.append(out.empty() ? "" : "; ").append(statement);
    return out;
}

std::string after_client_write(std::string_view statements, bool own_transaction) {
    if (!own_transaction) {
        if (statements.empty()) return {};
        std::string out = "BEGIN NOT ATOMIC IF ROW_COUNT() >= 0 THEN ";
        out.append(statements).append("; END IF; END");
        return out;
    }
    if (statements.empty()) return std::string(kCommitUnlessLastFailed);
    std::string out = "BEGIN NOT ATOMIC DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END; "
                      "IF ROW_COUNT() < 0 THEN ROLLBACK; ELSE ";
    out.append(statements).append("; COMMIT; END IF; END");
    return out;
}

std::string claims_and_write_block(const std::vector<std::string>& claims, std::string_view client_write) {
    std::string out = "BEGIN NOT ATOMIC DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END; "
                      "START TRANSACTION; ";
    for (std::size_t i = 0; i < claims.size(); ++i) {
        out.append("BEGIN NOT ATOMIC DECLARE EXIT HANDLER FOR 1062 RESIGNAL SQLSTATE '")
            .append(claim_sqlstate(i))
            .append("' SET MYSQL_ERRNO = 1062; ")
            .append(claims[i])
            .append("; END; ");
    }
    // The newline ends a trailing "-- comment" of the client's text before the ';'.
    out.append(client_write)
        .append("\n; SELECT CAST(ROW_COUNT() AS CHAR), CAST(LAST_INSERT_ID() AS CHAR), CAST(@@warning_count AS CHAR); "
                "COMMIT; END");
    return out;
}

std::optional<protocol::OkPacket> one_block_answer(const std::vector<protocol::TextRow>& rows,
                                                   bool table_has_auto_increment) {
    if (rows.size() != 1 || rows.front().size() != kOneBlockAnswerColumns) return std::nullopt;
    std::uint64_t numbers[kOneBlockAnswerColumns] = {};
    for (std::size_t i = 0; i < kOneBlockAnswerColumns; ++i) {
        const auto& text = rows.front()[i];
        if (!text || text->empty()) return std::nullopt;
        const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), numbers[i]);
        if (error != std::errc{} || end != text->data() + text->size()) return std::nullopt;  // ROW_COUNT() < 0 too
    }
    protocol::OkPacket ok;
    ok.affected_rows = numbers[0];
    ok.last_insert_id = table_has_auto_increment ? numbers[1] : 0;
    ok.warnings = static_cast<std::uint16_t>(std::min<std::uint64_t>(numbers[2], UINT16_MAX));
    return ok;
}

std::string claim_sqlstate(std::size_t index) { return "23U0" + std::to_string(index % kMaxClaimsInBlock); }

std::optional<std::size_t> failed_claim(const protocol::ErrPacket& error) {
    const std::string_view state = error.sql_state;
    if (error.error_code != mysql_error::kDupEntry || state.size() != 5 || !state.starts_with("23U0") ||
        state[4] < '0' || state[4] > '9') {
        return std::nullopt;
    }
    return static_cast<std::size_t>(state[4] - '0');
}

std::string dedup_write_alone(std::string_view write) {
    std::string out = "BEGIN NOT ATOMIC DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END; "
                      "START TRANSACTION; ";
    out.append(write).append("; END");
    return out;
}

std::string primary_key_in(const rules::TableSchema& schema, const std::vector<protocol::TextRow>& keys,
                           bool no_backslash_escapes, std::string_view qualifier) {
    if (keys.empty()) return "FALSE";
    std::string out = primary_key_in_head(schema, qualifier);
    for (std::size_t r = 0; r < keys.size(); ++r) {
        out += r > 0 ? ", (" : "(";
        for (std::size_t i = 0; i < schema.primary_key.size() && i < keys[r].size(); ++i) {
            if (i > 0) out += ", ";
            out += keys[r][i] ? quote_string(*keys[r][i], no_backslash_escapes) : std::string("NULL");
        }
        out += ")";
    }
    out += ")";
    return out;
}

std::string primary_key_in_placeholders(const rules::TableSchema& schema, std::size_t rows,
                                        std::string_view qualifier) {
    if (rows == 0) return "FALSE";
    std::string tuple = "(";
    for (std::size_t i = 0; i < schema.primary_key.size(); ++i) tuple += i > 0 ? ", ?" : "?";
    tuple += ")";
    std::string out = primary_key_in_head(schema, qualifier);
    for (std::size_t r = 0; r < rows; ++r) out.append(r > 0 ? ", " : "").append(tuple);
    out += ")";
    return out;
}

std::string dedup_delete_keys_of_rows(const config::Rule& rule, std::string_view dedup_table,
                                      std::string_view source_table, std::string_view rows_condition,
                                      bool no_backslash_escapes) {
    std::string out = "DELETE d FROM ";
    out.append(dedup_table).append(" AS d JOIN ").append(source_table).append(" AS s ON ");
    out += keys_equal(rule, "d", "s");
    out.append(" WHERE ").append(rows_condition).append(" AND s.").append(live_condition(rule.soft_delete, no_backslash_escapes));
    return out;
}

std::string dedup_insert_keys_of_rows(const config::Rule& rule, std::string_view dedup_table,
                                      std::string_view source_table, std::string_view rows_condition,
                                      bool no_backslash_escapes) {
    const std::string keys = key_column_list(rule);
    std::string out = "INSERT INTO ";
    out.append(dedup_table).append(" (").append(keys).append(") SELECT ").append(keys).append(" FROM ");
    out.append(source_table).append(" WHERE ").append(rows_condition).append(" AND ");
    out += live_condition(rule.soft_delete, no_backslash_escapes);
    for (const auto& key : rule.key) out += " AND " + quote_identifier(key) + " IS NOT NULL";
    out += " ORDER BY " + keys;
    return out;
}

std::string dedup_release_unused_keys(const rules::RulePlan& rule, std::string_view dedup_table,
                                      std::string_view source_table, const std::vector<std::size_t>& rows,
                                      std::string_view sql, const rules::TableSchema& schema,
                                      bool no_backslash_escapes, std::vector<std::uint32_t>* parameters) {
    if (rows.empty()) return {};
    std::string out = "DELETE d FROM ";
    out.append(dedup_table).append(" AS d WHERE (");
    for (std::size_t k = 0; k < rule.rule->key.size(); ++k) {
        if (k > 0) out += ", ";
        out += "d." + quote_identifier(rule.rule->key[k]);
    }
    out += ") IN (";
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (i > 0) out += ", ";
        out += key_row_values(rule, rows[i], sql, schema, parameters);
    }
    out.append(") AND NOT EXISTS (SELECT 1 FROM ").append(source_table).append(" AS s WHERE ");
    out += keys_equal(*rule.rule, "s", "d");
    out.append(" AND s.").append(live_condition(rule.rule->soft_delete, no_backslash_escapes)).append(")");
    return out;
}

std::string live_holder_query(const rules::RulePlan& rule, std::size_t row, std::string_view sql,
                              const rules::TableSchema& schema, std::string_view table, bool no_backslash_escapes,
                              std::vector<std::uint32_t>* parameters) {
    const auto as = parameters != nullptr ? PrimaryKeyAs::text : PrimaryKeyAs::stored;
    std::string out = "SELECT " + primary_key_column_list(schema, as) + " FROM ";
    out.append(table).append(" WHERE ").append(live_condition(rule.rule->soft_delete, no_backslash_escapes));
    out.append(" AND ").append(key_equals(rule, row, sql, schema, parameters)).append(" LIMIT 1 FOR UPDATE");
    return out;
}

std::string upsert_into_live_row(const std::string& sql, const rules::WritePlan& plan, const rules::TableSchema& schema,
                                 std::size_t row, const protocol::TextRow& primary_key, bool no_backslash_escapes,
                                 const rules::LexOptions& options, const BoundUpsert* bound) {
    const auto& insert = plan.insert;
    auto values = split_row_values(insert.rows[row].in(sql), insert.set_form, options);
    auto columns = insert_value_columns(sql, insert, schema, options);
    if (values.size() != columns.size() || primary_key.size() != schema.primary_key.size()) return {};
    std::vector<std::string> texts(values.begin(), values.end());
    // Bound: each value's own `?` (its span in `sql`), or the primary key's own parameter.
    std::vector<rules::Span> spans;
    std::vector<std::optional<std::uint32_t>> key_parameter(texts.size());
    for (const auto value : values) {
        const auto begin = static_cast<std::uint32_t>(value.data() - sql.data());
        spans.push_back({begin, begin + static_cast<std::uint32_t>(value.size())});
    }
    for (std::size_t i = 0; i < schema.primary_key.size(); ++i) {
        const int column = schema.find_column(schema.primary_key[i]);
        if (column < 0) return {};
        std::string value = primary_key[i] ? quote_string(*primary_key[i], no_backslash_escapes) : "NULL";
        if (bound != nullptr) value = "?";
        auto at = static_cast<std::size_t>(std::find(columns.begin(), columns.end(), column) - columns.begin());
        if (at == columns.size()) {
            columns.push_back(column);
            texts.emplace_back();
            key_parameter.emplace_back();
        }
        texts[at] = std::move(value);
        key_parameter[at] = bound != nullptr ? std::optional(bound->first_own_parameter + static_cast<std::uint32_t>(i))
                                             : std::nullopt;
    }
    std::string out = "INSERT INTO " + quote_table(plan.schema, plan.table) + " (";
    for (std::size_t i = 0; i < columns.size(); ++i) {
        if (columns[i] < 0) return {};
        if (i > 0) out += ", ";
        out += quote_identifier(schema.columns[static_cast<std::size_t>(columns[i])].name);
    }
    out += ") VALUES (";
    for (std::size_t i = 0; i < texts.size(); ++i) {
        if (i > 0) out += ", ";
        out += texts[i];
        if (bound == nullptr) continue;
        if (key_parameter[i]) {
            bound->parameters->push_back(*key_parameter[i]);
        } else {
            append_parameters_within(*bound->placeholders, spans[i], *bound->parameters);
        }
    }
    out.append(") ON DUPLICATE KEY UPDATE ").append(insert.on_duplicate_key_update.in(sql));
    if (bound != nullptr) append_parameters_within(*bound->placeholders, insert.on_duplicate_key_update, *bound->parameters);
    return out;
}

namespace {

// The parameter index of the `?` at `value` (a view into the prepared statement's text).
std::optional<std::uint32_t> parameter_at(std::string_view sql, std::string_view value,
                                          const std::vector<rules::Span>& placeholders) {
    const auto begin = static_cast<std::uint32_t>(value.data() - sql.data());
    for (std::size_t i = 0; i < placeholders.size(); ++i) {
        if (placeholders[i].begin == begin && placeholders[i].end == begin + value.size()) {
            return static_cast<std::uint32_t>(i);
        }
    }
    return std::nullopt;
}

}  // namespace

ReplacedRows rows_replace_would_delete(const std::string& sql, const rules::WritePlan& plan,
                                       const rules::TableSchema& schema,
                                       const std::vector<const rules::RulePlan*>& rules,
                                       const rules::LexOptions& options, bool no_backslash_escapes,
                                       const std::vector<rules::Span>* placeholders,
                                       const std::vector<const rules::RulePlan*>* executed) {
    ReplacedRows out;
    const auto columns = insert_value_columns(sql, plan.insert, schema, options);
    std::string given_keys;
    for (const auto& row : plan.insert.rows) {
        const auto values = split_row_values(row.in(sql), plan.insert.set_form, options);
        if (values.size() != columns.size() || schema.primary_key.empty()) continue;
        std::string tuple;
        std::vector<std::uint32_t> tuple_parameters;
        for (const auto& column_name : schema.primary_key) {
            const int column = schema.find_column(column_name);
            const auto at = std::find(columns.begin(), columns.end(), column);
            if (column < 0 || at == columns.end()) {
                tuple.clear();
                break;
            }
            const std::string_view value = values[static_cast<std::size_t>(at - columns.begin())];
            const auto parameter = placeholders != nullptr ? parameter_at(sql, value, *placeholders) : std::nullopt;
            const auto literal = rules::read_literal_text(value, options);
            if (!parameter && literal.kind != rules::LiteralKind::string && literal.kind != rules::LiteralKind::number &&
                literal.kind != rules::LiteralKind::bytes) {
                tuple.clear();
                break;
            }
            if (parameter) tuple_parameters.push_back(*parameter);
            tuple.append(tuple.empty() ? "(" : ", ").append(value);
        }
        if (tuple.empty()) continue;
        given_keys.append(given_keys.empty() ? "" : ", ").append(tuple).append(")");
        out.by_primary_key_parameters.insert(out.by_primary_key_parameters.end(), tuple_parameters.begin(),
                                             tuple_parameters.end());
    }
    if (!given_keys.empty()) out.by_primary_key = "(" + primary_key_column_list(schema) + ") IN (" + given_keys + ")";
    for (std::size_t r = 0; r < rules.size(); ++r) {
        const rules::RulePlan* rule = rules[r];
        const rules::RulePlan* statuses = executed != nullptr ? (*executed)[r] : rule;
        std::string keys;
        for (std::size_t row = 0; row < rule->rows.size(); ++row) {
            if (statuses->rows[row].status != rules::KeyStatus::known) continue;
            auto* parameters = placeholders != nullptr ? &out.by_live_key_parameters : nullptr;
            keys.append(keys.empty() ? "(" : " OR (").append(key_equals(*rule, row, sql, schema, parameters)).append(")");
        }
        if (keys.empty()) continue;
        out.by_live_key.append(out.by_live_key.empty() ? "(" : " OR (")
            .append(live_condition(rule->rule->soft_delete, no_backslash_escapes))
            .append(" AND (")
            .append(keys)
            .append("))");
    }
    return out;
}

std::string dedup_claim_or_lock(const rules::RulePlan& rule, std::string_view dedup_table,
                                const std::vector<std::size_t>& rows, std::string_view sql,
                                const rules::TableSchema& schema, std::vector<std::uint32_t>* parameters) {
    std::string out = dedup_insert_values(rule, dedup_table, rows, sql, schema, false, parameters);
    if (out.empty()) return out;
    const std::string first = quote_identifier(rule.rule->key.front());
    out.append(" ON DUPLICATE KEY UPDATE ").append(first).append(" = ").append(first);
    return out;
}

namespace {

// Where restrict_filtered_write puts the restriction: after the WHERE condition, or
// (no WHERE) right after the SET list (UPDATE) or the table (DELETE).
std::uint32_t restriction_point(const rules::WritePlan& plan) {
    const auto& filter = plan.filter;
    if (!filter.where.empty()) return filter.where.end;
    return plan.kind == rules::StatementKind::update ? filter.set_list.end : filter.table_reference.end;
}

}  // namespace

std::string restrict_filtered_write(std::string_view sql, const rules::WritePlan& plan,
                                    std::string_view restriction) {
    const auto& filter = plan.filter;
    const std::uint32_t at = restriction_point(plan);
    std::string out;
    if (!filter.where.empty()) {
        out.append(sql.substr(0, filter.where.begin)).append("(").append(filter.where.in(sql)).append(") AND ");
        out.append(restriction).append(sql.substr(at));
        return out;
    }
    out.append(sql.substr(0, at)).append(" WHERE ").append(restriction).append(" ").append(sql.substr(at));
    return out;
}

std::vector<std::uint32_t> restricted_write_parameters(const rules::WritePlan& plan,
                                                       const std::vector<rules::Span>& placeholders,
                                                       std::size_t restriction_parameters) {
    const std::uint32_t at = restriction_point(plan);
    std::vector<std::uint32_t> out;
    append_parameters_within(placeholders, {0, at}, out);
    for (std::size_t i = 0; i < restriction_parameters; ++i) {
        out.push_back(static_cast<std::uint32_t>(placeholders.size() + i));
    }
    append_parameters_within(placeholders, {at, UINT32_MAX}, out);
    return out;
}

std::string rename_duplicate_key(std::string_view message, std::string_view rule_name) {
    constexpr std::string_view kForKey = " for key '";
    const auto at = message.rfind(kForKey);
    std::string out(message.substr(0, at == std::string_view::npos ? message.size() : at));
    out.append(kForKey).append(rule_name).append("'");
    return out;
}

std::string join_statements(const std::vector<std::string>& statements) {
    std::string out;
    for (const auto& statement : statements) {
        if (!out.empty()) out += "\n;";
        out += statement;
    }
    return out;
}

}  // namespace uniqgate::proxy
