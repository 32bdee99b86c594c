#include "proxy/SqlText.hpp"

#include "rules/Lexer.hpp"
#include "rules/Literal.hpp"

#include <algorithm>
#include <optional>

namespace uniqgate::proxy {

namespace {
bool is_plain_number(std::string_view text) {
    std::size_t i = (!text.empty() && text[0] == '-') ? 1 : 0;
    bool digits = false;
    bool dot = false;
    for (; i < text.size(); ++i) {
        if (text[i] >= '0' && text[i] <= '9') {
            digits = true;
        } else if (text[i] == '.' && !dot) {
            dot = true;
        } else {
            return false;
        }
    }
    return digits;
}
}  // namespace

std::string quote_identifier(std::string_view name) {
    std::string out = "`";
    for (char c : name) {
        if (c == '`') out += '`';
        out += c;
    }
    out += '`';
    return out;
}

std::string quote_table(std::string_view schema, std::string_view table) {
    if (schema.empty()) return quote_identifier(table);
    return quote_identifier(schema) + "." + quote_identifier(table);
}

std::string quote_string(std::string_view value, bool no_backslash_escapes) {
    std::string out = "'";
    for (char c : value) {
        if (c == '\'') out += '\'';
        if (c == '\\' && !no_backslash_escapes) out += '\\';
        out += c;
    }
    out += '\'';
    return out;
}

std::string live_condition(const config::SoftDelete& soft_delete, bool no_backslash_escapes) {
    const std::string column = quote_identifier(soft_delete.column);
    if (!soft_delete.live) return column + " IS NULL";
    const std::string& value = *soft_delete.live;
    return column + " = " + (is_plain_number(value) ? value : quote_string(value, no_backslash_escapes));
}

std::string_view key_value_text(const rules::ValueRef& value, std::string_view sql, const rules::ColumnInfo& column) {
    switch (value.kind) {
        case rules::ValueKind::literal:
            return value.text.in(sql);
        case rules::ValueKind::column_default:
            return column.default_value.literal;
        default:
            return {};
    }
}

void append_key_value(std::string& out, const rules::RulePlan& rule, std::size_t row, std::size_t k,
                      std::string_view sql, const rules::TableSchema& schema, std::vector<std::uint32_t>* parameters) {
    const auto& value = rule.row_key_values(row)[k];
    if (value.kind == rules::ValueKind::parameter && parameters != nullptr) {
        out += '?';
        parameters->push_back(value.parameter);
        return;
    }
    out += key_value_text(value, sql, schema.columns[static_cast<std::size_t>(rule.key_columns[k])]);
}

std::string key_tuple(const rules::RulePlan& rule, std::size_t row, std::string_view sql,
                      const rules::TableSchema& schema) {
    const auto values = rule.row_key_values(row);
    std::string out = values.size() > 1 ? "(" : "";
    for (std::size_t k = 0; k < values.size(); ++k) {
        if (k > 0) out += ", ";
        const auto& column = schema.columns[static_cast<std::size_t>(rule.key_columns[k])];
        out += key_value_text(values[k], sql, column);
    }
    if (values.size() > 1) out += ")";
    return out;
}

std::string entry_value(std::string_view value, const rules::ColumnInfo& column) {
    if (column.type != rules::ColumnType::binary) return std::string(value);
    static constexpr std::string_view kHex = "0123456789ABCDEF";
    std::string out;
    for (const char c : value) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte <= 0x7e) {
            out += c;
        } else {
            out.append("\\x").append(1, kHex[byte >> 4]).append(1, kHex[byte & 0x0f]);
        }
    }
    return out;
}

std::string duplicate_entry_text(const rules::RulePlan& rule, std::size_t row, std::string_view sql,
                                 const rules::TableSchema& schema, const rules::SessionContext& session) {
    const auto values = rule.row_key_values(row);
    std::string out;
    for (std::size_t k = 0; k < values.size(); ++k) {
        if (k > 0) out += '-';
        const auto& column = schema.columns[static_cast<std::size_t>(rule.key_columns[k])];
        const auto literal = rules::read_literal_text(key_value_text(values[k], sql, column), session.lex_options());
        out += literal.kind == rules::LiteralKind::not_literal ? std::string(key_value_text(values[k], sql, column))
                                                               : entry_value(literal.value, column);
    }
    return out;
}

