#pragma once
// SQL fragments for one rule's table, as the control-connection commands (`check`,
// `migrate`) write them: quoted column lists, "the row is live", "the key matches".

#include "config/Config.hpp"
#include "proxy/ControlConnection.hpp"

#include <string>
#include <string_view>

namespace uniqgate::proxy {

class RuleSql {
public:
    // `conn` quotes string values (the soft-delete `live` value) and must outlive this.
    RuleSql(const ControlConnection& conn, const config::Rule& rule);

    // alias.`column`, or `column` when alias is empty.
    static std::string column_ref(std::string_view alias, const std::string& column);

    // `schema`.`table` of the rule's source table.
    const std::string& table() const { return table_; }
    // s.`k1`, s.`k2`
    std::string key_list(std::string_view alias) const;
    // d.`k1` = s.`k1` AND d.`k2` = s.`k2`
    std::string keys_match(std::string_view left, std::string_view right) const;
    // s.`delete_status` = 0, or s.`deleted_at` IS NULL
    std::string live_condition(std::string_view alias) const;
    // The live rows a unique index would hold: live, and no key column NULL (a NULL never
    // collides).
    std::string live_rows(std::string_view alias) const;

private:
    const ControlConnection& conn_;
    const config::Rule& rule_;
    std::string table_;
};

// The rule's dedup table with its schema filled in: `dedup_table` may be written without
// a schema, and then lives in the source table's schema.
config::TableName effective_dedup_table(const config::Rule& rule);

}  // namespace uniqgate::proxy
