#include "proxy/LockManager.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <tuple>
#include <utility>

namespace uniqgate::proxy {

// Shared by a waiting coroutine and the thread that grants it the key; the grant's
// notification keeps it alive after the coroutine is gone.
struct LockManager::Waiter {
    Waiter(std::uint64_t owner_id, asio::any_io_executor waiter_executor)
        : owner(owner_id), executor(std::move(waiter_executor)) {}

    const std::uint64_t owner;
    const asio::any_io_executor executor;
    bool granted = false;                 // guarded by mutex_
    asio::steady_timer* timer = nullptr;  // only touched on `executor`; null when not waiting
};

// What one acquire() call has taken. If the coroutine ends without succeeding (error
// returned, exception, frame destroyed with its io_context) those keys go back.
class LockManager::CallGuard {
public:
    CallGuard(LockManager& manager, std::uint64_t owner) : manager_(manager), owner_(owner) {}
    CallGuard(const CallGuard&) = delete;
    CallGuard& operator=(const CallGuard&) = delete;
    ~CallGuard() {
        if (active_) {
            if (waiter) waiter->timer = nullptr;  // the timer lived in the coroutine frame
            manager_.abandon_call(owner_, taken, waiter);
        }
    }

    LockError fail(LockError error) {
        active_ = false;
        manager_.abandon_call(owner_, taken, waiter);
        return error;
    }
    void succeed() { active_ = false; }

