#include "proxy/Metrics.hpp"

#include "proxy/BufferPool.hpp"

#include <fmt/format.h>

namespace uniqgate::proxy {

namespace {
void append_metric(std::string& out, const char* name, const char* type, const char* help, long long value) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} {2}\n{0} {3}\n", name, help, type, value);
}
}  // namespace

std::string Metrics::to_prometheus() const {
    std::string out;
    auto load = [](const auto& counter) { return static_cast<long long>(counter.load(std::memory_order_relaxed)); };
    append_metric(out, "uniqgate_connections_accepted_total", "counter", "Client connections accepted.",
                  load(connections_accepted));
    append_metric(out, "uniqgate_connections_active", "gauge", "Client connections open now.",
                  load(connections_active));
    append_metric(out, "uniqgate_connections_failed_total", "counter",
                  "Client connections that ended before authentication completed.", load(connections_failed));
    append_metric(out, "uniqgate_backend_connect_errors_total", "counter", "Failed connections to the backend.",
                  load(backend_connect_errors));
    append_metric(out, "uniqgate_client_protocol_errors_total", "counter",
                  "Client connections closed for malformed protocol data.", load(client_protocol_errors));
    append_metric(out, "uniqgate_commands_total", "counter", "Client commands relayed.", load(commands));
    append_metric(out, "uniqgate_bytes_client_to_backend_total", "counter", "Bytes relayed from clients.",
                  load(bytes_client_to_backend));
    append_metric(out, "uniqgate_bytes_backend_to_client_total", "counter", "Bytes relayed to clients.",
                  load(bytes_backend_to_client));
    append_metric(out, "uniqgate_duplicates_refused_total", "counter",
                  "Rows refused (1062) or skipped (on_duplicate: ignore) because their key is live.",
                  load(duplicates_refused));
    append_metric(out, "uniqgate_observed_duplicates_total", "counter",
                  "Would-be duplicate rows let through by rules in observe mode.", load(observed_duplicates));
    append_metric(out, "uniqgate_statements_refused_total", "counter",
                  "Statements on rule tables refused because uniqgate cannot check them.", load(statements_refused));
    append_metric(out, "uniqgate_batched_checks_total", "counter",
                  "Serialize existence checks read on a control connection together with other sessions' checks.",
                  load(batched_checks));
    append_metric(out, "uniqgate_batched_check_queries_total", "counter",
                  "Queries that read the batched existence checks (checks / queries = mean batch size).",
                  load(batched_check_queries));
    append_metric(out, "uniqgate_one_round_trip_inserts_total", "counter",
                  "Serialize INSERTs (text or prepared) whose existence check went to the server with the "
                  "INSERT itself.",
                  load(one_round_trip_inserts));
    append_metric(out, "uniqgate_receive_buffer_bytes", "gauge",
                  "Memory held by receive buffers: pooled blocks in use by sessions with bytes in flight or kept "
                  "idle for reuse, and larger buffers of sessions relaying big packets.",
                  static_cast<long long>(BufferPool::bytes_allocated()));
    return out;
}

}  // namespace uniqgate::proxy
