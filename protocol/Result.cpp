#include "protocol/Result.hpp"

#include <string>

namespace uniqgate::protocol {
namespace {

class ProtocolCategory final : public std::error_category {
public:
    const char* name() const noexcept override { return "uniqgate.protocol"; }

    std::string message(int value) const override {
        switch (static_cast<ProtocolErrc>(value)) {
        case ProtocolErrc::truncated:
            return "packet ends before the message does";
        case ProtocolErrc::malformed:
            return "malformed packet";
        case ProtocolErrc::unexpected_packet:
            return "packet not expected at this point of the conversation";
        case ProtocolErrc::too_large:
            return "length too large";
        case ProtocolErrc::unsupported:
            return "not supported: servers read it differently";
        case ProtocolErrc::no_value:
            return "parameter has no value in this packet";
        }
        return "unknown protocol error";
    }
};

}  // namespace

const std::error_category& protocol_category() noexcept {
    static const ProtocolCategory category;
    return category;
}

std::error_code make_error_code(ProtocolErrc e) noexcept {
    return {static_cast<int>(e), protocol_category()};
}

}  // namespace uniqgate::protocol
