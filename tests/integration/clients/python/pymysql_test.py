#!/usr/bin/python3
"""PyMySQL workload (text protocol), printed deterministically for harness/run.py compare.

Covers: queries and column metadata, executemany, status flags across transactions, warnings,
errors, LOAD DATA LOCAL INFILE, multi-statements, a procedure with several result sets,
unbuffered reads, COM_PING, COM_INIT_DB (select_db), blobs over 16 MiB and on the exact 16 MiB
packet boundaries, all over plain TCP and over TLS.
"""
import hashlib
import os
import random
import ssl
import sys
import time

import pymysql
from pymysql.constants import CLIENT, SERVER_STATUS

T = "py"  # table prefix of this test (tests may run in parallel against one server)
MAX_PACKET = 0xFFFFFF  # payload size that forces a continuation packet


def connect(tls: bool, **kw):
    ctx = None
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # the proxy's certificate is self-signed
    return pymysql.connect(
        host=os.environ["UG_HOST"], port=int(os.environ["UG_PORT"]),
        user=os.environ["UG_USER"], password=os.environ["UG_PASSWORD"], database="shop",
        charset="utf8mb4", local_infile=True, max_allowed_packet=64 * 1024 * 1024,
        client_flag=CLIENT.MULTI_STATEMENTS, autocommit=True, ssl=ctx, connect_timeout=10, read_timeout=60,
        **kw)


def in_trans(conn) -> bool:
    return bool(conn.server_status & SERVER_STATUS.SERVER_STATUS_IN_TRANS)


def show(label, value):
    print(f"{label}: {value!r}")


def error_of(fn):
    try:
        fn()
        return "no error"
    except pymysql.MySQLError as e:
        return f"{type(e).__name__}{e.args}"


def basic(conn, tls: bool):
    cur = conn.cursor()
    show("client tls", isinstance(conn._sock, ssl.SSLSocket))
    cur.execute(f"DROP TABLE IF EXISTS {T}_items")
    cur.execute(f"""CREATE TABLE {T}_items (
        id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40) NOT NULL, model VARCHAR(20),
        qty INT, price DECIMAL(10,2), note TEXT, delete_status TINYINT NOT NULL DEFAULT 0)""")
    n = cur.execute(f"INSERT INTO {T}_items (name, model, qty, price) VALUES (%s, %s, %s, %s)",
                    ("apple", "A1", 3, "1.50"))
    show("insert rowcount, lastrowid", (n, cur.lastrowid))
    rows = [(f"item{i}", f"M{i % 5}", i, f"{i}.25") for i in range(200)]
    n = cur.executemany(f"INSERT INTO {T}_items (name, model, qty, price) VALUES (%s, %s, %s, %s)", rows)
    show("executemany insert rowcount, lastrowid", (n, cur.lastrowid))
    n = cur.executemany(f"UPDATE {T}_items SET qty = qty + %s WHERE model = %s", [(1, "M1"), (2, "M2")])
    show("executemany update rowcount", n)
    cur.execute(f"SELECT id, name, model, qty, price, note FROM {T}_items ORDER BY id LIMIT 5")
    show("description", [(d[0], d[1]) for d in cur.description])
    for r in cur.fetchall():
        show("row", r)
    cur.execute("SELECT 'Ünïcødé ✓ 🐬', CHAR_LENGTH('🐬'), NULL, 1.5e10, CAST(-1 AS SIGNED), X'00ff'")
    show("types", cur.fetchone())

    # warnings and errors
    cur.execute("SELECT CAST('12abc' AS SIGNED)")
    show("warning_count", conn.warning_count if hasattr(conn, "warning_count") else cur._result.warning_count)
    show("show warnings", conn.show_warnings())
    show("unknown table", error_of(lambda: cur.execute("SELECT * FROM no_such_table")))
    show("syntax", error_of(lambda: cur.execute("SELEC 1")))
    show("duplicate", error_of(lambda: cur.execute(f"INSERT INTO {T}_items (id, name) VALUES (1, 'x')")))
    show("still usable", (cur.execute("SELECT 1"), cur.fetchone()))

    # transactions and the status flags the server reports in OK packets
    show("autocommit", conn.get_autocommit())
    show("in trans at start", in_trans(conn))
    conn.begin()
    show("in trans after BEGIN", in_trans(conn))
    cur.execute(f"INSERT INTO {T}_items (name) VALUES ('rolled back')")
    conn.rollback()
    show("in trans after ROLLBACK", in_trans(conn))
    conn.autocommit(False)
    cur.execute(f"INSERT INTO {T}_items (name) VALUES ('committed')")
    show("in trans (autocommit off)", in_trans(conn))
    conn.commit()
    conn.autocommit(True)
    cur.execute(f"SELECT COUNT(*), SUM(qty) FROM {T}_items")
    show("count after transactions", cur.fetchone())


def load_data(conn, workdir):
    cur = conn.cursor()
    path = os.path.join(workdir, "load.csv")
    with open(path, "w") as f:
        for i in range(5000):
            f.write(f"load{i}\tL{i % 9}\t{i}\t{i % 100}.{i % 10}\n")
    n = cur.execute(f"LOAD DATA LOCAL INFILE %s INTO TABLE {T}_items (name, model, qty, price)", (path,))
    show("load data rowcount", n)
    cur.execute(f"SELECT COUNT(*), SUM(qty), SUM(price) FROM {T}_items WHERE name LIKE 'load%%'")
    show("loaded", cur.fetchone())
    show("load missing file", error_of(lambda: cur.execute(
        f"LOAD DATA LOCAL INFILE '/nonexistent/file.csv' INTO TABLE {T}_items (name)")))
    show("still usable", (cur.execute("SELECT 2"), cur.fetchone()))


