// CheckBatcher: which checks share a query, the query's text and parameters, and
// how its rows are split back to each check. The query runner here is a recording
// function; the real one (ControlPool) is exercised by it.serialize.batched_checks.
#include "proxy/CheckBatcher.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace uniqgate::proxy {
namespace {

LiveRowsFamily text_family() { return {"`shop`.`t`", "`delete_status` = 0", "`id`", Dialect{}, false}; }

LiveRowsFamily bound_family() {
    return {"`shop`.`t`", "`delete_status` = 0", "CAST(`id` AS BINARY)", Dialect{}, true};
}

BoundParameter string_parameter(const std::string& value) { return {253, false, value}; }

// The runner answers from `answer` and records what it was asked; its answer and
// posted work wait in `posted` until the test runs them, so checks submitted
// meanwhile queue up.
struct Harness {
    struct Call {
        std::string sql;
        std::optional<std::vector<BoundParameter>> parameters;
    };
    std::vector<Call> calls;
    std::deque<std::function<void()>> posted;
    std::function<std::optional<QueryResult>(const std::string&)> answer = [](const std::string&) {
        QueryResult none;
        none.ok = true;
        return std::optional<QueryResult>(none);
    };
    Metrics metrics;
    CheckBatcher batcher{[this](const std::string& sql, const std::optional<std::vector<BoundParameter>>& parameters,
                                const Dialect&, CheckBatcher::Complete done) {
                             calls.push_back({sql, parameters});
                             posted.push_back([this, sql, done = std::move(done)] { done(answer(sql)); });
                         },
                         [this](std::function<void()> work) { posted.push_back(std::move(work)); }, metrics};

