// Any input gives a Config or a ConfigError, never a crash or another exception
// (a cheap stand-in for a fuzz target; run it under ASan+UBSan).

#include "config/ConfigLoader.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

namespace uniqgate::config {
namespace {

std::string read_file(const std::string& path) {
    std::ifstream file(path);
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

void expect_config_or_config_error(const std::string& yaml) {
    try {
        load_config_string(yaml, "fuzz.yaml");
    } catch (const ConfigError&) {
    } catch (const std::exception& other) {
        ADD_FAILURE() << "not a ConfigError: " << other.what() << "\ninput:\n" << yaml;
    }
}

TEST(ConfigRobustness, EveryPrefixOfAFullConfig) {
    ::setenv("UNIQGATE_TEST_FULL_PASSWORD", "s3cret", 1);
    const std::string text = read_file(std::string(UNIQGATE_TEST_DATA_DIR) + "/full.yaml");
    ASSERT_FALSE(text.empty());
    for (std::size_t size = 0; size <= text.size(); ++size) {
        expect_config_or_config_error(text.substr(0, size));
    }
}

TEST(ConfigRobustness, RandomByteMutations) {
    ::setenv("UNIQGATE_TEST_FULL_PASSWORD", "s3cret", 1);
    const std::string text = read_file(std::string(UNIQGATE_TEST_DATA_DIR) + "/full.yaml");
    const std::string alphabet = "{}[]:,-'\"`~#&*!|>%@\t\n .0123456789abc\x80\xff";
    std::mt19937 random(12345);  // fixed seed: failures reproduce
    for (int round = 0; round < 2000; ++round) {
        std::string mutated = text;
        for (int edit = 0; edit < 3; ++edit) {
            const std::size_t at = random() % mutated.size();
            mutated[at] = alphabet[random() % alphabet.size()];
        }
        expect_config_or_config_error(mutated);
    }
}

TEST(ConfigRobustness, DeepNestingAndOddDocuments) {
    expect_config_or_config_error(std::string(100000, '['));
    expect_config_or_config_error(std::string(100000, '-') + " x");
    std::string deep;
    for (int i = 0; i < 5000; ++i) {
        deep += "{a: ";
    }
    expect_config_or_config_error(deep);
    expect_config_or_config_error(std::string("listen: \0x", 10));
    expect_config_or_config_error("a: &x [*x]");
    expect_config_or_config_error("rules: &r [*r]");
    expect_config_or_config_error("rules:\n  - &a {name: r, table: t, key: [k], soft_delete: {column: d, live: 0}}\n  - *a\n");
    expect_config_or_config_error("!!binary listen: x");
    expect_config_or_config_error("%YAML 9.9\n---\nlisten: x:1\n");
}

}  // namespace
}  // namespace uniqgate::config
