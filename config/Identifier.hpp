#pragma once
// Internal to config/: MySQL identifiers as written in the YAML (`table:`, `key:`,
// `soft_delete.column:`), plain or backtick-quoted, e.g. "shop.product", "`my-db`.`t`".
// See https://dev.mysql.com/doc/refman/8.0/en/identifiers.html

#include "config/Config.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace uniqgate::config::detail {

// MySQL's limit for table, column and index names, counted in characters.
inline constexpr std::size_t max_identifier_length = 64;

// Each returns an error message (without path or line), or std::nullopt on success.
std::optional<std::string> parse_identifier(std::string_view text, std::string& out);
std::optional<std::string> parse_table_name(std::string_view text, TableName& out);
std::optional<std::string> check_identifier_length(std::string_view name);

// True when `name` can be written without backticks.
bool is_plain_identifier(std::string_view name);
// `name` itself when plain, else `name` in backticks with inner backticks doubled.
std::string quote_identifier(std::string_view name);

}  // namespace uniqgate::config::detail
