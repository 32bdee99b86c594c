#pragma once
// CREATE TEMPORARY TABLE and DROP TABLE statements that name a rule table. A session's
// temporary table hides the base table of the same name from that session: its
// statements, and the proxy's own on its connection, reach the temporary table. While
// it exists the session's writes to that name are no rule's business (checking them
// against the rule table, or claiming their keys in its dedup table, would be wrong).

#include "rules/RuleSet.hpp"
#include "rules/SessionContext.hpp"

#include <string_view>
#include <vector>

namespace uniqgate::rules {

struct TemporaryTableChange {
    std::vector<int> created;  // rule tables (RuleSet::tables() indexes) a CREATE TEMPORARY TABLE hides
    std::vector<int> dropped;  // rule tables a DROP [TEMPORARY] TABLE names: a temporary one goes first

    [[nodiscard]] bool empty() const noexcept { return created.empty() && dropped.empty(); }
};

// Of every statement in `sql` (a multi-statement too). Never throws on any input.
[[nodiscard]] TemporaryTableChange temporary_table_change(std::string_view sql, const RuleSet& rules,
                                                          const SessionContext& session);

}  // namespace uniqgate::rules
