#pragma once
// The sandbox MariaDB the CTest fixture `it.fixture.mariadb_start` runs, as the tests of
// `uniqgate check` see it: its port, socket and CA from $UG_IT_STATE/mariadb/env (written
// by scripts/sandbox-mariadb.sh), overridable with UG_DIRECT_PORT / UG_SOCKET / UG_SSL_CA
// like every integration test (tests/integration/harness/ug.py).

#include "config/ConfigLoader.hpp"
#include "proxy/ControlConnection.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

namespace uniqgate::test {

struct Sandbox {
    std::string port;
    std::string socket;
    std::string ssl_ca;

    static const Sandbox& get() {
        static const Sandbox sandbox = load();
        return sandbox;
    }

    // A config with the control user on TCP and the given `rules:` block (YAML, may be empty).
    // `backend_tls` is a YAML flow map, e.g. "{ mode: disabled }".
    config::Config config(const std::string& rules_yaml = "rules: []\n",
                          const std::string& backend_tls = "{ mode: disabled }") const {
        return config::load_config_string("backend: { host: 127.0.0.1, port: " + port + " }\n" +
                                          "backend_tls: " + backend_tls + "\n" +
                                          "control: { user: uniqgate, password: uniqgate_pw }\n" + rules_yaml);
    }

private:
    static std::string env_or(const char* name, const std::string& fallback) {
        const char* value = std::getenv(name);
        return value != nullptr && *value != '\0' ? value : fallback;
    }

    static Sandbox load() {
        std::map<std::string, std::string> values;
        if (const char* state = std::getenv("UG_IT_STATE")) {
            std::ifstream file(std::string(state) + "/mariadb/env");
            for (std::string line; std::getline(file, line);) {
                const auto eq = line.find('=');
                if (eq != std::string::npos) values[line.substr(0, eq)] = line.substr(eq + 1);
            }
        }
        Sandbox sandbox{env_or("UG_DIRECT_PORT", values["port"]), env_or("UG_SOCKET", values["socket"]),
                        env_or("UG_SSL_CA", values["ssl_ca"])};
        if (sandbox.port.empty()) {
            ADD_FAILURE() << "sandbox MariaDB not found: run through ctest (fixture it.fixture.mariadb_start), "
                             "or set UG_DIRECT_PORT";
        }
        return sandbox;
    }
};

}  // namespace uniqgate::test
