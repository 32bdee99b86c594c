#!/usr/bin/python3
"""End-to-end tests that only `mode: dedup` needs: backend restarts, application-generated ids,
DELETE and TRUNCATE, INSERT IGNORE, statement-level failures inside transactions, the statements
dedup mode refuses, start-up without a dedup table, and clients with and without
CLIENT_MULTI_STATEMENTS. The database is counted afterwards (serial_lib's check_table: no live
duplicate, expected keys live, the dedup table holding exactly the live keys).

    dedup_test.py SCENARIO          (see README.md; `dedup_test.py list` lists them)

Needs the MariaDB fixture (UG_IT_STATE/mariadb/env) and UG_PROXY_BIN; UG_SERIALIZE_TARGET picks
uniqgate (default), reference or direct (see serial_lib.py). Exit 0 = pass, 1 = fail, 77 = skip.
"""
import collections
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

os.environ["UG_RULE_MODE"] = "dedup"  # every rule of these scenarios is a dedup rule

import pymysql  # noqa: E402
from pymysql.constants import CLIENT  # noqa: E402

import serial_lib  # noqa: E402
from serial_lib import (HOST, run_main, RULE, TARGET, Scenario, Tally, Uniqgate, close_quietly,  # noqa: E402
                        connect, dup_error_problem, err_code, err_text, rule_yaml, scalar, try_execute, ug)
from serialize_test import expect_dup, expect_ok, insert_sql, keyspace  # noqa: E402

DEDUP = serial_lib.DEDUP
# A lost connection: the client library's own codes, uniqgate's "cannot reach the backend" (2003)
# and what MariaDB tells its sessions while it shuts down (1053 shutdown in progress, 1927 killed).
LOST = {2003, 2006, 2013, 2055, 1053, 1927}
NOT_SUPPORTED = 1235


def dedup_keys(s: Scenario, t) -> set:
    """The keys in t's dedup table, as stored (uniqgate target only)."""
    if not DEDUP:
        return set()
    with s.admin.cursor() as c:
        c.execute(f"SELECT name, model FROM {t.dedup_qualified}")
        return set(c.fetchall())


def snapshot(s: Scenario, t) -> tuple:
    """Everything a refused statement must leave unchanged: t's rows and its dedup table."""
    with s.admin.cursor() as c:
        c.execute(f"SELECT id, name, model, price, note, delete_status FROM {t.qualified} ORDER BY id")
        rows = c.fetchall()
    return rows, sorted(dedup_keys(s, t))


def ids_of(s: Scenario, t, name, model="m") -> list:
    with s.admin.cursor() as c:
        c.execute(f"SELECT id FROM {t.qualified} WHERE name = %s AND model = %s ORDER BY id", (name, model))
        return [r[0] for r in c.fetchall()]


def expect_error(s, what, res_err, code, contains=()):
    res, e = res_err
    if e is None:
        return s.check(False, f"{what}: succeeded (affected {res[0]}), expected error {code}")
    ok = s.check(err_code(e) == code, f"{what}: error {err_code(e)} {err_text(e)!r}, expected {code}")
    for text in contains:
        ok = s.check(text in err_text(e), f"{what}: error {err_text(e)!r} does not mention {text!r}") and ok
    return ok


def expect_primary_dup(s, what, res_err, entry):
    """MySQL's 1062 for the table's own primary key: `Duplicate entry '<id>' for key 'PRIMARY'`."""
    res, e = res_err
    if e is None:
        return s.check(False, f"{what}: succeeded (affected {res[0]}), expected 1062 for key 'PRIMARY'")
    want = f"Duplicate entry '{entry}' for key 'PRIMARY'"
    return s.check(err_code(e) == 1062 and err_text(e) == want and getattr(e, "sqlstate", None) == "23000",
                   f"{what}: got {err_code(e)} ({getattr(e, 'sqlstate', None)}) {err_text(e)!r}, expected {want!r}")


def record(tally, e, what, rule=RULE, name=None, model=None):
    """Counts an error; a 1062 must be the duplicate error of `rule` for (name, model)."""
    tally.stmt(False, err_code(e))
    if err_code(e) == 1062 and name is not None:
        problem = dup_error_problem(e, name, model, rule=rule)
        if problem:
            tally.problem(f"{what}: {problem}")


def in_transaction(conn) -> int:
    return int(scalar(conn, "SELECT @@in_transaction"))


# ------------------------------------------------------------------ 1. backend restart

class FixtureServer:
    """The MariaDB of the integration fixture (scripts/sandbox-mariadb.sh), restarted in place:
    the same command line (port, data dir, socket, options), so the fixture's env and its
    `mariadb-stop` keep working. Only the pid recorded in the fixture's env is ever signalled."""

    def __init__(self):
        self.folder = ug.state_dir() / "mariadb"
        self.env = ug.read_env(self.folder / "env")
        self.pid = int(self.env["pid"])
        self.port = int(self.env["port"])
        self.datadir = self.env["datadir"]
        self.argv = self._cmdline(self.pid)
        if not self.argv:
            raise RuntimeError(f"pid {self.pid} of {self.folder}/env is not the fixture's mariadbd")
        self.lock = threading.Lock()
        self.restarts = []  # (signal name, seconds down)

    def _cmdline(self, pid) -> list:
        try:
            argv = [a.decode() for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:-1]]
        except OSError:
            return []
        ours = argv and "mariadbd" in Path(argv[0]).name and f"--datadir={self.datadir}" in argv
        return argv if ours else []

    def running(self) -> bool:
        try:
            state = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        return state != "Z" and bool(self._cmdline(self.pid))

    def answers(self) -> bool:
        try:
            conn = pymysql.connect(host=HOST, port=self.port, user="app", password="app_pw", connect_timeout=2)
            conn.close()
            return True
        except pymysql.err.MySQLError:
            return False

    def stop(self, sig) -> None:
        if not self.running():
            return
        os.kill(self.pid, sig)
        deadline = time.monotonic() + 60
        while self.running() and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.running():
            raise RuntimeError(f"mariadbd pid {self.pid} did not stop after {sig.name}")

    def start(self) -> None:
        with open(self.env["error_log"], "ab") as log:
            # setsid, like the fixture: the server outlives this test.
            proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    start_new_session=True)
        self.pid = proc.pid
        self.env["pid"] = str(proc.pid)
        ug.write_env(self.folder / "env", self.env)  # mariadb-stop finds the new pid
        deadline = time.monotonic() + 60
        while not self.answers():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mariadbd did not come back on port {self.port} (exit {proc.poll()}); "
                                   f"log: {self.env['error_log']}")
            time.sleep(0.1)

    def restart(self, sig) -> None:
        with self.lock:
            t0 = time.monotonic()
            self.stop(sig)
            self.start()
            self.restarts.append((sig.name, time.monotonic() - t0))

    def ensure_running(self) -> None:
        with self.lock:
            if not self.running():
                self.start()


def reconnect(port, deadline, tally):
    """A new client connection (through uniqgate, or direct), retried while the server is down."""
    while time.monotonic() < deadline:
        try:
            conn = connect(port, read_timeout=15)
            with conn.cursor() as c:  # bound InnoDB's waits like lock.timeout_ms (lost on restart)
                c.execute("SET SESSION innodb_lock_wait_timeout = 5")
            return conn
        except pymysql.err.MySQLError as e:
            tally.stmt(False, err_code(e))  # connecting counts as a statement
            if err_code(e) not in LOST:
                tally.problem(f"connect: unexpected error {err_code(e)} {err_text(e)}")
            time.sleep(0.1)
    return None


def scenario_backend_restart(s: Scenario):
    """16 clients insert, soft delete and re-insert keys while MariaDB restarts (SIGTERM, then SIGKILL)."""
    server = FixtureServer()
    previous_sigterm = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum, frame):  # CTest timeout: the fixture must survive the test
        try:
            server.ensure_running()
        finally:
            previous_sigterm(signum, frame)

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        backend_restart_run(s, server)
    finally:
        server.ensure_running()


