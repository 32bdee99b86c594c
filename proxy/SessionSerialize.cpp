// mode: serialize (and observe) for INSERT: per-key locks held until the
// client's transaction ends, then an existence check that sees every committed
// live row, then the statement itself (or MySQL's 1062).
#include "proxy/ControlPool.hpp"
#include "proxy/DedupSql.hpp"
#include "proxy/InternalQuery.hpp"
#include "proxy/MysqlErrors.hpp"
#include "proxy/PreparedWrites.hpp"
#include "proxy/Session.hpp"
#include "proxy/SqlText.hpp"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <map>
#include <set>

namespace uniqgate::proxy {

namespace {

// A GET_LOCK name: lock names are case-insensitive-or-not depending on the server
// (MariaDB compares them as given), so they are built from a hash of the
// normalised key, which is exact. 64 characters is the server's limit.
std::string backend_lock_name(std::string_view key) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(key.data(), key.size(), digest, &length, EVP_sha256(), nullptr);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string name = "uniqgate:";
    for (unsigned int i = 0; i < length && name.size() < 64; ++i) {
        name += kHex[digest[i] >> 4];
        name += kHex[digest[i] & 0xf];
    }
    return name;
}

}  // namespace

// Which rows of an INSERT / REPLACE the existence check reads (the first of each
// key), and the lock names of their keys.
std::vector<Session::InsertCheck> Session::rows_to_check(const rules::WritePlan& plan,
                                                         std::vector<std::string>& lock_names) {
    std::vector<InsertCheck> checks;
    for (const auto& rule : plan.rules) {
        if (!rule.actions.check_live) continue;
        InsertCheck check{&rule, {}, std::vector<bool>(rule.rows.size(), false), std::vector<std::size_t>(rule.rows.size()),
                        std::vector<protocol::TextRow>(rule.rows.size())};
        std::map<std::string_view, std::size_t> first_row_of_key;
        for (std::size_t row = 0; row < rule.rows.size(); ++row) {
            check.first_row[row] = row;
            if (rule.rows[row].status != rules::KeyStatus::known) continue;
            const auto identity = rule.identity(row);
            const auto [first, added] = first_row_of_key.emplace(identity, row);
            if (!added) {
                check.duplicate[row] = true;  // a batch that duplicates itself
                check.first_row[row] = first->second;
                continue;
            }
            check.rows_to_check.push_back(row);
            if (rule.actions.lock_keys) lock_names.push_back(rule.rule->name + '\x1f' + std::string(identity));
        }
        checks.push_back(std::move(check));
    }
    return checks;
}

asio::awaitable<LockError> Session::lock_keys(std::vector<std::string> keys, LockWait wait) {
    const std::chrono::milliseconds timeout = wait == LockWait::yes ? context_.config.lock.timeout : std::chrono::milliseconds(0);
    if (context_.config.lock.backend == config::LockBackend::local) {
        holds_local_locks_ = true;
        const auto result = co_await context_.locks.acquire(id_, std::move(keys), timeout);
        co_return result;
    }
    // GET_LOCK on the session's own backend connection: several uniqgate
    // instances in front of one server serialize together.
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    const double timeout_s = static_cast<double>(timeout.count()) / 1000.0;
    std::vector<std::string> taken;
    for (const auto& key : keys) {
        const std::string name = backend_lock_name(key);
        if (std::find(held_lock_names_.begin(), held_lock_names_.end(), name) != held_lock_names_.end()) continue;
        error_code ec;
        const auto sql = "SELECT GET_LOCK('" + name + "', " + std::to_string(timeout_s) + ")";
        auto outcomes = co_await run_internal_query(backend_, backend_buffer_, client_caps_, sql, ec);
        if (ec || outcomes.empty()) co_return LockError::cancelled;
        const auto& outcome = outcomes.front();
        LockError failure = LockError::none;
        if (outcome.is_error) {
            failure = outcome.error.error_code == mysql_error::kLockDeadlock ? LockError::deadlock : LockError::timeout;
        } else if (outcome.rows.empty() || outcome.rows.front().empty() || outcome.rows.front().front() != "1") {
            failure = LockError::timeout;
        }
        if (failure != LockError::none) {
            for (const auto& release : taken) {
                co_await run_internal_query(backend_, backend_buffer_, client_caps_,
                                            "SELECT RELEASE_LOCK('" + release + "')", ec);
                std::erase(held_lock_names_, release);
            }
            co_return failure;
        }
        taken.push_back(name);
        held_lock_names_.push_back(name);
    }
    co_return LockError::none;
}

