#pragma once
// One client connection and its own backend connection, as a coroutine that
// reads top to bottom like the conversation it carries: connect, handshake
// (TLS and authentication pass through), then the command loop.

#include "config/Config.hpp"
#include "protocol/Messages.hpp"
#include "protocol/ResponseTracker.hpp"
#include "proxy/AuthRelay.hpp"
#include "proxy/Connection.hpp"
#include "proxy/FrameBuffer.hpp"
#include "proxy/InternalQuery.hpp"
#include "proxy/ControlPool.hpp"
#include "proxy/LockManager.hpp"
#include "proxy/Metrics.hpp"
#include "proxy/PreparedWrites.hpp"
#include "proxy/SchemaCache.hpp"
#include "rules/Plan.hpp"
#include "rules/RuleSet.hpp"
#include "rules/TemporaryTables.hpp"

#include <boost/asio/ssl/context.hpp>

#include <atomic>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace uniqgate::proxy {

// The character set a handshake's collation id names (what the lexer must know
// about multibyte strings).
rules::Charset charset_from_collation_id(std::uint8_t id) noexcept;
const char* charset_name_from_collation_id(std::uint8_t id) noexcept;

// What every session shares; owned by the Server, read-only while sessions run.
struct ProxyContext {
    const config::Config& config;
    asio::ssl::context* client_tls = nullptr;   // nullptr: client TLS disabled
    asio::ssl::context* backend_tls = nullptr;  // nullptr: backend TLS disabled
    Metrics& metrics;
    const rules::RuleSet& rules;
    SchemaCache& schemas;
    LockManager& locks;
    ControlPool* control = nullptr;  // nullptr: no control user configured
    // Client commands being served right now, over all sessions: more than one means the
    // proxy's CPU is shared, and saving wake-ups beats answering a few µs sooner.
    std::atomic<int> commands_in_flight{0};
};

// Where relaying a response stands (Session::forward_buffered_response) and what it needs next.
enum class RelayStep { scan, read, write, infile, done, failed };
struct ResponseRelay {
    std::size_t uninspected = 0;  // payload bytes of the current frame still to pass through
    protocol::ResponseTracker::Next next = protocol::ResponseTracker::Next::server_frame;
    std::size_t wanted = protocol::kFrameHeaderSize;  // bytes needed at the front to make progress
    std::size_t forwarding = 0;    // RelayStep::write: bytes at the backend buffer's front being written,
    asio::const_buffer unwritten;  // of which the client's socket has yet to take these
};

class Session {
public:
    Session(ProxyContext& context, Connection::Socket client_socket, std::uint64_t id);

    asio::awaitable<void> run();

private:
    // Connection phase.
    asio::awaitable<bool> establish();
    asio::awaitable<bool> connect_backend();
    asio::awaitable<bool> exchange_handshake();
    asio::awaitable<bool> authenticate(AuthRelay relay, std::uint8_t client_seq, std::uint8_t backend_seq);
    asio::awaitable<void> refuse_client(std::uint16_t code, const std::string& sql_state, const std::string& message,
                                        std::uint8_t sequence_id);

    // Command phase.
    asio::awaitable<void> command_loop();
    asio::awaitable<bool> wait_for_command(error_code& ec);
    asio::awaitable<void> watch_backend();
    asio::awaitable<bool> relay_command(std::uint32_t frame_length);
    asio::awaitable<bool> relay_command_packet(std::uint32_t first_frame_length);
    asio::awaitable<bool> forward_client_frame(std::uint32_t payload_length);
    void remember_init_db(std::uint32_t frame_length);
    void name_the_clients_last_prepared(protocol::Command command, std::uint32_t frame_length) noexcept;
    // The response relay in steps that never wait (RelayStep), so that command_loop can
    // await the hot path's reads in place, without a coroutine frame per command.
    RelayStep forward_buffered_response(ResponseRelay& relay);
    RelayStep response_forwarded(ResponseRelay& relay, std::size_t forwarded);
    // Forwards the backend's response until the tracker says it is complete, from `step`.
    asio::awaitable<bool> relay_response(ResponseRelay relay = {}, RelayStep step = RelayStep::scan);
    [[nodiscard]] bool command_is_buffered_whole(std::uint32_t frame_length) const noexcept;
    bool forward_buffered_command(std::uint32_t frame_length, asio::const_buffer& unwritten, error_code& ec);
    void command_forwarded(std::uint32_t frame_length) noexcept;
    asio::awaitable<bool> relay_infile_data();
    asio::awaitable<bool> change_user();

