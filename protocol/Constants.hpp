#pragma once
// Protocol constants: capability flags, status flags, commands, packet headers.
// https://mariadb.com/kb/en/connection/ and MySQL's include/mysql_com.h

#include <cstdint>

namespace uniqgate::protocol {

using Capabilities = std::uint64_t;  // low 32 bits: MySQL; high 32: MariaDB extended

namespace cap {
inline constexpr Capabilities long_password = 1ULL << 0;  // "CLIENT_MYSQL" on MariaDB
inline constexpr Capabilities found_rows = 1ULL << 1;
inline constexpr Capabilities long_flag = 1ULL << 2;
inline constexpr Capabilities connect_with_db = 1ULL << 3;
inline constexpr Capabilities no_schema = 1ULL << 4;
inline constexpr Capabilities compress = 1ULL << 5;
inline constexpr Capabilities odbc = 1ULL << 6;
inline constexpr Capabilities local_files = 1ULL << 7;
inline constexpr Capabilities ignore_space = 1ULL << 8;
inline constexpr Capabilities protocol_41 = 1ULL << 9;
inline constexpr Capabilities interactive = 1ULL << 10;
inline constexpr Capabilities ssl = 1ULL << 11;
inline constexpr Capabilities ignore_sigpipe = 1ULL << 12;
inline constexpr Capabilities transactions = 1ULL << 13;
inline constexpr Capabilities reserved = 1ULL << 14;
inline constexpr Capabilities secure_connection = 1ULL << 15;
inline constexpr Capabilities multi_statements = 1ULL << 16;
inline constexpr Capabilities multi_results = 1ULL << 17;
inline constexpr Capabilities ps_multi_results = 1ULL << 18;
inline constexpr Capabilities plugin_auth = 1ULL << 19;
inline constexpr Capabilities connect_attrs = 1ULL << 20;
inline constexpr Capabilities plugin_auth_lenenc_client_data = 1ULL << 21;
inline constexpr Capabilities can_handle_expired_passwords = 1ULL << 22;
inline constexpr Capabilities session_track = 1ULL << 23;
inline constexpr Capabilities deprecate_eof = 1ULL << 24;
inline constexpr Capabilities optional_resultset_metadata = 1ULL << 25;
inline constexpr Capabilities zstd_compression = 1ULL << 26;
inline constexpr Capabilities query_attributes = 1ULL << 27;
inline constexpr Capabilities multi_factor_authentication = 1ULL << 28;
inline constexpr Capabilities ssl_verify_server_cert = 1ULL << 30;
inline constexpr Capabilities remember_options = 1ULL << 31;
// MariaDB extended capabilities (sent in the last 4 bytes of the handshake filler
// when the server clears bit 0, "CLIENT_MYSQL").
inline constexpr Capabilities mariadb_progress = 1ULL << 32;
inline constexpr Capabilities mariadb_com_multi = 1ULL << 33;
inline constexpr Capabilities mariadb_stmt_bulk_operations = 1ULL << 34;
inline constexpr Capabilities mariadb_extended_type_info = 1ULL << 35;
inline constexpr Capabilities mariadb_cache_metadata = 1ULL << 36;
}  // namespace cap

namespace status {
inline constexpr std::uint16_t in_trans = 0x0001;
inline constexpr std::uint16_t autocommit = 0x0002;
inline constexpr std::uint16_t more_results_exists = 0x0008;
inline constexpr std::uint16_t no_good_index_used = 0x0010;
inline constexpr std::uint16_t no_index_used = 0x0020;
inline constexpr std::uint16_t cursor_exists = 0x0040;
inline constexpr std::uint16_t last_row_sent = 0x0080;
inline constexpr std::uint16_t db_dropped = 0x0100;
inline constexpr std::uint16_t no_backslash_escapes = 0x0200;
inline constexpr std::uint16_t metadata_changed = 0x0400;
inline constexpr std::uint16_t query_was_slow = 0x0800;
inline constexpr std::uint16_t ps_out_params = 0x1000;
inline constexpr std::uint16_t in_trans_readonly = 0x2000;
inline constexpr std::uint16_t session_state_changed = 0x4000;
}  // namespace status

enum class Command : std::uint8_t {
    sleep = 0x00,
    quit = 0x01,
    init_db = 0x02,
    query = 0x03,
    field_list = 0x04,
    create_db = 0x05,
    drop_db = 0x06,
    refresh = 0x07,
    shutdown = 0x08,
    statistics = 0x09,
    process_info = 0x0a,
    connect = 0x0b,
    process_kill = 0x0c,
    debug = 0x0d,
    ping = 0x0e,
    time = 0x0f,
    delayed_insert = 0x10,
    change_user = 0x11,
    binlog_dump = 0x12,
    table_dump = 0x13,
    connect_out = 0x14,
    register_slave = 0x15,
    stmt_prepare = 0x16,
    stmt_execute = 0x17,
    stmt_send_long_data = 0x18,
    stmt_close = 0x19,
    stmt_reset = 0x1a,
    set_option = 0x1b,
    stmt_fetch = 0x1c,
    daemon = 0x1d,
    binlog_dump_gtid = 0x1e,
    reset_connection = 0x1f,
    mariadb_stmt_bulk_execute = 0xfa,
};

namespace header {
inline constexpr std::uint8_t ok = 0x00;
inline constexpr std::uint8_t auth_more_data = 0x01;
inline constexpr std::uint8_t local_infile = 0xfb;
inline constexpr std::uint8_t eof = 0xfe;  // also AuthSwitchRequest during authentication
inline constexpr std::uint8_t err = 0xff;
}  // namespace header

inline constexpr std::uint32_t kMaxFramePayload = 0xffffff;
inline constexpr std::size_t kFrameHeaderSize = 4;

}  // namespace uniqgate::protocol
