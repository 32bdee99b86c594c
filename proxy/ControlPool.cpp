#include "proxy/ControlPool.hpp"

#include <spdlog/spdlog.h>

namespace uniqgate::proxy {

namespace asio = boost::asio;

ControlPool::ControlPool(const config::Config& config, Metrics& metrics, std::size_t threads)
    : config_(config),
      pool_(threads),
      batcher_([this](const std::string& sql, const std::optional<std::vector<BoundParameter>>& params,
                      const Dialect& dialect) { return run_blocking(sql, params, dialect); },
               [this](std::function<void()> work) { asio::post(pool_, std::move(work)); }, metrics) {}

ControlPool::~ControlPool() { pool_.join(); }

// Runs on a pool thread: blocking calls are fine here.
std::optional<QueryResult> ControlPool::run_blocking(const std::string& sql,
                                                     const std::optional<std::vector<BoundParameter>>& params,
                                                     const Dialect& dialect) {
    auto pooled = take(dialect);
    if (!pooled) return std::nullopt;
    const auto run = [&](ControlConnection& connection) {
        return params ? connection.execute_bound(sql, *params) : connection.query(sql);
    };
    auto result = run(pooled->connection);
    // A connection-level failure (2006, 2013): drop the connection, try once more.
    if (!result.ok && result.error_code >= 2000 && result.error_code < 3000) {
        pooled = take(dialect);
        if (!pooled) return std::nullopt;
        result = run(pooled->connection);
    }
    give_back(std::move(*pooled));
    return result;
}

std::optional<ControlPool::Pooled> ControlPool::take(const Dialect& dialect) {
    std::optional<Pooled> pooled;
    {
        std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            pooled.emplace(std::move(idle_.back()));
            idle_.pop_back();
        }
    }
    try {
        if (!pooled) {
            pooled.emplace(Pooled{ControlConnection::connect(config_), Dialect{}});
            auto isolation = pooled->connection.set_read_committed();
            if (!isolation.ok) throw ControlConnectionError(isolation.describe_error());
            auto mode = pooled->connection.query("SET SESSION sql_mode = REPLACE(@@sql_mode, 'NO_BACKSLASH_ESCAPES', '')");
            if (!mode.ok) throw ControlConnectionError(mode.describe_error());
        }
    } catch (const ControlConnectionError& e) {
        spdlog::error("control connection: {}", e.what());
        return std::nullopt;
    }
    if (std::string_view(pooled->dialect.charset) != dialect.charset) {
        auto names = pooled->connection.query(std::string("SET NAMES ") + dialect.charset);  // a name from our own table
        if (!names.ok) return std::nullopt;
        pooled->dialect.charset = dialect.charset;
    }
    if (pooled->dialect.no_backslash_escapes != dialect.no_backslash_escapes) {
        const std::string sql = dialect.no_backslash_escapes
                                    ? "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')"
                                    : "SET SESSION sql_mode = REPLACE(@@sql_mode, 'NO_BACKSLASH_ESCAPES', '')";
        if (!pooled->connection.query(sql).ok) return std::nullopt;
        pooled->dialect.no_backslash_escapes = dialect.no_backslash_escapes;
    }
    return pooled;
}

void ControlPool::give_back(Pooled pooled) {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(pooled));
}

}  // namespace uniqgate::proxy