    void close_both() noexcept;

    // Rule enforcement (SessionRules.cpp).
    [[nodiscard]] rules::SessionContext rule_context() const noexcept;
    asio::awaitable<bool> intercept_query(std::uint32_t frame_length);
    // Prepared statements (SessionPrepared.cpp).
    asio::awaitable<bool> intercept_prepare(std::uint32_t frame_length);
    // Relays a COM_STMT_PREPARE; the statement id the server gives it is remembered with
    // `track` (a write a rule checks) or `table_change` (what its executes hide), if given.
    asio::awaitable<bool> relay_prepare(std::uint32_t frame_length, PreparedWrite* track,
                                        const rules::TemporaryTableChange* table_change = nullptr);
    asio::awaitable<bool> intercept_execute(std::uint32_t frame_length);
    asio::awaitable<bool> forward_execute(const protocol::Bytes& payload);
    [[nodiscard]] std::shared_ptr<const rules::WritePlan> plan_as_prepared(
        PreparedWrite& write, const std::shared_ptr<const rules::TableSchema>& facts) const;
    [[nodiscard]] std::shared_ptr<const rules::WritePlan> plan_as_prepared(
        const std::string& sql, const rules::Classification& classification, const rules::TableSchema* facts) const;
    asio::awaitable<bool> send_client_write(const std::string& sql);
    asio::awaitable<bool> intercept_bulk_execute(PreparedWrite& write, const std::string& table);
    asio::awaitable<bool> enforce_bulk_row(PreparedWrite& write, const std::vector<protocol::ParamType>& types,
                                           const std::vector<protocol::ParamValue>& row, const std::string& sql);
    asio::awaitable<bool> intercept_statement_command(protocol::Command command, std::uint32_t frame_length);
    enum class Verdict {
        relay, refuse, enforce_insert, enforce_replace, enforce_update, dedup_insert, dedup_replace, dedup_rows, dedup_truncate
    };
    [[nodiscard]] static bool binds_values(Verdict verdict) noexcept;
    struct Decision {
        Verdict verdict = Verdict::relay;
        std::string reason;  // refuse: quotable in the error message
        rules::WritePlan plan;
    };
    asio::awaitable<bool> enforce(const std::string& sql, const rules::Classification& classification);
    asio::awaitable<bool> load_table_facts(const rules::Classification& classification, error_code& ec);
    [[nodiscard]] std::shared_ptr<const rules::TableSchema> cached_facts(const rules::Classification& classification) const;
    asio::awaitable<bool> run_decision(const std::string& sql, const Decision& decision, const rules::TableSchema* facts);
    [[nodiscard]] Decision decide(const std::string& sql, const rules::Classification& classification,
                                  const rules::SessionContext& context, const rules::TableSchema* facts) const;
    asio::awaitable<bool> enforce_insert(const std::string& sql, const rules::WritePlan& plan,
                                         const rules::TableSchema& schema);
    asio::awaitable<std::shared_ptr<const rules::TableSchema>> table_schema(const std::string& schema,
                                                                           const std::string& table, error_code& ec);
    asio::awaitable<bool> send_statement(std::string_view sql);
    // Every answer to a statement the rules decided goes through these two: to the
    // client, or into bulk_answers_ while a bulk execution is run row by row.
    asio::awaitable<bool> answer_ok(const protocol::OkPacket& ok);
    asio::awaitable<bool> answer_error(const protocol::ErrPacket& error);
    // A statement's outcome as the answer; an OK's `status_flags` become the session's.
    asio::awaitable<bool> answer_outcome(const StatementOutcome& outcome, std::uint16_t status_flags);
    asio::awaitable<bool> run_bulk_row_by_row(PreparedWrite& write, const protocol::StmtBulkExecute& bulk,
                                              const std::string& table);
    asio::awaitable<bool> send_error(std::uint16_t code, std::string_view sql_state, const std::string& message);
    asio::awaitable<bool> send_ok(std::uint64_t affected_rows, std::uint64_t last_insert_id);
    // A primary key read back as text, one entry per primary-key column.
    using PrimaryKey = std::vector<std::optional<std::string>>;
    // Which keys (one SQL condition each) already have a live row, other than the
    // rows in `exclude`. `found` gets one flag per condition, `holders` the primary
    // key of a live row found (empty when none).
    // For a COM_STMT_EXECUTE, `bound_conditions` are the same conditions with the
    // client's parameters left as `?` (`bound_parameters`: their indexes, in order).
    struct KeyCheck {
        const config::Rule* rule = nullptr;
        std::vector<std::string> conditions;
        std::vector<PrimaryKey> exclude;
        std::vector<bool> found;
        std::vector<PrimaryKey> holders{};
        std::vector<std::string> bound_conditions{};
        std::vector<std::vector<std::uint32_t>> bound_parameters{};  // indexes as own_execute takes them
        std::vector<std::optional<std::string>> own_values{};        // bound after the client's parameters
    };
    [[nodiscard]] LiveRowsRequest live_rows_request(const KeyCheck& check, const rules::WritePlan& plan,
                                                    const rules::TableSchema& schema) const;
    asio::awaitable<bool> find_live_outside_transaction(KeyCheck& check, const rules::WritePlan& plan,
                                                        const rules::TableSchema& schema, protocol::ErrPacket& failure);
    asio::awaitable<bool> find_live_in_transaction(KeyCheck& check, const rules::WritePlan& plan,
                                                   const rules::TableSchema& schema, protocol::ErrPacket& failure);
    asio::awaitable<bool> read_rows(const std::string& sql, std::vector<protocol::TextRow>& rows,
                                    protocol::ErrPacket& failure);
    asio::awaitable<bool> make_room_for_own_statements(std::size_t count);
    asio::awaitable<bool> own_statement(const std::string& sql, std::size_t parameter_count, std::uint32_t& id,
                                        protocol::ErrPacket& failure);
    [[nodiscard]] protocol::Bytes own_execute(std::uint32_t id, const std::vector<std::uint32_t>& parameters,
                                              const std::vector<std::optional<std::string>>& own_values = {}) const;
    // Values of the proxy's own to bind after the client's parameters (own_execute), with
    // the parameter index of each, in the same order.
    struct OwnValues {
        std::vector<std::optional<std::string>> values;
        std::vector<std::uint32_t> parameters;
    };
    // The primary keys of `rows` (their first `key_columns` columns) as own values.
    [[nodiscard]] OwnValues primary_keys_bound(const std::vector<protocol::TextRow>& rows,
                                               std::size_t key_columns) const;
    enum class OwnBlock { ready, refused, lost };
    asio::awaitable<OwnBlock> own_block_execute(const std::string& sql, const std::vector<std::uint32_t>& parameters,
                                                protocol::Bytes& payload,
                                                const std::vector<std::optional<std::string>>& own_values = {});
    asio::awaitable<bool> read_rows_bound(const std::string& sql, const std::vector<std::uint32_t>& parameters,
                                          std::vector<protocol::TextRow>& rows, protocol::ErrPacket& failure,
                                          const std::vector<std::optional<std::string>>& own_values = {});
    [[nodiscard]] const rules::RulePlan* bound_rule_plan(const rules::RulePlan& rendered) const noexcept;
    // An execute is being enforced whose values statements of the proxy's own can bind, also
    // in statements that may run more than once (long data too: client_write_command).
    [[nodiscard]] bool execute_bindable() const noexcept { return pending_execute_ != nullptr && bound_execute_; }
    // Whether the client's write goes as its own COM_STMT_EXECUTE (client_write_command).
    [[nodiscard]] bool sends_clients_execute() const noexcept {
        return !bound_execute_ || (!bound_execute_->used_long_data && !bound_execute_->no_client_execute);
    }
    asio::awaitable<protocol::Bytes> client_write_command();
    asio::awaitable<OwnBlock> prepare_client_write();
    asio::awaitable<bool> append_client_write(std::vector<protocol::Bytes>& commands);
    bool bind_bulk_insert(PreparedWrite& write, const protocol::StmtBulkExecute& bulk);
    // bound_rule_plan(rule) when every key value of its rows is a parameter, a literal or a
    // column default (what the proxy's own statements can bind); nullptr otherwise.
    [[nodiscard]] const rules::RulePlan* bindable_keys(const rules::RulePlan& rule) const;
    [[nodiscard]] std::vector<BoundParameter> bound_parameters(
        const std::vector<std::uint32_t>& indexes, const std::vector<std::optional<std::string>>& own_values = {}) const;
    void forget_own_statements() noexcept;
    asio::awaitable<bool> find_live(KeyCheck& check, const rules::WritePlan& plan, const rules::TableSchema& schema,
                                    protocol::ErrPacket& failure);
    // Which of a rule's INSERT / REPLACE rows would collide: an earlier row of the
    // statement with the same key, or a live row already in the table (its holder).
    struct InsertCheck {
        const rules::RulePlan* rule = nullptr;
        std::vector<std::size_t> rows_to_check;  // first row of each distinct key
        std::vector<bool> duplicate;             // per statement row
        std::vector<std::size_t> first_row;      // per statement row: the first row with its key
        std::vector<PrimaryKey> holder{};        // per statement row: the live row holding its key
    };
    enum class Step { go_on, answered, lost };
    static std::vector<InsertCheck> rows_to_check(const rules::WritePlan& plan, std::vector<std::string>& lock_names);
    [[nodiscard]] bool fits_probe_path(const rules::WritePlan& plan) const;
    asio::awaitable<Step> insert_if_no_live_key(const std::string& sql, const rules::WritePlan& plan,
                                                const rules::TableSchema& schema);
    asio::awaitable<Step> execute_if_no_live_key(const std::vector<InsertCheck>& checks, const rules::WritePlan& plan,
                                                 const rules::TableSchema& schema);
    asio::awaitable<Step> lock_and_find_live(const std::string& sql, const rules::WritePlan& plan,
                                             const rules::TableSchema& schema, std::vector<InsertCheck>& checks);
    asio::awaitable<bool> enforce_replace(const std::string& sql, const rules::WritePlan& plan,
                                          const rules::TableSchema& schema);
    // One statement of the proxy's own: SQL text, or, with `parameters`, a prepared
    // statement of its own executed with those of the client's execute (see own_execute).
    struct OwnStep {
        std::string sql;
        std::optional<std::vector<std::uint32_t>> parameters{};
    };
    asio::awaitable<bool> run_own_step(const OwnStep& step, StatementOutcome& outcome);
    asio::awaitable<bool> insert_kept_rows_bound(const std::vector<bool>& drop);
    [[nodiscard]] OwnStep kept_rows_bound(const std::vector<bool>& drop) const;
    asio::awaitable<bool> run_upsert(const std::string& sql, const rules::WritePlan& plan,
                                     const rules::TableSchema& schema, const std::vector<bool>& drop,
                                     const std::vector<const rules::RulePlan*>& update_rule, bool begun,
                                     const std::vector<OwnStep>& after);
    [[nodiscard]] std::string upsert_update(const std::string& sql, const rules::WritePlan& plan,
                                            const rules::TableSchema& schema, const rules::RulePlan& rule,
                                            std::size_t row, bool& malformed,
                                            std::vector<std::uint32_t>* parameters = nullptr) const;
    enum class KeyChange { go_on, start_over, deadlocked, answered, lost };
    asio::awaitable<KeyChange> check_key_changes(const std::string& sql, const rules::WritePlan& plan,
                                                 const rules::TableSchema& schema, bool own_transaction, int round);
    asio::awaitable<bool> enforce_update(const std::string& sql, const rules::WritePlan& plan,
                                         const rules::TableSchema& schema);
    asio::awaitable<bool> refuse_key_change(bool own_transaction, std::uint16_t code, std::string_view sql_state,
                                            const std::string& message);
    // mode: dedup (SessionDedup.cpp).
    [[nodiscard]] Decision decide_dedup(Decision decision, const rules::TableSchema* facts) const;
    [[nodiscard]] std::string statement_text(const std::string& sql) const;
    asio::awaitable<bool> refresh_status_if_uncertain();
    // InnoDB answers one of several waiters on a key whose holder rolled back with a
    // deadlock; in a transaction the proxy opened, the proxy's own statements are simply
    // run again, up to this many times, after back_off().
    static constexpr int kDeadlockRetries = 8;
    asio::awaitable<void> back_off(int attempt);
    // A multi-statement of the proxy's own (InternalQuery.hpp, run_internal_statements).
    asio::awaitable<std::vector<StatementOutcome>> run_statements(std::string_view sql, error_code& ec,
                                                                  bool keep_result_sets = false);
    // Before relaying a client COM_QUERY: multi-statements the proxy switched on go off
    // again if the query has a statement separator (the server must parse it as the
    // client asked). Returns false if the connection failed.
    asio::awaitable<bool> keep_client_query_single(std::string_view sql);
    [[nodiscard]] bool client_enabled_multi_statements() const noexcept;
    asio::awaitable<bool> undo_wrapped_write(bool own_transaction, bool to_savepoint);
    asio::awaitable<bool> undo_pipelined_write(const std::vector<StatementOutcome>& outcomes, std::size_t failed_step,
                                               std::size_t client_step, bool own_transaction);
    enum class WrappedResult { answered, retry, lost };
    asio::awaitable<WrappedResult> settle_pipelined_failure(const std::vector<StatementOutcome>& outcomes,
                                                            std::size_t failed_step, std::size_t client_step,
                                                            bool own_transaction, int attempt,
                                                            const config::Rule* dedup_rule);
    asio::awaitable<bool> undo_and_answer(bool own_transaction, bool to_savepoint, const protocol::ErrPacket& error);
    asio::awaitable<bool> undo_for_retry_or_answer(bool own_transaction, const protocol::ErrPacket& error);
    asio::awaitable<WrappedResult> finish_wrapped_write(const std::vector<std::string>& statements,
                                                        std::size_t client_step, std::size_t savepoint_from_step,
                                                        bool own_transaction, int attempt,
                                                        const std::vector<const config::Rule*>& dedup_rule_of_step);
    asio::awaitable<bool> send_wrapped_ok(const protocol::OkPacket& client_ok, std::uint16_t final_status);
    asio::awaitable<bool> send_wrapped_result(const StatementOutcome& client_step, std::uint16_t final_status);
    asio::awaitable<bool> answer_wrapped_failure(const protocol::ErrPacket& error, const config::Rule* dedup_rule);
    asio::awaitable<bool> enforce_dedup_insert(const std::string& sql, const rules::WritePlan& plan,
                                               const rules::TableSchema& schema);
    enum class BoundWrite { not_taken, answered, lost };
    [[nodiscard]] bool fits_bound_dedup_insert(const rules::WritePlan& plan) const;
    asio::awaitable<BoundWrite> enforce_dedup_insert_bound(const rules::WritePlan& plan, const rules::TableSchema& schema);
    struct DedupClaim {  // one rule's dedup-table insert for a bound execute
        std::string insert;
        std::vector<std::uint32_t> parameters;  // of the execute, per `?` of `insert`
        const config::Rule* rule = nullptr;
    };
    [[nodiscard]] bool fits_one_block(const rules::TableSchema& schema, std::size_t claims) const;
    asio::awaitable<std::optional<WrappedResult>> claim_and_write_in_one_block(const std::vector<DedupClaim>& claims,
                                                                               const rules::TableSchema& schema,
                                                                               int attempt);
    [[nodiscard]] static bool returns_rows_of_changed_insert(const rules::WritePlan& plan);
    asio::awaitable<std::vector<StatementOutcome>> run_guarded_pipeline(const std::vector<protocol::Bytes>& commands,
                                                                       std::size_t client_step, bool own_transaction,
                                                                       error_code& ec,
                                                                       std::size_t kept_step = kNoKeptStep);
    asio::awaitable<bool> answer_returned_rows(const StatementOutcome& client_step, bool own_transaction);
    [[nodiscard]] bool fits_bound_dedup_claims(const rules::WritePlan& plan, const rules::RulePlan& rule) const;
    asio::awaitable<bool> claim_dedup_keys_row_by_row(const std::string& sql, const rules::WritePlan& plan,
                                                      const rules::TableSchema& schema, const rules::RulePlan& rule);
    [[nodiscard]] bool fits_bound_upsert(const rules::WritePlan& plan, const rules::TableSchema& schema) const;
    asio::awaitable<bool> upsert_into_live_rows_bound(const rules::WritePlan& plan, const rules::TableSchema& schema,
                                                      const rules::RulePlan& rule, const std::vector<bool>& key_was_live,
                                                      const std::vector<std::size_t>& claimed, bool own_transaction);
    struct UpsertRelease {
        std::string sql;  // empty: nothing to release
        std::vector<std::uint32_t> parameters;
    };
    asio::awaitable<bool> write_upsert_bound(const rules::TableSchema& schema, const config::Rule& rule,
                                             const std::vector<std::optional<PrimaryKey>>& holders,
                                             const UpsertRelease& release, bool own_transaction);
    asio::awaitable<bool> upsert_into_live_rows(const std::string& sql, const rules::WritePlan& plan,
                                                const rules::TableSchema& schema, const rules::RulePlan& rule,
                                                const std::vector<bool>& key_was_live,
                                                const std::vector<std::size_t>& claimed, bool own_transaction);
    asio::awaitable<bool> upsert_into_holders(const std::string& sql, const rules::WritePlan& plan,
                                              const rules::TableSchema& schema, const config::Rule& rule,
                                              const std::vector<bool>& key_was_live,
                                              const std::vector<PrimaryKey>& holders,
                                              std::vector<std::string> after, bool own_transaction);
    asio::awaitable<bool> upsert_serialized(const std::string& sql, const rules::WritePlan& plan,
                                            const rules::TableSchema& schema, const config::Rule& rule,
                                            std::vector<bool> key_was_live, std::vector<PrimaryKey> holders);
    asio::awaitable<bool> enforce_dedup_rows(const std::string& sql, const rules::WritePlan& plan,
                                             const rules::TableSchema& schema);
    [[nodiscard]] bool fits_bound_dedup_rows(const rules::WritePlan& plan) const;
    asio::awaitable<std::optional<BoundWrite>> append_block_or_undo(
        const std::string& block, const std::vector<std::uint32_t>& parameters,
        const std::vector<std::optional<std::string>>& own_values, std::vector<protocol::Bytes>& commands,
        bool own_transaction, bool to_savepoint);
    asio::awaitable<std::optional<BoundWrite>> append_block_or_undo(const std::string& block,
                                                                    std::vector<protocol::Bytes>& commands,
                                                                    bool own_transaction, bool to_savepoint);
    asio::awaitable<BoundWrite> enforce_dedup_rows_bound(const rules::WritePlan& plan, const rules::TableSchema& schema);
    asio::awaitable<bool> enforce_dedup_truncate(const std::string& sql, const rules::WritePlan& plan);
    [[nodiscard]] bool fits_bound_replace(const std::vector<InsertCheck>& checks) const;
    asio::awaitable<BoundWrite> replace_holders_bound(const rules::WritePlan& plan, const rules::TableSchema& schema,
                                                      const std::vector<InsertCheck>& checks,
                                                      const std::vector<protocol::TextRow>& holders,
                                                      bool own_transaction);
    asio::awaitable<bool> enforce_dedup_replace(const std::string& sql, const rules::WritePlan& plan,
                                                const rules::TableSchema& schema);
    [[nodiscard]] bool fits_bound_dedup_replace(const std::vector<const rules::RulePlan*>& dedup_rules) const;
    asio::awaitable<BoundWrite> enforce_dedup_replace_bound(const rules::WritePlan& plan,
                                                            const rules::TableSchema& schema,
                                                            const std::vector<const rules::RulePlan*>& dedup_rules);
    // LockWait::no: a key another session holds fails at once with LockError::timeout.
    enum class LockWait { yes, no };
    asio::awaitable<LockError> lock_keys(std::vector<std::string> keys, LockWait wait = LockWait::yes);
    asio::awaitable<bool> answer_lock_failure(LockError error, bool own_transaction);
    asio::awaitable<void> release_keys_if_transaction_ended();
    [[nodiscard]] bool holds_keys() const noexcept { return holds_local_locks_ || !held_lock_names_.empty(); }
    void after_response(bool ok);
    ProxyContext& context_;
    const std::uint64_t id_;
    Connection client_;
    Connection backend_;
    FrameBuffer client_buffer_;
    FrameBuffer backend_buffer_;
    protocol::ResponseTracker tracker_;
    // What every command reads, together after the tracker: with thousands of sessions
    // taking turns, each cache line of a session's state a command touches is a miss.
    bool database_change_pending_ = false;
    bool holds_local_locks_ = false;
    // Whether the open transaction may hold this session's uncommitted writes, which an
    // existence check inside it must also read (on the session's own connection).
    // False outside transactions and right after BEGIN / START TRANSACTION; set after
    // every other command that leaves a transaction open (see command_loop).
    bool own_writes_pending_ = false;
    bool command_began_transaction_ = false;  // the current command is BEGIN / START TRANSACTION
    bool own_statement_prepared_last_ = false;  // see own_statements_
    bool multi_statements_switched_on_ = false;  // by the proxy, for its own writes; the client did not ask
    std::vector<std::string> held_lock_names_;  // lock.backend mysql: GET_LOCK names this session holds
    protocol::Capabilities client_caps_ = 0;  // negotiated with the client (= with the backend, but for SSL)
    bool backend_is_unix_socket_ = false;
    std::string username_;     // for log lines
    std::string scramble_;     // from the backend's handshake, which the client answered
    std::string auth_plugin_;  // the plugin authentication ended with
    std::string current_database_;
    std::string pending_database_;  // USE / COM_INIT_DB: current once the server says OK
    rules::Charset charset_ = rules::Charset::utf8;
    // The client's prepared statements that write rule tables, or create or drop a temporary
    // table with a rule table's name.
    PreparedWrites prepared_writes_;
    // Rule tables (RuleSet::tables() indexes) a TEMPORARY table of this session hides: its
    // writes to that name go to the temporary table, and no rule applies (TemporaryTables.hpp).
    std::vector<int> hidden_rule_tables_;
    [[nodiscard]] bool hides(int rule_table) const noexcept;
    void note_temporary_tables(const rules::TemporaryTableChange& change);
    // What `sql` does to the session's temporary tables of rule tables' names, if it runs.
    [[nodiscard]] rules::TemporaryTableChange temporary_table_change_of(std::string_view sql,
                                                                       const rules::Classification& classification,
                                                                       const rules::SessionContext& context) const;
    bool deadlock_to_retry_ = false;  // a wrapped write in the proxy's own transaction hit 1213: run it again
    const protocol::Bytes* pending_execute_ = nullptr;  // the COM_STMT_EXECUTE being enforced, if any
    // That execute's statement and values, owned, so the proxy's own reads bind them
    // as parameters (SessionPrepared.cpp) rather than writing them into SQL text.
    struct BoundExecute {
        std::string sql;                                 // as prepared, with its `?`
        std::vector<rules::Span> placeholders;           // each `?` of `sql`, in order
        std::shared_ptr<const rules::WritePlan> analysis;  // of `sql`: key values are parameters
        std::vector<protocol::ParamType> types;
        std::vector<std::optional<std::string>> values;  // per parameter; nullopt: NULL
        bool used_long_data = false;                     // the server forgets it after one execute
        bool no_client_execute = false;                  // a bulk execution: `sql` is its rows' statement
        PreparedWrite* write = nullptr;                  // the remembered statement
        [[nodiscard]] const rules::WritePlan& plan() const noexcept { return *analysis; }
    };
    std::optional<BoundExecute> bound_execute_;
    // The proxy's own prepared statements on the backend connection, by SQL text. Their
    // ids never reach the client; while the last statement prepared on the connection
    // is one of them, a client command naming "the last prepared" (0xFFFFFFFF) is
    // rewritten to the client's own.
    std::unordered_map<std::string, std::uint32_t> own_statements_;
    // The server refused a statement block of the proxy's own (no BEGIN NOT ATOMIC: not
    // MariaDB, or sql_mode=ORACLE): this session's executes go without them (see
    // own_block_execute).
    bool blocks_unavailable_ = false;
    // A COM_STMT_BULK_EXECUTE run as one statement per row (run_bulk_row_by_row): what
    // those statements answered, summed; the first error ends it.
    struct BulkAnswers {
        protocol::OkPacket total{};
        std::optional<protocol::ErrPacket> error{};
    };
    std::optional<BulkAnswers> bulk_answers_;
    bool pending_execute_sent_ = false;                 // send_client_write relayed it
    std::optional<bool> client_multi_statements_;  // set by the client's own COM_SET_OPTION
    std::uint8_t client_charset_id_ = 0;
    const char* charset_name_ = "utf8mb4";  // for the proxy's own connections to read the client's literals alike
};

}  // namespace uniqgate::proxy