std::vector<std::string_view> split_row_values(std::string_view row_text, bool set_form,
                                               const rules::LexOptions& options) {
    std::vector<std::string_view> values;
    rules::Lexer lexer(row_text, options);
    const int value_depth = set_form ? 0 : 1;
    int depth = 0;
    const char* begin = nullptr;  // first byte of the current value
    const char* end = nullptr;    // one past its last token
    bool after_equals = !set_form;
    auto finish = [&] {
        if (begin != nullptr) values.emplace_back(begin, static_cast<std::size_t>(end - begin));
        begin = end = nullptr;
    };
    for (rules::Token token = lexer.next(); token.kind != rules::TokenKind::end; token = lexer.next()) {
        if (rules::is_error(token.kind)) return {};
        if (token.is_punct('(')) ++depth;
        if (token.is_punct(')')) --depth;
        if (depth == value_depth && token.is_punct(',')) {
            finish();
            after_equals = !set_form;
            continue;
        }
        if (set_form && depth == 0 && !after_equals) {
            after_equals = token.is_punct('=') || token.text == ":=";
            continue;
        }
        const bool opening_paren = !set_form && depth == 1 && token.is_punct('(') && begin == nullptr && values.empty() &&
                                   token.text.data() == row_text.data();
        const bool closing_paren = !set_form && depth == 0 && token.is_punct(')');
        if (opening_paren || closing_paren) continue;
        if (begin == nullptr) begin = token.text.data();
        end = token.text.data() + token.text.size();
    }
    finish();
    return values;
}

std::string rebuild_without_rows(const std::string& sql, const rules::InsertShape& insert,
                                 const std::vector<bool>& drop) {
    std::string out = sql.substr(0, insert.values.begin);
    bool first = true;
    for (std::size_t row = 0; row < insert.rows.size(); ++row) {
        if (drop[row]) continue;
        if (!first) out += ", ";
        out += insert.rows[row].in(sql);
        first = false;
    }
    out += sql.substr(insert.values.end);
    return out;
}

std::string rebuild_without_rows(const std::string& sql, const rules::InsertShape& insert,
                                 const std::vector<bool>& drop, const std::vector<rules::Span>& placeholders,
                                 std::vector<std::uint32_t>& parameters) {
    append_parameters_within(placeholders, {0, insert.values.begin}, parameters);
    for (std::size_t row = 0; row < insert.rows.size(); ++row) {
        if (!drop[row]) append_parameters_within(placeholders, insert.rows[row], parameters);
    }
    append_parameters_within(placeholders, {insert.values.end, static_cast<std::uint32_t>(sql.size())}, parameters);
    return rebuild_without_rows(sql, insert, drop);
}

std::string key_column_list(const config::Rule& rule) {
    std::string out;
    for (std::size_t k = 0; k < rule.key.size(); ++k) {
        if (k > 0) out += ", ";
        out += quote_identifier(rule.key[k]);
    }
    return out;
}

std::string selected_as_text(const std::string& quoted_name, rules::ColumnType type) {
    const bool sent_as_number = type == rules::ColumnType::integer || type == rules::ColumnType::floating ||
                                type == rules::ColumnType::temporal;
    return sent_as_number ? "CAST(" + quoted_name + " AS CHAR)" : quoted_name;
}

std::string primary_key_column_list(const rules::TableSchema& schema, PrimaryKeyAs as) {
    std::string out;
    for (const auto& name : schema.primary_key) {
        if (!out.empty()) out += ", ";
        const int column = schema.find_column(name);
        const auto type = column < 0 ? rules::ColumnType::other : schema.columns[static_cast<std::size_t>(column)].type;
        if (as == PrimaryKeyAs::binary) {
            out += "CAST(" + quote_identifier(name) + " AS BINARY)";
        } else if (as == PrimaryKeyAs::text) {
            out += selected_as_text(quote_identifier(name), type);
        } else {
            out += quote_identifier(name);
        }
    }
    return out;
}

std::string key_equals(const rules::RulePlan& rule, std::size_t row, std::string_view sql,
                       const rules::TableSchema& schema, std::vector<std::uint32_t>* parameters) {
    std::string out;
    for (std::size_t k = 0; k < rule.rule->key.size(); ++k) {
        if (k > 0) out += " AND ";
        out += quote_identifier(rule.rule->key[k]) + " = ";
        append_key_value(out, rule, row, k, sql, schema, parameters);
    }
    return out;
}

std::string tagged_live_rows_query(const config::Rule& rule, const std::vector<std::string>& conditions,
                                   const rules::TableSchema& schema, std::string_view schema_name,
                                   std::string_view table, bool no_backslash_escapes, std::string_view suffix,
                                   bool string_columns) {
    std::string pk_list;
    for (const auto& column : schema.primary_key) {
        pk_list += string_columns ? ", CAST(" + quote_identifier(column) + " AS BINARY)" : ", " + quote_identifier(column);
    }
    const std::string from = " FROM " + quote_table(schema_name, table) + " WHERE " +
                             live_condition(rule.soft_delete, no_backslash_escapes) + " AND ";
    const auto tag = [&](std::size_t i) { return string_columns ? "'" + std::to_string(i) + "'" : std::to_string(i); };
    if (conditions.size() == 1) {
        // The common single-row INSERT: a plain SELECT, no UNION for the server to set up.
        return "SELECT " + tag(0) + pk_list + from + conditions.front() + std::string(suffix);
    }
    std::string out;
    for (std::size_t i = 0; i < conditions.size(); ++i) {
        if (i > 0) out += " UNION ALL ";
        out += "(SELECT " + tag(i) + pk_list + from + conditions[i];
        out += suffix;
        out += ")";
    }
    return out;
}