def multi(conn):
    cur = conn.cursor()
    cur.execute(f"DROP PROCEDURE IF EXISTS {T}_report")
    cur.execute(f"""CREATE PROCEDURE {T}_report(IN lim INT)
        BEGIN
          SELECT COUNT(*) AS n FROM {T}_items;
          SELECT id, name FROM {T}_items ORDER BY id LIMIT lim;
          UPDATE {T}_items SET note = 'seen' WHERE id <= lim;
          SELECT 'done' AS status;
        END""")
    for sql in (f"CALL {T}_report(3)",
                f"SELECT 1 AS a; SELECT 'two' AS b; UPDATE {T}_items SET qty = 0 WHERE id = 2; SELECT @@autocommit",
                "SELECT 1; SELECT * FROM no_such_table; SELECT 3"):
        print(f"-- {sql}")
        try:
            cur.execute(sql)
            while True:
                show("  result", (cur.rowcount, [d[0] for d in cur.description or []], cur.fetchall()))
                if not cur.nextset():
                    break
        except pymysql.MySQLError as e:
            show("  error", e.args)
    show("still usable", (cur.execute("SELECT 4"), cur.fetchone()))
    cur.execute(f"DROP PROCEDURE {T}_report")


def unbuffered(conn):
    cur = conn.cursor(pymysql.cursors.SSCursor)
    cur.execute("SELECT seq, REPEAT('z', seq % 50) FROM seq_1_to_100000")
    count = total = 0
    h = hashlib.sha256()
    for seq, pad in cur:
        count += 1
        total += seq
        h.update(pad.encode())
    cur.close()
    show("unbuffered rows", (count, total, h.hexdigest()))


def session_commands(conn):
    cur = conn.cursor()
    cur.execute("SET @v := 7")
    conn.ping(reconnect=False)
    cur.execute("SELECT @v, DATABASE()")
    show("after ping", cur.fetchone())
    conn.select_db("mysql")
    cur.execute("SELECT DATABASE(), @v")
    show("after select_db(mysql)", cur.fetchone())
    show("select_db(unknown)", error_of(lambda: conn.select_db("no_such_db")))
    conn.select_db("shop")
    cur.execute("SELECT DATABASE()")
    show("after select_db(shop)", cur.fetchone())


def blobs(conn):
    cur = conn.cursor()
    cur.execute(f"DROP TABLE IF EXISTS {T}_blobs")
    cur.execute(f"CREATE TABLE {T}_blobs (id INT PRIMARY KEY, b LONGBLOB)")
    rnd = random.Random(1234)
    # random letters and digits: nothing to escape, so the SQL text length is exact
    alnum = bytes.maketrans(bytes(range(256)), bytes(b"abcdefghijklmnopqrstuvwxyz0123456789"[i % 36] for i in range(256)))
    # 1: 17 MiB of arbitrary bytes (escaped by the client), several 16 MiB packets each way.
    big = rnd.randbytes(17 * 1024 * 1024)
    # 2: a COM_QUERY whose payload is exactly 0xFFFFFF bytes (then an empty packet must follow).
    head, tail = f"INSERT INTO {T}_blobs VALUES (2, '".encode(), b"')"
    exact_q = rnd.randbytes(MAX_PACKET - 1 - len(head) - len(tail)).translate(alnum)
    # 3: a row packet of exactly 0xFFFFFF bytes: 4-byte length prefix + value.
    exact_row = rnd.randbytes(MAX_PACKET - 4).translate(alnum)
    # 4: just under and just over the boundary
    small_values = {4: b"x" * (MAX_PACKET - 5), 5: b"y" * (MAX_PACKET + 1)}

    t0 = time.monotonic()
    cur.execute(f"INSERT INTO {T}_blobs VALUES (1, %s)", (big,))
    cur.execute((head + exact_q + tail).decode())
    cur.execute(f"INSERT INTO {T}_blobs VALUES (3, %s)", (exact_row,))
    for k, v in small_values.items():
        cur.execute(f"INSERT INTO {T}_blobs VALUES (%s, %s)", (k, v))
    expected = {1: big, 2: exact_q, 3: exact_row, **small_values}
    for k, v in sorted(expected.items()):
        cur.execute(f"SELECT b, LENGTH(b), SHA2(b, 256) FROM {T}_blobs WHERE id = %s", (k,))
        got, length, server_sha = cur.fetchone()
        ok = got == v and server_sha == hashlib.sha256(v).hexdigest()
        show(f"blob {k}", (length, hashlib.sha256(got).hexdigest()[:16], "roundtrip ok" if ok else "MISMATCH"))
        if not ok:
            sys.exit(f"blob {k} did not survive the round trip")
    print(f"(blobs took {time.monotonic() - t0:.1f} s)", file=sys.stderr)
    cur.execute(f"DROP TABLE {T}_blobs")


def main():
    workdir = os.path.join(os.environ.get("UG_IT_STATE", "/tmp"), "work", "python")
    os.makedirs(workdir, exist_ok=True)
    for tls in (False, True):
        print(f"==== tls={tls}")
        conn = connect(tls)
        basic(conn, tls)
        load_data(conn, workdir)
        multi(conn)
        unbuffered(conn)
        session_commands(conn)
        blobs(conn)
        conn.cursor().execute(f"DROP TABLE {T}_items")
        conn.close()


if __name__ == "__main__":
    main()
