#pragma once
// Existence checks of many sessions answered by one query.
//
// A serialize check costs the server about twice what the INSERT it guards
// does: a point SELECT is parsed, optimised and answered with its own result
// set, and on a CPU-bound server that is what caps throughput. When several
// sessions check keys of the same table at once, one SELECT with all their keys
// costs little more than one with a single key. So checks queue here per
// "family" (same table, live condition, primary key, character set, and text or
// bound values); while the family's query is running, newcomers wait, and the
// next query takes all of them. Nobody waits for a batch to fill: a check that
// finds its family idle starts a query at once.
//
// The queries run on the control pool's READ COMMITTED connections, so each
// sees every row committed before it started: a session queues its check only
// after taking its keys' locks, which is what the existence check needs.
// This class only queues, builds and splits; running a query and resuming a
// waiter are the functions given to it (ControlPool supplies real ones).

#include "proxy/ControlConnection.hpp"
#include "proxy/Metrics.hpp"

#include <atomic>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace uniqgate::proxy {

// What the client's literals mean: the proxy copies them verbatim into SQL it
// runs on its own connection, which must read them the same way.
// Trivially copyable on purpose: it crosses into Asio's awaitable machinery, where
// GCC 12 copies class-type coroutine arguments bitwise (an SSO std::string then
// points into the frame it came from).
struct Dialect {
    const char* charset = "utf8mb4";  // a name from charset_name_from_collation_id
    bool no_backslash_escapes = false;
};

// Checks that one query can answer together.
struct LiveRowsFamily {
    std::string table;          // "`shop`.`product`"
    std::string live;           // "`delete_status` = 0"
    std::string primary_key;    // "`id`", or "CAST(`id` AS BINARY)" when `bound`
    Dialect dialect{};
    bool bound = false;         // conditions hold `?`: run as a prepared statement

    [[nodiscard]] std::string identity() const;
};

// One session's check: one condition per key (`k1` = 'a' AND `k2` = ?), and for
// bound families each condition's parameters.
struct LiveRowsRequest {
    LiveRowsFamily family;
    std::vector<std::string> conditions;
    std::vector<std::vector<BoundParameter>> parameters;  // empty unless family.bound
};

// SELECT <pk>, (c0), (c1), ... FROM <table> WHERE <live> AND ((c0) OR (c1) ...):
// the live rows that have any of the keys, each with one column per condition
// that says (1 or 0) whether the row has that condition's key. The server
// compares, so the key columns' collation decides equality. Bound families
// select the flags as strings (prepared statements' rows come back as text).
std::string flagged_live_rows_query(const LiveRowsFamily& family, const std::vector<std::string>& conditions);

// The rows of a flagged_live_rows_query for conditions [first, first + count), as
// [i, pk...] rows where i is the condition's position in that range (as text):
// the shape of the session's own tagged existence reads.
std::vector<SqlRow> tagged_rows_for(const std::vector<SqlRow>& flagged, std::size_t primary_key_columns,
                                    std::size_t first, std::size_t count);

class CheckBatcher {
public:
    // Receives a check's [i, pk...] rows (or the query's error); nullopt: no control
    // connection. Called where the query finished: it must hand over to the waiter's
    // own executor.
    using Complete = std::function<void(std::optional<QueryResult>)>;
    // Starts one query on a control connection, parameters null for a plain query, and
    // returns; `done` is called once, later (never from within the call). nullopt: no
    // control connection.
    using RunQuery = std::function<void(std::string sql, std::optional<std::vector<BoundParameter>> parameters,
                                        const Dialect& dialect, Complete done)>;
    // Runs a function where RunQuery may be called, later.
    using Post = std::function<void(std::function<void()>)>;

    // At most this many conditions per query (a statement with more still gets one of its own).
    static constexpr std::size_t kMaxConditions = 32;

    // `metrics` counts the checks and the queries that answered them.
    CheckBatcher(RunQuery run_query, Post post, Metrics& metrics);
    CheckBatcher(const CheckBatcher&) = delete;
    CheckBatcher& operator=(const CheckBatcher&) = delete;

    // Queues `request` (copied) and returns; `complete` is called once, later.
    void submit(const LiveRowsRequest& request, Complete complete);
    // At shutdown: forgets the queued checks without answering them (their callbacks are
    // destroyed, outside the lock: that may destroy the waiters' frames).
    void abandon();

    // Marks an existence check in progress on any connection, for as long as it lives.
    // A check that starts while no other one runs has nothing to share a query with:
    // it goes straight to the session's own connection (no hop to the pool).
    class InProgress {
    public:
        explicit InProgress(CheckBatcher& batcher) noexcept
            : batcher_(batcher), alone_(batcher.in_progress_.fetch_add(1, std::memory_order_relaxed) == 0) {}
        ~InProgress() { batcher_.in_progress_.fetch_sub(1, std::memory_order_relaxed); }
        InProgress(const InProgress&) = delete;
        InProgress& operator=(const InProgress&) = delete;
        [[nodiscard]] bool alone() const noexcept { return alone_; }

    private:
        CheckBatcher& batcher_;
        bool alone_;
    };

private:
    struct Waiter {
        std::size_t first = 0;  // its conditions in the queue
        std::size_t count = 0;
        Complete complete;
    };
    struct Queue {
        LiveRowsFamily family;
        std::vector<std::string> conditions;
        std::vector<std::vector<BoundParameter>> parameters;
        std::vector<Waiter> waiters;
        bool running = false;  // a drain() owns this family
    };
    struct Batch {
        LiveRowsFamily family;
        std::vector<std::string> conditions;
        std::vector<std::vector<BoundParameter>> parameters;
        std::vector<Waiter> waiters;
    };

    // Runs the family's next query; when it is answered, the one after, until the queue
    // is empty. `queue` is a node of queues_, which are never erased.
    void drain(Queue* queue);
    // Under mutex_: the waiters (and their conditions) the next query answers; empty
    // when the queue is, which also ends the family's drain.
    Batch take_batch(Queue& queue);
    // Starts `batch` as one flagged query (one flag column per condition); `done` gets its result.
    void run(const Batch& batch, Complete done);
    // After a failed shared query: each waiter's conditions as a query of their own, from
    // waiter `next` on, one after the other; then the drain goes on.
    void answer_alone(std::shared_ptr<const Batch> batch, std::size_t next, Queue* queue);
    // Hands each waiter its rows of a query with one flag column per condition.
    static void answer(const Batch& batch, const std::optional<QueryResult>& result);

    RunQuery run_query_;
    Post post_;
    std::mutex mutex_;
    std::map<std::string, Queue> queues_;
    Metrics& metrics_;
    std::atomic<int> in_progress_{0};
};

}  // namespace uniqgate::proxy