def backend_restart_run(s: Scenario, server: FixtureServer):
    stable_t = s.table("stable")                       # keys only ever inserted
    churn_t = s.table("churn", rule="product_churn")   # keys inserted, soft-deleted, re-inserted
    port = s.start(rule_yaml(stable_t) + rule_yaml(churn_t))[0]
    stable, churn = keyspace("st", 600), keyspace("ch", 30, models=3)
    tally, lock = Tally(), threading.Lock()
    answered_ok = collections.Counter()
    uncertain = set()  # stable keys whose INSERT lost its answer
    ok_after_restarts = [0]
    restarts_done = threading.Event()
    budget = 30

    def run(conn, sql, args, what, key=None, rule=RULE):
        res, e = try_execute(conn, sql, args)
        if e is None:
            tally.stmt()
            if restarts_done.is_set():
                with lock:
                    ok_after_restarts[0] += 1
            return res, None
        if err_code(e) in LOST:
            tally.stmt(False, err_code(e))
            return None, "lost"
        record(tally, e, what, rule, *(key or (None, None)))
        return None, err_code(e)

    def worker(i, barrier, deadline):
        rnd = random.Random(s.seed * 1000 + i)
        conn = None
        barrier.wait()
        start = time.monotonic()
        try:
            while time.monotonic() < deadline:
                if conn is None:
                    conn = reconnect(port, deadline, tally)
                    if conn is None:
                        return
                outcome = None
                if rnd.random() < 0.45:
                    # stable keys are inserted all through the run (and so across the restarts):
                    # the clients work on a window of keys that moves with the time
                    at = int((time.monotonic() - start) / budget * len(stable)) + rnd.randint(-10, 10)
                    key = stable[min(len(stable) - 1, max(0, at))]
                    res, outcome = run(conn, *insert_sql(stable_t, *key, i), "INSERT stable", key)
                    if outcome is None:
                        with lock:
                            answered_ok[key] += 1
                    elif outcome == "lost":
                        with lock:
                            uncertain.add(key)
                else:
                    key = rnd.choice(churn)
                    soft = (f"UPDATE {churn_t.name} SET delete_status = 1 WHERE name = %s AND model = %s "
                            "AND delete_status = 0", key)
                    roll = rnd.random()
                    if roll < 0.45:
                        res, outcome = run(conn, *insert_sql(churn_t, *key, i), "INSERT churn", key, "product_churn")
                    elif roll < 0.8:
                        res, outcome = run(conn, *soft, "soft delete churn")
                    else:  # soft delete and re-insert in one transaction
                        for sql, args in (("BEGIN", None), soft, insert_sql(churn_t, *key, i), ("COMMIT", None)):
                            res, outcome = run(conn, sql, args, f"re-insert transaction: {sql[:20]}", key,
                                               "product_churn")
                            if outcome is not None:
                                break
                        if outcome is not None and outcome != "lost":
                            _, outcome = run(conn, "ROLLBACK", None, "ROLLBACK")
                if outcome == "lost":
                    close_quietly(conn)
                    conn = None
        finally:
            if conn is not None:
                close_quietly(conn)

    def restarter():
        try:
            time.sleep(6)
            server.restart(signal.SIGTERM)
            time.sleep(7)
            server.restart(signal.SIGKILL)
            restarts_done.set()
        except Exception as e:  # noqa: BLE001
            s.check(False, f"restarting MariaDB failed: {e}")

    old_pid = server.pid
    thread = threading.Thread(target=restarter, daemon=True)
    thread.start()
    s.run_clients(16, worker, budget, "restart load")
    thread.join(90)
    server.ensure_running()
    s.note(f"MariaDB restarts (signal, seconds down): {server.restarts}; pid {old_pid} -> {server.pid}")
    s.check(len(server.restarts) == 2, f"MariaDB was restarted {len(server.restarts)} time(s), expected 2")
    s.admin = connect(s.db_port)  # the old admin connection died with the server
    s.check_tally(tally, {1062, 1205, 1213} | LOST, "restart load")
    lost = sum(v for k, v in tally.errors.items() if k in LOST)
    s.note(f"statements that lost their connection: {lost}; OK after the restarts: {ok_after_restarts[0]}")
    s.check(ok_after_restarts[0] > 0, "no statement succeeded after the restarts")

    # Every stable INSERT answered OK survived both restarts; none was answered OK twice.
    s.check_table(stable_t, expect_keys=[k for k in answered_ok], label="stable keys after the restarts")
    twice = [k for k, c in answered_ok.items() if c > 1]
    s.check(not twice, f"{len(twice)} stable key(s) answered OK more than once, e.g. {twice[:3]}")
    live = stable_t.live_count(s.admin)
    s.check(len(answered_ok) <= live <= len(answered_ok) + len(uncertain),
            f"{live} live stable rows: expected between {len(answered_ok)} (answered OK) and "
            f"{len(answered_ok) + len(uncertain)} (plus those whose answer was lost)")
    s.check_table(churn_t, label="churn keys after the restarts")

    # uniqgate still serves new connections, and no key is stuck in a dedup table.
    c = connect(port)
    try:
        s.check(scalar(c, "SELECT 1") == 1, "SELECT 1 through uniqgate after the restarts")
        for key in stable:
            res, e = try_execute(c, *insert_sql(stable_t, *key))
            if e is not None:
                expect_dup(s, f"top-up INSERT of {key}", (res, e), *key)
        expect_ok(s, "soft delete all churn keys", try_execute(
            c, f"UPDATE {churn_t.name} SET delete_status = 1 WHERE delete_status = 0"), affected=None)
        for key in churn:
            expect_ok(s, f"re-insert churn key {key}", try_execute(c, *insert_sql(churn_t, *key)))
        expect_dup(s, "a duplicate after the restarts", try_execute(c, *insert_sql(churn_t, *churn[0])), *churn[0],
                   rule="product_churn")
    finally:
        close_quietly(c)
    s.check_table(stable_t, expect_keys=stable, expect_live=len(stable), label="stable keys topped up")
    s.check_table(churn_t, expect_keys=churn, expect_live=len(churn), label="churn keys re-inserted")


# ------------------------------------------------------------------ 2. application-generated ids

def id_literal(value) -> str:
    return str(value) if isinstance(value, int) else f"'{value}'"


def app_id_sequence(s: Scenario, conn, t, new_id, label):
    """A primary-key collision is MySQL's 1062 for 'PRIMARY' and claims no key in the dedup table."""
    a, b, c2, d = new_id(), new_id(), new_id(), new_id()
    sql = f"INSERT INTO {t.name} (id, name, model, price) VALUES (%s, %s, %s, 1)"
    expect_ok(s, f"{label}: INSERT pk1", try_execute(conn, sql, (a, "pk1", "m")))
    expect_primary_dup(s, f"{label}: INSERT a new key with pk1's id", try_execute(conn, sql, (a, "pk2", "m")), a)
    s.check(("pk2", "m") not in dedup_keys(s, t), f"{label}: the refused pk2 was left in the dedup table")
    expect_ok(s, f"{label}: INSERT pk2 with its own id", try_execute(conn, sql, (b, "pk2", "m")))
    # Same id and same key: MariaDB checks the primary key first and names it; uniqgate claims the
    # key first and names the rule. Either is a 1062 that refuses the row.
    res, e = try_execute(conn, sql, (a, "pk1", "m"))
    s.check(e is not None and err_code(e) == 1062, f"{label}: INSERT repeating pk1 (id and key): {e or res}")
    if e is not None and "PRIMARY" not in err_text(e):
        s.note(f"{label}: same id and same key answered {err_text(e)!r} (MariaDB with a unique index names "
               "'PRIMARY')")
    # a multi-row INSERT whose second row collides on the id: nothing of it stays
    expect_primary_dup(s, f"{label}: 2-row INSERT, second row reuses pk2's id",
                       try_execute(conn, f"INSERT INTO {t.name} (id, name, model) VALUES (%s, 'pk3', 'm'), "
                                         "(%s, 'pk4', 'm')", (c2, b)), b)
    s.check(not ({("pk3", "m"), ("pk4", "m")} & dedup_keys(s, t)), f"{label}: the refused batch left keys behind")
    # in a transaction: the collision undoes only itself
    expect_ok(s, f"{label}: BEGIN", try_execute(conn, "BEGIN"), affected=None)
    expect_ok(s, f"{label}: INSERT pk3 in a transaction", try_execute(conn, sql, (c2, "pk3", "m")))
    expect_primary_dup(s, f"{label}: INSERT pk4 with pk3's id in the transaction",
                       try_execute(conn, sql, (c2, "pk4", "m")), c2)
    expect_ok(s, f"{label}: INSERT pk4 with its own id", try_execute(conn, sql, (d, "pk4", "m")))
    expect_ok(s, f"{label}: COMMIT", try_execute(conn, "COMMIT"), affected=None)
    # an UPDATE that writes the key and collides on the id changes nothing
    expect_primary_dup(s, f"{label}: UPDATE pk4 to pk5 with pk1's id",
                       try_execute(conn, f"UPDATE {t.name} SET id = %s, name = 'pk5' WHERE id = %s", (a, d)), a)
    s.check(("pk4", "m") in dedup_keys(s, t) or not DEDUP, f"{label}: the failed UPDATE released pk4's key")
    s.check(("pk5", "m") not in dedup_keys(s, t), f"{label}: the failed UPDATE left pk5 in the dedup table")
    s.check_table(t, expect_keys=[(f"pk{i}", "m") for i in range(1, 5)], expect_live=4, label=label)


