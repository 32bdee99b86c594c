// The whole caching_sha2_password full-authentication exchange through a real
// uniqgate Server, on bytes: a TLS client, a plain-TCP fake MySQL 8 backend. No
// MySQL 8 server can be installed here, so the backend is a scripted one; the
// proxy must fetch its RSA key and send the password encrypted, renumbering the
// sequence ids of both legs.
#include "config/Config.hpp"
#include "protocol/Messages.hpp"
#include "proxy/Server.hpp"

#include "RsaTestKey.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <future>
#include <memory>
#include <string>
#include <thread>

namespace uniqgate::proxy {
namespace {

namespace asio = boost::asio;
namespace cap = protocol::cap;
using asio::ip::tcp;
using protocol::Bytes;

const std::string kScramble = "0123456789abcdefghij";
constexpr protocol::Capabilities kServerCaps = cap::long_password | cap::protocol_41 | cap::secure_connection |
                                               cap::plugin_auth | cap::plugin_auth_lenenc_client_data |
                                               cap::transactions | cap::deprecate_eof | cap::connect_attrs;

std::uint16_t free_port() {
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    return acceptor.local_endpoint().port();
}

template <class Stream>
void send_packet(Stream& stream, const Bytes& payload, std::uint8_t seq) {
    Bytes framed;
    protocol::append_packet(framed, payload, seq);
    asio::write(stream, asio::buffer(framed));
}

struct Received {
    std::uint8_t seq = 0;
    Bytes payload;
};

template <class Stream>
Received receive_packet(Stream& stream) {
    std::uint8_t header[4];
    asio::read(stream, asio::buffer(header));
    const auto frame = protocol::decode_frame_header(header);
    Received packet{frame.sequence_id, Bytes(frame.payload_length)};
    asio::read(stream, asio::buffer(packet.payload));
    return packet;
}

Bytes auth_more_data(std::string_view data) {
    return protocol::encode_auth_more_data(protocol::AuthMoreData{std::string(data)});
}

using ServerKey = testing::RsaTestKey;

// What the scripted backend saw; checked by the test.
struct BackendLog {
    std::vector<std::uint8_t> sequence_ids;
    std::string user;
    std::string password;
    bool ping_answered = false;
};

BackendLog run_fake_mysql8(tcp::acceptor& acceptor, const ServerKey& key) {
    BackendLog log;
    tcp::socket socket = acceptor.accept();
    protocol::InitialHandshake hello;
    hello.server_version = "8.0.36-fake";
    hello.connection_id = 7;
    hello.auth_plugin_data = kScramble;
    hello.capabilities = kServerCaps;
    hello.character_set = 255;
    hello.status_flags = protocol::status::autocommit;
    hello.auth_plugin_name = "caching_sha2_password";
    send_packet(socket, protocol::encode_initial_handshake(hello), 0);

    auto response = receive_packet(socket);
    log.sequence_ids.push_back(response.seq);
    auto decoded = protocol::decode_handshake_response(response.payload);
    if (decoded) log.user = decoded.value().username;
    send_packet(socket, auth_more_data("\x04"), static_cast<std::uint8_t>(response.seq + 1));  // full auth

    auto key_request = receive_packet(socket);
    log.sequence_ids.push_back(key_request.seq);
    if (key_request.payload != Bytes{0x02}) return log;
    send_packet(socket, auth_more_data(key.public_pem()), static_cast<std::uint8_t>(key_request.seq + 1));

    auto encrypted = receive_packet(socket);
    log.sequence_ids.push_back(encrypted.seq);
    log.password = key.decrypt_password(encrypted.payload, kScramble);
    protocol::OkPacket ok;
    ok.status_flags = protocol::status::autocommit;
    send_packet(socket, protocol::encode_ok(ok, kServerCaps), static_cast<std::uint8_t>(encrypted.seq + 1));

    auto ping = receive_packet(socket);
    if (ping.seq == 0 && ping.payload == Bytes{static_cast<std::uint8_t>(protocol::Command::ping)}) {
        send_packet(socket, protocol::encode_ok(ok, kServerCaps), 1);
        log.ping_answered = true;
    }
    return log;
}

TEST(CachingSha2Exchange, TlsClientPlainBackendFullAuthenticationThroughTheProxy) {
    ServerKey key;
    asio::io_context backend_io;
    tcp::acceptor backend_acceptor(backend_io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    auto backend_done = std::async(std::launch::async, [&] { return run_fake_mysql8(backend_acceptor, key); });

    config::Config cfg;
    cfg.listen = {"127.0.0.1", free_port()};
    cfg.admin.listen = {"127.0.0.1", free_port()};
    cfg.backend.port = backend_acceptor.local_endpoint().port();
    cfg.client_tls.mode = config::ClientTlsMode::preferred;  // self-signed
    Server server(cfg, 1);
    std::thread server_thread([&] { server.run(); });

    asio::io_context client_io;
    asio::ssl::context tls(asio::ssl::context::tls_client);
    tls.set_verify_mode(asio::ssl::verify_none);
    asio::ssl::stream<tcp::socket> client(client_io, tls);
    client.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), cfg.listen.port));

    auto hello = receive_packet(client.next_layer());
    auto handshake = protocol::decode_initial_handshake(hello.payload);
    ASSERT_TRUE(handshake);
    EXPECT_EQ(handshake.value().auth_plugin_data, kScramble) << "the client answers the backend's scramble";
    EXPECT_TRUE(handshake.value().capabilities & cap::ssl) << "the proxy offers TLS itself";

    const protocol::Capabilities client_caps = (kServerCaps | cap::ssl) & handshake.value().capabilities;
    send_packet(client.next_layer(), protocol::encode_ssl_request({client_caps, 1 << 24, 255}), 1);
    client.handshake(asio::ssl::stream_base::client);
    protocol::HandshakeResponse response;
    response.capabilities = client_caps;
    response.max_packet_size = 1 << 24;
    response.character_set = 255;
    response.username = "app";
    response.auth_response = std::string(32, 'x');  // a fast-path hash the server will not accept
    response.auth_plugin_name = "caching_sha2_password";
    send_packet(client, protocol::encode_handshake_response(response), 2);

    auto full_auth = receive_packet(client);
    EXPECT_EQ(full_auth.seq, 3);
    EXPECT_EQ(full_auth.payload, auth_more_data("\x04"));
    send_packet(client, Bytes{'s', '3', 'c', 'r', 'e', 't', 0}, 4);  // clear text: the client is on TLS
    auto ok = receive_packet(client);
    EXPECT_EQ(ok.seq, 5);
    ASSERT_FALSE(ok.payload.empty());
    EXPECT_EQ(ok.payload[0], 0x00) << "authenticated";

    send_packet(client, Bytes{static_cast<std::uint8_t>(protocol::Command::ping)}, 0);
    auto pong = receive_packet(client);
    EXPECT_EQ(pong.seq, 1);
    EXPECT_EQ(pong.payload[0], 0x00);

    const BackendLog log = backend_done.get();
    server.stop();
    server_thread.join();
    EXPECT_EQ(log.user, "app");
    EXPECT_EQ(log.password, std::string("s3cret\0", 7)) << "the backend got the password RSA-encrypted";
    EXPECT_EQ(log.sequence_ids, (std::vector<std::uint8_t>{1, 3, 5})) << "the backend leg has no SSLRequest";
    EXPECT_TRUE(log.ping_answered);
}

}  // namespace
}  // namespace uniqgate::proxy
