#!/usr/bin/env python3
"""Capture golden packet transcripts from a throwaway MariaDB with a raw-socket client.

Usage: capture_mariadb.py <port> <output file>  (the server needs --local-infile=1).

Output format (one transcript per block):
  = name
  caps <hex negotiated client capabilities>
  C <seq> <payload hex>     client frame
  S <seq> <payload hex>     server frame
"""
import socket, struct, sys, time

PORT = int(sys.argv[1])
OUT = sys.argv[2]

CAP = {n: 1 << i for i, n in enumerate(
    "long_password found_rows long_flag connect_with_db no_schema compress odbc local_files ignore_space "
    "protocol_41 interactive ssl ignore_sigpipe transactions reserved secure_connection multi_statements "
    "multi_results ps_multi_results plugin_auth connect_attrs plugin_auth_lenenc".split())}
SESSION_TRACK = 1 << 23
DEPRECATE_EOF = 1 << 24
MARIADB_PROGRESS = 1 << 32

BASE = (CAP["long_flag"] | CAP["local_files"] | CAP["protocol_41"] | CAP["transactions"] | CAP["secure_connection"]
        | CAP["multi_statements"] | CAP["multi_results"] | CAP["ps_multi_results"] | CAP["plugin_auth"]
        | CAP["connect_attrs"] | CAP["plugin_auth_lenenc"] | SESSION_TRACK | MARIADB_PROGRESS)


class Conn:
    def __init__(self, caps):
        self.s = socket.create_connection(("127.0.0.1", PORT))
        self.buf = b""
        self.events = []
        self.caps = caps
        self.seq = 0

    def read_frame(self, timeout):
        deadline = time.time() + timeout
        while True:
            if len(self.buf) >= 4:
                n = self.buf[0] | self.buf[1] << 8 | self.buf[2] << 16
                if len(self.buf) >= 4 + n:
                    seq, payload = self.buf[3], self.buf[4:4 + n]
                    self.buf = self.buf[4 + n:]
                    self.events.append(("S", seq, payload))
                    self.seq = (seq + 1) & 0xFF
                    return payload
            left = deadline - time.time()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                data = self.s.recv(1 << 20)
            except socket.timeout:
                return None
            if not data:
                return None
            self.buf += data
            deadline = time.time() + timeout  # idle timeout

    def send(self, payload, seq=None):
        if seq is not None:
            self.seq = seq
        off = 0
        while True:
            chunk = payload[off:off + 0xFFFFFF]
            self.s.sendall(struct.pack("<I", len(chunk))[:3] + bytes([self.seq]) + chunk)
            self.events.append(("C", self.seq, chunk))
            self.seq = (self.seq + 1) & 0xFF
            off += len(chunk)
            if len(chunk) < 0xFFFFFF:
                break

    def handshake(self):
        self.read_frame(5)
        low = self.caps & 0xFFFFFFFF
        resp = struct.pack("<IIB", low, 1 << 24, 45) + b"\0" * 19 + struct.pack("<I", self.caps >> 32)
        resp += b"root\0" + b"\0"  # empty password: lenenc empty auth response
        resp += b"mysql_native_password\0"
        attrs = b"".join(bytes([len(x)]) + x for x in (b"_client_name", b"uniqgate-capture", b"_pid", b"42"))
        resp += bytes([len(attrs)]) + attrs
        self.send(resp)
        ok = self.read_frame(5)
        assert ok and ok[0] == 0, ok

    def command(self, payload, handler=None, timeout=0.6):
        self.events = []
        self.send(payload, 0)
        while True:
            p = self.read_frame(timeout)
            if p is None:
                break
            if handler:
                handler(self, p)
        return self.events


def write_block(out, name, caps, events):
    out.write(f"= {name}\ncaps {caps:x}\n")
    for d, seq, p in events:
        out.write(f"{d} {seq} {p.hex()}\n")
    out.write("\n")


def infile_handler(big):
    def h(conn, p):
        if p[:1] == b"\xfb":
            if big:
                conn.send(b"a" * 0xFFFFFF)  # exactly 0xFFFFFF bytes, then an empty continuation frame
            else:
                conn.send(b"1\n2\n3\n")
            conn.send(b"")
    return h


def change_user_handler(conn, p):
    if p[:1] == b"\xfe":
        conn.send(b"")  # native password, empty password: empty auth data


