// Connection-phase messages on golden packets (data/connection-phase.txt) and
// hand-made edge cases. The proxy re-encodes the server greeting after changing
// capability bits, so encode(decode(x)) == x on real packets is pinned here.
#include "protocol/Messages.hpp"

#include "TestSupport.hpp"

#include <gtest/gtest.h>

namespace uniqgate::protocol {
namespace {

using test::decode_every_prefix;
using test::from_hex;

const std::map<std::string, Bytes>& golden() {
    static const auto payloads = test::load_named_payloads("connection-phase.txt");
    return payloads;
}

const Bytes& packet(const std::string& name) { return golden().at(name); }

TEST(InitialHandshake, DecodesMariadbGreetingWithExtendedCapabilities) {
    const auto h = decode_initial_handshake(packet("mariadb_greeting"));
    ASSERT_TRUE(h);
    EXPECT_EQ(h.value().protocol_version, 10);
    EXPECT_EQ(h.value().server_version, "5.5.5-10.11.19-MariaDB-0+deb12u1");
    EXPECT_EQ(h.value().auth_plugin_data.size(), 20u);
    EXPECT_EQ(h.value().auth_plugin_data.find('\0'), std::string::npos);
    EXPECT_EQ(h.value().auth_plugin_name, "mysql_native_password");
    EXPECT_EQ(h.value().capabilities & cap::long_password, 0u);  // MariaDB clears CLIENT_MYSQL
    EXPECT_NE(h.value().capabilities & cap::mariadb_progress, 0u);
    EXPECT_NE(h.value().capabilities & cap::plugin_auth, 0u);
    EXPECT_EQ(h.value().status_flags, status::autocommit);
}

TEST(InitialHandshake, DecodesMysql8Greeting) {
    const auto h = decode_initial_handshake(packet("mysql80_greeting"));
    ASSERT_TRUE(h);
    EXPECT_EQ(h.value().server_version, "8.0.20");
    EXPECT_EQ(h.value().connection_id, 11u);
    EXPECT_EQ(h.value().auth_plugin_data.size(), 20u);
    EXPECT_EQ(h.value().auth_plugin_name, "caching_sha2_password");
    EXPECT_EQ(h.value().character_set, 0xff);
    EXPECT_NE(h.value().capabilities & cap::long_password, 0u);
    EXPECT_NE(h.value().capabilities & cap::deprecate_eof, 0u);
    EXPECT_EQ(h.value().capabilities >> 32, 0u);  // the reserved bytes are not MariaDB's
}

TEST(InitialHandshake, RealGreetingsRoundTripExactly) {
    for (const char* name : {"mariadb_greeting", "mariadb_greeting_2", "mysql80_greeting"}) {
        const auto h = decode_initial_handshake(packet(name));
        ASSERT_TRUE(h) << name;
        EXPECT_EQ(test::to_hex(encode_initial_handshake(h.value())), test::to_hex(packet(name))) << name;
    }
}

TEST(InitialHandshake, ClearingCapabilitiesChangesOnlyThoseBits) {
    for (const char* name : {"mariadb_greeting", "mysql80_greeting"}) {
        auto h = decode_initial_handshake(packet(name)).value();
        h.capabilities &= ~(cap::ssl | cap::compress | cap::mariadb_progress);
        const Bytes encoded = encode_initial_handshake(h);
        ASSERT_EQ(encoded.size(), packet(name).size()) << name;
        const auto back = decode_initial_handshake(encoded);
        ASSERT_TRUE(back) << name;
        EXPECT_EQ(back.value().capabilities, h.capabilities) << name;
        EXPECT_EQ(back.value().auth_plugin_data, h.auth_plugin_data) << name;
        EXPECT_EQ(back.value().auth_plugin_name, h.auth_plugin_name) << name;
    }
}

TEST(InitialHandshake, EveryPrefixIsAnErrorOrAValue) {
    for (const char* name : {"mariadb_greeting", "mysql80_greeting"}) {
        const std::size_t values = decode_every_prefix(
            packet(name), [](ByteView p) { return decode_initial_handshake(p).has_value(); });
        // Only the pre-4.1 short form (ending after the low capabilities) and a
        // plugin name missing its NUL (MySQL bug #59453), of any length, are accepted early.
        const std::size_t plugin = decode_initial_handshake(packet(name)).value().auth_plugin_name.size();
        EXPECT_EQ(values, 1 + (plugin + 1)) << name;
    }
}

TEST(InitialHandshake, AcceptsPre41ShortForm) {
    const Bytes payload = from_hex("0a342e3100010000006162636465666768000c00");
    const auto h = decode_initial_handshake(payload);
    ASSERT_TRUE(h);
    EXPECT_EQ(h.value().server_version, "4.1");
    EXPECT_EQ(h.value().auth_plugin_data, "abcdefgh");
    EXPECT_EQ(h.value().capabilities, 0x000cu);
}

TEST(InitialHandshake, RejectsOtherProtocolVersionsAndErrPackets) {
    EXPECT_EQ(decode_initial_handshake(from_hex("09342e3100")).error(), ProtocolErrc::malformed);
    EXPECT_EQ(decode_initial_handshake(from_hex("ff6a04486f7374")).error(), ProtocolErrc::malformed);
    EXPECT_EQ(decode_initial_handshake({}).error(), ProtocolErrc::truncated);
}

TEST(InitialHandshake, EncodesScramblePart2WithNulAndMinimumLength) {
    InitialHandshake h;
    h.server_version = "x";
    h.auth_plugin_data = "12345678abc";  // part 2 shorter than the usual 12 bytes
    h.capabilities = cap::protocol_41 | cap::secure_connection | cap::plugin_auth | cap::long_password;
    h.auth_plugin_name = "p";
    const Bytes encoded = encode_initial_handshake(h);
    const auto back = decode_initial_handshake(encoded);
    ASSERT_TRUE(back);
    EXPECT_EQ(back.value().auth_plugin_data, h.auth_plugin_data);
    EXPECT_EQ(back.value().auth_plugin_name, "p");
}

TEST(HandshakeResponse, DecodesLibmariadbResponse) {
    const auto r = decode_handshake_response(packet("libmariadb_response_with_db"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r.value().username, "root");
    EXPECT_TRUE(r.value().auth_response.empty());
    EXPECT_EQ(r.value().database, "fx_eof");
    EXPECT_EQ(r.value().auth_plugin_name, "mysql_native_password");
    EXPECT_EQ(r.value().capabilities & cap::long_password, 0u);
    EXPECT_NE(r.value().capabilities & cap::mariadb_progress, 0u);
    EXPECT_EQ(r.value().max_packet_size, 0x100000u);
    bool found = false;
    for (const auto& [key, value] : r.value().connect_attributes) {
        found = found || (key == "_client_name" && value == "libmariadb");
    }
    EXPECT_TRUE(found);
}

TEST(HandshakeResponse, DecodesScrambledPassword) {
    const auto r = decode_handshake_response(packet("libmariadb_response_password"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r.value().username, "u");
    EXPECT_EQ(r.value().auth_response.size(), 20u);
    EXPECT_FALSE(r.value().database);
}

TEST(HandshakeResponse, DecodesPymysqlResponse) {
    const auto r = decode_handshake_response(packet("pymysql_response_with_db"));
    ASSERT_TRUE(r);
    EXPECT_NE(r.value().capabilities & cap::long_password, 0u);  // MySQL-style client
    EXPECT_EQ(r.value().capabilities >> 32, 0u);
    EXPECT_EQ(r.value().database, "fx_eof");
    ASSERT_FALSE(r.value().connect_attributes.empty());
    EXPECT_EQ(r.value().connect_attributes[0].first, "_client_name");
    EXPECT_EQ(r.value().connect_attributes[0].second, "pymysql");
}

TEST(HandshakeResponse, RealResponsesRoundTripExactly) {
    for (const char* name : {"libmariadb_response_with_db", "libmariadb_response_password", "pymysql_response_with_db"}) {
        const auto r = decode_handshake_response(packet(name));
        ASSERT_TRUE(r) << name;
        EXPECT_EQ(test::to_hex(encode_handshake_response(r.value())), test::to_hex(packet(name))) << name;
    }
}

TEST(HandshakeResponse, EveryPrefixIsAnErrorOrAValue) {
    for (const char* name : {"libmariadb_response_with_db", "pymysql_response_with_db"}) {
        decode_every_prefix(packet(name), [](ByteView p) { return decode_handshake_response(p).has_value(); });
    }
}

HandshakeResponse minimal_response(Capabilities caps) {
    HandshakeResponse r;
    r.capabilities = cap::long_password | cap::protocol_41 | caps;
    r.max_packet_size = 1024;
    r.character_set = 33;
    r.username = "app";
    r.auth_response = std::string("\x01\x00\x02", 3);
    return r;
}

TEST(HandshakeResponse, AuthResponseLengthDependsOnCapabilities) {
    const Capabilities lenenc = cap::plugin_auth_lenenc_client_data | cap::secure_connection;
    EXPECT_EQ(test::to_hex(encode_handshake_response(minimal_response(lenenc))).substr(64), "6170700003010002");
    EXPECT_EQ(test::to_hex(encode_handshake_response(minimal_response(cap::secure_connection))).substr(64),
              "6170700003010002");
    auto nul_terminated = minimal_response(0);
    nul_terminated.auth_response = "pw";
    const Bytes encoded = encode_handshake_response(nul_terminated);
    EXPECT_EQ(test::to_hex(encoded).substr(64), "61707000707700");
    EXPECT_EQ(decode_handshake_response(encoded).value().auth_response, "pw");
}

TEST(HandshakeResponse, OptionalTailMayBeMissing) {
    // Capabilities promise a database, plugin and attributes, but the packet ends early.
    auto r = minimal_response(cap::secure_connection | cap::connect_with_db | cap::plugin_auth | cap::connect_attrs);
    const Bytes cut = encode_handshake_response(r);  // database absent: the encoder stops
    const auto back = decode_handshake_response(cut);
    ASSERT_TRUE(back);
    EXPECT_FALSE(back.value().database);
    EXPECT_FALSE(back.value().auth_plugin_name);
    EXPECT_TRUE(back.value().connect_attributes.empty());

    r.database = "db";
    r.auth_plugin_name = "mysql_native_password";
    r.connect_attributes = {{"k", "v"}, {"", ""}};
    const auto full = decode_handshake_response(encode_handshake_response(r));
    ASSERT_TRUE(full);
    EXPECT_EQ(full.value().database, "db");
    EXPECT_EQ(full.value().auth_plugin_name, "mysql_native_password");
    EXPECT_EQ(full.value().connect_attributes, r.connect_attributes);
}

TEST(HandshakeResponse, ZstdLevelFollowsTheAttributes) {
    auto r = minimal_response(cap::secure_connection | cap::plugin_auth | cap::connect_attrs | cap::zstd_compression);
    r.auth_plugin_name = "caching_sha2_password";
    r.zstd_compression_level = 3;
    const Bytes encoded = encode_handshake_response(r);
    EXPECT_EQ(encoded.back(), 3);
    EXPECT_EQ(decode_handshake_response(encoded).value().zstd_compression_level, 3);
}

TEST(HandshakeResponse, RejectsAttributesOverrunningTheirBlock) {
    auto r = minimal_response(cap::secure_connection | cap::plugin_auth | cap::connect_attrs);
    r.auth_plugin_name = "p";
    Bytes encoded = encode_handshake_response(r);
    encoded.back() = 3;  // the block length: 3 bytes follow
    for (const std::uint8_t b : {0x01, 0x6b, 0x05}) {  // key "k", then a value of 5 bytes
        encoded.push_back(b);
    }
    EXPECT_EQ(decode_handshake_response(encoded).error(), ProtocolErrc::malformed);
}

TEST(HandshakeResponse, RejectsProtocol320) {
    auto r = minimal_response(0);
    r.capabilities = cap::long_password;
    EXPECT_EQ(decode_handshake_response(encode_handshake_response(r)).error(), ProtocolErrc::malformed);
}

TEST(SslRequest, IsTheFirst32BytesWithSslSet) {
    Bytes payload(packet("libmariadb_response_with_db").begin(), packet("libmariadb_response_with_db").begin() + 32);
    EXPECT_FALSE(is_ssl_request(payload));  // no ssl bit
    payload[1] |= static_cast<std::uint8_t>(cap::ssl >> 8);
    EXPECT_TRUE(is_ssl_request(payload));
    const auto request = decode_ssl_request(payload);
    ASSERT_TRUE(request);
    EXPECT_NE(request.value().capabilities & cap::ssl, 0u);
    EXPECT_NE(request.value().capabilities & cap::mariadb_progress, 0u);
    EXPECT_EQ(request.value().character_set, 0x21);
    EXPECT_EQ(encode_ssl_request(request.value()), payload);
    EXPECT_FALSE(is_ssl_request(ByteView(payload).first(31)));
    EXPECT_EQ(decode_every_prefix(payload, [](ByteView p) { return decode_ssl_request(p).has_value(); }), 0u);
}

TEST(AuthSwitchRequest, DecodesPluginAndDataWithItsNul) {
    // MariaDB, COM_CHANGE_USER naming caching_sha2_password for a native-password account.
    const Bytes payload =
        from_hex("fe6d7973716c5f6e61746976655f70617373776f7264005b7d2849773c625a7b7b7a724c6331652d4e215900");
    const auto request = decode_auth_switch_request(payload);
    ASSERT_TRUE(request);
    EXPECT_EQ(request.value().plugin_name, "mysql_native_password");
    EXPECT_EQ(request.value().plugin_data.size(), 21u);
    EXPECT_EQ(request.value().plugin_data.back(), '\0');
    EXPECT_EQ(encode_auth_switch_request(request.value()), payload);
    EXPECT_EQ(decode_every_prefix(payload, [](ByteView p) { return decode_auth_switch_request(p).has_value(); }),
              payload.size() - 23);
    EXPECT_EQ(decode_auth_switch_request(from_hex("fe")).error(), ProtocolErrc::truncated);
    EXPECT_EQ(decode_auth_switch_request(from_hex("0061")).error(), ProtocolErrc::malformed);
}

TEST(AuthMoreData, CarriesTheRestOfThePacket) {
    const Bytes payload = from_hex("0103");  // caching_sha2_password fast auth success
    const auto more = decode_auth_more_data(payload);
    ASSERT_TRUE(more);
    EXPECT_EQ(more.value().data, "\x03");
    EXPECT_EQ(encode_auth_more_data(more.value()), payload);
    EXPECT_EQ(decode_auth_more_data({}).error(), ProtocolErrc::truncated);
    EXPECT_EQ(decode_auth_more_data(from_hex("02")).error(), ProtocolErrc::malformed);
}

}  // namespace
}  // namespace uniqgate::protocol
