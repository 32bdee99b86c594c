#!/usr/bin/python3
"""Prepared statements through uniqgate with real clients (see README.md): many concurrent
clients of one library insert overlapping keys with server-side prepared statements, soft-delete
and re-insert some, some inside explicit transactions; afterwards the database is counted.

    prepared_test.py php|node|java|java_bulk|sysbench|equivalence|own_reads_bound|own_writes_bound|key_moves|binary_keys|replace_bound|plan_after_ddl|bulk_indicators|multi_row_upserts_bound|long_data_bound|own_upserts_bound|hot_key_bound|last_prepared|blocks_refused

The clients (php_client.php, node_client.js, JavaClient.java, sysbench_client.lua) all run the
same kind of plan, one TSV file per client (written here), and write one TSV line per outcome:

  plan lines    ins NAME MODEL PRICE FLAG       FLAG: - | long_name | long_note (PHP sends that
                                                column with COM_STMT_SEND_LONG_DATA)
                delre NAME MODEL                soft-delete the key's live row, then re-insert it
                txn commit|rollback N1 M1 N2 M2 BEGIN, inserts, COMMIT or ROLLBACK (ROLLBACK at
                                                the first error)
                batch N1 M1 N2 M2 ...           Java: addBatch per row, executeBatch
  result lines  ins NAME MODEL CTX OK AFFECTED INSERT_ID
                ins NAME MODEL CTX ERR CODE SQLSTATE MESSAGE
                del NAME MODEL auto OK AFFECTED | del NAME MODEL auto ERR CODE SQLSTATE MESSAGE
                CTX: auto (autocommit), txc (transaction committed), txr (rolled back), batch

Needs the MariaDB fixture and UG_PROXY_BIN; UG_RULE_MODE=serialize|dedup. Exit 0 pass, 1 fail,
77 skip (a client is not installed).
"""
import collections
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "serialize"))
from serial_lib import (DUP_RE, run_main, MODE, RULE, SKIP, Scenario, Table, Tally, rule_yaml, scalar)  # noqa: E402

CLIENTS_DIR = HERE.parent / "clients"
TXN_CODES = {1062, 1205, 1213}
AUTO_CODES = {1062}


# ------------------------------------------------------------------ plans

def keyspace(prefix, count, models=7):
    return [(f"{prefix}{i:03d}", f"m{i % models}") for i in range(count)]


def make_plans(rnd: random.Random, clients: int, keys, long_data=False, batches=False):
    """Each client visits every key once, in its own order: single inserts (some with long data),
    some followed by soft-delete + re-insert, some pairs in a transaction, some Java batches."""
    plans = []
    for c in range(clients):
        order = keys[:]
        if c % 2:
            rnd.shuffle(order)
        else:
            # Hot: the even clients walk the keys in the same blocks of 8 (shuffled inside), so
            # they race for the same few keys at the same moment.
            blocks = [order[b:b + 8] for b in range(0, len(order), 8)]
            order = [k for block in blocks for k in rnd.sample(block, len(block))]
        ops, i = [], 0
        while i < len(order):
            n, m = order[i]
            roll = rnd.random()
            if roll < 0.12 and i + 1 < len(order):
                n2, m2 = order[i + 1]
                ops.append(["txn", "commit" if rnd.random() < 0.75 else "rollback", n, m, n2, m2])
                i += 2
                continue
            if batches and roll < 0.24 and i + 3 < len(order):
                rows = order[i:i + rnd.randint(2, 4)]
                ops.append(["batch"] + [v for row in rows for v in row])
                i += len(rows)
                continue
            flag = "-"
            if long_data and rnd.random() < 0.3:
                flag = rnd.choice(["long_name", "long_note"])
            ops.append(["ins", n, m, str(rnd.randint(1, 1000)), flag])
            if rnd.random() < 0.15:
                ops.append(["delre", n, m])
            i += 1
        plans.append(ops)
    return plans


def write_plans(folder: Path, plans) -> list:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, ops in enumerate(plans):
        p = folder / f"plan{i}.tsv"
        p.write_text("".join("\t".join(op) + "\n" for op in ops))
        paths.append(p)
        out = folder / f"out{i}.tsv"
        if out.exists():
            out.unlink()
    return paths


# ------------------------------------------------------------------ results

class Outcomes:
    """What the clients were told, and the checks of each answer."""

    def __init__(self, s: Scenario, rule=RULE):
        self.s, self.rule = s, rule
        self.tally = Tally()
        self.ok_inserts = collections.Counter()   # key -> inserts told OK and committed
        self.deleted = collections.Counter()      # key -> rows the client was told it soft-deleted
        self.codes_by_ctx = collections.defaultdict(collections.Counter)
        self.affected_unknown = False             # sysbench: no affected rows for a DML

    def check_dup(self, what, code, state, msg, keys):
        problems = []
        if state != "23000":
            problems.append(f"SQLSTATE {state} instead of 23000")
        m = DUP_RE.match(msg)
        if not m:
            problems.append(f"message {msg!r} is not MySQL's duplicate-entry text")
        else:
            if m.group(2) != self.rule:
                problems.append(f"key {m.group(2)!r} instead of {self.rule!r}")
            if m.group(1) not in {f"{n}-{mo}" for n, mo in keys}:
                problems.append(f"entry {m.group(1)!r} is not {' or '.join(f'{n}-{mo}' for n, mo in keys)}")
        if problems:
            self.tally.problem(f"{what}: " + "; ".join(problems))

    def line(self, who, fields, batch_keys=None):
        kind = fields[0]
        if kind not in ("ins", "del") or len(fields) < 6:
            self.tally.problem(f"{who}: unreadable result line {fields!r}")
            return
        _, n, m, ctx, status = fields[:5]
        key = (n, m)
        if status == "OK":
            self.tally.stmt(True)
            if fields[5] == "-":
                self.affected_unknown = True
                affected = 1 if kind == "ins" else 0
            else:
                affected = int(fields[5])
            if kind == "del":
                self.deleted[key] += affected
                if affected not in (0, 1):
                    self.tally.problem(f"{who}: soft delete of {n}-{m} affected {affected} rows")
                return
            if affected != 1:
                self.tally.problem(f"{who}: INSERT {n}-{m} ({ctx}) affected {affected} rows, expected 1")
            if len(fields) > 6 and ctx != "batch" and fields[6] not in ("", "-") and int(fields[6]) <= 0:
                self.tally.problem(f"{who}: INSERT {n}-{m} ({ctx}) insert id {fields[6]}")
            if ctx in ("auto", "txc", "batch"):
                self.ok_inserts[key] += 1
            return
        code, state, msg = int(fields[5]), fields[6], "\t".join(fields[7:])
        self.tally.stmt(False, code)
        self.codes_by_ctx[ctx][code] += 1
        allowed = TXN_CODES if ctx in ("txc", "txr") else AUTO_CODES
        if code not in allowed:
            self.tally.problem(f"{who}: {kind} {n}-{m} ({ctx}): error {code} ({state}) {msg}")
        elif code == 1062:
            self.check_dup(f"{who}: {kind} {n}-{m} ({ctx})", code, state, msg, batch_keys or [key])

    def read(self, who, path: Path):
        if not path.exists():
            self.tally.problem(f"{who}: no results ({path.name} missing)")
            return 0
        lines = [ln.split("\t") for ln in path.read_text(encoding="utf-8").splitlines() if ln]
        for fields in lines:
            if fields[0] == "batchkeys":  # the keys of the next batch's lines (a 1062 names one of them)
                pairs = fields[1:]
                self.batch_keys = list(zip(pairs[0::2], pairs[1::2]))
                continue
            if fields[0] == "note":
                continue
            ctx = fields[3] if len(fields) > 3 else ""
            self.line(who, fields, getattr(self, "batch_keys", None) if ctx == "batch" else None)
        return len(lines)

    def verdict(self, t: Table, label):
        s = self.s
        s.check_tally(self.tally, TXN_CODES, label)
        for ctx, codes in sorted(self.codes_by_ctx.items()):
            s.note(f"{label}: errors in context {ctx}: {dict(codes)}")
        # Per key: live rows = inserts told OK (committed) - rows told soft-deleted, and 0 or 1.
        with s.admin.cursor() as c:
            c.execute(f"SELECT name, model, COUNT(*) FROM {t.qualified} WHERE {t.live_sql} GROUP BY name, model")
            live = {(n, m): k for n, m, k in c.fetchall()}
        keys = set(self.ok_inserts) | set(self.deleted) | set(live)
        wrong = []
        for key in sorted(keys):
            want = self.ok_inserts[key] - self.deleted[key]
            if self.affected_unknown:
                # Without affected rows: a soft delete is always followed by the deleter's
                # re-insert (OK, or 1062 because another live row exists), so every key that was
                # ever told inserted must be live, once.
                want = 1 if self.ok_inserts[key] else 0
            if live.get(key, 0) != want or want not in (0, 1):
                wrong.append(f"{key[0]}-{key[1]}: live {live.get(key, 0)}, told inserted {self.ok_inserts[key]}"
                             f" and soft-deleted {self.deleted[key]}")
        s.check(not wrong, f"{label}: {len(wrong)} key(s) whose live rows differ from what the clients were "
                f"told: " + " | ".join(wrong[:6]))
        expect = [k for k in keys if (self.ok_inserts[k] > 0 if self.affected_unknown
                                      else self.ok_inserts[k] - self.deleted[k] == 1)]
        s.note(f"{label}: {sum(self.ok_inserts.values())} inserts told OK, {sum(self.deleted.values())} rows "
               f"soft-deleted, {len(expect)} keys expected live")
        s.check_table(t, expect_keys=expect, expect_live=len(expect), label=label)


