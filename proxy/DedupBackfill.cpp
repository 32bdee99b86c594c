#include "proxy/DedupBackfill.hpp"

#include "proxy/MysqlErrors.hpp"
#include "proxy/RuleSql.hpp"

#include <algorithm>
#include <ostream>
#include <utility>
#include <vector>

namespace uniqgate::proxy {

// ---- progress

namespace {
constexpr unsigned bar_width = 20;
}

BackfillProgress::BackfillProgress(std::ostream* out, bool terminal, std::string label, std::uint64_t total)
    : out_(out), terminal_(terminal), label_(std::move(label)), total_(total) {}

unsigned BackfillProgress::percent() const {
    if (total_ == 0) return 100;
    return static_cast<unsigned>(std::min<std::uint64_t>(100, done_ * 100 / total_));
}

void BackfillProgress::draw() const {
    const unsigned filled = percent() * bar_width / 100;
    *out_ << "\r" << label_ << ": [" << std::string(filled, '#') << std::string(bar_width - filled, '.') << "] "
          << percent() << "% " << done_ << "/" << total_ << " rows" << std::flush;
}

void BackfillProgress::advance(std::uint64_t rows) {
    done_ += rows;
    if (out_ == nullptr) return;
    if (terminal_) {
        draw();
        return;
    }
    const unsigned decile = percent() / 10;
    if (decile > last_decile_ && decile < 10) {
        last_decile_ = decile;
        *out_ << label_ << ": " << percent() << "% " << done_ << "/" << total_ << " rows\n" << std::flush;
    }
}

void BackfillProgress::finish() {
    if (out_ == nullptr || finished_) return;
    finished_ = true;
    if (terminal_) {
        draw();
        *out_ << "\n" << std::flush;
    } else {
        *out_ << label_ << ": done, " << done_ << " rows\n" << std::flush;
    }
}

// ---- backfill

namespace {

constexpr int max_attempts = 5;  // per batch, against deadlocks and lock wait timeouts

// The batch bounds live in session variables, so primary-key values never pass through
// this client: they keep their exact type and collation (a BIGINT UNSIGNED stays exact, a
// _ci string compares as the column does) and need no escaping.
std::string bound_variable(std::string_view bound, std::size_t column) {
    return "@ug_migrate_" + std::string(bound) + std::to_string(column);
}

// Lexicographic comparison of the primary key with a bound, spelled out column by column:
// (a, b) > (@x, @y) is `a > @x OR (a = @x AND b > @y)`, which the range optimizer reads.
class PrimaryKeyRange {
public:
    explicit PrimaryKeyRange(const std::vector<std::string>& primary_key) {
        for (const auto& column : primary_key) columns_.push_back(RuleSql::column_ref("s", column));
    }

    std::string order_by() const { return join(columns_); }

    // pk > @lo
    std::string after_lower() const { return compare("lo", ">", false); }
    // pk <= @hi
    std::string up_to_upper() const { return compare("hi", "<", true); }

    // SELECT ... INTO the upper bound variables: the primary key `batch_rows` rows on.
    std::string find_upper(const std::string& table, bool has_lower, std::size_t batch_rows) const {
        std::vector<std::string> variables;
        for (std::size_t i = 0; i < columns_.size(); ++i) variables.push_back(bound_variable("hi", i));
        return "SELECT " + join(columns_) + " INTO " + join(variables) + " FROM " + table + " AS s" +
               (has_lower ? " WHERE " + after_lower() : "") + " ORDER BY " + order_by() + " LIMIT 1 OFFSET " +
               std::to_string(batch_rows - 1);
    }

    // SET @lo0 = @hi0, ...: the next batch starts after this one's last row.
    std::string advance_lower() const {
        std::vector<std::string> assignments;
        for (std::size_t i = 0; i < columns_.size(); ++i) {
            assignments.push_back(bound_variable("lo", i) + " = " + bound_variable("hi", i));
        }
        return "SET " + join(assignments);
    }

private:
    std::string compare(std::string_view bound, const std::string& op, bool or_equal) const {
        std::string out;
        std::string equal_prefix;
        for (std::size_t i = 0; i < columns_.size(); ++i) {
            const std::string variable = bound_variable(bound, i);
            out += (out.empty() ? "(" : " OR (") + equal_prefix + columns_[i] + " " + op + " " + variable + ")";
            equal_prefix += columns_[i] + " = " + variable + " AND ";
        }
        if (or_equal) out += " OR (" + equal_prefix.substr(0, equal_prefix.size() - 5) + ")";
        return "(" + out + ")";
    }

