#include "proxy/Server.hpp"

#include "proxy/AdminServer.hpp"
#include "proxy/ControlPool.hpp"
#include "proxy/Session.hpp"
#include "proxy/TlsContexts.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <optional>
#include <stdexcept>
#include <thread>

namespace uniqgate::proxy {

namespace {
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

asio::ip::tcp::endpoint resolve_listen(const config::Endpoint& where, const char* what) {
    error_code ec;
    const auto address = asio::ip::make_address(where.host, ec);
    if (ec) throw std::runtime_error(std::string(what) + ": '" + where.host + "' is not an IP address");
    return {address, where.port};
}
// Serialize checks inside transactions read committed rows on the control user's
// connections; without a password configured they fall back to locking reads.
bool needs_control_pool(const config::Config& cfg) {
    for (const auto& rule : cfg.rules) {
        if (rule.mode != config::RuleMode::dedup) {
            if (cfg.control.password.empty()) {
                spdlog::warn("no control password configured: serialize checks inside transactions use locking reads, "
                             "which can deadlock inserts of different keys under REPEATABLE READ");
                return false;
            }
            return true;
        }
    }
    return false;
}

// An event loop whose waiting work can be destroyed on purpose (~Server::Impl), while
// every other loop and everything the sessions refer to still exist.
class Loop : public asio::io_context {
public:
    using asio::io_context::io_context;
    void destroy_waiting_work() { shutdown(); }
};

// The coroutine owns its session: parameters live in the coroutine frame.
asio::awaitable<void> run_session(std::unique_ptr<Session> session) { co_await session->run(); }
}  // namespace

struct Server::Impl {
    const config::Config& config;
    std::vector<std::unique_ptr<Loop>> loops;
    std::unique_ptr<asio::ssl::context> client_tls;
    std::unique_ptr<asio::ssl::context> backend_tls;
    Metrics metrics;
    rules::RuleSet rule_set;
    SchemaCache schemas;
    LockManager locks;
    std::unique_ptr<ControlPool> control;
    ProxyContext context;
    std::optional<asio::ip::tcp::acceptor> acceptor;  // reset first at shutdown (~Impl)
    std::unique_ptr<AdminServer> admin;
    std::uint64_t next_session_id = 1;
    std::size_t next_loop = 0;

    Impl(const config::Config& cfg, unsigned threads)
        : config(cfg),
          loops(make_loops(threads)),
          client_tls(make_client_facing_tls(cfg.client_tls)),
          backend_tls(make_backend_tls(cfg.backend_tls)),
          rule_set(cfg.rules),
          locks(cfg.lock.timeout),
          control(needs_control_pool(cfg) ? std::make_unique<ControlPool>(cfg, metrics, loops.front()->get_executor())
                                            : nullptr),
          context{cfg, client_tls.get(), backend_tls.get(), metrics, rule_set, schemas, locks, control.get()},
          acceptor(std::in_place, *loops.front()) {
        const auto endpoint = resolve_listen(cfg.listen, "listen");
        error_code ec;
        acceptor->open(endpoint.protocol(), ec);
        if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec) acceptor->bind(endpoint, ec);
        if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
        if (ec) {
            throw std::runtime_error("listen: cannot listen on " + cfg.listen.host + ":" +
                                     std::to_string(cfg.listen.port) + ": " + ec.message());
        }
        admin = std::make_unique<AdminServer>(*loops.front(), resolve_listen(cfg.admin.listen, "admin.listen"),
                                              metrics);
    }

    // Sessions still open at shutdown are destroyed with what waits on their loop, and
    // their frames hold things that refer to the control pool, the lock manager and the
    // other loops (a check in progress, a work guard): all that waiting work is destroyed
    // first, loop by loop, while everything still exists. What sits on a loop without
    // belonging to a session (the acceptor, the admin server, control connections) goes
    // before that.
    ~Impl() {
        admin.reset();
        acceptor.reset();
        if (control) control->close();
        for (auto& loop : loops) loop->destroy_waiting_work();
    }
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    static std::vector<std::unique_ptr<Loop>> make_loops(unsigned threads) {
        std::vector<std::unique_ptr<Loop>> result;
        for (unsigned i = 0; i < std::max(1U, threads); ++i) {
            result.push_back(std::make_unique<Loop>(1));  // 1: single-threaded loop, no locking
        }
        return result;
    }

    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto& loop = *loops[next_loop++ % loops.size()];
            auto [ec, socket] = co_await acceptor->async_accept(loop, kNoThrow);
            if (ec == asio::error::operation_aborted) co_return;
            if (ec) {
                // EMFILE and friends: log, breathe, go on serving the others.
                spdlog::error("accept failed: {}", ec.message());
                asio::steady_timer pause(acceptor->get_executor(), std::chrono::milliseconds(100));
                co_await pause.async_wait(kNoThrow);
                continue;
            }
            error_code ignored;
            socket.set_option(asio::ip::tcp::no_delay(true), ignored);
            const auto protocol = socket.local_endpoint(ignored).protocol();
            Connection::Socket generic(loop, asio::generic::stream_protocol(protocol.family(), protocol.protocol()),
                                       socket.release());
            auto session = std::make_unique<Session>(context, std::move(generic), next_session_id++);
            asio::co_spawn(loop, run_session(std::move(session)), asio::detached);
        }
    }
};

Server::Server(const config::Config& config, unsigned threads) : impl_(std::make_unique<Impl>(config, threads)) {}

Server::~Server() = default;

void Server::stop() {
    for (auto& loop : impl_->loops) loop->stop();
}

void Server::run() {
    auto& main_loop = *impl_->loops.front();
    asio::signal_set signals(main_loop, SIGINT, SIGTERM);
    signals.async_wait([this](const error_code& ec, int signal) {
        if (ec) return;
        spdlog::info("signal {}: shutting down", signal);
        for (auto& loop : impl_->loops) loop->stop();
    });
    asio::co_spawn(main_loop, impl_->accept_loop(), asio::detached);
    impl_->admin->start();
    spdlog::info("uniqgate listening on {}:{} (backend {}), admin on {}:{}, {} thread(s)", impl_->config.listen.host,
                 impl_->config.listen.port,
                 impl_->config.backend.unix_socket.empty()
                     ? impl_->config.backend.host + ":" + std::to_string(impl_->config.backend.port)
                     : impl_->config.backend.unix_socket,
                 impl_->config.admin.listen.host, impl_->config.admin.listen.port, impl_->loops.size());

    std::vector<std::thread> workers;
    for (std::size_t i = 1; i < impl_->loops.size(); ++i) {
        workers.emplace_back([loop = impl_->loops[i].get()] {
            auto guard = asio::make_work_guard(*loop);
            loop->run();
        });
    }
    main_loop.run();
    for (auto& loop : impl_->loops) loop->stop();
    for (auto& worker : workers) worker.join();
}

}  // namespace uniqgate::proxy
