#include "proxy/LiveKeyReport.hpp"

#include "proxy/ControlQueries.hpp"
#include "proxy/RuleSql.hpp"

#include <ostream>
#include <string_view>

namespace uniqgate::proxy {
namespace {

constexpr std::size_t max_ids = 10;          // primary keys shown per duplicate group
constexpr std::size_t max_drift_samples = 5;  // keys shown per kind of drift

// "; id: 1, 4, 7" for the live rows of one duplicate group, or "" without a primary key.
std::string sample_ids(ControlConnection& conn, const config::Rule& rule, const RuleSql& sql,
                       const std::vector<std::string>& primary_key, const SqlRow& group) {
    if (primary_key.empty()) return "";
    std::vector<std::string> pk_columns;
    for (const auto& column : primary_key) pk_columns.push_back(RuleSql::column_ref("s", column));
    const std::string pk = join(pk_columns);
    std::string where = sql.live_condition("s");
    for (std::size_t i = 0; i < rule.key.size(); ++i) {
        where += " AND " + RuleSql::column_ref("s", rule.key[i]) + " = " + conn.quote_string(group.at(i).value_or(""));
    }
    const auto rows = rows_of(conn, "SELECT " + pk + " FROM " + sql.table() + " AS s WHERE " + where + " ORDER BY " +
                                        pk + " LIMIT " + std::to_string(max_ids + 1));
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < rows.size() && i < max_ids; ++i) {
        ids.push_back(primary_key.size() == 1 ? rows[i].at(0).value_or("NULL")
                                              : format_tuple(rows[i], primary_key.size()));
    }
    if (rows.size() > max_ids) ids.emplace_back("...");
    return "; " + join(primary_key) + ": " + join(ids);
}

// Prints how many distinct keys `from_where` yields (and samples); true when any.
bool report_keys(ControlConnection& conn, const config::Rule& rule, const std::string& label,
                 const std::string& from_where, std::string_view alias, std::ostream& out) {
    const std::string keys = RuleSql(conn, rule).key_list(alias);
    const std::string grouped = " FROM " + from_where + " GROUP BY " + keys;
    const std::uint64_t count = count_of(conn, "SELECT COUNT(*) FROM (SELECT 1" + grouped + ") AS k");
    out << "    " << label << ": " << count << "\n";
    if (count == 0) return false;
    for (const auto& row :
         rows_of(conn, "SELECT " + keys + grouped + " ORDER BY " + keys + " LIMIT " + std::to_string(max_drift_samples))) {
        out << "      " << format_tuple(row, rule.key.size()) << "\n";
    }
    return true;
}

}  // namespace

bool report_live_duplicates(ControlConnection& conn, const config::Rule& rule,
                            const std::vector<std::string>& primary_key, std::size_t max_groups, std::ostream& out) {
    const RuleSql sql(conn, rule);
    const std::string keys = sql.key_list("s");
    const std::string from_groups = " FROM " + sql.table() + " AS s WHERE " + sql.live_rows("s") + " GROUP BY " + keys +
                                    " HAVING COUNT(*) > 1";
    const auto totals =
        rows_of(conn, "SELECT COUNT(*), COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n" + from_groups + ") AS g");
    const std::string groups = totals.at(0).at(0).value_or("0");
    if (groups == "0") {
        out << "  live duplicates: none\n";
        return false;
    }
    out << "  live duplicates: " << groups << " group(s), " << totals.at(0).at(1).value_or("0") << " surplus row(s)\n";
    const auto samples = rows_of(conn, "SELECT " + keys + ", COUNT(*)" + from_groups + " ORDER BY COUNT(*) DESC, " +
                                           keys + " LIMIT " + std::to_string(max_groups));
    for (const auto& group : samples) {
        out << "    " << format_tuple(group, rule.key.size()) << ": " << group.back().value_or("?") << " live rows"
            << sample_ids(conn, rule, sql, primary_key, group) << "\n";
    }
    return true;
}

bool report_dedup_drift(ControlConnection& conn, const config::Rule& rule, const config::TableName& dedup,
                        std::ostream& out) {
    const RuleSql sql(conn, rule);
    const std::string dedup_sql = ControlConnection::quote_table(dedup);
    out << "  dedup table " << config::to_string(dedup) << ":\n";
    const bool missing = report_keys(conn, rule, "live keys missing from it",
                                     sql.table() + " AS s WHERE " + sql.live_rows("s") + " AND NOT EXISTS (SELECT 1 FROM " +
                                         dedup_sql + " AS d WHERE " + sql.keys_match("d", "s") + ")",
                                     "s", out);
    const bool stale = report_keys(conn, rule, "keys in it that are not live in the source",
                                   dedup_sql + " AS d WHERE NOT EXISTS (SELECT 1 FROM " + sql.table() + " AS s WHERE " +
                                       sql.live_condition("s") + " AND " + sql.keys_match("s", "d") + ")",
                                   "d", out);
    return missing || stale;
}

}  // namespace uniqgate::proxy
