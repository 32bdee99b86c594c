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

namespace {
// 2006 (gone away), 2013 (lost during query) and the like: the connection is unusable.
bool connection_lost(const QueryResult& result) {
    return !result.ok && result.error_code >= 2000 && result.error_code < 3000;
}
}  // namespace

// Runs on a pool thread: blocking calls are fine here. A lost connection is
// dropped and the query tried once more on another; if that is lost too, the
// control connections are failing (a server restart, a KILL): nullopt, and the
// sessions check on their own connections until a new one can be made.
std::optional<QueryResult> ControlPool::run_blocking(const std::string& sql,
                                                     const std::optional<std::vector<BoundParameter>>& params,
                                                     const Dialect& dialect) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        auto pooled = take(dialect);
        if (!pooled) return std::nullopt;
        auto result = params ? pooled->connection.execute_bound(sql, *params) : pooled->connection.query(sql);
        if (!connection_lost(result)) {
            give_back(std::move(*pooled));
            return result;
        }
        spdlog::warn("control connection lost ({}); dropping the idle ones too", result.describe_error());
        std::lock_guard lock(mutex_);
        idle_.clear();  // they went the same way, most likely
    }
    return std::nullopt;
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
