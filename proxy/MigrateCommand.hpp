#pragma once
// `uniqgate migrate --config F` (see docs/migrate.md and ../shared/DESIGN.md, "mode:
// dedup"): for every dedup rule, create the dedup table (the key columns with the source's
// types and collations, the key as primary key) and backfill it from the live rows, with
// progress; refuse a rule whose table already holds live duplicates, listing them.
// Also the proxy's start-up check that every dedup rule's table is in place.
// Connects as `control` with READ COMMITTED; blocking.

#include "config/Config.hpp"

#include <cstddef>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace uniqgate::proxy {

// Exit codes of `uniqgate migrate`.
inline constexpr int migrate_exit_done = 0;     // every dedup table exists, matches and is filled
inline constexpr int migrate_exit_refused = 1;  // a table holds live duplicates: resolve them first
inline constexpr int migrate_exit_error = 2;    // cannot connect, missing table/column, mismatched dedup table

struct MigrateOptions {
    std::size_t batch_rows = 1000;       // source rows (by primary key) per backfill transaction
    std::ostream* progress = nullptr;    // backfill progress (stderr); nullptr: none
    bool progress_on_terminal = false;   // redraw a bar in place instead of a line every 10%
};

// Writes a report (one section per dedup rule, a summary line last) to `out` and returns
// one of the exit codes above. Never throws for database problems. Running it again is
// harmless: the table then exists and matches, and the backfill inserts nothing.
int run_migrate(const config::Config& config, std::ostream& out, const MigrateOptions& options = {});

// What keeps the proxy from enforcing the config's dedup rules, one message per problem
// ("rule 'r': dedup table shop.t__uniq does not exist; create and fill it with: uniqgate
// migrate --config <config_path>"): no control password, no connection, a missing source
// or dedup table, a dedup table that does not match its source. Empty when all is well or
// there are no dedup rules (then it does not connect).
std::vector<std::string> dedup_table_problems(const config::Config& config, std::string_view config_path);

}  // namespace uniqgate::proxy
