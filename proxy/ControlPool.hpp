#pragma once
// The proxy's own READ COMMITTED connections (as the `control` user), for the
// one read a client's session cannot do itself: inside a REPEATABLE READ
// transaction the session's own reads see an old snapshot, and a locking read of
// an absent key takes gap locks that deadlock unrelated inserts. The same reads
// answer autocommit checks while several sessions check at once: one query then
// reads all their keys (CheckBatcher). libmariadb is blocking, so the connections are used from a small thread pool; callers
// co_await and resume on their own executor.

#include "config/Config.hpp"
#include "proxy/CheckBatcher.hpp"
#include "proxy/ControlConnection.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace uniqgate::proxy {

class ControlPool {
public:
    ControlPool(const config::Config& config, Metrics& metrics, std::size_t threads = 2);
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

private:
    struct Pooled {
        ControlConnection connection;
        Dialect dialect;
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

    // Runs on a pool thread: `params` null for a plain query, else a prepared statement.
    std::optional<QueryResult> run_blocking(const std::string& sql,
                                            const std::optional<std::vector<BoundParameter>>& params,
                                            const Dialect& dialect);
    std::optional<Pooled> take(const Dialect& dialect);
    void give_back(Pooled pooled);

    const config::Config& config_;
    boost::asio::thread_pool pool_;
    std::mutex mutex_;
    std::vector<Pooled> idle_;
    CheckBatcher batcher_;  // after pool_: ~ControlPool joins the pool before it goes
};

inline boost::asio::awaitable<std::optional<QueryResult>> ControlPool::live_rows(const LiveRowsRequest& request) {
    return async_live_rows(&request, boost::asio::use_awaitable);
}

}  // namespace uniqgate::proxy
