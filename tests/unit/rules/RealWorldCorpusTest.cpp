// Statement shapes that ORMs and drivers emit, each instantiated with every way of
// spelling the rule table and with tables that are not rule tables: the classifier must
// find exactly the rule tables, and the analyser must say the same thing for each spelling.

#include "RulesTestSupport.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace uniqgate::rules {
namespace {

enum class Outcome { relay, keys_known, keys_from_parameters, unsupported, acts_without_keys };

struct Shape {
    const char* origin;
    const char* sql;  // {T} stands for the table
    StatementKind kind;
    Outcome outcome;  // for the rule table; other tables always relay
};

const Shape shapes[] = {
    {"hibernate", "insert into {T} (created_at,delete_status,model,name,price) values (?,?,?,?,?)", StatementKind::insert, Outcome::keys_from_parameters},
    {"hibernate", "update {T} set delete_status=?,model=?,name=?,price=? where id=?", StatementKind::update, Outcome::acts_without_keys},
    {"hibernate", "update {T} set price=? where id=?", StatementKind::update, Outcome::relay},
    {"hibernate", "delete from {T} where id=?", StatementKind::delete_rows, Outcome::relay},
    {"hibernate batch", "insert into {T} (model,name) values (?,?),(?,?),(?,?)", StatementKind::insert, Outcome::keys_from_parameters},
    {"mybatis", "INSERT INTO {T}\n  (name, model, price)\n  VALUES\n  ('a', 'b', 1.00)\n", StatementKind::insert, Outcome::keys_known},
    {"mybatis foreach", "INSERT INTO {T} (name, model) VALUES\n ('a','b')\n ,\n ('c','d')", StatementKind::insert, Outcome::keys_known},
    {"mybatis <set>", "UPDATE {T}\n     SET name = 'n',\n         model = 'm'\n     WHERE id = 1", StatementKind::update, Outcome::acts_without_keys},
    {"laravel", "insert into {T} (`name`, `model`, `updated_at`, `created_at`) values (?, ?, ?, ?)", StatementKind::insert, Outcome::keys_from_parameters},
    {"laravel", "update {T} set `name` = ?, `updated_at` = ? where `id` = ?", StatementKind::update, Outcome::acts_without_keys},
    {"laravel soft delete", "update {T} set `delete_status` = ?, `updated_at` = ? where `id` in (?, ?)", StatementKind::update, Outcome::acts_without_keys},
    {"laravel upsert", "insert into {T} (`name`, `model`, `price`) values (?, ?, ?) on duplicate key update `price` = values(`price`)", StatementKind::insert, Outcome::keys_from_parameters},
    {"django", "INSERT INTO {T} (`name`, `model`, `price`, `delete_status`) VALUES ('x', 'y', '1.00', 0)", StatementKind::insert, Outcome::keys_known},
    {"django bulk_create", "INSERT INTO {T} (`name`, `model`) VALUES ('a', 'b'), ('c', 'd'), ('e', 'f')", StatementKind::insert, Outcome::keys_known},
    {"django", "UPDATE {T} SET `price` = '2.00' WHERE `id` = 1", StatementKind::update, Outcome::relay},
    {"django", "DELETE FROM {T} WHERE `id` IN (1, 2, 3)", StatementKind::delete_rows, Outcome::relay},
    {"activerecord", "INSERT INTO {T} (`name`, `model`) VALUES ('a', 'b') /*application:Shop*/", StatementKind::insert, Outcome::keys_known},
    {"activerecord", "UPDATE {T} SET `name` = 'c' WHERE `id` = 4 /*controller:products,action:update*/", StatementKind::update, Outcome::acts_without_keys},
    {"activerecord insert_all", "INSERT IGNORE INTO {T} (`name`,`model`) VALUES ('a', 'b'), ('c', 'd')", StatementKind::insert, Outcome::keys_known},
    {"activerecord upsert_all", "INSERT INTO {T} (`name`,`model`,`price`) VALUES ('a', 'b', 1) AS `new` ON DUPLICATE KEY UPDATE `price`=`new`.`price`", StatementKind::insert, Outcome::keys_known},
    {"gorm", "INSERT INTO {T} (`name`,`model`,`price`,`delete_status`) VALUES (?,?,?,?)", StatementKind::insert, Outcome::keys_from_parameters},
    {"gorm", "UPDATE {T} SET `delete_status`=? WHERE {T}.`id` = ?", StatementKind::update, Outcome::acts_without_keys},
    {"gorm interpolated", "INSERT INTO {T} (`name`,`model`,`price`,`delete_status`) VALUES ('g','h',0.5,0)", StatementKind::insert, Outcome::keys_known},
    {"sqlx", "INSERT INTO {T} (name, model) VALUES (?, ?)", StatementKind::insert, Outcome::keys_from_parameters},
    {"sqlx named", "INSERT INTO {T} (name, model, price) VALUES (?, ?, ?), (?, ?, ?)", StatementKind::insert, Outcome::keys_from_parameters},
    {"jdbc rewriteBatchedStatements", "INSERT INTO {T} (name,model) VALUES ('a','b'),('c','d'),('e','f'),('g','h')", StatementKind::insert, Outcome::keys_known},
    {"php pdo emulated", "INSERT INTO {T} (name, model) VALUES ('O\\'Reilly', 'it''s')", StatementKind::insert, Outcome::keys_known},
    {"python escaping", "INSERT INTO {T} (name, model) VALUES ('back\\\\slash', _utf8mb4'x' COLLATE utf8mb4_bin)", StatementKind::insert, Outcome::keys_known},
    {"hint", "INSERT /*+ NO_BKA(t1) */ INTO {T} (name, model) VALUES ('a', 'b')", StatementKind::insert, Outcome::keys_known},
    {"exec comment", "INSERT /*!IGNORE*/ INTO {T} (name, model) VALUES ('a', 'b')", StatementKind::insert, Outcome::keys_known},
    {"comments everywhere", "INSERT -- a\n INTO {T} /* b */ (name /* c */, model) # d\n VALUES ( 'a' /* e */ , 'b' )", StatementKind::insert, Outcome::keys_known},
    {"set form", "INSERT INTO {T} SET name = 'a', model = 'b'", StatementKind::insert, Outcome::keys_known},
    {"soft-deleted import", "INSERT INTO {T} (name, model, delete_status) VALUES ('a', 'b', 1)", StatementKind::insert, Outcome::relay},
    {"null key", "INSERT INTO {T} (name, model) VALUES (NULL, 'b')", StatementKind::insert, Outcome::relay},
    {"expression key", "INSERT INTO {T} (name, model) VALUES (UUID(), 'b')", StatementKind::insert, Outcome::unsupported},
    {"insert select", "INSERT INTO {T} (name, model) SELECT name, model FROM staging", StatementKind::insert, Outcome::unsupported},
    {"replace", "REPLACE INTO {T} (name, model) VALUES ('a', 'b')", StatementKind::replace, Outcome::keys_known},
    {"cte update", "WITH x AS (SELECT 1 AS id) UPDATE {T} SET name = 'q' WHERE id IN (SELECT id FROM x)", StatementKind::update, Outcome::acts_without_keys},
    {"update order limit", "UPDATE {T} SET model = 'm2' WHERE name = 'a' ORDER BY id LIMIT 1", StatementKind::update, Outcome::acts_without_keys},
    {"update expression", "UPDATE {T} SET name = LOWER(name)", StatementKind::update, Outcome::unsupported},
    {"delete limit", "DELETE LOW_PRIORITY QUICK IGNORE FROM {T} WHERE price < 0 ORDER BY id LIMIT 100", StatementKind::delete_rows, Outcome::relay},
    {"truncate", "TRUNCATE TABLE {T}", StatementKind::truncate, Outcome::relay},
    {"load data", "LOAD DATA LOCAL INFILE 'p.csv' INTO TABLE {T}", StatementKind::load_data, Outcome::unsupported},
    {"select", "SELECT * FROM {T} WHERE name = 'a' FOR UPDATE", StatementKind::read, Outcome::relay},
    {"select count", "select count(*) from {T} where delete_status = 0", StatementKind::read, Outcome::relay},
};

const char* const rule_spellings[] = {"product", "`product`", "shop.product", "`shop`.`product`", "shop.`product`"};
const char* const other_tables[] = {"orders", "`product_archive`", "other.product", "`other`.`product`"};

std::string instantiate(std::string_view sql, std::string_view table) {
    std::string out(sql);
    for (std::size_t at = out.find("{T}"); at != std::string::npos; at = out.find("{T}", at + table.size())) {
        out.replace(at, 3, table);
    }
    return out;
}

Outcome outcome_of(const WritePlan& plan) {
    if (!plan.unsupported_reason().empty()) return Outcome::unsupported;
    if (!plan.needs_action()) return Outcome::relay;
    const RulePlan& rule = plan.rules.at(0);
    for (const RowKey& row : rule.rows) {
        if (row.status == KeyStatus::needs_parameters) return Outcome::keys_from_parameters;
    }
    return rule.rows.empty() ? Outcome::acts_without_keys : Outcome::keys_known;
}

struct CorpusCase {
    std::string sql;
    std::string origin;
    StatementKind kind;
    bool rule_table;
    Outcome outcome;
};

std::vector<CorpusCase> corpus() {
    std::vector<CorpusCase> out;
    for (const Shape& shape : shapes) {
        for (const char* table : rule_spellings) {
            out.push_back({instantiate(shape.sql, table), shape.origin, shape.kind, shape.kind != StatementKind::read, shape.outcome});
        }
        for (const char* table : other_tables) {
            out.push_back({instantiate(shape.sql, table), shape.origin, shape.kind, false, Outcome::relay});
        }
    }
    return out;
}

class RealWorldCorpus : public ::testing::TestWithParam<CorpusCase> {};

TEST_P(RealWorldCorpus, ClassifiesAndPlansTheSameForEverySpelling) {
    const CorpusCase& c = GetParam();
    const testing::Analysed a = testing::analyse(c.sql);
    EXPECT_EQ(a.classification.kind, c.kind) << c.origin << ": " << c.sql;
    EXPECT_EQ(a.classification.involves_rule(), c.rule_table) << c.origin << ": " << c.sql;
    EXPECT_EQ(static_cast<int>(outcome_of(a.plan)), static_cast<int>(c.outcome))
        << c.origin << ": " << c.sql << "\n reason: " << a.plan.unsupported_reason();
}

INSTANTIATE_TEST_SUITE_P(Shapes, RealWorldCorpus, ::testing::ValuesIn(corpus()));

}  // namespace
}  // namespace uniqgate::rules
