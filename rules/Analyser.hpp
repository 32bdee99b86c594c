#pragma once
// Full analysis of a statement that RuleSet::classify found to involve a rule table.
//
//   Classification c = rule_set.classify(sql, session);          // every COM_QUERY
//   if (c.involves_rule()) {
//       const TableSchema* schema = cache.lookup(...);            // information_schema facts
//       WritePlan plan = analyse_write(sql, c, rule_set, session, schema);
//       if (!plan.unsupported_reason().empty()) ... ERR, unless the rule says passthrough
//       else if (!plan.needs_action()) ... relay
//       else ... execute plan.rules[i].actions
//   }
//
// `sql` must be one statement (split_statements first). Never throws on any input.

#include "rules/Plan.hpp"
#include "rules/RuleSet.hpp"
#include "rules/SessionContext.hpp"

#include <string_view>

namespace uniqgate::rules {

[[nodiscard]] WritePlan analyse_write(std::string_view sql, const Classification& classification, const RuleSet& rule_set,
                                      const SessionContext& session, const TableSchema* schema);

}  // namespace uniqgate::rules
