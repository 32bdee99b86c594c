// Every class of configuration error, with the exact message: "<file>:<line>: <path>: <message>".

#include "config/ConfigLoader.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace uniqgate::config {
namespace {

const std::string data_dir = UNIQGATE_TEST_DATA_DIR;

std::string error_of(const std::string& yaml) {
    try {
        load_config_string(yaml, "u.yaml");
    } catch (const ConfigError& error) {
        return error.what();
    }
    return "(no error)";
}

// A valid rule list whose first rule starts on line 2; `extra` is appended to that rule.
std::string rule_with(const std::string& extra) {
    return "rules:\n"
           "  - name: product_name_model\n"
           "    table: shop.product\n"
           "    key: [name, model]\n"
           "    soft_delete: { column: delete_status, live: 0 }\n" +
           extra;
}

TEST(ConfigErrors, UnknownKeyNamesKeyAndLine) {
    EXPECT_EQ(error_of("listen: 127.0.0.1:3307\nbakend: { host: db }\n"),
              "u.yaml:2: bakend: unknown key (expected one of listen, backend, client_tls, backend_tls, "
              "admin, control, lock, rules)");
    EXPECT_EQ(error_of(rule_with("    mdoe: dedup\n")),
              "u.yaml:6: rules[0].mdoe: unknown key (expected one of name, table, key, soft_delete, mode, "
              "on_duplicate, dedup_table, unsupported)");
    EXPECT_EQ(error_of("backend:\n  host: db\n  user: x\n"),
              "u.yaml:3: backend.user: unknown key (expected one of host, port, unix_socket)");
}

TEST(ConfigErrors, InvalidChoiceListsTheAllowedValues) {
    EXPECT_EQ(error_of(rule_with("    mode: dedupe\n")),
              "u.yaml:6: rules[0].mode: 'dedupe' is not one of serialize, dedup, observe");
    EXPECT_EQ(error_of(rule_with("    on_duplicate: replace\n")),
              "u.yaml:6: rules[0].on_duplicate: 'replace' is not one of error, ignore, update");
    EXPECT_EQ(error_of(rule_with("    unsupported: allow\n")),
              "u.yaml:6: rules[0].unsupported: 'allow' is not one of error, passthrough");
    EXPECT_EQ(error_of("client_tls: { mode: on }"),
              "u.yaml:1: client_tls.mode: 'on' is not one of disabled, preferred, required");
    EXPECT_EQ(error_of("backend_tls: { mode: verify_identity }"),
              "u.yaml:1: backend_tls.mode: 'verify_identity' is not one of disabled, preferred, required, "
              "verify_ca");
    EXPECT_EQ(error_of("lock: { backend: redis }"), "u.yaml:1: lock.backend: 'redis' is not one of local, mysql");
}

TEST(ConfigErrors, WrongTypeNamesWhatWasExpected) {
    EXPECT_EQ(error_of("listen: { host: x }"), "u.yaml:1: listen: expected a string, got a mapping");
    EXPECT_EQ(error_of("backend: db:3306"), "u.yaml:1: backend: expected a mapping, got a scalar");
    EXPECT_EQ(error_of("rules: { name: x }"), "u.yaml:1: rules: expected a list, got a mapping");
    EXPECT_EQ(error_of("backend: { port: [1] }"), "u.yaml:1: backend.port: expected a number, got a list");
    EXPECT_EQ(error_of("admin:\n"), "u.yaml:1: admin: expected a mapping, got an empty value");
    EXPECT_EQ(error_of("- listen"), "u.yaml:1: expected a mapping, got a list");
    EXPECT_EQ(error_of("? [a]\n: b\n"), "u.yaml:1: keys must be plain names");
}

TEST(ConfigErrors, PortsOutOfRangeOrNotNumbers) {
    EXPECT_EQ(error_of("backend: { port: 70000 }"), "u.yaml:1: backend.port: '70000' is out of range 1..65535");
    EXPECT_EQ(error_of("backend: { port: 0 }"), "u.yaml:1: backend.port: '0' is out of range 1..65535");
    EXPECT_EQ(error_of("backend: { port: 3306.0 }"), "u.yaml:1: backend.port: '3306.0' is not a whole number");
    EXPECT_EQ(error_of("backend: { port: 99999999999999999999 }"),
              "u.yaml:1: backend.port: '99999999999999999999' is out of range 1..65535");
    EXPECT_EQ(error_of("listen: 127.0.0.1:0"), "u.yaml:1: listen: '0' is out of range 1..65535");
}

TEST(ConfigErrors, ListenMustBeHostColonPort) {
    EXPECT_EQ(error_of("listen: 3307"), "u.yaml:1: listen: '3307' is not host:port (no ':port')");
    EXPECT_EQ(error_of("listen: ':3307'"), "u.yaml:1: listen: ':3307' is not host:port (bad host)");
    EXPECT_EQ(error_of("listen: '::1:3307'"),
              "u.yaml:1: listen: '::1:3307' is not host:port (write an IPv6 address in brackets, e.g. "
              "\"[::1]:3307\")");
    EXPECT_EQ(error_of("admin: { listen: 'localhost:http' }"),
              "u.yaml:1: admin.listen: 'http' is not a whole number");
    EXPECT_EQ(error_of("listen: ''"), "u.yaml:1: listen: must not be empty");
    EXPECT_EQ(error_of("listen: '[::1]'"),
              "u.yaml:1: listen: '[::1]' is not host:port (write an IPv6 address as \"[::1]:3307\")");
    EXPECT_EQ(error_of("listen: '[]:1'"), "u.yaml:1: listen: '[]:1' is not host:port (bad host)");
    EXPECT_EQ(error_of("listen: 'a b:1'"), "u.yaml:1: listen: 'a b:1' is not host:port (bad host)");
}

TEST(ConfigErrors, YamlSyntaxErrorHasLine) {
    EXPECT_EQ(error_of("listen: 127.0.0.1:3307\nbackend: { host: db\n"),
              "u.yaml:3: invalid YAML: end of map flow not found (column 1)");
    EXPECT_EQ(error_of(rule_with("    table: `my-db`.t\n")),
              "u.yaml:6: invalid YAML: unknown token (column 12)");
}

TEST(ConfigErrors, EmptyOrSeveralDocumentsAreRefused) {
    EXPECT_EQ(error_of(""), "u.yaml:1: the configuration is empty; expected a mapping of settings such as 'backend:'");
    EXPECT_EQ(error_of("# nothing\n"),
              "u.yaml:1: the configuration is empty; expected a mapping of settings such as 'backend:'");
    EXPECT_EQ(error_of("listen: a:1\n---\nlisten: b:2\n"),
              "u.yaml:3: expected one YAML document, found several ('---')");
}

TEST(ConfigErrors, RepeatedKeyIsAnError) {
    EXPECT_EQ(error_of("listen: a:1\nlisten: b:2\n"), "u.yaml:2: listen: repeated key");
}

TEST(ConfigErrors, MissingRequiredRuleKeys) {
    EXPECT_EQ(error_of("rules:\n  - name: r\n    key: [a]\n"), "u.yaml:2: rules[0]: missing required key 'table'");
    EXPECT_EQ(error_of("rules:\n  - table: t\n"), "u.yaml:2: rules[0]: missing required key 'name'");
    EXPECT_EQ(error_of("rules:\n  - { name: r, table: t, soft_delete: { column: d, live: 0 } }\n"),
              "u.yaml:2: rules[0]: missing required key 'key'");
    EXPECT_EQ(error_of("rules:\n  - { name: r, table: t, key: [a] }\n"),
              "u.yaml:2: rules[0]: missing required key 'soft_delete'");
    EXPECT_EQ(error_of("rules:\n  - { name: r, table: t, key: [a], soft_delete: { column: d } }\n"),
              "u.yaml:2: rules[0].soft_delete: missing required key 'live'");
}

TEST(ConfigErrors, RuleNamesMustBeNonEmptyWordCharacters) {
    EXPECT_EQ(error_of("rules:\n  - name: ''\n"), "u.yaml:2: rules[0].name: must not be empty");
    EXPECT_EQ(error_of("rules:\n  - name:\n"), "u.yaml:2: rules[0].name: expected a string, got an empty value");
    EXPECT_EQ(error_of("rules:\n  - name: product-key\n"),
              "u.yaml:2: rules[0].name: 'product-key' may only contain letters, digits and '_'");
    EXPECT_EQ(error_of("rules:\n  - name: " + std::string(65, 'n') + "\n"),
              "u.yaml:2: rules[0].name: '" + std::string(65, 'n') + "' is longer than 64 characters");
}

TEST(ConfigErrors, BadTableNames) {
    const auto table_error = [](const std::string& table) {
        return error_of("rules:\n  - { name: r, table: '" + table + "' }\n");
    };
    EXPECT_EQ(table_error("a.b.c"),
              "u.yaml:2: rules[0].table: 'a.b.c' is not a table name: expected schema.table or table, not more "
              "parts");
    EXPECT_EQ(table_error("my-db.t"),
              "u.yaml:2: rules[0].table: 'my-db.t' is not a table name: unexpected '-' after a name; quote such "
              "names with backticks");
    EXPECT_EQ(table_error("`my-db.t"), "u.yaml:2: rules[0].table: '`my-db.t' is not a table name: unterminated "
                                       "backtick quote");
    EXPECT_EQ(table_error("shop."), "u.yaml:2: rules[0].table: 'shop.' is not a table name: empty name");
    EXPECT_EQ(table_error("``"), "u.yaml:2: rules[0].table: '``' is not a table name: empty name ``");
    EXPECT_EQ(table_error("123"),
              "u.yaml:2: rules[0].table: '123' is not a table name: a name made only of digits must be quoted "
              "with backticks");
}

TEST(ConfigErrors, KeyMustBeNonEmptyListOfUniqueColumns) {
    const auto key_error = [](const std::string& key) {
        return error_of("rules:\n  - name: r\n    table: t\n    key: " + key + "\n");
    };
    EXPECT_EQ(key_error("[]"), "u.yaml:4: rules[0].key: must not be an empty list");
    EXPECT_EQ(key_error("name"), "u.yaml:4: rules[0].key: expected a list, got a scalar");
    EXPECT_EQ(key_error("[name, Name]"), "u.yaml:4: rules[0].key[1]: column 'Name' appears twice in the key");
    EXPECT_EQ(key_error("[name, '']"), "u.yaml:4: rules[0].key[1]: must not be empty");
    EXPECT_EQ(key_error("[name, [a]]"), "u.yaml:4: rules[0].key[1]: expected a string, got a list");
    EXPECT_EQ(error_of("rules:\n  - name: r\n    table: t\n    key:\n      - a\n      - a b\n"),
              "u.yaml:6: rules[0].key[1]: 'a b' is not a column name: unexpected ' ' after a name; quote such "
              "names with backticks");
}

TEST(ConfigErrors, SoftDeleteColumnMustNotBeAKeyColumn) {
    EXPECT_EQ(error_of("rules:\n  - { name: r, table: t, key: [a, b],\n      soft_delete: { column: B, live: 0 } }\n"),
              "u.yaml:3: rules[0].soft_delete.column: 'B' is one of the key columns");
}

TEST(ConfigErrors, SoftDeleteLiveMustBeScalarOrNull) {
    EXPECT_EQ(error_of(rule_with("").replace(rule_with("").find("live: 0"), 7, "live: [0]")),
              "u.yaml:5: rules[0].soft_delete.live: expected a value or null, got a list");
}

TEST(ConfigErrors, DedupTableOnlyWithModeDedup) {
    EXPECT_EQ(error_of(rule_with("    dedup_table: shop.keys\n")),
              "u.yaml:6: rules[0].dedup_table: is only used with mode dedup (this rule's mode is serialize)");
    EXPECT_EQ(error_of(rule_with("    mode: dedup\n    dedup_table: shop.product\n")),
              "u.yaml:7: rules[0].dedup_table: must not be the rule's own table");
}

TEST(ConfigErrors, DefaultDedupTableNameTooLong) {
    const std::string table(60, 't');
    EXPECT_EQ(error_of("rules:\n  - { name: r, table: " + table + ", key: [k], soft_delete: { column: d, live: 0 },"
                       " mode: dedup }\n"),
              "u.yaml:2: rules[0]: the default dedup_table '" + table +
                  "__uniq' is longer than 64 characters; set dedup_table");
}

TEST(ConfigErrors, ConflictingRules) {
    const std::string first = "rules:\n  - { name: a, table: s.t, key: [x, y], soft_delete: { column: d, live: 0 } }\n";
    EXPECT_EQ(error_of(first + "  - { name: A, table: s.u, key: [x], soft_delete: { column: d, live: 0 } }\n"),
              "u.yaml:3: rules[1]: name 'A' is already used by rules[0] ('a')");
    EXPECT_EQ(error_of(first + "  - { name: b, table: s.t, key: [Y, x], soft_delete: { column: e, live: 1 } }\n"),
              "u.yaml:3: rules[1]: same table and key as rules[0] ('a')");
    EXPECT_EQ(error_of("rules:\n"
                       "  - { name: c, table: s.t, key: [x], soft_delete: { column: d, live: 0 }, mode: dedup,"
                       " dedup_table: s.k }\n"
                       "  - { name: e, table: s.v, key: [x], soft_delete: { column: d, live: 0 }, mode: dedup,"
                       " dedup_table: s.k }\n"),
              "u.yaml:3: rules[1]: dedup_table 's.k' is also used by rules[0] ('c')");
}

TEST(ConfigErrors, BackendSocketOrHostNotBoth) {
    EXPECT_EQ(error_of("backend:\n  unix_socket: /tmp/s\n  port: 3306\n"),
              "u.yaml:2: backend: give either unix_socket or host and port, not both");
    EXPECT_EQ(error_of("backend: { host: '' }"), "u.yaml:1: backend.host: must not be empty");
}

TEST(ConfigErrors, ClientTlsCertAndKeyGoTogether) {
    const std::string pem = data_dir + "/server.pem";
    EXPECT_EQ(error_of("client_tls:\n  cert: " + pem + "\n"), "u.yaml:2: client_tls: cert is given without key");
    EXPECT_EQ(error_of("client_tls:\n  mode: preferred\n  key: " + pem + "\n"),
              "u.yaml:2: client_tls: key is given without cert");
    EXPECT_EQ(error_of("client_tls:\n  mode: required\n"), "u.yaml:2: client_tls: mode required needs cert and key");
    EXPECT_EQ(error_of("client_tls:\n  mode: disabled\n  cert: " + pem + "\n"),
              "u.yaml:3: client_tls.cert: is not used when mode is disabled; remove it or choose another mode");
}

TEST(ConfigErrors, TlsFilesMustBeReadable) {
    EXPECT_EQ(error_of("client_tls: { cert: /nonexistent/server.pem, key: /nonexistent/server.key }"),
              "u.yaml:1: client_tls.cert: cannot read '/nonexistent/server.pem': No such file or directory");
    EXPECT_EQ(error_of("backend_tls:\n  mode: verify_ca\n  ca: " + data_dir + "\n"),
              "u.yaml:3: backend_tls.ca: '" + data_dir + "' is a directory, not a file");
}

TEST(ConfigErrors, BackendTlsVerifyCaNeedsCa) {
    EXPECT_EQ(error_of("backend_tls:\n  mode: verify_ca\n"), "u.yaml:2: backend_tls: mode verify_ca needs ca");
    EXPECT_EQ(error_of("backend_tls: { ca: x.pem }"),
              "u.yaml:1: backend_tls.ca: is not used when mode is disabled; remove it or choose another mode");
}

TEST(ConfigErrors, PasswordEnvMustBeSetAndNotCombinedWithPassword) {
    ::unsetenv("UNIQGATE_TEST_UNSET_VARIABLE");
    EXPECT_EQ(error_of("control:\n  user: u\n  password_env: UNIQGATE_TEST_UNSET_VARIABLE\n"),
              "u.yaml:3: control.password_env: environment variable 'UNIQGATE_TEST_UNSET_VARIABLE' is not set");
    EXPECT_EQ(error_of("control: { password: a, password_env: HOME }"),
              "u.yaml:1: control: give either password or password_env, not both");
    EXPECT_EQ(error_of("control: { user: '' }"), "u.yaml:1: control.user: must not be empty");
}

TEST(ConfigErrors, LockTimeoutMustBePositive) {
    EXPECT_EQ(error_of("lock: { timeout_ms: 0 }"), "u.yaml:1: lock.timeout_ms: '0' is out of range 1..86400000");
    EXPECT_EQ(error_of("lock: { timeout_ms: -5 }"), "u.yaml:1: lock.timeout_ms: '-5' is out of range 1..86400000");
    EXPECT_EQ(error_of("lock: { timeout_ms: 5s }"), "u.yaml:1: lock.timeout_ms: '5s' is not a whole number");
}

TEST(ConfigErrors, UnreadableConfigFileIsAConfigError) {
    EXPECT_THROW(load_config_file("/nonexistent/uniqgate.yaml"), ConfigError);
    try {
        load_config_file(data_dir);
    } catch (const ConfigError& error) {
        EXPECT_EQ(std::string(error.what()), data_dir + ": is a directory, not a configuration file");
    }
}

TEST(ConfigErrors, FileErrorsNameTheFile) {
    try {
        load_config_file(data_dir + "/bad_mode.yaml");
        FAIL() << "no error";
    } catch (const ConfigError& error) {
        EXPECT_EQ(std::string(error.what()),
                  data_dir + "/bad_mode.yaml:12: rules[0].mode: 'dedupe' is not one of serialize, dedup, observe");
    }
}

}  // namespace
}  // namespace uniqgate::config
