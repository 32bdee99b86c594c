#pragma once
// The parts of a rule's report that `check` and `migrate` share: live duplicate groups
// (what a unique index over the live rows would refuse today) and the drift between a
// dedup table and the live keys of its source. Lines are indented for a rule's section.

#include "config/Config.hpp"
#include "proxy/ControlConnection.hpp"

#include <cstddef>
#include <iosfwd>
#include <string>
#include <vector>

namespace uniqgate::proxy {

// Prints "  live duplicates: none", or the number of groups and surplus rows and the
// largest `max_groups` groups, each with up to 10 primary keys (none when `primary_key`
// is empty). Rows with a NULL key column never count; the server's GROUP BY decides which
// values are equal (collation, trailing spaces). True when there are duplicates.
// Throws QueryFailed.
bool report_live_duplicates(ControlConnection& conn, const config::Rule& rule,
                            const std::vector<std::string>& primary_key, std::size_t max_groups, std::ostream& out);

// Prints "  dedup table <name>:" and how many live keys are missing from it and how many
// keys in it are not live in the source, with samples. `dedup` must exist and have the
// key columns. True when there is drift. Throws QueryFailed.
bool report_dedup_drift(ControlConnection& conn, const config::Rule& rule, const config::TableName& dedup,
                        std::ostream& out);

}  // namespace uniqgate::proxy
