#!/usr/bin/python3
"""Junk on the wire must not hurt the proxy: raw sockets send garbage to the proxy port (before,
during and after the handshake), then normal clients must still work and the proxy must still run.
An unknown command after a good login must get the same error through the proxy as directly.
Run by harness/run.py (single)."""
import os
import random
import socket
import struct
import sys
import time
from pathlib import Path

import pymysql

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "harness"))
import ug  # noqa: E402

HOST = os.environ["UG_HOST"]
PROXY = int(os.environ["UG_PROXY_PORT"])
DIRECT = int(os.environ["UG_DIRECT_PORT"])


def packet(seq: int, payload: bytes) -> bytes:
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload


def junk_connection(label: str, send_first: bool, data: bytes, read_after: bool = True):
    t0 = time.monotonic()
    with socket.create_connection((HOST, PROXY), timeout=5) as s:
        got = b""
        if not send_first:
            got = s.recv(4096)  # the greeting
        try:
            s.sendall(data)
            if read_after:
                s.settimeout(2)
                got += s.recv(4096)
        except (socket.timeout, ConnectionError):
            pass
    print(f"junk [{label}]: {len(data)} bytes sent, {len(got)} bytes back, {time.monotonic() - t0:.2f} s")


def login(port: int):
    return pymysql.connect(host=HOST, port=port, user=os.environ["UG_USER"],
                           password=os.environ["UG_PASSWORD"], database="shop", connect_timeout=5,
                           read_timeout=10)


def works(label: str):
    conn = login(PROXY)
    with conn.cursor() as cur:
        cur.execute("SELECT 40 + 2, DATABASE()")
        row = cur.fetchone()
    conn.close()
    assert row == (42, "shop"), row
    print(f"normal client after {label}: ok")


def unknown_command(port: int):
    conn = login(port)
    try:
        conn._execute_command(0x7E, b"junk")  # no such command
        conn._read_ok_packet()
        return "no error"
    except pymysql.MySQLError as e:
        return e.args[0]
    finally:
        try:
            conn.close()
        except pymysql.MySQLError:
            pass


def proxy_alive() -> bool:
    env = ug.read_env(Path(os.environ["UG_IT_STATE"]) / "proxy" / "env")
    pid = int(env.get("pid", "0") or 0)
    return pid == 0 or ug.proc_start_time(pid) == env.get("start_time")


def main():
    rnd = random.Random(42)
    junk_connection("random bytes before greeting", True, rnd.randbytes(4096), read_after=False)
    junk_connection("http request", True, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    junk_connection("TLS hello without SSLRequest", False, bytes.fromhex("16030100a5010000a10303") + rnd.randbytes(160))
    junk_connection("garbage handshake response", False, packet(1, rnd.randbytes(200)))
    junk_connection("truncated handshake response", False, packet(1, b"\x0d\xa2")[:6])
    junk_connection("huge length header", False, b"\xff\xff\xff\x01" + rnd.randbytes(100), read_after=False)
    junk_connection("zero-length packet", False, packet(1, b""))
    junk_connection("wrong sequence id", False, packet(7, b"\x0d\xa2\x00\x00" + b"\x00" * 28 + b"app\x00\x00"))
    junk_connection("short SSLRequest", False, packet(1, b"\x00\x08"))
    works("handshake junk")
    for i in range(20):
        junk_connection(f"random #{i}", rnd.random() < 0.5, rnd.randbytes(rnd.randint(1, 70000)), read_after=False)
    works("random junk")
    d, p = unknown_command(DIRECT), unknown_command(PROXY)
    print(f"unknown command: direct error {d}, proxy error {p}")
    if d != p:
        sys.exit("unknown command: the proxy answered differently from the server")
    works("unknown command")
    if not proxy_alive():
        sys.exit("the proxy process died")
    print("proxy still running")


if __name__ == "__main__":
    main()
