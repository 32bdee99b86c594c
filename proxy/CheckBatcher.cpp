#include "proxy/CheckBatcher.hpp"

#include <iterator>
#include <utility>

namespace uniqgate::proxy {

std::string LiveRowsFamily::identity() const {
    std::string out = table;
    out.append(1, '\x1f').append(live).append(1, '\x1f').append(primary_key).append(1, '\x1f');
    out.append(dialect.charset).append(dialect.no_backslash_escapes ? "\x1fnbe" : "\x1f").append(bound ? "\x1f?" : "");
    return out;
}

std::string flagged_live_rows_query(const LiveRowsFamily& family, const std::vector<std::string>& conditions) {
    std::string flags;
    std::string any;
    for (const auto& condition : conditions) {
        flags += family.bound ? ", CAST((" + condition + ") AS BINARY)" : ", (" + condition + ")";
        any += (any.empty() ? "(" : " OR (") + condition + ")";
    }
    return "SELECT " + family.primary_key + flags + " FROM " + family.table + " WHERE " + family.live + " AND (" +
           any + ")";
}

std::vector<SqlRow> tagged_rows_for(const std::vector<SqlRow>& flagged, std::size_t primary_key_columns,
                                    std::size_t first, std::size_t count) {
    std::vector<SqlRow> tagged;
    for (const auto& row : flagged) {
        for (std::size_t i = 0; i < count; ++i) {
            const std::size_t column = primary_key_columns + first + i;
            if (column >= row.size() || !row[column] || *row[column] != "1") continue;
            SqlRow out;
            out.reserve(primary_key_columns + 1);
            out.emplace_back(std::to_string(i));
            out.insert(out.end(), row.begin(), row.begin() + static_cast<std::ptrdiff_t>(primary_key_columns));
            tagged.push_back(std::move(out));
        }
    }
    return tagged;
}

CheckBatcher::CheckBatcher(RunQuery run_query, Post post, Metrics& metrics)
    : run_query_(std::move(run_query)), post_(std::move(post)), metrics_(metrics) {}

void CheckBatcher::submit(const LiveRowsRequest& request, Complete complete) {
    metrics_.batched_checks.fetch_add(1, std::memory_order_relaxed);
    Queue* start = nullptr;
    {
        std::lock_guard lock(mutex_);
        auto& queue = queues_[request.family.identity()];
        if (queue.waiters.empty() && !queue.running) queue.family = request.family;
        queue.waiters.push_back({queue.conditions.size(), request.conditions.size(), std::move(complete)});
        queue.conditions.insert(queue.conditions.end(), request.conditions.begin(), request.conditions.end());
        if (request.family.bound) {
            queue.parameters.insert(queue.parameters.end(), request.parameters.begin(), request.parameters.end());
            queue.parameters.resize(queue.conditions.size());
        }
        if (!queue.running) {
            queue.running = true;
            start = &queue;
        }
    }
    if (start != nullptr) post_([this, start] { drain(start); });
}

void CheckBatcher::abandon() {
    std::vector<Waiter> forgotten;
    {
        std::lock_guard lock(mutex_);
        for (auto& [identity, queue] : queues_) {
            std::move(queue.waiters.begin(), queue.waiters.end(), std::back_inserter(forgotten));
            queue.waiters.clear();
            queue.conditions.clear();
            queue.parameters.clear();
        }
    }
}

CheckBatcher::Batch CheckBatcher::take_batch(Queue& queue) {
    Batch batch;
    std::size_t taken_waiters = 0;
    std::size_t taken_conditions = 0;
    while (taken_waiters < queue.waiters.size()) {
        const auto& next = queue.waiters[taken_waiters];
        if (taken_waiters > 0 && taken_conditions + next.count > kMaxConditions) break;
        taken_conditions += next.count;
        ++taken_waiters;
    }
    if (taken_waiters == 0) {
        queue.running = false;
        return batch;
    }
    batch.family = queue.family;
    const auto conditions_end = queue.conditions.begin() + static_cast<std::ptrdiff_t>(taken_conditions);
    batch.conditions.assign(std::make_move_iterator(queue.conditions.begin()), std::make_move_iterator(conditions_end));
    queue.conditions.erase(queue.conditions.begin(), conditions_end);
    if (queue.family.bound) {
        const auto parameters_end = queue.parameters.begin() + static_cast<std::ptrdiff_t>(taken_conditions);
        batch.parameters.assign(std::make_move_iterator(queue.parameters.begin()),
                                std::make_move_iterator(parameters_end));
        queue.parameters.erase(queue.parameters.begin(), parameters_end);
    }
    const auto waiters_end = queue.waiters.begin() + static_cast<std::ptrdiff_t>(taken_waiters);
    batch.waiters.assign(std::make_move_iterator(queue.waiters.begin()), std::make_move_iterator(waiters_end));
    queue.waiters.erase(queue.waiters.begin(), waiters_end);
    for (auto& waiter : queue.waiters) waiter.first -= taken_conditions;
    return batch;
}

void CheckBatcher::drain(Queue* queue) {
    auto batch = std::make_shared<Batch>();
    {
        std::lock_guard lock(mutex_);
        *batch = take_batch(*queue);
    }
    if (batch->waiters.empty()) return;
    run(*batch, [this, batch, queue](std::optional<QueryResult> result) {
        if (result && !result->ok && batch->waiters.size() > 1) {
            // One check's values can make the query fail (a literal the server refuses to
            // compare): each check then runs alone, so the error reaches only its own session.
            answer_alone(batch, 0, queue);
            return;
        }
        answer(*batch, result);
        drain(queue);
    });
}

void CheckBatcher::run(const Batch& batch, Complete done) {
    std::optional<std::vector<BoundParameter>> parameters;
    if (batch.family.bound) {
        // Each condition's values twice: once for its flag column, once for the WHERE.
        // The statement text is one per condition count, at most kMaxConditions of them
        // per family, which ControlConnection keeps prepared.
        std::size_t total = 0;
        for (const auto& part : batch.parameters) total += part.size();
        parameters.emplace();
        parameters->reserve(2 * total);
        for (int pass = 0; pass < 2; ++pass) {
            for (const auto& part : batch.parameters) parameters->insert(parameters->end(), part.begin(), part.end());
        }
    }
    metrics_.batched_check_queries.fetch_add(1, std::memory_order_relaxed);
    run_query_(flagged_live_rows_query(batch.family, batch.conditions), std::move(parameters), batch.family.dialect,
               std::move(done));
}

void CheckBatcher::answer_alone(std::shared_ptr<const Batch> batch, std::size_t next, Queue* queue) {
    if (next == batch->waiters.size()) {
        drain(queue);
        return;
    }
    const auto& waiter = batch->waiters[next];
    const auto first = batch->conditions.begin() + static_cast<std::ptrdiff_t>(waiter.first);
    const auto end = first + static_cast<std::ptrdiff_t>(waiter.count);
    auto alone = std::make_shared<Batch>(Batch{batch->family, {first, end}, {}, {{0, waiter.count, waiter.complete}}});
    if (batch->family.bound) {
        const auto parameters = batch->parameters.begin() + static_cast<std::ptrdiff_t>(waiter.first);
        alone->parameters.assign(parameters, parameters + static_cast<std::ptrdiff_t>(waiter.count));
    }
    run(*alone, [this, alone, batch = std::move(batch), next, queue](std::optional<QueryResult> result) mutable {
        answer(*alone, result);
        answer_alone(std::move(batch), next + 1, queue);
    });
}

void CheckBatcher::answer(const Batch& batch, const std::optional<QueryResult>& result) {
    const std::size_t flag_columns = batch.conditions.size();
    for (const auto& waiter : batch.waiters) {
        if (!result || !result->ok) {
            waiter.complete(result);
            continue;
        }
        QueryResult mine;
        mine.ok = true;
        // The primary key's columns come before the flags.
        const std::size_t row_width = result->rows.empty() ? 0 : result->rows.front().size();
        const std::size_t primary_key_columns = row_width >= flag_columns ? row_width - flag_columns : 0;
        mine.rows = tagged_rows_for(result->rows, primary_key_columns, waiter.first, waiter.count);
        waiter.complete(std::move(mine));
    }
}

}  // namespace uniqgate::proxy
