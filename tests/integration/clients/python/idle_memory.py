#!/usr/bin/python3
"""Idle connections must not hold receive buffers: opens many connections through a uniqgate of
its own (no TLS on either leg, so only uniqgate's own memory counts), runs a query returning an
8 KiB row on each, and checks how much the proxy's resident set grew per connection while they
all sit idle. Sessions that kept their two 64 KiB buffers grew by about 132 KiB each; with
buffers taken from the loop's pool only while bytes are in flight, by about 5 KiB. The proxy's
own account (admin /metrics, uniqgate_receive_buffer_bytes) must agree: a few pooled blocks kept
for reuse, not two per connection.
Run by harness/run.py (single)."""
import os
import sys
import time
import urllib.request
from pathlib import Path

import pymysql

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "harness"))
import ug  # noqa: E402

CONNECTIONS = 150
LIMIT_KIB_PER_CONNECTION = 32
BLOCK_BYTES = 64 * 1024
# The connections are opened one after another, so a few blocks are ever in use at once.
LIMIT_BUFFER_BYTES = 16 * BLOCK_BYTES


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def metric(admin_port: int, name: str) -> int:
    with urllib.request.urlopen(f"http://{os.environ['UG_HOST']}:{admin_port}/metrics", timeout=5) as answer:
        for line in answer.read().decode().splitlines():
            if line.startswith(name + " "):
                return int(float(line.split()[1]))
    raise RuntimeError(f"no {name} in /metrics")


def connect_and_query(port: int):
    conn = pymysql.connect(host=os.environ["UG_HOST"], port=port, user=os.environ["UG_USER"],
                           password=os.environ["UG_PASSWORD"], database="shop", connect_timeout=10,
                           read_timeout=30)
    with conn.cursor() as cur:
        cur.execute("SELECT REPEAT('x', 8192)")
        assert len(cur.fetchone()[0]) == 8192
    return conn


def main():
    state = Path(os.environ["UG_IT_STATE"]) / "idle_memory"
    env = ug.start_proxy(state, int(os.environ["UG_DIRECT_PORT"]), tls=False)
    conns = []
    try:
        if env["kind"] != "uniqgate":
            print(f"proxy kind {env['kind']}: uniqgate's memory is not under test; skipped")
            return
        pid, port = int(env["pid"]), int(env["port"])
        connect_and_query(port).close()  # start-up allocations out of the way
        before = rss_kib(pid)
        for _ in range(CONNECTIONS):
            conns.append(connect_and_query(port))
        time.sleep(0.5)
        idle = rss_kib(pid)
        per_connection = (idle - before) / CONNECTIONS
        print(f"VmRSS {before} KiB before, {idle} KiB with {CONNECTIONS} idle connections: "
              f"{per_connection:.1f} KiB per connection (limit {LIMIT_KIB_PER_CONNECTION})")
        if per_connection > LIMIT_KIB_PER_CONNECTION:
            sys.exit("idle connections hold too much memory: receive buffers not given back?")
        buffers = metric(int(env["admin_port"]), "uniqgate_receive_buffer_bytes")
        print(f"uniqgate_receive_buffer_bytes {buffers} with {CONNECTIONS} idle connections "
              f"(limit {LIMIT_BUFFER_BYTES})")
        if not BLOCK_BYTES <= buffers <= LIMIT_BUFFER_BYTES:
            sys.exit("uniqgate_receive_buffer_bytes should count the few pooled blocks kept for reuse")
    finally:
        for conn in conns:
            conn.close()
        ug.stop_proxy(state)


if __name__ == "__main__":
    main()
