#pragma once
// What a session remembers of the statements its client prepared that write a
// rule table, so that COM_STMT_EXECUTE is protected exactly like the same write
// sent as text: the execute's bound values turn the statement into SQL text that
// the text path analyses and enforces (see ../shared/DESIGN.md, "Prepared
// statements"). Values become literals the proxy renders itself — numbers as
// digits, strings as hex — never the client's raw bytes. Prepared CREATE TEMPORARY
// TABLE / DROP TABLE statements of a rule table's name are remembered too: their
// executes change what the session's writes reach.

#include "protocol/PreparedStatements.hpp"
#include "protocol/Result.hpp"
#include "rules/Lexer.hpp"
#include "rules/Plan.hpp"
#include "rules/SessionContext.hpp"
#include "rules/TemporaryTables.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace uniqgate::proxy {

struct PreparedWrite {
    std::string sql;                          // as prepared, with its `?` placeholders
    std::vector<rules::Span> placeholders{};  // each `?` of `sql`, in order
    std::vector<bool> row_counts{};           // per placeholder: a LIMIT or OFFSET count
    rules::Span values_row{};                 // INSERT ... VALUES with one row: "(?, ?)", for bulk executes
    bool returns_rows = false;                // INSERT ... RETURNING
    std::uint16_t param_count = 0;            // from the server's COM_STMT_PREPARE_OK
    int rule_table = -1;                      // into RuleSet::tables(): the table it writes
    std::vector<protocol::ParamType> types{};  // of the last execute that sent them
    bool server_has_types = false;            // that execute reached the server
    std::vector<std::string> long_data{};     // per parameter: COM_STMT_SEND_LONG_DATA, joined
    std::vector<bool> has_long_data{};
    // How often its recent executes repeated a live key (0..1, each execute weighs 1/4):
    // inserts of a hot key take a path that makes a duplicate cheap (dedup: the key claimed
    // alone first; serialize: the full check without the probe).
    float recent_duplicates = 0;
    void note_duplicate(bool duplicate) noexcept {
        recent_duplicates = 0.75F * recent_duplicates + (duplicate ? 0.25F : 0.0F);
    }
    // The plan of `sql` as prepared (its key values are parameters), which the proxy's own
    // statements bind from. An execute analyses its rendered text to decide anyway; keeping
    // this one spares it a second analysis, for as long as what the plan was made under
    // holds: the same table facts (the very object: a schema change replaces it) and the
    // same session context.
    struct PlanAsPrepared {
        std::shared_ptr<const rules::WritePlan> plan{};
        std::shared_ptr<const rules::TableSchema> facts{};
        std::string database{};
        bool no_backslash_escapes = false;
        int lower_case_table_names = 0;
        rules::Charset charset = rules::Charset::utf8;
        // Whether a dedup write of it fits one block (Session::fits_one_block), once asked.
        std::optional<bool> fits_one_block{};
        [[nodiscard]] bool made_under(const rules::SessionContext& context,
                                      const std::shared_ptr<const rules::TableSchema>& now) const noexcept {
            return plan && facts == now && database == context.current_database &&
                   no_backslash_escapes == context.no_backslash_escapes &&
                   lower_case_table_names == context.lower_case_table_names && charset == context.charset;
        }
    };
    PlanAsPrepared plan_as_prepared{};
};

// A statement whose recent_duplicates is above this takes the hot-key path.
inline constexpr float kClaimFirstAbove = 0.5F;

// The `?` placeholders of a statement, in order (not those in strings or comments);
// `row_counts`, when given, marks those that are a LIMIT or OFFSET count.
std::vector<rules::Span> find_placeholders(std::string_view sql, const rules::LexOptions& options,
                                           std::vector<bool>* row_counts = nullptr);

// The statement with every `?` replaced by its bound value as a SQL literal:
// integers and decimals as digits, FLOAT/DOUBLE as DOUBLE literals, dates and
// times as quoted digits, strings as `_<charset> X'hex'` (`_binary X'hex'` when the
// bytes are not valid in a UTF-8 `charset`), NULL as NULL, long data from
// `write.long_data`. A FLOAT/DOUBLE with an integral value that is a LIMIT or OFFSET
// count (`write.row_counts`) goes as digits: the server takes it there as bound, but
// no DOUBLE literal. Fails when a value cannot be rendered.
protocol::Result<std::string> bind_as_text(const PreparedWrite& write, const protocol::StmtExecute& execute,
                                           std::string_view charset);

// MariaDB's COM_STMT_BULK_EXECUTE of an INSERT whose one VALUES row `row` holds every
// placeholder: the INSERT with that row written once per parameter row, bound as
// bind_as_text does (DEFAULT and IGNORE indicators as DEFAULT). `unsupported` when a
// placeholder lies outside the row.
protocol::Result<std::string> bind_rows_as_text(const PreparedWrite& write, rules::Span row,
                                                const protocol::StmtBulkExecute& bulk, std::string_view charset);

// A statement of the proxy's own to execute with the values of one row of a bulk
// execution bound: its SQL (`?` kept for the row's values and NULLs, DEFAULT written
// where the row has a DEFAULT or IGNORE indicator, which no value can say), and the
// values and types of its `?`, in order.
struct BoundRows {
    std::string sql;
    std::vector<protocol::ParamType> types{};
    std::vector<std::optional<std::string>> values{};  // nullopt: NULL
};

// Appends `part` of `write.sql` (its placeholders inside it) with `row` bound as BoundRows
// says. False when the row does not fit the statement, or holds long data.
bool append_bulk_row(BoundRows& out, const PreparedWrite& write, rules::Span part,
                     const std::vector<protocol::ParamType>& types, const std::vector<protocol::ParamValue>& row);

// The statement id a COM_STMT_EXECUTE / SEND_LONG_DATA / RESET / CLOSE payload names
// (the 4 bytes after the command byte), or nullopt if the payload is too short.
std::optional<std::uint32_t> statement_id_of(protocol::ByteView payload);

class PreparedWrites {
public:
    // MariaDB: statement id 0xFFFFFFFF in a command means the last one prepared.
    static constexpr std::uint32_t kLastPrepared = protocol::kLastPreparedStatementId;

    void remember(std::uint32_t id, PreparedWrite write);
    // A prepared CREATE TEMPORARY TABLE or DROP TABLE that names a rule table: each
    // execute the server accepts changes what the session's temporary tables hide,
    // as the same statement sent as text does.
    void remember(std::uint32_t id, rules::TemporaryTableChange change);
    // Any successful prepare (rule table or not) becomes "the last prepared".
    void prepared(std::uint32_t id) noexcept { last_prepared_ = id; }
    [[nodiscard]] PreparedWrite* find(std::uint32_t id) noexcept;
    [[nodiscard]] const rules::TemporaryTableChange* find_table_change(std::uint32_t id) const noexcept;
    [[nodiscard]] std::uint32_t resolve(std::uint32_t id) const noexcept { return id == kLastPrepared ? last_prepared_ : id; }
    void forget(std::uint32_t id) {
        writes_.erase(resolve(id));
        table_changes_.erase(resolve(id));
    }
    void clear() noexcept {
        writes_.clear();
        table_changes_.clear();
        last_prepared_ = 0;
    }
    // Whether no statement of the session needs a look at its executes and closes.
    [[nodiscard]] bool empty() const noexcept { return writes_.empty() && table_changes_.empty(); }

private:
    std::unordered_map<std::uint32_t, PreparedWrite> writes_;
    std::unordered_map<std::uint32_t, rules::TemporaryTableChange> table_changes_;
    std::uint32_t last_prepared_ = 0;
};

}  // namespace uniqgate::proxy
