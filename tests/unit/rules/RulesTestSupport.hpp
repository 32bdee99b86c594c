#pragma once
// Shared fixtures for the rules/ unit tests: two rule tables as a proxy would describe
// them from information_schema, and a session in database `shop`.

#include "config/Config.hpp"
#include "rules/Analyser.hpp"
#include "rules/RuleSet.hpp"
#include "rules/SessionContext.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace uniqgate::rules::testing {

inline ColumnInfo column(std::string name, ColumnType type, std::string collation = {}, bool nullable = true,
                         ColumnDefault default_value = {}) {
    ColumnInfo info;
    info.name = std::move(name);
    info.type = type;
    info.collation = std::move(collation);
    info.nullable = nullable;
    info.default_value = std::move(default_value);
    return info;
}

// shop.product(id PK AUTO_INCREMENT, name, model DEFAULT '', price DECIMAL(10,2) DEFAULT 0,
//              delete_status TINYINT NOT NULL DEFAULT 0, created_at DEFAULT CURRENT_TIMESTAMP)
inline TableSchema product_schema() {
    TableSchema schema;
    ColumnInfo id = column("id", ColumnType::integer, {}, false);
    id.auto_increment = true;
    schema.columns.push_back(id);
    schema.columns.push_back(column("name", ColumnType::text, "utf8mb4_general_ci", false));
    schema.columns.push_back(column("model", ColumnType::text, "utf8mb4_general_ci", false, {DefaultKind::literal, "''"}));
    ColumnInfo price = column("price", ColumnType::decimal, {}, true, {DefaultKind::literal, "0.00"});
    price.numeric_scale = 2;
    schema.columns.push_back(price);
    schema.columns.push_back(column("delete_status", ColumnType::integer, {}, false, {DefaultKind::literal, "0"}));
    schema.columns.push_back(column("created_at", ColumnType::temporal, {}, true, {DefaultKind::expression, "CURRENT_TIMESTAMP"}));
    schema.primary_key = {"id"};
    return schema;
}

// shop.users(id PK AUTO_INCREMENT, email utf8mb4_0900_ai_ci, tenant_id INT, deleted_at DATETIME NULL)
inline TableSchema users_schema() {
    TableSchema schema;
    ColumnInfo id = column("id", ColumnType::integer, {}, false);
    id.auto_increment = true;
    schema.columns.push_back(id);
    schema.columns.push_back(column("email", ColumnType::text, "utf8mb4_0900_ai_ci", false));
    schema.columns.push_back(column("tenant_id", ColumnType::integer, {}, false, {DefaultKind::literal, "1"}));
    schema.columns.push_back(column("deleted_at", ColumnType::temporal, {}, true, {DefaultKind::null, {}}));
    schema.primary_key = {"id"};
    return schema;
}

inline std::vector<config::Rule> test_rules() {
    config::Rule product;
    product.name = "product_name_model";
    product.table = {"shop", "product"};
    product.key = {"name", "model"};
    product.soft_delete = {"delete_status", "0"};
    product.mode = config::RuleMode::serialize;
    config::Rule users;
    users.name = "users_email";
    users.table = {"", "users"};
    users.key = {"tenant_id", "email"};
    users.soft_delete = {"deleted_at", std::nullopt};
    users.mode = config::RuleMode::dedup;
    return {product, users};
}

inline SessionContext shop_session() {
    SessionContext session;
    session.current_database = "shop";
    return session;
}

// Classifies and analyses `sql` against the test rules with the matching schema.
struct Analysed {
    Classification classification;
    WritePlan plan;
};

inline Analysed analyse(std::string_view sql, const SessionContext& session = shop_session()) {
    static const RuleSet rule_set(test_rules());
    static const TableSchema product = product_schema();
    static const TableSchema users = users_schema();
    Analysed out;
    out.classification = rule_set.classify(sql, session);
    const TableSchema* schema = nullptr;
    if (out.classification.rule_table == 0) schema = &product;
    if (out.classification.rule_table == 1) schema = &users;
    out.plan = analyse_write(sql, out.classification, rule_set, session, schema);
    return out;
}

}  // namespace uniqgate::rules::testing
