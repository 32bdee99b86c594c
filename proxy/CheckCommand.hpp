#pragma once
// `uniqgate check --config F`: for every rule, report what a unique index over the live
// rows would refuse today (see ../shared/DESIGN.md, "Interface"):
// - the table and the key / soft-delete columns exist (errors otherwise);
// - a warning when no index starts with the key columns (in any order);
// - live duplicate groups: how many, how many surplus rows, and samples with their
//   primary keys. Rows with a NULL key column never count, as under a unique index;
//   the server's GROUP BY decides which values are equal (collation, trailing spaces);
// - dedup rules: the dedup table exists, and its drift from the source: live keys missing
//   from it, and keys in it that are not live in the source.
// Connects as `control` with READ COMMITTED; blocking.

#include "config/Config.hpp"

#include <iosfwd>

namespace uniqgate::proxy {

// Exit codes of `uniqgate check`.
inline constexpr int check_exit_clean = 0;     // no live duplicates, no drift
inline constexpr int check_exit_findings = 1;  // live duplicates or dedup drift found
inline constexpr int check_exit_error = 2;     // cannot connect, missing table/columns, failed query

// Writes a human-readable report (one section per rule, a summary line last) to `out`
// and returns one of the exit codes above. Never throws for database problems.
int run_check(const config::Config& config, std::ostream& out);

}  // namespace uniqgate::proxy
