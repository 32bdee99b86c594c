#include "proxy/ControlPool.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <exception>

namespace uniqgate::proxy {

namespace asio = boost::asio;

namespace {
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr const char* kBackslashesEscape = "SET SESSION sql_mode = REPLACE(@@sql_mode, 'NO_BACKSLASH_ESCAPES', '')";
constexpr const char* kBackslashesLiteral = "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')";

QueryResult lost(const std::string& why) {
    QueryResult result;
    result.error_code = 2013;  // CR_SERVER_LOST
    result.sqlstate = "HY000";
    result.message = "control connection: " + why;
    return result;
}

// On the worker thread: a READ COMMITTED connection whose literals take backslash
// escapes (the default dialect), ready for stepped calls; nullopt when that failed (logged).
std::optional<ControlConnection> connect_blocking(const config::Config& config) {
    try {
        auto connection = ControlConnection::connect(config, true);
        auto isolation = connection.set_read_committed();
        if (!isolation.ok) throw ControlConnectionError(isolation.describe_error());
        auto mode = connection.query(kBackslashesEscape);
        if (!mode.ok) throw ControlConnectionError(mode.describe_error());
        return connection;
    } catch (const ControlConnectionError& e) {
        spdlog::error("control connection: {}", e.what());
        return std::nullopt;
    }
}
}  // namespace

ControlPool::Pooled::Pooled(ControlConnection made, const asio::any_io_executor& loop)
    : connection(std::move(made)), socket(loop, connection.socket()) {}

// The connection closes its socket; the descriptor only watched it.
ControlPool::Pooled::~Pooled() { socket.release(); }

ControlPool::ControlPool(const config::Config& config, Metrics& metrics, asio::any_io_executor loop)
    : config_(config),
      loop_(std::move(loop)),
      batcher_(
          [this](std::string sql, std::optional<std::vector<BoundParameter>> params, const Dialect& dialect,
                 CheckBatcher::Complete done) {
              start(std::make_shared<Job>(Job{std::move(sql), std::move(params), dialect, std::move(done)}));
          },
          [this](std::function<void()> work) { asio::post(loop_, std::move(work)); }, metrics) {}

ControlPool::~ControlPool() {
    connector_.join();
    close();
}

void ControlPool::close() {
    batcher_.abandon();
    idle_.clear();
    connections_.clear();  // a query still waiting on one never resumes: the loop has stopped
}

void ControlPool::start(std::shared_ptr<Job> job) {
    const Job* running = job.get();
    asio::co_spawn(loop_, run(running),
                   [this, job = std::move(job)](const std::exception_ptr& error, std::optional<QueryResult> result) {
                       if (error) {
                           try {
                               std::rethrow_exception(error);
                           } catch (const std::exception& e) {
                               spdlog::error("control connection: {}", e.what());
                           }
                           result.reset();
                       }
                       // Posted: the batcher's callbacks never run inside its own call.
                       asio::post(loop_, [job, result = std::move(result)]() mutable { job->done(std::move(result)); });
                   });
}

asio::awaitable<std::optional<QueryResult>> ControlPool::run(const Job* job) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        Pooled* pooled = co_await take(&job->dialect);
        if (pooled == nullptr) co_return std::nullopt;
        const int wait = job->parameters ? pooled->connection.begin_execute_bound(job->sql, *job->parameters)
                                         : pooled->connection.begin_query(job->sql);
        QueryResult result = co_await finish_call(pooled, wait);
        if (!result.connection_lost()) {
            give_back(pooled);
            co_return result;
        }
        spdlog::warn("control connection lost ({}); dropping the idle ones too", result.describe_error());
        drop(pooled);
        for (Pooled* idle : std::exchange(idle_, {})) drop(idle);  // they went the same way, most likely
    }
    co_return std::nullopt;
}

asio::awaitable<ControlPool::Pooled*> ControlPool::take(const Dialect* dialect) {
    Pooled* pooled = nullptr;
    if (!idle_.empty()) {
        pooled = idle_.back();
        idle_.pop_back();
    } else {
        pooled = co_await connect();
        if (pooled == nullptr) co_return nullptr;
    }
    if (std::string_view(pooled->dialect.charset) != dialect->charset) {
        const std::string names = std::string("SET NAMES ") + dialect->charset;  // a name from our own table
        const QueryResult set = co_await query(pooled, &names);
        if (!set.ok) {
            drop(pooled);
            co_return nullptr;
        }
        pooled->dialect.charset = dialect->charset;
    }
    if (pooled->dialect.no_backslash_escapes != dialect->no_backslash_escapes) {
        const std::string mode = dialect->no_backslash_escapes ? kBackslashesLiteral : kBackslashesEscape;
        const QueryResult set = co_await query(pooled, &mode);
        if (!set.ok) {
            drop(pooled);
            co_return nullptr;
        }
        pooled->dialect.no_backslash_escapes = dialect->no_backslash_escapes;
    }
    co_return pooled;
}

asio::awaitable<ControlPool::Pooled*> ControlPool::connect() {
    using Made = std::optional<ControlConnection>;
    Made made = co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(Made)>(
        [this](auto handler) {
            asio::post(connector_, [this, handler = std::move(handler)]() mutable {
                asio::post(loop_, [handler = std::move(handler), made = connect_blocking(config_)]() mutable {
                    std::move(handler)(std::move(made));
                });
            });
        },
        asio::use_awaitable);
    if (!made) co_return nullptr;
    co_return &connections_.emplace_back(std::move(*made), loop_);
}

asio::awaitable<QueryResult> ControlPool::finish_call(Pooled* pooled, int wait) {
    using Wait = ControlConnection::Wait;
    while (wait != 0) {
        int happened = wait;  // kExcept alone: nothing to wait for here
        if ((wait & (Wait::kRead | Wait::kWrite)) != 0) {
            happened = (wait & Wait::kWrite) != 0 ? Wait::kWrite : Wait::kRead;
            const auto direction = happened == Wait::kWrite ? asio::posix::stream_descriptor::wait_write
                                                            : asio::posix::stream_descriptor::wait_read;
            auto [ec] = co_await pooled->socket.async_wait(direction, kNoThrow);
            // The call stays pending in libmariadb: the connection cannot be used again.
            if (ec) co_return lost(ec.message());
        } else if ((wait & Wait::kTimeout) != 0) {
            asio::steady_timer timer(loop_, std::chrono::milliseconds(pooled->connection.timeout_ms()));
            co_await timer.async_wait(kNoThrow);
            happened = Wait::kTimeout;
        }
        wait = pooled->connection.resume(happened);
    }
    co_return pooled->connection.take_result();
}

asio::awaitable<QueryResult> ControlPool::query(Pooled* pooled, const std::string* sql) {
    const int wait = pooled->connection.begin_query(*sql);
    QueryResult result = co_await finish_call(pooled, wait);
    co_return result;
}

void ControlPool::give_back(Pooled* pooled) { idle_.push_back(pooled); }

void ControlPool::drop(Pooled* pooled) {
    connections_.remove_if([pooled](const Pooled& open) { return &open == pooled; });
}

}  // namespace uniqgate::proxy
