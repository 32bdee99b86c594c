#pragma once
// A server's RSA key pair for tests of caching_sha2_password's full
// authentication: the public key in PEM as a server hands it out, and the
// decryption of what the client (or the proxy) sent back.

#include "protocol/Frame.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>
#include <string>

namespace uniqgate::proxy::testing {

struct RsaTestKey {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{EVP_RSA_gen(2048), &EVP_PKEY_free};

    std::string public_pem() const {
        std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
        PEM_write_bio_PUBKEY(bio.get(), key.get());
        char* data = nullptr;
        const long length = BIO_get_mem_data(bio.get(), &data);
        return std::string(data, static_cast<std::size_t>(length));
    }

    // RSA-OAEP decryption, then the XOR with the scramble undone: the password + NUL.
    std::string decrypt_password(const protocol::Bytes& cipher, const std::string& scramble) const {
        std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new(key.get(), nullptr),
                                                                         &EVP_PKEY_CTX_free);
        EVP_PKEY_decrypt_init(ctx.get());
        EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING);
        std::size_t length = 0;
        EVP_PKEY_decrypt(ctx.get(), nullptr, &length, cipher.data(), cipher.size());
        std::string plain(length, '\0');
        if (EVP_PKEY_decrypt(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &length, cipher.data(),
                             cipher.size()) <= 0) {
            return "<cannot decrypt>";
        }
        plain.resize(length);
        for (std::size_t i = 0; i < plain.size(); ++i) {
            plain[i] = static_cast<char>(plain[i] ^ scramble[i % scramble.size()]);
        }
        return plain;
    }
};

}  // namespace uniqgate::proxy::testing
