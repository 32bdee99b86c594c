// The authentication exchange on bytes: caching_sha2_password's fast path, full
// authentication with and without the proxy doing the RSA exchange, and failures.
#include "proxy/AuthRelay.hpp"

#include "RsaTestKey.hpp"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>
#include <string>

namespace uniqgate::proxy {
namespace {

using protocol::Bytes;
using Verdict = AuthRelay::Verdict;

const std::string kScramble = "abcdefghij0123456789";  // 20 bytes, like a server's

Bytes bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
Bytes more_data(std::string_view s) {
    // Sized up front: GCC 12 reports a false -Warray-bounds on vector::insert here.
    Bytes b(s.size() + 1, 0x01);
    std::copy(s.begin(), s.end(), b.begin() + 1);
    return b;
}
const Bytes kOk{0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00};
const Bytes kErr = [] {
    const std::string packet = std::string("\xff\x15\x04#28000") + "Access denied";
    return Bytes(packet.begin(), packet.end());
}();

using RsaKey = testing::RsaTestKey;

AuthRelay relay_for(bool client_secure, bool backend_secure) {
    return AuthRelay({client_secure, backend_secure, kScramble, AuthRelay::kCachingSha2});
}

TEST(AuthRelay, FastPathSuccessIsRelayedAndWaitsForTheOk) {
    auto relay = relay_for(true, false);
    auto step = relay.on_backend_packet(more_data("\x03"));
    ASSERT_EQ(step.verdict, Verdict::read_backend);
    ASSERT_EQ(step.send.size(), 1U);
    EXPECT_TRUE(step.send[0].to_client);
    EXPECT_EQ(step.send[0].payload, more_data("\x03"));
    step = relay.on_backend_packet(kOk);
    EXPECT_EQ(step.verdict, Verdict::authenticated);
    EXPECT_EQ(step.send[0].payload, kOk);
}

TEST(AuthRelay, TlsClientPlainBackendFullAuthIsEncryptedByTheProxy) {
    RsaKey server_key;
    auto relay = relay_for(true, false);
    auto step = relay.on_backend_packet(more_data("\x04"));
    ASSERT_EQ(step.verdict, Verdict::read_client);
    ASSERT_TRUE(step.send[0].to_client);

    step = relay.on_client_packet(bytes(std::string("s3cret\0", 7)));
    ASSERT_EQ(step.verdict, Verdict::read_backend);
    ASSERT_EQ(step.send.size(), 1U);
    EXPECT_FALSE(step.send[0].to_client);
    EXPECT_EQ(step.send[0].payload, Bytes{0x02}) << "the proxy asks the server for its public key";

    step = relay.on_backend_packet(more_data(server_key.public_pem()));
    ASSERT_EQ(step.verdict, Verdict::read_backend);
    ASSERT_EQ(step.send.size(), 1U) << "the key is not forwarded to the client";
    EXPECT_FALSE(step.send[0].to_client);
    EXPECT_EQ(step.send[0].payload.size(), 256U);  // one RSA-2048 block
    EXPECT_EQ(server_key.decrypt_password(step.send[0].payload, kScramble), std::string("s3cret\0", 7));

    step = relay.on_backend_packet(kOk);
    EXPECT_EQ(step.verdict, Verdict::authenticated);
}

TEST(AuthRelay, PlainClientDoesItsOwnRsaExchange) {
    auto relay = relay_for(false, false);
    relay.on_backend_packet(more_data("\x04"));
    auto step = relay.on_client_packet(Bytes{0x02});
    EXPECT_EQ(step.send[0].payload, Bytes{0x02});
    EXPECT_FALSE(step.send[0].to_client);
    step = relay.on_backend_packet(more_data("-----BEGIN PUBLIC KEY-----..."));
    EXPECT_EQ(step.verdict, Verdict::read_client);
    EXPECT_TRUE(step.send[0].to_client) << "the client encrypts itself";
    step = relay.on_client_packet(Bytes(256, 0x5a));
    EXPECT_EQ(step.send[0].payload, Bytes(256, 0x5a));
    EXPECT_EQ(step.verdict, Verdict::read_backend);
}

TEST(AuthRelay, SecureOnBothLegsForwardsTheClearTextPassword) {
    auto relay = relay_for(true, true);
    relay.on_backend_packet(more_data("\x04"));
    auto step = relay.on_client_packet(bytes(std::string("pw\0", 3)));
    EXPECT_EQ(step.send[0].payload, bytes(std::string("pw\0", 3)));
    EXPECT_FALSE(step.send[0].to_client);
}

TEST(AuthRelay, AuthSwitchToCachingSha2UsesTheNewScramble) {
    RsaKey server_key;
    AuthRelay relay({true, false, kScramble, "mysql_native_password"});
    const std::string new_scramble = "ZYXWVUTSRQponmlkjihg";
    Bytes switch_request{0xfe};
    const std::string plugin = "caching_sha2_password";
    switch_request.insert(switch_request.end(), plugin.begin(), plugin.end());
    switch_request.push_back(0);
    switch_request.insert(switch_request.end(), new_scramble.begin(), new_scramble.end());
    switch_request.push_back(0);

    auto step = relay.on_backend_packet(switch_request);
    ASSERT_EQ(step.verdict, Verdict::read_client);
    EXPECT_EQ(relay.plugin(), plugin);
    step = relay.on_client_packet(Bytes(32, 0x11));  // the scrambled fast-path answer
    EXPECT_EQ(step.send[0].payload, Bytes(32, 0x11));
    relay.on_backend_packet(more_data("\x04"));
    step = relay.on_client_packet(bytes(std::string("pw\0", 3)));
    EXPECT_EQ(step.send[0].payload, Bytes{0x02});
    step = relay.on_backend_packet(more_data(server_key.public_pem()));
    EXPECT_EQ(server_key.decrypt_password(step.send[0].payload, new_scramble), std::string("pw\0", 3));
}

TEST(AuthRelay, ServerRefusingThePublicKeyIsRejected) {
    auto relay = relay_for(true, false);
    relay.on_backend_packet(more_data("\x04"));
    relay.on_client_packet(bytes(std::string("pw\0", 3)));
    auto step = relay.on_backend_packet(kErr);
    EXPECT_EQ(step.verdict, Verdict::rejected);
    ASSERT_EQ(step.send.size(), 1U);
    EXPECT_TRUE(step.send[0].to_client);
}

TEST(AuthRelay, GarbagePublicKeyFails) {
    auto relay = relay_for(true, false);
    relay.on_backend_packet(more_data("\x04"));
    relay.on_client_packet(bytes(std::string("pw\0", 3)));
    auto step = relay.on_backend_packet(more_data("not a key"));
    EXPECT_EQ(step.verdict, Verdict::failed);
    EXPECT_TRUE(step.send.empty());
}

TEST(AuthRelay, ErrEndsAuthentication) {
    auto relay = relay_for(false, false);
    auto step = relay.on_backend_packet(kErr);
    EXPECT_EQ(step.verdict, Verdict::rejected);
    EXPECT_EQ(step.send[0].payload, kErr);
}

TEST(AuthRelay, UnknownOrEmptyPacketsFail) {
    auto relay = relay_for(false, false);
    EXPECT_EQ(relay.on_backend_packet(Bytes{}).verdict, Verdict::failed);
    EXPECT_EQ(relay.on_backend_packet(Bytes{0x42, 0x01}).verdict, Verdict::failed);
}

TEST(AuthRelay, EncryptPasswordRejectsBadInput) {
    EXPECT_TRUE(encrypt_password_rsa("pw", "", RsaKey().public_pem()).empty());
    EXPECT_TRUE(encrypt_password_rsa("pw", kScramble, "garbage").empty());
}

}  // namespace
}  // namespace uniqgate::proxy
