#pragma once
// Data-path errors are values: decoding returns Result<T>, never throws on wire data.

#include <boost/outcome/std_result.hpp>

#include <system_error>

namespace uniqgate::protocol {

enum class ProtocolErrc {
    truncated = 1,      // the payload ends before the message does
    malformed,          // a field holds a value the protocol does not allow
    unexpected_packet,  // a valid packet that this point of the conversation does not allow
    too_large,          // a length beyond what we accept
    unsupported,        // valid on the wire, but servers disagree on its meaning (or the proxy cannot act on it)
    no_value,           // a prepared-statement parameter with no value to show (NULL, long data, DEFAULT, IGNORE)
};

const std::error_category& protocol_category() noexcept;
std::error_code make_error_code(ProtocolErrc e) noexcept;

template <class T>
using Result = boost::outcome_v2::std_result<T>;

}  // namespace uniqgate::protocol

template <>
struct std::is_error_code_enum<uniqgate::protocol::ProtocolErrc> : std::true_type {};
