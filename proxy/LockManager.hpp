#pragma once
// Per-key exclusive locks for `mode: serialize` with `lock.backend: local`: a session
// locks the business keys of the rows it is about to INSERT and holds them until its
// transaction ends, so a concurrent writer cannot check for duplicates before the first
// one commits. Semantics follow InnoDB row locks where a client would notice:
// ERROR 1205 after the wait timeout, ERROR 1213 to the requester that closes a cycle.
//
// Why it looks the way it does:
// - Sessions are coroutines on several single-threaded io_contexts, so the state is behind
//   one mutex. Critical sections only touch two hash maps; nothing waits or posts under it.
// - A key is handed over under the mutex (the releaser makes the first waiter the holder),
//   then the waiter is notified. A waiter that wakes for any reason (grant, timeout,
//   cancellation) decides under the mutex, so a grant racing a timeout is never lost: the
//   key is either granted (and counted as taken) or the waiter leaves the queue.
// - A waiter sleeps on a steady_timer of its OWN executor, set to the call's deadline.
//   Asio timers are not thread-safe, so the granting thread never touches it: it posts a
//   handler to the waiter's executor that cancels the timer there. That executor must not
//   run handlers concurrently (a single-threaded io_context, or a strand), and must outlive
//   the waits started on it.
// - Every owner waits for at most one key at a time, so the wait-for graph is a chain:
//   requester -> holder -> the key that holder waits for -> its holder ... Following it when
//   a wait begins finds every cycle, because edges only appear when a wait begins (a grant
//   only re-points edges to the new holder, which is running, not waiting).
// - Keys are locked in sorted order, so two batches alone cannot deadlock; cycles need a
//   transaction that holds keys from an earlier statement. InnoDB rolls back the whole
//   transaction on 1213; the session should likewise roll back and call release_all().
// - A key entry exists only while it is held (a free key never has waiters: release hands
//   it straight to the next one), and an owner entry only while it holds or waits, so
//   memory is bounded by the keys in use.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace uniqgate::proxy {

namespace asio = boost::asio;

enum class LockError {
    none,
    timeout,    // answer ERROR 1205 (ER_LOCK_WAIT_TIMEOUT)
    deadlock,   // answer ERROR 1213 (ER_LOCK_DEADLOCK)
    cancelled,  // the waiting coroutine was cancelled (client gone); nothing to answer
};

class LockManager {
public:
    explicit LockManager(std::chrono::milliseconds wait_timeout);
    LockManager(const LockManager&) = delete;
    LockManager& operator=(const LockManager&) = delete;
    ~LockManager();

    // Takes every key for `owner` (a session id: one owner = one client transaction).
    // Keys are sorted and de-duplicated here; keys the owner already holds are free.
    // Waits at most wait_timeout (or `timeout`, when given) in total; a timeout of 0 takes
    // only keys that are free or already held. On any error the keys taken by THIS call are
    // released; keys held from earlier statements of the transaction stay held. The same
    // happens if the coroutine is destroyed mid-wait. One call per owner at a time, and
    // release_all() for an owner only when it has no call in progress.
    asio::awaitable<LockError> acquire(std::uint64_t owner, std::vector<std::string> keys,
                                       std::optional<std::chrono::milliseconds> timeout = std::nullopt);

    // Transaction end or disconnect: releases everything `owner` holds, waking waiters.
    void release_all(std::uint64_t owner);

    [[nodiscard]] std::size_t keys_held() const;
    [[nodiscard]] std::size_t waiters() const;

private:
    struct Waiter;
    struct KeyState {
        std::uint64_t holder = 0;
        std::deque<std::shared_ptr<Waiter>> queue;  // FIFO
    };
    struct OwnerState {
        std::vector<std::string> held;  // in acquisition order: a call's keys are a suffix
        KeyState* waiting_on = nullptr;
    };
    enum class Attempt { taken, already_held, deadlock, must_wait };
    enum class WaitOutcome { granted, left_queue, still_waiting };
    using Wakeups = std::vector<std::shared_ptr<Waiter>>;
    class CallGuard;

    Attempt take_or_enqueue(std::uint64_t owner, const std::string& key,
                            const asio::any_io_executor& executor,
                            std::shared_ptr<Waiter>& waiter);
    WaitOutcome finish_wait(Waiter& waiter, bool give_up);
    void abandon_call(std::uint64_t owner, std::size_t taken, const std::shared_ptr<Waiter>& waiter);

    // These run with mutex_ held.
    bool closes_cycle(std::uint64_t requester, const KeyState& key) const;
    void leave_queue(Waiter& waiter);
    void release_newest(std::uint64_t owner, std::size_t count, Wakeups& wakeups);
    void release_key(const std::string& key, Wakeups& wakeups);
    void forget_owner_if_idle(std::uint64_t owner);

    static void notify(Wakeups& wakeups);

    const std::chrono::milliseconds wait_timeout_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, KeyState> keys_;
    std::unordered_map<std::uint64_t, OwnerState> owners_;
    std::size_t waiting_ = 0;
};

}  // namespace uniqgate::proxy