def scenarios(conn, out, label):
    caps = conn.caps
    q = lambda sql: b"\x03" + sql.encode()
    pq = lambda sql: b"\x16" + sql.encode()
    def rec(name, payload, handler=None, timeout=0.6, keep=True):
        ev = conn.command(payload, handler, timeout)
        if keep:
            write_block(out, f"{label}.{name}", caps, ev)
        return ev

    db = "fx_" + label
    conn.command(q(f"DROP DATABASE IF EXISTS {db}"))
    conn.command(q(f"CREATE DATABASE {db}"))
    conn.command(b"\x02" + db.encode())
    conn.command(q("CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20))"))
    conn.command(q("CREATE PROCEDURE p() BEGIN SELECT 1 AS a; SELECT 'x' AS b, NULL AS c; END"))

    rec("query_ok", q("DO 1"))
    rec("query_err", q("SELECT * FROM no_such_table"))
    rec("insert_info", q("INSERT INTO t VALUES (1,'a'),(2,NULL)"))
    rec("autocommit_off", q("SET autocommit=0"))
    rec("begin", q("BEGIN"))
    rec("rollback", q("ROLLBACK"))
    rec("autocommit_on", q("SET autocommit=1"))
    rec("select_rows", q("SELECT id, name FROM t ORDER BY id"))
    rec("select_empty", q("SELECT id FROM t WHERE id < 0"))
    rec("multi_statements", q("SELECT 1; DO 2; SELECT 'z'"))
    rec("multi_error", q("SELECT 1; SELECT * FROM no_such_table; SELECT 2"))
    rec("call_procedure", q("CALL p()"))
    rec("local_infile", q("LOAD DATA LOCAL INFILE 'x' INTO TABLE t (id)"), infile_handler(False))
    rec("select_null_first", q("SELECT NULL, 1"))
    rec("field_list", b"\x04t\0")
    rec("statistics", b"\x09")
    rec("ping", b"\x0e")
    rec("init_db", b"\x02" + db.encode())
    rec("init_db_err", b"\x02no_such_db")
    rec("set_option_multi_on", b"\x1b\x00\x00")
    rec("process_info", b"\x0a")
    rec("process_kill_err", b"\x0c\xff\xff\xff\x00")
    rec("unknown_command", b"\x13")
    prep = rec("prepare", pq("SELECT id, name, ? AS x FROM t WHERE id > ?"))
    stmt_id = struct.unpack("<I", prep[1][2][1:5])[0]
    rec("prepare_no_params", pq("SELECT 1"))
    rec("prepare_params_only", pq("DO ?"))
    rec("prepare_none", pq("DO 1"))
    rec("prepare_err", b"\x16SELECT FROM")
    # COM_STMT_EXECUTE: id, flags, iteration count, null bitmap(1), new-params-bound=1, types, values
    params = b"\x00" + b"\x01" + b"\x08\x00\x08\x00" + struct.pack("<qq", 7, 0)
    rec("execute", b"\x17" + struct.pack("<IBI", stmt_id, 0, 1) + params)
    rec("execute_cursor", b"\x17" + struct.pack("<IBI", stmt_id, 1, 1) + params)
    rec("fetch_one", b"\x1c" + struct.pack("<II", stmt_id, 1))
    rec("fetch_rest", b"\x1c" + struct.pack("<II", stmt_id, 10))
    rec("stmt_reset", b"\x1a" + struct.pack("<I", stmt_id))
    rec("stmt_close", b"\x19" + struct.pack("<I", stmt_id))
    prep_dml = conn.command(b"\x16" + b"INSERT INTO t VALUES (?, 'q')")
    dml_id = struct.unpack("<I", prep_dml[1][2][1:5])[0]
    rec("execute_dml", b"\x17" + struct.pack("<IBI", dml_id, 0, 1) + b"\x00\x01\x08\x00" + struct.pack("<q", 99))
    rec("reset_connection", b"\x1f")
    # COM_CHANGE_USER naming a plugin the account does not use: the server switches.
    cu = b"\x11root\0" + b"\0" + db.encode() + b"\0" + struct.pack("<H", 45) + b"caching_sha2_password\0"
    attrs = b"\x04_pid\x0242"
    cu += bytes([len(attrs)]) + attrs
    rec("change_user_switch", cu, change_user_handler)
    cu_native = b"\x11root\0" + b"\0" + db.encode() + b"\0" + struct.pack("<H", 45) + b"mysql_native_password\0" + bytes([len(attrs)]) + attrs
    rec("change_user_native", cu_native, change_user_handler)
    big_infile = q("LOAD DATA LOCAL INFILE 'x' INTO TABLE t IGNORE 1000000 LINES (id)")
    record_big_block(out, f"{label}.local_infile_big", caps, conn.command(big_infile, infile_handler(True), 10))
    record_big_block(out, f"{label}.select_big_row", caps, conn.command(q("SELECT REPEAT('x', 16777216), 1"), None, 10))


def record_big_block(out, name, caps, events):
    # Large payloads are stored as BIG<length>:<first bytes>; the test rebuilds them.
    out.write(f"= {name}\ncaps {caps:x}\n")
    for d, seq, p in events:
        text = f"BIG{len(p)}:{p[:16].hex()}" if len(p) >= 0xFFFF else p.hex()
        out.write(f"{d} {seq} {text}\n")
    out.write("\n")


def main():
    with open(OUT, "w") as out:
        out.write("# Captured from MariaDB 10.11 by a raw-socket client; see capture_mariadb.py.\n\n")
        setup = Conn(BASE)
        setup.handshake()
        setup.command(b"\x03SET GLOBAL max_allowed_packet=67108864")
        c = Conn(BASE)
        c.events = []
        c.handshake()
        write_block(out, "handshake", BASE, c.events)
        scenarios(c, out, "eof")
        c2 = Conn(BASE | DEPRECATE_EOF)
        c2.handshake()
        scenarios(c2, out, "deprecate_eof")


main()