def scenario_app_generated_ids(s: Scenario):
    """Ids made by the application (BIGINT, UUID): same keys with different ids, id collisions; AUTO_INCREMENT ids."""
    tb = s.table("big", id_sql="BIGINT")
    tu = s.table("uuid", id_sql="CHAR(36) CHARACTER SET ascii", rule="product_uuid")
    tp = s.table("pool", id_sql="BIGINT", rule="product_pool")
    ta = s.table("auto", rule="product_auto")
    twin = s.table("twin", rule="unused")  # not a rule table: what MariaDB itself answers
    port = s.start(rule_yaml(tb) + rule_yaml(tu) + rule_yaml(tp) + rule_yaml(ta))[0]
    counter = iter(range(10 ** 9, 10 ** 10))  # apart from the load's ids
    c = connect(port)
    try:
        app_id_sequence(s, c, tb, lambda: next(counter), "BIGINT id")
        app_id_sequence(s, c, tu, lambda: str(uuid.uuid4()), "UUID id")
    finally:
        close_quietly(c)

    # 16 clients insert the same keys, each with ids of its own: one row per key, no orphan rows
    keys = keyspace("ag", 80)
    tally, lock = Tally(), threading.Lock()
    answered = collections.Counter()

    def worker(i, barrier, deadline):
        rnd = random.Random(s.seed * 1000 + i)
        conn = connect(port)
        order = keys[:]
        rnd.shuffle(order)
        barrier.wait()
        try:
            for idx, (n, m) in enumerate(order):
                if time.monotonic() > deadline:
                    tally.problem(f"client {i}: time budget used up")
                    return
                for t, new_id in ((tb, (i + 1) * 100000 + idx), (tu, str(uuid.uuid4()))):
                    res, e = try_execute(conn, f"INSERT INTO {t.name} (id, name, model, price) VALUES (%s, %s, %s, %s)",
                                         (new_id, n, m, i))
                    if e is None:
                        tally.stmt()
                        with lock:
                            answered[(t.name, n, m)] += 1
                    else:
                        tally.stmt(False, err_code(e))
                        problem = dup_error_problem(e, n, m, rule=t.rule) if err_code(e) == 1062 else None
                        if problem:
                            tally.problem(f"INSERT {n}-{m} into {t.name}: {problem}")
        finally:
            close_quietly(conn)

    s.run_clients(16, worker, 40, "same keys, own ids")
    s.check_tally(tally, {1062}, "same keys, own ids")
    twice = [k for k, v in answered.items() if v > 1]
    s.check(not twice, f"{len(twice)} key(s) answered OK more than once, e.g. {twice[:3]}")
    for t in (tb, tu):
        s.check_table(t, expect_keys=keys, label=f"{t.name} after the same-keys load")
        total = t.total_count(s.admin) - 4
        s.check(total == len(keys), f"{t.name}: {total} rows from the load, expected {len(keys)} (one per key)")

    # 12 clients draw ids from a small pool and keys from a small pool: id and key collisions mix
    pool_keys = keyspace("ap", 40)
    tally, inserted = Tally(), [0]

    def pool_worker(i, barrier, deadline):
        rnd = random.Random(s.seed * 2000 + i)
        conn = connect(port)
        barrier.wait()
        try:
            for _ in range(60):
                if time.monotonic() > deadline:
                    tally.problem(f"client {i}: time budget used up")
                    return
                n, m = rnd.choice(pool_keys)
                res, e = try_execute(conn, f"INSERT INTO {tp.name} (id, name, model) VALUES (%s, %s, %s)",
                                     (rnd.randint(1, 60), n, m))
                if e is None:
                    tally.stmt()
                    with lock:
                        inserted[0] += 1
                else:
                    tally.stmt(False, err_code(e))
                    if err_code(e) == 1062 and "PRIMARY" not in err_text(e):
                        problem = dup_error_problem(e, n, m, rule=tp.rule)
                        if problem:
                            tally.problem(f"pool INSERT {n}-{m}: {problem}")
        finally:
            close_quietly(conn)

    s.run_clients(12, pool_worker, 40, "id and key pools")
    s.check_tally(tally, {1062}, "id and key pools")
    s.check_table(tp, expect_live=inserted[0], label="id and key pools")

    # AUTO_INCREMENT: the OK packet's insert id and LAST_INSERT_ID() as MariaDB gives them (the
    # twin table, no rule, on a direct connection, runs the same successful statements)
    c, direct = connect(port), connect(s.db_port)
    try:
        steps = [
            ("single INSERT", "INSERT INTO {t} (name, model) VALUES ('ai1', 'm')", "ai1"),
            ("3-row INSERT", "INSERT INTO {t} (name, model) VALUES ('ai2', 'm'), ('ai3', 'm'), ('ai4', 'm')", "ai2"),
            ("explicit id", "INSERT INTO {t} (id, name, model) VALUES (500, 'ai5', 'm')", "ai5"),
            ("after the explicit id", "INSERT INTO {t} (name, model) VALUES ('ai6', 'm')", "ai6"),
            ("explicit id 0", "INSERT INTO {t} (id, name, model) VALUES (0, 'ai7', 'm')", "ai7"),
        ]
        for label, sql, name in steps:
            got = try_execute(c, sql.format(t=ta.name))
            want = try_execute(direct, sql.format(t=twin.name))
            if not expect_ok(s, f"AUTO_INCREMENT {label}", got, affected=None) or want[1] is not None:
                continue
            lid, want_lid = scalar(c, "SELECT LAST_INSERT_ID()"), scalar(direct, "SELECT LAST_INSERT_ID()")
            row_id, twin_id = ids_of(s, ta, name)[0], ids_of(s, twin, name)[0]
            s.check((got[0][1], lid, row_id) == (want[0][1], want_lid, twin_id),
                    f"AUTO_INCREMENT {label}: (OK insert id, LAST_INSERT_ID(), row id) through uniqgate "
                    f"{(got[0][1], lid, row_id)}, MariaDB gives {(want[0][1], want_lid, twin_id)}")
        before = scalar(c, "SELECT LAST_INSERT_ID()")
        expect_dup(s, "AUTO_INCREMENT duplicate", try_execute(c, f"INSERT INTO {ta.name} (name, model) VALUES "
                                                                 "('ai1', 'm')"), "ai1", "m", rule=ta.rule)
        s.check(scalar(c, "SELECT LAST_INSERT_ID()") == before, "a refused INSERT changed LAST_INSERT_ID()")
        expect_ok(s, "BEGIN", try_execute(c, "BEGIN"), affected=None)
        res, e = try_execute(c, f"INSERT INTO {ta.name} (name, model) VALUES ('ai8', 'm')")
        in_txn = scalar(c, "SELECT LAST_INSERT_ID()")
        expect_ok(s, "COMMIT", try_execute(c, "COMMIT"), affected=None)
        if expect_ok(s, "AUTO_INCREMENT INSERT in a transaction", (res, e)):
            s.check(res[1] == in_txn == ids_of(s, ta, "ai8")[0],
                    f"in a transaction: OK insert id {res[1]}, LAST_INSERT_ID() {in_txn}, row {ids_of(s, ta, 'ai8')}")
    finally:
        close_quietly(c)
        close_quietly(direct)
    s.check_table(ta, expect_keys=[(f"ai{i}", "m") for i in range(1, 9)], expect_live=8, label="AUTO_INCREMENT")


# ------------------------------------------------------------------ 3. DELETE and TRUNCATE

