// Key values, liveness and lock identities of each row an INSERT / REPLACE writes.

#include "rules/KeyIdentity.hpp"
#include "rules/TokenCursor.hpp"

#include <boost/container/small_vector.hpp>

namespace uniqgate::rules::detail {
namespace {

constexpr std::size_t max_quoted_expression = 60;

std::string quote_for_message(std::string_view text) {
    if (text.size() > max_quoted_expression) return std::string(text.substr(0, max_quoted_expression)) + "...";
    return std::string(text);
}

// Position of the column in each row, or -1 when the row leaves it out.
int position_in_row(const InsertSyntax& syntax, const TableSchema& schema, int schema_index) {
    if (schema_index < 0) return -1;
    if (!syntax.has_column_list) return schema_index;  // the rows hold every column in table order
    const std::string& name = schema.columns[static_cast<std::size_t>(schema_index)].name;
    for (std::size_t i = 0; i < syntax.column_names.size(); ++i) {
        if (identifier_equals(*syntax.column_names[i], name, true)) return static_cast<int>(i);
    }
    return -1;
}

struct ColumnValue {
    ValueRef ref;
    Literal literal;
    std::string reason;  // set for expression values
};

// Reads the column's value in `row` (position -1: the row omits it) into `out`, reusing
// its buffers: this runs for every key value of every row.
void read_value(const TokenCursor& cursor, const InsertSyntax& syntax, std::size_t row, int position, const ColumnInfo& column,
                LexOptions options, ColumnValue& out) {
    out.reason.clear();
    if (position < 0) {
        out.ref = default_value(column, options, Span{}, out.literal, out.reason);
        return;
    }
    const TokenRange range = syntax.values[row * syntax.row_width + static_cast<std::size_t>(position)];
    out.ref = classify_value(cursor, range, options, out.literal);
    if (out.ref.kind == ValueKind::column_default) {
        out.ref = default_value(column, options, out.ref.text, out.literal, out.reason);
    } else if (out.ref.kind == ValueKind::expression) {
        out.reason = "column '" + column.name + "' is an expression: " + quote_for_message(out.ref.text.in(cursor.sql()));
    }
}

// One key column of the rule, as plan_insert_keys walks the rows.
struct KeyColumn {
    const ColumnInfo* column = nullptr;
    int position = -1;  // in each row, or -1: omitted (`value` then holds the default, read once)
    CollationTraits traits{};
    ColumnValue value{};  // the current row's
};
// Rules have a few key columns: keep them off the heap.
using KeyColumns = boost::container::small_vector<KeyColumn, 4>;

// Decides one row's key status from its key values and liveness; builds the identity.
// The RowKey is filled in place: a local one moved in was read back with wider loads
// than its fields were written with, a store-forwarding stall per row.
void decide_row(RulePlan& rule, const KeyColumns& keys, Liveness liveness, std::string_view liveness_reason) {
    RowKey& row = rule.rows.emplace_back();
    bool null_key = false;
    bool parameters = liveness == Liveness::needs_parameters;
    const ColumnValue* unknown_key = nullptr;
    for (const KeyColumn& key : keys) {
        null_key |= key.value.ref.kind == ValueKind::null;
        parameters |= key.value.ref.kind == ValueKind::parameter;
        if (key.value.ref.kind == ValueKind::expression && unknown_key == nullptr) unknown_key = &key.value;
    }
    if (liveness == Liveness::not_live) {
        row.status = KeyStatus::not_live;
    } else if (null_key) {
        row.status = KeyStatus::has_null;
    } else if (unknown_key != nullptr) {
        row.reason = "key " + unknown_key->reason;
    } else if (liveness == Liveness::unknown) {
        row.reason = "soft-delete ";
        row.reason += liveness_reason;
    } else if (parameters) {
        row.status = KeyStatus::needs_parameters;
    } else {
        row.identity_begin = static_cast<std::uint32_t>(rule.identities.size());
        row.status = KeyStatus::known;
        for (std::size_t k = 0; k < keys.size() && row.status == KeyStatus::known; ++k) {
            if (!append_key_identity(rule.identities, keys[k].value.literal, *keys[k].column, keys[k].traits, row.reason)) {
                row.status = KeyStatus::unknown;
            }
        }
        if (row.status != KeyStatus::known) rule.identities.resize(row.identity_begin);
        row.identity_end = static_cast<std::uint32_t>(rule.identities.size());
    }
}

// liveness_of for every row of one INSERT: the column's collation traits and the live
// value's identity are the same for all rows, so they are worked out once, not per row.
class LivenessCheck {
public:
    LivenessCheck(const ColumnInfo& column, const config::SoftDelete& soft_delete)
        : column_(column), soft_delete_(soft_delete),
          traits_(collation_traits(column.type == ColumnType::text ? column.collation : "")) {}

