#include "proxy/CheckCommand.hpp"

#include "proxy/ControlConnection.hpp"
#include "proxy/ControlQueries.hpp"
#include "proxy/LiveKeyReport.hpp"
#include "proxy/RuleSql.hpp"

#include <algorithm>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace uniqgate::proxy {
namespace {

constexpr std::size_t max_groups = 5;  // duplicate groups shown per rule

// Ordered by severity: a rule's outcome is the worst of its parts.
enum class Outcome { clean, findings, error };

// The checks of one rule; each part prints its own lines of the rule's section.
class RuleCheck {
public:
    RuleCheck(ControlConnection& conn, const config::Rule& rule, std::ostream& out)
        : conn_(conn), rule_(rule), out_(out), sql_(conn, rule) {}

    Outcome run() {
        out_ << "rule " << rule_.name << " (mode " << config::to_string(rule_.mode) << "): table "
             << config::to_string(rule_.table) << ", key (" << join(rule_.key) << "), live when "
             << sql_.live_condition("") << "\n";
        if (rule_.table.schema.empty()) {
            out_ << "  error: check needs schema-qualified tables: write `table: <schema>."
                 << config::to_string(rule_.table) << "` in this rule\n";
            return Outcome::error;
        }
        try {
            return check_all();
        } catch (const QueryFailed& e) {
            out_ << "  error: a query failed: " << e.what() << "\n";
            return Outcome::error;
        }
    }

private:
    Outcome check_all() {
        const auto info = load_table_info(conn_, rule_.table);
        if (!info) {
            out_ << "  error: table " << config::to_string(rule_.table)
                 << " not found (it does not exist, or the control user cannot see it)\n";
            return Outcome::error;
        }
        std::vector<std::string> needed = rule_.key;
        needed.push_back(rule_.soft_delete.column);
        if (!has_columns(*info, rule_.table, needed)) return Outcome::error;
        if (!has_key_index(*info, rule_.key)) warn_no_index();
        Outcome outcome = report_live_duplicates(conn_, rule_, info->primary_key, max_groups, out_) ? Outcome::findings
                                                                                                     : Outcome::clean;
        if (rule_.mode == config::RuleMode::dedup) outcome = std::max(outcome, check_dedup_table());
        return outcome;
    }

    bool has_columns(const TableInfo& info, const config::TableName& table, const std::vector<std::string>& names) {
        const auto missing = info.missing_columns(names);
        if (missing.empty()) return true;
        out_ << "  error: table " << config::to_string(table) << " has no column(s) " << join(missing) << "\n";
        return false;
    }

    void warn_no_index() {
        const std::string key = "(" + join(rule_.key) + ")";
        if (rule_.mode == config::RuleMode::dedup) {
            out_ << "  warning: dedup: no index on " << key << ": check and migrate scan the whole table\n";
        } else {
            out_ << "  warning: " << config::to_string(rule_.mode)
                 << ": the existence check scans the table without an index on " << key << "\n";
        }
    }

    Outcome check_dedup_table() {
        const config::TableName dedup = effective_dedup_table(rule_);
        const auto info = load_table_info(conn_, dedup);
        if (!info) {
            out_ << "  error: dedup table " << config::to_string(dedup)
                 << " not found (`uniqgate migrate` creates and backfills it)\n";
            return Outcome::error;
        }
        if (!has_columns(*info, dedup, rule_.key)) return Outcome::error;
        return report_dedup_drift(conn_, rule_, dedup, out_) ? Outcome::findings : Outcome::clean;
    }

    ControlConnection& conn_;
    const config::Rule& rule_;
    std::ostream& out_;
    RuleSql sql_;
};

struct Tally {
    int clean = 0;
    int findings = 0;
    int errors = 0;

    void add(Outcome outcome) {
        if (outcome == Outcome::clean) ++clean;
        if (outcome == Outcome::findings) ++findings;
        if (outcome == Outcome::error) ++errors;
    }
    int exit_code() const {
        if (errors > 0) return check_exit_error;
        return findings > 0 ? check_exit_findings : check_exit_clean;
    }
};

void print_summary(const Tally& tally, std::size_t rules, std::ostream& out) {
    out << "summary: " << rules << " rule(s) checked: ";
    if (tally.exit_code() == check_exit_clean) {
        out << "all clean, no live duplicates\n";
        return;
    }
    out << tally.clean << " clean, " << tally.findings << " with live duplicates or dedup drift, " << tally.errors
        << " with errors\n";
}

}  // namespace

int run_check(const config::Config& config, std::ostream& out) {
    if (config.rules.empty()) {
        out << "summary: no rules configured, nothing to check\n";
        return check_exit_clean;
    }
    std::optional<ControlConnection> conn;
    try {
        conn.emplace(ControlConnection::connect(config));
    } catch (const ControlConnectionError& e) {
        out << "error: " << e.what() << "\nsummary: check did not run: cannot connect to the backend\n";
        return check_exit_error;
    }
    const std::string cipher = conn->tls_cipher();
    out << "connected to " << conn->endpoint() << " as " << config.control.user << " ("
        << (cipher.empty() ? "no TLS" : "TLS") << ")\n";
    if (const auto isolation = conn->set_read_committed(); !isolation.ok) {
        out << "warning: cannot switch to READ COMMITTED: " << isolation.describe_error() << "\n";
    }
    Tally tally;
    for (const auto& rule : config.rules) {
        out << "\n";
        tally.add(RuleCheck(*conn, rule, out).run());
    }
    out << "\n";
    print_summary(tally, config.rules.size(), out);
    return tally.exit_code();
}

}  // namespace uniqgate::proxy