    std::vector<std::string> columns_;
};

// "Records: 1000  Duplicates: 3  Warnings: 3" -> 1000: the rows the SELECT part produced.
std::uint64_t records_of(const QueryResult& result) {
    const auto at = result.info.find("Records: ");
    if (at == std::string::npos) return result.affected_rows;
    return std::stoull(result.info.substr(at + 9));
}

QueryResult run(ControlConnection& conn, const std::string& sql) {
    QueryResult result = conn.query(sql);
    if (!result.ok) throw QueryFailed(result.describe_error() + "\n    statement: " + sql);
    return result;
}

// One batch in its own transaction; retried when a concurrent writer deadlocks with it
// or holds a lock too long (both roll the batch back, and nothing of it is kept).
QueryResult copy_batch(ControlConnection& conn, const std::string& insert) {
    for (int attempt = 1;; ++attempt) {
        run(conn, "START TRANSACTION");
        QueryResult result = conn.query(insert);
        if (result.ok) {
            run(conn, "COMMIT");
            return result;
        }
        conn.query("ROLLBACK");
        const bool transient = result.error_code == mysql_error::kLockDeadlock ||
                               result.error_code == mysql_error::kLockWaitTimeout;
        if (!transient || attempt == max_attempts) {
            throw QueryFailed(result.describe_error() + "\n    statement: " + insert);
        }
    }
}

std::string insert_keys(const config::Rule& rule, const RuleSql& sql, const std::string& where) {
    return "INSERT IGNORE INTO " + ControlConnection::quote_table(effective_dedup_table(rule)) + " (" +
           sql.key_list("") + ") SELECT " + sql.key_list("s") + " FROM " + sql.table() + " AS s WHERE " + where +
           " LOCK IN SHARE MODE";
}

void add_batch(BackfillStats& stats, const QueryResult& result, BackfillProgress& progress) {
    const std::uint64_t records = records_of(result);
    stats.rows_read += records;
    stats.keys_inserted += result.affected_rows;
    ++stats.batches;
    progress.advance(records);
}

}  // namespace

std::uint64_t count_live_keyed_rows(ControlConnection& conn, const config::Rule& rule) {
    const RuleSql sql(conn, rule);
    return count_of(conn, "SELECT COUNT(*) FROM " + sql.table() + " AS s WHERE " + sql.live_rows("s"));
}

BackfillStats backfill_dedup_table(ControlConnection& conn, const config::Rule& rule, const TableInfo& source,
                                   std::size_t batch_rows, BackfillProgress& progress) {
    const RuleSql sql(conn, rule);
    BackfillStats stats;
    if (source.primary_key.empty()) {
        add_batch(stats, copy_batch(conn, insert_keys(rule, sql, sql.live_rows("s"))), progress);
        return stats;
    }
    const PrimaryKeyRange range(source.primary_key);
    bool has_lower = false;
    for (;;) {
        // Bounds by all rows, live or not: a batch then locks and scans at most batch_rows rows.
        // SELECT ... INTO reports the rows it found as affected rows: 0 means the rest is one batch.
        const bool has_upper =
            run(conn, range.find_upper(sql.table(), has_lower, std::max<std::size_t>(batch_rows, 1))).affected_rows > 0;
        std::string where = sql.live_rows("s");
        if (has_lower) where += " AND " + range.after_lower();
        if (has_upper) where += " AND " + range.up_to_upper();
        add_batch(stats, copy_batch(conn, insert_keys(rule, sql, where)), progress);
        if (!has_upper) return stats;
        run(conn, range.advance_lower());
        has_lower = true;
    }
}

std::uint64_t remove_stale_keys(ControlConnection& conn, const config::Rule& rule) {
    const RuleSql sql(conn, rule);
    const std::string dedup = ControlConnection::quote_table(effective_dedup_table(rule));
    const std::string statement = "DELETE FROM " + dedup + " WHERE NOT EXISTS (SELECT 1 FROM " + sql.table() +
                                  " AS s WHERE " + sql.live_condition("s") + " AND " + sql.keys_match("s", dedup) +
                                  ")";
    return run(conn, statement).affected_rows;
}

}  // namespace uniqgate::proxy
