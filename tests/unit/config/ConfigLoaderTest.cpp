// Loading valid configurations: defaults, every key, accepted spellings, example files.

#include "config/ConfigLoader.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace uniqgate::config {
namespace {

const std::string data_dir = UNIQGATE_TEST_DATA_DIR;
const std::string examples_dir = data_dir + "/../../../../examples";

const char* const minimal_rule = R"(
rules:
  - name: product_name_model
    table: shop.product
    key: [name, model]
    soft_delete: { column: delete_status, live: 0 }
)";

Config load(const std::string& yaml) {
    return load_config_string(yaml, "test.yaml");
}

TEST(ConfigLoader, EmptyMappingGivesEveryDefault) {
    const Config config = load("{}");
    EXPECT_EQ(config.listen, (Endpoint{"127.0.0.1", 3307}));
    EXPECT_EQ(config.backend.host, "127.0.0.1");
    EXPECT_EQ(config.backend.port, 3306);
    EXPECT_EQ(config.backend.unix_socket, "");
    EXPECT_EQ(config.client_tls.mode, ClientTlsMode::preferred);
    EXPECT_EQ(config.client_tls.cert, "");
    EXPECT_EQ(config.client_tls.key, "");
    EXPECT_EQ(config.backend_tls.mode, BackendTlsMode::disabled);
    EXPECT_EQ(config.backend_tls.ca, "");
    EXPECT_EQ(config.admin.listen, (Endpoint{"127.0.0.1", 9307}));
    EXPECT_EQ(config.control.user, "uniqgate");
    EXPECT_EQ(config.control.password, "");
    EXPECT_EQ(config.control.password_env, "");
    EXPECT_EQ(config.lock.backend, LockBackend::local);
    EXPECT_EQ(config.lock.timeout, std::chrono::milliseconds(5000));
    EXPECT_TRUE(config.rules.empty());
    EXPECT_EQ(config, Config{});
}

TEST(ConfigLoader, MinimalRuleGetsRuleDefaults) {
    const Config config = load(minimal_rule);
    ASSERT_EQ(config.rules.size(), 1u);
    const Rule& rule = config.rules[0];
    EXPECT_EQ(rule.name, "product_name_model");
    EXPECT_EQ(rule.table, (TableName{"shop", "product"}));
    EXPECT_EQ(rule.key, (std::vector<std::string>{"name", "model"}));
    EXPECT_EQ(rule.soft_delete.column, "delete_status");
    EXPECT_EQ(rule.soft_delete.live, std::optional<std::string>("0"));
    EXPECT_EQ(rule.mode, RuleMode::serialize);
    EXPECT_EQ(rule.on_duplicate, OnDuplicate::error);
    EXPECT_EQ(rule.unsupported, Unsupported::error);
    EXPECT_EQ(rule.dedup_table, TableName{});  // only filled in for mode dedup
}

TEST(ConfigLoader, FullConfigSetsEveryKey) {
    ::setenv("UNIQGATE_TEST_FULL_PASSWORD", "s3cret", 1);
    const Config config = load_config_file(data_dir + "/full.yaml");
    EXPECT_EQ(config.listen, (Endpoint{"::1", 4306}));
    EXPECT_EQ(config.backend.host, "db.internal");
    EXPECT_EQ(config.backend.port, 3310);
    EXPECT_EQ(config.client_tls.mode, ClientTlsMode::required);
    EXPECT_EQ(config.client_tls.cert, data_dir + "/server.pem");  // relative to the config file
    EXPECT_EQ(config.client_tls.key, data_dir + "/server.key");
    EXPECT_EQ(config.backend_tls.mode, BackendTlsMode::verify_ca);
    EXPECT_EQ(config.backend_tls.ca, data_dir + "/ca.pem");
    EXPECT_EQ(config.admin.listen, (Endpoint{"0.0.0.0", 9400}));
    EXPECT_EQ(config.control.user, "gatekeeper");
    EXPECT_EQ(config.control.password_env, "UNIQGATE_TEST_FULL_PASSWORD");
    EXPECT_EQ(config.control.password, "s3cret");
    EXPECT_EQ(config.lock.backend, LockBackend::mysql);
    EXPECT_EQ(config.lock.timeout, std::chrono::milliseconds(250));
    ASSERT_EQ(config.rules.size(), 2u);
    const Rule& product = config.rules[0];
    EXPECT_EQ(product.mode, RuleMode::dedup);
    EXPECT_EQ(product.on_duplicate, OnDuplicate::update);
    EXPECT_EQ(product.dedup_table, (TableName{"shop", "product_keys"}));
    EXPECT_EQ(product.unsupported, Unsupported::passthrough);
    const Rule& user = config.rules[1];
    EXPECT_EQ(user.table, (TableName{"my-db", "user"}));
    EXPECT_EQ(user.soft_delete.live, std::nullopt);
    EXPECT_EQ(user.mode, RuleMode::observe);
    EXPECT_EQ(user.on_duplicate, OnDuplicate::ignore);
}