def scenario_delete_and_truncate(s: Scenario):
    """DELETE frees live keys (not dead ones), with ORDER BY/LIMIT; concurrent DELETE + INSERT; TRUNCATE."""
    t = s.table("t")
    t2 = s.table("load", rule="product_load")
    port = s.start(rule_yaml(t) + rule_yaml(t2))[0]
    c = connect(port)
    ins = lambda n, m="m": try_execute(c, *insert_sql(t, n, m))  # noqa: E731
    try:
        for n in ("dl1", "dl2", "dl3"):
            expect_ok(s, f"INSERT {n}", ins(n))
        expect_ok(s, "DELETE dl1", try_execute(c, f"DELETE FROM {t.name} WHERE name = 'dl1'"))
        expect_ok(s, "INSERT dl1 after its DELETE", ins("dl1"))
        # dl2: a dead row and a live row; deleting the dead one keeps the live key taken
        expect_ok(s, "soft delete dl2", try_execute(c, f"UPDATE {t.name} SET delete_status = 1 WHERE name = 'dl2'"))
        expect_ok(s, "INSERT dl2 again", ins("dl2"))
        expect_ok(s, "DELETE the dead dl2", try_execute(c, f"DELETE FROM {t.name} WHERE name = 'dl2' "
                                                           "AND delete_status = 1"))
        expect_dup(s, "INSERT dl2 while its live row remains", ins("dl2"), "dl2", "m")
        expect_ok(s, "DELETE matching no row", try_execute(c, f"DELETE FROM {t.name} WHERE name = 'nothing'"),
                  affected=0)
        # a rolled-back DELETE keeps the key; DELETE + INSERT in one transaction
        expect_ok(s, "BEGIN", try_execute(c, "BEGIN"), affected=None)
        expect_ok(s, "DELETE dl3 (to be rolled back)", try_execute(c, f"DELETE FROM {t.name} WHERE name = 'dl3'"))
        expect_ok(s, "ROLLBACK", try_execute(c, "ROLLBACK"), affected=None)
        expect_dup(s, "INSERT dl3 after the rolled-back DELETE", ins("dl3"), "dl3", "m")
        expect_ok(s, "BEGIN", try_execute(c, "BEGIN"), affected=None)
        expect_ok(s, "DELETE dl3 in a transaction", try_execute(c, f"DELETE FROM {t.name} WHERE name = 'dl3'"))
        expect_ok(s, "INSERT dl3 in the same transaction", ins("dl3"))
        expect_ok(s, "COMMIT", try_execute(c, "COMMIT"), affected=None)
        s.check_table(t, expect_keys=[("dl1", "m"), ("dl2", "m"), ("dl3", "m")], expect_live=3, label="DELETE basics")

        # DELETE ... ORDER BY ... LIMIT: exactly the first rows go, dead rows included in the order
        for i in range(6):
            expect_ok(s, f"INSERT lim{i}", ins(f"lim{i}"))
        expect_ok(s, "soft delete lim0", try_execute(c, f"UPDATE {t.name} SET delete_status = 1 WHERE name = 'lim0'"))
        expect_ok(s, "DELETE ... ORDER BY id LIMIT 3",
                  try_execute(c, f"DELETE FROM {t.name} WHERE name LIKE 'lim%' ORDER BY id LIMIT 3"), affected=3)
        for i in range(6):
            res = ins(f"lim{i}")
            if i < 3:
                expect_ok(s, f"INSERT lim{i} after ORDER BY/LIMIT deleted it", res)
            else:
                expect_dup(s, f"INSERT lim{i}, beyond the LIMIT", res, f"lim{i}", "m")
        last = max(ids_of(s, t, "lim2"))
        expect_ok(s, "DELETE without WHERE, ORDER BY id DESC LIMIT 1",
                  try_execute(c, f"DELETE FROM {t.name} ORDER BY id DESC LIMIT 1"), affected=1)
        s.check(not ids_of(s, t, "lim2") or max(ids_of(s, t, "lim2")) != last, "the newest row (lim2) was not deleted")
        expect_ok(s, "INSERT lim2 after it", ins("lim2"))
        s.check_table(t, expect_keys=[("dl1", "m"), ("lim2", "m"), ("lim5", "m")], expect_live=9, label="ORDER BY/LIMIT")
        expect_ok(s, "DELETE everything", try_execute(c, f"DELETE FROM {t.name}"), affected=None)
        s.check_table(t, expect_live=0, label="DELETE everything")
        s.check(not dedup_keys(s, t), f"DELETE everything left {len(dedup_keys(s, t))} key(s) in the dedup table")
        expect_ok(s, "INSERT dl1 into the emptied table", ins("dl1"))
    finally:
        close_quietly(c)

    # 16 clients: INSERT, soft delete, DELETE of live and of dead rows, on the same 40 keys
    keys = keyspace("dc", 40, models=4)
    tally, lock = Tally(), threading.Lock()
    counts = collections.Counter()

    def worker(i, barrier, deadline):
        rnd = random.Random(s.seed * 1000 + i)
        conn = connect(port)
        barrier.wait()
        try:
            for _ in range(80):
                if time.monotonic() > deadline:
                    tally.problem(f"client {i}: time budget used up")
                    return
                n, m = rnd.choice(keys)
                where = "WHERE name = %s AND model = %s"
                roll = rnd.random()
                if roll < 0.45:
                    kind, sql = "inserted", insert_sql(t2, n, m, i)[0]
                elif roll < 0.65:
                    kind, sql = "soft_deleted", f"UPDATE {t2.name} SET delete_status = 1 {where} AND delete_status = 0"
                elif roll < 0.85:
                    kind, sql = "deleted_live", f"DELETE FROM {t2.name} {where} AND delete_status = 0 ORDER BY id LIMIT 1"
                else:
                    kind, sql = "deleted_dead", f"DELETE FROM {t2.name} {where} AND delete_status = 1"
                args = (n, m, i) if kind == "inserted" else (n, m)
                res, e = try_execute(conn, sql, args)
                if e is None:
                    tally.stmt()
                    with lock:
                        counts[kind] += res[0]
                else:
                    record(tally, e, kind, t2.rule, n, m)
        finally:
            close_quietly(conn)

    s.run_clients(16, worker, 45, "concurrent DELETE + INSERT")
    s.note(f"concurrent DELETE + INSERT: rows {dict(counts)}")
    s.check_tally(tally, {1062, 1205, 1213}, "concurrent DELETE + INSERT")
    s.check_table(t2, expect_live=counts["inserted"] - counts["soft_deleted"] - counts["deleted_live"],
                  label="concurrent DELETE + INSERT")
    total = t2.total_count(s.admin)
    want = counts["inserted"] - counts["deleted_live"] - counts["deleted_dead"]
    s.check(total == want, f"{total} rows in all, expected {want} (inserted - deleted)")

    # TRUNCATE through uniqgate empties the dedup table; every key can be inserted again
    c = connect(port)
    try:
        expect_ok(s, "TRUNCATE", try_execute(c, f"TRUNCATE TABLE {t2.name}"), affected=None)
        s.check(t2.total_count(s.admin) == 0, "TRUNCATE left rows")
        s.check(not dedup_keys(s, t2), f"TRUNCATE left {len(dedup_keys(s, t2))} key(s) in the dedup table")
        for n, m in keys:
            expect_ok(s, f"INSERT {n}-{m} after TRUNCATE", try_execute(c, *insert_sql(t2, n, m)))
        expect_dup(s, "a duplicate after TRUNCATE", try_execute(c, *insert_sql(t2, *keys[0])), *keys[0],
                   rule=t2.rule)
    finally:
        close_quietly(c)
    s.check_table(t2, expect_keys=keys, expect_live=len(keys), label="after TRUNCATE")


# ------------------------------------------------------------------ 4. the client's INSERT IGNORE

