// describe() and to_string(): the effective configuration as `uniqgate validate` prints it.

#include "config/ConfigLoader.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace uniqgate::config {
namespace {

const std::string data_dir = UNIQGATE_TEST_DATA_DIR;

Config round_trip(const Config& config) {
    return load_config_string(describe(config), "described.yaml");
}

TEST(Describe, DefaultsAreWrittenOut) {
    EXPECT_EQ(describe(load_config_string("{}")),
              "# effective configuration: defaults filled in, passwords masked\n"
              "listen: 127.0.0.1:3307\n"
              "backend:\n"
              "  host: 127.0.0.1\n"
              "  port: 3306\n"
              "client_tls:\n"
              "  mode: preferred\n"
              "backend_tls:\n"
              "  mode: disabled\n"
              "admin:\n"
              "  listen: 127.0.0.1:9307\n"
              "control:\n"
              "  user: uniqgate\n"
              "lock:\n"
              "  backend: local\n"
              "  timeout_ms: 5000\n"
              "rules: []\n");
}

TEST(Describe, RuleDefaultsAreWrittenOut) {
    const Config config = load_config_string(R"(
rules:
  - { name: r, table: shop.product, key: [name, model], soft_delete: { column: delete_status, live: 0 },
      mode: dedup }
  - { name: s, table: '`my-db`.t', key: ['`a b`'], soft_delete: { column: deleted_at, live: ~ } }
)");
    const std::string text = describe(config);
    EXPECT_NE(text.find("  - name: r\n"
                        "    table: shop.product\n"
                        "    key: [name, model]\n"
                        "    soft_delete: {column: delete_status, live: 0}\n"
                        "    mode: dedup\n"
                        "    on_duplicate: error\n"
                        "    dedup_table: shop.product__uniq\n"
                        "    unsupported: error\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("    table: \"`my-db`.t\"\n"
                        "    key: [\"`a b`\"]\n"
                        "    soft_delete: {column: deleted_at, live: ~}\n"
                        "    mode: serialize\n"),
              std::string::npos)
        << text;
}

TEST(Describe, PasswordIsMasked) {
    const Config config = load_config_string("control: { user: u, password: hunter2 }");
    const std::string text = describe(config);
    EXPECT_EQ(text.find("hunter2"), std::string::npos);
    EXPECT_NE(text.find("  password: \"***\"\n"), std::string::npos) << text;
}

TEST(Describe, PasswordEnvIsShownByNameOnly) {
    ::setenv("UNIQGATE_TEST_DESCRIBE_PASSWORD", "hunter2", 1);
    const Config config = load_config_string("control: { password_env: UNIQGATE_TEST_DESCRIBE_PASSWORD }");
    const std::string text = describe(config);
    EXPECT_EQ(text.find("hunter2"), std::string::npos);
    EXPECT_NE(text.find("  password_env: UNIQGATE_TEST_DESCRIBE_PASSWORD\n"), std::string::npos) << text;
    EXPECT_EQ(round_trip(config), config);
}

TEST(Describe, FullConfigLoadsBackEqual) {
    ::setenv("UNIQGATE_TEST_FULL_PASSWORD", "s3cret", 1);
    const Config config = load_config_file(data_dir + "/full.yaml");
    EXPECT_EQ(round_trip(config), config) << describe(config);
}

TEST(Describe, MaskedPasswordAsideOutputLoadsBackEqual) {
    Config config = load_config_string(R"(
listen: "[::1]:3307"
backend: { unix_socket: /run/mysqld/mysqld.sock }
control: { user: "odd: user", password: hunter2 }
rules:
  - { name: a, table: t, key: ['`we``ird`', '123x'], soft_delete: { column: d, live: 'null' } }
  - { name: b, table: '`1`.`2`', key: [k], soft_delete: { column: d, live: '' }, mode: dedup,
      dedup_table: '`x y`.z' }
  - { name: c, table: u, key: [k], soft_delete: { column: d, live: "a: b" }, on_duplicate: ignore,
      unsupported: passthrough, mode: observe }
)");
    const Config described = round_trip(config);
    EXPECT_EQ(described.control.password, "***");
    config.control.password = "***";
    EXPECT_EQ(described, config) << describe(config);
}

TEST(ConfigToString, EnumsUseTheYamlSpelling) {
    EXPECT_STREQ(to_string(ClientTlsMode::required), "required");
    EXPECT_STREQ(to_string(BackendTlsMode::verify_ca), "verify_ca");
    EXPECT_STREQ(to_string(LockBackend::mysql), "mysql");
    EXPECT_STREQ(to_string(RuleMode::observe), "observe");
    EXPECT_STREQ(to_string(OnDuplicate::update), "update");
    EXPECT_STREQ(to_string(Unsupported::passthrough), "passthrough");
}

TEST(ConfigToString, EndpointsAndTableNamesUseTheYamlSpelling) {
    EXPECT_EQ(to_string(Endpoint{"::1", 3307}), "[::1]:3307");
    EXPECT_EQ(to_string(Endpoint{"127.0.0.1", 9307}), "127.0.0.1:9307");
    EXPECT_EQ(to_string(TableName{"", "product"}), "product");
    EXPECT_EQ(to_string(TableName{"shop", "product"}), "shop.product");
    EXPECT_EQ(to_string(TableName{"my-db", "we`ird"}), "`my-db`.`we``ird`");
    EXPECT_EQ(to_string(TableName{"", "123"}), "`123`");
}

}  // namespace
}  // namespace uniqgate::config