// Locks live as long as the client's transaction: the server's status flags say
// when it ended (COMMIT, ROLLBACK, an implicit commit, autocommit, a reset).
asio::awaitable<void> Session::release_keys_if_transaction_ended() {
    if (tracker_.status_flags() & protocol::status::in_trans) co_return;
    if (holds_local_locks_) {
        context_.locks.release_all(id_);
        holds_local_locks_ = false;
    }
    if (held_lock_names_.empty()) co_return;
    std::string sql = "SELECT ";
    for (std::size_t i = 0; i < held_lock_names_.size(); ++i) {
        if (i > 0) sql += ", ";
        sql += "RELEASE_LOCK('" + held_lock_names_[i] + "')";
    }
    held_lock_names_.clear();
    error_code ec;
    co_await run_internal_query(backend_, backend_buffer_, client_caps_, sql, ec);
}

namespace {

using PrimaryKey = protocol::TextRow;  // = Session::PrimaryKey

// Marks the conditions whose tag ([i, pk...] rows of a tagged_live_rows_query) came
// back, unless the row is one of those the statement itself rewrites, and keeps
// the first such row's primary key as the key's holder.
void mark_tagged(const std::vector<protocol::TextRow>& found, const std::vector<PrimaryKey>& exclude,
                 std::vector<bool>& flags, std::vector<PrimaryKey>& holders) {
    holders.resize(flags.size());
    for (const auto& row : found) {
        if (row.empty() || !row.front()) continue;
        PrimaryKey pk(row.begin() + 1, row.end());
        if (std::find(exclude.begin(), exclude.end(), pk) != exclude.end()) continue;
        const auto index = static_cast<std::size_t>(std::stoul(*row.front()));
        if (index >= flags.size() || flags[index]) continue;
        flags[index] = true;
        holders[index] = std::move(pk);
    }
}

// A control connection's failed read, as the ERR the client is answered with.
protocol::ErrPacket error_of(const QueryResult& failed) {
    return {static_cast<std::uint16_t>(failed.error_code), failed.sqlstate, failed.message};
}

void collect_candidates(const std::vector<protocol::TextRow>& found, const std::vector<PrimaryKey>& exclude,
                        std::map<PrimaryKey, std::size_t>& candidates) {
    for (const auto& row : found) {
        if (row.size() < 2 || !row.front()) continue;
        PrimaryKey pk(row.begin() + 1, row.end());
        if (std::find(exclude.begin(), exclude.end(), pk) != exclude.end()) continue;
        candidates.emplace(std::move(pk), std::stoul(*row.front()));
    }
}

}  // namespace

// One of the proxy's own reads on the session's backend connection. Returns false
// when the connection failed; an SQL error (answered to the client by the
// caller) lands in `failure`, rows in `rows`.
asio::awaitable<bool> Session::read_rows(const std::string& sql, std::vector<protocol::TextRow>& rows,
                                         protocol::ErrPacket& failure) {
    error_code ec;
    auto outcomes = co_await run_internal_query(backend_, backend_buffer_, client_caps_, sql, ec);
    if (ec || outcomes.empty()) co_return false;
    if (outcomes.front().is_error) {
        failure = outcomes.front().error;
    } else {
        rows = std::move(outcomes.front().rows);
    }
    co_return true;
}

asio::awaitable<bool> Session::find_live(KeyCheck& check, const rules::WritePlan& plan,
                                         const rules::TableSchema& schema, protocol::ErrPacket& failure) {
    bool alive = false;
    if (tracker_.status_flags() & protocol::status::in_trans) {
        alive = co_await find_live_in_transaction(check, plan, schema, failure);
    } else {
        alive = co_await find_live_outside_transaction(check, plan, schema, failure);
    }
    co_return alive;
}

LiveRowsRequest Session::live_rows_request(const KeyCheck& check, const rules::WritePlan& plan,
                                           const rules::TableSchema& schema) const {
    const bool no_backslash = rule_context().no_backslash_escapes;
    const bool bound = !check.bound_conditions.empty();
    LiveRowsRequest request{{quote_table(plan.schema, plan.table), live_condition(check.rule->soft_delete, no_backslash),
                             primary_key_column_list(schema, bound ? PrimaryKeyAs::binary : PrimaryKeyAs::stored), Dialect{charset_name_, no_backslash}, bound},
                            bound ? check.bound_conditions : check.conditions,
                            {}};
    for (const auto& part : check.bound_parameters) request.parameters.push_back(bound_parameters(part, check.own_values));
    return request;
}