def scenario_insert_ignore_skips(s: Scenario):
    """INSERT IGNORE skipping rows (id collision, live key): affected rows, skipped keys not left claimed."""
    t = s.table("t")
    t2 = s.table("load", rule="product_load")
    port = s.start(rule_yaml(t) + rule_yaml(t2))[0]
    c = connect(port)
    ignore = f"INSERT IGNORE INTO {t.name} (id, name, model, price) VALUES "
    ins = lambda n: try_execute(c, *insert_sql(t, n, "m"))  # noqa: E731
    try:
        expect_ok(s, "INSERT ii_a with id 1", try_execute(c, f"INSERT INTO {t.name} (id, name, model) VALUES (1, 'ii_a', 'm')"))
        res, e = try_execute(c, ignore + "(1, 'ii_pk', 'm', 1), (NULL, 'ii_a', 'm', 2), (NULL, 'ii_new', 'm', 3)")
        if expect_ok(s, "INSERT IGNORE: id collision, live key, new row", (res, e), affected=1):
            new_id = ids_of(s, t, "ii_new")
            s.check(new_id and res[1] == new_id[0] == scalar(c, "SELECT LAST_INSERT_ID()"),
                    f"INSERT IGNORE: OK insert id {res[1]}, LAST_INSERT_ID() {scalar(c, 'SELECT LAST_INSERT_ID()')}, "
                    f"row {new_id}")
        held = dedup_keys(s, t)
        s.check(not DEDUP or ("ii_pk", "m") not in held, "INSERT IGNORE left the skipped ii_pk in the dedup table")
        s.check(not DEDUP or {("ii_a", "m"), ("ii_new", "m")} <= held, f"dedup table after INSERT IGNORE: {held}")
        a_rows = t.live_rows(s.admin, "ii_a", "m")
        s.check([r[3] for r in a_rows] == [None], f"INSERT IGNORE changed the existing ii_a: {a_rows}")
        expect_ok(s, "INSERT ii_pk (skipped before, so free)", ins("ii_pk"))
        expect_dup(s, "INSERT ii_new (inserted by INSERT IGNORE)", ins("ii_new"), "ii_new", "m")

        # every row skipped: 0 affected, nothing claimed
        res, e = try_execute(c, ignore + "(1, 'ii_z', 'm', 1), (NULL, 'II_A ', 'm', 1)")
        expect_ok(s, "INSERT IGNORE where every row is skipped", (res, e), affected=0)
        s.check(("ii_z", "m") not in dedup_keys(s, t), "the skipped ii_z was left in the dedup table")
        # a batch that repeats its own key (case/space variant): the first row wins
        expect_ok(s, "INSERT IGNORE repeating a key", try_execute(
            c, ignore + "(NULL, 'ii_self', 'm', 1), (NULL, 'II_SELF ', 'm', 2), (1, 'ii_self2', 'm', 3)"), affected=1)
        s.check([r[3] for r in t.live_rows(s.admin, "ii_self", "m")] == [1], "INSERT IGNORE: the first ii_self should win")
        expect_ok(s, "INSERT ii_self2 (skipped by id)", ins("ii_self2"))

        # in a transaction: rolled back, every key is free again; committed, they stay
        expect_ok(s, "BEGIN", try_execute(c, "BEGIN"), affected=None)
        expect_ok(s, "INSERT IGNORE in a transaction",
                  try_execute(c, ignore + "(1, 'ii_t1', 'm', 1), (NULL, 'ii_t2', 'm', 1)"), affected=1)
        expect_ok(s, "ROLLBACK", try_execute(c, "ROLLBACK"), affected=None)
        expect_ok(s, "BEGIN", try_execute(c, "BEGIN"), affected=None)
        expect_ok(s, "INSERT IGNORE again in a transaction",
                  try_execute(c, ignore + "(1, 'ii_t1', 'm', 1), (NULL, 'ii_t2', 'm', 1)"), affected=1)
        expect_ok(s, "INSERT ii_t1 in the same transaction", ins("ii_t1"))
        expect_ok(s, "COMMIT", try_execute(c, "COMMIT"), affected=None)

        # In a transaction, the claim of a later row times out (another transaction holds its
        # key): the claims before it must go with the failed statement, not stay in the
        # client's transaction to be committed without their rows.
        holder = connect(port)
        try:
            expect_ok(s, "holder: BEGIN", try_execute(holder, "BEGIN"), affected=None)
            expect_ok(s, "holder: INSERT ii_held", try_execute(holder, *insert_sql(t, "ii_held", "m")))
            expect_ok(s, "SET innodb_lock_wait_timeout", try_execute(c, "SET SESSION innodb_lock_wait_timeout = 1"),
                      affected=None)
            expect_ok(s, "BEGIN", try_execute(c, "BEGIN"), affected=None)
            expect_error(s, "INSERT IGNORE whose second key is held by another transaction",
                         try_execute(c, ignore + "(NULL, 'ii_free', 'm', 1), (NULL, 'ii_held', 'm', 2)"), 1205)
            expect_ok(s, "COMMIT after the timeout", try_execute(c, "COMMIT"), affected=None)
            s.check(("ii_free", "m") not in dedup_keys(s, t),
                    "a row of the timed-out INSERT IGNORE left its key in the dedup table without the row")
        finally:
            try_execute(holder, "ROLLBACK")
            close_quietly(holder)
        expect_ok(s, "INSERT ii_free after the timed-out INSERT IGNORE", ins("ii_free"))
    finally:
        close_quietly(c)
    sequential = ["ii_a", "ii_new", "ii_pk", "ii_self", "ii_self2", "ii_t1", "ii_t2", "ii_free"]
    s.check_table(t, expect_keys=[(n, "m") for n in sequential], expect_live=len(sequential), label="sequential")

    # 16 clients: INSERT IGNORE batches with ids from a small pool and keys from a small pool
    keys = keyspace("ic", 200)
    tally, lock, affected = Tally(), threading.Lock(), [0]

    def worker(i, barrier, deadline):
        rnd = random.Random(s.seed * 1000 + i)
        conn = connect(port)
        barrier.wait()
        try:
            for _ in range(30):
                if time.monotonic() > deadline:
                    tally.problem(f"client {i}: time budget used up")
                    return
                rows = [(rnd.randint(1, 120) if rnd.random() < 0.6 else None, *rnd.choice(keys), i)
                        for _ in range(rnd.randint(1, 4))]
                sql = (f"INSERT IGNORE INTO {t2.name} (id, name, model, price) VALUES "
                       + ", ".join(["(%s, %s, %s, %s)"] * len(rows)))
                res, e = try_execute(conn, sql, [v for row in rows for v in row])
                if e is None:
                    tally.stmt()
                    with lock:
                        affected[0] += res[0]
                else:
                    record(tally, e, "INSERT IGNORE", t2.rule)
        finally:
            close_quietly(conn)

    s.run_clients(16, worker, 40, "concurrent INSERT IGNORE")
    s.check_tally(tally, {1205, 1213}, "concurrent INSERT IGNORE")
    s.check_table(t2, expect_live=affected[0], label="concurrent INSERT IGNORE")
    # every key not live can be inserted: no skipped row left its key claimed
    c = connect(port)
    try:
        live = t2.live_keys(s.admin)
        for n, m in keys:
            res = try_execute(c, *insert_sql(t2, n, m))
            if (n, m) in live:
                expect_dup(s, f"INSERT {n}-{m} (live)", res, n, m, rule=t2.rule)
            else:
                expect_ok(s, f"INSERT {n}-{m} (never inserted, or skipped)", res)
    finally:
        close_quietly(c)
    s.check_table(t2, expect_keys=keys, label="every key inserted at the end")


# ------------------------------------------------------------------ 5. failures inside transactions

def failing_statements(t):
    """Statements that fail on their own inside a transaction: (label, sql, args, error code)."""
    return [
        ("a duplicate key", *insert_sql(t, "sv_a", "m"), 1062),
        ("NOT NULL violation", f"INSERT INTO {t.name} (name, model) VALUES (NULL, 'm')", None, 1048),
        ("data too long (note)", f"INSERT INTO {t.name} (name, model, note) VALUES ('sv_long', 'm', %s)", ("x" * 60,), 1406),
        ("data too long (key)", f"INSERT INTO {t.name} (name, model) VALUES (%s, 'm')", ("k" * 101,), 1406),
        ("a 2-row INSERT whose second row duplicates", f"INSERT INTO {t.name} (name, model) VALUES ('sv_b2', 'm'), "
                                                       "('SV_A', 'm')", None, 1062),
        ("an UPDATE renaming onto a live key", f"UPDATE {t.name} SET name = 'sv_a' WHERE name = 'sv_c'", None, 1062),
    ]


def transaction_with_failures(s: Scenario, c, t, begin, finish, label):
    """sv_a, then each failing statement, then sv_c/sv_d in between: the failures undo only
    themselves; `finish` (COMMIT) keeps everything else."""
    if begin:
        expect_ok(s, f"{label}: {begin}", try_execute(c, begin), affected=None)
    expect_ok(s, f"{label}: INSERT sv_a", try_execute(c, *insert_sql(t, "sv_a", "m")))
    expect_ok(s, f"{label}: INSERT sv_c", try_execute(c, *insert_sql(t, "sv_c", "m")))
    for what, sql, args, code in failing_statements(t):
        res_err = try_execute(c, sql, args)
        if code == 1062:
            res, e = res_err
            s.check(e is not None and err_code(e) == 1062 and getattr(e, "sqlstate", None) == "23000",
                    f"{label}: {what}: {e or res}, expected 1062")
        else:
            expect_error(s, f"{label}: {what}", res_err, code)
        s.check(in_transaction(c) == 1, f"{label}: the transaction ended after {what}")
    expect_ok(s, f"{label}: INSERT sv_d after the failures", try_execute(c, *insert_sql(t, "sv_d", "m")))
    expect_ok(s, f"{label}: {finish}", try_execute(c, finish), affected=None)
    s.check_table(t, expect_keys=[("sv_a", "m"), ("sv_c", "m"), ("sv_d", "m")], expect_live=3, label=label)
    s.check(t.total_count(s.admin) == 3, f"{label}: {t.total_count(s.admin)} rows, expected 3 (failed statements left rows)")
    for name in ("sv_long", "k" * 101, "sv_b2"):
        s.check((name, "m") not in dedup_keys(s, t), f"{label}: the failed {name[:10]!r} is in the dedup table")


