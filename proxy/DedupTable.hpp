#pragma once
// What a dedup table must look like (../shared/DESIGN.md, "mode: dedup"): exactly the
// rule's key columns, each with the source column's type, character set and collation
// and NOT NULL, and the key as its primary key. The database's own primary key then
// decides which keys are equal, exactly as a unique index on the source would.

#include "config/Config.hpp"
#include "proxy/ControlQueries.hpp"

#include <string>
#include <vector>

namespace uniqgate::proxy {

// CREATE TABLE IF NOT EXISTS for the rule's dedup table. `source` must have the key columns.
// No AUTO_INCREMENT and no other columns: the business key alone is the identity, so any
// number of writers and proxies agree on it.
std::string dedup_table_definition(const config::Rule& rule, const TableInfo& source);

// How an existing dedup table differs from that definition, one sentence each; empty
// when it matches. (Migrate never drops or alters a table: the user fixes it.)
std::vector<std::string> dedup_table_mismatches(const config::Rule& rule, const TableInfo& source,
                                                const TableInfo& dedup);

}  // namespace uniqgate::proxy