// Outside a transaction the check's read view is made now, after the locks were
// taken, so a plain read sees every committed live row: on the session's own
// connection, or, while other sessions check too, in one READ COMMITTED query
// with theirs (CheckBatcher).
asio::awaitable<bool> Session::find_live_outside_transaction(KeyCheck& check, const rules::WritePlan& plan,
                                                             const rules::TableSchema& schema,
                                                             protocol::ErrPacket& failure) {
    std::optional<CheckBatcher::InProgress> in_progress;
    if (context_.control && !schema.primary_key.empty()) in_progress.emplace(context_.control->checks());
    if (in_progress && !in_progress->alone()) {
        const auto request = live_rows_request(check, plan, schema);
        const auto committed = co_await context_.control->live_rows(request);
        if (committed) {
            if (!committed->ok) {
                failure = error_of(*committed);
            } else {
                mark_tagged(committed->rows, check.exclude, check.found, check.holders);
            }
            co_return true;
        }
    }
    const bool no_backslash = rule_context().no_backslash_escapes;
    const std::string_view limit = check.exclude.empty() ? " LIMIT 1" : "";
    std::vector<protocol::TextRow> rows;
    bool alive = false;
    if (check.bound_conditions.empty()) {
        const auto query =
            tagged_live_rows_query(*check.rule, check.conditions, schema, plan.schema, plan.table, no_backslash, limit);
        alive = co_await read_rows(query, rows, failure);
    } else {
        const auto query = tagged_live_rows_query(*check.rule, check.bound_conditions, schema, plan.schema, plan.table,
                                                  no_backslash, limit, true);
        std::vector<std::uint32_t> parameters;
        for (const auto& part : check.bound_parameters) parameters.insert(parameters.end(), part.begin(), part.end());
        alive = co_await read_rows_bound(query, parameters, rows, failure, check.own_values);
    }
    mark_tagged(rows, check.exclude, check.found, check.holders);
    co_return alive;
}

// Inside a transaction the session's own read view may be old (REPEATABLE READ),
// and a locking read of an absent key takes gap locks that deadlock unrelated
// inserts. So: candidates are the live rows with the keys that a READ COMMITTED
// connection of the proxy sees (latest committed) plus those the session's own
// view sees (its own uncommitted rows); a locking read by primary key of just
// those rows then gives their current state, taking record locks only.
asio::awaitable<bool> Session::find_live_in_transaction(KeyCheck& check, const rules::WritePlan& plan,
                                                        const rules::TableSchema& schema,
                                                        protocol::ErrPacket& failure) {
    const bool no_backslash = rule_context().no_backslash_escapes;
    // An execute's values are bound as parameters (`bound`), anything else is read as text.
    const bool bound = !check.bound_conditions.empty();
    std::vector<std::uint32_t> parameters;
    for (const auto& part : check.bound_parameters) parameters.insert(parameters.end(), part.begin(), part.end());
    const auto by_key = tagged_live_rows_query(*check.rule, bound ? check.bound_conditions : check.conditions, schema,
                                               plan.schema, plan.table, no_backslash, "", bound);
    const auto read_by_key = [&](const std::string& sql, std::vector<protocol::TextRow>& into) {
        return bound ? read_rows_bound(sql, parameters, into, failure, check.own_values) : read_rows(sql, into, failure);
    };
    std::optional<QueryResult> committed;
    if (context_.control && !schema.primary_key.empty()) {
        const CheckBatcher::InProgress in_progress(context_.control->checks());
        const auto request = live_rows_request(check, plan, schema);
        committed = co_await context_.control->live_rows(request);
    }
    std::vector<protocol::TextRow> rows;
    if (!committed) {
        // No control connection (or no primary key): a locking read by key, which
        // sees the latest rows but may take gap locks.
        const std::string locking_by_key = by_key + " LOCK IN SHARE MODE";  // named: GCC 12, docs/DEVELOPING.md
        const bool alive = co_await read_by_key(locking_by_key, rows);
        mark_tagged(rows, check.exclude, check.found, check.holders);
        co_return alive;
    }
    if (!committed->ok) {
        failure = error_of(*committed);
        co_return true;
    }
    // The session's own view adds its uncommitted rows; a transaction in which it has
    // written nothing yet (only BEGIN so far, or one the proxy opened for this statement)
    // has none, and the read is skipped.
    if (own_writes_pending_) {
        const bool own_read = co_await read_by_key(by_key, rows);
        if (!own_read || failure.error_code != 0) co_return own_read;
    }
    std::map<PrimaryKey, std::size_t> candidates;
    collect_candidates(committed->rows, check.exclude, candidates);
    collect_candidates(rows, check.exclude, candidates);
    if (candidates.empty()) co_return true;

    const std::string pk_columns = primary_key_column_list(schema);
    std::string pk_tuples;
    std::string key_conditions;
    // Bound: the candidates' primary keys too, as own values after the check's, so that
    // the statement's text depends on their number only.
    std::vector<std::uint32_t> pk_parameters;
    std::vector<std::uint32_t> key_parameters;
    auto own_values = check.own_values;
    const std::size_t client_count = bound_execute_ ? bound_execute_->values.size() : 0;
    std::set<std::size_t> tags;
    for (const auto& [pk, tag] : candidates) {
        pk_tuples += pk_tuples.empty() ? "(" : ", (";
        for (std::size_t i = 0; i < pk.size(); ++i) {
            if (i > 0) pk_tuples += ", ";
            if (bound) {
                pk_tuples += "?";
                pk_parameters.push_back(static_cast<std::uint32_t>(client_count + own_values.size()));
                own_values.push_back(pk[i]);
            } else {
                pk_tuples += pk[i] ? quote_string(*pk[i], no_backslash) : std::string("NULL");
            }
        }
        pk_tuples += ")";
        if (tags.insert(tag).second && tag < check.conditions.size()) {
            const auto& condition = bound ? check.bound_conditions[tag] : check.conditions[tag];
            key_conditions += (key_conditions.empty() ? "(" : " OR (") + condition + ")";
            if (bound) {
                const auto& part = check.bound_parameters[tag];
                key_parameters.insert(key_parameters.end(), part.begin(), part.end());
            }
        }
    }
    const std::string locking = "SELECT " + primary_key_column_list(schema, bound ? PrimaryKeyAs::binary : PrimaryKeyAs::stored) + " FROM " +
                                quote_table(plan.schema, plan.table) + " WHERE (" +
                                pk_columns + ") IN (" + pk_tuples + ") AND " +
                                live_condition(check.rule->soft_delete, no_backslash) + " AND (" + key_conditions +
                                ") LOCK IN SHARE MODE";
    std::vector<protocol::TextRow> current;
    bool locked = false;
    if (bound) {
        pk_parameters.insert(pk_parameters.end(), key_parameters.begin(), key_parameters.end());
        locked = co_await read_rows_bound(locking, pk_parameters, current, failure, own_values);
    } else {
        locked = co_await read_rows(locking, current, failure);
    }
    if (!locked || failure.error_code != 0) co_return locked;
    check.holders.resize(check.found.size());
    for (const auto& row : current) {
        auto it = candidates.find(PrimaryKey(row.begin(), row.end()));
        if (it == candidates.end() || it->second >= check.found.size() || check.found[it->second]) continue;
        check.found[it->second] = true;
        check.holders[it->second] = it->first;
    }
    co_return true;
}

