// rules/ hot paths. Targets (DESIGN.md / issue 3): classify a statement that matches no
// rule in under 100 ns; analyse a 10-row INSERT on a rule table in under 2 us.

#include "rules/Analyser.hpp"
#include "rules/StatementSplitter.hpp"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <new>
#include <string>

// Counts operator new calls, so each benchmark can report allocations per iteration
// ("allocs" counter) next to its time.
namespace {
long allocations = 0;
}  // namespace

void* operator new(std::size_t size) {
    ++allocations;
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

// Reports the operator new calls made since `before`, per iteration.
void report_allocations(benchmark::State& state, long before) {
    state.counters["allocs"] = benchmark::Counter(static_cast<double>(allocations - before), benchmark::Counter::kAvgIterations);
}

using namespace uniqgate::rules;

std::vector<uniqgate::config::Rule> rules() {
    uniqgate::config::Rule product;
    product.name = "product_name_model";
    product.table = {"shop", "product"};
    product.key = {"name", "model"};
    product.soft_delete = {"delete_status", "0"};
    uniqgate::config::Rule users = product;
    users.name = "users_email";
    users.table = {"", "users"};
    users.key = {"email"};
    return {product, users};
}

ColumnInfo column(const char* name, ColumnType type, const char* collation) {
    ColumnInfo info;
    info.name = name;
    info.type = type;
    info.collation = collation;
    return info;
}

TableSchema product_schema() {
    TableSchema schema;
    schema.columns = {column("id", ColumnType::integer, ""), column("name", ColumnType::text, "utf8mb4_general_ci"),
                      column("model", ColumnType::text, "utf8mb4_general_ci"), column("price", ColumnType::decimal, ""),
                      column("delete_status", ColumnType::integer, "")};
    schema.columns[4].default_value = {DefaultKind::literal, "0"};
    schema.columns[4].nullable = false;
    return schema;
}

SessionContext session() {
    SessionContext s;
    s.current_database = "shop";
    return s;
}

void classify(benchmark::State& state, const char* sql) {
    const RuleSet rule_set(rules());
    const SessionContext context = session();
    const long before = allocations;
    for (auto _ : state) {
        Classification c = rule_set.classify(sql, context);
        benchmark::DoNotOptimize(c);
    }
    report_allocations(state, before);
}

BENCHMARK_CAPTURE(classify, select, "SELECT id, name, price FROM product WHERE id = 42");
BENCHMARK_CAPTURE(classify, select_with_comment, "/* app:shop,controller:orders */ SELECT * FROM orders WHERE id = 42");
BENCHMARK_CAPTURE(classify, update_other_table, "UPDATE orders SET qty = 3 WHERE id = 42");
BENCHMARK_CAPTURE(classify, insert_other_table, "INSERT INTO orders (product_id, qty) VALUES (42, 3)");
BENCHMARK_CAPTURE(classify, delete_other_table, "DELETE FROM orders WHERE id = 42");
BENCHMARK_CAPTURE(classify, begin, "BEGIN");
BENCHMARK_CAPTURE(classify, commit, "COMMIT");
BENCHMARK_CAPTURE(classify, set_autocommit, "SET autocommit=0");
BENCHMARK_CAPTURE(classify, insert_rule_table, "INSERT INTO product (name, model) VALUES ('a', 'b')");

std::string insert_rows(int rows) {
    std::string sql = "INSERT INTO product (name, model, price) VALUES ";
    for (int i = 0; i < rows; ++i) {
        if (i > 0) sql += ", ";
        sql += "('product " + std::to_string(i) + "', 'Model-X " + std::to_string(i) + "', 19.99)";
    }
    return sql;
}

void analyse_insert(benchmark::State& state) {
    const RuleSet rule_set(rules());
    const SessionContext context = session();
    const TableSchema schema = product_schema();
    const std::string sql = insert_rows(static_cast<int>(state.range(0)));
    const long before = allocations;
    for (auto _ : state) {
        const Classification c = rule_set.classify(sql, context);
        WritePlan plan = analyse_write(sql, c, rule_set, context, &schema);
        benchmark::DoNotOptimize(plan);
    }
    report_allocations(state, before);
    state.SetItemsProcessed(state.iterations() * state.range(0));
}

BENCHMARK(analyse_insert)->Arg(1)->Arg(10)->Arg(1000);

void analyse_update(benchmark::State& state) {
    const RuleSet rule_set(rules());
    const SessionContext context = session();
    const TableSchema schema = product_schema();
    const std::string sql = "UPDATE product SET name = 'x', price = 3 WHERE id = 42";
    const long before = allocations;
    for (auto _ : state) {
        const Classification c = rule_set.classify(sql, context);
        WritePlan plan = analyse_write(sql, c, rule_set, context, &schema);
        benchmark::DoNotOptimize(plan);
    }
    report_allocations(state, before);
}

BENCHMARK(analyse_update);

void split(benchmark::State& state) {
    const std::string sql = "BEGIN; INSERT INTO orders VALUES (1, 'a;b'); UPDATE orders SET x = 1 WHERE id = 2; COMMIT";
    const long before = allocations;
    for (auto _ : state) {
        SplitStatements result = split_statements(sql, {});
        benchmark::DoNotOptimize(result);
    }
    report_allocations(state, before);
}

BENCHMARK(split);

}  // namespace
