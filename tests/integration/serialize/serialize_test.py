#!/usr/bin/python3
"""End-to-end tests of `mode: serialize`: many concurrent clients through uniqgate in front of a
real MariaDB, the database counted afterwards. One sub-command = one scenario = one CTest test.

    serialize_test.py SCENARIO          (see README.md; `serialize_test.py list` lists them)

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
import urllib.request

from serial_lib import (ALLOWED_CONTENTION, HOST, run_main, LOCK_TIMEOUT_MS, RULE, TARGET, Scenario, Step, Table,
                        Tally, abort_socket, close_quietly, connect, dup_error_problem, err_code,
                        err_text, fold, rule_yaml, scalar, try_execute)

LOST = {2006, 2013}  # client-side "server has gone away" / "lost connection"


# ------------------------------------------------------------------ statement builders

def insert_forms(t: Table):
    """Ways an application spells a single-row INSERT; each returns (sql, args) for (n, m, price)."""
    tail = t.positional_tail() + (", DEFAULT" if TARGET == "reference" else "")
    return [
        lambda n, m, p: (f"INSERT INTO {t.name} (name, model, price) VALUES (%s, %s, %s)", (n, m, p)),
        lambda n, m, p: (f"INSERT INTO {t.qualified} (model, name, price) VALUES (%s, %s, %s)", (m, n, p)),
        lambda n, m, p: (f"insert into `shop`.`{t.name}` set name = %s, model = %s, price = %s", (n, m, p)),
        lambda n, m, p: (f"INSERT INTO {t.name} VALUES (NULL, %s, %s, %s, {tail})", (n, m, p)),
        lambda n, m, p: (f"/* app */ INSERT INTO {t.name}(name,model,price) VALUES(%s,%s,%s)", (n, m, p)),
    ]


def insert_sql(t: Table, n, m, price=1):
    return f"INSERT INTO {t.name} (name, model, price) VALUES (%s, %s, %s)", (n, m, price)


def batch_sql(t: Table, rows, on_duplicate="error"):
    """A multi-row INSERT of (name, model, price, note) rows. For the reference target the
    rule's on_duplicate is spelled out in SQL (INSERT IGNORE / ON DUPLICATE KEY UPDATE)."""
    verb = "INSERT IGNORE" if (TARGET == "reference" and on_duplicate == "ignore") else "INSERT"
    sql = (f"{verb} INTO {t.name} (name, model, price, note) VALUES "
           + ", ".join(["(%s, %s, %s, %s)"] * len(rows)))
    if TARGET == "reference" and on_duplicate == "update":
        sql += " ON DUPLICATE KEY UPDATE price = VALUES(price), note = VALUES(note)"
    args = [v for row in rows for v in (tuple(row) + (None,) * (4 - len(row)))]
    return sql, args


def keyspace(prefix, count, models=7):
    return [(f"{prefix}{i:03d}", f"m{i % models}") for i in range(count)]


def record_error(tally, e, what, name=None, model=None, exact=True):
    """Counts an error; a 1062 must be MySQL's duplicate error for (name, model)."""
    tally.stmt(False, err_code(e))
    if err_code(e) == 1062 and name is not None:
        problem = dup_error_problem(e, name, model, exact=exact)
        if problem:
            tally.problem(f"{what}: {problem}")


def tallied_insert(tally, conn, sql, args, name, model, what):
    """Runs one INSERT and counts it in `tally`: (result, None) when it succeeded, (None, error)
    when not (a 1062 must be MySQL's duplicate error for (name, model))."""
    res, e = try_execute(conn, sql, args)
    if e is None:
        tally.stmt()
    else:
        record_error(tally, e, what, name, model)
    return res, e


# ------------------------------------------------------------------ 1. autocommit

def autocommit_load(s: Scenario, t: Table, ports, clients, keys, budget, label="", rounds=1):
    """rounds: the load repeated on fresh keys (more chances to hit a race); keys are per round."""
    all_keys = []
    for r in range(rounds):
        round_keys = [(f"{n}r{r}", m) for n, m in keys] if rounds > 1 else keys
        all_keys += round_keys
        autocommit_round(s, t, ports, clients, round_keys, budget / rounds, f"{label} round {r + 1}/{rounds}")
    s.check_table(t, expect_keys=all_keys, expect_live=len(all_keys), label=label)


def autocommit_round(s: Scenario, t: Table, ports, clients, keys, budget, label):
    tally, lock = Tally(), threading.Lock()
    answered_ok = collections.Counter()

    def worker(i, barrier, deadline):
        rnd = random.Random(s.seed * 1000 + i)
        conn = connect(ports[i % len(ports)])
        order = keys[:]
        rnd.shuffle(order)
        forms = insert_forms(t)
        barrier.wait()
        try:
            for n, m in order:
                if time.monotonic() > deadline:
                    tally.problem(f"client {i}: time budget used up")
                    return
                sql, args = rnd.choice(forms)(n, m, i)
                res, e = tallied_insert(tally, conn, sql, args, n, m, f"INSERT {n!r}-{m!r} ({sql[:40]}...)")
                if e is None:
                    with lock:
                        answered_ok[(n, m)] += 1
                    if res[0] != 1:
                        tally.problem(f"INSERT {n}-{m}: affected rows {res[0]}, expected 1")
                elif err_code(e) in LOST:
                    return
        finally:
            close_quietly(conn)

    s.run_clients(clients, worker, budget, label)
    s.check_tally(tally, {1062}, label)
    twice = [k for k, c in answered_ok.items() if c > 1]
    s.check(not twice, f"{label}: {len(twice)} key(s) answered OK more than once, e.g. {twice[:3]}")
    dups = t.live_duplicates(s.admin)
    s.check(not dups, f"{label}: {len(dups)} live duplicate key(s), e.g. {dups[:3]}")
    print(f"[{s.name}] {label}: duplicated live keys so far: {len(dups)}")
    s.check(tally.ok == len(keys), f"{label}: {tally.ok} inserts answered OK for {len(keys)} keys")


def scenario_autocommit(s: Scenario):
    """32 clients insert the same 200 keys in random order, autocommit, single-row INSERTs."""
    t = s.table("t")
    ports = s.start(rule_yaml(t))
    autocommit_load(s, t, ports, clients=32, keys=keyspace("ac", 200), budget=45, label="autocommit", rounds=3)


def scenario_autocommit_deleted_at(s: Scenario):
    """Scenario 1 on a table soft-deleted by `deleted_at` (live: null), with dead rows present."""
    t = s.table("t", soft="deleted_at")
    keys = keyspace("da", 120)
    with s.admin.cursor() as c:  # dead rows with the same keys must not block anything
        c.executemany(f"INSERT INTO {t.qualified} (name, model, price, deleted_at) VALUES (%s, %s, 0, NOW())",
                      [(f"{n}r{r}", m) for r in range(2) for n, m in keys[::2]])
    ports = s.start(rule_yaml(t))
    autocommit_load(s, t, ports, clients=24, keys=keys, budget=45, label="deleted_at", rounds=2)


def proxy_metrics(s: Scenario) -> dict:
    """uniqgate's counters (admin /metrics) summed over the scenario's instances; {} for other targets."""
    totals = collections.Counter()
    for proxy in s.proxies:
        with urllib.request.urlopen(f"http://{HOST}:{proxy.admin_port}/metrics", timeout=5) as answer:
            for line in answer.read().decode().splitlines():
                if line and not line.startswith("#"):
                    name, value = line.split()
                    totals[name] += int(float(value))
    return totals


def _local_tcp_ports(pid: int) -> list:
    """The local ports of process `pid`'s IPv4 TCP sockets (from /proc: its fds' socket inodes)."""
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        with open(f"/proc/{pid}/net/tcp") as table:
            next(table)
            return [int(fields[1].split(":")[1], 16) for fields in (line.split() for line in table)
                    if fields[9] in inodes]
    except OSError:
        return []


def scenario_batched_checks(s: Scenario):
    """Autocommit checks of many sessions answered by one query (CheckBatcher): each client owns
    its keys, so checks of different keys overlap all the time. Live keys (in other spellings)
    must answer 1062 naming the client's own key, dead and new keys must insert, and a 2-row
    batch with one live key inserts nothing, whichever other sessions' keys shared its query."""
    batched_checks(s, "disabled")


def scenario_batched_checks_backend_tls(s: Scenario):
    """The batched checks again with `backend_tls: required`: the control connections that run
    the shared queries speak TLS, driven step by step from the event loop."""
    batched_checks(s, "required")


