#pragma once
// The proxy's own READ COMMITTED connections (as the `control` user), for the
// one read a client's session cannot do itself: inside a REPEATABLE READ
// transaction the session's own reads see an old snapshot, and a locking read of
// an absent key takes gap locks that deadlock unrelated inserts. The same reads
// answer autocommit checks while several sessions check at once: one query then
// reads all their keys (CheckBatcher).
//
// The queries run on one event loop (the first of the server's), as libmariadb's
// non-blocking calls: a check's round trip then costs that loop a send and a
// read, where a worker thread cost two thread wake-ups as well, per query, on a
// box whose cores the proxy shares with the server. Only connecting blocks (DNS,
// the handshake): that runs on a worker thread. Callers co_await from any loop and
// resume on their own executor.

#include "config/Config.hpp"
#include "proxy/CheckBatcher.hpp"
#include "proxy/ControlConnection.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace uniqgate::proxy {

class ControlPool {
public:
    // `loop`: where the control connections' queries run (one thread runs it).
    ControlPool(const config::Config& config, Metrics& metrics, boost::asio::any_io_executor loop);
    ~ControlPool();
    ControlPool(const ControlPool&) = delete;
    ControlPool& operator=(const ControlPool&) = delete;

    // The live rows with any of `request`'s keys, as [i, pk...] rows, read on a
    // READ COMMITTED connection together with other sessions' checks of the same
    // family (CheckBatcher); the caller resumes on its own executor. nullopt: no
    // control connection could be made (logged; callers fall back). `request`
    // must stay alive until this returns (it is copied when queued).
    boost::asio::awaitable<std::optional<QueryResult>> live_rows(const LiveRowsRequest& request);
    CheckBatcher& checks() noexcept { return batcher_; }
    // At shutdown, with the loops stopped: drops the checks still queued (and with them
    // their sessions' waiting frames) and closes the connections, whose sockets are on
    // the first loop. What a session's frame touches when destroyed stays.
    void close();

private:
    // A control connection and what the loop waits on: its socket (not owned: the
    // connection closes it).
    struct Pooled {
        Pooled(ControlConnection made, const boost::asio::any_io_executor& loop);
        ~Pooled();
        Pooled(const Pooled&) = delete;
        Pooled& operator=(const Pooled&) = delete;

        ControlConnection connection;
        boost::asio::posix::stream_descriptor socket;
        Dialect dialect;
    };
    // One query of the batcher's, from the loop's point of view.
    struct Job {
        std::string sql;
        std::optional<std::vector<BoundParameter>> parameters;  // null: a plain query
        Dialect dialect;
        CheckBatcher::Complete done;
    };

    // Plain callbacks rather than a coroutine on the pool: GCC 12 mis-destroys the
    // by-value parameters of a coroutine that co_spawn moves across executors.
    template <class Token>
    auto async_live_rows(const LiveRowsRequest* request, Token&& token) {
        using Signature = void(std::optional<QueryResult>);
        return boost::asio::async_initiate<Token, Signature>(
            [this](auto handler, const LiveRowsRequest* queued) {
                auto home = boost::asio::make_work_guard(boost::asio::get_associated_executor(handler));
                // CheckBatcher keeps a copyable callback; the handler and the guard are move-only.
                auto pending = std::make_shared<std::pair<decltype(handler), decltype(home)>>(std::move(handler),
                                                                                              std::move(home));
                batcher_.submit(*queued, [pending](std::optional<QueryResult> result) {
                    auto executor = pending->second.get_executor();
                    boost::asio::post(executor, [pending, result = std::move(result)]() mutable {
                        std::move(pending->first)(std::move(result));
                    });
                });
            },
            token, request);
    }

    // On the loop: runs `job` and calls its `done` with the outcome.
    void start(std::shared_ptr<Job> job);
    // A lost connection is dropped and the query tried once more on another; if that
    // is lost too, the control connections are failing (a server restart, a KILL):
    // nullopt, and the sessions check on their own connections until a new one can be made.
    boost::asio::awaitable<std::optional<QueryResult>> run(const Job* job);
    // An idle connection speaking `dialect`, or a new one; null when none can be had.
    boost::asio::awaitable<Pooled*> take(const Dialect* dialect);
    // A new connection, connected and set up on the worker thread; null when that failed (logged).
    boost::asio::awaitable<Pooled*> connect();
    // Runs a stepped call begun with `wait` (ControlConnection::begin_*) to its end.
    boost::asio::awaitable<QueryResult> finish_call(Pooled* pooled, int wait);
    boost::asio::awaitable<QueryResult> query(Pooled* pooled, const std::string* sql);
    void give_back(Pooled* pooled);
    void drop(Pooled* pooled);

    const config::Config& config_;
    boost::asio::any_io_executor loop_;
    boost::asio::thread_pool connector_{1};
    std::list<Pooled> connections_;  // every open one; the loop's alone
    std::vector<Pooled*> idle_;
    CheckBatcher batcher_;
};

inline boost::asio::awaitable<std::optional<QueryResult>> ControlPool::live_rows(const LiveRowsRequest& request) {
    return async_live_rows(&request, boost::asio::use_awaitable);
}

}  // namespace uniqgate::proxy