// Answers a failed lock_keys() as InnoDB answers a failed row lock: 1205 ends the
// statement (and a transaction the proxy opened for it); 1213 rolls the whole
// transaction back and frees its keys. Returns false if the connection is gone.
asio::awaitable<bool> Session::answer_lock_failure(LockError error, bool own_transaction) {
    if (error == LockError::cancelled) co_return false;
    const bool deadlock = error == LockError::deadlock;
    if (deadlock || own_transaction) {
        error_code ec;
        auto undone = co_await run_internal_query(backend_, backend_buffer_, client_caps_, "ROLLBACK", ec);
        if (ec || undone.empty()) co_return false;
        tracker_.set_status_flags(undone.back().ok.status_flags);
        co_await release_keys_if_transaction_ended();
    }
    // No co_await inside ?: (GCC 12, docs/DEVELOPING.md).
    const std::uint16_t code = deadlock ? mysql_error::kLockDeadlock : mysql_error::kLockWaitTimeout;
    const std::string message = deadlock ? mysql_error::kLockDeadlockMessage : mysql_error::kLockWaitTimeoutMessage;
    const bool sent = co_await send_error(
        code, deadlock ? mysql_error::kLockDeadlockState : mysql_error::kLockWaitTimeoutState, message);
    co_return sent;
}

// The first steps of an INSERT or REPLACE in mode serialize: the rows' keys locked,
// then which of them repeat an earlier row's key or have a live row (its holder).
// A failure is answered to the client here.
asio::awaitable<Session::Step> Session::lock_and_find_live(const std::string& sql, const rules::WritePlan& plan,
                                                           const rules::TableSchema& schema,
                                                           std::vector<InsertCheck>& checks) {
    std::vector<std::string> lock_names;
    checks = rows_to_check(plan, lock_names);
    if (!lock_names.empty()) {
        const LockError locked = co_await lock_keys(std::move(lock_names));
        if (locked != LockError::none) {
            const bool answered = co_await answer_lock_failure(locked, false);
            co_return answered ? Step::answered : Step::lost;
        }
    }
    for (auto& check : checks) {
        if (check.rows_to_check.empty()) continue;
        KeyCheck keys{check.rule->rule, {}, {}, std::vector<bool>(check.rows_to_check.size(), false)};
        const rules::RulePlan* bound = bound_rule_plan(*check.rule);
        for (const std::size_t row : check.rows_to_check) {
            keys.conditions.push_back(key_equals(*check.rule, row, sql, schema));
            if (bound == nullptr) continue;
            keys.bound_conditions.push_back(
                key_equals(*bound, row, bound_execute_->sql, schema, &keys.bound_parameters.emplace_back()));
        }
        protocol::ErrPacket failure{};  // error_code 0: none
        const bool alive = co_await find_live(keys, plan, schema, failure);
        if (!alive) co_return Step::lost;
        if (failure.error_code != 0) {
            const bool sent = co_await send_error(failure.error_code, failure.sql_state, failure.message);
            co_return sent ? Step::answered : Step::lost;
        }
        for (std::size_t i = 0; i < keys.found.size(); ++i) {
            if (!keys.found[i]) continue;
            check.duplicate[check.rows_to_check[i]] = true;
            check.holder[check.rows_to_check[i]] = std::move(keys.holders[i]);
        }
    }
    co_return Step::go_on;
}

