// The local per-key lock manager: waiting, fairness, timeouts, deadlock detection,
// cancellation, and mutual exclusion under contention from several threads.
#include "proxy/LockManager.hpp"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <thread>
#include <vector>

namespace uniqgate::proxy {
namespace {

using namespace std::chrono_literals;
using Keys = std::vector<std::string>;

void rethrow(const std::exception_ptr& error) {
    if (error) std::rethrow_exception(error);
}

asio::awaitable<void> acquire_into(LockManager* locks, std::uint64_t owner, Keys keys,
                                   std::optional<LockError>* result) {
    const LockError error = co_await locks->acquire(owner, std::move(keys));
    *result = error;
}

void spawn_acquire(asio::io_context& io, LockManager& locks, std::uint64_t owner, Keys keys,
                   std::optional<LockError>& result) {
    asio::co_spawn(io, acquire_into(&locks, owner, std::move(keys), &result), rethrow);
}

// Runs what is ready (including what that makes ready) without waiting for timers.
void drain(asio::io_context& io) {
    io.restart();
    io.poll();
}

// Acquires, records the order of entry, releases: a transaction of one statement.
asio::awaitable<void> acquire_then_release(LockManager* locks, std::uint64_t owner, Keys keys,
                                           std::vector<std::uint64_t>* entered) {
    const LockError error = co_await locks->acquire(owner, std::move(keys));
    EXPECT_EQ(error, LockError::none);
    entered->push_back(owner);
    locks->release_all(owner);
}

bool eventually(const std::function<bool()>& condition) {
    for (int i = 0; i < 5000; ++i) {
        if (condition()) return true;
        std::this_thread::sleep_for(1ms);
    }
    return false;
}

// N single-threaded io_contexts, each run by its own thread, as in the proxy.
class ContextThreads {
public:
    explicit ContextThreads(std::size_t count) {
        for (std::size_t i = 0; i < count; ++i) {
            contexts_.push_back(std::make_unique<asio::io_context>(1));
            guards_.emplace_back(contexts_.back()->get_executor());
        }
        for (auto& io : contexts_) threads_.emplace_back([context = io.get()] { context->run(); });
    }
    ContextThreads(const ContextThreads&) = delete;
    ContextThreads& operator=(const ContextThreads&) = delete;
    ~ContextThreads() { join(); }

    asio::io_context& operator[](std::size_t i) { return *contexts_[i]; }
    std::size_t size() const { return contexts_.size(); }