def scenario_explicit_transactions_savepoint(s: Scenario):
    """In BEGIN ... COMMIT (and autocommit=0) a failing statement undoes only itself; savepoints; deadlocks."""
    t = s.table("t")
    t2 = s.table("load", rule="product_load")
    port = s.start(rule_yaml(t) + rule_yaml(t2))[0]
    c, c2 = connect(port), connect(port)
    ins = lambda conn, n: try_execute(conn, *insert_sql(t, n, "m"))  # noqa: E731
    clear = f"DELETE FROM {t.name}"
    try:
        s.check("STRICT_TRANS_TABLES" in scalar(c, "SELECT @@sql_mode"), "the session is not in strict mode")
        transaction_with_failures(s, c, t, "BEGIN", "COMMIT", "BEGIN ... COMMIT")
        expect_ok(s, "clear", try_execute(c, clear), affected=None)
        transaction_with_failures(s, c, t, "START TRANSACTION", "COMMIT", "START TRANSACTION ... COMMIT")
        expect_ok(s, "clear", try_execute(c, clear), affected=None)
        expect_ok(s, "SET autocommit = 0", try_execute(c, "SET autocommit = 0"), affected=None)
        transaction_with_failures(s, c, t, None, "COMMIT", "autocommit=0")
        # autocommit=0: a ROLLBACK frees what the transaction inserted
        expect_ok(s, "autocommit=0: INSERT sv_e", ins(c, "sv_e"))
        expect_ok(s, "autocommit=0: ROLLBACK", try_execute(c, "ROLLBACK"), affected=None)
        expect_ok(s, "INSERT sv_e from another session after the ROLLBACK", ins(c2, "sv_e"))
        expect_ok(s, "SET autocommit = 1", try_execute(c, "SET autocommit = 1"), affected=None)
        expect_ok(s, "clear", try_execute(c, clear), affected=None)

        # the client's own savepoints: ROLLBACK TO SAVEPOINT frees what came after it
        expect_ok(s, "BEGIN", try_execute(c, "BEGIN"), affected=None)
        expect_ok(s, "INSERT sp1", ins(c, "sp1"))
        expect_ok(s, "SAVEPOINT app_sp", try_execute(c, "SAVEPOINT app_sp"), affected=None)
        expect_ok(s, "INSERT sp2 after the savepoint", ins(c, "sp2"))
        expect_dup(s, "INSERT sp1 again", ins(c, "sp1"), "sp1", "m")
        expect_ok(s, "ROLLBACK TO SAVEPOINT app_sp", try_execute(c, "ROLLBACK TO SAVEPOINT app_sp"), affected=None)
        expect_ok(s, "INSERT SP2 again after rolling back to the savepoint", ins(c, "SP2"))
        expect_ok(s, "RELEASE SAVEPOINT app_sp", try_execute(c, "RELEASE SAVEPOINT app_sp"), affected=None)
        expect_ok(s, "COMMIT", try_execute(c, "COMMIT"), affected=None)
        s.check_table(t, expect_keys=[("sp1", "m"), ("sp2", "m")], expect_live=2, label="client savepoints")

        # a deadlock rolls the whole transaction back; the next statement is an autocommit write again
        expect_ok(s, "c1 BEGIN", try_execute(c, "BEGIN"), affected=None)
        expect_ok(s, "c2 BEGIN", try_execute(c2, "BEGIN"), affected=None)
        expect_ok(s, "c1 INSERT dk1", ins(c, "dk1"))
        expect_ok(s, "c2 INSERT dk2", ins(c2, "dk2"))
        waiting = serial_lib.Step(c, *insert_sql(t, "dk2", "m"))
        s.check(not waiting.wait(0.5), "c1's INSERT of dk2 did not wait for c2's transaction")
        res, e = try_execute(c2, *insert_sql(t, "dk1", "m"))
        s.check(waiting.wait(10), "c1's INSERT of dk2 never returned")
        errors = sorted(err_code(x) for x in (e, waiting.error) if x is not None)
        s.check(errors == [1213] or errors == [1062, 1213],
                f"deadlock: errors {errors} (c2: {e or res}, c1: {waiting.error or waiting.result}), expected one 1213")
        loser, winner = (c2, c) if e is not None and err_code(e) == 1213 else (c, c2)
        expect_ok(s, "the winner's COMMIT", try_execute(winner, "COMMIT"), affected=None)
        # The loser's transaction is gone: its next write must be a transaction of its own again
        # (a savepoint in autocommit would commit the dedup row of a failing INSERT by itself).
        expect_error(s, "the loser's next INSERT fails (data too long)", try_execute(
            loser, f"INSERT INTO {t.name} (name, model, note) VALUES ('dk3', 'm', %s)", ("n" * 51,)), 1406)
        s.check(("dk3", "m") not in dedup_keys(s, t), "the loser's failed INSERT left dk3 in the dedup table")
        s.check(in_transaction(loser) == 0, "the deadlock's loser is still in a transaction")
        expect_ok(s, "the loser's INSERT of dk3", ins(loser, "dk3"))
        s.check(t.live_rows(s.admin, "dk3", "m"), "the loser's autocommit INSERT of dk3 is not committed")
        # the winner holds both keys: its own and the one the loser released
        s.check_table(t, expect_keys=[("sp1", "m"), ("sp2", "m"), ("dk1", "m"), ("dk2", "m"), ("dk3", "m")],
                      expect_live=5, label="after the deadlock")
    finally:
        close_quietly(c)
        close_quietly(c2)

    # 16 clients: transactions of inserts where some fail by themselves, then COMMIT
    tally, lock = Tally(), threading.Lock()
    committed, failed_names = [], []

    def worker(i, barrier, deadline):
        rnd = random.Random(s.seed * 1000 + i)
        conn = connect(port)
        barrier.wait()
        try:
            for n in range(20):
                if time.monotonic() > deadline:
                    tally.problem(f"client {i}: time budget used up")
                    return
                try_execute(conn, "BEGIN")
                done, failed, abandoned = [], [], False
                for k in range(4):
                    name = f"x{i}_{n}_{k}"
                    roll = rnd.random()
                    if roll < 0.3:  # a hot key shared by all clients
                        name = f"hot{rnd.randrange(8)}"
                        sql, args = insert_sql(t2, name, "m")
                    elif roll < 0.45:  # fails by itself: data too long
                        sql = f"INSERT INTO {t2.name} (name, model, note) VALUES (%s, 'm', %s)"
                        args = (name, "n" * 51)
                    else:
                        sql, args = insert_sql(t2, name, "m")
                    key = (name, "m")
                    res, e = try_execute(conn, sql, args)
                    if e is None:
                        tally.stmt()
                        done.append(key)
                        continue
                    record(tally, e, "INSERT in a transaction", t2.rule, *key)
                    failed.append(key)
                    if err_code(e) in (1205, 1213):
                        abandoned = True
                        break
                res, e = try_execute(conn, "ROLLBACK" if abandoned else "COMMIT")
                if e is not None:
                    tally.problem(f"COMMIT/ROLLBACK: {err_code(e)} {err_text(e)}")
                    return
                with lock:
                    if not abandoned:
                        committed.extend(done)
                    failed_names.extend(k for k in failed if not k[0].startswith("hot"))
        finally:
            close_quietly(conn)

    s.run_clients(16, worker, 45, "concurrent transactions with failures")
    s.check_tally(tally, {1062, 1406, 1205, 1213}, "concurrent transactions with failures")
    s.check_table(t2, expect_keys=committed, expect_live=len(committed), label="concurrent transactions with failures")
    live = t2.live_keys(s.admin)
    leaked = [k for k in failed_names if k in live]
    s.check(not leaked, f"{len(leaked)} failed INSERT(s) left a live row, e.g. {leaked[:3]}")


# ------------------------------------------------------------------ 6. refused statements

def refused_statements(t):
    n = t.name
    return [
        ("INSERT IGNORE ... RETURNING", f"INSERT IGNORE INTO {n} (name, model) VALUES ('rf_new', 'm') RETURNING id, name",
         "RETURNING"),
        ("REPLACE ... RETURNING", f"REPLACE INTO {n} (name, model, price) VALUES ('rf_a', 'm', 9) RETURNING id",
         "RETURNING"),
        ("REPLACE whose rows repeat a key", f"REPLACE INTO {n} (name, model) VALUES ('rf_new', 'm'), ('RF_NEW', 'm')",
         "REPEAT A KEY"),
    ]