// Whether an INSERT can take the one-round-trip path (insert_if_no_live_key): a plain
// autocommit INSERT sent as text, every rule answering a duplicate with 1062.
bool Session::fits_probe_path(const rules::WritePlan& plan) const {
    const auto flags = tracker_.status_flags();
    if ((flags & protocol::status::in_trans) || !(flags & protocol::status::autocommit)) return false;
    if (plan.insert.ignore || !plan.insert.on_duplicate_key_update.empty() || !plan.insert.returning.empty() ||
        plan.rules.empty()) {
        return false;
    }
    // An execute needs its values bound (its plan as prepared); it may have to be sent
    // again after the probe (client_write_command).
    const bool execute = pending_execute_ != nullptr;
    if (execute && (!execute_bindable() || blocks_unavailable_)) return false;
    for (const auto& rule : plan.rules) {
        if (!rule.actions.check_live || !rule.actions.lock_keys || rule.actions.report_only ||
            rule.rule->on_duplicate != config::OnDuplicate::error || (execute && bound_rule_plan(rule) == nullptr)) {
            return false;
        }
        for (const auto& row : rule.rows) {
            if (row.status != rules::KeyStatus::known) return false;
        }
    }
    return true;
}

// The existence check and the INSERT in one round trip, after the keys are locked,
// when no other session is checking (otherwise checks share a query, which costs the
// server less than this probe; go_on then, as for a batch repeating its own key):
// "SELECT (SELECT 1 UNION ALL (SELECT 1 FROM t WHERE <live> AND <key> LIMIT 1) ...)"
// then the INSERT, as one multi-statement. A live row makes the subquery return two
// rows, the SELECT fails with 1242 and the server never runs the INSERT: go_on, and
// the full check answers the duplicate. Otherwise the client gets the INSERT's own answer.
asio::awaitable<Session::Step> Session::insert_if_no_live_key(const std::string& sql, const rules::WritePlan& plan,
                                                               const rules::TableSchema& schema) {
    // The probe is a check in progress too: while it runs, other sessions share queries.
    std::optional<CheckBatcher::InProgress> in_progress;
    if (context_.control && !schema.primary_key.empty()) {
        in_progress.emplace(context_.control->checks());
        if (!in_progress->alone()) co_return Step::go_on;
    }
    std::vector<std::string> lock_names;
    const auto checks = rows_to_check(plan, lock_names);
    for (const auto& check : checks) {
        if (std::find(check.duplicate.begin(), check.duplicate.end(), true) != check.duplicate.end()) {
            co_return Step::go_on;  // a batch repeating its own key: the full path answers 1062
        }
    }
    const LockError locked = co_await lock_keys(std::move(lock_names));
    if (locked != LockError::none) {
        const bool answered = co_await answer_lock_failure(locked, false);
        co_return answered ? Step::answered : Step::lost;
    }
    if (pending_execute_ != nullptr) {
        const Step probed = co_await execute_if_no_live_key(checks, plan, schema);
        co_return probed;
    }
    const bool no_backslash = rule_context().no_backslash_escapes;
    const std::string table = quote_table(plan.schema, plan.table);
    // SELECT, not DO: DO discards the subquery's 1242 (MariaDB 10.11). SET @v = (...) would
    // raise it too, but leaves a user variable in the client's session.
    std::string probe = "SELECT (SELECT 1";
    for (const auto& check : checks) {
        const std::string live = live_condition(check.rule->rule->soft_delete, no_backslash);
        for (const std::size_t row : check.rows_to_check) {
            probe += " UNION ALL (SELECT 1 FROM " + table + " WHERE " + live + " AND " +
                     key_equals(*check.rule, row, sql, schema) + " LIMIT 1)";
        }
    }
    probe += ")\n;" + statement_text(sql);
    error_code ec;
    auto outcomes = co_await run_statements(probe, ec);
    if (ec || outcomes.empty()) co_return Step::lost;
    if (outcomes.front().is_error && outcomes.front().error.error_code == mysql_error::kSubqueryMoreThanOneRow) {
        co_return Step::go_on;
    }
    if (outcomes.back().is_error) {  // the probe's own failure, or the INSERT's
        const bool sent = co_await answer_error(outcomes.back().error);
        co_return sent ? Step::answered : Step::lost;
    }
    if (outcomes.size() != 2) co_return Step::lost;
    context_.metrics.one_round_trip_inserts.fetch_add(1, std::memory_order_relaxed);
    const auto inserted = outcomes.back().ok;
    const bool sent = co_await send_wrapped_ok(inserted, inserted.status_flags);
    co_return sent ? Step::answered : Step::lost;
}