# ------------------------------------------------------------------ running the clients

def need(*programs):
    for p in programs:
        if shutil.which(p) is None:
            print(f"SKIP: {p} is not installed")
            sys.exit(SKIP)


def run_procs(s: Scenario, procs, budget, label):
    """Waits for client processes (list of (name, Popen, logfile)); kills them past the budget."""
    deadline = time.monotonic() + budget
    for name, p, log in procs:
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
            s.check(False, f"{label}: {name} still running after the {budget} s budget (killed)")
    for name, p, log in procs:
        text = Path(log).read_text(errors="replace") if Path(log).exists() else ""
        if p.returncode != 0:
            s.check(False, f"{label}: {name} exited {p.returncode}:\n{text[-3000:]}")
        # A client that exited 0 is judged by its results; its log (sysbench's driver logs every
        # failed execute, the expected 1062s too) stays in the test's state folder.


def client_env(port, table: Table, extra=None):
    env = dict(os.environ, UG_HOST="127.0.0.1", UG_PORT=str(port), UG_USER="app", UG_PASSWORD="app_pw",
               UG_TABLE=table.name)
    env.update(extra or {})
    return env


def load(s: Scenario, client: str, clients=16, nkeys=300, budget=100):
    t = s.table("t")
    port = s.start(rule_yaml(t))[0]
    rnd = random.Random(s.seed)
    keys = keyspace(f"{client[:2]}", nkeys)
    plans = make_plans(rnd, clients, keys, long_data=(client == "php"), batches=(client == "java"))
    folder = s.state / "plans"
    paths = write_plans(folder, plans)
    env = client_env(port, t, {"UG_BUDGET_S": str(budget - 10)})
    procs = []
    prepared_before = server_prepares(s)
    t0 = time.monotonic()
    if client == "php":
        for i, p in enumerate(paths):
            log = folder / f"client{i}.log"
            procs.append((f"php client {i}", subprocess.Popen(
                ["php", str(HERE / "php_client.php"), str(p), str(folder / f"out{i}.tsv")], env=env,
                stdout=open(log, "wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL), log))
    elif client == "node":
        log = folder / "node.log"
        procs.append(("node", subprocess.Popen(
            ["node", str(HERE / "node_client.js"), str(folder), str(clients)], env=env,
            cwd=CLIENTS_DIR / "node", stdout=open(log, "wb"), stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL), log))
    elif client == "java":
        log = folder / "java.log"
        procs.append(("java", subprocess.Popen(
            [str(HERE / "java_run.sh"), "load", str(folder), str(clients)], env=env,
            stdout=open(log, "wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL), log))
    elif client == "sysbench":
        log = folder / "sysbench.log"
        procs.append(("sysbench", subprocess.Popen(
            ["sysbench", str(HERE / "sysbench_client.lua"), "--db-driver=mysql", "--db-ps-mode=auto",
             "--mysql-host=127.0.0.1", f"--mysql-port={port}", "--mysql-user=app", "--mysql-password=app_pw",
             "--mysql-db=shop", "--mysql-ssl=off", f"--threads={clients}", f"--table={t.name}",
             f"--plans={folder}", "runplans"], env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL), log))
    run_procs(s, procs, budget, client)
    check_server_prepared(s, prepared_before, clients)
    print(f"[{s.name}] {clients} {client} clients done in {time.monotonic() - t0:.1f} s")
    out = Outcomes(s)
    lines = sum(out.read(f"client {i}", folder / f"out{i}.tsv") for i in range(clients))
    s.check(lines >= sum(len(p) for p in plans), f"{client}: {lines} result lines for "
            f"{sum(len(p) for p in plans)} planned operations")
    out.verdict(t, client)


def server_prepares(s: Scenario) -> int:
    return int(scalar(s.admin, "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
                               "WHERE VARIABLE_NAME = 'COM_STMT_PREPARE'"))


def check_server_prepared(s: Scenario, before: int, clients: int):
    """The clients really used server-side prepared statements: the server saw at least one
    COM_STMT_PREPARE per client (a client that fell back to text would make none)."""
    seen = server_prepares(s) - before
    s.note(f"the server saw {seen} COM_STMT_PREPARE")
    s.check(seen >= clients, f"the server saw only {seen} COM_STMT_PREPARE for {clients} clients")


def scenario_php(s):
    """16 php-cli processes, mysqli prepare/bind_param/execute, send_long_data in some rows."""
    need("php")
    load(s, "php")


def scenario_node(s):
    """16 node mysql2 connections (execute = binary protocol) in one process."""
    need("node")
    if subprocess.run(["node", "-e", "require('mysql2')"], cwd=CLIENTS_DIR / "node",
                      capture_output=True).returncode != 0:
        print("SKIP: mysql2 is not installed (npm ci in tests/integration/clients/node)")
        sys.exit(SKIP)
    load(s, "node")


def scenario_java(s):
    """16 Connector/J threads: useServerPrepStmts=true, batches with useBulkStmts=false (half of
    the threads also rewriteBatchedStatements=true)."""
    need("java", "javac")
    if not Path(os.environ.get("UG_CONNECTOR_J", "/usr/share/java/mariadb-java-client.jar")).exists():
        print("SKIP: Connector/J is not installed (libmariadb-java)")
        sys.exit(SKIP)
    load(s, "java")


def scenario_sysbench(s):
    """sysbench 1.0 Lua: con:prepare / bind_param / execute in 16 threads."""
    need("sysbench")
    load(s, "sysbench")


def scenario_java_bulk(s):
    """Connector/J with useBulkStmts=true: bulk INSERT batches on a rule table are enforced like one multi-row
    INSERT (its rows one statement prepared by the proxy, the values bound), bulk UPDATE batches row by
    row in one transaction, each row like an execute of the statement with its values (bound too)."""
    need("java", "javac")
    t = s.table("t")
    port = s.start(rule_yaml(t))[0]
    folder = s.state / "bulk"
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "java.log"
    p = subprocess.Popen([str(HERE / "java_run.sh"), "bulk", str(folder), "1"], env=client_env(port, t),
                         stdout=open(log, "wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    run_procs(s, [("java bulk", p, log)], 90, "bulk")
    text = log.read_text(errors="replace")
    print(text)
    results = dict(ln.split(": ", 1) for ln in text.splitlines() if ": " in ln)
    # A bulk batch is enforced as one multi-row INSERT: all rows in, or a 1062 and none.
    s.check(results.get("bulk batch") == "[-2, -2, -2]",
            f"bulk batch: expected [-2, -2, -2] (success, no per-row counts), got {results.get('bulk batch')!r}")
    s.check(results.get("rows after bulk") == "3", f"rows after the bulk batch: {results.get('rows after bulk')}")
    # Its rows as one statement prepared by the proxy, the values bound (as text: no execute):
    # serialize, the probe block and the statement; dedup, the guarded key insert, the
    # statement and the commit block.
    executes = "2" if MODE == "serialize" else "3"
    s.check(results.get("executes for the bulk batch") == executes,
            f"executes on the session for the bulk batch: {results.get('executes for the bulk batch')}, "
            f"expected {executes}")
    got = results.get("bulk batch with a live key", "")
    s.check(got.startswith("BatchUpdateException 1062 23000 Duplicate entry 'bk1-m' for key 'product_name_model'"),
            f"bulk batch with a live key: expected the rule's 1062, got {got!r}")
    s.check(results.get("rows after the duplicate bulk") == "3",
            f"rows after the refused duplicate batch: {results.get('rows after the duplicate bulk')}")
    s.check(results.get("same connection afterwards") == "1",
            f"the connection after the refusal: {results.get('same connection afterwards')!r}")
    # Other statements in bulk (Connector/J 2.x batches UPDATEs so by default): each row enforced as
    # the statement, all in one transaction; the first failure undoes the whole batch.
    s.check(results.get("bulk soft-delete batch") == "[-2, -2]",
            f"bulk soft-delete batch: {results.get('bulk soft-delete batch')!r}, expected [-2, -2]")
    # Each row like an execute of the statement, its values bound (as text: no execute at all):
    # serialize relays a soft delete as the statement prepared by the proxy, one execute per row;
    # dedup reads the row, writes it and moves its key, three per row. The renames add the
    # proxy's reads and key checks, up to the second row's 1062.
    executes = {"serialize": ("2", "5"), "dedup": ("6", "8")}[MODE]
    s.check((results.get("executes for the bulk soft-delete batch"),
             results.get("executes for the bulk rename batch")) == executes,
            f"executes on the session for the soft-delete and rename batches: "
            f"{results.get('executes for the bulk soft-delete batch')}, "
            f"{results.get('executes for the bulk rename batch')}, expected {executes} (0: sent as text)")
    got = results.get("bulk rename batch onto a live key", "")
    s.check(got.startswith("BatchUpdateException 1062 23000 Duplicate entry 'bk1-m' for key 'product_name_model'"),
            f"bulk rename onto a live key: expected the rule's 1062, got {got!r}")
    s.check(results.get("live rows after the renames") == "bk1,bk_after",
            f"the refused rename batch changed rows: {results.get('live rows after the renames')!r}")
    # Connector/J 2.7 does not use bulk execution when generated keys are asked for: row by row.
    s.check(results.get("bulk batch with generated keys") == "[1, 1]",
            f"batch with generated keys: {results.get('bulk batch with generated keys')!r}")
    # rewriteBatchedStatements + generated keys = a multi-statement string: refused (not 1062).
    got = results.get("rewritten batch with generated keys", "")
    s.check(got.startswith("BatchUpdateException 1235 42000 uniqgate: a multi-statement string"),
            f"rewritten batch with generated keys: {got!r}")
    s.check(results.get("bulk batch, non-rule table") == "[-2, -2, -2]" and
            results.get("rows in the non-rule table") == "3",
            f"bulk batch on a non-rule table: {results.get('bulk batch, non-rule table')!r}, "
            f"rows {results.get('rows in the non-rule table')!r}")
    s.check_table(t, expect_keys=[("bk1", "m"), ("bk_after", "m"), ("bk_multi0", "m"), ("bk_multi1", "m")],
                  expect_live=4)


def scenario_equivalence(s):
    """The same statements as text (query) and prepared (execute) give the same answers (node)."""
    need("node")
    tables, ports = {}, {}
    for way in ("text", "ps"):
        te = s.table(f"{way}_e")
        ti = s.table(f"{way}_i", rule="pnm_ignore")
        tu = s.table(f"{way}_u", rule="pnm_update")
        rules = (rule_yaml(te) + rule_yaml(ti, on_duplicate="ignore") + rule_yaml(tu, on_duplicate="update"))
        if way == "ps" and s.proxies:
            s.migrate(rules)  # start() migrates only for the first instance
        ports[way] = s.start(rules)[0]
        tables[way] = (te, ti, tu)
    folder = s.state / "equivalence"
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "node.log"
    env = dict(os.environ, UG_HOST="127.0.0.1", UG_USER="app", UG_PASSWORD="app_pw",
               UG_TEXT_PORT=str(ports["text"]), UG_PS_PORT=str(ports["ps"]),
               UG_TEXT_TABLES=",".join(t.name for t in tables["text"]),
               UG_PS_TABLES=",".join(t.name for t in tables["ps"]))
    p = subprocess.Popen(["node", str(HERE / "node_equivalence.js")], env=env, cwd=CLIENTS_DIR / "node",
                         stdout=open(log, "wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    run_procs(s, [("node equivalence", p, log)], 60, "equivalence")
    text = log.read_text(errors="replace")
    print(text)
    s.check("MISMATCH" not in text and "WRONG" not in text, "text and prepared answers differ (see above)")
    s.check("equivalence: done" in text, "the equivalence script did not finish")
    for way in ("text", "ps"):
        for t in tables[way]:
            s.check_table(t, label=way)


def run_node_script(s: Scenario, script: str, table: Table, extra=None, rules=None, port=None):
    """Starts uniqgate with the rule on `table` (or `rules`) unless given its `port`, runs one
    node script of this folder against it and returns the JSON of its last output line."""
    if port is None:
        port = s.start(rules or rule_yaml(table))[0]
    log = s.state / (Path(script).stem + ".log")
    p = subprocess.Popen(["node", str(HERE / script)], env=client_env(port, table, extra), cwd=CLIENTS_DIR / "node",
                         stdout=open(log, "wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    run_procs(s, [(script, p, log)], 60, script)
    text = log.read_text(errors="replace")
    print(text)
    return json.loads(text.strip().splitlines()[-1])


def scenario_own_reads_bound(s):
    """The proxy's own statements for an execute are prepared statements of its own, the client's
    values bound: the session's COM_STMT_* counters show them, and a value full of quotes,
    backslashes and a NUL is handled exactly (its case variant is a duplicate). serialize: the
    existence checks; dedup: the dedup-table inserts, the client's own execute after them and the
    commit, in autocommit and inside the client's transaction."""
    need("node")
    t = s.table("t")
    extra = {"UG_WITH_TRANSACTION": "1"} if MODE == "dedup" else None
    result = run_node_script(s, "node_own_reads.js", t, extra)
    answers = result["answers"]
    s.check(answers[0] == {"affectedRows": 1} and answers[2] == {"affectedRows": 1},
            f"new keys not inserted: {answers}")
    duplicates = (1, 3, 7) if MODE == "dedup" else (1, 3)
    for i in duplicates:
        s.check(answers[i].get("errno") == 1062 and f"'{RULE}'" in answers[i].get("message", ""),
                f"execute {i + 1} repeats a live key: {answers[i]}, expected 1062")
    s.check(answers[4].get("errno") == 1264, f"a price out of range: {answers[4]}, expected 1264")
    s.check(answers[5] == {"affectedRows": 1}, f"the key of a refused row is free again: {answers[5]}")
    delta = {k: result["after"][k] - result["before"][k] for k in result["before"]}
    keys = [("o'k\\\\ \0é", "m"), ("plain", "m"), ("lost", "m")]
    if MODE == "serialize":
        # A lone autocommit execute goes in one round trip: the proxy's probe block, then the
        # client's own execute, pipelined (2 executes each for the four new keys). A live key
        # fails the probe (and so the execute after it, in the READ ONLY transaction the
        # block leaves); the full check then answers 1062 (3 executes for each duplicate).
        # Prepared: the client's statement, the probe block, the full check.
        s.check(delta["Com_stmt_prepare"] == 3, f"COM_STMT_PREPARE on the session: {delta}, expected 3")
        s.check(delta["Com_stmt_execute"] == 4 * 2 + 2 * 3, f"COM_STMT_EXECUTE on the session: {delta}, expected 14")
    else:
        s.check(answers[6] == {"affectedRows": 1}, f"a new key inside a transaction: {answers[6]}")
        keys.append(("tx", "m"))
        # The client's statement, the one block that holds an autocommit write whole (key
        # insert, the client's INSERT, commit) and the guarded key insert of the transaction,
        # each prepared once; every autocommit execute is the one block (1: three commands
        # before); in the transaction the new key runs the key insert and then the execute
        # (2), the duplicate only the key insert (1: the client's execute is not sent after a
        # failed claim).
        s.check(delta["Com_stmt_prepare"] == 3, f"COM_STMT_PREPARE on the session: {delta}, expected 1 + 2")
        s.check(delta["Com_stmt_execute"] == 6 * 1 + 2 + 1, f"COM_STMT_EXECUTE on the session: {delta}, expected 9")
    s.check_table(t, expect_keys=keys, expect_live=len(keys))


def scenario_own_writes_bound(s):
    """Prepared UPDATEs and DELETEs that move live keys (soft delete, un-delete, rename, DELETE,
    one with LIMIT ?, two inside the client's transaction) run as statements of the proxy's own
    with the values bound (the client's, and the rows' keys and old values): the session's
    COM_STMT_* counters show them, the answers are the text path's, and in dedup mode the dedup
    table stays exact."""
    need("node")
    t = s.table("t")
    result = run_node_script(s, "node_own_writes.js", t)
    answers = result["answers"]
    ok = lambda i, n: s.check(answers[i] == {"affectedRows": n}, f"statement {i + 1}: {answers[i]}, expected {n} row(s)")
    dup = lambda i: s.check(answers[i].get("errno") == 1062 and f"'{RULE}'" in answers[i].get("message", ""),
                            f"statement {i + 1} makes a live key twice: {answers[i]}, expected 1062 naming the rule")
    ok(0, 1)   # soft delete
    dup(1)     # un-delete onto the key re-added meanwhile
    dup(2)     # rename onto a live key
    ok(3, 1)   # rename to a value full of quotes, a backslash and a NUL
    dup(4)     # its case variant
    ok(5, 1)   # DELETE
    ok(6, 1)   # LIMIT ?
    ok(7, 0)   # no row
    ok(8, 1)   # in the client's transaction
    dup(9)
    delta = {k: result["after"][k] - result["before"][k] for k in result["before"]}
    if MODE == "dedup":
        # The client's own execute never runs. Each runs the proxy's read of the rows, the
        # guarded removal of their keys when there are rows, the restricted write, and a block
        # after it that claims the new keys (UPDATEs other than soft deletes) and, in
        # autocommit, commits. Per statement: (rows, claims keys, autocommit).
        shapes = [(1, False, True), (1, True, True), (1, True, True), (1, True, True), (1, True, True),
                  (1, False, True), (1, False, True), (0, False, True), (1, False, False), (1, True, False)]
        executes = [2 + (rows > 0) + (claims or auto) for rows, claims, auto in shapes]
        # Prepared once each: the client's 5 statements; the proxy's read for each (5); its
        # restricted write for each statement and number of rows (6); the removal, guarded for
        # autocommit and for the client's transaction (2); the blocks after the write: commit,
        # claim and commit, claim (3).
        prepares = 5 + 5 + 6 + 2 + 3
    else:
        # Soft deletes and DELETEs free keys only: the client's execute, as sent. An un-delete
        # or a rename: the proxy's read of the rows, its check of the new key, then the
        # client's execute if the key is free; inside a transaction the check is a read on the
        # control connection, then a locking read of the live holder on the session.
        executes = [1, 2, 2, 3, 2, 1, 1, 1, 1, 2]
        # The client's 5; the two reads of rows; one check (its text is the same for both:
        # every value is bound, the row's old ones too); the locking read.
        prepares = 5 + 2 + 1 + 1
    s.check(len(executes) == result["statements"], "the script ran other statements than this test counts")
    s.check(delta["Com_stmt_execute"] == sum(executes),
            f"COM_STMT_EXECUTE on the session: {delta}, expected {sum(executes)}")
    s.check(delta["Com_stmt_prepare"] == prepares, f"COM_STMT_PREPARE on the session: {delta}, expected {prepares}")
    # Live: 'a' and 'b' re-added; 'c' was renamed and that row soft-deleted by LIMIT ?, 'd'
    # soft-deleted in the transaction.
    s.check_table(t, expect_keys=[("a", "m"), ("b", "m")], expect_live=2)


def scenario_own_upserts_bound(s):
    """Prepared INSERTs that a duplicate turns into something else — the client's INSERT IGNORE
    and INSERT ... ON DUPLICATE KEY UPDATE, rules with on_duplicate: ignore and update — bind the
    values too: the session's COM_STMT_* counters show the proxy's own statements, the answers are
    MariaDB's, and a key claimed for a row the server itself skipped is released."""
    need("node")
    t, ti, tu = s.table("t"), s.table("ti", rule="pnm_ignore"), s.table("tu", rule="pnm_update")
    rules = rule_yaml(t) + rule_yaml(ti, on_duplicate="ignore") + rule_yaml(tu, on_duplicate="update")
    extra = {"UG_TABLE_IGNORE": ti.name, "UG_TABLE_UPDATE": tu.name}
    result = run_node_script(s, "node_own_upserts.js", t, extra, rules)
    answers = result["answers"]
    want = [1, 0, 0, 1, 2, 1, 0, 1, 2]
    s.check(answers == [{"affectedRows": n} for n in want], f"answers {answers}, expected affected rows {want}")
    s.check(result["updated"]["price"] == 9, f"on_duplicate: update left {result['updated']}, expected price 9")
    s.check(result["upserted"]["price"] == 7, f"ON DUPLICATE KEY UPDATE left {result['upserted']}, expected price 7")
    delta = {k: result["after"][k] - result["before"][k] for k in result["before"]}
    print(f"[{s.name}] counters {delta}")
    if MODE == "dedup":
        # INSERT IGNORE: the key claimed by the proxy's INSERT IGNORE (1), then, if claimed, the
        # client's own execute and the release of a key no live row holds (2). ODKU: the claim,
        # then for a new key the client's execute and a block that releases an unused key and
        # commits (3); for a live key the read of its holder, the row aimed at it, and the commit
        # block (4). on_duplicate ignore: the claim, then the execute if claimed. update: the
        # claim, then the execute or the UPDATE of the live row, bound.
        executes = (1 + 2) + 1 + (1 + 2) + 3 + 4 + (1 + 1) + 1 + (1 + 1) + (1 + 1)
        # The client's 5 statements; the claim for each table (3), the release, the UPDATE; the
        # holder read, the aimed row, the release block, the commit block.
        prepares = 5 + 3 + 1 + 1 + 4
    else:
        # The check of the key, then the client's execute when the key is free;
        # on_duplicate: update's UPDATE of the live row; ODKU onto a live key: the locking read
        # of the holder, the row aimed at it and the commit block.
        executes = (1 + 1) + 1 + (1 + 1) + (1 + 1) + (1 + 3) + (1 + 1) + 1 + (1 + 1) + (1 + 1)
        # The client's 5; the check for each table (3); the UPDATE; the holder's locking read,
        # the aimed row, the commit block.
        prepares = 5 + 3 + 1 + 3
    s.check(delta["Com_stmt_execute"] == executes, f"COM_STMT_EXECUTE on the session: {delta}, expected {executes}")
    s.check(delta["Com_stmt_prepare"] == prepares, f"COM_STMT_PREPARE on the session: {delta}, expected {prepares}")
    s.check_table(t, expect_keys=[("o'k\\\\ \0é", "m"), ("taken_id", "m"), ("up", "m")], expect_live=3)
    s.check_table(ti, expect_live=1)
    s.check_table(tu, expect_live=1)


def scenario_multi_row_upserts_bound(s):
    """Prepared multi-row INSERTs some of whose rows a live key turns into something else — the
    client's INSERT IGNORE and INSERT ... ON DUPLICATE KEY UPDATE, rules with on_duplicate:
    ignore and update, in autocommit and in the client's transaction — answer what the same
    statements answer as text and leave the same rows; what the proxy sends binds the values:
    the rows that go in are a statement of the proxy's own with their values bound, rows onto
    live keys are aimed at their holders with the holder's primary key bound, several writes
    of one statement are guarded blocks, and in dedup mode each key claim is one too."""
    need("node")
    sets = {}
    for protocol in ("prepared", "text"):
        suffix = "" if protocol == "prepared" else "_x"
        sets[protocol] = (s.table("t" + suffix, rule="pnm" + suffix),
                          s.table("ti" + suffix, rule="pnm_ignore" + suffix),
                          s.table("tu" + suffix, rule="pnm_update" + suffix))
    rules = "".join(rule_yaml(t) + rule_yaml(ti, on_duplicate="ignore") + rule_yaml(tu, on_duplicate="update")
                    for t, ti, tu in sets.values())
    results = {}
    for protocol, (t, ti, tu) in sets.items():
        extra = {"UG_TABLE_IGNORE": ti.name, "UG_TABLE_UPDATE": tu.name}
        if protocol == "text":
            extra["UG_TEXT"] = "1"
        results[protocol] = run_node_script(s, "node_multi_row_upserts.js", t, extra, rules)
    prepared, text = results["prepared"], results["text"]
    want = [2, 1, 2, 3, 1, 5]
    s.check(prepared["answers"] == [{"affectedRows": n} for n in want],
            f"answers {prepared['answers']}, expected affected rows {want}")
    s.check(prepared["answers"] == text["answers"], f"answers: prepared {prepared['answers']}, as text {text['answers']}")
    s.check(prepared["rows"] == text["rows"], f"rows: prepared {prepared['rows']}, as text {text['rows']}")
    delta = {k: prepared["after"][k] - prepared["before"][k] for k in prepared["before"]}
    print(f"[{s.name}] counters {delta}")
    if MODE == "dedup":
        # Each key claimed by a guarded block (3, 2, 3, 2, 2); the rows that go in: the client's
        # own execute when all of them do (the second INSERT IGNORE, whose skipped row the server
        # skips itself), otherwise the proxy's INSERT of them, bound; the release of keys the
        # server's IGNORE left unused (after each client INSERT IGNORE); on_duplicate: update's
        # UPDATE of the live row, bound. The text path: none of these.
        # The upsert: the claims (3), the reads of the two holders (2), the new row and the two
        # rows aimed at their holders (3 guarded blocks), the block that releases unused keys
        # and commits.
        executes = (3 + 1 + 1) + (2 + 1 + 1) + (3 + 1) + (2 + 1 + 1) + (2 + 1 + 1) + (3 + 2 + 3 + 1)
        # The client's 5 statements; the guarded claim of each table in autocommit (3) and in
        # the transaction (1); the inserts of the rows that go in (4 texts); the release (two
        # texts: 3 rows, 2 rows); the UPDATE.
        prepares = 5 + 3 + 1 + 4 + 2 + 1 + (1 + 1 + 1 + 1 + 1)  # the upsert's: the client's, the
        # holder read, the new row's and the aimed rows' blocks, the release and commit block
    else:
        # The check of the keys (one bound execute each), then the rows that go in: the proxy's
        # INSERT of them, bound, when some are skipped, the client's own execute when all go
        # in; on_duplicate: update's UPDATE of the live row. In the transaction the committed
        # read is the control connection's; the session's own-view read and the locking read
        # of the holder are the session's. The text path: the checks only.
        # The upsert: the check, the locking read of the holders (their primary keys bound), the
        # new row and the two rows aimed at their holders (3 guarded blocks), the commit block.
        executes = (1 + 1) + (1 + 1) + (1 + 1) + (1 + 1 + 1) + (2 + 1) + (1 + 1 + 3 + 1)
        # The client's 5; the checks (4 texts); the inserts of the rows that go in (4); the
        # UPDATE; the own-view and locking reads.
        prepares = 5 + 4 + 4 + 1 + 2 + (1 + 1 + 1 + 1 + 1)  # the upsert's: the client's, the locking
        # read, the new row's and the aimed rows' blocks, the commit block (its 3-row check is the
        # first INSERT's)
    s.check(delta["Com_stmt_execute"] == executes, f"COM_STMT_EXECUTE on the session: {delta}, expected {executes}")
    s.check(delta["Com_stmt_prepare"] == prepares, f"COM_STMT_PREPARE on the session: {delta}, expected {prepares}")
    for t, ti, tu in sets.values():
        s.check_table(t, expect_live=7)
        s.check_table(ti, expect_live=2)
        s.check_table(tu, expect_live=2)


def scenario_long_data_bound(s):
    """Prepared writes whose values come with COM_STMT_SEND_LONG_DATA (PHP mysqli send_long_data;
    the server forgets long data after one execute, and uniqgate may have to run a write again
    after a deadlock): the key itself or another column as long data, INSERTs and a rename, in
    autocommit and in a transaction, answer what they would without the proxy (1062 for a live
    key) and still bind every value: the client's write is then its statement prepared by the
    proxy with every value inline, the long data too (never rendered into SQL text)."""
    need("php")
    t = s.table("t")
    port = s.start(rule_yaml(t))[0]
    log = s.state / "php_long_data.log"
    p = subprocess.Popen(["php", str(HERE / "php_long_data.php")], env=client_env(port, t),
                         stdout=open(log, "wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    run_procs(s, [("php_long_data.php", p, log)], 60, "php_long_data.php")
    text = log.read_text(errors="replace")
    print(text)
    result = json.loads(text.strip().splitlines()[-1])
    answers = result["answers"]
    want = [1, 1062, 1, 1062, 1, 1, 1062]
    for i, code in enumerate(want):
        got = answers[i].get("error") if code == 1062 else answers[i].get("affected")
        s.check(got == code, f"write {i + 1}: {answers[i]}, expected {code if code == 1062 else 'affected 1'}")
    delta = {k: result["after"][k] - result["before"][k] for k in result["before"]}
    print(f"[{s.name}] counters {delta}")
    # The client prepared its two statements before the counters were read: every prepare here
    # is the proxy's, among them its copy of each client statement, executed with every value
    # bound in place of the client's own execute (the text path prepares no copy and sends the
    # writes as SQL text). serialize: the copies, the probe block, the full check, the read of
    # the rows to rename, the locking read and the own-view read of the transaction. dedup: the
    # copy of the INSERT, the guarded key insert and commit block, the read of the rows to
    # rename, its guarded removal, restricted write and claim, and the key insert of the
    # transaction (dedup's UPDATEs never send the client's statement: no copy of it). The
    # transaction's duplicate INSERT runs its key insert alone: the copy is not executed after it.
    executes, prepares = (15, 7) if MODE == "serialize" else (20, 8)
    s.check(delta["Com_stmt_execute"] == executes, f"COM_STMT_EXECUTE on the session: {delta}, expected {executes}")
    s.check(delta["Com_stmt_prepare"] == prepares, f"COM_STMT_PREPARE on the session: {delta}, expected {prepares}")
    s.check_table(t, expect_live=3)


def scenario_hot_key_bound(s):
    """A prepared INSERT that keeps repeating a live key (a hot key) stops taking the path built
    for new keys once most of its recent executes were duplicates. dedup: where an execute is
    one block of the proxy's (key insert, the client's INSERT, commit), a duplicate costs one
    command already and nothing changes; for a client without CLIENT_MULTI_RESULTS (which the
    block needs) the key insert goes alone first instead of pipelined with the client's execute
    and a commit block. serialize: the full check runs at once, without the probe pipelined with
    the client's execute (which fails, then costs a ROLLBACK and the check anyway). The answers
    do not change."""
    need("node")
    runs = [("t", None)]
    if MODE == "dedup":
        runs.append(("u", {"UG_WITHOUT_MULTI_RESULTS": "1"}))
    for name, extra in runs:
        t = s.table(name)
        if s.proxies and MODE == "dedup":
            s.migrate(rule_yaml(t))  # start() migrates only for the first instance
        check_hot_key_run(s, t, run_node_script(s, "node_hot_key.js", t, extra), one_block=extra is None)


def check_hot_key_run(s, t, result, one_block):
    answers = result["answers"]
    for i in (0, 8, 10):
        s.check(answers[i].get("affectedRows") == 1 and answers[i].get("insertId", 0) > 0,
                f"execute {i + 1} inserts a new key: {answers[i]}")
    for i in (1, 2, 3, 4, 5, 6, 7, 9):
        s.check(answers[i].get("errno") == 1062 and f"'{RULE}'" in answers[i].get("message", ""),
                f"execute {i + 1} repeats the live key: {answers[i]}, expected 1062")
    delta = {k: result["after"][k] - result["before"][k] for k in result["before"]}
    # The share of recent duplicates (each execute weighs 1/4) passes 1/2 at the third
    # duplicate, and after the new key 'cold' stays above it (0.65).
    if MODE == "dedup" and one_block:
        # Every execute is the one block, duplicate or not; the client's statement and the
        # block are prepared.
        executes, prepares = 11, 2
    elif MODE == "dedup":
        # Executes 1-4 pipeline block, execute and commit (3 each); 5-8 send the key insert
        # alone (1); 'cold' claims alone, then execute and commit (3); 'hot' again 1, 'warm' 3.
        # Without the switch: 33.
        executes = 4 * 3 + 4 * 1 + 3 + 1 + 3
        # The client's statement, the guarded key insert, the commit block, the key insert alone.
        prepares = 4
    else:
        # Execute 1: the probe and the execute (2); 2-4: the probe, the execute, which fails,
        # and the full check (3 each); 5-8: the full check (1); 'cold': the check and the
        # execute (2); 'hot' again 1; 'warm' 2. Without the switch: 30.
        executes = 2 + 3 * 3 + 4 * 1 + 2 + 1 + 2
        # The client's statement, the probe block, the full check.
        prepares = 3
    s.check(delta["Com_stmt_execute"] == executes, f"COM_STMT_EXECUTE on the session: {delta}, expected {executes}")
    s.check(delta["Com_stmt_prepare"] == prepares, f"COM_STMT_PREPARE on the session: {delta}, expected {prepares}")
    s.check_table(t, expect_keys=[("hot", "m"), ("cold", "m"), ("warm", "m")], expect_live=3)


def scenario_returning(s):
    """MariaDB's INSERT ... RETURNING as a prepared statement (node mysql2 execute): 12
    connections at once, half of them in their own transactions, insert the same 40 keys.
    Each key goes in once; every success answers with its row (binary result set) and the
    row is the one in the table; every other execute gets 1062. Then PHP mysqli
    (get_result): a new key, its case variant (1062), another new key."""
    need("node", "php")
    t = s.table("t")
    port = s.start(rule_yaml(t))[0]
    result = run_node_script(s, "node_returning.js", t, port=port)
    s.check(not result["bad"] and not result["other"],
            f"answers that are neither the new row nor 1062: {result['bad'][:3]} {result['other'][:3]}")
    s.check(len(result["inserted"]) == 40, f"{len(result['inserted'])} keys inserted, expected 40")
    s.check(result["duplicates"] == 12 * 40 - 40, f"{result['duplicates']} duplicates, expected {12 * 40 - 40}")
    with s.admin.cursor() as c:
        c.execute(f"SELECT id, name, model FROM {t.qualified} ORDER BY id")
        rows = list(c.fetchall())
    s.check(sorted(tuple(map(str, r)) for r in result["inserted"]) == sorted(tuple(map(str, r)) for r in rows),
            f"the returned rows are not the table's rows: {result['inserted'][:3]} vs {rows[:3]}")
    log = s.state / "php_returning.log"
    p = subprocess.Popen(["php", str(HERE / "php_returning.php")], env=client_env(port, t), stdout=open(log, "wb"),
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    run_procs(s, [("php_returning.php", p, log)], 60, "php_returning")
    answers = [json.loads(line) for line in log.read_text(errors="replace").splitlines() if line.startswith(("[", "{"))]
    print(answers)
    s.check(len(answers) == 3, f"php: {len(answers)} answers, expected 3")
    if len(answers) == 3:
        s.check(isinstance(answers[0], list) and len(answers[0]) == 1 and answers[0][0]["name"] == "php1",
                f"php: a new key answers its row: {answers[0]}")
        s.check(isinstance(answers[1], dict) and answers[1].get("errno") == 1062, f"php: its case variant: {answers[1]}")
        s.check(isinstance(answers[2], list) and len(answers[2]) == 1 and answers[2][0]["name"] == "php2",
                f"php: another new key answers its row: {answers[2]}")
    s.check_table(t, expect_live=42)


def scenario_temporary_table(s):
    """A session's TEMPORARY table with the rule table's name: prepared INSERTs on that name
    (one prepared before the temporary table existed, one after) go to the temporary table, which
    no rule covers: no 1062 against the rule table's live keys, no key claimed (dedup) that
    another session then cannot use. After DROP TEMPORARY TABLE the rule applies again. The
    CREATE and DROP go as text, then (a second table) as prepared statements themselves."""
    need("node")
    text_ddl, prepared_ddl = s.table("t"), s.table("p", rule="rule_prepared_ddl")
    port = s.start(rule_yaml(text_ddl) + rule_yaml(prepared_ddl))[0]
    check_temporary_table(s, port, text_ddl, ddl_prepared=False)
    check_temporary_table(s, port, prepared_ddl, ddl_prepared=True)


def check_temporary_table(s, port, t, ddl_prepared):
    result = run_node_script(s, "node_temporary_table.js", t, port=port,
                             extra={"UG_DDL_PREPARED": "1" if ddl_prepared else "0"})
    answers = dict((label, answer) for label, answer in result["answers"])
    print(answers)
    ok = {"affectedRows": 1}
    expected = {
        "a: live (k, m)": ok, "a: create the temporary table": {"affectedRows": 0},
        "a: (k, m) into it, prepared before it existed": ok, "a: (t, m) into it": ok,
        "a: (t, m) again, prepared after it existed": ok, "b: (t, m) into the rule table": ok,
        "b: (k, m) into the rule table": 1062, "a: drop the temporary table": {"affectedRows": 0},
        "a: (t, m) into the rule table": 1062, "a: (v, m) into the rule table": ok,
    }
    ddl = "prepared DDL" if ddl_prepared else "text DDL"
    for label, want in expected.items():
        got = answers.get(label, {})
        if want == 1062:
            s.check(got.get("errno") == 1062, f"{ddl}: {label}: {got}, expected 1062")
        else:
            s.check(got == want, f"{ddl}: {label}: {got}, expected {want}")
    s.check_table(t, expect_keys=[("k", "m"), ("t", "m"), ("v", "m")], expect_live=3, label=ddl)


def scenario_key_moves(s):
    """12 node mysql2 connections at once run prepared INSERTs, soft deletes, un-deletes, renames,
    DELETEs and INSERT ... ON DUPLICATE KEY UPDATEs over 8 keys (two of them one key under the collation), all in autocommit: zero
    live duplicates, in dedup mode a dedup table equal to the live keys, and only the answers
    MariaDB itself gives with a unique index: 1062 for a key that is taken, and InnoDB's own
    1213 for the statements that free keys (uniqgate sends those as they came; an autocommit
    DELETE by a secondary key can deadlock with an UPDATE by primary key on any server) and for
    concurrent upserts of one key (InnoDB deadlocks those with a unique index as well). The
    statements that make keys live run in transactions of uniqgate's, which it runs again after
    a deadlock (8 times): at most 2 of those may still answer 1213. Never 1205: a wait cycle
    across InnoDB's and uniqgate's locks would show as one."""
    need("node")
    t = s.table("t")
    tally = run_node_script(s, "node_key_moves.js", t, {"UG_SEED": str(s.seed)})
    print(f"[{s.name}] ok {tally['ok']}, errors {tally['errors']}")
    # InnoDB itself deadlocks concurrent INSERT ... ON DUPLICATE KEY UPDATEs of one key (with a
    # unique index too); uniqgate runs them again in its transaction 8 times, and the text path
    # surfaced 1-7 per run here as well.
    native = {"1213 soft_delete", "1213 delete", "1213 upsert"}
    retried = {"1213 undelete", "1213 rename", "1213 insert"}
    unexpected = {code: n for code, n in tally["errors"].items()
                  if not code.startswith("1062 ") and code not in native and code not in retried}
    s.check(not unexpected, f"unexpected answers: {unexpected}: {tally['messages']}")
    exhausted = sum(n for code, n in tally["errors"].items() if code in retried)
    s.check(exhausted <= 2, f"{exhausted} deadlocks answered after uniqgate's retries: {tally['messages']}")
    duplicates = sum(n for code, n in tally["errors"].items() if code.startswith("1062 "))
    s.check(tally["ok"] > 100 and duplicates > 10, f"the keys did not move and collide enough to test anything: {tally}")
    s.check_table(t)


def scenario_binary_keys(s):
    """A rule key with a VARBINARY column holding bytes that are no valid UTF-8: prepared
    INSERTs, soft deletes, un-deletes and renames by id compare the bytes as stored (0xFFFE and
    0xFFFD differ, although both read as '?' once converted to a character set): the un-delete
    the rename onto a live key and an INSERT of the renamed row's key answer 1062, the others go
    through. The same statements as text, too."""
    need("node")
    t = s.table("t")
    with s.admin.cursor() as c:
        c.execute(f"ALTER TABLE {t.qualified} MODIFY model VARBINARY(100) NOT NULL")
    expected = [1, 1, 1, 1062, 1, 1, 1, 1062, 1, 1062]  # the last: row 3 holds (b, FFFD) now
    for protocol in ("prepared", "text"):
        if protocol == "text":
            with s.admin.cursor() as c:
                c.execute(f"DELETE FROM {t.qualified}")
                if MODE == "dedup":
                    c.execute(f"DELETE FROM {t.dedup_qualified}")
        extra = {"UG_TEXT": "1"} if protocol == "text" else None
        answers = run_node_script(s, "node_binary_keys.js", t, extra)["answers"]
        for i, want in enumerate(expected):
            got = answers[i].get("errno", 0) if want == 1062 else answers[i].get("affectedRows")
            s.check(got == want, f"{protocol}, step {i + 1}: {answers[i]}, expected "
                    f"{'1062' if want == 1062 else 'affectedRows 1'}")
        s.check("'a-\\xFF\\xFE'" in answers[3].get("message", ""),
                f"{protocol}: the bytes as MariaDB prints them: {answers[3]}")
        s.check_table(t, expect_live=2, label=protocol)


def scenario_plan_after_ddl(s):
    """A prepared INSERT without a column list, executed again after an ALTER TABLE sent through
    uniqgate moved a column in front of the key columns: the key comes from the new positions
    (free, then 1062 for both keys), although uniqgate keeps the statement's plan between executes."""
    need("node")
    t = s.table("t", id_sql="BIGINT")
    answers = run_node_script(s, "node_plan_after_ddl.js", t)["answers"]
    expected = [1, 1, 1062, 1062]
    for i, want in enumerate(expected):
        got = answers[i].get("errno", 0) if want == 1062 else answers[i].get("affectedRows")
        s.check(got == want, f"step {i + 1}: {answers[i]}, expected {'1062' if want == 1062 else 'affectedRows 1'}")
    s.check("'k-a'" in answers[2].get("message", "") and "'k-b'" in answers[3].get("message", ""),
            f"the duplicates after the ALTER are (k, a) and (k, b): {answers[2:]}")
    s.check_table(t, expect_keys=[("k", "a"), ("k", "b")], expect_live=2)


def scenario_bulk_indicators(s):
    """MariaDB Connector/C array binding (COM_STMT_BULK_EXECUTE) with DEFAULT indicators: a bulk
    INSERT enforced as one multi-row INSERT, its key column `model` (default 'd') left to the default
    in some rows; bulk UPDATEs and two-row INSERTs row by row, DEFAULT for `price` or `model`. All of
    it bound (the session counts the proxy's executes); a live key answers 1062 and undoes its batch."""
    client = os.environ.get("UG_BULK_CLIENT", "")
    if not client or not os.access(client, os.X_OK):
        print("SKIP: no UG_BULK_CLIENT (built by CMake as it_bulk_indicators_client)")
        sys.exit(77)
    t = s.table("t", id_sql="BIGINT")
    with s.admin.cursor() as c:
        c.execute(f"ALTER TABLE {t.qualified} ALTER COLUMN model SET DEFAULT 'd'")
    port = s.start(rule_yaml(t))[0]
    log = s.state / "bulk_indicators.log"
    p = subprocess.Popen([client], env=client_env(port, t), stdout=open(log, "wb"), stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL)
    run_procs(s, [("bulk_indicators_client", p, log)], 60, "bulk_indicators")
    text = log.read_text(errors="replace")
    print(text)
    results = dict(ln.split(": ", 1) for ln in text.splitlines() if ": " in ln)
    executes = {"serialize": (2, 3, 5, 5, 3, 5, 5, 0, 1, 0), "dedup": (3, 3, 8, 8, 4, 8, 8, 0, 1, 0)}[MODE]  # as text: 0
    expected = [("insert", "ok 3"), ("insert onto a live key", "error 1062 Duplicate entry 'b-d'"),
                ("update with a default", "ok 2"), ("update onto a live key", "error 1062 Duplicate entry 'x-n'"),
                ("two-row inserts", "ok 4"), ("key to its default", "ok 2"),
                ("key onto a live default", "error 1062 Duplicate entry 'b-d'"),
                # DEFAULT where SQL has none (a WHERE value): the server's refusal of the statement
                # the proxy prepares, and the session goes on (MariaDB itself matches no row)
                ("default in a condition", "error 1064"), ("after the refusal", "ok 1"),
                # its answer would be rows: refused, the session goes on
                ("insert returning", "error 1235 uniqgate: bulk execution of a prepared INSERT ... RETURNING")]
    for (batch, answer), count in zip(expected, executes):
        got = results.get(batch, "")
        s.check(got.startswith(answer), f"{batch}: {got!r}, expected {answer!r}...")
        s.check(got.endswith(f"; executes {count}"), f"{batch}: {got!r}, expected {count} executes of the proxy's")
    s.check_table(t, expect_keys=[("a", "n"), ("b", "d"), ("c", "n"), ("f", "d"), ("g", "d"), ("h", "d"), ("i", "d")],
                  expect_live=7)


def scenario_replace_bound(s):
    """Prepared REPLACEs (a new key, a live key's case variant, through the primary key, both at
    once, in autocommit and in the client's transaction, one the server refuses) answer exactly
    what the same statements answer as text and leave the same rows; what the proxy sends for
    them binds the values (the session's COM_STMT_* counters show its own statements)."""
    need("node")
    t = s.table("t", id_sql="BIGINT")
    text_table = s.table("text", id_sql="BIGINT", rule=f"{RULE}_text")
    rules = rule_yaml(t) + rule_yaml(text_table)
    prepared = run_node_script(s, "node_replaces.js", t, rules=rules)
    text = run_node_script(s, "node_replaces.js", text_table, {"UG_TEXT": "1"}, rules=rules)
    expected = [1, 2, 1, 2, 3, 1, 2, 1264, 2]
    for i, want in enumerate(expected):
        got = prepared["answers"][i]
        s.check((got.get("errno") if want > 1000 else got.get("affectedRows")) == want,
                f"REPLACE {i + 1}: {got}, expected {want}")
        s.check(got == text["answers"][i], f"REPLACE {i + 1}: prepared {got}, as text {text['answers'][i]}")
    s.check(prepared["rows"] == text["rows"], f"rows after: prepared {prepared['rows']}, as text {text['rows']}")
    delta = {k: prepared["after"][k] - prepared["before"][k] for k in prepared["before"]}
    print(f"[{s.name}] session counters: {delta}")
    if MODE == "serialize":
        # In autocommit each REPLACE: the proxy's bound existence check, then without a live
        # holder (REPLACEs 1, 3, 4, 8) the client's own execute, with one (2, 5, 9) the guarded
        # block that deletes it, the client's execute and the block that commits: 4 * 2 + 3 * 4.
        # In the transaction the committed read is the control connection's; REPLACE 6 then runs
        # the client's execute, REPLACE 7 the session's own-view read, the locking read of the
        # holder, the guarded deletion and the client's execute: 1 + 4. The text path: 14.
        # Prepared: the client's statement, the check, the own-view and locking reads, the
        # deletion (autocommit and transaction forms) and the commit block.
        s.check(delta["Com_stmt_execute"] == 25, f"COM_STMT_EXECUTE on the session: {delta}, expected 25")
        s.check(delta["Com_stmt_prepare"] == 7, f"COM_STMT_PREPARE on the session: {delta}, expected 7")
    else:
        # Each REPLACE: the key claimed (or locked) in the dedup table, the rows with its primary
        # key and those holding its key read (3); when there are such rows (REPLACEs 2, 4, 5, 7, 9)
        # a guarded block that moves the dedup keys and one that deletes them (2); the client's
        # own execute (1); in autocommit the block that commits (1). 5 + 7 + 5 + 7 + 7 + 4 + 6 + 5
        # + 7 = 53; the text path: 0. Prepared: the client's statement, the claim, the read by
        # primary key, the read of holders (plain and FOR UPDATE), the commit block, and the
        # two blocks for one and for two doomed rows in autocommit and for one in the
        # transaction (6).
        s.check(delta["Com_stmt_execute"] == 53, f"COM_STMT_EXECUTE on the session: {delta}, expected 53")
        s.check(delta["Com_stmt_prepare"] == 12, f"COM_STMT_PREPARE on the session: {delta}, expected 12")
    s.check_table(t, expect_live=2)
    s.check_table(text_table, expect_live=2)


def scenario_blocks_refused(s):
    """A session whose server refuses uniqgate's statement blocks (sql_mode=ORACLE has no
    BEGIN NOT ATOMIC) still has its prepared INSERTs and UPDATEs protected, without them (node)."""
    need("node")
    t = s.table("t")
    answers = run_node_script(s, "node_blocks_refused.js", t)
    s.check(answers[0] == {"affectedRows": 1} and answers[2] == {"affectedRows": 1},
            f"new keys not inserted: {answers}")
    s.check(answers[1].get("errno") == 1062 and f"'{RULE}'" in answers[1].get("message", ""),
            f"a case and trailing-space variant of a live key: {answers[1]}, expected 1062")
    s.check(answers[3:] == [{"affectedRows": 1}, {"affectedRows": 1}],
            f"a soft delete, then a rename onto the key it freed: {answers[3:]}")
    s.check_table(t, expect_keys=[("other", "m")], expect_live=1)


def scenario_last_prepared(s):
    """Statement id 0xFFFFFFFF means the statement the client prepared last, also after the proxy
    prepared statements of its own on the connection (a raw-protocol client)."""
    t = s.table("t")
    port = s.start(rule_yaml(t))[0]
    out = subprocess.run([sys.executable, str(HERE / "last_prepared_client.py"), "127.0.0.1", str(port), "app",
                          "app_pw", "shop", t.name], capture_output=True, text=True, timeout=60)
    print(out.stdout + out.stderr)
    s.check(out.returncode == 0, f"the raw client failed ({out.returncode})")
    if out.returncode != 0:
        return
    answers = json.loads(out.stdout.strip().splitlines()[-1])
    expected = {
        "insert by id": {"ok": 1},
        "last prepared = the SELECT": {"rows": ["2a00000000000000"]},  # 41 + 1 as BIGINT
        "last prepared = the INSERT again": {"ok": 1},
    }
    for label, want in expected.items():
        s.check(answers.get(label) == want, f"{label}: {answers.get(label)}, expected {want}")
    dup = answers.get("last prepared, a live key", {})
    s.check(dup.get("error") == 1062 and f"'{RULE}'" in dup.get("message", ""),
            f"last prepared, a live key: {dup}, expected 1062 naming the rule")
    s.check_table(t, expect_keys=[("lp_a", "m"), ("lp_b", "m")], expect_live=2)


SCENARIOS = {
    "php": scenario_php,
    "node": scenario_node,
    "java": scenario_java,
    "java_bulk": scenario_java_bulk,
    "sysbench": scenario_sysbench,
    "equivalence": scenario_equivalence,
    "returning": scenario_returning,
    "temporary_table": scenario_temporary_table,
    "own_reads_bound": scenario_own_reads_bound,
    "own_writes_bound": scenario_own_writes_bound,
    "key_moves": scenario_key_moves,
    "binary_keys": scenario_binary_keys,
    "replace_bound": scenario_replace_bound,
    "plan_after_ddl": scenario_plan_after_ddl,
    "bulk_indicators": scenario_bulk_indicators,
    "multi_row_upserts_bound": scenario_multi_row_upserts_bound,
    "long_data_bound": scenario_long_data_bound,
    "own_upserts_bound": scenario_own_upserts_bound,
    "hot_key_bound": scenario_hot_key_bound,
    "last_prepared": scenario_last_prepared,
    "blocks_refused": scenario_blocks_refused,
}


if __name__ == "__main__":
    # Own tables and state per mode: both may run at once.
    sys.exit(run_main(__doc__, SCENARIOS, lambda name: f"ps_{name}_{MODE}"))
