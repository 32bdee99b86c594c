#pragma once
// Normalised key identities for locking: two values get the same identity when the
// column would call them equal, so that 'ABC' and 'abc  ' (utf8mb4_general_ci, PAD
// SPACE) or 1, '1' and 1.0 (an INT column) take the same lock.
//
// Where the server's rules are only approximated (see collation_traits), the
// approximation merges more values than the server would, never fewer: extra
// serialisation is safe, a missed one is not. The live-row check itself runs on the
// server with the real collation.

#include "rules/Literal.hpp"
#include "rules/SessionContext.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace uniqgate::rules {

struct CollationTraits {
    bool case_insensitive = false;
    bool accent_insensitive = false;
    bool pad_space = true;                 // trailing spaces ignored (all but NO PAD collations)
    bool supplementary_chars_equal = false; // utf8mb4_general_ci / unicode_ci weigh all chars > U+FFFF alike
    bool sharp_s_is_ss = true;             // UCA: ß = ss; general_ci: ß = s
    bool swedish = false;                  // å ä ö are letters of their own
};

// Traits from a collation name (utf8mb4_general_ci, latin1_swedish_ci, utf8mb4_0900_as_cs,
// utf8mb4_nopad_bin, binary, ...). An empty or unknown name gets the broadest equality
// (case- and accent-insensitive, PAD SPACE), the safe side for locking.
[[nodiscard]] CollationTraits collation_traits(std::string_view collation) noexcept;

// Canonical decimal text ("-12.5", "0", "1000") of a number written as SQL or as a
// string the server would convert without warning (surrounding spaces allowed), rounded
// half away from zero to `scale` fractional digits when scale >= 0. nullopt if not a number.
[[nodiscard]] std::optional<std::string> canonical_number(std::string_view text, int scale);

// The comparison form of a string under a collation, in UTF-8 (latin1 and UTF-8 input
// are decoded; other charsets are folded in their ASCII range only).
[[nodiscard]] std::string collation_key(std::string_view bytes, Charset charset, const CollationTraits& traits);
// The same appended to `out` (no temporary string); `bytes` must not point into `out`.
void append_collation_key(std::string& out, std::string_view bytes, Charset charset, const CollationTraits& traits);

// Appends one key part's identity (`<length>:<normal form>`) for a value stored into
// `column`. Returns false, with `reason` set, when the value's stored form cannot be
// known (e.g. 'abc' into an INT column). NULL, DEFAULT and placeholders are the
// caller's business.
bool append_key_identity(std::string& out, const Literal& value, const ColumnInfo& column, std::string& reason);
// The same with the column's collation traits computed once by the caller (hot loops).
bool append_key_identity(std::string& out, const Literal& value, const ColumnInfo& column, const CollationTraits& traits,
                         std::string& reason);

}  // namespace uniqgate::rules
