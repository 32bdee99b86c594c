#pragma once
// Helpers shared by the protocol unit tests: hex fixtures and the golden
// transcript files in data/.

#include "protocol/Frame.hpp"

#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace uniqgate::protocol::test {

inline Bytes from_hex(std::string_view hex) {
    Bytes out;
    std::string digits;
    for (const char c : hex) {
        if (c != ' ' && c != '\n') {
            digits.push_back(c);
        }
    }
    if (digits.size() % 2 != 0) {
        throw std::invalid_argument("odd hex length");
    }
    for (std::size_t i = 0; i < digits.size(); i += 2) {
        out.push_back(static_cast<std::uint8_t>(std::stoul(digits.substr(i, 2), nullptr, 16)));
    }
    return out;
}

inline std::string to_hex(ByteView bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (const std::uint8_t b : bytes) {
        out.push_back(kDigits[b >> 4]);
        out.push_back(kDigits[b & 0xf]);
    }
    return out;
}

inline Bytes bytes_of(std::string_view s) { return Bytes(s.begin(), s.end()); }

inline std::string data_path(std::string_view file) { return std::string(UNIQGATE_TEST_DATA_DIR) + "/" + std::string(file); }

// data/connection-phase.txt: "name hex" lines.
inline std::map<std::string, Bytes> load_named_payloads(std::string_view file) {
    std::ifstream in(data_path(file));
    if (!in) {
        throw std::runtime_error("cannot open " + data_path(file));
    }
    std::map<std::string, Bytes> payloads;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') {
            continue;
        }
        std::istringstream fields(line);
        std::string name;
        std::string hex;
        fields >> name >> hex;
        payloads[name] = from_hex(hex);
    }
    return payloads;
}

struct TranscriptFrame {
    char direction = 'S';  // 'C' client, 'S' server
    std::uint8_t sequence_id = 0;
    Bytes payload;
    FrameHeader header() const { return FrameHeader{static_cast<std::uint32_t>(payload.size()), sequence_id}; }
};

struct Transcript {
    std::string name;
    std::uint64_t caps = 0;
    std::vector<TranscriptFrame> frames;
};

// "BIG<length>:<hex prefix>": a large payload rebuilt from its first bytes.
inline Bytes rebuild_big_payload(std::string_view text) {
    const std::size_t colon = text.find(':');
    const std::size_t length = std::stoul(std::string(text.substr(3, colon - 3)));
    Bytes payload = from_hex(text.substr(colon + 1));
    payload.resize(length, payload.empty() ? 0 : payload.back());
    return payload;
}

inline std::vector<Transcript> load_transcripts(std::string_view file) {
    std::ifstream in(data_path(file));
    if (!in) {
        throw std::runtime_error("cannot open " + data_path(file));
    }
    std::vector<Transcript> transcripts;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') {
            continue;
        }
        std::istringstream fields(line);
        std::string kind;
        fields >> kind;
        if (kind == "=") {
            transcripts.emplace_back();
            fields >> transcripts.back().name;
        } else if (kind == "caps") {
            std::string hex;
            fields >> hex;
            transcripts.back().caps = std::stoull(hex, nullptr, 16);
        } else {
            TranscriptFrame frame;
            frame.direction = kind[0];
            int seq = 0;
            std::string text;
            fields >> seq >> text;
            frame.sequence_id = static_cast<std::uint8_t>(seq);
            frame.payload = text.rfind("BIG", 0) == 0 ? rebuild_big_payload(text) : from_hex(text);
            transcripts.back().frames.push_back(std::move(frame));
        }
    }
    return transcripts;
}

}  // namespace uniqgate::protocol::test

namespace uniqgate::protocol::test {

// Feeds every proper prefix of `payload` to `decode`, each in its own exact-size
// allocation so that AddressSanitizer reports any read past the end. Returns how
// many prefixes decoded to a value (the rest must be errors, never a crash).
template <class Decode>
std::size_t decode_every_prefix(const Bytes& payload, Decode decode) {
    std::size_t values = 0;
    for (std::size_t n = 0; n < payload.size(); ++n) {
        const Bytes prefix(payload.begin(), payload.begin() + static_cast<std::ptrdiff_t>(n));
        if (decode(ByteView(prefix))) {
            ++values;
        }
    }
    return values;
}

}  // namespace uniqgate::protocol::test
