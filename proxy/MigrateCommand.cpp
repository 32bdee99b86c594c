#include "proxy/MigrateCommand.hpp"

#include "proxy/ControlConnection.hpp"
#include "proxy/ControlQueries.hpp"
#include "proxy/DedupBackfill.hpp"
#include "proxy/DedupTable.hpp"
#include "proxy/LiveKeyReport.hpp"
#include "proxy/RuleSql.hpp"

#include <algorithm>
#include <optional>
#include <ostream>

namespace uniqgate::proxy {
namespace {

constexpr std::size_t max_groups = 10;  // duplicate groups listed when migrate refuses a rule

// Ordered by severity: the exit code follows the worst rule.
enum class Outcome { done, refused, error };

std::vector<const config::Rule*> dedup_rules(const config::Config& config) {
    std::vector<const config::Rule*> rules;
    for (const auto& rule : config.rules) {
        if (rule.mode == config::RuleMode::dedup) rules.push_back(&rule);
    }
    return rules;
}

// The steps for one rule; each prints its own lines of the rule's section.
class RuleMigration {
public:
    RuleMigration(ControlConnection& conn, const config::Rule& rule, const MigrateOptions& options, std::ostream& out)
        : conn_(conn), rule_(rule), options_(options), out_(out), dedup_(effective_dedup_table(rule)) {}

    Outcome run() {
        out_ << "rule " << rule_.name << ": table " << config::to_string(rule_.table) << ", key (" << join(rule_.key)
             << "), live when " << RuleSql(conn_, rule_).live_condition("") << "\n";
        if (rule_.table.schema.empty()) {
            out_ << "  error: migrate needs schema-qualified tables: write `table: <schema>."
                 << config::to_string(rule_.table) << "` in this rule\n";
            return Outcome::error;
        }
        try {
            return migrate();
        } catch (const QueryFailed& e) {
            out_ << "  error: a query failed: " << e.what() << "\n";
            return Outcome::error;
        }
    }

private:
    Outcome migrate() {
        const auto source = load_table_info(conn_, rule_.table);
        if (!source) {
            out_ << "  error: table " << config::to_string(rule_.table)
                 << " not found (it does not exist, or the control user cannot see it)\n";
            return Outcome::error;
        }
        std::vector<std::string> needed = rule_.key;
        needed.push_back(rule_.soft_delete.column);
        if (const auto missing = source->missing_columns(needed); !missing.empty()) {
            out_ << "  error: table " << config::to_string(rule_.table) << " has no column(s) " << join(missing) << "\n";
            return Outcome::error;
        }
        const auto existing = load_table_info(conn_, dedup_);
        if (existing && !matches(*source, *existing)) return Outcome::error;
        if (report_live_duplicates(conn_, rule_, source->primary_key, max_groups, out_)) {
            out_ << "  refused: a unique key over the live rows cannot hold these; soft-delete or re-key the surplus "
                    "rows, then run migrate again ("
                 << (existing ? "the existing dedup table was left as it is" : "nothing was created") << ")\n";
            return Outcome::refused;
        }
        if (!existing && !create(*source)) return Outcome::error;
        fill(*source);
        return Outcome::done;
    }

    // Prints why an existing dedup table cannot be used; true when it can.
    bool matches(const TableInfo& source, const TableInfo& dedup) {
        const auto mismatches = dedup_table_mismatches(rule_, source, dedup);
        if (mismatches.empty()) {
            out_ << "  dedup table " << config::to_string(dedup_) << ": exists and matches the source\n";
            return true;
        }
        out_ << "  error: dedup table " << config::to_string(dedup_)
             << " exists but does not match the source (migrate never drops or alters a table; fix or drop it, "
                "then run migrate again):\n";
        for (const auto& mismatch : mismatches) out_ << "    " << mismatch << "\n";
        return false;
    }

    bool create(const TableInfo& source) {
        rows_of(conn_, dedup_table_definition(rule_, source));
        const auto created = load_table_info(conn_, dedup_);
        if (!created) {
            out_ << "  error: dedup table " << config::to_string(dedup_) << " not found after CREATE TABLE\n";
            return false;
        }
        // Someone may have created a different table between our look and the CREATE.
        if (!dedup_table_mismatches(rule_, source, *created).empty()) return matches(source, *created);
        out_ << "  dedup table " << config::to_string(dedup_) << ": created\n";
        return true;
    }

    void fill(const TableInfo& source) {
        if (source.primary_key.empty()) {
            out_ << "  note: the table has no primary key: the backfill is one pass in one transaction\n";
        }
        BackfillProgress progress(options_.progress, options_.progress_on_terminal, rule_.name,
                                  count_live_keyed_rows(conn_, rule_));
        const BackfillStats stats = backfill_dedup_table(conn_, rule_, source, options_.batch_rows, progress);
        progress.finish();
        out_ << "  backfill: " << stats.rows_read << " live row(s) read in " << stats.batches << " batch(es), "
             << stats.keys_inserted << " key(s) inserted\n";
        out_ << "  stale keys removed: " << remove_stale_keys(conn_, rule_) << "\n";
        if (report_dedup_drift(conn_, rule_, dedup_, out_)) {
            out_ << "  warning: drift remains after the backfill: were rows written without uniqgate meanwhile? "
                    "`uniqgate check` shows it; run migrate again to fix it\n";
        }
        out_ << "  done\n";
    }

