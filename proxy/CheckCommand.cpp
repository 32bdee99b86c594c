#include "proxy/CheckCommand.hpp"

#include "proxy/ControlConnection.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace uniqgate::proxy {
namespace {

constexpr std::size_t max_samples = 5;  // duplicate groups / drifted keys shown per rule
constexpr std::size_t max_ids = 10;     // primary keys shown per duplicate group

// Ordered by severity: a rule's outcome is the worst of its parts.
enum class Outcome { clean, findings, error };

// A statement failed: the rule is reported as an error, the other rules still run.
class QueryFailed : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

std::vector<SqlRow> rows_of(ControlConnection& conn, const std::string& sql) {
    QueryResult result = conn.query(sql);
    if (!result.ok) throw QueryFailed(result.describe_error() + "\n    statement: " + sql);
    return std::move(result.rows);
}

std::uint64_t count_of(ControlConnection& conn, const std::string& sql) {
    const auto rows = rows_of(conn, sql);
    if (rows.empty() || rows[0].empty() || !rows[0][0]) return 0;
    return std::stoull(*rows[0][0]);
}

// MySQL column names are case-insensitive.
bool same_column(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](unsigned char x, unsigned char y) {
        return std::tolower(x) == std::tolower(y);
    });
}

// "0", "-1", "2.5": written into SQL as a number, so the comparison is numeric as the
// application's own `delete_status = 0` would be. Anything else becomes a string literal.
bool is_plain_number(std::string_view text) {
    if (!text.empty() && (text.front() == '-' || text.front() == '+')) text.remove_prefix(1);
    bool digits = false;
    bool dot = false;
    for (const char c : text) {
        if (std::isdigit(static_cast<unsigned char>(c)) != 0) {
            digits = true;
        } else if (c == '.' && !dot) {
            dot = true;
        } else {
            return false;
        }
    }
    return digits;
}

// A value as the report shows it: 'text' with quotes, backslashes and control bytes escaped.
std::string format_value(const SqlValue& value) {
    if (!value) return "NULL";
    std::string out = "'";
    for (const char c : *value) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '\'' || c == '\\') {
            out += '\\';
            out += c;
        } else if (byte < 0x20 || byte == 0x7f) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
            out += escaped;
        } else {
            out += c;
        }
    }
    return out + "'";
}

// "(v1, v2)" from the first `count` values of `row`.
std::string format_tuple(const SqlRow& row, std::size_t count) {
    std::string out = "(";
    for (std::size_t i = 0; i < count && i < row.size(); ++i) out += (i > 0 ? ", " : "") + format_value(row[i]);
    return out + ")";
}

std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
    return out;
}

// What information_schema says about one table. Names are as the server spells them.
struct TableInfo {
    std::vector<std::string> columns;
    std::vector<std::vector<std::string>> indexes;  // each index's columns, in index order
    std::vector<std::string> primary_key;

    bool has_column(std::string_view name) const {
        return std::any_of(columns.begin(), columns.end(), [&](const auto& c) { return same_column(c, name); });
    }
};

// std::nullopt when the table does not exist (or the control user cannot see it).
std::optional<TableInfo> load_table_info(ControlConnection& conn, const config::TableName& table) {
    const std::string where = " WHERE TABLE_SCHEMA = " + conn.quote_string(table.schema) +
                              " AND TABLE_NAME = " + conn.quote_string(table.table);
    TableInfo info;
    for (auto& row : rows_of(conn, "SELECT COLUMN_NAME FROM information_schema.COLUMNS" + where +
                                       " ORDER BY ORDINAL_POSITION")) {
        info.columns.push_back(row.at(0).value_or(""));
    }
    if (info.columns.empty()) return std::nullopt;
    std::string current;
    for (auto& row : rows_of(conn, "SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS" + where +
                                       " ORDER BY INDEX_NAME, SEQ_IN_INDEX")) {
        const std::string index = row.at(0).value_or("");
        if (info.indexes.empty() || index != current) info.indexes.emplace_back();
        current = index;
        info.indexes.back().push_back(row.at(1).value_or(""));  // NULL for an expression part
        if (index == "PRIMARY") info.primary_key.push_back(info.indexes.back().back());
    }
    return info;
}