    void run_posted() {
        while (!posted.empty()) {
            auto work = std::move(posted.front());
            posted.pop_front();
            work();
        }
    }
};

struct Outcome {
    bool called = false;
    std::optional<QueryResult> result;
};

CheckBatcher::Complete record(Outcome& outcome) {
    return [&outcome](std::optional<QueryResult> result) {
        outcome.called = true;
        outcome.result = std::move(result);
    };
}

std::vector<SqlRow> rows(std::initializer_list<SqlRow> list) { return list; }

TEST(CheckBatcherSql, FlaggedQueryHasOneFlagPerConditionAndAnyOfThemInTheWhere) {
    EXPECT_EQ(flagged_live_rows_query(text_family(), {"`name` = 'a' AND `model` = 'x'", "`name` = 'b' AND `model` = 'y'"}),
              "SELECT `id`, (`name` = 'a' AND `model` = 'x'), (`name` = 'b' AND `model` = 'y') FROM `shop`.`t` "
              "WHERE `delete_status` = 0 AND ((`name` = 'a' AND `model` = 'x') OR (`name` = 'b' AND `model` = 'y'))");
    EXPECT_EQ(flagged_live_rows_query(bound_family(), {"`name` = ?"}),
              "SELECT CAST(`id` AS BINARY), CAST((`name` = ?) AS BINARY) FROM `shop`.`t` "
              "WHERE `delete_status` = 0 AND ((`name` = ?))");
}

TEST(CheckBatcherSql, TaggedRowsNumberTheConditionsWithinTheRange) {
    // Rows: pk, then flags for conditions 0..3. Row 7 has conditions 1 and 2 (two
    // spellings of one key, say); row 9 condition 3.
    const auto flagged = rows({{"7", "0", "1", "1", "0"}, {"9", "0", "0", "0", "1"}});
    EXPECT_EQ(tagged_rows_for(flagged, 1, 0, 1), std::vector<SqlRow>{});
    EXPECT_EQ(tagged_rows_for(flagged, 1, 1, 2), rows({{"0", "7"}, {"1", "7"}}));
    EXPECT_EQ(tagged_rows_for(flagged, 1, 3, 1), rows({{"0", "9"}}));
    // A two-column primary key, NULL flags (a NULL key value never matches).
    const auto composite = rows({{"1", "a", std::nullopt, "1"}});
    EXPECT_EQ(tagged_rows_for(composite, 2, 0, 2), rows({{"1", "1", "a"}}));
}

TEST(CheckBatcher, ChecksQueuedWhileTheFamilyIsBusyShareTheNextQuery) {
    Harness h;
    h.answer = [](const std::string&) {
        QueryResult found;
        found.ok = true;
        found.rows = rows({{"5", "0", "1", "0", "0"}});  // pk 5 has the second condition's key
        return std::optional<QueryResult>(found);
    };
    Outcome first, second, third;
    h.batcher.submit({text_family(), {"c0"}, {}}, record(first));
    h.batcher.submit({text_family(), {"c1", "c2"}, {}}, record(second));
    // One drain is posted for the family, not one per check.
    ASSERT_EQ(h.posted.size(), 1u);
    h.batcher.submit({text_family(), {"c3"}, {}}, record(third));
    h.run_posted();
    // The first query took all three (nothing ran before they were queued).
    ASSERT_EQ(h.calls.size(), 1u);
    EXPECT_EQ(h.calls[0].sql,
              "SELECT `id`, (c0), (c1), (c2), (c3) FROM `shop`.`t` WHERE `delete_status` = 0 AND "
              "((c0) OR (c1) OR (c2) OR (c3))");
    EXPECT_FALSE(h.calls[0].parameters.has_value());
    ASSERT_TRUE(first.called && second.called && third.called);
    EXPECT_TRUE(first.result->ok);
    EXPECT_EQ(first.result->rows, std::vector<SqlRow>{});
    EXPECT_EQ(second.result->rows, rows({{"0", "5"}}));  // c1 is the second check's condition 0
    EXPECT_EQ(third.result->rows, std::vector<SqlRow>{});
    EXPECT_EQ(h.metrics.batched_checks.load(), 3u);
    EXPECT_EQ(h.metrics.batched_check_queries.load(), 1u);
}

TEST(CheckBatcher, ChecksArrivingDuringAQueryGoIntoTheNextOne) {
    Harness h;
    Outcome first, late;
    h.answer = [&](const std::string& sql) {
        if (h.calls.size() == 1) h.batcher.submit({text_family(), {"late"}, {}}, record(late));
        QueryResult none;
        none.ok = true;
        (void)sql;
        return std::optional<QueryResult>(none);
    };
    h.batcher.submit({text_family(), {"early"}, {}}, record(first));
    h.run_posted();
    // The drain that ran the first query also ran the second: no new drain was posted.
    ASSERT_EQ(h.calls.size(), 2u);
    EXPECT_NE(h.calls[0].sql.find("(early)"), std::string::npos);
    EXPECT_EQ(h.calls[0].sql.find("(late)"), std::string::npos);
    EXPECT_NE(h.calls[1].sql.find("(late)"), std::string::npos);
    EXPECT_TRUE(first.called && late.called);
    // Idle again: the next check starts a new drain.
    Outcome again;
    h.batcher.submit({text_family(), {"again"}, {}}, record(again));
    EXPECT_EQ(h.posted.size(), 1u);
}

TEST(CheckBatcher, ChecksQueuedWhileAQueryIsInFlightShareTheNextOne) {
    // The runner answers later, as the control connections' event loop does: the drain
    // must stay the family's until that answer, and take everything queued meanwhile.
    Harness h;
    Outcome first, second, third;
    h.batcher.submit({text_family(), {"c0"}, {}}, record(first));
    ASSERT_EQ(h.posted.size(), 1u);
    auto drain = std::move(h.posted.front());
    h.posted.pop_front();
    drain();  // the first query starts; its answer waits in `posted`
    ASSERT_EQ(h.calls.size(), 1u);
    ASSERT_EQ(h.posted.size(), 1u);
    EXPECT_FALSE(first.called);
    h.batcher.submit({text_family(), {"c1"}, {}}, record(second));
    h.batcher.submit({text_family(), {"c2"}, {}}, record(third));
    EXPECT_EQ(h.posted.size(), 1u);  // no second drain: the running one goes on
    h.run_posted();
    ASSERT_EQ(h.calls.size(), 2u);
    EXPECT_EQ(h.calls[1].sql, flagged_live_rows_query(text_family(), {"c1", "c2"}));
    EXPECT_TRUE(first.called && second.called && third.called);
}

TEST(CheckBatcher, FamiliesNeverShareAQuery) {
    Harness h;
    auto other_table = text_family();
    other_table.table = "`shop`.`u`";
    auto other_charset = text_family();
    other_charset.dialect.charset = "latin1";
    auto no_backslash = text_family();
    no_backslash.dialect.no_backslash_escapes = true;
    Outcome a, b, c, d;
    h.batcher.submit({text_family(), {"a"}, {}}, record(a));
    h.batcher.submit({other_table, {"b"}, {}}, record(b));
    h.batcher.submit({other_charset, {"c"}, {}}, record(c));
    h.batcher.submit({no_backslash, {"d"}, {}}, record(d));
    EXPECT_EQ(h.posted.size(), 4u);
    h.run_posted();
    EXPECT_EQ(h.calls.size(), 4u);
    EXPECT_TRUE(a.called && b.called && c.called && d.called);
}

TEST(CheckBatcher, BoundChecksCarryTheirParametersTwiceAndNothingElse) {
    Harness h;
    h.answer = [](const std::string&) {
        QueryResult found;
        found.ok = true;
        found.rows = rows({{"12", "0", "0", "1"}});  // flag 2: the third condition
        return std::optional<QueryResult>(found);
    };
    Outcome first, second;
    h.batcher.submit({bound_family(), {"`name` = ?", "`name` = ?"}, {{string_parameter("a")}, {string_parameter("b")}}},
                     record(first));
    h.batcher.submit({bound_family(), {"`name` = ? AND `model` = 'x'"}, {{string_parameter("c")}}}, record(second));
    h.run_posted();
    ASSERT_EQ(h.calls.size(), 1u);
    const auto& call = h.calls[0];
    // Three conditions, not padded: a padded copy would cost the server a flag column and a
    // range for nothing.
    EXPECT_EQ(call.sql,
              flagged_live_rows_query(bound_family(), {"`name` = ?", "`name` = ?", "`name` = ? AND `model` = 'x'"}));
    ASSERT_TRUE(call.parameters.has_value());
    std::vector<std::string> values;
    for (const auto& parameter : *call.parameters) values.push_back(parameter.bytes.value_or("NULL"));
    EXPECT_EQ(values, (std::vector<std::string>{"a", "b", "c", "a", "b", "c"}));
    EXPECT_EQ(first.result->rows, std::vector<SqlRow>{});
    EXPECT_EQ(second.result->rows, rows({{"0", "12"}}));
}

TEST(CheckBatcher, AFailedQueryAnswersEveryCheckItCarried) {
    Harness h;
    h.answer = [](const std::string&) {
        QueryResult failed;
        failed.error_code = 1146;
        failed.sqlstate = "42S02";
        failed.message = "Table 'shop.t' doesn't exist";
        return std::optional<QueryResult>(failed);
    };
    Outcome a, b;
    h.batcher.submit({text_family(), {"a"}, {}}, record(a));
    h.batcher.submit({text_family(), {"b"}, {}}, record(b));
    h.run_posted();
    ASSERT_TRUE(a.result && b.result);
    EXPECT_FALSE(a.result->ok);
    EXPECT_EQ(a.result->error_code, 1146u);
    EXPECT_EQ(b.result->message, "Table 'shop.t' doesn't exist");

    EXPECT_EQ(h.calls.size(), 3u);  // the shared query, then each check alone

    Harness unreachable;
    unreachable.answer = [](const std::string&) { return std::optional<QueryResult>(); };
    Outcome c;
    unreachable.batcher.submit({text_family(), {"c"}, {}}, record(c));
    unreachable.run_posted();
    EXPECT_TRUE(c.called);
    EXPECT_FALSE(c.result.has_value());
}

TEST(CheckBatcher, AnErrorCausedByOneCheckReachesOnlyThatCheck) {
    // A literal the server refuses (say, DATE'2020-13-01') fails the whole shared query.
    Harness h;
    h.answer = [](const std::string& sql) {
        QueryResult result;
        if (sql.find("bad") != std::string::npos) {
            result.error_code = 1525;
            result.sqlstate = "HY000";
            result.message = "Incorrect DATE value: '2020-13-01'";
        } else {
            result.ok = true;
            result.rows = rows({{"4", "1"}});
        }
        return std::optional<QueryResult>(result);
    };
    Outcome good, bad;
    h.batcher.submit({bound_family(), {"good = ?"}, {{string_parameter("g")}}}, record(good));
    h.batcher.submit({bound_family(), {"bad = ?"}, {{string_parameter("b")}}}, record(bad));
    h.run_posted();
    ASSERT_EQ(h.calls.size(), 3u);
    EXPECT_EQ(h.calls[1].sql, flagged_live_rows_query(bound_family(), {"good = ?"}));
    ASSERT_TRUE(h.calls[1].parameters.has_value());
    EXPECT_EQ(h.calls[1].parameters->size(), 2u);  // the flag and the WHERE
    ASSERT_TRUE(good.result && bad.result);
    EXPECT_TRUE(good.result->ok);
    EXPECT_EQ(good.result->rows, rows({{"0", "4"}}));
    EXPECT_FALSE(bad.result->ok);
    EXPECT_EQ(bad.result->error_code, 1525u);
}

TEST(CheckBatcher, AQueryCarriesAtMostMaxConditionsUnlessOneCheckHasMore) {
    Harness h;
    std::vector<Outcome> outcomes(CheckBatcher::kMaxConditions + 1);
    for (auto& outcome : outcomes) h.batcher.submit({text_family(), {"c"}, {}}, record(outcome));
    std::vector<std::string> many(CheckBatcher::kMaxConditions + 5, "m");
    Outcome big;
    h.batcher.submit({text_family(), many, {}}, record(big));
    h.run_posted();
    ASSERT_EQ(h.calls.size(), 3u);  // 32 checks, then 1, then the big one alone
    const auto flags = [](const std::string& sql) {
        std::size_t count = 0;
        for (auto at = sql.find(", ("); at != std::string::npos; at = sql.find(", (", at + 1)) ++count;
        return count;
    };
    EXPECT_EQ(flags(h.calls[0].sql), CheckBatcher::kMaxConditions);
    EXPECT_EQ(flags(h.calls[1].sql), 1u);
    EXPECT_EQ(flags(h.calls[2].sql), CheckBatcher::kMaxConditions + 5);
    for (const auto& outcome : outcomes) EXPECT_TRUE(outcome.called);
    EXPECT_TRUE(big.called);
}

TEST(CheckBatcher, AbandonedChecksAreNeverAnsweredAndTheFamilyRunsAgainAfterwards) {
    // At shutdown the queued checks' callbacks are destroyed unanswered; a drain already
    // posted then finds nothing and leaves the family idle.
    Harness h;
    Outcome first, second;
    auto destroyed = std::make_shared<int>(0);
    struct CountsDestruction {
        std::shared_ptr<int> count;
        ~CountsDestruction() { ++*count; }
    };
    auto witness = std::make_shared<CountsDestruction>();
    witness->count = destroyed;
    h.batcher.submit({text_family(), {"c0"}, {}}, [&first, witness](std::optional<QueryResult> result) {
        first.called = true;
        first.result = std::move(result);
    });
    witness.reset();
    h.batcher.submit({text_family(), {"c1"}, {}}, record(second));
    h.batcher.abandon();
    EXPECT_EQ(*destroyed, 1);  // the callback, and what it held, are gone
    h.run_posted();
    EXPECT_TRUE(h.calls.empty());
    EXPECT_FALSE(first.called || second.called);
    Outcome later;
    h.batcher.submit({text_family(), {"c2"}, {}}, record(later));
    h.run_posted();
    ASSERT_EQ(h.calls.size(), 1u);
    EXPECT_TRUE(later.called);
}

TEST(CheckBatcher, InProgressTellsWhetherAnotherCheckRuns) {
    Harness h;
    {
        const CheckBatcher::InProgress first(h.batcher);
        EXPECT_TRUE(first.alone());
        const CheckBatcher::InProgress second(h.batcher);
        EXPECT_FALSE(second.alone());
    }
    const CheckBatcher::InProgress after(h.batcher);
    EXPECT_TRUE(after.alone());
}

}  // namespace
}  // namespace uniqgate::proxy