TEST(ConfigLoader, DedupTableDefaultsToTableWithUniqSuffix) {
    const Config config = load(std::string(minimal_rule) + "    mode: dedup\n");
    EXPECT_EQ(config.rules[0].dedup_table, (TableName{"shop", "product__uniq"}));
}

TEST(ConfigLoader, DedupTableDefaultHasNoSchemaWhenTableHasNone) {
    const Config config = load(R"(
rules:
  - { name: r, table: product, key: [name], soft_delete: { column: deleted, live: 0 }, mode: dedup }
)");
    EXPECT_EQ(config.rules[0].table, (TableName{"", "product"}));
    EXPECT_EQ(config.rules[0].dedup_table, (TableName{"", "product__uniq"}));
}

TEST(ConfigLoader, ListenAcceptsBracketedIpv6AndHostNames) {
    EXPECT_EQ(load(R"(listen: "[::1]:3307")").listen, (Endpoint{"::1", 3307}));
    EXPECT_EQ(load("listen: localhost:1").listen, (Endpoint{"localhost", 1}));
    EXPECT_EQ(load("admin: { listen: 0.0.0.0:65535 }").admin.listen, (Endpoint{"0.0.0.0", 65535}));
}

TEST(ConfigLoader, BackendUnixSocketKeepsHostAndPortDefaults) {
    const Config config = load("backend: { unix_socket: /run/mysqld/mysqld.sock }");
    EXPECT_EQ(config.backend.unix_socket, "/run/mysqld/mysqld.sock");
    EXPECT_EQ(config.backend.host, "127.0.0.1");
    EXPECT_EQ(config.backend.port, 3306);
}

TEST(ConfigLoader, TableNamesAcceptBacktickQuoting) {
    const auto table_of = [](const std::string& text) {
        return load("rules: [{name: r, table: '" + text + "', key: [k], soft_delete: {column: d, live: 0}}]")
            .rules[0]
            .table;
    };
    EXPECT_EQ(table_of("`my-db`.`t`"), (TableName{"my-db", "t"}));
    EXPECT_EQ(table_of("`my-db`.t"), (TableName{"my-db", "t"}));
    EXPECT_EQ(table_of("`a.b`"), (TableName{"", "a.b"}));
    EXPECT_EQ(table_of("`we``ird`"), (TableName{"", "we`ird"}));
    EXPECT_EQ(table_of("s$1._t2"), (TableName{"s$1", "_t2"}));
}

TEST(ConfigLoader, KeyColumnsAcceptBacktickQuoting) {
    const Config config =
        load("rules: [{name: r, table: t, key: ['`first name`', id], soft_delete: {column: '`del`', live: 0}}]");
    EXPECT_EQ(config.rules[0].key, (std::vector<std::string>{"first name", "id"}));
    EXPECT_EQ(config.rules[0].soft_delete.column, "del");
}

TEST(ConfigLoader, SoftDeleteLiveKeepsScalarTextAndNullBecomesNullopt) {
    const auto live_of = [](const std::string& live) {
        return load("rules: [{name: r, table: t, key: [k], soft_delete: {column: d, live: " + live + "}}]")
            .rules[0]
            .soft_delete.live;
    };
    EXPECT_EQ(live_of("0"), std::optional<std::string>("0"));
    EXPECT_EQ(live_of("'0'"), std::optional<std::string>("0"));
    EXPECT_EQ(live_of("N"), std::optional<std::string>("N"));
    EXPECT_EQ(live_of("''"), std::optional<std::string>(""));
    EXPECT_EQ(live_of("'null'"), std::optional<std::string>("null"));
    EXPECT_EQ(live_of("null"), std::nullopt);
    EXPECT_EQ(live_of("~"), std::nullopt);
    EXPECT_EQ(live_of(""), std::nullopt);
}

