// ControlConnection against the sandbox MariaDB: results, errors as values, escaping, the
// connection modes (TCP, unix socket, TLS per backend_tls.mode) and connect failures.
#include "Sandbox.hpp"

#include "proxy/ControlConnection.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <poll.h>

#include <chrono>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

namespace uniqgate::test {
namespace {

using proxy::ControlConnection;
using proxy::ControlConnectionError;
using proxy::QueryResult;

std::string describe(const QueryResult& result) { return result.describe_error(); }

TEST(ControlConnection, QueryReturnsRowsWithNulls) {
    auto conn = ControlConnection::connect(Sandbox::get().config());
    const auto result = conn.query("SELECT 1, NULL, 'a\\0b' UNION ALL SELECT 2, 'x', ''");
    ASSERT_TRUE(result.ok) << describe(result);
    ASSERT_EQ(result.rows.size(), 2U);
    EXPECT_EQ(result.rows[0][0], "1");
    EXPECT_FALSE(result.rows[0][1].has_value());
    EXPECT_EQ(result.rows[0][2], std::string("a\0b", 3));  // binary-safe
    EXPECT_EQ(result.rows[1][1], "x");
    EXPECT_EQ(result.rows[1][2], "");
}

TEST(ControlConnection, ReportsAffectedRows) {
    auto conn = ControlConnection::connect(Sandbox::get().config());
    const auto create = conn.query("CREATE TEMPORARY TABLE shop.ugchk_ctl_affected (id INT)");
    ASSERT_TRUE(create.ok) << describe(create);
    const auto insert = conn.query("INSERT INTO shop.ugchk_ctl_affected VALUES (1), (2), (3)");
    ASSERT_TRUE(insert.ok) << describe(insert);
    EXPECT_EQ(insert.affected_rows, 3U);
    EXPECT_TRUE(insert.rows.empty());
}

TEST(ControlConnection, SqlErrorIsAValue) {
    auto conn = ControlConnection::connect(Sandbox::get().config());
    const auto result = conn.query("SELECT * FROM shop.no_such_table_ctl");
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.error_code, 1146U);
    EXPECT_EQ(result.sqlstate, "42S02");
    EXPECT_NE(result.message.find("no_such_table_ctl"), std::string::npos) << result.message;
    EXPECT_EQ(result.describe_error().rfind("ERROR 1146 (42S02): ", 0), 0U) << result.describe_error();
    EXPECT_TRUE(conn.query("SELECT 1").ok) << "the connection stays usable after an SQL error";
}

TEST(ControlConnection, EscapedStringsAndQuotedIdentifiersRoundTrip) {
    auto conn = ControlConnection::connect(Sandbox::get().config());
    const std::string value = "it's a \\ \"test\"\n\x1a";
    const auto result = conn.query("SELECT " + conn.quote_string(value) + " AS " +
                                   ControlConnection::quote_identifier("we`ird name"));
    ASSERT_TRUE(result.ok) << describe(result);
    EXPECT_EQ(result.rows.at(0).at(0), value);
    EXPECT_EQ(ControlConnection::quote_identifier("a`b"), "`a``b`");
    EXPECT_EQ(ControlConnection::quote_table({"shop", "product"}), "`shop`.`product`");
    EXPECT_EQ(ControlConnection::quote_table({"", "product"}), "`product`");
}

TEST(ControlConnection, SetReadCommittedChangesTheSessionIsolation) {
    auto conn = ControlConnection::connect(Sandbox::get().config());
    ASSERT_TRUE(conn.set_read_committed().ok);
    const auto result = conn.query("SELECT @@SESSION.tx_isolation");
    ASSERT_TRUE(result.ok) << describe(result);
    EXPECT_EQ(result.rows.at(0).at(0), "READ-COMMITTED");
}

// The wire form of a binary-protocol value, little endian.
std::string wire(std::initializer_list<int> bytes) {
    std::string out;
    for (const int b : bytes) out += static_cast<char>(b);
    return out;
}

TEST(ControlConnection, ExecuteBoundTakesValuesAsTheBinaryProtocolCarriesThem) {
    auto conn = ControlConnection::connect(Sandbox::get().config());
    using proxy::BoundParameter;
    const std::vector<BoundParameter> params = {
        {253, false, std::string("it's \\ a\0b", 10)},                   // VAR_STRING, quotes and a NUL
        {8, false, wire({0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})},  // LONGLONG -2
        {8, true, wire({0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})},   // unsigned: 2^64 - 2
        {12, false, wire({0xea, 0x07, 11, 25, 18, 30, 5})},                 // DATETIME 2026-11-25 18:30:05
        {10, false, wire({0xea, 0x07, 2, 28})},                             // DATE
        {11, false, wire({1, 1, 0, 0, 0, 2, 3, 4})},                        // TIME -26:03:04
        {5, false, wire({0, 0, 0, 0, 0, 0, 0xf8, 0x3f})},                   // DOUBLE 1.5
        {246, false, std::string("-12.50")},                                // NEWDECIMAL
        {253, false, std::nullopt},                                         // NULL
        {15, false, std::string("varchar")},                                // VARCHAR, as Connector/J sends strings
        {252, false, std::string("blob\xff")},                             // BLOB
    };
    const std::string sql =
        "SELECT CAST(? AS BINARY), CAST(? AS BINARY), CAST(? AS BINARY), CAST(? AS BINARY), CAST(? AS BINARY), "
        "CAST(? AS BINARY), CAST(? AS BINARY), CAST(? AS BINARY), CAST(? AS BINARY), CAST(? AS BINARY), "
        "CAST(? AS BINARY)";
    for (int round = 0; round < 2; ++round) {  // the second time from the connection's prepared statements
        const auto result = conn.execute_bound(sql, params);
        ASSERT_TRUE(result.ok) << describe(result);
        ASSERT_EQ(result.rows.size(), 1U);
        const auto& row = result.rows.front();
        ASSERT_EQ(row.size(), 11U);
        EXPECT_EQ(row[0], std::string("it's \\ a\0b", 10));
        EXPECT_EQ(row[1], "-2");
        EXPECT_EQ(row[2], "18446744073709551614");
        EXPECT_EQ(row[3], "2026-11-25 18:30:05");
        EXPECT_EQ(row[4], "2026-02-28");
        EXPECT_EQ(row[5], "-26:03:04");
        EXPECT_EQ(row[6], "1.5");
        EXPECT_EQ(row[7], "-12.50");
        EXPECT_FALSE(row[8].has_value());
        EXPECT_EQ(row[9], "varchar");
        EXPECT_EQ(row[10], "blob\xff");
    }
    const auto wrong = conn.execute_bound("SELECT ?", {});
    EXPECT_FALSE(wrong.ok) << "one parameter, no value";
    const auto bad = conn.execute_bound("SELEC ?", params);
    EXPECT_FALSE(bad.ok);
    EXPECT_EQ(bad.error_code, 1064U) << describe(bad);
}

// Drives a stepped call to its end the way an event loop would, with poll(); `waits`
// counts how often it had to wait.
QueryResult finish_stepped(ControlConnection& conn, int wait, int& waits) {
    while (wait != 0) {
        ++waits;
        pollfd watched{conn.socket(), 0, 0};
        if ((wait & ControlConnection::kRead) != 0) watched.events |= POLLIN;
        if ((wait & ControlConnection::kWrite) != 0) watched.events |= POLLOUT;
        const int timeout = (wait & ControlConnection::kTimeout) != 0 ? static_cast<int>(conn.timeout_ms()) : 10000;
        const int ready = ::poll(&watched, 1, timeout);
        int happened = ControlConnection::kTimeout;
        if (ready > 0) {
            happened = 0;
            if ((watched.revents & (POLLIN | POLLHUP | POLLERR)) != 0) happened |= ControlConnection::kRead;
            if ((watched.revents & POLLOUT) != 0) happened |= ControlConnection::kWrite;
        }
        wait = conn.resume(happened);
    }
    return conn.take_result();
}

TEST(ControlConnection, SteppedCallsWaitForTheServerInsteadOfBlocking) {
    for (const char* tls : {"{ mode: disabled }", "{ mode: required }"}) {
        SCOPED_TRACE(tls);
        auto conn = ControlConnection::connect(Sandbox::get().config("rules: []\n", tls), true);
        // The answer cannot be there when the call starts: it must come back waiting, not done.
        int waits = 0;
        const int first = conn.begin_query("SELECT SLEEP(0.05), NULL, 'x'");
        EXPECT_NE(first & ControlConnection::kRead, 0);
        const auto slept = finish_stepped(conn, first, waits);
        ASSERT_TRUE(slept.ok) << describe(slept);
        EXPECT_GE(waits, 1);
        ASSERT_EQ(slept.rows.size(), 1U);
        EXPECT_EQ(slept.rows[0][0], "0");
        EXPECT_FALSE(slept.rows[0][1].has_value());
        EXPECT_EQ(slept.rows[0][2], "x");

        const auto missing = finish_stepped(conn, conn.begin_query("SELECT * FROM shop.no_such_table_ctl"), waits);
        EXPECT_EQ(missing.error_code, 1146U) << describe(missing);

        using proxy::BoundParameter;
        const std::vector<BoundParameter> params = {{253, false, std::string("it's")},
                                                    {8, false, wire({2, 0, 0, 0, 0, 0, 0, 0})},
                                                    {253, false, std::nullopt}};
        for (int round = 0; round < 2; ++round) {  // prepared, then from the connection's statements
            const std::string sql = "SELECT CAST(? AS BINARY), CAST(? AS BINARY), CAST(? AS BINARY)";
            const auto bound = finish_stepped(conn, conn.begin_execute_bound(sql, params), waits);
            ASSERT_TRUE(bound.ok) << describe(bound);
            ASSERT_EQ(bound.rows.size(), 1U);
            EXPECT_EQ(bound.rows[0][0], "it's");
            EXPECT_EQ(bound.rows[0][1], "2");
            EXPECT_FALSE(bound.rows[0][2].has_value());
        }
        const auto too_few = finish_stepped(conn, conn.begin_execute_bound("SELECT ?, ?", {params[0]}), waits);
        EXPECT_EQ(too_few.error_code, 1210U) << describe(too_few);
        const auto bad = finish_stepped(conn, conn.begin_execute_bound("SELEC ?", params), waits);
        EXPECT_EQ(bad.error_code, 1064U) << describe(bad);
        // The blocking calls still work on the same connection between stepped ones.
        EXPECT_TRUE(conn.query("SELECT 1").ok);
        EXPECT_TRUE(finish_stepped(conn, conn.begin_query("DO 1"), waits).ok);
    }
}

TEST(ControlConnection, ASteppedCallWhoseConnectionIsKilledReportsItLost) {
    auto conn = ControlConnection::connect(Sandbox::get().config(), true);
    auto killer = ControlConnection::connect(Sandbox::get().config());
    const auto id = conn.query("SELECT CONNECTION_ID()");
    ASSERT_TRUE(id.ok) << describe(id);
    int waits = 0;
    const int wait = conn.begin_query("SELECT SLEEP(5)");
    ASSERT_NE(wait, 0);
    ASSERT_TRUE(killer.query("KILL CONNECTION " + id.rows.at(0).at(0).value()).ok);
    const auto killed = finish_stepped(conn, wait, waits);
    EXPECT_FALSE(killed.ok);
    EXPECT_TRUE(killed.connection_lost()) << describe(killed);
    const auto after = finish_stepped(conn, conn.begin_query("SELECT 1"), waits);
    EXPECT_TRUE(after.connection_lost()) << describe(after);
    QueryResult syntax;
    syntax.error_code = 1064;
    EXPECT_FALSE(syntax.connection_lost());
}

TEST(ControlConnection, DroppingOneWithAStepMidwayDoesNotWaitForTheServer) {
    // A connection given up while a stepped execute waits (its event loop's wait failed)
    // is closed at once, not after the server finishes the statement.
    using proxy::BoundParameter;
    const std::vector<BoundParameter> three_seconds = {{8, false, wire({3, 0, 0, 0, 0, 0, 0, 0})}};
    auto conn = std::make_unique<ControlConnection>(ControlConnection::connect(Sandbox::get().config(), true));
    int waits = 0;
    const std::vector<BoundParameter> no_time = {{8, false, wire({0, 0, 0, 0, 0, 0, 0, 0})}};
    const std::string sql = "SELECT CAST(SLEEP(?) AS BINARY)";
    ASSERT_TRUE(finish_stepped(*conn, conn->begin_execute_bound(sql, no_time), waits).ok);  // prepared, kept
    ASSERT_NE(conn->begin_execute_bound(sql, three_seconds), 0);
    const auto started = std::chrono::steady_clock::now();
    conn.reset();
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
}

TEST(ControlConnection, IsMoveOnly) {
    auto first = ControlConnection::connect(Sandbox::get().config());
    ControlConnection second = std::move(first);
    EXPECT_TRUE(second.query("SELECT 1").ok);
    EXPECT_FALSE(first.query("SELECT 1").ok);  // NOLINT(bugprone-use-after-move): pinned behaviour
    static_assert(!std::is_copy_constructible_v<ControlConnection>);
}

TEST(ControlConnection, ConnectsOverTheUnixSocket) {
    auto config = Sandbox::get().config();
    config.backend.unix_socket = Sandbox::get().socket;
    auto conn = ControlConnection::connect(config);
    EXPECT_EQ(conn.endpoint(), "unix socket " + Sandbox::get().socket);
    const auto result = conn.query("SELECT CURRENT_USER()");
    ASSERT_TRUE(result.ok) << describe(result);
    EXPECT_EQ(result.rows.at(0).at(0)->rfind("uniqgate@", 0), 0U);
}

TEST(ControlConnection, TlsDisabledIsPlain) {
    auto conn = ControlConnection::connect(Sandbox::get().config());
    EXPECT_EQ(conn.tls_cipher(), "");
}

TEST(ControlConnection, TlsPreferredAndRequiredUseTls) {
    for (const char* mode : {"{ mode: preferred }", "{ mode: required }"}) {
        auto conn = ControlConnection::connect(Sandbox::get().config("rules: []\n", mode));
        EXPECT_NE(conn.tls_cipher(), "") << mode;
    }
}

TEST(ControlConnection, TlsVerifyCaAcceptsTheSandboxCa) {
    auto conn = ControlConnection::connect(
        Sandbox::get().config("rules: []\n", "{ mode: verify_ca, ca: " + Sandbox::get().ssl_ca + " }"));
    EXPECT_NE(conn.tls_cipher(), "");
}

TEST(ControlConnection, TlsVerifyCaRejectsAnotherCa) {
    // The system bundle does not hold the sandbox's self-made CA.
    const auto config = Sandbox::get().config("rules: []\n", "{ mode: verify_ca, ca: /etc/ssl/certs/ca-certificates.crt }");
    try {
        ControlConnection::connect(config);
        FAIL() << "connected although the server's certificate is not signed by the given CA";
    } catch (const ControlConnectionError& e) {
        EXPECT_THAT(e.what(), ::testing::HasSubstr("certificate")) << e.what();
    }
}

TEST(ControlConnection, ConnectFailureNamesEndpointAndUser) {
    auto config = Sandbox::get().config();
    config.control.password = "wrong";
    try {
        ControlConnection::connect(config);
        FAIL() << "connected with a wrong password";
    } catch (const ControlConnectionError& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("127.0.0.1:" + Sandbox::get().port), std::string::npos) << message;
        EXPECT_NE(message.find("'uniqgate'"), std::string::npos) << message;
        EXPECT_NE(message.find("1045"), std::string::npos) << message;
    }
}

}  // namespace
}  // namespace uniqgate::test
