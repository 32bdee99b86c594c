#include "protocol/TextResultRow.hpp"

#include "protocol/ByteReader.hpp"
#include "protocol/Constants.hpp"

namespace uniqgate::protocol {

Result<TextRow> decode_text_row(ByteView payload, std::size_t column_count) {
    ByteReader reader(payload);
    TextRow row;
    row.reserve(column_count);
    for (std::size_t i = 0; i < column_count; ++i) {
        if (reader.peek() == 0xfb && reader.remaining() > 0) {
            reader.skip(1);
            row.emplace_back(std::nullopt);
            continue;
        }
        const auto value = reader.lenenc_string();
        if (!reader.ok()) return ProtocolErrc::truncated;
        row.emplace_back(std::string(value));
    }
    if (!reader.at_end()) return ProtocolErrc::malformed;
    return row;
}

Result<TextRow> decode_binary_string_row(ByteView payload, std::size_t column_count) {
    ByteReader reader(payload);
    if (reader.u8() != 0x00) return reader.ok() ? ProtocolErrc::unsupported : ProtocolErrc::truncated;
    const std::string_view bitmap = reader.fixed_string((column_count + 7 + 2) / 8);
    if (!reader.ok()) return ProtocolErrc::truncated;
    TextRow row;
    row.reserve(column_count);
    for (std::size_t i = 0; i < column_count; ++i) {
        const std::size_t bit = i + 2;
        if ((static_cast<unsigned char>(bitmap[bit / 8]) >> (bit % 8)) & 1U) {
            row.emplace_back(std::nullopt);
            continue;
        }
        const auto value = reader.lenenc_string();
        if (!reader.ok()) return ProtocolErrc::truncated;
        row.emplace_back(std::string(value));
    }
    if (!reader.at_end()) return ProtocolErrc::malformed;
    return row;
}

Bytes encode_query(std::string_view sql) {
    Bytes payload;
    payload.reserve(sql.size() + 1);
    payload.push_back(static_cast<std::uint8_t>(Command::query));
    payload.insert(payload.end(), sql.begin(), sql.end());
    return payload;
}

}  // namespace uniqgate::protocol
