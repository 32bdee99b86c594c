#pragma once
// What the analyser needs to know about the session and the tables, as plain data.
// The proxy fills these from the handshake, the OK packets' status flags and
// information_schema; rules/ never asks the server anything itself.

#include "rules/Lexer.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace uniqgate::rules {

struct SessionContext {
    std::string_view current_database{};  // empty: no database selected
    bool no_backslash_escapes = false;  // status flag SERVER_STATUS_NO_BACKSLASH_ESCAPES (0x0200)
    int lower_case_table_names = 0;     // @@lower_case_table_names: 0 compares names exactly, 1 and 2 fold case
    Charset charset = Charset::utf8;    // @@character_set_client

    [[nodiscard]] LexOptions lex_options() const noexcept { return {no_backslash_escapes, charset}; }
};

// The comparison family of a column, from information_schema.COLUMNS.DATA_TYPE.
enum class ColumnType : std::uint8_t {
    integer,    // tinyint .. bigint, year, bit(<=64) is not here (see other)
    decimal,    // decimal, numeric (NUMERIC_SCALE matters)
    floating,   // float, double
    text,       // char, varchar, *text, enum, set: compared under the column's collation
    binary,     // binary, varbinary, *blob: bytes
    temporal,   // date, time, datetime, timestamp
    other,      // json, geometry, bit, ...
};

[[nodiscard]] ColumnType column_type_from_data_type(std::string_view data_type) noexcept;

// COLUMN_DEFAULT as the analyser needs it. `literal` is SQL text that evaluates to the
// default (e.g. `'draft'`, `0`), ready to be pasted into a statement the proxy builds.
enum class DefaultKind : std::uint8_t { none, null, literal, expression };
struct ColumnDefault {
    DefaultKind kind = DefaultKind::none;
    std::string literal{};
};

struct ColumnInfo {
    std::string name{};
    ColumnType type = ColumnType::text;
    std::string collation{};  // COLLATION_NAME; empty for non-text columns
    int numeric_scale = 0;  // decimal columns: NUMERIC_SCALE
    bool nullable = true;
    bool auto_increment = false;
    ColumnDefault default_value{};
};

struct TableSchema {
    std::vector<ColumnInfo> columns{};       // in ORDINAL_POSITION order
    std::vector<std::string> primary_key{};  // column names, in key order

    // Index of the column (names compare case-insensitively), or -1.
    [[nodiscard]] int find_column(std::string_view name) const noexcept;
};

}  // namespace uniqgate::rules
