#!/usr/bin/python3
"""A proxy whose backend port is closed: clients must get a MySQL error quickly (no hang), again
and again, and the proxy must stay up. Starts its own proxy instance (same kind as the fixture's).
Run by harness/run.py (single)."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pymysql

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "harness"))
import ug  # noqa: E402

LIMIT_S = 5.0
# Errors a client raises on its own when the connection just drops: not a proper answer.
DROPPED = {2006, 2013, 2055}


def main():
    state = Path(os.environ["UG_IT_STATE"]) / "unreachable"
    closed_port = ug.free_port()  # bound and released: nothing listens there
    env = ug.start_proxy(state, closed_port)
    kind, port = env["kind"], int(env["port"])
    print(f"proxy kind {kind}, backend 127.0.0.1:<closed>")
    failures = []
    try:
        for attempt in range(3):
            t0 = time.monotonic()
            try:
                pymysql.connect(host=os.environ["UG_HOST"], port=port, user="app", password="app_pw",
                                connect_timeout=15, read_timeout=15)
                failures.append("pymysql: connected although the backend is down")
                code, msg = None, ""
            except pymysql.MySQLError as e:
                code, msg = e.args[0], e.args[1] if len(e.args) > 1 else ""
            dt = time.monotonic() - t0
            print(f"pymysql attempt {attempt}: error {code} after {dt:.2f} s: {msg}")
            if dt > LIMIT_S:
                failures.append(f"pymysql attempt {attempt}: took {dt:.1f} s (limit {LIMIT_S} s)")
            if kind == "uniqgate" and code in DROPPED:
                failures.append(f"pymysql attempt {attempt}: connection dropped ({code}) instead of an ERR packet")

        t0 = time.monotonic()
        p = subprocess.run(["mariadb", "--no-defaults", "-h", os.environ["UG_HOST"], "-P", str(port),
                            "-uapp", "-papp_pw", "--connect-timeout=15", "-e", "SELECT 1"],
                           capture_output=True, text=True, timeout=60)
        dt = time.monotonic() - t0
        print(f"mariadb CLI: exit {p.returncode} after {dt:.2f} s: {p.stderr.strip()}")
        if p.returncode == 0:
            failures.append("mariadb CLI: connected although the backend is down")
        if dt > LIMIT_S:
            failures.append(f"mariadb CLI: took {dt:.1f} s (limit {LIMIT_S} s)")
        if kind == "uniqgate" and "ERROR 2013" in p.stderr:
            failures.append("mariadb CLI: connection dropped (2013) instead of an ERR packet")

        pid = int(env["pid"])
        if pid and ug.proc_start_time(pid) != env["start_time"]:
            failures.append("the proxy exited")
    finally:
        ug.stop_proxy(state)
    if failures:
        print("--- proxy log tail ---\n" + ug.log_tail(state / "proxy.log"))
        sys.exit("FAILED:\n  " + "\n  ".join(failures))
    print("ok")


if __name__ == "__main__":
    main()
