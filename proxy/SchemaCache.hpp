#pragma once
// Column facts of rule tables (types, collations, defaults, primary key), read
// from information_schema on a session's own backend connection and shared by
// every session. Any DDL statement clears the cache: the next write to a rule
// table reads the table again.

#include "protocol/TextResultRow.hpp"
#include "rules/SessionContext.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace uniqgate::proxy {

class SchemaCache {
public:
    std::shared_ptr<const rules::TableSchema> find(const std::string& schema, const std::string& table) const;
    void store(const std::string& schema, const std::string& table, std::shared_ptr<const rules::TableSchema> facts);
    void clear();

private:
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, std::string>, std::shared_ptr<const rules::TableSchema>> tables_;
};

// The information_schema query whose rows parse_schema_rows reads.
std::string schema_query(const std::string& schema, const std::string& table, bool no_backslash_escapes);

// nullopt when the table does not exist (no rows).
std::optional<rules::TableSchema> parse_schema_rows(const std::vector<protocol::TextRow>& rows);

}  // namespace uniqgate::proxy