TEST(ConfigLoader, PasswordEnvIsReadAtLoad) {
    ::setenv("UNIQGATE_TEST_PASSWORD", "from-env", 1);
    const Config config = load("control: { user: u, password_env: UNIQGATE_TEST_PASSWORD }");
    EXPECT_EQ(config.control.password, "from-env");
    EXPECT_EQ(config.control.password_env, "UNIQGATE_TEST_PASSWORD");
}

TEST(ConfigLoader, PasswordMayBeWrittenInline) {
    const Config config = load("control: { password: hunter2 }");
    EXPECT_EQ(config.control.password, "hunter2");
    EXPECT_EQ(config.control.password_env, "");
    EXPECT_EQ(config.control.user, "uniqgate");
}

TEST(ConfigLoader, ClientTlsPreferredNeedsNoCertificate) {
    EXPECT_EQ(load("client_tls: { mode: preferred }").client_tls.cert, "");
    EXPECT_EQ(load("client_tls: { mode: disabled }").client_tls.mode, ClientTlsMode::disabled);
}

TEST(ConfigLoader, BackendTlsCaIsOptionalOutsideVerifyCa) {
    const std::string ca = data_dir + "/ca.pem";
    EXPECT_EQ(load("backend_tls: { mode: preferred, ca: " + ca + " }").backend_tls.ca, ca);
    EXPECT_EQ(load("backend_tls: { mode: required }").backend_tls.mode, BackendTlsMode::required);
}

TEST(ConfigLoader, StringSourceResolvesRelativePathsAgainstWorkingDirectory) {
    // load_config_string has no file to be relative to: the path stays as written.
    const std::string relative = "uniqgate-config-test-ca.pem";
    FILE* file = std::fopen(relative.c_str(), "w");
    ASSERT_NE(file, nullptr);
    std::fclose(file);
    EXPECT_EQ(load("backend_tls: { mode: verify_ca, ca: " + relative + " }").backend_tls.ca, relative);
    std::remove(relative.c_str());
}

TEST(ConfigLoader, EmptyRulesListIsAllowed) {
    EXPECT_TRUE(load("rules: []").rules.empty());
}

TEST(ConfigLoader, SameKeyOnDifferentTablesIsAllowed) {
    const Config config = load(R"(
rules:
  - { name: a, table: s.t1, key: [k], soft_delete: { column: d, live: 0 } }
  - { name: b, table: s.t2, key: [K], soft_delete: { column: d, live: 0 } }
  - { name: c, table: s.t1, key: [k, j], soft_delete: { column: d, live: 0 } }
)");
    EXPECT_EQ(config.rules.size(), 3u);
}

TEST(ConfigLoader, ExampleFilesLoad) {
    for (const char* name : {"uniqgate.yaml", "minimal.yaml"}) {
        SCOPED_TRACE(name);
        EXPECT_NO_THROW(load_config_file(examples_dir + "/" + name));
    }
}

TEST(ConfigLoader, QuickStartExampleHasTheDocumentedRule) {
    const Config config = load_config_file(examples_dir + "/uniqgate.yaml");
    EXPECT_EQ(config.listen, (Endpoint{"127.0.0.1", 3307}));
    EXPECT_EQ(config.backend.host, "127.0.0.1");
    EXPECT_EQ(config.backend.port, 3306);
    EXPECT_EQ(config.client_tls.mode, ClientTlsMode::preferred);
    EXPECT_EQ(config.client_tls.cert, "");
    ASSERT_EQ(config.rules.size(), 1u);
    EXPECT_EQ(config.rules[0].table, (TableName{"shop", "product"}));
    EXPECT_EQ(config.rules[0].key, (std::vector<std::string>{"name", "model"}));
    EXPECT_EQ(config.rules[0].soft_delete.column, "delete_status");
    EXPECT_EQ(config.rules[0].soft_delete.live, std::optional<std::string>("0"));
    EXPECT_EQ(config.rules[0].mode, RuleMode::serialize);
}

}  // namespace
}  // namespace uniqgate::config