    ControlConnection& conn_;
    const config::Rule& rule_;
    const MigrateOptions& options_;
    std::ostream& out_;
    config::TableName dedup_;
};

struct Tally {
    int done = 0;
    int refused = 0;
    int errors = 0;

    void add(Outcome outcome) {
        if (outcome == Outcome::done) ++done;
        if (outcome == Outcome::refused) ++refused;
        if (outcome == Outcome::error) ++errors;
    }
    int exit_code() const {
        if (errors > 0) return migrate_exit_error;
        return refused > 0 ? migrate_exit_refused : migrate_exit_done;
    }
};

void print_summary(const Tally& tally, std::size_t rules, std::ostream& out) {
    out << "summary: " << rules << " dedup rule(s): ";
    if (tally.exit_code() == migrate_exit_done) {
        out << "all dedup tables in place and filled\n";
        return;
    }
    out << tally.done << " done, " << tally.refused << " refused because of live duplicates, " << tally.errors
        << " with errors\n";
}

// One rule's start-up problem, or std::nullopt when its dedup table is in place.
std::optional<std::string> dedup_table_problem(ControlConnection& conn, const config::Rule& rule,
                                               const std::string& fix) {
    const std::string prefix = "rule '" + rule.name + "': ";
    const config::TableName dedup = effective_dedup_table(rule);
    if (rule.table.schema.empty()) {
        return prefix + "mode dedup needs a schema-qualified table (`table: <schema>." + config::to_string(rule.table) +
               "`) so its dedup table can be verified";
    }
    const auto source = load_table_info(conn, rule.table);
    if (!source) return prefix + "table " + config::to_string(rule.table) + " does not exist";
    if (const auto missing = source->missing_columns(rule.key); !missing.empty()) {
        return prefix + "table " + config::to_string(rule.table) + " has no column(s) " + join(missing);
    }
    const auto existing = load_table_info(conn, dedup);
    if (!existing) {
        return prefix + "dedup table " + config::to_string(dedup) + " does not exist; create and fill it with: " + fix;
    }
    const auto mismatches = dedup_table_mismatches(rule, *source, *existing);
    if (mismatches.empty()) return std::nullopt;
    std::string problem = prefix + "dedup table " + config::to_string(dedup) + " does not match the source: ";
    for (std::size_t i = 0; i < mismatches.size(); ++i) problem += (i > 0 ? "; " : "") + mismatches[i];
    return problem + " (fix or drop it, then run: " + fix + ")";
}

}  // namespace

int run_migrate(const config::Config& config, std::ostream& out, const MigrateOptions& options) {
    const auto rules = dedup_rules(config);
    if (rules.empty()) {
        out << "summary: no dedup rules configured, nothing to migrate\n";
        return migrate_exit_done;
    }
    std::optional<ControlConnection> conn;
    try {
        conn.emplace(ControlConnection::connect(config));
    } catch (const ControlConnectionError& e) {
        out << "error: " << e.what() << "\nsummary: migrate did not run: cannot connect to the backend\n";
        return migrate_exit_error;
    }
    out << "connected to " << conn->endpoint() << " as " << config.control.user << " ("
        << (conn->tls_cipher().empty() ? "no TLS" : "TLS") << ")\n";
    // Each statement (the duplicate check, each batch) then sees the latest committed rows.
    if (const auto isolation = conn->set_read_committed(); !isolation.ok) {
        out << "error: cannot switch to READ COMMITTED: " << isolation.describe_error() << "\n";
        return migrate_exit_error;
    }
    Tally tally;
    for (const config::Rule* rule : rules) {
        out << "\n";
        tally.add(RuleMigration(*conn, *rule, options, out).run());
    }
    out << "\n";
    print_summary(tally, rules.size(), out);
    return tally.exit_code();
}

std::vector<std::string> dedup_table_problems(const config::Config& config, std::string_view config_path) {
    const auto rules = dedup_rules(config);
    if (rules.empty()) return {};
    if (config.control.password.empty()) {
        return {"rule '" + rules.front()->name +
                "' uses mode dedup, which needs the control account to verify its dedup table at start-up: set "
                "control.user and control.password (or control.password_env)"};
    }
    const std::string fix = "uniqgate migrate --config " + std::string(config_path);
    std::vector<std::string> problems;
    try {
        auto conn = ControlConnection::connect(config);
        for (const config::Rule* rule : rules) {
            if (auto problem = dedup_table_problem(conn, *rule, fix)) problems.push_back(std::move(*problem));
        }
    } catch (const ControlConnectionError& e) {
        problems.push_back(std::string("cannot verify the dedup tables: ") + e.what());
    } catch (const QueryFailed& e) {
        problems.push_back(std::string("cannot verify the dedup tables: a query failed: ") + e.what());
    }
    return problems;
}

}  // namespace uniqgate::proxy
