#pragma once
// The proxy's own READ COMMITTED connections (as the `control` user), for the
// one read a client's session cannot do itself: inside a REPEATABLE READ
// transaction the session's own reads see an old snapshot, and a locking read of
// an absent key takes gap locks that deadlock unrelated inserts. libmariadb is
// blocking, so the connections are used from a small thread pool; callers
// co_await and resume on their own executor.

#include "config/Config.hpp"
#include "proxy/ControlConnection.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

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

class ControlPool {
public:
    explicit ControlPool(const config::Config& config, std::size_t threads = 2);
    ~ControlPool();
    ControlPool(const ControlPool&) = delete;
    ControlPool& operator=(const ControlPool&) = delete;


private:
    struct Pooled {
        ControlConnection connection;
        Dialect dialect;
    };

    // Plain callbacks rather than a coroutine on the pool: GCC 12 mis-destroys the
    // by-value parameters of a coroutine that co_spawn moves across executors.
    // `sql` and `params` must stay alive until the operation starts (they are copied then);
    // `params` null: a plain query, otherwise a prepared statement with them bound.
    template <class Token>
    auto async_read_committed(std::string_view sql, const std::vector<BoundParameter>* params, Dialect dialect,
                              Token&& token) {
        using Signature = void(std::optional<QueryResult>);
        return boost::asio::async_initiate<Token, Signature>(
            [this](auto handler, std::string_view sql_view, const std::vector<BoundParameter>* bound,
                   Dialect settings) {
                auto home = boost::asio::make_work_guard(boost::asio::get_associated_executor(handler));
                std::optional<std::vector<BoundParameter>> values;
                if (bound != nullptr) values = *bound;
                boost::asio::post(pool_, [this, handler = std::move(handler), home = std::move(home),
                                          query = std::string(sql_view), values = std::move(values),
                                          settings]() mutable {
                    auto result = run_blocking(query, values, settings);
                    auto executor = home.get_executor();
                    boost::asio::post(executor, [handler = std::move(handler), result = std::move(result)]() mutable {
                        std::move(handler)(std::move(result));
                    });
                });
            },
            token, sql, params, dialect);
    }
    std::optional<QueryResult> run_blocking(const std::string& sql,
                                            const std::optional<std::vector<BoundParameter>>& params,
                                            const Dialect& dialect);

public:
    // nullopt when no control connection can be made (logged; callers fall back).
    // The blocking query runs on the pool; the caller resumes on its own executor.
    boost::asio::awaitable<std::optional<QueryResult>> read_committed(std::string_view sql, Dialect dialect) {
        return async_read_committed(sql, nullptr, dialect, boost::asio::use_awaitable);
    }
    // The same as a prepared statement with `params` bound (ControlConnection::execute_bound).
    boost::asio::awaitable<std::optional<QueryResult>> read_committed(std::string_view sql, Dialect dialect,
                                                                      const std::vector<BoundParameter>& params) {
        return async_read_committed(sql, &params, dialect, boost::asio::use_awaitable);
    }

private:
    std::optional<Pooled> take(const Dialect& dialect);
    void give_back(Pooled pooled);

    const config::Config& config_;
    boost::asio::thread_pool pool_;
    std::mutex mutex_;
    std::vector<Pooled> idle_;
};

}  // namespace uniqgate::proxy
