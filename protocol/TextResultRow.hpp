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

// A binary-protocol row (the answer to COM_STMT_EXECUTE) whose columns are all of
// string types: the 0x00 header, the NULL bitmap (offset 2), then each non-NULL
// column as a length-encoded string. The proxy's own prepared reads select
// CAST(... AS BINARY) so that this is all it ever reads: the text the text protocol
// would have sent. `unsupported` for any other header.
[[nodiscard]] Result<TextRow> decode_binary_string_row(ByteView payload, std::size_t column_count);

// COM_QUERY's payload: the command byte and the statement text.
[[nodiscard]] Bytes encode_query(std::string_view sql);

}  // namespace uniqgate::protocol
