#pragma once
// OpenSSL contexts for the two legs: the proxy as a TLS server towards clients,
// and as a TLS client towards the backend.

#include "config/Config.hpp"

#include <boost/asio/ssl/context.hpp>

#include <memory>

namespace uniqgate::proxy {

// nullptr when client TLS is disabled. Without a configured certificate a
// self-signed one is made (so `mode: preferred` works out of the box).
// Throws std::runtime_error with a clear message on unreadable cert/key.
std::unique_ptr<boost::asio::ssl::context> make_client_facing_tls(const config::ClientTlsConfig& tls);

// nullptr when backend TLS is disabled.
std::unique_ptr<boost::asio::ssl::context> make_backend_tls(const config::BackendTlsConfig& tls);

}  // namespace uniqgate::proxy
