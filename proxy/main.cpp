// uniqgate: a MySQL wire-protocol proxy that keeps business keys unique among
// the live rows of soft-deleted tables. See README.md and docs/.
#include "config/ConfigLoader.hpp"
#include "proxy/CheckCommand.hpp"
#include "proxy/MigrateCommand.hpp"
#include "proxy/Server.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>

#include <unistd.h>

namespace {

constexpr const char* kVersion = "0.1.0";

int run_proxy(const std::string& config_path, unsigned threads) {
    const auto config = uniqgate::config::load_config_file(config_path);
    // A dedup rule without its dedup table would let duplicates through: refuse to start.
    const auto problems = uniqgate::proxy::dedup_table_problems(config, config_path);
    for (const auto& problem : problems) std::cerr << "uniqgate: " << problem << "\n";
    if (!problems.empty()) return 2;
    uniqgate::proxy::Server server(config, threads);
    server.run();
    return 0;
}

int run_migrate(const std::string& config_path) {
    uniqgate::proxy::MigrateOptions options;
    options.progress = &std::cerr;
    options.progress_on_terminal = isatty(STDERR_FILENO) != 0;
    return uniqgate::proxy::run_migrate(uniqgate::config::load_config_file(config_path), std::cout, options);
}

int run_validate(const std::string& config_path) {
    const auto config = uniqgate::config::load_config_file(config_path);
    std::cout << uniqgate::config::describe(config);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "uniqgate - a MySQL/MariaDB wire-protocol proxy that guarantees no two live rows of a soft-deleted table "
        "share a business key.\n\nRun the proxy:  uniqgate --config uniqgate.yaml"};
    app.set_version_flag("--version", kVersion);
    std::string config_path;
    unsigned threads = 1;
    std::string log_level = "info";
    app.add_option("-c,--config", config_path, "YAML configuration file (see docs/config.md)");
    app.add_option("--threads", threads,
                   "event-loop threads serving client sessions (default 1: on small machines one loop uses the "
                   "least CPU per query)")
        ->check(CLI::Range(1U, 256U));
    app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));

    auto* validate = app.add_subcommand("validate", "Parse and validate the configuration, print the effective one");
    validate->add_option("-c,--config", config_path, "YAML configuration file")->required();

    auto* check = app.add_subcommand(
        "check", "Report live duplicates per rule (and dedup-table drift); exit 0 clean, 1 found, 2 error");
    check->add_option("-c,--config", config_path, "YAML configuration file")->required();

    auto* migrate = app.add_subcommand(
        "migrate",
        "Create and backfill the dedup tables of mode-dedup rules (progress on stderr; safe while writes continue "
        "through uniqgate, harmless to re-run); exit 0 done, 1 refused because of live duplicates, 2 error");
    migrate->add_option("-c,--config", config_path, "YAML configuration file")->required();

    CLI11_PARSE(app, argc, argv);
    spdlog::set_level(spdlog::level::from_str(log_level));
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

    try {
        if (*validate) return run_validate(config_path);
        if (*check) return uniqgate::proxy::run_check(uniqgate::config::load_config_file(config_path), std::cout);
        if (*migrate) return run_migrate(config_path);
        if (config_path.empty()) {
            std::cerr << "uniqgate: --config is required\n" << app.help();
            return 2;
        }
        return run_proxy(config_path, threads);
    } catch (const uniqgate::config::ConfigError& e) {
        std::cerr << "uniqgate: configuration error: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "uniqgate: " << e.what() << "\n";
        return 1;
    }
}