    Liveness operator()(ValueKind kind, const Literal& literal) {
        if (kind != ValueKind::literal && kind != ValueKind::column_default) {
            return liveness_of(kind, literal, column_, soft_delete_);  // no identities needed
        }
        if (!soft_delete_.live) return Liveness::not_live;
        if (!live_read_) {
            const Literal live_literal{LiteralKind::string, *soft_delete_.live, Charset::utf8};
            live_known_ = append_key_identity(live_, live_literal, column_, traits_, reason_);
            live_read_ = true;
        }
        value_.clear();
        if (!append_key_identity(value_, literal, column_, traits_, reason_) || !live_known_) return Liveness::unknown;
        return value_ == live_ ? Liveness::live : Liveness::not_live;
    }

private:
    const ColumnInfo& column_;
    const config::SoftDelete& soft_delete_;
    CollationTraits traits_;
    bool live_read_ = false;
    bool live_known_ = false;
    std::string live_{};   // the live value's identity
    std::string value_{};  // the current row's
    std::string reason_{};
};

}  // namespace

ValueRef default_value(const ColumnInfo& column, LexOptions options, Span text, Literal& literal, std::string& reason) {
    ValueRef out{ValueKind::expression, text};
    if (column.auto_increment) {
        reason = "column '" + column.name + "' is AUTO_INCREMENT";
        return out;
    }
    switch (column.default_value.kind) {
    case DefaultKind::null:
        return ValueRef{ValueKind::null, text};
    case DefaultKind::literal:
        literal = read_literal_text(column.default_value.literal, options);
        if (literal.kind == LiteralKind::null) return ValueRef{ValueKind::null, text};
        if (literal.kind == LiteralKind::string || literal.kind == LiteralKind::number || literal.kind == LiteralKind::bytes) {
            return ValueRef{ValueKind::column_default, text};
        }
        reason = "column '" + column.name + "' has a default that is not a constant";
        return out;
    case DefaultKind::expression:
        reason = "column '" + column.name + "' has an expression default";
        return out;
    case DefaultKind::none:
        if (column.nullable) return ValueRef{ValueKind::null, text};
        reason = "column '" + column.name + "' has no default value";
        return out;
    }
    return out;
}

ValueRef classify_value(const TokenCursor& cursor, TokenRange range, LexOptions options, Literal& literal) {
    const auto& tokens = cursor.tokens();
    read_literal(std::span<const Token>(tokens).subspan(range.begin, range.end - range.begin), options, literal);
    ValueRef out{ValueKind::expression, cursor.span(range)};
    switch (literal.kind) {
    case LiteralKind::placeholder:
        out.kind = ValueKind::parameter;
        out.parameter = cursor.placeholder_ordinal(range.begin);
        break;
    case LiteralKind::null: out.kind = ValueKind::null; break;
    case LiteralKind::default_word: out.kind = ValueKind::column_default; break;
    case LiteralKind::string:
    case LiteralKind::number:
    case LiteralKind::bytes: out.kind = ValueKind::literal; break;
    case LiteralKind::not_literal: break;
    }
    return out;
}

Liveness liveness_of(ValueKind kind, const Literal& literal, const ColumnInfo& column, const config::SoftDelete& soft_delete) {
    switch (kind) {
    case ValueKind::null:
        return soft_delete.live ? Liveness::not_live : Liveness::live;
    case ValueKind::literal:
    case ValueKind::column_default: {
        if (!soft_delete.live) return Liveness::not_live;
        // Scratch buffers: this runs once per inserted row, and must not allocate each time.
        thread_local std::string value;
        thread_local std::string live;
        thread_local std::string reason;
        value.clear();
        live.clear();
        const Literal live_literal{LiteralKind::string, *soft_delete.live, Charset::utf8};
        if (!append_key_identity(value, literal, column, reason) || !append_key_identity(live, live_literal, column, reason)) {
            return Liveness::unknown;
        }
        return value == live ? Liveness::live : Liveness::not_live;
    }
    case ValueKind::parameter: return Liveness::needs_parameters;
    case ValueKind::not_assigned: return Liveness::unchanged;
    case ValueKind::expression: return Liveness::unknown;
    }
    return Liveness::unknown;
}

void plan_insert_keys(const TokenCursor& cursor, const InsertSyntax& syntax, const TableSchema& schema,
                      const SessionContext& session, RulePlan& rule) {
    if (!syntax.has_column_list && syntax.row_width != schema.columns.size()) {
        rule.unsupported = "cannot check rule '" + rule.rule->name + "': the rows do not hold every column of the table";
        return;
    }
    if (syntax.has_column_list && syntax.row_width != syntax.column_names.size()) {
        // The server refuses this too ("Column count doesn't match value count").
        rule.unsupported = "cannot check rule '" + rule.rule->name + "': the rows and the column list differ in length";
        return;
    }
    const LexOptions options = session.lex_options();
    KeyColumns keys(rule.key_columns.size());
    for (std::size_t k = 0; k < keys.size(); ++k) {
        KeyColumn& key = keys[k];
        key.column = &schema.columns[static_cast<std::size_t>(rule.key_columns[k])];
        key.position = position_in_row(syntax, schema, rule.key_columns[k]);
        key.traits = collation_traits(key.column->collation);
        // Omitted columns get the same default in every row: read those once.
        if (key.position < 0) read_value(cursor, syntax, 0, -1, *key.column, options, key.value);
    }
    const int soft_delete_position = position_in_row(syntax, schema, rule.soft_delete_column);
    const ColumnInfo& soft_delete = schema.columns[static_cast<std::size_t>(rule.soft_delete_column)];
    LivenessCheck liveness_of_value(soft_delete, rule.rule->soft_delete);
    ColumnValue live;
    Liveness omitted_liveness = Liveness::unknown;
    if (soft_delete_position < 0) {
        read_value(cursor, syntax, 0, -1, soft_delete, options, live);
        omitted_liveness = liveness_of_value(live.ref.kind, live.literal);
    }
    // Rows are alike: size the identities from the first row's key values as written
    // (quotes included, about the length of the `<length>:` prefixes) instead of regrowing.
    std::size_t identity_guess = 0;
    for (const KeyColumn& key : keys) {
        identity_guess += key.position < 0 || syntax.row_count == 0
                              ? 8
                              : cursor.span(syntax.values[static_cast<std::size_t>(key.position)]).in(cursor.sql()).size() + 2;
    }
    rule.identities.reserve(rule.identities.size() + identity_guess * syntax.row_count);
    rule.rows.reserve(syntax.row_count);
    rule.key_values.reserve(syntax.row_count * keys.size());
    rule.soft_delete_values.reserve(syntax.row_count);
    for (std::size_t row = 0; row < syntax.row_count; ++row) {
        for (KeyColumn& key : keys) {
            if (key.position >= 0) read_value(cursor, syntax, row, key.position, *key.column, options, key.value);
            // Field by field: read_value stored the fields one by one, and one wide load of
            // them all stalls (no store forwarding).
            const ValueRef& value = key.value.ref;
            rule.key_values.push_back(ValueRef{value.kind, Span{value.text.begin, value.text.end}, value.parameter});
        }
        Liveness liveness = omitted_liveness;
        if (soft_delete_position >= 0) {
            read_value(cursor, syntax, row, soft_delete_position, soft_delete, options, live);
            liveness = liveness_of_value(live.ref.kind, live.literal);
        }
        rule.soft_delete_values.push_back(ValueRef{live.ref.kind, Span{live.ref.text.begin, live.ref.text.end}, live.ref.parameter});
        decide_row(rule, keys, liveness, live.reason);
        if (rule.rows.back().status == KeyStatus::unknown && rule.unsupported.empty()) {
            rule.unsupported = "cannot check rule '" + rule.rule->name + "': row " + std::to_string(row + 1) + ": " +
                               rule.rows.back().reason;
        }
    }
}

}  // namespace uniqgate::rules::detail
