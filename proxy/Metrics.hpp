#pragma once
// Process-wide counters, exported by the admin server in Prometheus text format.
// Relaxed atomics: they are statistics, not synchronisation.

#include <atomic>
#include <cstdint>
#include <string>

namespace uniqgate::proxy {

struct Metrics {
    std::atomic<std::uint64_t> connections_accepted{0};
    std::atomic<std::int64_t> connections_active{0};
    std::atomic<std::uint64_t> connections_failed{0};  // handshake or backend connect failed
    std::atomic<std::uint64_t> backend_connect_errors{0};
    std::atomic<std::uint64_t> client_protocol_errors{0};
    std::atomic<std::uint64_t> commands{0};
    std::atomic<std::uint64_t> bytes_client_to_backend{0};
    std::atomic<std::uint64_t> bytes_backend_to_client{0};
    std::atomic<std::uint64_t> duplicates_refused{0};   // serialize: rows answered 1062 or skipped (ignore)
    std::atomic<std::uint64_t> observed_duplicates{0};  // observe: would-be duplicates let through
    std::atomic<std::uint64_t> statements_refused{0};   // rule statements uniqgate cannot check
    std::atomic<std::uint64_t> batched_checks{0};         // serialize existence checks read by CheckBatcher
    std::atomic<std::uint64_t> batched_check_queries{0};  // ... and the queries that read them
    std::atomic<std::uint64_t> one_round_trip_inserts{0};  // serialize: check and INSERT in one round trip

    [[nodiscard]] std::string to_prometheus() const;
};

}  // namespace uniqgate::proxy