def batched_checks(s: Scenario, backend_tls: str):
    t = s.table("t")
    live = keyspace("bl", 120)
    dead = keyspace("bd", 60)
    with s.admin.cursor() as c:
        c.executemany(f"INSERT INTO {t.qualified} (name, model, price) VALUES (%s, %s, 0)", live)
        c.executemany(f"INSERT INTO {t.qualified} (name, model, price, delete_status) VALUES (%s, %s, 0, 1)", dead)
    ports = s.start(rule_yaml(t), backend_tls=backend_tls)
    clients = 24
    new = keyspace("bn", 240)
    tally, lock = Tally(), threading.Lock()
    inserted = []

    odd_answers = collections.Counter()

    def odd_client(conn, barrier, deadline):
        """A key whose comparison the server refuses (1267, illegal mix of collations): when its
        check shares a query with others, the error must reach this client alone."""
        barrier.wait()
        for attempt in range(10):  # few: each shared query it fails is run again per check
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)
            _, e = try_execute(conn, f"INSERT INTO {t.name} (name, model, price) VALUES "
                                     f"(_latin1'odd{attempt}' COLLATE latin1_bin, 'm1', 0)")
            odd_answers["ok" if e is None else err_code(e)] += 1

    def worker(i, barrier, deadline):
        if i == clients:
            conn = connect(ports[0])
            try:
                odd_client(conn, barrier, deadline)
            finally:
                close_quietly(conn)
            return
        rnd = random.Random(s.seed * 1000 + i)
        conn = connect(ports[0])
        # Every key belongs to one client: no client waits for another's key lock.
        mine_live = [(n.upper() + " ", m) for n, m in live[i::clients]]
        mine_new = new[i::clients]
        barrier.wait()
        try:
            work = [("live", k) for k in mine_live] + [("dead", k) for k in dead[i::clients]] + \
                   [("new", k) for k in mine_new[: len(mine_new) // 2]] + \
                   [("pair", (a, b)) for a, b in zip(mine_new[len(mine_new) // 2:], mine_live)]
            rnd.shuffle(work)
            for kind, key in work:
                if time.monotonic() > deadline:
                    tally.problem(f"client {i}: time budget used up")
                    return
                if kind == "pair":  # a new key and a live one: 1062 for the live one, nothing inserted
                    (nn, nm), (ln, lm) = key
                    sql, args = batch_sql(t, [(nn, nm, i), (ln, lm, i)])
                    res, e = try_execute(conn, sql, args)
                    if e is None:
                        tally.stmt()
                        tally.problem(f"batch {nn!r} + live {ln!r}: answered OK")
                    else:
                        record_error(tally, e, f"batch {nn!r} + live {ln!r}", ln, lm)
                    continue
                n, m = key
                sql, args = insert_sql(t, n, m, i)
                res, e = try_execute(conn, sql, args)
                if e is None:
                    tally.stmt()
                    if kind == "live":
                        tally.problem(f"INSERT {n!r}-{m!r}: a live key answered OK")
                    with lock:
                        inserted.append((n, m))
                    continue
                record_error(tally, e, f"INSERT {kind} key {n!r}-{m!r}", n, m)
                if kind != "live":
                    tally.problem(f"INSERT {kind} key {n!r}-{m!r}: {err_code(e)} {err_text(e)}")
                if err_code(e) in LOST:
                    return
        finally:
            close_quietly(conn)

    # uniqgate refuses the odd client's key (its check cannot compare it); MariaDB itself
    # would store it, so the other targets run without that client.
    s.run_clients(clients + (1 if TARGET == "uniqgate" else 0), worker, 45, "batched checks")
    s.check_tally(tally, {1062}, "batched checks")
    if TARGET == "uniqgate":
        s.note(f"odd client's answers: {dict(odd_answers)}")
        s.check(set(odd_answers) == {1267}, f"the odd client got {dict(odd_answers)}, expected only 1267")
    expected_new = [k for k in new if k in set(inserted)]
    s.check(len(inserted) == len(dead) + len(new) // 2,
            f"{len(inserted)} inserts answered OK, expected {len(dead) + len(new) // 2} (dead + single new keys)")
    s.check_table(t, expect_keys=live + dead + expected_new, expect_live=len(live) + len(inserted),
                  label="batched checks")
    with s.admin.cursor() as c:
        c.execute(f"SELECT COUNT(*) FROM {t.qualified} WHERE name LIKE 'bn%%' AND {t.live_sql}")
        s.check(c.fetchone()[0] == len(new) // 2, "a refused 2-row batch left its new key behind")
    if TARGET == "uniqgate":
        counters = proxy_metrics(s)
        checks, queries = counters["uniqgate_batched_checks_total"], counters["uniqgate_batched_check_queries_total"]
        s.note(f"batched checks {checks} in {queries} queries")
        s.check(checks > 0 and queries < checks,
                f"no two checks shared a query (batched checks {checks}, queries {queries})")
        failed = [line for line in s.proxies[0].log_text().splitlines() if "control connection" in line]
        s.check(not failed, f"control connections failed: {failed[:3]}")


def scenario_control_connection_killed(s: Scenario):
    """The control connections that answer shared checks are killed again and again (as a server
    restart would end them) while 16 clients insert: the checks fall back to the sessions' own
    connections, so the clients see no error at all, and no duplicate gets in."""
    s.skip_unless_uniqgate("kills uniqgate's own control connections")
    t = s.table("t")
    ports = s.start(rule_yaml(t))
    clients = 16
    keys = [(f"ck{i:05d}", f"m{i % 7}") for i in range(9600)]
    tally, lock = Tally(), threading.Lock()
    inserted = []
    kills = collections.Counter()

    proxy_pid = s.proxies[0].proc.pid

    def killer(deadline, done):
        conn = connect(s.db_port)
        try:
            while not done.is_set() and time.monotonic() < deadline:
                # Only this test's uniqgate's connections: other tests share the server.
                ours = [f"127.0.0.1:{port}" for port in _local_tcp_ports(proxy_pid)]
                if not ours:
                    time.sleep(0.001)
                    continue
                with conn.cursor() as c:
                    c.execute("SELECT id FROM information_schema.PROCESSLIST WHERE user = 'uniqgate' AND host IN ("
                              + ", ".join(["%s"] * len(ours)) + ")", ours)
                    for (thread_id,) in c.fetchall():
                        _, e = try_execute(conn, f"KILL CONNECTION {thread_id}")
                        kills["killed" if e is None else err_code(e)] += 1
                time.sleep(0.001)
        finally:
            close_quietly(conn)

    def worker(i, barrier, deadline):
        conn = connect(ports[0])
        mine = keys[i::clients]
        barrier.wait()
        try:
            for n, m in mine + mine[:5]:  # the last five again: 1062 from a check that may run anywhere
                if time.monotonic() > deadline:
                    tally.problem(f"client {i}: time budget used up")
                    return
                sql, args = insert_sql(t, n, m, i)
                _, e = tallied_insert(tally, conn, sql, args, n, m, f"INSERT {n!r}-{m!r}")
                if e is None:
                    with lock:
                        inserted.append((n, m))
                elif err_code(e) in LOST:
                    return
        finally:
            close_quietly(conn)

    done = threading.Event()
    stopper = threading.Thread(target=killer, args=(time.monotonic() + 40, done), daemon=True)
    stopper.start()
    try:
        s.run_clients(clients, worker, 40, "control connections killed")
    finally:
        done.set()
        stopper.join(10)
    s.note(f"control connections killed: {dict(kills)}")
    s.check(kills["killed"] > 0, "no control connection was ever there to kill")
    s.check_tally(tally, {1062}, "control connections killed")
    s.check(tally.errors.get(1062, 0) == 5 * clients, f"{tally.errors.get(1062, 0)} inserts got 1062, "
            f"expected {5 * clients} (each client's repeated keys)")
    s.check(sorted(inserted) == sorted(keys), f"{len(inserted)} keys inserted, expected {len(keys)}")
    s.check_table(t, expect_keys=keys, expect_live=len(keys), label="control connections killed")
    s.check(s.proxies[0].alive(), "uniqgate died")


def scenario_shutdown_under_load(s: Scenario):
    """SIGTERM while 16 clients insert, checks sharing queries and sessions in the middle of
    them: uniqgate must exit cleanly (status 0, in time) and leave no live duplicate. Run
    against an ASan build (scripts/test.sh does), it also catches a session destroyed at
    shutdown touching what was freed before it (the control pool's check counter was)."""
    s.skip_unless_uniqgate("stops uniqgate itself")
    t = s.table("t")
    ports = s.start(rule_yaml(t))
    clients = 16
    started = threading.Event()
    answered = collections.Counter()

    def worker(i, barrier, deadline):
        conn = connect(ports[0], read_timeout=10)
        barrier.wait()
        try:
            for k in range(100000):
                if time.monotonic() > deadline:
                    return
                sql, args = insert_sql(t, f"sd{i:02d}-{k:06d}", f"m{k % 3}", i)
                _, e = try_execute(conn, sql, args)
                answered["ok" if e is None else err_code(e)] += 1
                if k == 20:
                    started.set()
                if e is not None:
                    return  # the proxy went away: the expected end
        finally:
            close_quietly(conn)

    proxy = s.proxies[0]
    runner = threading.Thread(target=s.run_clients, args=(clients, worker, 30, "shutdown under load"), daemon=True)
    runner.start()
    s.check(started.wait(20), "the clients never got going")
    time.sleep(0.5)
    proxy.stopped_on_purpose = True
    os.killpg(proxy.proc.pid, signal.SIGTERM)
    try:
        status = proxy.proc.wait(20)
    except subprocess.TimeoutExpired:
        status = None
    runner.join(60)
    s.note(f"answers: {dict(answered)}")
    s.check(status == 0, f"uniqgate exited with {status} after SIGTERM under load, expected 0")
    reports = [line for line in proxy.log_text().splitlines() if "Sanitizer" in line or "runtime error" in line]
    s.check(not reports, f"sanitizer reports: {reports[:3]}")
    s.check(answered["ok"] > clients * 20, f"only {answered['ok']} inserts answered OK before the stop")
    s.check_table(t, label="shutdown under load")


# ------------------------------------------------------------------ 2. explicit transactions

def transactions(s: Scenario, isolation: str):
    t = s.table("t")
    ports = s.start(rule_yaml(t))
    keys = keyspace("tx", 250)
    tally, lock = Tally(), threading.Lock()
    committed = []
    txn_count = collections.Counter()
    expect_iso = isolation.replace(" ", "-")

    def q(conn, sql):
        res, e = try_execute(conn, sql)
        if e is None:
            tally.stmt()
        else:
            tally.stmt(False, err_code(e))
        return e

    def worker(i, barrier, deadline):
        rnd = random.Random(s.seed * 1000 + i)
        conn = connect(ports[i % len(ports)], isolation=isolation)
        iso = scalar(conn, "SELECT @@tx_isolation")
        if iso != expect_iso:
            tally.problem(f"client {i}: session isolation {iso}, expected {expect_iso}")
        order = keys[:]
        rnd.shuffle(order)
        barrier.wait()
        try:
            for n, m in order:
                if time.monotonic() > deadline:
                    tally.problem(f"client {i}: time budget used up")
                    return
                batch = [(n, m)]
                if rnd.random() < 0.15:  # two keys in one transaction, in no particular order
                    batch.append(rnd.choice(keys))
                if q(conn, "BEGIN"):
                    return
                if rnd.random() < 0.5:  # the application's own check: takes the RR snapshot
                    q(conn, f"SELECT COUNT(*) FROM {t.name} WHERE name = '{n}' AND model = '{m}' "
                            "AND delete_status = 0")
                inserted, aborted = [], False
                for bn, bm in batch:
                    sql, args = insert_sql(t, bn, bm, i)
                    res, e = try_execute(conn, sql, args)
                    if e is None:
                        tally.stmt()
                        inserted.append((bn, bm))
                    else:
                        record_error(tally, e, f"INSERT {bn!r}-{bm!r} in a transaction", bn, bm)
                        if err_code(e) in LOST:
                            return
                        if err_code(e) != 1062:  # 1205/1213: the application gives up
                            aborted = True
                            break
                if aborted or rnd.random() < 0.3:
                    if q(conn, "ROLLBACK"):
                        return
                    txn_count["rolled back"] += 1
                else:
                    e = q(conn, "COMMIT")
                    if e is None:
                        with lock:
                            committed.extend(inserted)
                        txn_count["committed"] += 1
                    else:
                        tally.problem(f"COMMIT failed: {err_code(e)} {err_text(e)}")
                        return
        finally:
            close_quietly(conn)

    s.run_clients(32, worker, 45, isolation)
    s.note(f"transactions: {dict(txn_count)}, {len(committed)} committed inserts")
    s.check_tally(tally, ALLOWED_CONTENTION, isolation)
    s.check_table(t, expect_keys=committed, expect_live=len(committed), label=isolation)


def scenario_transactions_repeatable_read(s):
    """BEGIN; [SELECT]; INSERT (1-2 keys); COMMIT or ROLLBACK at random, REPEATABLE READ."""
    transactions(s, "REPEATABLE READ")


def scenario_transactions_read_committed(s):
    """The same under READ COMMITTED."""
    transactions(s, "READ COMMITTED")


# ------------------------------------------------------------------ 3. rolled-back inserts

def expect_ok(s, what, res_err, affected=1):
    res, e = res_err
    if e is not None:
        s.check(False, f"{what}: error {err_code(e)} {err_text(e)}")
        return False
    return s.check(affected is None or res[0] == affected, f"{what}: affected rows {res[0]}, expected {affected}")


def expect_dup(s, what, res_err, name, model, exact=True, rule=RULE):
    res, e = res_err
    if e is None:
        return s.check(False, f"{what}: succeeded (affected {res[0]}), expected 1062 duplicate")
    problem = dup_error_problem(e, name, model, rule=rule, exact=exact)
    return s.check(problem is None, f"{what}: {problem}")


def blocked_then(s, holder, waiter_conn, t, key, finish_sql, expect, label):
    """holder has inserted key in an open transaction; waiter_conn inserts it too. The waiter must
    wait (a unique index would), then after finish_sql on holder get `expect` ('ok' or 'dup')."""
    step = Step(waiter_conn, *insert_sql(t, *key))
    waited = not step.wait(0.7)
    s.check(waited, f"{label}: the second INSERT of {key} did not wait for the open transaction "
                    f"(answered {step.error or step.result})")
    fin = try_execute(holder, finish_sql)
    expect_ok(s, f"{label}: {finish_sql}", fin, affected=None)
    if not s.check(step.wait(LOCK_TIMEOUT_MS / 1000 + 3), f"{label}: the waiting INSERT never returned"):
        return
    if expect == "ok":
        expect_ok(s, f"{label}: the waiting INSERT after {finish_sql}", (step.result, step.error))
    else:
        expect_dup(s, f"{label}: the waiting INSERT after {finish_sql}", (step.result, step.error), *key)
    s.note(f"{label}: waiter answered after {step.elapsed:.2f} s")


def scenario_fresh_transaction_check(s: Scenario):
    """Inside a transaction that has run nothing but BEGIN, the session has no uncommitted rows, so
    the existence check needs no read on the session's own connection (uniqgate: the session's
    Com_select does not move); once it has written, its own rows must be seen: a second INSERT of
    the key in the same transaction is a duplicate, and a soft delete then re-insert passes."""
    t = s.table("t")
    ports = s.start(rule_yaml(t))
    conn = connect(ports[0], isolation="REPEATABLE READ")
    other = connect(ports[0])

    def selects():
        return _status(conn, "Com_select")

    def step(sql, expect_code=None, what=""):
        _, e = try_execute(conn, sql)
        got = None if e is None else err_code(e)
        s.check(got == expect_code, f"{what or sql}: got {got if e is None else err_text(e)}, expected {expect_code}")

    try:
        step(f"INSERT INTO {t.name} (name, model, price) VALUES ('fl0', 'm', 0)")
        before = selects()
        step("BEGIN")
        step(f"INSERT INTO {t.name} (name, model, price) VALUES ('fl1', 'm', 1)", what="first INSERT after BEGIN")
        fresh = selects() - before
        step(f"INSERT INTO {t.name} (name, model, price) VALUES ('FL1 ', 'm', 2)", 1062,
             "the same key again in the same transaction (only the session's own view has it)")
        step(f"INSERT INTO {t.name} (name, model, price) VALUES ('fl2', 'm', 3)", what="a second new key")
        after_write = selects() - before - fresh
        step(f"UPDATE {t.name} SET delete_status = 1 WHERE name = 'fl0' AND model = 'm' AND delete_status = 0")
        step(f"INSERT INTO {t.name} (name, model, price) VALUES ('fl0', 'm', 4)", what="re-insert after own soft delete")
        step("COMMIT")
        # A transaction whose first statement after BEGIN is a key that another session holds live.
        step("BEGIN")
        step(f"INSERT INTO {t.name} (name, model, price) VALUES ('fl2', 'm', 5)", 1062, "a committed live key")
        step("ROLLBACK")
        # A key another session commits after our snapshot was taken (at BEGIN): our first
        # INSERT must still see it, and a new key still inserts.
        step("START TRANSACTION WITH CONSISTENT SNAPSHOT")
        _, e = try_execute(other, f"INSERT INTO {t.name} (name, model, price) VALUES ('fl3', 'm', 6)")
        s.check(e is None, f"the other session's INSERT: {e}")
        step(f"INSERT INTO {t.name} (name, model, price) VALUES ('Fl3', 'm', 7)", 1062,
             "a key committed after the snapshot")
        step(f"INSERT INTO {t.name} (name, model, price) VALUES ('fl4', 'm', 8)", what="a new key")
        step("COMMIT")
        if TARGET == "uniqgate":
            s.note(f"session SELECTs for the first check after BEGIN: {fresh}, for a later one: {after_write}")
            s.check(fresh == 0, f"the first check after BEGIN read on the session's own connection ({fresh} SELECTs)")
            s.check(after_write >= 1, "a check after the session wrote did not read its own view")
    finally:
        close_quietly(conn)
        close_quietly(other)
    s.check_table(t, expect_keys=[("fl0", "m"), ("fl1", "m"), ("fl2", "m"), ("fl3", "m"), ("fl4", "m")],
                  expect_live=5, label="fresh transaction")


def scenario_one_round_trip_insert(s: Scenario):
    """A lone client's autocommit INSERT: the existence check and the INSERT go to the server as one
    multi-statement (a SELECT probe that fails with 1242 on a live key, then the INSERT; uniqgate:
    `uniqgate_one_round_trip_inserts_total` moves). The client still gets exactly the INSERT's own
    answer: affected rows, insert id, info, warnings (SHOW WARNINGS lists the INSERT's), its errors,
    and MySQL's 1062 for a live key; a client without multi-statements keeps getting 1064 for its
    own multi-statement strings."""
    t = s.table("t")
    ports = s.start(rule_yaml(t))
    conn = connect(ports[0])
    plain = connect(ports[0])  # PyMySQL's default: no CLIENT_MULTI_STATEMENTS
    try:
        before = proxy_metrics(s).get("uniqgate_one_round_trip_inserts_total", 0)
        with conn.cursor() as c:
            affected = c.execute(f"INSERT INTO {t.name} (name, model, price) VALUES ('rt1', 'm', 1)")
            insert_id = c.lastrowid
            c.execute("SELECT LAST_INSERT_ID()")
            s.check(affected == 1 and insert_id and c.fetchone()[0] == insert_id,
                    f"single INSERT: affected {affected}, insert id {insert_id}")
        if TARGET == "uniqgate":
            moved = proxy_metrics(s)["uniqgate_one_round_trip_inserts_total"] - before
            s.check(moved == 1, f"the INSERT did not take the one-round-trip path ({moved})")
        _, e = try_execute(conn, f"INSERT INTO {t.name} (name, model, price) VALUES ('RT1 ', 'm', 2)")
        problem = dup_error_problem(e, "RT1 ", "m") if e is not None else "answered OK"
        s.check(problem is None, f"a live key: {problem}")
        with conn.cursor() as c:
            c.execute("SET SESSION sql_mode = ''")  # '7x' into an INT: a warning, not an error
            affected = c.execute(f"INSERT INTO {t.name} (name, model, price) VALUES ('rt2', 'm', '7x'), ('rt3', 'm', 3)")
            result = conn._result
            s.check(affected == 2, f"2-row INSERT: affected {affected}")
            s.check(result.warning_count == 1, f"2-row INSERT: {result.warning_count} warnings, expected 1")
            info = (result.message or b"").decode() if isinstance(result.message, bytes) else (result.message or "")
            s.check("Records: 2" in info and "Warnings: 1" in info, f"2-row INSERT info {info!r}")
            c.execute("SHOW WARNINGS")
            warnings = c.fetchall()
            s.check(len(warnings) == 1 and warnings[0][1] == 1265, f"SHOW WARNINGS after the INSERT: {warnings}")
        with conn.cursor() as c:
            c.execute("SET SESSION sql_mode = DEFAULT")
        _, e = try_execute(conn, f"INSERT INTO {t.name} (name, model, note) VALUES ('rt4', 'm', REPEAT('x', 60))")
        s.check(e is not None and err_code(e) == 1406, f"a note longer than VARCHAR(50), strict mode: {e}")
        _, e = try_execute(plain, f"INSERT INTO {t.name} (name, model, price) VALUES ('rt5', 'm', 5)")
        s.check(e is None, f"INSERT from a client without multi-statements: {e}")
        _, e = try_execute(plain, "SELECT 1; SELECT 2")
        s.check(e is not None and err_code(e) == 1064,
                f"a multi-statement string from a client that did not enable them: {e}")
    finally:
        close_quietly(conn)
        close_quietly(plain)
    s.check_table(t, expect_keys=[("rt1", "m"), ("rt2", "m"), ("rt3", "m"), ("rt5", "m")], expect_live=4,
                  label="one round trip")


def _status(conn, name) -> int:
    with conn.cursor() as c:
        c.execute(f"SHOW SESSION STATUS LIKE '{name}'")
        return int(c.fetchone()[1])


def scenario_rollback_does_not_block(s: Scenario):
    """A rolled-back insert never blocks a later insert of the same key."""
    t = s.table("t")
    port = s.start(rule_yaml(t))[0]
    c1, c2 = connect(port), connect(port)
    try:
        # sequential: rollback on one connection, insert on another and on the same one
        k = ("rb1", "m")
        expect_ok(s, "BEGIN", try_execute(c1, "BEGIN"), affected=None)
        expect_ok(s, "c1 INSERT rb1 in a transaction", try_execute(c1, *insert_sql(t, *k)))
        expect_ok(s, "c1 ROLLBACK", try_execute(c1, "ROLLBACK"), affected=None)
        t0 = time.monotonic()
        expect_ok(s, "c2 INSERT rb1 after c1's rollback", try_execute(c2, *insert_sql(t, *k)))
        s.check(time.monotonic() - t0 < 2, "c2 INSERT after rollback took more than 2 s")
        expect_dup(s, "c1 INSERT rb1 again (now committed by c2)", try_execute(c1, *insert_sql(t, *k)), *k)

        k = ("rb2", "m")
        try_execute(c1, "BEGIN")
        expect_ok(s, "c1 INSERT rb2", try_execute(c1, *insert_sql(t, *k)))
        try_execute(c1, "ROLLBACK")
        expect_ok(s, "c1 INSERT rb2 again after its own rollback", try_execute(c1, *insert_sql(t, *k)))

        # concurrent: the second writer waits, then succeeds (rollback) or gets 1062 (commit)
        try_execute(c1, "BEGIN")
        expect_ok(s, "c1 INSERT rb3", try_execute(c1, *insert_sql(t, "rb3", "m")))
        blocked_then(s, c1, c2, t, ("rb3", "m"), "ROLLBACK", "ok", "rollback releases the waiter")
        try_execute(c1, "BEGIN")
        expect_ok(s, "c1 INSERT rb4", try_execute(c1, *insert_sql(t, "rb4", "m")))
        blocked_then(s, c1, c2, t, ("rb4", "m"), "COMMIT", "dup", "commit makes the waiter a duplicate")

        # autocommit=0: the transaction starts implicitly, the lock lives until ROLLBACK
        try_execute(c1, "SET autocommit = 0")
        expect_ok(s, "c1 INSERT rb5 with autocommit=0", try_execute(c1, *insert_sql(t, "rb5", "m")))
        blocked_then(s, c1, c2, t, ("rb5", "m"), "ROLLBACK", "ok", "autocommit=0 rollback")
        try_execute(c1, "SET autocommit = 1")
    finally:
        close_quietly(c1)
        close_quietly(c2)

    # many clients insert one key and roll back, over and over; every insert must succeed
    tally = Tally()
    hot = ("rbhot", "m")

    def worker(i, barrier, deadline):
        conn = connect(port)
        barrier.wait()
        try:
            for _ in range(25):
                if time.monotonic() > deadline:
                    tally.problem(f"client {i}: time budget used up")
                    return
                for sql, args in (("BEGIN", None), insert_sql(t, *hot), ("ROLLBACK", None)):
                    res, e = try_execute(conn, sql, args)
                    if e is None:
                        tally.stmt()
                    else:
                        record_error(tally, e, f"{sql[:20]} of a rolled-back hot key", *hot)
                        if err_code(e) in LOST:
                            return
        finally:
            close_quietly(conn)

    s.run_clients(12, worker, 40, "hot rollback")
    s.check_tally(tally, {1205, 1213}, "hot rollback")  # a 1062 here would be a rolled-back row blocking
    live = t.live_count(s.admin)
    s.check(live == 5, f"after the hot rollbacks: {live} live rows, expected 5 (rb1..rb5)")
    c3 = connect(port)
    expect_ok(s, "INSERT of the hot key after everything rolled back", try_execute(c3, *insert_sql(t, *hot)))
    close_quietly(c3)
    s.check_table(t, expect_keys=[(f"rb{i}", "m") for i in range(1, 6)] + [hot], expect_live=6)


# ------------------------------------------------------------------ 4. soft delete then re-insert

def soft_delete_reinsert(s: Scenario, soft: str):
    t = s.table("t", soft=soft)
    port = s.start(rule_yaml(t))[0]
    c1, c2 = connect(port), connect(port)
    k = ("sd1", "m")
    delete = (f"UPDATE {t.name} SET {t.dead_set_sql} WHERE name = %s AND model = %s AND {t.live_sql}", k)
    try:
        expect_ok(s, "INSERT sd1", try_execute(c1, *insert_sql(t, *k)))
        expect_dup(s, "INSERT sd1 again", try_execute(c2, *insert_sql(t, *k)), *k)
        expect_ok(s, "soft delete sd1", try_execute(c1, *delete))
        expect_ok(s, "INSERT sd1 after the soft delete", try_execute(c2, *insert_sql(t, *k)))
        expect_dup(s, "INSERT sd1 a third time", try_execute(c1, *insert_sql(t, *k)), *k)

        # soft delete and re-insert in one transaction
        for c in (c1, c2):
            c.cursor().execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        expect_ok(s, "BEGIN", try_execute(c1, "BEGIN"), affected=None)
        expect_ok(s, "soft delete sd1 in a transaction", try_execute(c1, *delete))
        expect_ok(s, "re-insert sd1 in the same transaction", try_execute(c1, *insert_sql(t, *k)))
        expect_ok(s, "COMMIT", try_execute(c1, "COMMIT"), affected=None)

        # ... with the REPEATABLE READ snapshot taken before the delete (an old snapshot sees the row)
        expect_ok(s, "BEGIN", try_execute(c1, "BEGIN"), affected=None)
        try_execute(c1, f"SELECT COUNT(*) FROM {t.name} WHERE {t.live_sql}")
        expect_ok(s, "soft delete sd1 after a snapshot", try_execute(c1, *delete))
        expect_ok(s, "re-insert sd1 after a snapshot", try_execute(c1, *insert_sql(t, *k)))
        expect_ok(s, "COMMIT", try_execute(c1, "COMMIT"), affected=None)

        # a rolled-back soft delete leaves the row live
        expect_ok(s, "BEGIN", try_execute(c1, "BEGIN"), affected=None)
        expect_ok(s, "soft delete sd1 (to be rolled back)", try_execute(c1, *delete))
        expect_ok(s, "ROLLBACK", try_execute(c1, "ROLLBACK"), affected=None)
        expect_dup(s, "INSERT sd1 after the rolled-back soft delete", try_execute(c2, *insert_sql(t, *k)), *k)

        # a snapshot older than another session's insert must not let a duplicate in (RR trap)
        k2 = ("sd2", "m")
        expect_ok(s, "BEGIN", try_execute(c1, "BEGIN"), affected=None)
        try_execute(c1, f"SELECT COUNT(*) FROM {t.name} WHERE name = 'sd2'")
        expect_ok(s, "c2 INSERT sd2 (after c1's snapshot)", try_execute(c2, *insert_sql(t, *k2)))
        expect_dup(s, "c1 INSERT sd2 with an older snapshot", try_execute(c1, *insert_sql(t, *k2)), *k2)
        try_execute(c1, "COMMIT")
    finally:
        close_quietly(c1)
        close_quietly(c2)
    s.check_table(t, expect_keys=[k, k2], expect_live=2)
    total = t.total_count(s.admin)
    s.check(total == 5, f"{total} rows in all, expected 5 (4 of sd1, 3 of them soft-deleted, and sd2)")

    # many clients: soft delete the live row and re-insert the key, each in one transaction
    tally = Tally()

    def worker(i, barrier, deadline):
        conn = connect(port)
        barrier.wait()
        try:
            for _ in range(20):
                if time.monotonic() > deadline:
                    tally.problem(f"client {i}: time budget used up")
                    return
                steps = [("BEGIN", None), delete, insert_sql(t, *k), ("COMMIT", None)]
                for sql, args in steps:
                    res, e = try_execute(conn, sql, args)
                    if e is None:
                        tally.stmt()
                        continue
                    record_error(tally, e, f"{sql[:30]}", *k)
                    if err_code(e) in LOST:
                        return
                    if err_code(e) != 1062:
                        try_execute(conn, "ROLLBACK")
                        break
        finally:
            close_quietly(conn)

    s.run_clients(8, worker, 40, "concurrent delete+reinsert")
    s.check_tally(tally, ALLOWED_CONTENTION, "concurrent delete+reinsert")
    s.check_table(t, expect_keys=[k, k2], expect_live=2, label="after concurrent delete+reinsert")

    # the everyday spellings of a soft delete: never a duplicate, must not be refused
    c = connect(port)
    try:
        spelled = (f"UPDATE {t.name} SET deleted_at = NOW() WHERE name = 'sd2' AND deleted_at IS NULL"
                   if soft == "deleted_at" else
                   f"UPDATE {t.name} SET delete_status = 1, price = price + 1 WHERE name = 'sd2' AND delete_status = 0")
        what = "SET deleted_at = NOW()" if soft == "deleted_at" else "SET delete_status = 1, price = price + 1"
        expect_ok(s, f"soft delete with {what}", try_execute(c, spelled))
        expect_ok(s, "INSERT sd2 after it", try_execute(c, *insert_sql(t, *k2)))
    finally:
        close_quietly(c)
    s.check_table(t, expect_keys=[k, k2], expect_live=2, label="after the everyday soft delete")


def scenario_soft_delete_reinsert(s):
    """delete_status = 1, then INSERT of the same key; also inside one transaction."""
    soft_delete_reinsert(s, "status")


def scenario_soft_delete_reinsert_deleted_at(s):
    """The same with `deleted_at` (live: null)."""
    soft_delete_reinsert(s, "deleted_at")


def scenario_undelete_or_rekey_is_duplicate(s: Scenario):
    """Un-deleting a row, or changing a key to one already live, is a duplicate (UPDATE)."""
    t = s.table("t")
    port = s.start(rule_yaml(t))[0]
    c = connect(port)
    try:
        expect_ok(s, "INSERT ud1", try_execute(c, *insert_sql(t, "ud1", "m")))
        old_id = scalar(s.admin, f"SELECT id FROM {t.qualified} WHERE name = 'ud1'")
        expect_ok(s, "soft delete ud1", try_execute(c, f"UPDATE {t.name} SET delete_status = 1 WHERE id = {old_id}"))
        expect_ok(s, "INSERT ud1 again", try_execute(c, *insert_sql(t, "ud1", "m")))
        expect_dup(s, "un-delete the old ud1 while a new one is live",
                   try_execute(c, f"UPDATE {t.name} SET delete_status = 0 WHERE id = {old_id}"), "ud1", "m",
                   exact=False)
        expect_ok(s, "INSERT ud2", try_execute(c, *insert_sql(t, "ud2", "m")))
        expect_dup(s, "change ud2's name to the live ud1",
                   try_execute(c, f"UPDATE {t.name} SET name = 'UD1' WHERE name = 'ud2'"), "UD1", "m", exact=False)
        expect_ok(s, "UPDATE of a non-key column", try_execute(c, f"UPDATE {t.name} SET price = 7 WHERE name = 'ud2'"))
        expect_ok(s, "soft delete the live ud1", try_execute(c, f"UPDATE {t.name} SET delete_status = 1 "
                                                                "WHERE name = 'ud1' AND delete_status = 0"))
        expect_ok(s, "un-delete the old ud1 (no live one now)",
                  try_execute(c, f"UPDATE {t.name} SET delete_status = 0 WHERE id = {old_id}"))
    finally:
        close_quietly(c)
    s.check_table(t, expect_keys=[("ud1", "m"), ("ud2", "m")], expect_live=2)


def scenario_set_to_default(s: Scenario):
    """`SET model = DEFAULT` and `SET delete_status = DEFAULT` in an UPDATE: the key the column's
    default makes is checked like any other (they were refused with 1235)."""
    t = s.table("t")
    with s.admin.cursor() as c:
        c.execute(f"ALTER TABLE {t.qualified} ALTER COLUMN model SET DEFAULT 'd'")
    port = s.start(rule_yaml(t))[0]
    c = connect(port)
    try:
        expect_ok(s, "INSERT (k, d)", try_execute(c, *insert_sql(t, "k", "d")))
        expect_ok(s, "INSERT (k, m)", try_execute(c, *insert_sql(t, "k", "m")))
        expect_dup(s, "(k, m) to the default model, live",
                   try_execute(c, f"UPDATE {t.name} SET model = DEFAULT WHERE name = 'k' AND model = 'm'"), "k", "d")
        old_id = scalar(s.admin, f"SELECT id FROM {t.qualified} WHERE name = 'k' AND model = 'd'")
        expect_ok(s, "soft delete (k, d)", try_execute(c, f"UPDATE {t.name} SET delete_status = 1 WHERE id = {old_id}"))
        expect_ok(s, "(k, m) to the default model, free now",
                  try_execute(c, f"UPDATE {t.name} SET model = DEFAULT WHERE name = 'k' AND model = 'm'"))
        expect_dup(s, "un-delete the old (k, d) by its default status",
                   try_execute(c, f"UPDATE {t.name} SET delete_status = DEFAULT WHERE id = {old_id}"), "k", "d")
    finally:
        close_quietly(c)
    s.check_table(t, expect_keys=[("k", "d")], expect_live=1)


def scenario_temporary_table(s: Scenario):
    """A session's TEMPORARY table with a rule table's name hides the rule table from that
    session: its writes go to the temporary table, which no rule covers. They must neither be
    refused against the rule table's live keys nor claim keys (dedup: in the dedup table) that
    other sessions then could not use. Text and prepared (PyMySQL has no server-side prepare:
    SQL PREPARE/EXECUTE is text; the prepared-statement path is covered by
    it.prepared.temporary_table). After DROP TEMPORARY TABLE the rule applies again."""
    t = s.table("t")
    port = s.start(rule_yaml(t))[0]
    a, b = connect(port), connect(port)
    try:
        expect_ok(s, "live (k, m) in the rule table", try_execute(a, *insert_sql(t, "k", "m")))
        expect_ok(s, "a: CREATE TEMPORARY TABLE with the rule table's name",
                  try_execute(a, f"CREATE TEMPORARY TABLE {t.name} (id INT AUTO_INCREMENT PRIMARY KEY, "
                                 "name VARCHAR(100), model VARCHAR(100), price INT, note VARCHAR(50), "
                                 "delete_status TINYINT NOT NULL DEFAULT 0)"), affected=0)
        expect_ok(s, "a: (k, m) into the temporary table", try_execute(a, *insert_sql(t, "k", "m")))
        expect_ok(s, "a: (t, m) into the temporary table", try_execute(a, *insert_sql(t, "t", "m")))
        expect_ok(s, "a: (t, m) again: the temporary table has no rule", try_execute(a, *insert_sql(t, "t", "m")))
        expect_ok(s, "a: a rename in the temporary table",
                  try_execute(a, f"UPDATE {t.name} SET name = 'u' WHERE name = 't' LIMIT 1"))
        expect_ok(s, "b: (t, m) into the rule table: not live there",
                  try_execute(b, *insert_sql(t, "t", "m")))
        expect_ok(s, "b: (u, m) into the rule table: not live there",
                  try_execute(b, *insert_sql(t, "u", "m")))
        expect_dup(s, "b: (k, m) is live in the rule table", try_execute(b, *insert_sql(t, "k", "m")), "k", "m")
        expect_ok(s, "a: DROP TEMPORARY TABLE", try_execute(a, f"DROP TEMPORARY TABLE {t.name}"), affected=0)
        expect_dup(s, "a: (t, m) into the rule table again", try_execute(a, *insert_sql(t, "t", "m")), "t", "m")
        expect_ok(s, "a: (v, m) into the rule table", try_execute(a, *insert_sql(t, "v", "m")))
    finally:
        close_quietly(a)
        close_quietly(b)
    s.check_table(t, expect_keys=[("k", "m"), ("t", "m"), ("u", "m"), ("v", "m")], expect_live=4)


# ------------------------------------------------------------------ 5. collation variants

def variants_of(name, rnd):
    """A spelling of name that utf8mb4_general_ci calls equal: case, trailing spaces, e/é."""
    out = "".join(ch.upper() if rnd.random() < 0.5 else ch for ch in name)
    out = "".join(("é" if rnd.random() < 0.5 else "É") if ch in "eE" and rnd.random() < 0.5 else ch for ch in out)
    return out + " " * rnd.randrange(3)


def scenario_collation_variants(s: Scenario):
    """'ABC', 'abc', 'abc  ' (and 'é'/'e') collide under utf8mb4_general_ci; a _bin column keeps case."""
    t = s.table("t")
    tb = s.table("bin", model_collation="utf8mb4_bin", rule="product_bin")
    rules = rule_yaml(t) + rule_yaml(tb)
    port = s.start(rules)[0]
    c = connect(port)
    try:
        expect_ok(s, "INSERT 'ABC'", try_execute(c, *insert_sql(t, "ABC", "m1")))
        for v in ("abc", "abc  ", "Abc ", "ABC"):
            expect_dup(s, f"INSERT {v!r} after 'ABC'", try_execute(c, *insert_sql(t, v, "m1")), v, "m1")
        expect_dup(s, "INSERT ('abc', 'M1') (model is _ci too)", try_execute(c, *insert_sql(t, "abc", "M1")),
                   "abc", "M1")
        expect_ok(s, "INSERT 'Cafe'", try_execute(c, *insert_sql(t, "Cafe", "m1")))
        expect_dup(s, "INSERT 'café' after 'Cafe'", try_execute(c, *insert_sql(t, "café", "m1")), "café", "m1")
        expect_ok(s, "INSERT ' abc' (leading space is a different key)", try_execute(c, *insert_sql(t, " abc", "m1")))
        expect_ok(s, "INSERT 'abcd'", try_execute(c, *insert_sql(t, "abcd", "m1")))

        # model COLLATE utf8mb4_bin: case differs = different key; trailing space still PAD SPACE
        expect_ok(s, "bin: INSERT ('x', 'M1')", try_execute(c, *insert_sql(tb, "x", "M1")))
        expect_ok(s, "bin: INSERT ('x', 'm1') (a different key under _bin)", try_execute(c, *insert_sql(tb, "x", "m1")))
        res = try_execute(c, *insert_sql(tb, "X ", "m1 "))
        if res[1] is None:
            s.check(False, "bin: INSERT ('X ', 'm1 ') succeeded, expected 1062")
        else:
            p = dup_error_problem(res[1], "X ", "m1 ", rule="product_bin", exact=True)
            s.check(p is None, f"bin: INSERT ('X ', 'm1 '): {p}")
    finally:
        close_quietly(c)
    s.check_table(t, expect_live=4, label="sequential")
    s.check_table(tb, expect_live=2, label="sequential _bin")

    # concurrently: every client inserts its own random spelling of each of 60 names
    names = [f"Case{i:02d}e" for i in range(60)]
    tally = Tally()

    def worker(i, barrier, deadline):
        rnd = random.Random(s.seed * 1000 + i)
        conn = connect(port)
        order = names[:]
        rnd.shuffle(order)
        barrier.wait()
        try:
            for n in order:
                if time.monotonic() > deadline:
                    tally.problem(f"client {i}: time budget used up")
                    return
                v = variants_of(n, rnd)
                res, e = try_execute(conn, *insert_sql(t, v, "cc"))
                if e is None:
                    tally.stmt()
                else:
                    record_error(tally, e, f"INSERT {v!r}", v, "cc", exact=False)
                    if err_code(e) in LOST:
                        return
        finally:
            close_quietly(conn)

    s.run_clients(16, worker, 40, "variants")
    s.check_tally(tally, {1062}, "variants")
    s.check_table(t, expect_keys=[(n, "cc") for n in names], expect_live=4 + len(names), label="variants")
    s.check(tally.ok == len(names), f"{tally.ok} variant inserts answered OK for {len(names)} names")


# ------------------------------------------------------------------ 6. multi-row batches

def scenario_multirow_batches(s: Scenario):
    """16 clients x 12 batches of 20 rows from 300 keys; batches that duplicate themselves."""
    t = s.table("t")
    port = s.start(rule_yaml(t))[0]
    keys = keyspace("mb", 300, models=5)
    tally, lock = Tally(), threading.Lock()
    ok_batches = []

    def worker(i, barrier, deadline):
        rnd = random.Random(s.seed * 1000 + i)
        conn = connect(port)
        barrier.wait()
        try:
            for _ in range(12):
                if time.monotonic() > deadline:
                    tally.problem(f"client {i}: time budget used up")
                    return
                rows = rnd.sample(keys, 20)
                res, e = try_execute(conn, *batch_sql(t, [(n, m, i) for n, m in rows]))
                if e is None:
                    tally.stmt()
                    with lock:
                        ok_batches.append(rows)
                    if res[0] != 20:
                        tally.problem(f"batch: affected rows {res[0]}, expected 20")
                    continue
                tally.stmt(False, err_code(e))
                if err_code(e) == 1062:
                    problems = [dup_error_problem(e, n, m, exact=False) for n, m in rows]
                    if all(problems):
                        tally.problem(f"batch 1062 names no key of the batch: {problems[0]}")
                if err_code(e) in LOST:
                    return
        finally:
            close_quietly(conn)

    s.run_clients(16, worker, 45, "batches")
    s.check_tally(tally, ALLOWED_CONTENTION, "batches")
    inserted = [k for rows in ok_batches for k in rows]
    s.note(f"batches: {len(ok_batches)} of {tally.statements} inserted")
    s.check(len(inserted) == len(set(inserted)), "two successful batches share a key")
    s.check_table(t, expect_keys=inserted, expect_live=len(inserted), label="batches")

    c = connect(port)
    try:
        before = t.total_count(s.admin)
        expect_dup(s, "a batch that duplicates itself",
                   try_execute(c, *batch_sql(t, [("self1", "m", 1), ("self2", "m", 1), ("SELF1 ", "m", 1)])),
                   "SELF1 ", "m", exact=False)
        expect_dup(s, "a batch that duplicates itself (exact spelling)",
                   try_execute(c, *batch_sql(t, [("self3", "m", 1), ("self3", "m", 2)])), "self3", "m")
        expect_ok(s, "INSERT self4", try_execute(c, *insert_sql(t, "self4", "m")))
        expect_dup(s, "a batch with one existing key", try_execute(c, *batch_sql(t, [("self5", "m", 1), ("self4", "m", 1)])),
                   "self4", "m")
        after = t.total_count(s.admin)
        s.check(after == before + 1, f"the failed batches inserted {after - before - 1} row(s), expected none")
        try_execute(c, "BEGIN")
        expect_dup(s, "a self-duplicating batch in a transaction",
                   try_execute(c, *batch_sql(t, [("self6", "m", 1), ("self6", "m", 1)])), "self6", "m")
        expect_ok(s, "INSERT self7 in the same transaction", try_execute(c, *insert_sql(t, "self7", "m")))
        try_execute(c, "COMMIT")
        s.check(not t.live_rows(s.admin, "self6", "m"), "self6 inserted by a failed batch")
    finally:
        close_quietly(c)
    s.check_table(t, expect_keys=inserted + [("self4", "m"), ("self7", "m")], expect_live=len(inserted) + 2)


# ------------------------------------------------------------------ 7. REPEATABLE READ gaps

def scenario_rr_gap_no_deadlock(s: Scenario):
    """T1 and T2 insert different new keys into the same index gap, interleaved: both succeed."""
    t = s.table("t")
    with s.admin.cursor() as cur:
        cur.executemany(f"INSERT INTO {t.qualified} (name, model, price) VALUES (%s, %s, 0)",
                        [("gap", "m10"), ("gap", "m50"), ("gap2", "m10")])
    port = s.start(rule_yaml(t))[0]
    rounds = [
        ("inner gap", ("gap", "m20"), ("gap", "m30"), False),
        ("inner gap, snapshots first", ("gap", "m21"), ("gap", "m31"), True),
        ("gap before the first row", ("a", "x1"), ("a", "x2"), True),
        ("gap after the last row", ("zzz", "m1"), ("zzz", "m2"), False),
        ("same name, other gap", ("gap2", "m11"), ("gap2", "m12"), True),
    ]
    for label, k1, k2, snapshot in rounds:
        c1, c2 = connect(port, isolation="REPEATABLE READ"), connect(port, isolation="REPEATABLE READ")
        try:
            try_execute(c1, "BEGIN")
            try_execute(c2, "BEGIN")
            if snapshot:
                try_execute(c1, f"SELECT COUNT(*) FROM {t.name} WHERE name = %s", (k1[0],))
                try_execute(c2, f"SELECT COUNT(*) FROM {t.name} WHERE name = %s", (k2[0],))
            steps = [(c1, insert_sql(t, *k1), "T1 INSERT"), (c2, insert_sql(t, *k2), "T2 INSERT"),
                     (c1, ("COMMIT", None), "T1 COMMIT"), (c2, ("COMMIT", None), "T2 COMMIT")]
            pending = {}  # connection -> (what, step) still running
            for conn, (sql, args), what in steps + [(c1, (None, None), None), (c2, (None, None), None)]:
                if id(conn) in pending:  # a blocked statement must end before the next on its connection
                    pwhat, pstep = pending.pop(id(conn))
                    if s.check(pstep.wait(LOCK_TIMEOUT_MS / 1000 + 5), f"{label}: {pwhat} never returned"):
                        expect_ok(s, f"{label}: {pwhat} (after waiting)", (pstep.result, pstep.error), affected=None)
                    else:
                        break
                if what is None:
                    continue
                step = Step(conn, sql, args)
                if not step.wait(3):
                    s.check(False, f"{label}: {what} waits for the other transaction (a unique index would "
                                   "not; an application that commits T1 after this would hang)")
                    pending[id(conn)] = (what, step)
                    continue
                expect_ok(s, f"{label}: {what}", (step.result, step.error), affected=None)
        finally:
            close_quietly(c1)
            close_quietly(c2)
    expected = [r[1] for r in rounds] + [r[2] for r in rounds]
    s.check_table(t, expect_keys=expected, expect_live=3 + len(expected), label="gap rounds")

    # many RR transactions, each inserting 3 distinct new keys into shared gaps: no errors at all
    tally = Tally()
    n_clients, n_txn = 16, 15

    def worker(i, barrier, deadline):
        rnd = random.Random(s.seed * 1000 + i)
        conn = connect(port, isolation="REPEATABLE READ")
        mine = [(f"g{rnd.randrange(4)}", f"c{i:02d}t{j:02d}k{x}") for j in range(n_txn) for x in range(3)]
        barrier.wait()
        try:
            for j in range(n_txn):
                if time.monotonic() > deadline:
                    tally.problem(f"client {i}: time budget used up")
                    return
                batch = mine[3 * j:3 * j + 3]
                rnd.shuffle(batch)
                stmts = [("BEGIN", None), (f"SELECT COUNT(*) FROM {t.name} WHERE name = 'g1'", None)]
                stmts += [insert_sql(t, *k) for k in batch] + [("COMMIT", None)]
                for sql, args in stmts:
                    res, e = try_execute(conn, sql, args)
                    if e is None:
                        tally.stmt()
                        continue
                    record_error(tally, e, sql[:30])
                    try_execute(conn, "ROLLBACK")
                    break
        finally:
            close_quietly(conn)

    s.run_clients(n_clients, worker, 40, "distinct keys")
    s.check_tally(tally, set(), "distinct keys")
    s.check_table(t, expect_live=3 + len(expected) + n_clients * n_txn * 3, label="distinct keys")


# ------------------------------------------------------------------ 8. killed clients

def scenario_killed_client_releases_locks(s: Scenario):
    """A client that vanishes mid-transaction (socket closed, or KILL) releases its key locks."""
    t = s.table("t")
    port = s.start(rule_yaml(t))[0]
    limit = LOCK_TIMEOUT_MS / 1000 + 1

    def after_vanish(label, key, vanish, also_waiter=False):
        """also_waiter: a second client already sent the same INSERT and waits; like a statement
        in flight on MySQL it may still complete after its client left, so 1062 is fine then."""
        holder, other = connect(port), connect(port)
        try:
            try_execute(holder, "BEGIN")
            expect_ok(s, f"{label}: holder INSERT {key}", try_execute(holder, *insert_sql(t, *key)))
            waiter_conn = connect(port) if also_waiter else None
            waiter = Step(waiter_conn, *insert_sql(t, *key)) if also_waiter else None
            if waiter:
                waiter.wait(0.7)
            vanish(holder, waiter_conn)
            t0 = time.monotonic()
            step = Step(other, *insert_sql(t, *key))
            if s.check(step.wait(limit + 5), f"{label}: INSERT of {key} after the client vanished never returned"):
                if also_waiter and step.error is not None and err_code(step.error) == 1062:
                    expect_dup(s, f"{label}: INSERT of {key}", (step.result, step.error), *key)
                else:
                    expect_ok(s, f"{label}: INSERT of {key} after the client vanished", (step.result, step.error))
                s.check(time.monotonic() - t0 <= limit,
                        f"{label}: the INSERT took {time.monotonic() - t0:.1f} s (> lock timeout)")
                s.note(f"{label}: the next INSERT of {key} answered after {time.monotonic() - t0:.2f} s")
            if waiter_conn:
                close_quietly(waiter_conn)
        finally:
            close_quietly(other)
            close_quietly(holder)

    def close_socket(holder, _):
        abort_socket(holder)

    def kill_connection(holder, _):
        cid = scalar(holder, "SELECT CONNECTION_ID()")
        with s.admin.cursor() as c:
            c.execute(f"KILL CONNECTION {int(cid)}")

    def close_waiter_then_holder(holder, waiter_conn):
        abort_socket(waiter_conn)  # the client waiting for the lock disappears first
        time.sleep(0.2)
        abort_socket(holder)

    after_vanish("socket closed", ("kc1", "m"), close_socket)
    after_vanish("KILL CONNECTION", ("kc2", "m"), kill_connection)
    after_vanish("waiter and holder vanish", ("kc3", "m"), close_waiter_then_holder, also_waiter=True)

    # autocommit=0 client that vanishes
    holder, other = connect(port), connect(port)
    try:
        try_execute(holder, "SET autocommit = 0")
        expect_ok(s, "autocommit=0 holder INSERT kc4", try_execute(holder, *insert_sql(t, "kc4", "m")))
        abort_socket(holder)
        t0 = time.monotonic()
        expect_ok(s, "INSERT kc4 after the autocommit=0 client vanished", try_execute(other, *insert_sql(t, "kc4", "m")))
        s.check(time.monotonic() - t0 <= limit, "INSERT kc4 took longer than the lock timeout")
    finally:
        close_quietly(other)
    s.check_table(t, expect_keys=[("kc1", "m"), ("kc2", "m"), ("kc3", "m"), ("kc4", "m")], expect_live=4)
    c = connect(port)
    expect_ok(s, "the proxy still serves new clients", try_execute(c, "SELECT 1"), affected=None)
    close_quietly(c)


# ------------------------------------------------------------------ 9. on_duplicate, LAST_INSERT_ID

def scenario_on_duplicate_ignore(s: Scenario):
    """on_duplicate: ignore - duplicate rows skipped, affected rows = inserted rows only."""
    t = s.table("t", rule="product_ignore")
    port = s.start(rule_yaml(t, on_duplicate="ignore"))[0]
    c = connect(port)
    B = lambda rows: batch_sql(t, rows, "ignore")  # noqa: E731
    try:
        expect_ok(s, "ignore: 2 new rows", try_execute(c, *B([("ia", "m", 1), ("ib", "m", 1)])), affected=2)
        expect_ok(s, "ignore: 1 existing + 1 new", try_execute(c, *B([("ia", "m", 2), ("ic", "m", 2)])), affected=1)
        expect_ok(s, "ignore: case variant + self-duplicate", try_execute(c, *B([("IA ", "m", 3), ("id", "m", 3),
                                                                                ("ID", "m", 3)])), affected=1)
        expect_ok(s, "ignore: only duplicates", try_execute(c, *B([("ib", "m", 4)])), affected=0)
        s.check([r[3] for r in t.live_rows(s.admin, "ia", "m")] == [1], "ignore: the existing row 'ia' was changed")
        res, e = try_execute(c, *B([("ia", "m", 5), ("ie", "m", 5), ("if", "m", 5)]))
        if expect_ok(s, "ignore: LAST_INSERT_ID batch", (res, e), affected=2):
            lid = scalar(c, "SELECT LAST_INSERT_ID()")
            first = t.live_rows(s.admin, "ie", "m")
            s.check(res[1] == lid, f"ignore: OK packet insert id {res[1]} != LAST_INSERT_ID() {lid}")
            s.check(first and first[0][0] == lid, f"ignore: LAST_INSERT_ID() {lid} is not the id of 'ie' {first}")
    finally:
        close_quietly(c)
    sequential = [("ia", "m"), ("ib", "m"), ("ic", "m"), ("id", "m"), ("ie", "m"), ("if", "m")]
    s.check_table(t, expect_keys=sequential, expect_live=6, label="sequential")

    keys = keyspace("ig", 100)
    tally, lock, affected = Tally(), threading.Lock(), [0]

    def worker(i, barrier, deadline):
        rnd = random.Random(s.seed * 1000 + i)
        conn = connect(port)
        order = keys[:]
        rnd.shuffle(order)
        barrier.wait()
        try:
            while order:
                if time.monotonic() > deadline:
                    tally.problem(f"client {i}: time budget used up")
                    return
                take = rnd.randint(1, 4)
                rows, order = order[:take], order[take:]
                res, e = try_execute(conn, *B([(n, m, i) for n, m in rows]))
                if e is None:
                    tally.stmt()
                    with lock:
                        affected[0] += res[0]
                else:
                    record_error(tally, e, "INSERT (ignore)")
                    if err_code(e) in LOST:
                        return
        finally:
            close_quietly(conn)

    s.run_clients(16, worker, 40, "concurrent ignore")
    s.check_tally(tally, {1205, 1213}, "concurrent ignore")
    live_new = t.live_count(s.admin) - 6
    s.check(affected[0] == live_new, f"concurrent ignore: affected rows add up to {affected[0]}, "
                                     f"but {live_new} rows were inserted")
    # every key was offered by 16 clients: it is there unless all 16 statements failed
    s.check_table(t, expect_keys=keys if not tally.errors else None, expect_live=6 + len(keys),
                  label="concurrent ignore")


def scenario_on_duplicate_update(s: Scenario):
    """on_duplicate: update - ODKU over live rows: affected 1 per insert, 2 per update."""
    t = s.table("t", rule="product_upsert")
    port = s.start(rule_yaml(t, on_duplicate="update"))[0]
    c = connect(port)
    B = lambda rows: batch_sql(t, rows, "update")  # noqa: E731
    try:
        expect_ok(s, "update: new row", try_execute(c, *B([("ua", "m", 1, "n1")])), affected=1)
        expect_ok(s, "update: same key", try_execute(c, *B([("ua", "m", 2, "n2")])), affected=2)
        expect_ok(s, "update: existing + new", try_execute(c, *B([("ua", "m", 3, "n3"), ("ub", "m", 1, "b1")])),
                  affected=3)
        expect_ok(s, "update: case/space variant of an existing key", try_execute(c, *B([("UA  ", "m", 4, "n4")])),
                  affected=2)
        rows = t.live_rows(s.admin, "ua", "m")
        s.check(len(rows) == 1 and rows[0][1:] == ("ua", "m", 4, "n4"),
                f"update: 'ua' should be one live row ('ua', 'm', 4, 'n4') (key columns unchanged), got {rows}")
        # a soft-deleted row is not a duplicate: a new live row is inserted, the dead one untouched
        s.write_behind_proxy(f"UPDATE {t.qualified} SET delete_status = 1 WHERE name = 'ub'")
        expect_ok(s, "update: key whose row is soft-deleted", try_execute(c, *B([("ub", "m", 9, "b9")])), affected=1)
        dead = scalar(s.admin, f"SELECT price FROM {t.qualified} WHERE name = 'ub' AND delete_status = 1")
        s.check(dead == 1, f"update: the soft-deleted 'ub' row was changed (price {dead})")
        # inserting a dead row never conflicts
        expect_ok(s, "update: INSERT a row that is born deleted",
                  try_execute(c, f"INSERT INTO {t.name} (name, model, price, delete_status) VALUES ('ua', 'm', 7, 1)"
                              + (" ON DUPLICATE KEY UPDATE price = VALUES(price)" if TARGET == "reference" else "")),
                  affected=1)
        s.check([r[3] for r in t.live_rows(s.admin, "ua", "m")] == [4], "update: a dead insert changed the live 'ua'")
        expect_ok(s, "update: batch with a key twice", try_execute(c, *B([("uc", "m", 1, "c1"), ("uc", "m", 2, "c2")])),
                  affected=3)
        s.check([r[3:] for r in t.live_rows(s.admin, "uc", "m")] == [(2, "c2")], "update: 'uc' should end (2, 'c2')")
        res, e = try_execute(c, *B([("ud", "m", 1, "d")]))
        if expect_ok(s, "update: LAST_INSERT_ID insert", (res, e), affected=1):
            lid = scalar(c, "SELECT LAST_INSERT_ID()")
            s.check(res[1] == lid, f"update: OK packet insert id {res[1]} != LAST_INSERT_ID() {lid}")
            s.check(t.live_rows(s.admin, "ud", "m")[0][0] == lid, "update: LAST_INSERT_ID() is not the new row's id")
    finally:
        close_quietly(c)
    s.check_table(t, expect_keys=[("ua", "m"), ("ub", "m"), ("uc", "m"), ("ud", "m")], expect_live=4, label="sequential")

    keys = keyspace("up", 50)
    tally, lock = Tally(), threading.Lock()
    affected, counter = [0], iter(range(1000, 10 ** 6))

    def worker(i, barrier, deadline):
        rnd = random.Random(s.seed * 1000 + i)
        conn = connect(port)
        order = keys[:]
        rnd.shuffle(order)
        barrier.wait()
        try:
            for n, m in order:
                if time.monotonic() > deadline:
                    tally.problem(f"client {i}: time budget used up")
                    return
                with lock:
                    price = next(counter)  # always a new value, so every update counts 2
                res, e = try_execute(conn, *B([(n, m, price, f"c{i}")]))
                if e is None:
                    tally.stmt()
                    with lock:
                        affected[0] += res[0]
                else:
                    record_error(tally, e, "upsert")
                    if err_code(e) in LOST:
                        return
        finally:
            close_quietly(conn)

    clients = 16
    s.run_clients(clients, worker, 40, "concurrent upsert")
    s.check_tally(tally, {1205, 1213}, "concurrent upsert")
    expect_aff = len(keys) + 2 * (tally.ok - len(keys))
    s.check(affected[0] == expect_aff, f"concurrent upsert: affected rows add up to {affected[0]}, expected "
                                       f"{expect_aff} (1 per insert, 2 per update)")
    s.check_table(t, expect_keys=keys, expect_live=4 + len(keys), label="concurrent upsert")


def scenario_client_insert_ignore(s: Scenario):
    """The client's own INSERT IGNORE (rule on_duplicate: error) skips rows whose key is live."""
    t = s.table("t")
    port = s.start(rule_yaml(t))[0]
    c = connect(port)
    try:
        expect_ok(s, "insert ci_a", try_execute(c, *insert_sql(t, "ci_a", "m", 1)))
        expect_ok(s, "INSERT IGNORE of a live key", try_execute(
            c, f"INSERT IGNORE INTO {t.name} (name, model, price) VALUES ('ci_a', 'm', 2)"), affected=0)
        expect_ok(s, "INSERT IGNORE: one new row, one live key in another spelling", try_execute(
            c, f"INSERT IGNORE INTO {t.name} (name, model, price) VALUES ('ci_b', 'm', 1), ('CI_A ', 'm', 3)"),
            affected=1)
        expect_dup(s, "plain INSERT of the live key still fails", try_execute(c, *insert_sql(t, "ci_b", "m")),
                   "ci_b", "m")
    finally:
        close_quietly(c)
    s.check_table(t, expect_keys=[("ci_a", "m"), ("ci_b", "m")], expect_live=2)
    rows = t.live_rows(s.admin, "ci_a", "m")
    s.check([r[3] for r in rows] == [1], f"ci_a was changed by an ignored row: {rows}")


def scenario_last_insert_id(s: Scenario):
    """OK packet insert id == LAST_INSERT_ID() == the new row's id, through the proxy."""
    t = s.table("t")
    port = s.start(rule_yaml(t))[0]
    c = connect(port)

    def check_id(label, res_err, first_key):
        res, e = res_err
        if not expect_ok(s, label, res_err, affected=None):
            return None
        lid = scalar(c, "SELECT LAST_INSERT_ID()")
        rows = t.live_rows(s.admin, *first_key)
        s.check(res[1] == lid, f"{label}: OK packet insert id {res[1]} != LAST_INSERT_ID() {lid}")
        s.check(rows and rows[0][0] == lid, f"{label}: LAST_INSERT_ID() {lid} != id of {first_key} {rows}")
        return lid

    try:
        check_id("single INSERT", try_execute(c, *insert_sql(t, "li1", "m")), ("li1", "m"))
        lid = check_id("3-row INSERT", try_execute(c, *batch_sql(t, [("li2", "m", 1), ("li3", "m", 1), ("li4", "m", 1)])),
                       ("li2", "m"))
        expect_dup(s, "duplicate INSERT", try_execute(c, *insert_sql(t, "li3", "m")), "li3", "m")
        after = scalar(c, "SELECT LAST_INSERT_ID()")
        s.check(after == lid, f"LAST_INSERT_ID() changed from {lid} to {after} by a refused INSERT")
        try_execute(c, "BEGIN")
        res, e = try_execute(c, *insert_sql(t, "li5", "m"))
        in_txn = scalar(c, "SELECT LAST_INSERT_ID()")
        try_execute(c, "COMMIT")
        if expect_ok(s, "INSERT in a transaction", (res, e)):
            rows = t.live_rows(s.admin, "li5", "m")
            s.check(res[1] == in_txn, f"in a transaction: OK packet insert id {res[1]} != LAST_INSERT_ID() {in_txn}")
            s.check(rows and rows[0][0] == in_txn, f"in a transaction: LAST_INSERT_ID() {in_txn} != id {rows}")
        expect_ok(s, "INSERT with an explicit id", try_execute(c, f"INSERT INTO {t.name} (id, name, model) "
                                                                  "VALUES (1000, 'li6', 'm')"))
        check_id("INSERT after an explicit id", try_execute(c, *insert_sql(t, "li7", "m")), ("li7", "m"))
        s.check(t.live_rows(s.admin, "li7", "m")[0][0] == 1001, "AUTO_INCREMENT did not continue after 1000")
    finally:
        close_quietly(c)
    s.check_table(t, expect_live=7)


# ------------------------------------------------------------------ 10. observe

def scenario_observe_mode(s: Scenario):
    """mode: observe - nothing is blocked, would-be duplicates are logged with the rule and key."""
    s.skip_unless_uniqgate("observe mode is a uniqgate feature")
    t = s.table("t")
    port = s.start(rule_yaml(t, mode="observe"))[0]
    keys = keyspace("obs", 20)
    tally = Tally()

    def worker(i, barrier, deadline):
        conn = connect(port)
        barrier.wait()
        try:
            for n, m in keys:
                res, e = try_execute(conn, *insert_sql(t, n, m, i))
                if e is None:
                    tally.stmt()
                else:
                    record_error(tally, e, "observe INSERT")
        finally:
            close_quietly(conn)

    s.run_clients(8, worker, 30, "observe")
    s.check_tally(tally, set(), "observe")
    live = t.live_count(s.admin)
    s.check(live == 8 * len(keys), f"observe: {live} rows, expected all {8 * len(keys)} inserts to pass")
    log = ""
    for _ in range(30):  # the log may be flushed a little later
        log = s.proxies[0].log_text()
        if RULE in log and "obs0" in log:
            break
        time.sleep(0.1)
    hits = [line for line in log.splitlines() if RULE in line and "obs0" in line]
    s.check(hits, f"observe: the proxy log has no line naming the rule {RULE!r} and a key 'obs0..'")
    if hits:
        s.note(f"observe log line: {hits[0][:200]}")


# ------------------------------------------------------------------ 11. three proxies, mysql locks

def scenario_three_proxies_mysql_locks(s: Scenario):
    """Three uniqgate instances (lock.backend: mysql) in front of one database, clients spread."""
    t = s.table("t")
    ports = s.start(rule_yaml(t), lock_backend="mysql", count=3)
    autocommit_load(s, t, ports, clients=24, keys=keyspace("tp", 150), budget=45, label="3 proxies", rounds=3)


# ------------------------------------------------------------------ 12. unsupported statements

def scenario_insert_select_rejected(s: Scenario):
    """INSERT ... SELECT into a rule table: a clear error naming the rule (or passthrough)."""
    s.skip_unless_uniqgate("the error is uniqgate's")
    t = s.table("t")
    tp = s.table("pass", rule="product_passthrough")
    src = s.table("src", rule="unused")
    with s.admin.cursor() as cur:
        cur.executemany(f"INSERT INTO {src.qualified} (name, model, price) VALUES (%s, %s, 1)",
                        [("is1", "m"), ("is2", "m")])
    port = s.start(rule_yaml(t) + rule_yaml(tp, unsupported="passthrough"))[0]
    c = connect(port)
    try:
        for label, sql in [
            ("INSERT ... SELECT", f"INSERT INTO {t.name} (name, model, price) SELECT name, model, price FROM {src.name}"),
            ("INSERT ... SELECT constants", f"INSERT INTO {t.name} (name, model, price) SELECT 'is3', 'm', 1"),
            ("key from a subquery", f"INSERT INTO {t.name} (name, model, price) VALUES ((SELECT 'is4'), 'm', 1)"),
        ]:
            res, e = try_execute(c, sql)
            if e is None:
                s.check(False, f"{label}: passed through (affected {res[0]}), expected an error naming {RULE!r}")
            else:
                s.note(f"{label}: {err_code(e)} ({getattr(e, 'sqlstate', None)}) {err_text(e)}")
                s.check(RULE in err_text(e), f"{label}: error {err_code(e)} {err_text(e)!r} does not name the rule")
                s.check(err_code(e) != 1062, f"{label}: answered as a duplicate (1062)")
        s.check(t.total_count(s.admin) == 0, f"rejected statements inserted {t.total_count(s.admin)} row(s)")
        expect_ok(s, "INSERT ... SELECT with unsupported: passthrough",
                  try_execute(c, f"INSERT INTO {tp.name} (name, model, price) SELECT name, model, price FROM {src.name}"),
                  affected=2)
        expect_ok(s, "normal INSERTs still work", try_execute(c, *insert_sql(t, "is1", "m")))
        expect_dup(s, "and are still protected", try_execute(c, *insert_sql(t, "IS1", "m")), "IS1", "m")
    finally:
        close_quietly(c)
    s.check_table(t, expect_keys=[("is1", "m")], expect_live=1)


def same_keys_at_once(s: Scenario, port, keys, sql, label, clients=12, statements=40) -> Tally:
    """`clients` connections each run `sql` (name, model, price) `statements` times on keys drawn at
    random from `keys`, all at once; returns what they were told."""
    tally = Tally()

    def worker(i, barrier, deadline):
        rnd = random.Random(s.seed + i)
        conn = connect(port)
        try:
            barrier.wait()
            for n in range(statements):
                if time.monotonic() > deadline:
                    break
                name, model = rnd.choice(keys)
                res, e = try_execute(conn, sql, (name, model, n))
                tally.stmt(ok=e is None, code=None if e is None else err_code(e))
        finally:
            close_quietly(conn)

    s.run_clients(clients, worker, 40, label)
    return tally


# ------------------------------------------------------------------ 15b. the client's INSERT ... ON DUPLICATE KEY UPDATE

def scenario_on_duplicate_key_update(s: Scenario):
    """INSERT ... ON DUPLICATE KEY UPDATE updates the live row holding the key, as a unique index would."""
    t = s.table("t")
    port = s.start(rule_yaml(t))[0]
    c = connect(port)
    odku = "ON DUPLICATE KEY UPDATE price = VALUES(price), note = 'upd'"
    try:
        expect_ok(s, "seed", try_execute(c, f"INSERT INTO {t.name} (id, name, model, price) VALUES "
                                            "(1, 'ku_a', 'm', 1), (2, 'ku_b', 'm', 2), (3, 'ku_dead', 'm', 3)"), 3)
        expect_ok(s, "soft delete ku_dead", try_execute(c, f"UPDATE {t.name} SET delete_status = 1 WHERE id = 3"))
        cases = [
            # (label, sql, affected rows as MySQL counts them)
            ("live key, other spelling: updates that row", f"INSERT INTO {t.name} (name, model, price) VALUES "
             f"('KU_A ', 'm', 10) {odku}", 2),
            ("same values again: nothing changes", f"INSERT INTO {t.name} (name, model, price) VALUES "
             f"('ku_a', 'm', 10) {odku}", 0),
            ("new key: inserted", f"INSERT INTO {t.name} (name, model, price) VALUES ('ku_c', 'm', 4) {odku}", 1),
            ("dead key: a new live row", f"INSERT INTO {t.name} (name, model, price) VALUES ('ku_dead', 'm', 5) {odku}", 1),
            ("id collision, new key: updates row 2, claims nothing",
             f"INSERT INTO {t.name} (id, name, model, price) VALUES (2, 'ku_zz', 'm', 20) {odku}", 2),
            ("batch: one live key, one new", f"INSERT INTO {t.name} (name, model, price) VALUES "
             f"('ku_b', 'm', 21), ('ku_d', 'm', 6) {odku}", 3),
            ("SET form on a live key", f"INSERT INTO {t.name} SET name = 'ku_c', model = 'm', price = 40 {odku}", 2),
            ("batch repeating a live key: both rows update it", f"INSERT INTO {t.name} (name, model, price) VALUES "
             f"('ku_a', 'm', 11), ('KU_A', 'm', 12) {odku}", 4),
        ]
        for label, sql, affected in cases:
            expect_ok(s, label, try_execute(c, sql), affected)
        expect_ok(s, "BEGIN", try_execute(c, "BEGIN"), affected=None)
        expect_ok(s, "in a transaction: live key", try_execute(
            c, f"INSERT INTO {t.name} (name, model, price) VALUES ('ku_d', 'm', 60) {odku}"), 2)
        expect_ok(s, "ROLLBACK", try_execute(c, "ROLLBACK"), affected=None)
    finally:
        close_quietly(c)
    prices = {}
    with s.admin.cursor() as cur:
        cur.execute(f"SELECT name, price FROM {t.qualified} WHERE {t.live_sql} ORDER BY name")
        prices = dict(cur.fetchall())
    s.check(prices == {"ku_a": 12, "ku_b": 21, "ku_c": 40, "ku_d": 6, "ku_dead": 5},
            f"live rows after the upserts: {prices}")
    keys = [(f"ku_h{i}", "m") for i in range(20)]
    tally = same_keys_at_once(s, port, keys, f"INSERT INTO {t.name} (name, model, price) VALUES (%s, %s, %s) {odku}",
                              "concurrent upserts")
    s.check_tally(tally, set(), "concurrent upserts")
    s.check_table(t, expect_keys=keys + [("ku_a", "m")], expect_live=len(keys) + 5)


# ------------------------------------------------------------------ 15c. REPLACE

def scenario_replace(s: Scenario):
    """REPLACE deletes the live row holding the key (and the row with its id), as a unique index would."""
    t = s.table("t")
    port = s.start(rule_yaml(t))[0]
    c = connect(port)
    try:
        expect_ok(s, "seed", try_execute(c, f"INSERT INTO {t.name} (id, name, model, price) VALUES "
                                            "(1, 'rp_a', 'm', 1), (2, 'rp_b', 'm', 2), (3, 'rp_dead', 'm', 3)"), 3)
        expect_ok(s, "soft delete rp_dead", try_execute(c, f"UPDATE {t.name} SET delete_status = 1 WHERE id = 3"))
        n = t.name
        cases = [
            # (label, sql, affected rows as MySQL counts them: 1 per row inserted, 1 per row deleted)
            ("new key: inserted", f"REPLACE INTO {n} (name, model, price) VALUES ('rp_c', 'm', 4)", 1),
            ("live key, other spelling: replaces its holder",
             f"REPLACE INTO {n} (name, model, price) VALUES ('RP_A ', 'm', 10)", 2),
            ("soft-deleted key: a new live row", f"REPLACE INTO {n} (name, model, price) VALUES ('rp_dead', 'm', 5)", 1),
            ("id of a live row, new key: replaces that row",
             f"REPLACE INTO {n} (id, name, model, price) VALUES (2, 'rp_z', 'm', 20)", 2),
            ("id of one row, key of another: both go",
             f"REPLACE INTO {n} (id, name, model, price) VALUES (2, 'rp_c', 'm', 30)", 3),
            ("batch: one live key, one new",
             f"REPLACE INTO {n} (name, model, price) VALUES ('rp_c', 'm', 31), ('rp_d', 'm', 6)", 3),
            ("SET form on a live key", f"REPLACE INTO {n} SET name = 'rp_d', model = 'm', price = 40", 2),
            ("a row inserted soft-deleted replaces nothing",
             f"REPLACE INTO {n} (name, model, price, delete_status) VALUES ('rp_d', 'm', 1, 1)", 1),
        ]
        for label, sql, affected in cases:
            expect_ok(s, label, try_execute(c, sql), affected)
        expect_ok(s, "BEGIN", try_execute(c, "BEGIN"), affected=None)
        expect_ok(s, "in a transaction: live key", try_execute(
            c, f"REPLACE INTO {n} (name, model, price) VALUES ('rp_d', 'm', 60)"), 2)
        expect_ok(s, "ROLLBACK", try_execute(c, "ROLLBACK"), affected=None)
        expect_ok(s, "BEGIN", try_execute(c, "BEGIN"), affected=None)
        expect_ok(s, "in a transaction, committed", try_execute(
            c, f"REPLACE INTO {n} (name, model, price) VALUES ('rp_b', 'm', 70)"), 1)
        expect_ok(s, "COMMIT", try_execute(c, "COMMIT"), affected=None)
        if TARGET == "uniqgate":  # a unique index replaces the first row by the second; uniqgate refuses
            res, e = try_execute(c, f"REPLACE INTO {n} (name, model, price) VALUES ('rp_x', 'm', 1), ('RP_X', 'm', 2)")
            s.check(e is not None and err_code(e) == 1235 and RULE in err_text(e),
                    f"a REPLACE repeating its own key: {err_code(e) if e else res}, expected 1235 naming the rule")
    finally:
        close_quietly(c)
    with s.admin.cursor() as cur:
        cur.execute(f"SELECT LOWER(TRIM(name)), price FROM {t.qualified} WHERE {t.live_sql} ORDER BY name")
        prices = dict(cur.fetchall())
    s.check(prices == {"rp_a": 10, "rp_b": 70, "rp_c": 31, "rp_d": 40, "rp_dead": 5},
            f"live rows after the REPLACEs: {prices}")
    s.check(scalar(s.admin, f"SELECT COUNT(*) FROM {t.qualified} WHERE id IN (1, 2)") == 0,
            "the replaced rows 1 and 2 are still there")
    keys = [(f"rp_h{i}", "m") for i in range(20)]
    tally = same_keys_at_once(s, port, keys, f"REPLACE INTO {t.name} (name, model, price) VALUES (%s, %s, %s)",
                              "concurrent REPLACEs")
    # A real unique index answers some of these REPLACEs with deadlocks; uniqgate retries the
    # transactions it opens itself, so its clients see none.
    s.check_tally(tally, {1213} if TARGET == "reference" else set(), "concurrent REPLACEs")
    s.check_table(t, expect_keys=keys + [("rp_a", "m"), ("rp_b", "m"), ("rp_c", "m"), ("rp_d", "m"),
                                         ("rp_dead", "m")], expect_live=len(keys) + 5)


# ------------------------------------------------------------------ 15d. INSERT ... RETURNING

def scenario_insert_returning(s: Scenario):
    """MariaDB's INSERT ... RETURNING answers with the inserted rows, a duplicate with 1062."""
    t = s.table("t")
    port = s.start(rule_yaml(t))[0]
    c = connect(port)
    n = t.name
    try:
        with c.cursor() as cur:
            cur.execute(f"INSERT INTO {n} (id, name, model, price) VALUES (7, 'rt_a', 'm', 1) RETURNING id, name, price")
            s.check(cur.fetchall() == ((7, "rt_a", 1),), "single row: the inserted row comes back")
            cur.execute(f"INSERT INTO {n} (name, model, price) VALUES ('rt_b', 'm', 2), ('rt_c', 'm', 3) "
                        "RETURNING name, price * 10 AS ten")
            s.check(cur.fetchall() == (("rt_b", 20), ("rt_c", 30)), "two rows, an expression")
            s.check(scalar_on(cur, "SELECT @@in_transaction") == 0, "autocommit: no transaction left open")
        res, e = try_execute(c, f"INSERT INTO {n} (name, model) VALUES ('RT_A ', 'm') RETURNING id")
        s.check(e is not None and err_code(e) == 1062, f"a live key with RETURNING: {e or res}, expected 1062")
        with c.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute(f"INSERT INTO {n} (name, model) VALUES ('rt_d', 'm') RETURNING name")
            s.check(cur.fetchall() == (("rt_d",),), "in a transaction")
            s.check(scalar_on(cur, "SELECT @@in_transaction") == 1, "the client's transaction goes on")
            cur.execute("ROLLBACK")
            cur.execute(f"INSERT INTO {n} (name, model) VALUES ('rt_d', 'm') RETURNING name")
            s.check(cur.fetchall() == (("rt_d",),), "the rolled-back key inserts again")
            cur.execute("SELECT 1")
            s.check(cur.fetchall() == ((1,),), "the connection goes on")
    finally:
        close_quietly(c)
    # libmariadb (the mariadb CLI) negotiates CLIENT_DEPRECATE_EOF: the rows end with an OK packet
    cli = subprocess.run(["mariadb", "--no-defaults", "-h127.0.0.1", f"-P{port}", "-uapp", "-papp_pw", "shop", "-N",
                          "-B", "-e", f"INSERT INTO {n} (name, model) VALUES ('rt_e', 'm') RETURNING name; "
                          "SELECT @@in_transaction"], capture_output=True, text=True, timeout=30)
    s.check(cli.returncode == 0 and cli.stdout.split() == ["rt_e", "0"],
            f"mariadb CLI: exit {cli.returncode}, {cli.stdout!r} {cli.stderr!r}, expected rt_e then 0")
    s.check_table(t, expect_keys=[("rt_a", "m"), ("rt_b", "m"), ("rt_c", "m"), ("rt_d", "m"), ("rt_e", "m")],
                  expect_live=5)


def scalar_on(cur, sql):
    cur.execute(sql)
    return cur.fetchone()[0]


# ------------------------------------------------------------------ main

SCENARIOS = {
    "autocommit": scenario_autocommit,
    "autocommit_deleted_at": scenario_autocommit_deleted_at,
    "batched_checks": scenario_batched_checks,
    "batched_checks_backend_tls": scenario_batched_checks_backend_tls,
    "one_round_trip_insert": scenario_one_round_trip_insert,
    "fresh_transaction_check": scenario_fresh_transaction_check,
    "control_connection_killed": scenario_control_connection_killed,
    "shutdown_under_load": scenario_shutdown_under_load,
    "transactions_repeatable_read": scenario_transactions_repeatable_read,
    "transactions_read_committed": scenario_transactions_read_committed,
    "rollback_does_not_block": scenario_rollback_does_not_block,
    "soft_delete_reinsert": scenario_soft_delete_reinsert,
    "soft_delete_reinsert_deleted_at": scenario_soft_delete_reinsert_deleted_at,
    "undelete_or_rekey_is_duplicate": scenario_undelete_or_rekey_is_duplicate,
    "set_to_default": scenario_set_to_default,
    "temporary_table": scenario_temporary_table,
    "collation_variants": scenario_collation_variants,
    "multirow_batches": scenario_multirow_batches,
    "rr_gap_no_deadlock": scenario_rr_gap_no_deadlock,
    "killed_client_releases_locks": scenario_killed_client_releases_locks,
    "on_duplicate_ignore": scenario_on_duplicate_ignore,
    "on_duplicate_update": scenario_on_duplicate_update,
    "client_insert_ignore": scenario_client_insert_ignore,
    "on_duplicate_key_update": scenario_on_duplicate_key_update,
    "replace": scenario_replace,
    "insert_returning": scenario_insert_returning,
    "last_insert_id": scenario_last_insert_id,
    "observe_mode": scenario_observe_mode,
    "three_proxies_mysql_locks": scenario_three_proxies_mysql_locks,
    "insert_select_rejected": scenario_insert_select_rejected,
}


if __name__ == "__main__":
    sys.exit(run_main(__doc__, SCENARIOS))
