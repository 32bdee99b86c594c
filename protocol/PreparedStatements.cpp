// Prepared-statement commands. Server side of the format: sql/sql_prepare.cc
// (mysqld_stmt_execute, insert_params, set_conversion_functions,
// mysqld_stmt_bulk_execute, insert_bulk_params, mysql_stmt_get_longdata).
// https://mariadb.com/kb/en/com_stmt_execute/
// https://mariadb.com/kb/en/com_stmt_bulk_execute/
#include "protocol/PreparedStatements.hpp"

#include "protocol/ByteReader.hpp"

#include <optional>

namespace uniqgate::protocol {
namespace {

// How a supported type's value travels (see the header for the evidence).
enum class WireFormat : std::uint8_t { fixed, date_time, time, length_encoded, null_only, unsupported };

WireFormat wire_format(std::uint8_t type) noexcept {
    switch (type) {
    case field_type::tiny:
    case field_type::short_int:
    case field_type::long_int:
    case field_type::float_type:
    case field_type::longlong:
    case field_type::double_type:
        return WireFormat::fixed;
    case field_type::date:
    case field_type::datetime:
    case field_type::timestamp:
        return WireFormat::date_time;
    case field_type::time:
        return WireFormat::time;
    case field_type::decimal:
    case field_type::newdecimal:
    case field_type::varchar:
    case field_type::var_string:
    case field_type::string:
    case field_type::enum_type:
    case field_type::set:
    case field_type::tiny_blob:
    case field_type::medium_blob:
    case field_type::long_blob:
    case field_type::blob:
        return WireFormat::length_encoded;
    case field_type::null:
        return WireFormat::null_only;
    default:
        return WireFormat::unsupported;
    }
}

std::size_t fixed_size(std::uint8_t type) noexcept {
    switch (type) {
    case field_type::tiny:
        return 1;
    case field_type::short_int:
        return 2;
    case field_type::long_int:
    case field_type::float_type:
        return 4;
    default:
        return 8;  // longlong, double
    }
}

bool is_date_time_length(std::uint64_t n) noexcept { return n == 0 || n == 4 || n == 7 || n == 11; }
bool is_time_length(std::uint64_t n) noexcept { return n == 0 || n == 8 || n == 12; }

// Why a type cannot be used, if it cannot. MariaDB 10.11 answers "Incorrect
// arguments" to any flag byte but 0x00 and 0x80.
std::optional<ProtocolErrc> type_error(ParamType t) noexcept {
    if (!is_supported_param_type(t.type)) {
        return ProtocolErrc::unsupported;
    }
    if (t.flags != 0 && t.flags != kUnsignedParamFlag) {
        return ProtocolErrc::malformed;
    }
    return std::nullopt;
}

Result<std::vector<ParamType>> read_types(ByteReader& r, std::uint16_t count) {
    std::vector<ParamType> types(count);
    for (ParamType& t : types) {
        t.type = r.u8();
        t.flags = r.u8();
    }
    if (!r.ok()) {
        return r.failure();
    }
    for (const ParamType& t : types) {
        if (const auto why = type_error(t)) {
            return *why;
        }
    }
    return types;
}

// The types that apply when the packet does not carry them.
Result<std::vector<ParamType>> previous(std::span<const ParamType> types, std::uint16_t count) {
    if (types.size() != count) {
        return ProtocolErrc::malformed;  // MariaDB: "Incorrect arguments" on a first execution without types
    }
    for (const ParamType& t : types) {
        if (const auto why = type_error(t)) {
            return *why;
        }
    }
    return std::vector<ParamType>(types.begin(), types.end());
}

// One non-NULL value; fails the reader (or returns malformed) if it is not there.
Result<ParamValue> read_value(ByteReader& r, ParamType type) {
    std::string_view bytes;
    switch (wire_format(type.type)) {
    case WireFormat::fixed:
        bytes = r.fixed_string(fixed_size(type.type));
        break;
    case WireFormat::date_time:
    case WireFormat::time: {
        // The length is read as a length-encoded integer, like the server does.
        const std::uint64_t n = r.lenenc_int();
        if (!r.ok()) {
            return r.failure();
        }
        const bool valid = wire_format(type.type) == WireFormat::time ? is_time_length(n) : is_date_time_length(n);
        if (!valid) {
            return ProtocolErrc::malformed;
        }
        bytes = r.fixed_string(static_cast<std::size_t>(n));
        break;
    }
    case WireFormat::length_encoded:
        bytes = r.lenenc_string();
        break;
    case WireFormat::null_only:
    case WireFormat::unsupported:
        return ProtocolErrc::malformed;  // a NULL-typed parameter must have its NULL bit set
    }
    if (!r.ok()) {
        return r.failure();
    }
    return ParamValue::of(bytes);
}

void write_value(Bytes& out, ParamType type, ByteView bytes) {
    const std::string_view s(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    switch (wire_format(type.type)) {
    case WireFormat::fixed:
        write_bytes(out, s);
        break;
    case WireFormat::date_time:
    case WireFormat::time:
    case WireFormat::length_encoded:
    case WireFormat::null_only:
    case WireFormat::unsupported:
        write_lenenc_string(out, s);
        break;
    }
}

bool is_long_data_type(std::uint8_t type) noexcept { return wire_format(type) == WireFormat::length_encoded; }

bool bit_set(ByteView bitmap, std::size_t i) noexcept { return (bitmap[i / 8] >> (i % 8)) & 1; }

Result<std::vector<ParamValue>> read_execute_values(ByteReader& r, const StmtExecute& execute,
                                                    const std::vector<bool>& long_data) {
    std::vector<ParamValue> params(execute.types.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
        const ParamType type = execute.types[i];
        if (i < long_data.size() && long_data[i]) {
            if (!is_long_data_type(type.type)) {
                return ProtocolErrc::malformed;  // the server refuses long data for other types
            }
            params[i].kind = ParamValue::Kind::long_data;  // its NULL bit is ignored
        } else if (bit_set(execute.null_bitmap, i)) {
            params[i].kind = ParamValue::Kind::null;
        } else {
            auto value = read_value(r, type);
            if (!value) {
                return value.error();
            }
            params[i] = value.value();
        }
    }
    return params;
}

Result<std::uint32_t> decode_statement_id_command(ByteView payload, Command command) {
    ByteReader r(payload);
    const std::uint8_t first = r.u8();
    const std::uint32_t id = r.u32();
    if (!r.ok()) {
        return r.failure();
    }
    if (first != static_cast<std::uint8_t>(command) || !r.at_end()) {
        return ProtocolErrc::malformed;
    }
    return id;
}

Bytes encode_statement_id_command(Command command, std::uint32_t statement_id) {
    Bytes out{static_cast<std::uint8_t>(command)};
    write_u32(out, statement_id);
    return out;
}

}  // namespace

std::size_t prepare_ok_packets_following(const StmtPrepareOk& ok, Capabilities caps) noexcept {
    const std::size_t eof = (caps & cap::deprecate_eof) ? 0 : 1;
    std::size_t n = 0;
    if (ok.num_params > 0) {
        n += ok.num_params + eof;
    }
    if (ok.num_columns > 0) {
        n += ok.num_columns + eof;
    }
    return n;
}

bool is_supported_param_type(std::uint8_t type) noexcept { return wire_format(type) != WireFormat::unsupported; }

ParamValue ParamValue::of(std::string_view s) noexcept { return of(to_byte_view(s)); }

Result<StmtExecute> decode_stmt_execute(ByteView payload, std::uint16_t param_count,
                                        std::span<const ParamType> previous_types,
                                        const std::vector<bool>& long_data) {
    ByteReader r(payload);
    const std::uint8_t command = r.u8();
    StmtExecute execute;
    execute.statement_id = r.u32();
    execute.flags = r.u8();
    execute.iteration_count = r.u32();
    if (param_count > 0) {
        execute.null_bitmap = to_byte_view(r.fixed_string((param_count + 7) / 8));
        const std::uint8_t bound = r.u8();
        if (r.ok() && bound > 1) {
            return ProtocolErrc::malformed;  // MariaDB 10.11 rejects anything but 0 and 1
        }
        execute.new_params_bound = bound == 1;
    }
    if (!r.ok()) {
        return r.failure();
    }
    if (command != static_cast<std::uint8_t>(Command::stmt_execute)) {
        return ProtocolErrc::malformed;
    }
    if (param_count == 0) {
        if (!r.at_end()) {
            return ProtocolErrc::malformed;
        }
        return execute;
    }
    auto types = execute.new_params_bound ? read_types(r, param_count) : previous(previous_types, param_count);
    if (!types) {
        return types.error();
    }
    execute.types = std::move(types).value();
    auto params = read_execute_values(r, execute, long_data);
    if (!params) {
        return params.error();
    }
    // The servers ignore trailing bytes; real clients send none, so they would
    // mean this decoder and the server disagree about the packet.
    if (!r.at_end()) {
        return ProtocolErrc::malformed;
    }
    execute.params = std::move(params).value();
    return execute;
}

Bytes encode_stmt_execute(const StmtExecute& execute) {
    Bytes out{static_cast<std::uint8_t>(Command::stmt_execute)};
    write_u32(out, execute.statement_id);
    write_u8(out, execute.flags);
    write_u32(out, execute.iteration_count);
    const std::size_t count = execute.params.size();
    if (count == 0) {
        return out;
    }
    const std::size_t bitmap_at = out.size();
    out.resize(out.size() + (count + 7) / 8, 0);
    write_u8(out, execute.new_params_bound ? 1 : 0);
    if (execute.new_params_bound) {
        for (const ParamType& t : execute.types) {
            write_u8(out, t.type);
            write_u8(out, t.flags);
        }
    }
    for (std::size_t i = 0; i < count; ++i) {
        const ParamValue& p = execute.params[i];
        if (p.kind == ParamValue::Kind::value) {
            write_value(out, i < execute.types.size() ? execute.types[i] : ParamType{}, p.bytes);
        } else if (p.kind != ParamValue::Kind::long_data) {
            out[bitmap_at + i / 8] |= static_cast<std::uint8_t>(1u << (i % 8));
        }
    }
    return out;
}

Result<SendLongData> decode_send_long_data(ByteView payload) {
    ByteReader r(payload);
    const std::uint8_t command = r.u8();
    SendLongData chunk;
    chunk.statement_id = r.u32();
    chunk.param_index = r.u16();
    chunk.data = to_byte_view(r.rest());
    if (!r.ok()) {
        return r.failure();
    }
    if (command != static_cast<std::uint8_t>(Command::stmt_send_long_data)) {
        return ProtocolErrc::malformed;
    }
    return chunk;
}

Bytes encode_send_long_data(const SendLongData& chunk) {
    Bytes out{static_cast<std::uint8_t>(Command::stmt_send_long_data)};
    write_u32(out, chunk.statement_id);
    write_u16(out, chunk.param_index);
    out.insert(out.end(), chunk.data.begin(), chunk.data.end());
    return out;
}

Result<std::uint32_t> decode_stmt_close(ByteView payload) {
    return decode_statement_id_command(payload, Command::stmt_close);
}

Result<std::uint32_t> decode_stmt_reset(ByteView payload) {
    return decode_statement_id_command(payload, Command::stmt_reset);
}

Bytes encode_stmt_close(std::uint32_t statement_id) { return encode_statement_id_command(Command::stmt_close, statement_id); }

Bytes encode_stmt_reset(std::uint32_t statement_id) { return encode_statement_id_command(Command::stmt_reset, statement_id); }

namespace {

Result<std::vector<ParamValue>> read_bulk_row(ByteReader& r, std::span<const ParamType> types) {
    std::vector<ParamValue> row(types.size());
    for (std::size_t i = 0; i < row.size(); ++i) {
        const std::uint8_t indicator = r.u8();
        if (!r.ok()) {
            return r.failure();
        }
        switch (indicator) {
        case 0: {
            auto value = read_value(r, types[i]);
            if (!value) {
                return value.error();
            }
            row[i] = value.value();
            break;
        }
        case 1:
            row[i].kind = ParamValue::Kind::null;
            break;
        case 2:
            row[i].kind = ParamValue::Kind::default_value;
            break;
        case 3:
            row[i].kind = ParamValue::Kind::ignore;
            break;
        default:
            return ProtocolErrc::malformed;
        }
    }
    return row;
}

std::uint8_t bulk_indicator(ParamValue::Kind kind) noexcept {
    switch (kind) {
    case ParamValue::Kind::value:
        return 0;
    case ParamValue::Kind::default_value:
        return 2;
    case ParamValue::Kind::ignore:
        return 3;
    case ParamValue::Kind::null:
    case ParamValue::Kind::long_data:
        break;
    }
    return 1;
}

}  // namespace

Result<StmtBulkExecute> decode_stmt_bulk_execute(ByteView payload, std::uint16_t param_count,
                                                 std::span<const ParamType> previous_types) {
    ByteReader r(payload);
    const std::uint8_t command = r.u8();
    StmtBulkExecute bulk;
    bulk.statement_id = r.u32();
    bulk.flags = r.u16();
    if (!r.ok()) {
        return r.failure();
    }
    constexpr std::uint16_t known = bulk_flag::send_types_to_server | bulk_flag::send_unit_results;
    if (command != static_cast<std::uint8_t>(Command::mariadb_stmt_bulk_execute) || (bulk.flags & ~known) != 0 ||
        param_count == 0) {
        return ProtocolErrc::malformed;  // the server refuses these, and statements without parameters
    }
    auto types = (bulk.flags & bulk_flag::send_types_to_server) ? read_types(r, param_count)
                                                                 : previous(previous_types, param_count);
    if (!types) {
        return types.error();
    }
    bulk.types = std::move(types).value();
    do {  // rows until the end of the packet, at least one
        auto row = read_bulk_row(r, bulk.types);
        if (!row) {
            return row.error();
        }
        bulk.rows.push_back(std::move(row).value());
    } while (!r.at_end());
    return bulk;
}

Bytes encode_stmt_bulk_execute(const StmtBulkExecute& bulk) {
    Bytes out{static_cast<std::uint8_t>(Command::mariadb_stmt_bulk_execute)};
    write_u32(out, bulk.statement_id);
    write_u16(out, bulk.flags);
    if (bulk.flags & bulk_flag::send_types_to_server) {
        for (const ParamType& t : bulk.types) {
            write_u8(out, t.type);
            write_u8(out, t.flags);
        }
    }
    for (const auto& row : bulk.rows) {
        for (std::size_t i = 0; i < row.size(); ++i) {
            write_u8(out, bulk_indicator(row[i].kind));
            if (row[i].kind == ParamValue::Kind::value) {
                write_value(out, i < bulk.types.size() ? bulk.types[i] : ParamType{}, row[i].bytes);
            }
        }
    }
    return out;
}

}  // namespace uniqgate::protocol