def expect_refused(s, conn, t, label, sql, what):
    """1235 (42000) naming the rule and the construct, and nothing changed."""
    before = snapshot(s, t)
    res, e = try_execute(conn, sql)
    if e is None:
        s.check(False, f"{label}: succeeded (affected {res[0]}), expected 1235 naming rule {t.rule!r}")
    else:
        s.note(f"{label}: {err_code(e)} ({getattr(e, 'sqlstate', None)}) {err_text(e)}")
        s.check(err_code(e) == NOT_SUPPORTED and getattr(e, "sqlstate", None) == "42000",
                f"{label}: {err_code(e)} ({getattr(e, 'sqlstate', None)}), expected 1235 (42000)")
        s.check(f"'{t.rule}'" in err_text(e) and what in err_text(e).upper(),
                f"{label}: {err_text(e)!r} does not name the rule {t.rule!r} and {what!r}")
    s.check(snapshot(s, t) == before, f"{label}: the refused statement changed {t.qualified} or its dedup table")


def scenario_unsupported_refused(s: Scenario):
    """INSERT IGNORE / REPLACE ... RETURNING, a REPLACE repeating a key or replacing through another
    unique index: 1235 naming the rule, nothing changed."""
    s.skip_unless_uniqgate("the refusal is uniqgate's (MariaDB runs these statements)")
    t = s.table("t")
    tp = s.table("pass", rule="product_passthrough")
    plain = s.table("plain", rule="unused")  # no rule: the same statements are relayed
    with s.admin.cursor() as cur:  # a unique index of the table's own, besides the rule's key
        cur.execute(f"ALTER TABLE {t.qualified} ADD COLUMN sku INT NULL, ADD UNIQUE KEY uk_sku (sku)")
    port = s.start(rule_yaml(t) + rule_yaml(tp, unsupported="passthrough"))[0]
    c = connect(port)
    try:
        for table in (t, tp):
            expect_ok(s, f"INSERT rf_a into {table.name}", try_execute(
                c, f"INSERT INTO {table.name} (id, name, model, price) VALUES (1, 'rf_a', 'm', 1)"))
        for label, sql, what in refused_statements(t):
            expect_refused(s, c, t, label, sql, what)
        # REPLACE deleting a row through a unique index uniqgate does not predict: undone, refused
        expect_ok(s, "INSERT rf_sku", try_execute(
            c, f"INSERT INTO {t.name} (id, name, model, price, sku) VALUES (5, 'rf_sku', 'm', 5, 55)"))
        expect_refused(s, c, t, "REPLACE through another unique index",
                       f"REPLACE INTO {t.name} (name, model, sku) VALUES ('rf_other', 'm', 55)", "ANOTHER UNIQUE INDEX")
        with s.admin.cursor() as cur:
            cur.execute(f"DELETE FROM {t.qualified} WHERE id = 5")
            cur.execute(f"DELETE FROM {t.dedup_qualified} WHERE name = 'rf_sku'")
        # `unsupported: passthrough` covers statements uniqgate cannot analyse; these it can, and
        # relaying them unchecked would leave the dedup table behind the table: still refused.
        for label, sql, what in refused_statements(tp):
            expect_refused(s, c, tp, f"{label} (unsupported: passthrough)", sql, what)
        # refused inside a transaction: the transaction goes on, the earlier insert commits
        expect_ok(s, "BEGIN", try_execute(c, "BEGIN"), affected=None)
        expect_ok(s, "INSERT rf_b in the transaction", try_execute(c, *insert_sql(t, "rf_b", "m")))
        expect_refused(s, c, t, "INSERT IGNORE ... RETURNING in a transaction",
                       f"INSERT IGNORE INTO {t.name} (name, model) VALUES ('rf_c', 'm') RETURNING id", "RETURNING")
        s.check(in_transaction(c) == 1, "the refusal ended the client's transaction")
        expect_ok(s, "COMMIT", try_execute(c, "COMMIT"), affected=None)
        # the same statements on a table without a rule are MariaDB's business
        expect_ok(s, "INSERT into a table without a rule",
                  try_execute(c, f"INSERT INTO {plain.name} (id, name, model) VALUES (1, 'rf_a', 'm')"))
        for label, sql, what in refused_statements(plain):
            res, e = try_execute(c, sql)
            s.check(e is None, f"{label} on a table without a rule: {e}")
        # and the rule tables are still protected
        expect_dup(s, "INSERT rf_a again", try_execute(c, *insert_sql(t, "rf_a", "m")), "rf_a", "m")
    finally:
        close_quietly(c)
    s.check_table(t, expect_keys=[("rf_a", "m"), ("rf_b", "m")], expect_live=2)
    s.check_table(tp, expect_keys=[("rf_a", "m")], expect_live=1)
    rows = t.live_rows(s.admin, "rf_a", "m")
    s.check([r[3] for r in rows] == [1], f"rf_a changed: {rows}")


# ------------------------------------------------------------------ 7. start-up needs the dedup table

def proxy_config(s: Scenario, folder: Path, rules: str) -> tuple:
    folder.mkdir(parents=True, exist_ok=True)
    listen = ug.free_port()
    config = folder / "uniqgate.yaml"
    config.write_text(f"listen: {HOST}:{listen}\nbackend: {{ host: {HOST}, port: {s.db_port} }}\n"
                      "client_tls: { mode: disabled }\n"
                      f"admin: {{ listen: {HOST}:{ug.free_port()} }}\n"
                      "control: { user: uniqgate, password: uniqgate_pw }\n"
                      "lock: { backend: local, timeout_ms: 5000 }\nrules:\n" + rules)
    return config, listen


def uniqgate_binary() -> str:
    return os.environ.get("UG_SERIALIZE_BIN") or os.environ.get("UG_PROXY_BIN", "")


def start_expecting_refusal(s: Scenario, label, rules, must_name, must_not_name=()):
    config, listen = proxy_config(s, s.state / label.replace(" ", "_"), rules)
    try:
        done = subprocess.run([uniqgate_binary(), "--config", str(config)], capture_output=True, text=True,
                              timeout=30, preexec_fn=serial_lib._die_with_parent)
    except subprocess.TimeoutExpired:
        s.check(False, f"{label}: uniqgate kept running without its dedup table (still up after 30 s)")
        return
    out = done.stdout + done.stderr
    s.note(f"{label}: exit {done.returncode}: {out.strip()[:400]}")
    s.check(done.returncode == 2, f"{label}: exit {done.returncode}, expected 2")
    for text in must_name:
        s.check(text in out, f"{label}: the message does not mention {text!r}")
    for text in must_not_name:
        s.check(text not in out, f"{label}: the message mentions {text!r}, which has its dedup table")


def run_migrate(s: Scenario, rules: str):
    folder = s.state / "migrate"
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "uniqgate.yaml"
    config.write_text(f"backend: {{ host: {HOST}, port: {s.db_port} }}\n"
                      "control: { user: uniqgate, password: uniqgate_pw }\nrules:\n" + rules)
    return subprocess.run([uniqgate_binary(), "migrate", "--config", str(config)], capture_output=True, text=True,
                          timeout=60)


def scenario_startup_requires_dedup_table(s: Scenario):
    """A dedup rule without its dedup table: uniqgate exits 2 naming the rule and `uniqgate migrate`."""
    s.skip_unless_uniqgate("start-up checks are uniqgate's")
    t = s.table("t")
    t2 = s.table("second", rule="product_second")
    with s.admin.cursor() as c:
        c.executemany(f"INSERT INTO {t.qualified} (name, model, delete_status) VALUES (%s, 'm', %s)",
                      [("su1", 0), ("su2", 0), ("su1", 1)])
        c.executemany(f"INSERT INTO {t2.qualified} (name, model, delete_status) VALUES (%s, 'm', 0)",
                      [("dup",), ("DUP ",), ("ok",)])
    rules = rule_yaml(t) + rule_yaml(t2)
    start_expecting_refusal(s, "no dedup table", rule_yaml(t), [f"'{t.rule}'", "uniqgate migrate", t.dedup_qualified])

    # migrate refuses a table with live duplicates and names the group; the other rule is done
    done = run_migrate(s, rules)
    out = done.stdout + done.stderr
    s.note(f"migrate with live duplicates: exit {done.returncode}: {out.strip()[-400:]}")
    s.check(done.returncode != 0, "migrate succeeded although shop.second has a live duplicate")
    s.check("dup" in out.lower() and t2.rule in out, "migrate's refusal does not name the rule and the duplicate key")
    start_expecting_refusal(s, "one of two dedup tables", rules, [f"'{t2.rule}'", "uniqgate migrate"], [f"'{t.rule}'"])

    # a dedup table of the wrong shape is refused too
    with s.admin.cursor() as c:
        c.execute(f"CREATE TABLE {t2.dedup_qualified} (name VARCHAR(100) PRIMARY KEY)")
    start_expecting_refusal(s, "dedup table without the model column", rules, [f"'{t2.rule}'", "uniqgate migrate"])
    with s.admin.cursor() as c:
        c.execute(f"DROP TABLE {t2.dedup_qualified}")
        c.execute(f"UPDATE {t2.qualified} SET delete_status = 1 WHERE id = 2")  # 'DUP '
    done = run_migrate(s, rules)
    s.check(done.returncode == 0, f"migrate after removing the duplicate: exit {done.returncode}: "
                                  f"{(done.stdout + done.stderr)[-400:]}")

    # now it starts, and enforces with what migrate filled in
    proxy = Uniqgate(s.state / "proxy", s.db_port, rules)
    s.proxies.append(proxy)
    c = connect(proxy.port)
    try:
        expect_dup(s, "INSERT su1 (backfilled)", try_execute(c, *insert_sql(t, "su1", "m")), "su1", "m")
        expect_dup(s, "INSERT dup (backfilled)", try_execute(c, *insert_sql(t2, "dup", "m")), "dup", "m",
                   rule=t2.rule)
        expect_ok(s, "INSERT su3", try_execute(c, *insert_sql(t, "su3", "m")))
    finally:
        close_quietly(c)
    s.check_table(t, expect_keys=[("su1", "m"), ("su2", "m"), ("su3", "m")], expect_live=3)
    s.check_table(t2, expect_keys=[("dup", "m"), ("ok", "m")], expect_live=2)