    // Lets every context finish its work, then joins its thread.
    void join() {
        guards_.clear();
        for (auto& thread : threads_) {
            if (thread.joinable()) thread.join();
        }
    }

private:
    using WorkGuard = asio::executor_work_guard<asio::io_context::executor_type>;
    std::vector<std::unique_ptr<asio::io_context>> contexts_;
    std::vector<WorkGuard> guards_;
    std::vector<std::thread> threads_;
};

TEST(LockManager, UncontendedAcquireTakesEveryKeyOnceAndReleaseFreesThem) {
    asio::io_context io;
    LockManager locks(1s);
    std::optional<LockError> result;
    spawn_acquire(io, locks, 1, {"b", "a", "b"}, result);
    drain(io);
    EXPECT_EQ(result, LockError::none);
    EXPECT_EQ(locks.keys_held(), 2U);
    EXPECT_EQ(locks.waiters(), 0U);

    locks.release_all(1);
    EXPECT_EQ(locks.keys_held(), 0U);
    locks.release_all(1);  // nothing held: harmless
}

TEST(LockManager, OwnerReacquiringItsOwnKeysDoesNotWait) {
    asio::io_context io;
    LockManager locks(1s);
    std::optional<LockError> first, second;
    spawn_acquire(io, locks, 1, {"a"}, first);
    drain(io);
    spawn_acquire(io, locks, 1, {"a", "b"}, second);
    drain(io);
    EXPECT_EQ(first, LockError::none);
    EXPECT_EQ(second, LockError::none);
    EXPECT_EQ(locks.keys_held(), 2U);
    locks.release_all(1);
    EXPECT_EQ(locks.keys_held(), 0U);
}

TEST(LockManager, SecondOwnerWaitsUntilFirstReleases) {
    asio::io_context io;
    LockManager locks(10s);
    std::optional<LockError> first, second;
    spawn_acquire(io, locks, 1, {"k"}, first);
    drain(io);
    spawn_acquire(io, locks, 2, {"k"}, second);
    drain(io);
    EXPECT_EQ(first, LockError::none);
    EXPECT_FALSE(second.has_value());
    EXPECT_EQ(locks.waiters(), 1U);

    locks.release_all(1);
    drain(io);
    EXPECT_EQ(second, LockError::none);
    EXPECT_EQ(locks.waiters(), 0U);
    EXPECT_EQ(locks.keys_held(), 1U);
    locks.release_all(2);
    EXPECT_EQ(locks.keys_held(), 0U);
}

TEST(LockManager, WaitersAreGrantedInArrivalOrder) {
    asio::io_context io;
    LockManager locks(10s);
    std::optional<LockError> holder;
    spawn_acquire(io, locks, 1, {"k"}, holder);
    drain(io);
    std::vector<std::uint64_t> entered;
    for (std::uint64_t owner : {5, 3, 4, 2, 6}) {
        asio::co_spawn(io, acquire_then_release(&locks, owner, {"k"}, &entered), rethrow);
        drain(io);
    }
    EXPECT_EQ(locks.waiters(), 5U);

    locks.release_all(1);
    drain(io);
    EXPECT_EQ(entered, (std::vector<std::uint64_t>{5, 3, 4, 2, 6}));
    EXPECT_EQ(locks.keys_held(), 0U);
    EXPECT_EQ(locks.waiters(), 0U);
}

TEST(LockManager, WaitTimesOutAndReturnsOnlyTheKeysOfThatCall) {
    asio::io_context io;
    LockManager locks(50ms);
    std::optional<LockError> holder, earlier, blocked, other;
    spawn_acquire(io, locks, 1, {"k"}, holder);
    spawn_acquire(io, locks, 2, {"earlier"}, earlier);
    drain(io);
    spawn_acquire(io, locks, 2, {"k", "a"}, blocked);  // takes "a", then waits for "k"
    io.restart();
    io.run();  // until the timeout fires
    EXPECT_EQ(blocked, LockError::timeout);
    EXPECT_EQ(locks.waiters(), 0U);
    EXPECT_EQ(locks.keys_held(), 2U);  // "k" by 1 and "earlier" by 2; "a" went back

    spawn_acquire(io, locks, 3, {"a"}, other);
    drain(io);
    EXPECT_EQ(other, LockError::none);
    for (std::uint64_t owner : {1, 2, 3}) locks.release_all(owner);
    EXPECT_EQ(locks.keys_held(), 0U);
}

asio::awaitable<void> try_acquire_into(LockManager* locks, std::uint64_t owner, Keys keys,
                                       std::optional<LockError>* result) {
    const LockError error = co_await locks->acquire(owner, std::move(keys), 0ms);
    *result = error;
}

TEST(LockManager, ZeroTimeoutTakesFreeAndOwnKeysAndFailsAtOnceOnHeldOnes) {
    asio::io_context io;
    LockManager locks(10s);  // a wait of the default length would hang this test
    std::optional<LockError> holder, own, free_only, busy;
    spawn_acquire(io, locks, 1, {"k"}, holder);
    drain(io);
    asio::co_spawn(io, try_acquire_into(&locks, 1, {"k", "m"}, &own), rethrow);
    asio::co_spawn(io, try_acquire_into(&locks, 2, {"n"}, &free_only), rethrow);
    asio::co_spawn(io, try_acquire_into(&locks, 2, {"a", "k"}, &busy), rethrow);
    io.restart();
    io.run_for(2s);
    EXPECT_EQ(own, LockError::none);
    EXPECT_EQ(free_only, LockError::none);
    EXPECT_EQ(busy, LockError::timeout) << "held by owner 1: no wait";
    EXPECT_EQ(locks.waiters(), 0U);
    EXPECT_EQ(locks.keys_held(), 3U) << "k and m by 1, n by 2; a went back with the failed call";
    for (std::uint64_t owner : {1, 2}) locks.release_all(owner);
}

TEST(LockManager, TwoOwnerCycleAnswersDeadlockToTheRequesterThatClosesIt) {
    asio::io_context io;
    LockManager locks(10s);
    std::optional<LockError> a1, b1, a2, b2;
    spawn_acquire(io, locks, 1, {"k1"}, a1);
    spawn_acquire(io, locks, 2, {"k2"}, b1);
    drain(io);
    spawn_acquire(io, locks, 1, {"k2"}, a2);        // waits for 2
    drain(io);
    spawn_acquire(io, locks, 2, {"a0", "k1"}, b2);  // takes "a0", then would wait for 1
    drain(io);
    EXPECT_EQ(b2, LockError::deadlock);
    EXPECT_FALSE(a2.has_value());
    EXPECT_EQ(locks.keys_held(), 2U);  // "a0" went back, "k2" stays with 2

    locks.release_all(2);  // the session rolls back, as InnoDB does on 1213
    drain(io);
    EXPECT_EQ(a2, LockError::none);
    locks.release_all(1);
    EXPECT_EQ(locks.keys_held(), 0U);
    EXPECT_EQ(locks.waiters(), 0U);
}

TEST(LockManager, ThreeOwnerCycleIsDetected) {
    asio::io_context io;
    LockManager locks(10s);
    std::array<std::optional<LockError>, 6> r;
    spawn_acquire(io, locks, 1, {"k1"}, r[0]);
    spawn_acquire(io, locks, 2, {"k2"}, r[1]);
    spawn_acquire(io, locks, 3, {"k3"}, r[2]);
    drain(io);
    spawn_acquire(io, locks, 1, {"k2"}, r[3]);  // 1 -> 2
    spawn_acquire(io, locks, 2, {"k3"}, r[4]);  // 2 -> 3: a chain, not a cycle
    drain(io);
    EXPECT_EQ(locks.waiters(), 2U);
    spawn_acquire(io, locks, 3, {"k1"}, r[5]);  // 3 -> 1 closes it
    drain(io);
    EXPECT_EQ(r[5], LockError::deadlock);

    locks.release_all(3);
    drain(io);
    EXPECT_EQ(r[4], LockError::none);
    EXPECT_FALSE(r[3].has_value());
    locks.release_all(2);
    drain(io);
    EXPECT_EQ(r[3], LockError::none);
    locks.release_all(1);
    EXPECT_EQ(locks.keys_held(), 0U);
    EXPECT_EQ(locks.waiters(), 0U);
}

asio::awaitable<void> acquire_repeatedly(LockManager* locks, std::uint64_t owner, Keys keys,
                                         int times, std::atomic<int>* failures) {
    const auto executor = co_await asio::this_coro::executor;
    for (int i = 0; i < times; ++i) {
        const LockError error = co_await locks->acquire(owner, keys);
        if (error != LockError::none) ++*failures;
        co_await asio::post(executor, asio::use_awaitable);  // hold it across a suspension
        locks->release_all(owner);
    }
}

TEST(LockManager, BatchesInOppositeOrderNeverDeadlock) {
    LockManager locks(10s);
    std::atomic<int> failures{0};
    {
        ContextThreads threads(2);
        asio::co_spawn(threads[0], acquire_repeatedly(&locks, 1, {"k1", "k2"}, 2000, &failures), rethrow);
        asio::co_spawn(threads[1], acquire_repeatedly(&locks, 2, {"k2", "k1"}, 2000, &failures), rethrow);
    }
    EXPECT_EQ(failures, 0);
    EXPECT_EQ(locks.keys_held(), 0U);
    EXPECT_EQ(locks.waiters(), 0U);
}

TEST(LockManager, ReleaseWakesAWaiterOnAnotherThread) {
    LockManager locks(10s);
    std::optional<LockError> first, second;
    {
        ContextThreads threads(2);
        spawn_acquire(threads[0], locks, 1, {"k"}, first);
        ASSERT_TRUE(eventually([&] { return locks.keys_held() == 1; }));
        spawn_acquire(threads[1], locks, 2, {"k"}, second);
        ASSERT_TRUE(eventually([&] { return locks.waiters() == 1; }));
        asio::post(threads[0], [&locks] { locks.release_all(1); });
        ASSERT_TRUE(eventually([&] { return locks.waiters() == 0; }));
    }  // joins: the second acquire has completed
    EXPECT_EQ(first, LockError::none);
    EXPECT_EQ(second, LockError::none);
    locks.release_all(2);
    EXPECT_EQ(locks.keys_held(), 0U);
}

// Waits for the keys or for `patience` to go off, whichever comes first.
asio::awaitable<void> acquire_or_give_up(LockManager* locks, std::uint64_t owner, Keys keys,
                                         asio::steady_timer* patience, std::optional<std::size_t>* winner) {
    using namespace asio::experimental::awaitable_operators;
    const auto first_done = co_await (locks->acquire(owner, std::move(keys)) ||
                                      patience->async_wait(asio::as_tuple(asio::use_awaitable)));
    *winner = first_done.index();
}

TEST(LockManager, WaitAbandonedThroughAwaitableOperatorsLeavesNoStaleWaiter) {
    asio::io_context io;
    LockManager locks(10s);
    std::optional<LockError> holder, behind;
    std::optional<std::size_t> winner;
    asio::steady_timer patience(io, asio::steady_timer::time_point::max());
    spawn_acquire(io, locks, 1, {"k"}, holder);
    drain(io);
    asio::co_spawn(io, acquire_or_give_up(&locks, 2, {"a", "k"}, &patience, &winner), rethrow);
    drain(io);
    spawn_acquire(io, locks, 3, {"k"}, behind);
    drain(io);
    EXPECT_EQ(locks.waiters(), 2U);

    patience.cancel();  // the other branch finishes first, which cancels the lock wait
    drain(io);
    EXPECT_EQ(winner, 1U);
    EXPECT_EQ(locks.waiters(), 1U);
    EXPECT_EQ(locks.keys_held(), 1U);  // "a" went back

    locks.release_all(1);
    drain(io);
    EXPECT_EQ(behind, LockError::none);  // not handed to the abandoned waiter
    locks.release_all(3);
    EXPECT_EQ(locks.keys_held(), 0U);
    EXPECT_EQ(locks.waiters(), 0U);
}

TEST(LockManager, CancellationSignalEndsTheWaitWithCancelled) {
    asio::io_context io;
    LockManager locks(10s);
    std::optional<LockError> holder, cancelled;
    spawn_acquire(io, locks, 1, {"k"}, holder);
    drain(io);
    asio::cancellation_signal signal;
    asio::co_spawn(io, acquire_into(&locks, 2, {"a", "k"}, &cancelled),
                   asio::bind_cancellation_slot(signal.slot(), rethrow));
    drain(io);
    EXPECT_EQ(locks.waiters(), 1U);

    signal.emit(asio::cancellation_type::terminal);
    drain(io);
    EXPECT_EQ(cancelled, LockError::cancelled);
    EXPECT_EQ(locks.waiters(), 0U);
    EXPECT_EQ(locks.keys_held(), 1U);
    locks.release_all(1);
    EXPECT_EQ(locks.keys_held(), 0U);
}

TEST(LockManager, DestroyingTheWaitersIoContextLeavesNoWaiterAndReturnsItsKeys) {
    asio::io_context io;
    LockManager locks(10s);
    std::optional<LockError> holder, lost;
    spawn_acquire(io, locks, 1, {"k"}, holder);
    drain(io);
    auto doomed = std::make_unique<asio::io_context>();
    spawn_acquire(*doomed, locks, 2, {"a", "k"}, lost);
    drain(*doomed);
    EXPECT_EQ(locks.waiters(), 1U);
    EXPECT_EQ(locks.keys_held(), 2U);

    doomed.reset();  // the client went away mid-wait; its coroutine frame is destroyed
    EXPECT_FALSE(lost.has_value());
    EXPECT_EQ(locks.waiters(), 0U);
    EXPECT_EQ(locks.keys_held(), 1U);
    locks.release_all(1);
    EXPECT_EQ(locks.keys_held(), 0U);
}

TEST(LockManager, KeyGrantedToAWaiterThatNeverResumesIsReturnedWhenItIsDestroyed) {
    asio::io_context io;
    LockManager locks(10s);
    std::optional<LockError> holder, lost;
    spawn_acquire(io, locks, 1, {"k"}, holder);
    drain(io);
    auto doomed = std::make_unique<asio::io_context>();
    spawn_acquire(*doomed, locks, 2, {"a", "k"}, lost);
    drain(*doomed);

    locks.release_all(1);  // hands "k" to 2 and posts its wake-up, which never runs
    EXPECT_EQ(locks.waiters(), 0U);
    EXPECT_EQ(locks.keys_held(), 2U);
    doomed.reset();
    EXPECT_EQ(locks.keys_held(), 0U);
}

// ---- Contention from several threads ---------------------------------------------------

constexpr std::size_t kKeySpace = 12;

struct KeySlot {
    std::atomic<int> inside{0};
    long counter = 0;  // deliberately not atomic: only the lock protects it
};

struct StressState {
    LockManager* locks;
    std::array<KeySlot, kKeySpace> slots;
    std::atomic<long> entries{0};
    std::atomic<int> overlaps{0};
    std::atomic<int> deadlocks{0};
    std::atomic<int> other_errors{0};
};

std::vector<std::size_t> random_key_indexes(std::mt19937& random, std::size_t max_count) {
    std::vector<std::size_t> indexes(std::uniform_int_distribution<std::size_t>(1, max_count)(random));
    for (auto& index : indexes) index = std::uniform_int_distribution<std::size_t>(0, kKeySpace - 1)(random);
    return indexes;
}

Keys key_names(const std::vector<std::size_t>& indexes) {
    Keys keys;
    for (std::size_t index : indexes) keys.push_back("key" + std::to_string(index));
    return keys;
}

// Marks newly locked keys as entered; `held` tracks what this transaction already entered.
void enter(StressState& state, const std::vector<std::size_t>& indexes, std::vector<bool>& held) {
    for (std::size_t index : indexes) {
        if (held[index]) continue;
        held[index] = true;
        if (state.slots[index].inside.fetch_add(1) != 0) ++state.overlaps;
        ++state.slots[index].counter;
        ++state.entries;
    }
}

void leave(StressState& state, std::uint64_t owner, std::vector<bool>& held) {
    for (std::size_t index = 0; index < kKeySpace; ++index) {
        if (held[index]) state.slots[index].inside.fetch_sub(1);
        held[index] = false;
    }
    state.locks->release_all(owner);  // after leaving: the next holder may enter at once
}

// Transactions of `statements` acquire calls each; more than one can form cycles.
asio::awaitable<void> run_transactions(StressState* state, std::uint64_t owner, int transactions,
                                       int statements) {
    const auto executor = co_await asio::this_coro::executor;
    std::mt19937 random(static_cast<std::uint32_t>(owner));
    std::vector<bool> held(kKeySpace, false);
    for (int t = 0; t < transactions; ++t) {
        for (int s = 0; s < statements; ++s) {
            const auto indexes = random_key_indexes(random, 3);
            const LockError error = co_await state->locks->acquire(owner, key_names(indexes));
            if (error == LockError::deadlock) ++state->deadlocks;
            if (error != LockError::none && error != LockError::deadlock) ++state->other_errors;
            if (error != LockError::none) break;
            enter(*state, indexes, held);
            co_await asio::post(executor, asio::use_awaitable);
        }
        leave(*state, owner, held);
    }
}

void run_stress(int statements, int coroutines_per_thread, int transactions) {
    LockManager locks(10s);
    auto state = std::make_unique<StressState>();
    state->locks = &locks;
    {
        ContextThreads threads(8);
        for (std::size_t t = 0; t < threads.size(); ++t) {
            for (int c = 0; c < coroutines_per_thread; ++c) {
                const std::uint64_t owner = t * 1000 + static_cast<std::uint64_t>(c) + 1;
                asio::co_spawn(threads[t], run_transactions(state.get(), owner, transactions, statements),
                               rethrow);
            }
        }
    }
    long counted = 0;
    for (const KeySlot& slot : state->slots) counted += slot.counter;
    EXPECT_EQ(state->overlaps, 0);
    EXPECT_EQ(state->other_errors, 0);  // no timeouts: every cycle was detected
    EXPECT_EQ(counted, state->entries.load());
    EXPECT_EQ(locks.keys_held(), 0U);
    EXPECT_EQ(locks.waiters(), 0U);
    if (statements == 1) {
        EXPECT_EQ(state->deadlocks, 0);  // sorted batches cannot deadlock
    }
}

TEST(LockManager, ManyThreadsNeverHoldTheSameKeyAtOnce) {
    run_stress(/*statements=*/1, /*coroutines_per_thread=*/25, /*transactions=*/100);  // 20k acquires
}

TEST(LockManager, ManyThreadsWithMultiStatementTransactionsDetectEveryCycle) {
    run_stress(/*statements=*/2, /*coroutines_per_thread=*/16, /*transactions=*/60);
}

}  // namespace
}  // namespace uniqgate::proxy
