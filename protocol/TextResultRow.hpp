#pragma once
// Rows of the text protocol (COM_QUERY result sets): each column is a
// length-encoded string, or 0xFB for NULL. Used where the proxy reads the
// answers to its own queries.

#include "protocol/Frame.hpp"
#include "protocol/Result.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace uniqgate::protocol {

using TextRow = std::vector<std::optional<std::string>>;

[[nodiscard]] Result<TextRow> decode_text_row(ByteView payload, std::size_t column_count);

// COM_QUERY's payload: the command byte and the statement text.
[[nodiscard]] Bytes encode_query(std::string_view sql);

}  // namespace uniqgate::protocol