// insert_if_no_live_key for an execute, the keys locked: the probe is a prepared block
// of the proxy's own with the client's values bound (guarded_live_key_probe), pipelined
// with the client's own execute. A live key fails the block, which fails the execute:
// the READ ONLY transaction it left is rolled back and the full check answers (go_on).
asio::awaitable<Session::Step> Session::execute_if_no_live_key(const std::vector<InsertCheck>& checks,
                                                               const rules::WritePlan& plan,
                                                               const rules::TableSchema& schema) {
    const bool no_backslash = rule_context().no_backslash_escapes;
    const std::string table = quote_table(plan.schema, plan.table);
    std::string exists;
    std::vector<std::uint32_t> parameters;
    for (const auto& check : checks) {
        const rules::RulePlan* bound = bound_rule_plan(*check.rule);
        if (bound == nullptr) co_return Step::go_on;
        const std::string live = live_condition(check.rule->rule->soft_delete, no_backslash);
        for (const std::size_t row : check.rows_to_check) {
            if (!exists.empty()) exists += " OR ";
            exists += "EXISTS (SELECT 1 FROM " + table + " WHERE " + live + " AND " +
                      key_equals(*bound, row, bound_execute_->sql, schema, &parameters) + ")";
        }
    }
    if (exists.empty()) co_return Step::go_on;
    const std::string probe = guarded_live_key_probe(exists);
    protocol::Bytes probe_execute;
    const OwnBlock block = co_await own_block_execute(probe, parameters, probe_execute);
    if (block != OwnBlock::ready) co_return block == OwnBlock::lost ? Step::lost : Step::go_on;
    std::vector<protocol::Bytes> commands{std::move(probe_execute)};
    const bool appended = co_await append_client_write(commands);
    if (!appended) co_return Step::lost;
    pending_execute_sent_ = sends_clients_execute();
    error_code ec;
    const auto outcomes = co_await run_internal_pipeline(backend_, backend_buffer_, client_caps_, commands, ec);
    if (ec || outcomes.size() != commands.size()) co_return Step::lost;
    if (outcomes.front().is_error) {
        auto ended = co_await run_internal_query(backend_, backend_buffer_, client_caps_, "ROLLBACK", ec);
        if (ec || ended.empty()) co_return Step::lost;
        if (!ended.front().is_error) tracker_.set_status_flags(ended.front().ok.status_flags);
        if (outcomes.front().error.error_code == mysql_error::kDupEntry) co_return Step::go_on;  // the check notes it
        const bool sent = co_await answer_error(outcomes.front().error);
        co_return sent ? Step::answered : Step::lost;
    }
    if (outcomes.back().is_error) {
        const bool sent = co_await answer_error(outcomes.back().error);
        co_return sent ? Step::answered : Step::lost;
    }
    context_.metrics.one_round_trip_inserts.fetch_add(1, std::memory_order_relaxed);
    const auto inserted = outcomes.back().ok;
    const bool sent = co_await send_wrapped_ok(inserted, inserted.status_flags);
    co_return sent ? Step::answered : Step::lost;
}