# ------------------------------------------------------------------ 8. multi-statement clients

def multi_results(conn, sql) -> list:
    """Every result set of a multi-statement, as lists of rows."""
    out = []
    with conn.cursor() as c:
        c.execute(sql)
        out.append(list(c.fetchall()))
        while c.nextset():
            out.append(list(c.fetchall()))
    return out


def single_statement_refuses(s: Scenario, conn, canary, label) -> None:
    """Without CLIENT_MULTI_STATEMENTS the server's own 1064 comes back and nothing runs."""
    for sql in ("SELECT 1; SELECT 2", f"DO 1; INSERT INTO {canary} VALUES (1)"):
        res, e = try_execute(conn, sql)
        s.check(e is not None and err_code(e) == 1064,
                f"{label}: {sql!r} without multi-statements: {e or res}, expected the server's 1064")
    s.check(scalar(s.admin, f"SELECT COUNT(*) FROM {canary}") == 0, f"{label}: the canary table was written")


def scenario_multi_statement_clients(s: Scenario):
    """Clients with and without CLIENT_MULTI_STATEMENTS, concurrently; without it, `a; b` stays a syntax error."""
    t = s.table("t")
    canary = "shop.dd_multi_statement_canary"
    with s.admin.cursor() as c:
        c.execute(f"DROP TABLE IF EXISTS {canary}")
        c.execute(f"CREATE TABLE {canary} (x INT)")
    port = s.start(rule_yaml(t))[0]
    single, multi = connect(port), connect(port, client_flag=CLIENT.MULTI_STATEMENTS)
    try:
        single_statement_refuses(s, single, canary, "a fresh connection")
        expect_ok(s, "single: INSERT ms1", try_execute(single, *insert_sql(t, "ms1", "m")))
        single_statement_refuses(s, single, canary, "after a wrapped INSERT")
        expect_dup(s, "single: INSERT ms1 again", try_execute(single, *insert_sql(t, "ms1", "m")), "ms1", "m")
        single_statement_refuses(s, single, canary, "after a refused duplicate")
        expect_error(s, "single: data too long", try_execute(
            single, f"INSERT INTO {t.name} (name, model, note) VALUES ('ms2', 'm', %s)", ("n" * 51,)), 1406)
        single_statement_refuses(s, single, canary, "after a failed INSERT")
        expect_ok(s, "single: soft delete ms1", try_execute(
            single, f"UPDATE {t.name} SET delete_status = 1 WHERE name = 'ms1'"))
        expect_ok(s, "single: BEGIN", try_execute(single, "BEGIN"), affected=None)
        expect_ok(s, "single: INSERT ms1 in a transaction", try_execute(single, *insert_sql(t, "ms1", "m")))
        single_statement_refuses(s, single, canary, "inside a transaction after a wrapped INSERT")
        expect_ok(s, "single: COMMIT", try_execute(single, "COMMIT"), affected=None)
        single_statement_refuses(s, single, canary, "after UPDATE and a transaction")

        # a client that enabled multi-statements keeps them, for statements that involve no rule
        s.check(multi_results(multi, "SELECT 1; SELECT 2") == [[(1,)], [(2,)]], "multi: SELECT 1; SELECT 2")
        expect_ok(s, "multi: INSERT ms3", try_execute(multi, *insert_sql(t, "ms3", "m")))
        expect_dup(s, "multi: INSERT ms1 (live)", try_execute(multi, *insert_sql(t, "ms1", "m")), "ms1", "m")
        s.check(multi_results(multi, f"SELECT COUNT(*) FROM {canary}; SELECT 'x'") == [[(0,)], [("x",)]],
                "multi: a multi-statement after a wrapped write")
        res, e = try_execute(multi, f"INSERT INTO {t.name} (name, model) VALUES ('ms4', 'm'); SELECT 1")
        if TARGET == "uniqgate":  # a multi-statement writing a rule table cannot be checked
            expect_error(s, "multi: INSERT into the rule table; SELECT 1", (res, e), NOT_SUPPORTED, [RULE])
            s.check(not t.live_rows(s.admin, "ms4", "m"), "multi: the refused multi-statement inserted ms4")
    finally:
        close_quietly(single)
        close_quietly(multi)
    s.check_table(t, expect_keys=[("ms1", "m"), ("ms3", "m")], label="sequential")
    before = t.live_count(s.admin)  # 2 (the reference target also ran the multi-statement's ms4)

    # 16 clients, half of them with multi-statements, insert the same keys; now and then each
    # checks that multi-statements are on exactly for the clients that asked for them
    keys = keyspace("mc", 150)
    tally, lock = Tally(), threading.Lock()
    answered = collections.Counter()

    def worker(i, barrier, deadline):
        rnd = random.Random(s.seed * 1000 + i)
        wants_multi = i % 2 == 0
        conn = connect(port, client_flag=CLIENT.MULTI_STATEMENTS if wants_multi else 0)
        order = keys[:]
        rnd.shuffle(order)
        barrier.wait()
        try:
            for n, m in order:
                if time.monotonic() > deadline:
                    tally.problem(f"client {i}: time budget used up")
                    return
                res, e = try_execute(conn, *insert_sql(t, n, m, i))
                if e is None:
                    tally.stmt()
                    with lock:
                        answered[(n, m)] += 1
                else:
                    record(tally, e, "INSERT", RULE, n, m)
                if rnd.random() < 0.15:
                    try:
                        results = multi_results(conn, "SELECT 1; SELECT 2")
                        if not wants_multi:
                            tally.problem(f"client {i} (no multi-statements): 'SELECT 1; SELECT 2' ran: {results}")
                        elif results != [[(1,)], [(2,)]]:
                            tally.problem(f"client {i}: 'SELECT 1; SELECT 2' gave {results}")
                    except pymysql.err.MySQLError as e:
                        if wants_multi or err_code(e) != 1064:
                            tally.problem(f"client {i} (multi {wants_multi}): 'SELECT 1; SELECT 2': {e}")
        finally:
            close_quietly(conn)

    s.run_clients(16, worker, 45, "mixed clients")
    s.check_tally(tally, {1062}, "mixed clients")
    twice = [k for k, v in answered.items() if v > 1]
    s.check(not twice, f"{len(twice)} key(s) answered OK more than once, e.g. {twice[:3]}")
    s.check(len(answered) == len(keys), f"{len(answered)} keys answered OK, expected {len(keys)}")
    s.check_table(t, expect_keys=keys, expect_live=len(keys) + before, label="mixed clients")
    s.check(scalar(s.admin, f"SELECT COUNT(*) FROM {canary}") == 0, "the canary table was written")


# ------------------------------------------------------------------ main

SCENARIOS = {
    "backend_restart": scenario_backend_restart,
    "app_generated_ids": scenario_app_generated_ids,
    "delete_and_truncate": scenario_delete_and_truncate,
    "insert_ignore_skips": scenario_insert_ignore_skips,
    "explicit_transactions_savepoint": scenario_explicit_transactions_savepoint,
    "unsupported_refused": scenario_unsupported_refused,
    "startup_requires_dedup_table": scenario_startup_requires_dedup_table,
    "multi_statement_clients": scenario_multi_statement_clients,
}


if __name__ == "__main__":
    sys.exit(run_main(__doc__, SCENARIOS))