std::string rows_to_change_query(std::string_view sql, const rules::WritePlan& plan, const rules::TableSchema& schema,
                                 std::string_view extra_columns, bool string_columns) {
    const auto& filter = plan.filter;
    std::string out;
    if (!filter.with_clause.empty()) out.append(filter.with_clause.in(sql)).append(" ");
    out += "SELECT " + primary_key_column_list(schema, string_columns ? PrimaryKeyAs::text : PrimaryKeyAs::stored);
    out.append(extra_columns).append(" FROM ").append(filter.table_reference.in(sql));
    if (!filter.where.empty()) out.append(" WHERE ").append(filter.where.in(sql));
    if (!filter.order_by.empty()) out.append(" ORDER BY ").append(filter.order_by.in(sql));
    if (!filter.limit.empty()) out.append(" LIMIT ").append(filter.limit.in(sql));
    out += " FOR UPDATE";
    return out;
}

std::vector<std::uint32_t> rows_to_change_parameters(const rules::WritePlan& plan,
                                                     const std::vector<rules::Span>& placeholders) {
    const auto& filter = plan.filter;
    std::vector<std::uint32_t> out;
    for (const rules::Span copied : {filter.with_clause, filter.table_reference, filter.where, filter.order_by, filter.limit}) {
        append_parameters_within(placeholders, copied, out);
    }
    return out;
}

void append_parameters_within(const std::vector<rules::Span>& placeholders, rules::Span span,
                              std::vector<std::uint32_t>& out) {
    for (std::uint32_t i = 0; i < placeholders.size(); ++i) {
        if (placeholders[i].begin >= span.begin && placeholders[i].end <= span.end) out.push_back(i);
    }
}

// The schema column of each value position: from the column list, from the SET
// assignments, or the table's order when the INSERT names no columns.
std::vector<int> insert_value_columns(const std::string& sql, const rules::InsertShape& insert,
                               const rules::TableSchema& schema, const rules::LexOptions& options) {
    std::vector<int> columns;
    if (!insert.set_form && insert.column_list.empty()) {
        for (std::size_t i = 0; i < schema.columns.size(); ++i) columns.push_back(static_cast<int>(i));
        return columns;
    }
    const std::string_view text = insert.set_form ? insert.rows.front().in(sql) : insert.column_list.in(sql);
    rules::Lexer lexer(text, options);
    int depth = 0;
    bool expecting_column = true;  // SET form: a name comes before each '='
    std::optional<rules::Token> last_name;
    for (rules::Token token = lexer.next(); token.kind != rules::TokenKind::end; token = lexer.next()) {
        if (token.is_punct('(')) ++depth;
        if (token.is_punct(')')) --depth;
        const bool separator = token.is_punct(',') && depth == (insert.set_form ? 0 : 1);
        if (insert.set_form) {
            if (expecting_column && token.is_name()) last_name = token;
            if (expecting_column && (token.is_punct('=') || token.text == ":=")) {
                columns.push_back(last_name ? schema.find_column(rules::identifier_value(*last_name)) : -1);
                expecting_column = false;
            }
            if (separator) expecting_column = true;
        } else if (token.is_name() && depth == 1) {
            columns.push_back(schema.find_column(rules::identifier_value(token)));
        }
    }
    return columns;
}

bool has_statement_separator(std::string_view sql, const rules::LexOptions& options) {
    rules::Lexer lexer(sql, options);
    for (rules::Token token = lexer.next(); token.kind != rules::TokenKind::end; token = lexer.next()) {
        if (token.is_punct(';')) return true;
    }
    return false;
}

bool embeddable_in_block(std::string_view sql, const rules::LexOptions& options) {
    rules::Lexer lexer(sql, options);
    for (rules::Token token = lexer.next(); token.kind != rules::TokenKind::end; token = lexer.next()) {
        if (rules::is_error(token.kind) || token.is_punct(';') || token.is_keyword("LAST_INSERT_ID")) return false;
    }
    return true;
}

std::string guarded_live_key_probe(std::string_view live_key_exists) {
    std::string out =
        "BEGIN NOT ATOMIC DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN START TRANSACTION READ ONLY; RESIGNAL; END; IF ";
    out.append(live_key_exists)
        .append(" THEN SIGNAL SQLSTATE '23000' SET MYSQL_ERRNO = 1062, MESSAGE_TEXT = 'uniqgate: a live row has the "
                "key'; END IF; END");
    return out;
}

}  // namespace uniqgate::proxy