asio::awaitable<bool> Session::enforce_insert(const std::string& sql, const rules::WritePlan& plan,
                                              const rules::TableSchema& schema) {
    const auto context = rule_context();
    // A prepared INSERT that mostly repeated live keys lately goes to the full check at
    // once: the probe would fail, then cost a ROLLBACK and the check anyway.
    PreparedWrite* write = pending_execute_ != nullptr && bound_execute_ ? bound_execute_->write : nullptr;
    const bool hot = write != nullptr && write->recent_duplicates >= kClaimFirstAbove;
    if (!hot && fits_probe_path(plan)) {
        const Step probed = co_await insert_if_no_live_key(sql, plan, schema);
        if (probed != Step::go_on) co_return probed == Step::answered;
    }
    std::vector<InsertCheck> checks;
    const Step checked = co_await lock_and_find_live(sql, plan, schema, checks);
    if (checked != Step::go_on) co_return checked == Step::answered;

    // What the rules decide, row by row.
    const std::size_t row_count = plan.insert.rows.size();
    const bool client_upsert = !plan.insert.on_duplicate_key_update.empty();
    std::vector<bool> drop(row_count, false);
    std::vector<const rules::RulePlan*> update_rule(row_count, nullptr);
    std::vector<PrimaryKey> holder(row_count);  // client_upsert: the live row each row updates
    const config::Rule* upsert_rule = nullptr;
    for (const auto& check : checks) {
        const auto& rule = *check.rule;
        for (std::size_t row = 0; row < check.duplicate.size() && row < row_count; ++row) {
            if (!check.duplicate[row]) continue;
            const std::string entry = duplicate_entry_text(rule, row, sql, schema, context);
            if (rule.actions.report_only) {
                context_.metrics.observed_duplicates.fetch_add(1, std::memory_order_relaxed);
                spdlog::warn("session {}: observe: duplicate entry '{}' for key '{}' on {}.{} (not blocked)", id_,
                             entry, rule.rule->name, plan.schema, plan.table);
                continue;
            }
            if (client_upsert) {
                // As at a unique index over the key: the row updates the live row holding it
                // (or, repeating a key of this statement, the row that holder became).
                const auto& found = check.holder[check.first_row[row]];
                if (found.empty() || (!holder[row].empty() && holder[row] != found)) {
                    const bool sent = co_await send_error(
                        mysql_error::kNotSupportedYet, mysql_error::kNotSupportedYetState,
                        "uniqgate: an INSERT ... ON DUPLICATE KEY UPDATE whose row " + std::to_string(row + 1) +
                            (found.empty() ? " repeats a key of rule '" + rule.rule->name + "' inserted by an earlier row"
                                           : " matches live rows of several rules") +
                            " is not supported; send the rows separately");
                    co_return sent;
                }
                holder[row] = found;
                drop[row] = true;
                upsert_rule = rule.rule;
                continue;
            }
            context_.metrics.duplicates_refused.fetch_add(1, std::memory_order_relaxed);
            if (write != nullptr) write->note_duplicate(true);
            // The client's own INSERT IGNORE skips a duplicate row, as it would at a unique index.
            if (rule.rule->on_duplicate == config::OnDuplicate::error && !plan.insert.ignore) {
                const bool sent = co_await send_error(mysql_error::kDupEntry, mysql_error::kDupEntryState,
                                                      "Duplicate entry '" + entry + "' for key '" + rule.rule->name + "'");
                co_return sent;
            }
            drop[row] = true;  // on_duplicate: ignore, or update (the row becomes an UPDATE)
            if (rule.rule->on_duplicate == config::OnDuplicate::update && update_rule[row] == nullptr) {
                update_rule[row] = &rule;
            }
        }
    }
    if (upsert_rule != nullptr) {
        if (schema.primary_key.empty()) {
            const bool sent = co_await send_error(
                mysql_error::kNotSupportedYet, mysql_error::kNotSupportedYetState,
                "uniqgate: INSERT ... ON DUPLICATE KEY UPDATE onto a live key of rule '" + upsert_rule->name +
                    "' needs a primary key on table '" + plan.table + "'");
            co_return sent;
        }
        const bool sent = co_await upsert_serialized(sql, plan, schema, *upsert_rule, std::move(drop), std::move(holder));
        co_return sent;
    }
    if (std::any_of(update_rule.begin(), update_rule.end(), [](const auto* rule) { return rule != nullptr; })) {
        const std::vector<OwnStep> nothing_after;
        const bool sent = co_await run_upsert(sql, plan, schema, drop, update_rule, false, nothing_after);
        co_return sent;
    }
    if (std::find(drop.begin(), drop.end(), true) == drop.end()) {
        if (write != nullptr) write->note_duplicate(false);
        const bool sent = co_await send_client_write(sql);
        co_return sent;
    }
    if (std::find(drop.begin(), drop.end(), false) == drop.end()) {
        const bool sent = co_await send_ok(0, 0);  // every row was a duplicate
        co_return sent;
    }
    if (execute_bindable() && bound_execute_->plan().insert.rows.size() == plan.insert.rows.size()) {
        const bool sent = co_await insert_kept_rows_bound(drop);
        co_return sent;
    }
    const bool sent = co_await send_statement(rebuild_without_rows(sql, plan.insert, drop));
    co_return sent;
}

// The rows of an execute that go in (those not in `drop`) as a statement of the proxy's
// own with their values bound.
Session::OwnStep Session::kept_rows_bound(const std::vector<bool>& drop) const {
    const auto& bound = *bound_execute_;
    OwnStep kept{{}, std::vector<std::uint32_t>{}};
    kept.sql = rebuild_without_rows(bound.sql, bound.plan().insert, drop, bound.placeholders, *kept.parameters);
    return kept;
}

// kept_rows_bound, run; its answer is the client's.
asio::awaitable<bool> Session::insert_kept_rows_bound(const std::vector<bool>& drop) {
    const OwnStep kept = kept_rows_bound(drop);
    StatementOutcome outcome;
    const bool alive = co_await run_own_step(kept, outcome);
    if (!alive) co_return false;
    if (outcome.is_error) {
        const bool sent = co_await answer_error(outcome.error);
        co_return sent;
    }
    tracker_.set_status_flags(outcome.ok.status_flags);
    const bool sent = co_await answer_ok(outcome.ok);
    co_return sent;
}

