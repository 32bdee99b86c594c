// libFuzzer target: classification and full analysis of any statement against a fixed
// rule set, and the temporary tables it creates or drops; spans in the plan must lie inside
// the statement, table indexes inside the rule set, and nothing may crash.

#include "rules/Analyser.hpp"
#include "rules/KeyIdentity.hpp"
#include "rules/TemporaryTables.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

using namespace uniqgate::rules;

ColumnInfo make_column(const char* name, ColumnType type, const char* collation, DefaultKind kind, const char* literal) {
    ColumnInfo column;
    column.name = name;
    column.type = type;
    column.collation = collation;
    column.default_value = {kind, literal};
    column.numeric_scale = type == ColumnType::decimal ? 2 : 0;
    return column;
}

const RuleSet& rule_set() {
    static const RuleSet rules = [] {
        uniqgate::config::Rule product;
        product.name = "product";
        product.table = {"shop", "product"};
        product.key = {"name", "model"};
        product.soft_delete = {"delete_status", "0"};
        uniqgate::config::Rule dedup = product;
        dedup.name = "product_sku";
        dedup.key = {"sku"};
        dedup.mode = uniqgate::config::RuleMode::dedup;
        dedup.soft_delete = {"deleted_at", std::nullopt};
        return RuleSet({product, dedup});
    }();
    return rules;
}

const TableSchema& schema() {
    static const TableSchema table = [] {
        TableSchema t;
        t.columns.push_back(make_column("id", ColumnType::integer, "", DefaultKind::none, ""));
        t.columns.push_back(make_column("name", ColumnType::text, "utf8mb4_general_ci", DefaultKind::none, ""));
        t.columns.push_back(make_column("model", ColumnType::text, "latin1_swedish_ci", DefaultKind::literal, "'x'"));
        t.columns.push_back(make_column("sku", ColumnType::decimal, "", DefaultKind::null, ""));
        t.columns.push_back(make_column("delete_status", ColumnType::integer, "", DefaultKind::literal, "0"));
        t.columns.push_back(make_column("deleted_at", ColumnType::temporal, "", DefaultKind::null, ""));
        return t;
    }();
    return table;
}

void check_span(Span span, std::string_view sql) {
    if (span.begin > span.end || span.end > sql.size()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    SessionContext session;
    session.current_database = "shop";
    session.no_backslash_escapes = (data[0] & 1) != 0;
    session.charset = static_cast<Charset>((data[0] >> 1) % 8);
    session.lower_case_table_names = (data[0] >> 4) % 3;
    const std::string_view sql(reinterpret_cast<const char*>(data + 1), size - 1);
    const Classification classification = rule_set().classify(sql, session);
    const WritePlan plan = analyse_write(sql, classification, rule_set(), session, (data[0] & 0x80) ? nullptr : &schema());
    for (const Span span : plan.insert.rows) check_span(span, sql);
    for (const Span span : {plan.insert.values, plan.insert.on_duplicate_key_update, plan.filter.where, plan.filter.order_by,
                            plan.filter.limit, plan.filter.set_list, plan.filter.table_reference, plan.table_name}) {
        check_span(span, sql);
    }
    for (const RulePlan& rule : plan.rules) {
        for (const ValueRef& value : rule.key_values) check_span(value.text, sql);
        for (std::size_t row = 0; row < rule.rows.size(); ++row) {
            if (rule.rows[row].identity_end > rule.identities.size()) std::abort();
        }
    }
    const TemporaryTableChange temporary = temporary_table_change(sql, rule_set(), session);
    for (const int table : temporary.created) {
        if (table < 0 || static_cast<std::size_t>(table) >= rule_set().tables().size()) std::abort();
    }
    for (const int table : temporary.dropped) {
        if (table < 0 || static_cast<std::size_t>(table) >= rule_set().tables().size()) std::abort();
    }
    // Number canonicalisation on the raw text, too.
    (void)canonical_number(sql, data[0] % 4);
    return 0;
}