    std::size_t taken = 0;           // keys newly taken by this call
    std::shared_ptr<Waiter> waiter;  // set while the call sits in a queue

private:
    LockManager& manager_;
    std::uint64_t owner_;
    bool active_ = true;
};

LockManager::LockManager(std::chrono::milliseconds wait_timeout) : wait_timeout_(wait_timeout) {}

LockManager::~LockManager() = default;

asio::awaitable<LockError> LockManager::acquire(std::uint64_t owner, std::vector<std::string> keys,
                                                std::optional<std::chrono::milliseconds> timeout) {
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    const auto deadline = std::chrono::steady_clock::now() + timeout.value_or(wait_timeout_);
    const asio::any_io_executor executor = co_await asio::this_coro::executor;
    const asio::cancellation_state cancellation = co_await asio::this_coro::cancellation_state;

    CallGuard call(*this, owner);
    for (const std::string& key : keys) {
        std::shared_ptr<Waiter> waiter;
        const Attempt attempt = take_or_enqueue(owner, key, executor, waiter);
        if (attempt == Attempt::taken) ++call.taken;
        if (attempt == Attempt::deadlock) co_return call.fail(LockError::deadlock);
        if (attempt != Attempt::must_wait) continue;

        // The timer is both the timeout and the doorbell: a grant cancels it.
        call.waiter = waiter;
        asio::steady_timer timer(executor, deadline);
        waiter->timer = &timer;
        WaitOutcome outcome = WaitOutcome::still_waiting;
        bool cancelled = false;
        while (outcome == WaitOutcome::still_waiting) {
            const std::tuple<boost::system::error_code> woke =
                co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
            cancelled = cancellation.cancelled() != asio::cancellation_type::none;
            const bool expired = !std::get<0>(woke);
            outcome = finish_wait(*waiter, cancelled || expired);
        }
        waiter->timer = nullptr;
        call.waiter.reset();
        if (outcome == WaitOutcome::granted) ++call.taken;
        if (cancelled) co_return call.fail(LockError::cancelled);
        if (outcome == WaitOutcome::left_queue) co_return call.fail(LockError::timeout);
    }
    call.succeed();
    co_return LockError::none;
}

void LockManager::release_all(std::uint64_t owner) {
    Wakeups wakeups;
    {
        const std::lock_guard lock(mutex_);
        const auto it = owners_.find(owner);
        if (it == owners_.end()) return;
        for (const std::string& key : it->second.held) release_key(key, wakeups);
        it->second.held.clear();
        forget_owner_if_idle(owner);
    }
    notify(wakeups);
}

std::size_t LockManager::keys_held() const {
    const std::lock_guard lock(mutex_);
    return keys_.size();
}

std::size_t LockManager::waiters() const {
    const std::lock_guard lock(mutex_);
    return waiting_;
}

LockManager::Attempt LockManager::take_or_enqueue(std::uint64_t owner, const std::string& key,
                                                  const asio::any_io_executor& executor,
                                                  std::shared_ptr<Waiter>& waiter) {
    const std::lock_guard lock(mutex_);
    const auto [it, inserted] = keys_.try_emplace(key);
    KeyState& state = it->second;
    if (inserted) {
        state.holder = owner;
        owners_[owner].held.push_back(key);
        return Attempt::taken;
    }
    if (state.holder == owner) return Attempt::already_held;
    // InnoDB answers the requester that would close the cycle; so do we.
    if (closes_cycle(owner, state)) return Attempt::deadlock;
    waiter = std::make_shared<Waiter>(owner, executor);
    state.queue.push_back(waiter);
    owners_[owner].waiting_on = &state;
    ++waiting_;
    return Attempt::must_wait;
}

LockManager::WaitOutcome LockManager::finish_wait(Waiter& waiter, bool give_up) {
    const std::lock_guard lock(mutex_);
    if (waiter.granted) return WaitOutcome::granted;  // a grant beats a simultaneous timeout
    if (!give_up) return WaitOutcome::still_waiting;
    leave_queue(waiter);
    forget_owner_if_idle(waiter.owner);
    return WaitOutcome::left_queue;
}

void LockManager::abandon_call(std::uint64_t owner, std::size_t taken,
                               const std::shared_ptr<Waiter>& waiter) {
    Wakeups wakeups;
    {
        const std::lock_guard lock(mutex_);
        if (waiter != nullptr && waiter->granted) ++taken;  // granted, but never woke to see it
        if (waiter != nullptr && !waiter->granted) leave_queue(*waiter);
        release_newest(owner, taken, wakeups);
        forget_owner_if_idle(owner);
    }
    notify(wakeups);
}

bool LockManager::closes_cycle(std::uint64_t requester, const KeyState& key) const {
    // Each owner waits for at most one key, so the wait-for graph from here is a chain.
    // No cycle exists before this wait (they are refused as they form), so it ends; the
    // hop limit only guards against a broken invariant.
    std::uint64_t holder = key.holder;
    for (std::size_t hops = 0; hops <= owners_.size(); ++hops) {
        if (holder == requester) return true;
        const auto it = owners_.find(holder);
        if (it == owners_.end() || it->second.waiting_on == nullptr) return false;
        holder = it->second.waiting_on->holder;
    }
    return false;
}

void LockManager::leave_queue(Waiter& waiter) {
    OwnerState& owner = owners_.at(waiter.owner);
    // The key stays: a key with waiters always has a holder.
    std::erase_if(owner.waiting_on->queue, [&](const auto& queued) { return queued.get() == &waiter; });
    owner.waiting_on = nullptr;
    --waiting_;
}

void LockManager::release_newest(std::uint64_t owner, std::size_t count, Wakeups& wakeups) {
    const auto it = owners_.find(owner);
    if (it == owners_.end()) return;
    std::vector<std::string>& held = it->second.held;
    for (count = std::min(count, held.size()); count > 0; --count) {
        release_key(held.back(), wakeups);
        held.pop_back();
    }
}

void LockManager::release_key(const std::string& key, Wakeups& wakeups) {
    const auto it = keys_.find(key);
    if (it == keys_.end()) return;
    KeyState& state = it->second;
    if (state.queue.empty()) {
        keys_.erase(it);
        return;
    }
    // Hand the key over here, under the mutex: nobody can slip in before the first waiter.
    std::shared_ptr<Waiter> next = std::move(state.queue.front());
    state.queue.pop_front();
    state.holder = next->owner;
    OwnerState& next_owner = owners_.at(next->owner);
    next_owner.held.push_back(key);
    next_owner.waiting_on = nullptr;
    --waiting_;
    next->granted = true;
    wakeups.push_back(std::move(next));
}

void LockManager::forget_owner_if_idle(std::uint64_t owner) {
    const auto it = owners_.find(owner);
    if (it != owners_.end() && it->second.held.empty() && it->second.waiting_on == nullptr) {
        owners_.erase(it);
    }
}

void LockManager::notify(Wakeups& wakeups) {
    for (std::shared_ptr<Waiter>& waiter : wakeups) {
        const asio::any_io_executor executor = waiter->executor;
        asio::post(executor, [waiter = std::move(waiter)] {
            if (waiter->timer != nullptr) waiter->timer->cancel();
        });
    }
}

}  // namespace uniqgate::proxy