// INSERT ... ON DUPLICATE KEY UPDATE onto live keys: the holders the check found are
// locked by primary key (record locks only, no gaps) and must still be live; then the
// write runs as in mode dedup (upsert_into_holders). A holder soft-deleted since the
// check no longer holds its key, and the key lock keeps every other proxied writer of
// that key out, so its row is inserted instead.
asio::awaitable<bool> Session::upsert_serialized(const std::string& sql, const rules::WritePlan& plan,
                                                 const rules::TableSchema& schema, const config::Rule& rule,
                                                 std::vector<bool> key_was_live, std::vector<PrimaryKey> holders) {
    const bool no_backslash = rule_context().no_backslash_escapes;
    const bool own_transaction = opens_own_transaction(tracker_.status_flags());
    std::vector<protocol::TextRow> distinct;
    for (std::size_t row = 0; row < key_was_live.size(); ++row) {
        if (key_was_live[row] && std::find(distinct.begin(), distinct.end(), holders[row]) == distinct.end()) {
            distinct.push_back(holders[row]);
        }
    }
    const std::string holders_locked = " FROM " + quote_table(plan.schema, plan.table) + " WHERE ";
    const std::string still_live_and_locked = " AND " + live_condition(rule.soft_delete, no_backslash) + " FOR UPDATE";
    error_code ec;
    std::vector<StatementOutcome> locked;
    if (fits_bound_upsert(plan, schema)) {
        // The holders' primary keys bound too, read back as the binary protocol sends them.
        const OwnValues holder_keys = primary_keys_bound(distinct, schema.primary_key.size());
        const std::string read = "SELECT " + primary_key_column_list(schema, PrimaryKeyAs::binary) + holders_locked +
                                 primary_key_in_placeholders(schema, distinct.size()) + still_live_and_locked;
        std::uint32_t id = 0;
        protocol::ErrPacket refused{};
        const bool prepared = co_await own_statement(read, holder_keys.parameters.size(), id, refused);
        if (!prepared) co_return false;
        if (refused.error_code == 0) {
            const std::vector<protocol::Bytes> commands{protocol::encode_query(begin_statement(own_transaction)),
                                                        own_execute(id, holder_keys.parameters, holder_keys.values)};
            if (commands.back().empty()) co_return false;
            locked = co_await run_internal_pipeline(backend_, backend_buffer_, client_caps_, commands, ec);
            if (ec || locked.size() != commands.size()) co_return false;
            if (const std::size_t failed = first_failed(locked); failed < locked.size()) locked.resize(failed + 1);
        }
    }
    if (locked.empty()) {
        const std::string lock = begin_statement(own_transaction) + "\n;SELECT " + primary_key_column_list(schema) +
                                 holders_locked + primary_key_in(schema, distinct, no_backslash) + still_live_and_locked;
        locked = co_await run_statements(lock, ec);
        if (ec || locked.empty()) co_return false;
    }
    if (locked.back().is_error || locked.size() != 2) {
        if (!locked.back().is_error) co_return false;
        const auto error = locked.back().error;
        const bool answered = co_await undo_and_answer(own_transaction, false, error);
        co_return answered;
    }
    const auto& still_live = locked.back().rows;
    for (const auto& gone : distinct) {
        if (std::find(still_live.begin(), still_live.end(), gone) != still_live.end()) continue;
        std::size_t rows_on_it = 0;
        for (std::size_t row = 0; row < key_was_live.size(); ++row) {
            if (!key_was_live[row] || holders[row] != gone) continue;
            key_was_live[row] = false;
            ++rows_on_it;
        }
        if (rows_on_it > 1) {
            const protocol::ErrPacket refusal{
                mysql_error::kNotSupportedYet, std::string(mysql_error::kNotSupportedYetState),
                "uniqgate: an INSERT ... ON DUPLICATE KEY UPDATE whose rows repeat a key of rule '" + rule.name +
                    "' is not supported; send the rows separately"};
            const bool answered = co_await undo_and_answer(own_transaction, true, refusal);
            co_return answered;
        }
    }
    deadlock_to_retry_ = false;
    bool done = false;
    if (fits_bound_upsert(plan, schema)) {
        std::vector<std::optional<PrimaryKey>> holder(key_was_live.size());
        for (std::size_t row = 0; row < key_was_live.size(); ++row) {
            if (key_was_live[row]) holder[row] = holders[row];
        }
        const UpsertRelease nothing_to_release;  // named: GCC 12, docs/DEVELOPING.md
        done = co_await write_upsert_bound(schema, rule, holder, nothing_to_release, own_transaction);
    } else {
        done = co_await upsert_into_holders(sql, plan, schema, rule, key_was_live, holders, {}, own_transaction);
    }
    if (!done || !deadlock_to_retry_) co_return done;
    deadlock_to_retry_ = false;  // rolled back already: answered as InnoDB answers a deadlock
    const bool sent = co_await send_error(mysql_error::kLockDeadlock, mysql_error::kLockDeadlockState,
                                          mysql_error::kLockDeadlockMessage);
    co_return sent;
}

}  // namespace uniqgate::proxy
