#!/usr/bin/python3
"""A raw-protocol client for statement id 0xFFFFFFFF, MariaDB's "the statement prepared last on
this connection" (what Connector/C's mariadb_stmt_execute_direct sends). No library client lets a
test choose the id, so this speaks the protocol itself: mysql_native_password, no TLS, no
CLIENT_DEPRECATE_EOF.

    last_prepared_client.py HOST PORT USER PASSWORD DATABASE TABLE

Prepares an INSERT on TABLE (a rule table) and `SELECT ? + 1`, executes the INSERT by its id
(through uniqgate in serialize mode that makes the proxy prepare its own existence check, which is
then the last statement prepared on the backend connection), then executes id 0xFFFFFFFF: the
client means its SELECT. Then prepares the INSERT again and executes 0xFFFFFFFF twice with another
key and the same one. Prints one JSON line of the answers.
"""
import hashlib
import json
import socket
import struct
import sys

LAST_PREPARED = 0xFFFFFFFF
CAPS = (1 | 4 | 8 | 0x200 | 0x2000 | 0x8000 | 0x80000)  # long_password long_flag connect_with_db
#                                                         protocol_41 transactions secure_connection plugin_auth


class Client:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=20)
        self.buf = b""

    def read(self):
        while True:
            if len(self.buf) >= 4:
                n = int.from_bytes(self.buf[:3], "little")
                if len(self.buf) >= 4 + n:
                    payload, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
                    return payload
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("server closed the connection")
            self.buf += data

    def send(self, payload, seq=0):
        self.sock.sendall(len(payload).to_bytes(3, "little") + bytes([seq]) + payload)

    def login(self, user, password, database):
        greeting = self.read()
        rest = greeting[1:]
        rest = rest[rest.index(b"\0") + 1:]
        scramble = rest[4:12]
        rest = rest[13:]
        auth_len = rest[7]
        scramble += rest[18:18 + max(13, auth_len - 8) - 1]
        token = b""
        if password:
            h1 = hashlib.sha1(password.encode()).digest()
            h2 = hashlib.sha1(h1).digest()
            token = bytes(a ^ b for a, b in zip(h1, hashlib.sha1(scramble + h2).digest()))
        response = (struct.pack("<IIB", CAPS, 1 << 24, 45) + b"\0" * 23 + user.encode() + b"\0" +
                    bytes([len(token)]) + token + database.encode() + b"\0" + b"mysql_native_password\0")
        self.send(response, 1)
        answer = self.read()
        if answer[0] != 0:
            raise RuntimeError(f"login failed: {answer!r}")

    def skip_eof_terminated(self):
        while self.read()[0] != 0xFE:
            pass

    def prepare(self, sql):
        self.send(b"\x16" + sql.encode())
        ok = self.read()
        if ok[0] != 0:
            raise RuntimeError(f"prepare failed: {ok[3:]!r}")
        statement_id, columns, params = struct.unpack("<IHH", ok[1:9])
        if params:
            self.skip_eof_terminated()
        if columns:
            self.skip_eof_terminated()
        return statement_id

    def execute(self, statement_id, values):
        """values: str or int; answers {"ok": affected} | {"error": code} | {"rows": [...]}"""
        types, data = b"", b""
        for v in values:
            if isinstance(v, int):
                types += b"\x08\x00"
                data += struct.pack("<q", v)
            else:
                raw = v.encode()
                types += b"\xfd\x00"
                data += bytes([len(raw)]) + raw
        bitmap = bytes((len(values) + 7) // 8)
        self.send(b"\x17" + struct.pack("<IBI", statement_id, 0, 1) + bitmap + b"\x01" + types + data)
        first = self.read()
        if first[0] == 0x00:
            return {"ok": first[1]}
        if first[0] == 0xFF:
            return {"error": struct.unpack("<H", first[1:3])[0], "message": first[9:].decode(errors="replace")}
        columns = first[0]
        for _ in range(columns):
            self.read()
        self.read()  # EOF after the definitions
        rows = []
        while True:
            row = self.read()
            if row[0] == 0xFE and len(row) < 9:
                return {"rows": rows}
            rows.append(row[1 + (columns + 9) // 8:].hex())


def main():
    host, port, user, password, database, table = sys.argv[1:7]
    c = Client(host, int(port))
    c.login(user, password, database)
    insert = f"INSERT INTO {table} (name, model, price) VALUES (?, ?, ?)"
    answers = {}
    first = c.prepare(insert)
    c.prepare("SELECT ? + 1")
    answers["insert by id"] = c.execute(first, ["lp_a", "m", 1])
    answers["last prepared = the SELECT"] = c.execute(LAST_PREPARED, [41])
    c.prepare(insert)
    answers["last prepared = the INSERT again"] = c.execute(LAST_PREPARED, ["lp_b", "m", 2])
    answers["last prepared, a live key"] = c.execute(LAST_PREPARED, ["LP_B", "m", 3])
    print(json.dumps(answers))


if __name__ == "__main__":
    main()
