#pragma once
// Filling a rule's dedup table from the live rows of its source table (`uniqgate
// migrate`), safely while applications keep writing through a uniqgate in dedup mode:
//
// - The source is walked along its primary key in batches; each batch is one short
//   transaction `INSERT IGNORE INTO dedup (key) SELECT key FROM source WHERE <pk range>
//   AND <live, key not NULL> LOCK IN SHARE MODE`. The shared locks make the SELECT read the
//   latest committed rows and hold them until the batch commits, so a concurrent
//   soft-delete (which removes its key from the dedup table in its own transaction) either
//   commits first and is seen, or waits and then removes the key this batch copied. Without
//   them, READ COMMITTED's consistent read could copy a key that was just deleted, leaving
//   a stale key that refuses a later legitimate insert.
// - INSERT IGNORE skips keys that are already there (an earlier run, or new writes through
//   uniqgate), so running it again is harmless.
// - A table without a primary key is copied in one pass (one transaction).
// - Deadlocks and lock wait timeouts with concurrent writers retry the batch.

#include "config/Config.hpp"
#include "proxy/ControlConnection.hpp"
#include "proxy/ControlQueries.hpp"

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>

namespace uniqgate::proxy {

// A rule's backfill progress on a stream (stderr): a bar redrawn in place on a terminal,
// `\r<rule>: [#####.....] 45% 45000/100000 rows`, otherwise a line at every 10%.
class BackfillProgress {
public:
    // `out` may be nullptr (no progress). `total` is an estimate; rows beyond it show 100%.
    BackfillProgress(std::ostream* out, bool terminal, std::string label, std::uint64_t total);

    void advance(std::uint64_t rows);
    // Ends the bar's line (a terminal) or prints the last line, once.
    void finish();

private:
    void draw() const;
    unsigned percent() const;

    std::ostream* out_;
    bool terminal_;
    std::string label_;
    std::uint64_t total_;
    std::uint64_t done_ = 0;
    unsigned last_decile_ = 0;
    bool finished_ = false;
};

struct BackfillStats {
    std::uint64_t rows_read = 0;      // live rows with no NULL key column, as the batches saw them
    std::uint64_t keys_inserted = 0;  // keys that were not in the dedup table yet
    std::uint64_t batches = 0;
};

// Live rows with no NULL key column: the progress total. Throws QueryFailed.
std::uint64_t count_live_keyed_rows(ControlConnection& conn, const config::Rule& rule);

// Copies the live keys of the rule's source (described by `source`) into its dedup table,
// which must exist, `batch_rows` source rows per batch. Throws QueryFailed.
BackfillStats backfill_dedup_table(ControlConnection& conn, const config::Rule& rule, const TableInfo& source,
                                   std::size_t batch_rows, BackfillProgress& progress);

// Deletes the keys in the dedup table that no live source row has (left by an earlier run
// before rows were soft-deleted, or by writes that bypassed uniqgate); returns how many.
// Throws QueryFailed.
std::uint64_t remove_stale_keys(ControlConnection& conn, const config::Rule& rule);

}  // namespace uniqgate::proxy