// True when some index's leading columns are exactly the key columns, in any order.
bool has_key_index(const TableInfo& info, const std::vector<std::string>& key) {
    return std::any_of(info.indexes.begin(), info.indexes.end(), [&](const auto& index) {
        return index.size() >= key.size() &&
               std::is_permutation(key.begin(), key.end(), index.begin(), index.begin() + key.size(), same_column);
    });
}

// The checks of one rule; each part prints its own lines of the rule's section.
class RuleCheck {
public:
    RuleCheck(ControlConnection& conn, const config::Rule& rule, std::ostream& out)
        : conn_(conn), rule_(rule), out_(out), table_sql_(ControlConnection::quote_table(rule.table)) {}

    Outcome run() {
        out_ << "rule " << rule_.name << " (mode " << config::to_string(rule_.mode) << "): table "
             << config::to_string(rule_.table) << ", key (" << join(rule_.key) << "), live when "
             << live_condition("") << "\n";
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
        primary_key_ = info->primary_key;
        Outcome outcome = check_duplicates();
        if (rule_.mode == config::RuleMode::dedup) outcome = std::max(outcome, check_dedup_table());
        return outcome;
    }

    bool has_columns(const TableInfo& info, const config::TableName& table, const std::vector<std::string>& names) {
        std::vector<std::string> missing;
        for (const auto& name : names) {
            if (!info.has_column(name) && std::find(missing.begin(), missing.end(), name) == missing.end()) {
                missing.push_back(name);
            }
        }
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

    Outcome check_duplicates() {
        const std::string keys = key_list("s");
        const std::string from_groups = " FROM " + table_sql_ + " AS s WHERE " + live_rows("s") + " GROUP BY " +
                                        keys + " HAVING COUNT(*) > 1";
        const auto totals =
            rows_of(conn_, "SELECT COUNT(*), COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n" + from_groups + ") AS g");
        const std::string groups = totals.at(0).at(0).value_or("0");
        if (groups == "0") {
            out_ << "  live duplicates: none\n";
            return Outcome::clean;
        }
        out_ << "  live duplicates: " << groups << " group(s), " << totals.at(0).at(1).value_or("0")
             << " surplus row(s)\n";
        const auto samples = rows_of(conn_, "SELECT " + keys + ", COUNT(*)" + from_groups + " ORDER BY COUNT(*) DESC, " +
                                                keys + " LIMIT " + std::to_string(max_samples));
        for (const auto& group : samples) {
            out_ << "    " << format_tuple(group, rule_.key.size()) << ": " << group.back().value_or("?")
                 << " live rows" << sample_ids(group) << "\n";
        }
        return Outcome::findings;
    }

    // "; id: 1, 4, 7" for the live rows of one duplicate group, or "" without a primary key.
    std::string sample_ids(const SqlRow& group) {
        if (primary_key_.empty()) return "";
        std::vector<std::string> pk_columns;
        for (const auto& column : primary_key_) pk_columns.push_back(column_ref("s", column));
        const std::string pk = join(pk_columns);
        std::string where = live_condition("s");
        for (std::size_t i = 0; i < rule_.key.size(); ++i) {
            where += " AND " + column_ref("s", rule_.key[i]) + " = " + conn_.quote_string(group.at(i).value_or(""));
        }
        const auto rows = rows_of(conn_, "SELECT " + pk + " FROM " + table_sql_ + " AS s WHERE " + where +
                                             " ORDER BY " + pk + " LIMIT " + std::to_string(max_ids + 1));
        std::vector<std::string> ids;
        for (std::size_t i = 0; i < rows.size() && i < max_ids; ++i) {
            ids.push_back(primary_key_.size() == 1 ? rows[i].at(0).value_or("NULL")
                                                   : format_tuple(rows[i], primary_key_.size()));
        }
        if (rows.size() > max_ids) ids.emplace_back("...");
        return "; " + join(primary_key_) + ": " + join(ids);
    }

    Outcome check_dedup_table() {
        config::TableName dedup = rule_.dedup_table;
        if (dedup.table.empty()) dedup.table = rule_.table.table + "__uniq";
        if (dedup.schema.empty()) dedup.schema = rule_.table.schema;
        const auto info = load_table_info(conn_, dedup);
        if (!info) {
            out_ << "  error: dedup table " << config::to_string(dedup)
                 << " not found (`uniqgate migrate` creates and backfills it)\n";
            return Outcome::error;
        }
        if (!has_columns(*info, dedup, rule_.key)) return Outcome::error;
        const std::string dedup_sql = ControlConnection::quote_table(dedup);
        out_ << "  dedup table " << config::to_string(dedup) << ":\n";
        const bool missing = report_keys(
            "live keys missing from it",
            table_sql_ + " AS s WHERE " + live_rows("s") + " AND NOT EXISTS (SELECT 1 FROM " + dedup_sql +
                " AS d WHERE " + keys_match("d", "s") + ")",
            "s");
        const bool stale = report_keys("keys in it that are not live in the source",
                                       dedup_sql + " AS d WHERE NOT EXISTS (SELECT 1 FROM " + table_sql_ +
                                           " AS s WHERE " + live_condition("s") + " AND " + keys_match("s", "d") + ")",
                                       "d");
        return missing || stale ? Outcome::findings : Outcome::clean;
    }

    // Prints how many distinct keys `from_where` yields (and samples); true when any.
    bool report_keys(const std::string& label, const std::string& from_where, std::string_view alias) {
        const std::string keys = key_list(alias);
        const std::string grouped = " FROM " + from_where + " GROUP BY " + keys;
        const std::uint64_t count = count_of(conn_, "SELECT COUNT(*) FROM (SELECT 1" + grouped + ") AS k");
        out_ << "    " << label << ": " << count << "\n";
        if (count == 0) return false;
        for (const auto& row : rows_of(conn_, "SELECT " + keys + grouped + " ORDER BY " + keys + " LIMIT " +
                                                  std::to_string(max_samples))) {
            out_ << "      " << format_tuple(row, rule_.key.size()) << "\n";
        }
        return true;
    }

    static std::string column_ref(std::string_view alias, const std::string& column) {
        const std::string quoted = ControlConnection::quote_identifier(column);
        return alias.empty() ? quoted : std::string(alias) + "." + quoted;
    }

    // s.`k1`, s.`k2`
    std::string key_list(std::string_view alias) const {
        std::vector<std::string> refs;
        for (const auto& column : rule_.key) refs.push_back(column_ref(alias, column));
        return join(refs);
    }

    // d.`k1` = s.`k1` AND d.`k2` = s.`k2`
    std::string keys_match(std::string_view left, std::string_view right) const {
        std::string out;
        for (const auto& column : rule_.key) {
            out += (out.empty() ? "" : " AND ") + column_ref(left, column) + " = " + column_ref(right, column);
        }
        return out;
    }

    std::string live_condition(std::string_view alias) const {
        const std::string column = column_ref(alias, rule_.soft_delete.column);
        if (!rule_.soft_delete.live) return column + " IS NULL";
        const std::string& value = *rule_.soft_delete.live;
        return column + " = " + (is_plain_number(value) ? value : conn_.quote_string(value));
    }

    // Live rows a unique index would hold: a NULL key column never collides.
    std::string live_rows(std::string_view alias) const {
        std::string out = live_condition(alias);
        for (const auto& column : rule_.key) out += " AND " + column_ref(alias, column) + " IS NOT NULL";
        return out;
    }

    ControlConnection& conn_;
    const config::Rule& rule_;
    std::ostream& out_;
    std::string table_sql_;
    std::vector<std::string> primary_key_;
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
