#include "proxy/AuthRelay.hpp"

#include "protocol/Messages.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>

namespace uniqgate::proxy {

namespace header = protocol::header;
using protocol::ByteView;

namespace {
// caching_sha2_password's AuthMoreData codes.
constexpr std::uint8_t kFastAuthSuccess = 0x03;
constexpr std::uint8_t kPerformFullAuth = 0x04;
constexpr std::uint8_t kRequestPublicKey = 0x02;

std::string strip_trailing_nul(std::string s) {
    if (!s.empty() && s.back() == '\0') s.pop_back();
    return s;
}
}  // namespace

bool AuthRelay::proxy_must_encrypt() const noexcept {
    return settings_.plugin == kCachingSha2 && settings_.client_secure && !settings_.backend_secure;
}

AuthRelay::Step AuthRelay::forward_to_client(ByteView payload, Verdict next) {
    Step step;
    step.send.push_back({true, protocol::Bytes(payload.begin(), payload.end())});
    step.verdict = next;
    return step;
}

AuthRelay::Step AuthRelay::on_backend_packet(ByteView payload) {
    if (payload.empty()) return {};
    if (awaiting_public_key_) return on_public_key(payload);
    switch (payload[0]) {
        case header::ok:
            return forward_to_client(payload, Verdict::authenticated);
        case header::err:
            return forward_to_client(payload, Verdict::rejected);
        case header::eof: {  // AuthSwitchRequest: a new plugin and a new scramble
            auto request = protocol::decode_auth_switch_request(payload);
            if (!request) return {};
            settings_.plugin = request.value().plugin_name;
            settings_.scramble = strip_trailing_nul(request.value().plugin_data);
            full_auth_requested_ = false;
            return forward_to_client(payload, Verdict::read_client);
        }
        case header::auth_more_data: {
            const bool caching_sha2 = settings_.plugin == kCachingSha2;
            if (caching_sha2 && payload.size() == 2 && payload[1] == kFastAuthSuccess) {
                return forward_to_client(payload, Verdict::read_backend);  // the OK follows
            }
            full_auth_requested_ = caching_sha2 && payload.size() == 2 && payload[1] == kPerformFullAuth;
            return forward_to_client(payload, Verdict::read_client);
        }
        default:
            return {};
    }
}

AuthRelay::Step AuthRelay::on_client_packet(ByteView payload) {
    Step step;
    const bool clear_text_password =
        full_auth_requested_ && proxy_must_encrypt() && !(payload.size() == 1 && payload[0] == kRequestPublicKey);
    if (clear_text_password) {
        // The client believes the channel is secure and sent "password\0".
        pending_password_ = strip_trailing_nul(std::string(payload.begin(), payload.end()));
        awaiting_public_key_ = true;
        step.send.push_back({false, protocol::Bytes{kRequestPublicKey}});
    } else {
        step.send.push_back({false, protocol::Bytes(payload.begin(), payload.end())});
    }
    full_auth_requested_ = false;
    step.verdict = Verdict::read_backend;
    return step;
}

AuthRelay::Step AuthRelay::on_public_key(ByteView payload) {
    awaiting_public_key_ = false;
    Step step;
    if (payload[0] != header::auth_more_data) {
        // The server refused to hand out its key (ERR): the client sees that.
        step.send.push_back({true, protocol::Bytes(payload.begin(), payload.end())});
        step.verdict = payload[0] == header::err ? Verdict::rejected : Verdict::failed;
        return step;
    }
    const std::string pem(payload.begin() + 1, payload.end());
    auto encrypted = encrypt_password_rsa(pending_password_, settings_.scramble, pem);
    std::fill(pending_password_.begin(), pending_password_.end(), '\0');
    pending_password_.clear();
    if (encrypted.empty()) return step;  // failed
    step.send.push_back({false, std::move(encrypted)});
    step.verdict = Verdict::read_backend;
    return step;
}

protocol::Bytes encrypt_password_rsa(const std::string& password, const std::string& scramble,
                                     const std::string& pem_public_key) {
    if (scramble.empty()) return {};
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem_public_key.data(),
                                                                  static_cast<int>(pem_public_key.size())),
                                                  &BIO_free);
    if (!bio) return {};
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr),
                                                             &EVP_PKEY_free);
    if (!key) return {};

    std::string plain = password;
    plain.push_back('\0');
    for (std::size_t i = 0; i < plain.size(); ++i) plain[i] = static_cast<char>(plain[i] ^ scramble[i % scramble.size()]);

    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new(key.get(), nullptr),
                                                                     &EVP_PKEY_CTX_free);
    std::size_t out_len = 0;
    protocol::Bytes out;
    if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) <= 0 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) <= 0 ||
        EVP_PKEY_encrypt(ctx.get(), nullptr, &out_len, reinterpret_cast<const unsigned char*>(plain.data()),
                         plain.size()) <= 0) {
        return {};
    }
    out.resize(out_len);
    if (EVP_PKEY_encrypt(ctx.get(), out.data(), &out_len, reinterpret_cast<const unsigned char*>(plain.data()),
                         plain.size()) <= 0) {
        return {};
    }
    out.resize(out_len);
    std::fill(plain.begin(), plain.end(), '\0');
    return out;
}

}  // namespace uniqgate::proxy
