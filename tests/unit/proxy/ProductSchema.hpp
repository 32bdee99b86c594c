#pragma once
// The rule table the proxy unit tests build SQL for, as information_schema describes it.
#include "proxy/SchemaCache.hpp"

namespace uniqgate::proxy::test {

// shop.product: id BIGINT AUTO_INCREMENT PRIMARY KEY, name/model utf8mb4_general_ci
// (model DEFAULT 'std'), delete_status TINYINT DEFAULT 0.
inline rules::TableSchema product_schema() {
    std::vector<protocol::TextRow> rows = {
        {"id", "bigint", std::nullopt, "0", "NO", "auto_increment", std::nullopt, "PRI"},
        {"name", "varchar", "utf8mb4_general_ci", std::nullopt, "NO", "", std::nullopt, "MUL"},
        {"model", "varchar", "utf8mb4_general_ci", std::nullopt, "NO", "", "'std'", ""},
        {"delete_status", "tinyint", std::nullopt, "0", "NO", "", "0", ""},
    };
    return parse_schema_rows(rows).value();
}

}  // namespace uniqgate::proxy::test
