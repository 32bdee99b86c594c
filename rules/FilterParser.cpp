// UPDATE and DELETE syntax (https://dev.mysql.com/doc/refman/8.0/en/update.html, .../delete.html):
//   [WITH ...] UPDATE [LOW_PRIORITY] [IGNORE] table_references SET assignments
//     [WHERE ...] [ORDER BY ...] [LIMIT ...]
//   [WITH ...] DELETE [LOW_PRIORITY] [QUICK] [IGNORE] FROM tbl [[AS] alias] [PARTITION (...)]
//     [WHERE ...] [ORDER BY ...] [LIMIT ...] [RETURNING ...]
//   DELETE t1[.*], ... FROM table_references [WHERE ...]
//   DELETE FROM t1[.*], ... USING table_references [WHERE ...]
// The spans of WHERE / ORDER BY / LIMIT let the proxy read the affected rows' keys
// with the same condition before the statement runs.

#include "rules/TokenCursor.hpp"

namespace uniqgate::rules::detail {
namespace {

bool is_filter_keyword(const Token& t) noexcept {
    return t.is_keyword("WHERE") || t.is_keyword("ORDER") || t.is_keyword("LIMIT") || t.is_keyword("RETURNING");
}

void read_with_clause(TokenCursor& cursor, FilterShape& shape, std::string_view verb) {
    if (!cursor.peek().is_keyword("WITH")) return;
    const std::uint32_t begin = cursor.position();
    cursor.next();
    cursor.skip_until([verb](const Token& t) { return t.is_keyword(verb); });
    shape.with_clause = cursor.span(begin, cursor.position());
}

void skip_prefix_and_modifiers(TokenCursor& cursor) noexcept {
    if (cursor.accept("ANALYZE") && cursor.accept("FORMAT")) {
        cursor.next();
        cursor.next();
    }
    cursor.next();  // UPDATE or DELETE
    while (cursor.accept("LOW_PRIORITY") || cursor.accept("QUICK") || cursor.accept("IGNORE")) {
    }
}

// After the table name: [PARTITION (...)] [[AS] alias]; true if `is_end` follows, which
// makes it the single-table form.
template <class IsEnd>
bool single_table_follows(TokenCursor& cursor, IsEnd is_end) noexcept {
    if (cursor.accept("PARTITION") && !cursor.skip_parenthesised()) return false;
    if (is_end(cursor.peek())) return true;
    const bool as = cursor.accept("AS");
    if (cursor.peek().is_name() && !is_end(cursor.peek())) {
        if (!as && (cursor.peek().is_keyword("JOIN") || cursor.peek().is_keyword("USING") ||
                    cursor.peek().is_keyword("INNER") || cursor.peek().is_keyword("LEFT") ||
                    cursor.peek().is_keyword("RIGHT") || cursor.peek().is_keyword("CROSS") ||
                    cursor.peek().is_keyword("STRAIGHT_JOIN") || cursor.peek().is_keyword("NATURAL"))) {
            return false;
        }
        cursor.next();
    }
    if (cursor.accept("PARTITION") && !cursor.skip_parenthesised()) return false;
    return is_end(cursor.peek());
}

// WHERE ... ORDER BY ... LIMIT ... RETURNING ..., each optional, in this order.
void read_filter_tail(TokenCursor& cursor, FilterShape& shape, std::string& problem) {
    const auto read_clause = [&cursor](auto stop) {
        const std::uint32_t begin = cursor.position();
        cursor.skip_until(stop);
        return cursor.span(begin, cursor.position());
    };
    if (cursor.accept("WHERE")) {
        shape.where = read_clause([](const Token& t) { return t.is_keyword("ORDER") || t.is_keyword("LIMIT") || t.is_keyword("RETURNING"); });
    }
    if (cursor.accept("ORDER")) {
        cursor.accept("BY");
        shape.order_by = read_clause([](const Token& t) { return t.is_keyword("LIMIT") || t.is_keyword("RETURNING"); });
    }
    if (cursor.accept("LIMIT")) {
        shape.limit = read_clause([](const Token& t) { return t.is_keyword("RETURNING"); });
    }
    if (cursor.accept("RETURNING")) cursor.seek(static_cast<std::uint32_t>(cursor.tokens().size()));
    if (!cursor.at_end()) problem = "unexpected text after the WHERE clause";
}

}  // namespace

FilterSyntax parse_update(TokenCursor& cursor, FilterShape& shape) {
    FilterSyntax out;
    read_with_clause(cursor, shape, "UPDATE");
    skip_prefix_and_modifiers(cursor);
    const std::uint32_t references_begin = cursor.position();
    const auto is_set = [](const Token& t) { return t.is_keyword("SET"); };
    out.table = read_qualified_name(cursor);
    if (out.table.name == nullptr || !single_table_follows(cursor, is_set)) {
        shape.multi_table = true;
        out.table = {};
        cursor.skip_until(is_set);
    }
    shape.table_reference = cursor.span(references_begin, cursor.position());
    if (!cursor.accept("SET")) {
        out.problem = "cannot find SET";
        return out;
    }
    const std::uint32_t set_begin = cursor.position();
    out.assignments = read_assignments(cursor, is_filter_keyword);
    shape.set_list = cursor.span(set_begin, cursor.position());
    for (const Assignment& assignment : out.assignments) {
        if (assignment.column.empty() || assignment.value.empty()) out.problem = "cannot read the SET list";
    }
    if (out.problem.empty()) read_filter_tail(cursor, shape, out.problem);
    return out;
}

FilterSyntax parse_delete(TokenCursor& cursor, FilterShape& shape) {
    FilterSyntax out;
    read_with_clause(cursor, shape, "DELETE");
    skip_prefix_and_modifiers(cursor);
    const std::uint32_t references_begin = cursor.position() + (cursor.peek().is_keyword("FROM") ? 1 : 0);
    const auto is_end = [](const Token& t) { return t.kind == TokenKind::end || is_filter_keyword(t); };
    if (cursor.accept("FROM")) {
        out.table = read_qualified_name(cursor);
        if (out.table.name == nullptr || !single_table_follows(cursor, is_end)) {
            shape.multi_table = true;
            out.table = {};
        }
    } else {
        shape.multi_table = true;
    }
    if (shape.multi_table) cursor.skip_until(is_filter_keyword);
    shape.table_reference = cursor.span(references_begin, cursor.position());
    read_filter_tail(cursor, shape, out.problem);
    return out;
}

}  // namespace uniqgate::rules::detail
