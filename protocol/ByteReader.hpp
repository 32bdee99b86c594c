#pragma once
// A bounds-checked little-endian reader over a byte span. Every read either
// succeeds or puts the reader in a sticky failed state; callers check `ok()` once
// at the end (or use the Result-returning helpers), so decoding never reads
// past the end of its input.

#include "protocol/Frame.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace uniqgate::protocol {

class ByteReader {
public:
    explicit ByteReader(ByteView data) noexcept : data_(data) {}

    [[nodiscard]] bool ok() const noexcept { return ok_; }
    // Why the reader failed (only meaningful when !ok()): `truncated` for a read
    // past the end, `malformed` for an invalid length-encoded integer.
    [[nodiscard]] ProtocolErrc failure() const noexcept { return failure_; }
    [[nodiscard]] std::size_t remaining() const noexcept { return ok_ ? data_.size() - pos_ : 0; }
    [[nodiscard]] bool at_end() const noexcept { return remaining() == 0; }
    [[nodiscard]] std::size_t position() const noexcept { return pos_; }

    std::uint8_t u8() noexcept;
    std::uint16_t u16() noexcept;
    std::uint32_t u24() noexcept;
    std::uint32_t u32() noexcept;
    std::uint64_t u48() noexcept;
    std::uint64_t u64() noexcept;
    // Length-encoded integer. 0xFB (NULL) and 0xFF are failures here; use
    // lenenc_int_or_null where NULL is allowed.
    std::uint64_t lenenc_int() noexcept;
    std::optional<std::uint64_t> lenenc_int_or_null() noexcept;
    std::string_view lenenc_string() noexcept;
    std::string_view null_terminated_string() noexcept;  // the NUL is consumed, not returned
    std::string_view fixed_string(std::size_t length) noexcept;
    std::string_view rest() noexcept;
    void skip(std::size_t length) noexcept;

    // Peek without consuming; fails (returns 0) at end.
    [[nodiscard]] std::uint8_t peek() const noexcept;

private:
    bool need(std::size_t n) noexcept;
    std::uint64_t little_endian(std::size_t n) noexcept;
    void fail(ProtocolErrc why) noexcept;

    ByteView data_;
    std::size_t pos_ = 0;
    bool ok_ = true;
    ProtocolErrc failure_ = ProtocolErrc::truncated;
};

// The bytes of a string field (string_views returned above point into the payload).
[[nodiscard]] inline ByteView to_byte_view(std::string_view s) noexcept {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Writers append to a Bytes buffer.
void write_u8(Bytes& out, std::uint8_t v);
void write_u16(Bytes& out, std::uint16_t v);
void write_u24(Bytes& out, std::uint32_t v);
void write_u32(Bytes& out, std::uint32_t v);
void write_u64(Bytes& out, std::uint64_t v);
void write_lenenc_int(Bytes& out, std::uint64_t v);
void write_lenenc_string(Bytes& out, std::string_view s);
void write_null_terminated_string(Bytes& out, std::string_view s);
void write_bytes(Bytes& out, std::string_view s);

}  // namespace uniqgate::protocol
