// collation_key: simple case folding and accent stripping for the Latin, Greek and
// Cyrillic ranges most business keys use. Beyond these the comparison form is the
// code point itself (with the supplementary-character rule of the old collations).

#include "rules/KeyIdentity.hpp"

namespace uniqgate::rules {
namespace {

// Base letters of U+00C0..U+00FF, '-' for "no base letter", 'S' for ß (an expansion).
constexpr std::string_view latin1_base = "aaaaaa-ceeeeiiiidnooooo-ouuuuy-S"
                                         "aaaaaa-ceeeeiiiidnooooo-ouuuuy-y";
// Base letters of U+0100..U+017F (Latin Extended-A).
constexpr std::string_view latin_extended_a_base =
    "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii--jjkkkllllllllllnnnnnnnnnoooooo--rrrrrrsssssssstttttt"
    "uuuuuuuuuuuuwwyyyzzzzzzs";

char32_t to_lower(char32_t c) noexcept {
    if (c < 0x80) return c >= 'A' && c <= 'Z' ? c + 32 : c;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 0x20;
    if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) return c % 2 == 0 ? c + 1 : c;
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return c % 2 == 1 ? c + 1 : c;
    if (c == 0x178) return 0xFF;
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 0x20;
    if (c == 0x3C2) return 0x3C3;  // final sigma
    if (c >= 0x410 && c <= 0x42F) return c + 0x20;
    if (c >= 0x400 && c <= 0x40F) return c + 0x50;
    return c;
}

bool is_swedish_letter(char32_t c) noexcept {
    return c == 0xE5 || c == 0xE4 || c == 0xF6 || c == 0xE6 || c == 0xF8 || c == 0xFC;
}

void append_utf8(std::string& out, char32_t c) {
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
}

// Decodes one UTF-8 character; malformed bytes come back as U+DC80..U+DCFF (one per
// byte), which keeps them distinct from every valid character.
char32_t decode_utf8(std::string_view bytes, std::size_t& i) noexcept {
    const auto lead = static_cast<unsigned char>(bytes[i]);
    const std::size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 0;
    if (length == 0 || i + length > bytes.size()) {
        ++i;
        return 0xDC00 + lead;
    }
    char32_t c = length == 1 ? lead : lead & (0x7F >> length);
    for (std::size_t k = 1; k < length; ++k) {
        const auto next = static_cast<unsigned char>(bytes[i + k]);
        if ((next & 0xC0) != 0x80) {
            ++i;
            return 0xDC00 + lead;
        }
        c = (c << 6) | (next & 0x3F);
    }
    i += length;
    return c;
}

void append_folded(std::string& out, char32_t c, const CollationTraits& traits) {
    if (traits.case_insensitive) c = to_lower(c);
    if (traits.supplementary_chars_equal && c > 0xFFFF) c = 0xFFFD;
    if (traits.accent_insensitive && !(traits.swedish && is_swedish_letter(c))) {
        char base = '-';
        if (c >= 0xC0 && c <= 0xFF) base = latin1_base[c - 0xC0];
        if (c >= 0x100 && c <= 0x17F) base = latin_extended_a_base[c - 0x100];
        if (base == 'S') {
            out += traits.sharp_s_is_ss ? "ss" : "s";
            return;
        }
        if (base != '-') {
            out += base;
            return;
        }
    }
    append_utf8(out, c);
}

}  // namespace

void append_collation_key(std::string& out, std::string_view bytes, Charset charset, const CollationTraits& traits) {
    if (traits.pad_space) {
        while (!bytes.empty() && bytes.back() == ' ') bytes.remove_suffix(1);
    }
    const bool exact = !traits.case_insensitive && !traits.accent_insensitive && !traits.supplementary_chars_equal;
    if (exact || charset == Charset::binary) {
        out.append(bytes);
        return;
    }
    // Fast path for plain ASCII values (most keys): every trait leaves ASCII alone except
    // case folding. Both loops have no early exit, so the compiler vectorises them.
    unsigned char any_bytes = 0;
    for (const char c : bytes) any_bytes |= static_cast<unsigned char>(c);
    if (any_bytes < 0x80) {
        if (!traits.case_insensitive) {
            out.append(bytes);
            return;
        }
        // Folded from `bytes`, not in place after a copy: reading back bytes memcpy has
        // just written, with other widths than it wrote them, stalls (no store forwarding).
        const std::size_t begin = out.size();
        out.resize(begin + bytes.size());
        char* folded = out.data() + begin;
        for (std::size_t k = 0; k < bytes.size(); ++k) {
            const char c = bytes[k];
            folded[k] = c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
        }
        return;
    }
    std::size_t i = 0;
    while (i < bytes.size()) {
        const auto byte = static_cast<unsigned char>(bytes[i]);
        if (byte < 0x80 && traits.case_insensitive) {
            out += byte >= 'A' && byte <= 'Z' ? static_cast<char>(byte + 32) : static_cast<char>(byte);
            ++i;
        } else if (charset == Charset::utf8) {
            append_folded(out, decode_utf8(bytes, i), traits);
        } else if (charset == Charset::latin1 || byte < 0x80) {
            append_folded(out, byte, traits);
            ++i;
        } else {
            // Multibyte Asian charsets: compared as bytes beyond ASCII.
            const std::size_t length = multibyte_char_length(bytes, i, charset);
            out.append(bytes.substr(i, length));
            i += length;
        }
    }
}

std::string collation_key(std::string_view bytes, Charset charset, const CollationTraits& traits) {
    std::string out;
    append_collation_key(out, bytes, charset, traits);
    return out;
}

}  // namespace uniqgate::rules
