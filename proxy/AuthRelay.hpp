#pragma once
// The authentication exchange after the HandshakeResponse, as a plain state
// machine the session drives (no I/O, so the whole exchange is tested on bytes).
//
// Mostly it relays: the backend authenticates with the scramble the client saw,
// whatever the plugin. One case needs the proxy to act: caching_sha2_password's
// full authentication when the client leg is secure (TLS) but the backend leg is
// not. The client then sends its password in clear text, which the server refuses
// on an insecure connection; so the proxy asks the server for its RSA public key
// and sends the password encrypted, as MySQL Router does.

#include "protocol/Constants.hpp"
#include "protocol/Frame.hpp"

#include <string>
#include <vector>

namespace uniqgate::proxy {

class AuthRelay {
public:
    struct Settings {
        bool client_secure = false;   // client leg is TLS (or a unix socket)
        bool backend_secure = false;  // backend leg is TLS or a unix socket
        std::string scramble;         // the scramble of the handshake the client answered
        std::string plugin;           // the plugin the handshake response was made for
    };

    enum class Verdict {
        read_backend,   // next packet comes from the backend
        read_client,    // next packet comes from the client
        authenticated,  // OK forwarded: the command phase begins
        rejected,       // ERR forwarded: close both sides
        failed,         // protocol violation: close both sides
    };

    struct Outgoing {
        bool to_client = false;
        protocol::Bytes payload;
    };

    struct Step {
        std::vector<Outgoing> send;
        Verdict verdict = Verdict::failed;
    };

    explicit AuthRelay(Settings settings) : settings_(std::move(settings)) {}

    Step on_backend_packet(protocol::ByteView payload);
    Step on_client_packet(protocol::ByteView payload);

    [[nodiscard]] const std::string& plugin() const noexcept { return settings_.plugin; }

    static constexpr const char* kCachingSha2 = "caching_sha2_password";

private:
    Step forward_to_client(protocol::ByteView payload, Verdict next);
    Step on_public_key(protocol::ByteView payload);
    [[nodiscard]] bool proxy_must_encrypt() const noexcept;

    Settings settings_;
    bool full_auth_requested_ = false;  // caching_sha2 said "perform full authentication"
    bool awaiting_public_key_ = false;  // we asked the backend for its key
    std::string pending_password_;      // the client's clear-text password, until encrypted
};

// RSA-OAEP encryption of (password + NUL) XOR scramble with the server's PEM public
// key, as caching_sha2_password and sha256_password expect. Empty on failure.
protocol::Bytes encrypt_password_rsa(const std::string& password, const std::string& scramble,
                                     const std::string& pem_public_key);

}  // namespace uniqgate::proxy
