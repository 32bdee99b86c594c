#include "proxy/TlsContexts.hpp"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <stdexcept>

namespace uniqgate::proxy {

namespace ssl = boost::asio::ssl;

namespace {

template <class T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* p) const noexcept { Free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;

// A fresh P-256 key and a one-year certificate for CN=uniqgate. Clients that
// verify certificates need a configured one; this serves `preferred` TLS.
void use_self_signed_certificate(ssl::context& context) {
    KeyPtr key(EVP_EC_gen("P-256"));
    CertPtr cert(X509_new());
    if (!key || !cert) throw std::runtime_error("client_tls: cannot generate a self-signed certificate");
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), static_cast<long>(time(nullptr)));
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24 * 3600);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("uniqgate"), -1, -1,
                               0);
    X509_set_issuer_name(cert.get(), name);
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
        throw std::runtime_error("client_tls: cannot sign the self-signed certificate");
    }
    if (SSL_CTX_use_certificate(context.native_handle(), cert.get()) != 1 ||
        SSL_CTX_use_PrivateKey(context.native_handle(), key.get()) != 1) {
        throw std::runtime_error("client_tls: cannot install the self-signed certificate");
    }
}

}  // namespace

std::unique_ptr<ssl::context> make_client_facing_tls(const config::ClientTlsConfig& tls) {
    if (tls.mode == config::ClientTlsMode::disabled) return nullptr;
    auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
    context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                         ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    if (tls.cert.empty()) {
        use_self_signed_certificate(*context);
        return context;
    }
    boost::system::error_code ec;
    context->use_certificate_chain_file(tls.cert, ec);
    if (ec) throw std::runtime_error("client_tls.cert: cannot load '" + tls.cert + "': " + ec.message());
    context->use_private_key_file(tls.key, ssl::context::pem, ec);
    if (ec) throw std::runtime_error("client_tls.key: cannot load '" + tls.key + "': " + ec.message());
    return context;
}

std::unique_ptr<ssl::context> make_backend_tls(const config::BackendTlsConfig& tls) {
    if (tls.mode == config::BackendTlsMode::disabled) return nullptr;
    auto context = std::make_unique<ssl::context>(ssl::context::tls_client);
    context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3);
    if (tls.mode == config::BackendTlsMode::verify_ca) {
        boost::system::error_code ec;
        context->load_verify_file(tls.ca, ec);
        if (ec) throw std::runtime_error("backend_tls.ca: cannot load '" + tls.ca + "': " + ec.message());
        context->set_verify_mode(ssl::verify_peer);
    } else {
        context->set_verify_mode(ssl::verify_none);
    }
    return context;
}

}  // namespace uniqgate::proxy
