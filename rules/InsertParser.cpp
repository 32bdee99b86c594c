// INSERT and REPLACE syntax (https://dev.mysql.com/doc/refman/8.0/en/insert.html,
// https://mariadb.com/kb/en/insert/):
//   INSERT [LOW_PRIORITY | DELAYED | HIGH_PRIORITY] [IGNORE] [INTO] tbl [PARTITION (p, ...)]
//     [(col, ...)] { VALUES | VALUE } (row), ... | VALUES ROW(...), ... | SET col = v, ...
//     | SELECT ... | TABLE t | (SELECT ...) | WITH ... SELECT
//     [AS alias [(col, ...)]] [ON DUPLICATE KEY UPDATE col = v, ...] [RETURNING ...]

#include "rules/TokenCursor.hpp"

namespace uniqgate::rules::detail {
namespace {

bool starts_query(const Token& token) noexcept {
    return token.is_keyword("SELECT") || token.is_keyword("WITH") || token.is_keyword("TABLE") || token.is_punct('(');
}

// Skips MariaDB's ANALYZE [FORMAT = JSON] prefix, which executes the statement after it.
void skip_analyze_prefix(TokenCursor& cursor) noexcept {
    if (!cursor.accept("ANALYZE")) return;
    if (cursor.accept("FORMAT")) {
        cursor.next();
        cursor.next();
    }
}

bool read_column_list(TokenCursor& cursor, InsertSyntax& out, InsertShape& shape) {
    const std::uint32_t begin = cursor.position();
    cursor.next();  // '('
    while (!cursor.at_end() && !cursor.peek().is_punct(')')) {
        cursor.skip_until([](const Token& t) { return t.is_punct(',') || t.is_punct(')'); });
        // A qualified column (t.col) names the last part.
        const std::uint32_t last = cursor.position() - 1;
        if (last < begin + 1 || !cursor.tokens()[last].is_name()) return false;
        out.column_names.push_back(&cursor.tokens()[last]);
        cursor.accept_punct(',');
    }
    if (!cursor.accept_punct(')')) return false;
    out.has_column_list = true;
    shape.column_list = cursor.span(begin, cursor.position());
    return true;
}

// One "(v, v, ...)": appends the value ranges; false on malformed input.
bool read_row(TokenCursor& cursor, InsertSyntax& out, InsertShape& shape) {
    cursor.accept("ROW");
    if (!cursor.peek().is_punct('(')) return false;
    const std::uint32_t row_begin = cursor.position();
    cursor.next();
    std::uint32_t width = 0;
    if (!cursor.peek().is_punct(')')) {
        for (;;) {
            const std::uint32_t value_begin = cursor.position();
            // Most values are one token (a literal, NULL, ?) before ',' or ')': step over it
            // directly; skip_until's scan (parentheses, any length) is for expressions.
            const Token& first = cursor.peek();
            const Token& after = cursor.peek(1);
            if (first.kind != TokenKind::punctuation && first.kind != TokenKind::end &&
                (after.is_punct(',') || after.is_punct(')'))) {
                cursor.next();
            } else {
                cursor.skip_until([](const Token& t) { return t.is_punct(',') || t.is_punct(')'); });
            }
            const std::uint32_t value_end = cursor.position();
            if (value_begin == value_end) return false;
            // Filled in place: a TokenRange built on the stack half by half and pushed was
            // read back with one 8-byte load that store forwarding cannot serve, a stall per value.
            TokenRange& value = out.values.emplace_back();
            value.begin = value_begin;
            value.end = value_end;
            ++width;
            if (!cursor.accept_punct(',')) break;
        }
    }
    if (!cursor.accept_punct(')')) return false;
    if (shape.rows.empty()) out.row_width = width;
    if (width != out.row_width) return false;  // the server: "Column count doesn't match value count"
    shape.rows.push_back(cursor.span(row_begin, cursor.position()));
    return true;
}

bool read_rows(TokenCursor& cursor, InsertSyntax& out, InsertShape& shape) {
    const std::uint32_t begin = cursor.position();
    do {
        if (!read_row(cursor, out, shape)) return false;
    } while (cursor.accept_punct(','));
    shape.values = cursor.span(begin, cursor.position());
    return true;
}

bool is_tail_keyword(const Token& t) noexcept {
    return t.is_keyword("ON") || t.is_keyword("RETURNING") || t.is_keyword("AS");
}

void read_set_form(TokenCursor& cursor, InsertSyntax& out, InsertShape& shape) {
    const std::uint32_t begin = cursor.position();
    const std::vector<Assignment> assignments = read_assignments(cursor, is_tail_keyword);
    for (const Assignment& assignment : assignments) {
        if (assignment.column.empty() || !cursor.tokens()[assignment.column.end - 1].is_name() || assignment.value.empty()) {
            out.problem = "cannot read the SET list";
            return;
        }
        out.column_names.push_back(&cursor.tokens()[assignment.column.end - 1]);
        out.values.push_back(assignment.value);
    }
    out.row_width = static_cast<std::uint32_t>(assignments.size());
    out.has_column_list = true;
    shape.set_form = true;
    shape.values = cursor.span(begin, cursor.position());
    shape.rows.push_back(shape.values);
}

void read_tail(TokenCursor& cursor, InsertSyntax& out, InsertShape& shape) {
    if (cursor.peek().is_keyword("AS")) {
        const std::uint32_t begin = cursor.position();
        cursor.next();
        cursor.next();  // the row alias
        if (cursor.peek().is_punct('(')) cursor.skip_parenthesised();
        shape.row_alias = cursor.span(begin, cursor.position());
    }
    if (cursor.accept("ON")) {
        if (!cursor.accept("DUPLICATE") || !cursor.accept("KEY") || !cursor.accept("UPDATE")) {
            out.problem = "cannot read ON DUPLICATE KEY UPDATE";
            return;
        }
        const std::uint32_t begin = cursor.position();
        for (const Assignment& assignment : read_assignments(cursor, [](const Token& t) { return t.is_keyword("RETURNING"); })) {
            out.update_columns.push_back(assignment.column);
        }
        shape.on_duplicate_key_update = cursor.span(begin, cursor.position());
    }
    if (cursor.accept("RETURNING")) {
        shape.returning = cursor.span(cursor.position(), static_cast<std::uint32_t>(cursor.tokens().size()));
        cursor.seek(static_cast<std::uint32_t>(cursor.tokens().size()));
    }
    if (!cursor.at_end() && out.problem.empty()) out.problem = "unexpected text after the inserted rows";
}

}  // namespace

QualifiedName read_qualified_name(TokenCursor& cursor) noexcept {
    QualifiedName out;
    if (!cursor.peek().is_name()) return out;
    const std::uint32_t begin = cursor.position();
    out.name = &cursor.next();
    if (cursor.peek().is_punct('.') && cursor.peek(1).is_name()) {
        cursor.next();
        out.schema = out.name;
        out.name = &cursor.next();
    }
    out.text = cursor.span(begin, cursor.position());
    return out;
}

InsertSyntax parse_insert(TokenCursor& cursor, InsertShape& shape) {
    InsertSyntax out;
    // A VALUES list of plain literals has a value per 2 to 3 tokens (value and comma, plus
    // each row's parentheses): reserve instead of regrowing (a no-op within inline storage).
    out.values.reserve(cursor.tokens().size() / 2 + 4);
    shape.rows.reserve(cursor.tokens().size() / 8 + 1);
    skip_analyze_prefix(cursor);
    cursor.next();  // INSERT or REPLACE
    while (cursor.peek().is_keyword("LOW_PRIORITY") || cursor.peek().is_keyword("DELAYED") ||
           cursor.peek().is_keyword("HIGH_PRIORITY") || cursor.peek().is_keyword("IGNORE")) {
        if (cursor.next().is_keyword("IGNORE")) shape.ignore = true;
    }
    cursor.accept("INTO");
    out.table = read_qualified_name(cursor);
    if (out.table.name == nullptr) {
        out.problem = "cannot read the table name";
        return out;
    }
    if (cursor.accept("PARTITION") && !cursor.skip_parenthesised()) {
        out.problem = "cannot read the PARTITION list";
        return out;
    }
    if (cursor.peek().is_punct('(') && !starts_query(cursor.peek(1)) && !read_column_list(cursor, out, shape)) {
        out.problem = "cannot read the column list";
        return out;
    }
    if (cursor.accept("VALUES") || cursor.accept("VALUE")) {
        if (!read_rows(cursor, out, shape)) {
            out.problem = "cannot read the VALUES rows";
            return out;
        }
    } else if (cursor.accept("SET")) {
        read_set_form(cursor, out, shape);
        if (!out.problem.empty()) return out;
    } else if (starts_query(cursor.peek())) {
        out.from_query = true;
        return out;
    } else {
        out.problem = "expected VALUES, SET or SELECT";
        return out;
    }
    out.row_count = shape.rows.size();
    read_tail(cursor, out, shape);
    return out;
}

}  // namespace uniqgate::rules::detail
