// Prepared writes bound into text: placeholders found as the lexer sees them,
// values rendered by the proxy (never the client's bytes), long data, ids.
#include "proxy/PreparedWrites.hpp"

#include <gtest/gtest.h>

namespace uniqgate::proxy {
namespace {

using protocol::ParamType;
using protocol::ParamValue;
namespace field_type = protocol::field_type;

PreparedWrite prepared(std::string sql) {
    PreparedWrite write;
    write.sql = std::move(sql);
    write.placeholders = find_placeholders(write.sql, rules::LexOptions{}, &write.row_counts);
    write.param_count = static_cast<std::uint16_t>(write.placeholders.size());
    write.long_data.assign(write.param_count, {});
    write.has_long_data.assign(write.param_count, false);
    return write;
}

protocol::StmtExecute execute_of(std::vector<ParamType> types, std::vector<ParamValue> params) {
    protocol::StmtExecute execute;
    execute.types = std::move(types);
    execute.params = std::move(params);
    return execute;
}

TEST(PreparedWrites, FindsOnlyRealPlaceholders) {
    const auto write = prepared("INSERT INTO t (a, b) VALUES (?, '?') /* ? */ -- ?\n, (?)");
    ASSERT_EQ(write.placeholders.size(), 2U);
    EXPECT_EQ(write.placeholders[0].in(write.sql), "?");
    EXPECT_EQ(write.placeholders[0].begin, 29U);
    EXPECT_EQ(write.placeholders[1].begin, write.sql.size() - 2);
}

TEST(PreparedWrites, BindsNumbersStringsAndNullAsLiterals) {
    const auto write = prepared("INSERT INTO t (id, name, price, note) VALUES (?, ?, ?, ?)");
    const std::uint8_t id[] = {0xfb, 0xff, 0xff, 0xff};  // -5
    const std::uint8_t price[] = {0x00, 0x00, 0xc0, 0x3f};  // 1.5f
    const auto execute = execute_of(
        {{field_type::long_int, 0}, {field_type::var_string, 0}, {field_type::float_type, 0}, {field_type::null, 0}},
        {ParamValue::of(protocol::ByteView(id)), ParamValue::of(std::string_view("it's")),
         ParamValue::of(protocol::ByteView(price)), ParamValue{}});
    const auto text = bind_as_text(write, execute, "utf8mb4");
    ASSERT_TRUE(text) << text.error().message();
    EXPECT_EQ(text.value(), "INSERT INTO t (id, name, price, note) VALUES (-5, _utf8mb4 X'69742773', 1.5e+00, NULL)")
        << "a quote in a value can never end the literal: strings go as hex";
}

TEST(PreparedWrites, WholeDoublesCountingRowsGoAsDigits) {
    // node mysql2 binds every JavaScript number as a DOUBLE; MariaDB takes one as a LIMIT
    // count when bound, but LIMIT 1e+00 is a syntax error.
    const auto write = prepared("UPDATE t SET price = ? WHERE a = ? ORDER BY id LIMIT ?, ?");
    EXPECT_EQ(write.row_counts, (std::vector<bool>{false, false, true, true}));
    const std::uint8_t one[] = {0, 0, 0, 0, 0, 0, 0xf0, 0x3f};   // 1.0
    const std::uint8_t half[] = {0, 0, 0, 0, 0, 0, 0xe0, 0x3f};  // 0.5
    const std::uint8_t two_f[] = {0x00, 0x00, 0x00, 0x40};        // 2.0f
    const ParamType dbl{field_type::double_type, 0};
    const auto execute = execute_of({dbl, dbl, dbl, {field_type::float_type, 0}},
                                    {ParamValue::of(protocol::ByteView(one)), ParamValue::of(protocol::ByteView(one)),
                                     ParamValue::of(protocol::ByteView(half)), ParamValue::of(protocol::ByteView(two_f))});
    EXPECT_EQ(bind_as_text(write, execute, "utf8mb4").value(),
              "UPDATE t SET price = 1e+00 WHERE a = 1e+00 ORDER BY id LIMIT 5e-01, 2")
        << "only whole counts change; a value elsewhere keeps its DOUBLE type";
    EXPECT_EQ(prepared("DELETE FROM t LIMIT ? OFFSET ?").row_counts, (std::vector<bool>{true, true}));
    EXPECT_EQ(prepared("SELECT ?, ? FROM t LIMIT 3, ?").row_counts, (std::vector<bool>{false, false, true}));
}

TEST(PreparedWrites, BytesThatAreNotUtf8StayBinary) {
    const auto write = prepared("SELECT ?");
    const std::uint8_t bytes[] = {0xff, 0x27};
    const auto execute = execute_of({{field_type::blob, 0}}, {ParamValue::of(protocol::ByteView(bytes))});
    EXPECT_EQ(bind_as_text(write, execute, "utf8mb4").value(), "SELECT _binary X'FF27'");
    EXPECT_EQ(bind_as_text(write, execute, "latin1").value(), "SELECT _latin1 X'FF27'")
        << "every byte sequence is valid latin1";
}

TEST(PreparedWrites, LongDataTakesThePlaceOfTheValue) {
    auto write = prepared("INSERT INTO t (name) VALUES (?)");
    write.long_data[0] = "long";
    write.has_long_data[0] = true;
    const auto execute = execute_of({{field_type::blob, 0}}, {ParamValue{ParamValue::Kind::long_data, {}}});
    EXPECT_EQ(bind_as_text(write, execute, "utf8mb4").value(), "INSERT INTO t (name) VALUES (_utf8mb4 X'6C6F6E67')");
    write.has_long_data[0] = false;
    EXPECT_EQ(bind_as_text(write, execute, "utf8mb4").value(), "INSERT INTO t (name) VALUES (_utf8mb4 X'')")
        << "defensive: decode only yields long data for parameters that had some";
}

TEST(PreparedWrites, RefusesWhatItCannotRender) {
    const auto write = prepared("INSERT INTO t VALUES (?, ?)");
    const std::uint8_t nan[] = {0x00, 0x00, 0xc0, 0x7f};
    EXPECT_FALSE(bind_as_text(write, execute_of({{field_type::float_type, 0}, {field_type::tiny, 0}},
                                                {ParamValue::of(protocol::ByteView(nan)), ParamValue{}}),
                              "utf8mb4"))
        << "NaN has no SQL literal";
    EXPECT_FALSE(bind_as_text(write, execute_of({{field_type::tiny, 0}}, {ParamValue{}}), "utf8mb4"))
        << "fewer values than placeholders";
}

TEST(PreparedWrites, BulkRowsBecomeOneMultiRowInsert) {
    auto write = prepared("INSERT INTO t (id, name) VALUES (?, ?) -- batch");
    const auto row_at = static_cast<std::uint32_t>(write.sql.find("(?, ?)"));
    write.values_row = {row_at, row_at + 6};
    ASSERT_EQ(write.values_row.in(write.sql), "(?, ?)");
    const std::uint8_t one[] = {1}, two[] = {2};
    protocol::StmtBulkExecute bulk;
    bulk.types = {{field_type::tiny, 0}, {field_type::var_string, 0}};
    bulk.rows = {{ParamValue::of(protocol::ByteView(one)), ParamValue::of(std::string_view("a"))},
                 {ParamValue::of(protocol::ByteView(two)), ParamValue{ParamValue::Kind::default_value, {}}},
                 {ParamValue{}, ParamValue{ParamValue::Kind::ignore, {}}}};
    EXPECT_EQ(bind_rows_as_text(write, write.values_row, bulk, "utf8mb4").value(),
              "INSERT INTO t (id, name) VALUES (1, _utf8mb4 X'61'), (2, DEFAULT), (NULL, DEFAULT) -- batch");

    auto outside = prepared("INSERT INTO t (id) VALUES (?) ON DUPLICATE KEY UPDATE n = ?");
    const auto outside_at = static_cast<std::uint32_t>(outside.sql.find("(?)"));
    outside.values_row = {outside_at, outside_at + 3};
    bulk.types = {{field_type::tiny, 0}, {field_type::tiny, 0}};
    bulk.rows = {{ParamValue::of(protocol::ByteView(one)), ParamValue::of(protocol::ByteView(two))}};
    EXPECT_FALSE(bind_rows_as_text(outside, outside.values_row, bulk, "utf8mb4"))
        << "a placeholder outside the row would need one value for every row";
}

TEST(PreparedWrites, BulkRowsBoundKeepTheirValuesOutOfTheText) {
    auto write = prepared("INSERT INTO t (id, name) VALUES (?, ?) -- batch");
    const auto row_at = static_cast<std::uint32_t>(write.sql.find("(?, ?)"));
    write.values_row = {row_at, row_at + 6};
    const std::vector<ParamType> types = {{field_type::tiny, 0}, {field_type::var_string, 0}};
    const std::uint8_t one[] = {1}, two[] = {2};
    BoundRows rows{write.sql.substr(0, row_at)};
    ASSERT_TRUE(append_bulk_row(rows, write, write.values_row, types,
                                {ParamValue::of(protocol::ByteView(one)), ParamValue::of(std::string_view("it's"))}));
    rows.sql += ", ";
    ASSERT_TRUE(append_bulk_row(rows, write, write.values_row, types,
                                {ParamValue::of(protocol::ByteView(two)), ParamValue{ParamValue::Kind::default_value, {}}}));
    rows.sql += ", ";
    ASSERT_TRUE(append_bulk_row(rows, write, write.values_row, types, {ParamValue{}, ParamValue{ParamValue::Kind::ignore, {}}}));
    rows.sql.append(write.sql, write.values_row.end);
    EXPECT_EQ(rows.sql, "INSERT INTO t (id, name) VALUES (?, ?), (?, DEFAULT), (?, DEFAULT) -- batch");
    ASSERT_EQ(rows.values.size(), 4U);
    EXPECT_EQ(rows.values[0], std::string(1, '\x01'));
    EXPECT_EQ(rows.values[1], "it's");
    EXPECT_EQ(rows.values[2], std::string(1, '\x02'));
    EXPECT_EQ(rows.values[3], std::nullopt) << "NULL stays a `?`, bound as NULL";
    ASSERT_EQ(rows.types.size(), 4U);
    EXPECT_EQ(rows.types[1].type, field_type::var_string);
    EXPECT_EQ(rows.types[3].type, field_type::tiny);

    BoundRows whole;
    const auto update = prepared("UPDATE t SET name = ? WHERE id = ?");
    ASSERT_TRUE(append_bulk_row(whole, update, {0, static_cast<std::uint32_t>(update.sql.size())}, types,
                                {ParamValue{ParamValue::Kind::default_value, {}}, ParamValue::of(protocol::ByteView(one))}));
    EXPECT_EQ(whole.sql, "UPDATE t SET name = DEFAULT WHERE id = ?");
    EXPECT_EQ(whole.values.size(), 1U);

    BoundRows short_row;
    EXPECT_FALSE(append_bulk_row(short_row, update, {0, static_cast<std::uint32_t>(update.sql.size())}, types,
                                 {ParamValue::of(protocol::ByteView(one))}))
        << "fewer values than placeholders";
    BoundRows outside;
    EXPECT_FALSE(append_bulk_row(outside, write, {row_at, row_at + 3}, types,
                                 {ParamValue::of(protocol::ByteView(one)), ParamValue::of(protocol::ByteView(two))}))
        << "a placeholder outside the part";
}

TEST(PreparedWrites, StatementIdsAndTheLastPrepared) {
    const std::uint8_t execute[] = {0x17, 0x2a, 0x00, 0x00, 0x01, 0x00};
    EXPECT_EQ(statement_id_of(protocol::ByteView(execute)), 0x100002aU);
    EXPECT_FALSE(statement_id_of(protocol::ByteView(execute, 4)));

    PreparedWrites writes;
    EXPECT_TRUE(writes.empty());
    writes.prepared(7);
    writes.remember(7, prepared("INSERT INTO t VALUES (?)"));
    writes.prepared(8);  // a statement on another table: not remembered
    EXPECT_NE(writes.find(7), nullptr);
    EXPECT_EQ(writes.find(8), nullptr);
    EXPECT_EQ(writes.find(PreparedWrites::kLastPrepared), nullptr) << "-1 names statement 8";
    writes.prepared(7);
    EXPECT_NE(writes.find(PreparedWrites::kLastPrepared), nullptr);
    EXPECT_EQ(writes.find(7)->has_long_data.size(), 1U);
    writes.forget(7);
    EXPECT_EQ(writes.find(7), nullptr);
    writes.remember(9, prepared("INSERT INTO t VALUES (?)"));
    writes.clear();
    EXPECT_TRUE(writes.empty());
}

TEST(PreparedWrites, TableChangesAreStatementsTooUntilClosed) {
    PreparedWrites writes;
    rules::TemporaryTableChange create;
    create.created = {0};
    writes.prepared(3);
    writes.remember(3, create);
    EXPECT_FALSE(writes.empty()) << "its executes must be looked at";
    EXPECT_EQ(writes.find(3), nullptr) << "not a write";
    ASSERT_NE(writes.find_table_change(PreparedWrites::kLastPrepared), nullptr);
    EXPECT_EQ(writes.find_table_change(3)->created, std::vector<int>{0});
    writes.forget(PreparedWrites::kLastPrepared);
    EXPECT_EQ(writes.find_table_change(3), nullptr);
    EXPECT_TRUE(writes.empty());

    writes.remember(4, create);
    writes.remember(4, prepared("INSERT INTO t VALUES (?)"));  // one id, one meaning
    EXPECT_EQ(writes.find_table_change(4), nullptr);
    writes.remember(4, create);
    EXPECT_EQ(writes.find(4), nullptr);
    writes.clear();
    EXPECT_TRUE(writes.empty());
}

}  // namespace
}  // namespace uniqgate::proxy
