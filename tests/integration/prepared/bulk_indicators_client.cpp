// prepared_test.py bulk_indicators: MariaDB Connector/C array binding (one COM_STMT_BULK_EXECUTE
// per batch) with DEFAULT indicators, on the rule table UG_TABLE (database shop) through
// UG_HOST:UG_PORT as UG_USER / UG_PASSWORD. Prints a line per batch:
//   <batch>: ok <affected rows> | error <errno> <message>; executes <n>
// where n is what the batch added to the session's Com_stmt_execute (the proxy's own
// statements run on the same connection: 0 means everything it sent was text).
#include <mysql.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

// One parameter of a batch: its value in each row, as a column of the array binding.
struct Column {
    bool integer = false;
    std::vector<int> ints{};
    std::vector<const char*> texts{};  // nullptr: the DEFAULT indicator
    std::vector<char> indicators{};
};

Column ints(std::vector<int> values) {
    Column column;
    column.integer = true;
    column.ints = std::move(values);
    column.indicators.assign(column.ints.size(), STMT_INDICATOR_NONE);
    return column;
}

Column texts(std::vector<const char*> values) {
    Column column;
    column.texts = std::move(values);
    for (const char* value : column.texts) {
        column.indicators.push_back(value == nullptr ? STMT_INDICATOR_DEFAULT : STMT_INDICATOR_NTS);
    }
    for (auto& value : column.texts) {
        if (value == nullptr) value = "";
    }
    return column;
}

Column defaults(std::size_t rows) {
    Column column = ints(std::vector<int>(rows, 0));
    column.indicators.assign(rows, STMT_INDICATOR_DEFAULT);
    return column;
}

long long session_executes(MYSQL* mysql) {
    if (mysql_query(mysql, "SHOW SESSION STATUS LIKE 'Com_stmt_execute'") != 0) return -1;
    MYSQL_RES* result = mysql_store_result(mysql);
    if (result == nullptr) return -1;
    MYSQL_ROW row = mysql_fetch_row(result);
    const long long value = row != nullptr && row[1] != nullptr ? std::atoll(row[1]) : -1;
    mysql_free_result(result);
    return value;
}

void run_batch(MYSQL* mysql, const char* name, const std::string& sql, std::vector<Column> columns) {
    MYSQL_STMT* stmt = mysql_stmt_init(mysql);
    if (mysql_stmt_prepare(stmt, sql.c_str(), sql.size()) != 0) {
        std::printf("%s: error %u %s; executes 0\n", name, mysql_stmt_errno(stmt), mysql_stmt_error(stmt));
        mysql_stmt_close(stmt);
        return;
    }
    unsigned int rows = static_cast<unsigned int>(columns.front().indicators.size());
    mysql_stmt_attr_set(stmt, STMT_ATTR_ARRAY_SIZE, &rows);
    std::vector<MYSQL_BIND> binds(columns.size());
    for (std::size_t i = 0; i < columns.size(); ++i) {
        std::memset(&binds[i], 0, sizeof(MYSQL_BIND));
        auto& column = columns[i];
        binds[i].buffer_type = column.integer ? MYSQL_TYPE_LONG : MYSQL_TYPE_STRING;
        binds[i].buffer = column.integer ? static_cast<void*>(column.ints.data()) : static_cast<void*>(column.texts.data());
        binds[i].u.indicator = column.indicators.data();
    }
    mysql_stmt_bind_param(stmt, binds.data());
    const long long before = session_executes(mysql);
    const bool failed = mysql_stmt_execute(stmt) != 0;
    std::string answer = failed ? "error " + std::to_string(mysql_stmt_errno(stmt)) + " " + mysql_stmt_error(stmt)
                                : "ok " + std::to_string(mysql_stmt_affected_rows(stmt));
    mysql_stmt_close(stmt);
    std::printf("%s: %s; executes %lld\n", name, answer.c_str(), session_executes(mysql) - before);
}

const char* env(const char* name) {
    const char* value = std::getenv(name);
    return value != nullptr ? value : "";
}

}  // namespace

int main() {
    MYSQL* mysql = mysql_init(nullptr);
    if (mysql_real_connect(mysql, env("UG_HOST"), env("UG_USER"), env("UG_PASSWORD"), "shop",
                           static_cast<unsigned int>(std::atoi(env("UG_PORT"))), nullptr, 0) == nullptr) {
        std::printf("connect: error %u %s\n", mysql_errno(mysql), mysql_error(mysql));
        return 1;
    }
    const std::string table = env("UG_TABLE");
    const std::string insert = "INSERT INTO " + table + " (id, name, model, price) VALUES (?, ?, ?, ?)";
    // model's default is 'd': (a, m), (b, d), (c, m)
    run_batch(mysql, "insert", insert,
              {ints({1, 2, 3}), texts({"a", "b", "c"}), texts({"m", nullptr, "m"}), ints({1, 2, 3})});
    // (b, d) is live: 1062, and neither row goes in
    run_batch(mysql, "insert onto a live key", insert,
              {ints({4, 5}), texts({"e", "b"}), texts({"m", nullptr}), ints({4, 5})});
    // Row by row (any statement but a one-row INSERT): price to its default (NULL) and the
    // rows 1 and 3 to (a, n) and (c, n), both free
    run_batch(mysql, "update with a default", "UPDATE " + table + " SET price = ?, model = ? WHERE id = ?",
              {defaults(2), texts({"n", "n"}), ints({1, 3})});
    // Row 1 to (x, n), then row 3 onto it: 1062, and row 1 stays (a, n)
    run_batch(mysql, "update onto a live key", "UPDATE " + table + " SET price = ?, name = ? WHERE id = ?",
              {defaults(2), texts({"x", "x"}), ints({1, 3})});
    // Each bulk row a two-row INSERT: (f, d), (g, m), then (h, d), (i, m)
    run_batch(mysql, "two-row inserts", "INSERT INTO " + table +
                                            " (id, name, model, price) VALUES (?, ?, ?, ?), (?, ?, ?, ?)",
              {ints({6, 8}), texts({"f", "h"}), texts({nullptr, nullptr}), ints({6, 8}), ints({7, 9}),
               texts({"g", "i"}), texts({"m", "m"}), ints({7, 9})});
    // A key column set to its default: (g, m) and (i, m) become (g, d) and (i, d), both free
    run_batch(mysql, "key to its default", "UPDATE " + table + " SET model = ? WHERE id = ?",
              {texts({nullptr, nullptr}), ints({7, 9})});
    // Row 1 to (z, d), then row 3 onto the live (b, d): 1062, and row 1 stays (a, n)
    run_batch(mysql, "key onto a live default", "UPDATE " + table + " SET name = ?, model = ? WHERE id = ?",
              {texts({"z", "b"}), texts({nullptr, nullptr}), ints({1, 3})});
    // DEFAULT for a value in WHERE of a key UPDATE: SQL has no DEFAULT there (MariaDB itself
    // matches no row); the session goes on
    run_batch(mysql, "default in a condition", "UPDATE " + table + " SET model = ? WHERE id = ?",
              {texts({"q"}), defaults(1)});
    run_batch(mysql, "after the refusal", "UPDATE " + table + " SET price = ? WHERE id = ?", {ints({5}), ints({2})});
    // A bulk whose answer would be rows (INSERT ... RETURNING): refused, nothing inserted
    run_batch(mysql, "insert returning", insert + " RETURNING id",
              {ints({10, 11}), texts({"r", "s"}), texts({"m", "m"}), ints({10, 11})});
    mysql_close(mysql);
    return 0;
}
