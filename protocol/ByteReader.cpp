#include "protocol/ByteReader.hpp"

namespace uniqgate::protocol {

void ByteReader::fail(ProtocolErrc why) noexcept {
    if (ok_) {  // keep the first reason: later failures are consequences of it
        ok_ = false;
        failure_ = why;
    }
}

bool ByteReader::need(std::size_t n) noexcept {
    if (ok_ && data_.size() - pos_ >= n) {
        return true;
    }
    fail(ProtocolErrc::truncated);
    return false;
}

std::uint64_t ByteReader::little_endian(std::size_t n) noexcept {
    if (!need(n)) {
        return 0;
    }
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        v |= static_cast<std::uint64_t>(data_[pos_ + i]) << (8 * i);
    }
    pos_ += n;
    return v;
}

std::uint8_t ByteReader::u8() noexcept { return static_cast<std::uint8_t>(little_endian(1)); }
std::uint16_t ByteReader::u16() noexcept { return static_cast<std::uint16_t>(little_endian(2)); }
std::uint32_t ByteReader::u24() noexcept { return static_cast<std::uint32_t>(little_endian(3)); }
std::uint32_t ByteReader::u32() noexcept { return static_cast<std::uint32_t>(little_endian(4)); }
std::uint64_t ByteReader::u48() noexcept { return little_endian(6); }
std::uint64_t ByteReader::u64() noexcept { return little_endian(8); }

std::optional<std::uint64_t> ByteReader::lenenc_int_or_null() noexcept {
    // https://mariadb.com/kb/en/protocol-data-types/#length-encoded-integers
    const std::uint8_t first = u8();
    if (!ok_) {
        return std::nullopt;
    }
    switch (first) {
    case 0xfb:
        return std::nullopt;  // NULL in a text row
    case 0xfc:
        return u16();
    case 0xfd:
        return u24();
    case 0xfe:
        return u64();
    case 0xff:
        fail(ProtocolErrc::malformed);  // an ERR header, never an integer
        return std::nullopt;
    default:
        return first;
    }
}

std::uint64_t ByteReader::lenenc_int() noexcept {
    const auto value = lenenc_int_or_null();
    if (!value) {
        fail(ProtocolErrc::malformed);  // no-op if already failed for another reason
        return 0;
    }
    return ok_ ? *value : 0;
}

std::string_view ByteReader::lenenc_string() noexcept {
    const std::uint64_t length = lenenc_int();
    if (!ok_ || length > data_.size() - pos_) {
        fail(ProtocolErrc::truncated);
        return {};
    }
    return fixed_string(static_cast<std::size_t>(length));
}

std::string_view ByteReader::null_terminated_string() noexcept {
    if (!ok_) {
        return {};
    }
    for (std::size_t end = pos_; end < data_.size(); ++end) {
        if (data_[end] == 0) {
            const std::string_view s(reinterpret_cast<const char*>(data_.data() + pos_), end - pos_);
            pos_ = end + 1;
            return s;
        }
    }
    fail(ProtocolErrc::truncated);
    return {};
}

std::string_view ByteReader::fixed_string(std::size_t length) noexcept {
    if (!need(length)) {
        return {};
    }
    const std::string_view s(reinterpret_cast<const char*>(data_.data() + pos_), length);
    pos_ += length;
    return s;
}

std::string_view ByteReader::rest() noexcept { return fixed_string(remaining()); }

void ByteReader::skip(std::size_t length) noexcept {
    if (need(length)) {
        pos_ += length;
    }
}

std::uint8_t ByteReader::peek() const noexcept { return ok_ && pos_ < data_.size() ? data_[pos_] : 0; }

void write_u8(Bytes& out, std::uint8_t v) { out.push_back(v); }

namespace {
void write_little_endian(Bytes& out, std::uint64_t v, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
}
}  // namespace

void write_u16(Bytes& out, std::uint16_t v) { write_little_endian(out, v, 2); }
void write_u24(Bytes& out, std::uint32_t v) { write_little_endian(out, v, 3); }
void write_u32(Bytes& out, std::uint32_t v) { write_little_endian(out, v, 4); }
void write_u64(Bytes& out, std::uint64_t v) { write_little_endian(out, v, 8); }

void write_lenenc_int(Bytes& out, std::uint64_t v) {
    if (v < 0xfb) {
        write_u8(out, static_cast<std::uint8_t>(v));
    } else if (v <= 0xffff) {
        write_u8(out, 0xfc);
        write_u16(out, static_cast<std::uint16_t>(v));
    } else if (v <= 0xffffff) {
        write_u8(out, 0xfd);
        write_u24(out, static_cast<std::uint32_t>(v));
    } else {
        write_u8(out, 0xfe);
        write_u64(out, v);
    }
}

void write_lenenc_string(Bytes& out, std::string_view s) {
    write_lenenc_int(out, s.size());
    write_bytes(out, s);
}

void write_null_terminated_string(Bytes& out, std::string_view s) {
    write_bytes(out, s);
    write_u8(out, 0);
}

void write_bytes(Bytes& out, std::string_view s) { out.insert(out.end(), s.begin(), s.end()); }

}  // namespace uniqgate::protocol
