"""Shared helpers of the `mode: serialize` end-to-end tests (see README.md).

What the clients connect to is chosen by UG_SERIALIZE_TARGET:
    uniqgate   (default) uniqgate instances started by the test, with the test's rules
    reference  MariaDB directly, the table carrying a real unique index over live rows
               (a generated column IF(live, 1, NULL) next to the key columns): validates that
               the tests expect exactly what a unique index does
    direct     MariaDB directly, no protection: the tests must fail (duplicates appear)
Scenarios that only make sense with uniqgate (observe logs, INSERT ... SELECT errors) exit with
SKIP (77) for reference/direct.
"""
import collections
import ctypes
import os
import random
import re
import signal
import struct
import subprocess
import sys
import threading
import time
import traceback
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "harness"))
import ug  # noqa: E402
import pymysql  # noqa: E402

HOST = "127.0.0.1"
RULE = "product_name_model"
TARGET = os.environ.get("UG_SERIALIZE_TARGET", "uniqgate").strip() or "uniqgate"
# The mode the scenarios' rules use: serialize (default) or dedup. In dedup mode every rule table
# gets its dedup table (as `uniqgate migrate` makes it) before the proxies start, and each check
# of a table also checks that its dedup table holds exactly the live keys.
MODE = os.environ.get("UG_RULE_MODE", "serialize").strip() or "serialize"
DEDUP = MODE == "dedup" and TARGET == "uniqgate"
SKIP = 77
LOCK_TIMEOUT_MS = 5000
ALLOWED_CONTENTION = {1062, 1205, 1213}

# ------------------------------------------------------------------ SQLSTATE for PyMySQL errors
# PyMySQL drops the SQLSTATE of an ERR packet; keep it on the exception (e.sqlstate).
_raise_mysql_exception = pymysql.err.raise_mysql_exception


def _raise_with_sqlstate(data):
    state = data[4:9].decode("ascii", "replace") if data[3:4] == b"#" else None
    try:
        _raise_mysql_exception(data)
    except pymysql.err.MySQLError as e:
        e.sqlstate = state
        raise


pymysql.err.raise_mysql_exception = _raise_with_sqlstate


def err_code(e) -> int:
    return e.args[0] if e.args and isinstance(e.args[0], int) else -1


def err_text(e) -> str:
    return str(e.args[1]) if len(e.args) > 1 else str(e)


# ------------------------------------------------------------------ tables

class Table:
    """A rule table in schema `shop`. soft = 'status' (delete_status, live 0) or 'deleted_at'
    (live while NULL). name is utf8mb4_general_ci; model uses model_collation. id_sql is the
    primary key's type: AUTO_INCREMENT by default, or an application-generated id
    (e.g. "BIGINT", "CHAR(36) CHARACTER SET ascii" for UUIDs)."""

    def __init__(self, name: str, soft: str = "status", model_collation: str = "utf8mb4_general_ci",
                 rule: str = RULE, id_sql: str = "BIGINT AUTO_INCREMENT"):
        self.name, self.soft, self.model_collation, self.rule = name, soft, model_collation, rule
        self.id_sql = id_sql
        self.qualified = f"shop.{name}"

    @property
    def live_sql(self) -> str:
        return "delete_status = 0" if self.soft == "status" else "deleted_at IS NULL"

    @property
    def dead_set_sql(self) -> str:
        # A literal: the usual `deleted_at = NOW()` is checked on its own (soft_delete_reinsert_*).
        return "delete_status = 1" if self.soft == "status" else "deleted_at = '2001-02-03 04:05:06'"

    @property
    def soft_rule_yaml(self) -> str:
        if self.soft == "status":
            return "{ column: delete_status, live: 0 }"
        return "{ column: deleted_at, live: null }"

    def create(self, admin) -> None:
        soft_col = ("delete_status TINYINT NOT NULL DEFAULT 0" if self.soft == "status"
                    else "deleted_at DATETIME NULL")
        reference = ""
        if TARGET == "reference":
            live = "delete_status = 0" if self.soft == "status" else "deleted_at IS NULL"
            reference = (f", live_flag TINYINT AS (IF({live}, 1, NULL)) STORED"
                         f", UNIQUE KEY `{self.rule}` (name, model, live_flag)")
        with admin.cursor() as c:
            c.execute(f"DROP TABLE IF EXISTS {self.qualified}")
            c.execute(f"DROP TABLE IF EXISTS {self.dedup_qualified}")
            c.execute(f"""CREATE TABLE {self.qualified} (
                id {self.id_sql} PRIMARY KEY,
                name VARCHAR(100) COLLATE utf8mb4_general_ci NOT NULL,
                model VARCHAR(100) COLLATE {self.model_collation} NOT NULL,
                price INT,
                note VARCHAR(50) NULL,
                {soft_col},
                KEY k_name_model (name, model){reference}
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci""")

    # The values for `INSERT INTO t VALUES (...)` without a column list.
    def positional_tail(self) -> str:
        return "NULL, 0" if self.soft == "status" else "NULL, NULL"

    def live_duplicates(self, admin) -> list:
        with admin.cursor() as c:
            c.execute(f"SELECT name, model, COUNT(*) FROM {self.qualified} WHERE {self.live_sql} "
                      "GROUP BY name, model HAVING COUNT(*) > 1 ORDER BY name, model")
            return list(c.fetchall())

    def live_count(self, admin) -> int:
        return scalar(admin, f"SELECT COUNT(*) FROM {self.qualified} WHERE {self.live_sql}")

    def total_count(self, admin) -> int:
        return scalar(admin, f"SELECT COUNT(*) FROM {self.qualified}")

    def live_rows(self, admin, name, model) -> list:
        with admin.cursor() as c:
            c.execute(f"SELECT id, name, model, price, note FROM {self.qualified} "
                      f"WHERE name = %s AND model = %s AND {self.live_sql} ORDER BY id", (name, model))
            return list(c.fetchall())

    @property
    def dedup_qualified(self) -> str:
        return f"shop.{self.name}__uniq"

    def dedup_drift(self, admin) -> tuple:
        """(live keys missing from the dedup table, dedup keys with no live row)."""
        missing = scalar(admin, f"SELECT COUNT(*) FROM {self.qualified} AS s WHERE {self.live_sql} AND NOT EXISTS "
                                f"(SELECT 1 FROM {self.dedup_qualified} AS d WHERE d.name = s.name AND d.model = s.model)")
        extra = scalar(admin, f"SELECT COUNT(*) FROM {self.dedup_qualified} AS d WHERE NOT EXISTS (SELECT 1 FROM "
                              f"{self.qualified} AS s WHERE s.name = d.name AND s.model = d.model AND {self.live_sql})")
        return int(missing), int(extra)

    def live_keys(self, admin) -> set:
        """Live keys, folded like the collation does (see fold())."""
        with admin.cursor() as c:
            c.execute(f"SELECT name, model FROM {self.qualified} WHERE {self.live_sql}")
            return {(fold(n), fold_model(m, self.model_collation)) for n, m in c.fetchall()}


def fold(s: str) -> str:
    """Approximates utf8mb4_general_ci equality for the test data: case, accents, PAD SPACE."""
    s = unicodedata.normalize("NFD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return s.lower().rstrip(" ")


def fold_model(s: str, collation: str) -> str:
    return s.rstrip(" ") if collation.endswith("_bin") else fold(s)


def scalar(conn, sql, args=None):
    with conn.cursor() as c:
        c.execute(sql, args)
        row = c.fetchone()
        return row[0] if row else None


# ------------------------------------------------------------------ duplicate error checks

DUP_RE = re.compile(r"^Duplicate entry '(.*)' for key '(.*)'$", re.S)


def dup_error_problem(e, name, model, rule=RULE, exact=True, collation="utf8mb4_general_ci"):
    """None if e is the duplicate error a unique index named `rule` would give for (name, model),
    else a description of what is wrong. exact: the entry must spell the inserted values;
    otherwise any spelling the collation calls equal is fine (MySQL may show either row)."""
    problems = []
    if err_code(e) != 1062:
        return f"code {err_code(e)} instead of 1062: {err_text(e)}"
    if getattr(e, "sqlstate", None) != "23000":
        problems.append(f"SQLSTATE {getattr(e, 'sqlstate', None)} instead of 23000")
    if not isinstance(e, pymysql.err.IntegrityError):
        problems.append(f"PyMySQL raised {type(e).__name__}, not IntegrityError")
    m = DUP_RE.match(err_text(e))
    if not m:
        problems.append(f"message {err_text(e)!r} is not MySQL's duplicate-entry text")
    else:
        entry, key = m.group(1), m.group(2)
        if key != rule:
            problems.append(f"key {key!r} instead of {rule!r}")
        if TARGET == "reference" and entry.endswith("-1"):
            entry = entry[:-2]  # the generated live_flag column of the reference index
        if exact:
            if entry != f"{name}-{model}":
                problems.append(f"entry {entry!r} instead of {name + '-' + model!r}")
        else:
            got = tuple(entry.rsplit("-", 1)) if "-" in entry else (entry, "")
            if (fold(got[0]), fold_model(got[1], collation)) != (fold(name), fold_model(model, collation)):
                problems.append(f"entry {entry!r} does not name the key {name!r}-{model!r}")
    return "; ".join(problems) or None


# ------------------------------------------------------------------ connections

def connect(port: int, autocommit=True, isolation=None, read_timeout=20, client_flag=0):
    """client_flag: extra capability flags, e.g. pymysql.constants.CLIENT.MULTI_STATEMENTS."""
    conn = pymysql.connect(host=HOST, port=port, user="app", password="app_pw", database="shop",
                           autocommit=autocommit, charset="utf8mb4", connect_timeout=10,
                           read_timeout=read_timeout, write_timeout=read_timeout, client_flag=client_flag)
    if isolation:
        with conn.cursor() as c:
            c.execute(f"SET SESSION TRANSACTION ISOLATION LEVEL {isolation}")
    return conn


def try_execute(conn, sql, args=None):
    """(cursor-like result, error): runs one statement, returns (rowcount, lastrowid), exc."""
    try:
        with conn.cursor() as c:
            c.execute(sql, args)
            return (c.rowcount, c.lastrowid), None
    except pymysql.err.MySQLError as e:
        return None, e


def abort_socket(conn) -> None:
    """Drop a PyMySQL connection without COM_QUIT, like a crashed client."""
    import socket as socketmod
    sock = conn._sock
    if sock is None:
        return
    # shutdown() ends the TCP stream even though PyMySQL's makefile() still holds the descriptor;
    # linger 0 turns the final close into a reset, as when a client process is killed.
    for action in (lambda: sock.setsockopt(socketmod.SOL_SOCKET, socketmod.SO_LINGER, struct.pack("ii", 1, 0)),
                   lambda: sock.shutdown(socketmod.SHUT_RDWR),
                   lambda: conn._rfile.close(),
                   sock.close):
        try:
            action()
        except (OSError, AttributeError):
            pass


def close_quietly(conn) -> None:
    try:
        conn.close()
    except Exception:
        pass


class Step:
    """Runs one statement in a background thread so the test can tell 'blocked' from 'done'."""

    def __init__(self, conn, sql, args=None):
        self.result = self.error = None
        self.done = threading.Event()
        self.started = time.monotonic()
        self.elapsed = None

        def run():
            try:
                self.result, self.error = try_execute(conn, sql, args)
            except Exception as e:  # a dropped socket surfaces as a non-MySQL error too
                self.error = e
            self.elapsed = time.monotonic() - self.started
            self.done.set()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def wait(self, timeout) -> bool:
        return self.done.wait(timeout)


# ------------------------------------------------------------------ uniqgate instances

def rule_yaml(table: Table, mode=None, on_duplicate="error", unsupported=None) -> str:
    mode = mode or MODE
    extra = f", unsupported: {unsupported}" if unsupported else ""
    return (f"  - {{ name: {table.rule}, table: {table.qualified}, key: [name, model], "
            f"soft_delete: {table.soft_rule_yaml}, mode: {mode}, on_duplicate: {on_duplicate}{extra} }}\n")


def _die_with_parent():
    # Our uniqgate must not outlive a test that CTest killed on timeout.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Uniqgate:
    def __init__(self, folder: Path, db_port: int, rules: str, lock_backend="local", backend_tls="disabled"):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        binary = os.environ.get("UG_SERIALIZE_BIN") or os.environ.get("UG_PROXY_BIN", "")
        if not binary or not os.access(binary, os.X_OK):
            raise RuntimeError(f"uniqgate binary not found ({binary or 'UG_PROXY_BIN unset'})")
        self.port, self.admin_port = ug.free_port(), ug.free_port()
        self.config = folder / "uniqgate.yaml"
        self.config.write_text(
            f"listen: {HOST}:{self.port}\n"
            f"backend: {{ host: {HOST}, port: {db_port} }}\n"
            "client_tls: { mode: disabled }\n"
            f"backend_tls: {{ mode: {backend_tls} }}\n"
            f"admin: {{ listen: {HOST}:{self.admin_port} }}\n"
            "control: { user: uniqgate, password: uniqgate_pw }\n"
            f"lock: {{ backend: {lock_backend}, timeout_ms: {LOCK_TIMEOUT_MS} }}\n"
            "rules:\n" + rules)
        self.log = folder / "uniqgate.log"
        self.stopped_on_purpose = False  # a scenario that stops it itself sets this
        with open(self.log, "wb") as logf:
            self.proc = subprocess.Popen([binary, "--config", str(self.config)], stdin=subprocess.DEVNULL,
                                         stdout=logf, stderr=logf, start_new_session=True,
                                         preexec_fn=_die_with_parent)
        if not ug.wait_port(self.port, 20, alive=lambda: self.proc.poll() is None):
            code = self.proc.poll()
            self.stop()
            raise RuntimeError(f"uniqgate did not listen on {self.port} (exit {code})\n"
                               + ug.log_tail(self.log))

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)  # its own session: only our process
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
            except ProcessLookupError:
                pass

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""


# ------------------------------------------------------------------ a scenario run

class Tally:
    """Thread-safe counts of what the clients saw."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statements = 0
        self.ok = 0
        self.errors = collections.Counter()
        self.problems = []      # wrong answers (first ones kept)
        self.problem_count = 0

    def stmt(self, ok=True, code=None):
        with self.lock:
            self.statements += 1
            if ok:
                self.ok += 1
            else:
                self.errors[code] += 1

    def problem(self, text):
        with self.lock:
            self.problem_count += 1
            if len(self.problems) < 12:
                self.problems.append(text)

    def errors_text(self) -> str:
        return ", ".join(f"{k}: {v}" for k, v in sorted(self.errors.items(), key=lambda kv: str(kv[0]))) or "none"


class Scenario:
    """One test: owns the uniqgate instances, the admin (direct) connection and the verdict."""

    def __init__(self, name: str):
        self.name = name
        self.failures = []
        self.notes = []
        self.proxies = []
        self.t0 = time.monotonic()
        env = ug.test_env()
        if "UG_DIRECT_PORT" not in env:
            print(f"[{name}] the MariaDB fixture is not running (UG_DIRECT_PORT unknown)")
            sys.exit(1)
        self.db_port = int(env["UG_DIRECT_PORT"])
        # Per mode: the same scenario may run in both modes at once (ctest -j).
        self.state = Path(env["UG_IT_STATE"]) / MODE / name
        self.state.mkdir(parents=True, exist_ok=True)
        self.admin = connect(self.db_port)
        self.seed = int(os.environ.get("UG_SERIALIZE_SEED", "0")) or random.randrange(1, 1 << 30)
        random.seed(self.seed)
        self.tables = []
        self.saved_lock_wait = None
        if DEDUP:
            # The dedup table's index makes InnoDB the one that waits: bound it like lock.timeout_ms.
            self.saved_lock_wait = scalar(self.admin, "SELECT @@GLOBAL.innodb_lock_wait_timeout")
            with self.admin.cursor() as c:
                c.execute(f"SET GLOBAL innodb_lock_wait_timeout = {LOCK_TIMEOUT_MS // 1000}")
        print(f"[{name}] target: {TARGET}, mode {MODE}, seed {self.seed} (UG_SERIALIZE_SEED to repeat)")
        signal.signal(signal.SIGTERM, self._on_sigterm)

    def _on_sigterm(self, signum, frame):
        for p in self.proxies:
            p.stop()
        os._exit(1)

    def skip_unless_uniqgate(self, why: str) -> None:
        if TARGET != "uniqgate":
            print(f"[{self.name}] SKIP: {why} (target {TARGET})")
            sys.exit(SKIP)

    def table(self, suffix: str, **kw) -> Table:
        prefix = "dd" if DEDUP else "ser"
        t = Table(f"{prefix}_{self.name}_{suffix}"[:56], **kw)
        t.create(self.admin)
        self.tables.append(t)
        return t

    def start(self, rules: str, lock_backend="local", count=1, backend_tls="disabled") -> list:
        """Ports the clients use: `count` uniqgate instances, or MariaDB itself."""
        if TARGET != "uniqgate":
            return [self.db_port] * count
        if DEDUP and not self.proxies:
            self.migrate(rules)
        ports = []
        for i in range(count):
            p = Uniqgate(self.state / f"proxy{i}", self.db_port, rules, lock_backend, backend_tls)
            self.proxies.append(p)
            ports.append(p.port)
        return ports

    def migrate(self, rules: str) -> None:
        """`uniqgate migrate` for the rules: dedup tables created and filled from the live rows."""
        folder = self.state / "migrate"
        folder.mkdir(parents=True, exist_ok=True)
        config = folder / "uniqgate.yaml"
        config.write_text(f"backend: {{ host: {HOST}, port: {self.db_port} }}\n"
                          "control: { user: uniqgate, password: uniqgate_pw }\nrules:\n" + rules)
        binary = os.environ.get("UG_SERIALIZE_BIN") or os.environ.get("UG_PROXY_BIN", "")
        done = subprocess.run([binary, "migrate", "--config", str(config)], capture_output=True, text=True,
                              timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"uniqgate migrate failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")

    def check(self, cond, text) -> bool:
        if not cond:
            self.failures.append(text)
        return bool(cond)

    def note(self, text) -> None:
        self.notes.append(text)
        print(f"[{self.name}] {text}")

    def check_table(self, table: Table, expect_keys=None, expect_live=None, label="") -> None:
        """The database verdict: no live duplicates; expected keys present; live row count."""
        dups = table.live_duplicates(self.admin)
        live = table.live_count(self.admin)
        tag = f"{label}: " if label else ""
        self.note(f"{tag}{table.qualified}: {live} live rows, {len(dups)} duplicated live keys")
        self.check(not dups, f"{tag}{len(dups)} live duplicate key(s) in {table.qualified}, e.g. "
                   + ", ".join(f"{n!r}-{m!r} x{c}" for n, m, c in dups[:5]))
        if expect_keys is not None:
            have = table.live_keys(self.admin)
            want = {(fold(n), fold_model(m, table.model_collation)) for n, m in expect_keys}
            missing = want - have
            self.check(not missing, f"{tag}{len(missing)} expected key(s) not live in {table.qualified}, "
                       f"e.g. {sorted(missing)[:5]}")
        if expect_live is not None:
            self.check(live == expect_live, f"{tag}{live} live rows in {table.qualified}, expected {expect_live}")
        if DEDUP:
            missing, extra = table.dedup_drift(self.admin)
            self.check(missing == 0 and extra == 0, f"{tag}dedup table {table.dedup_qualified} drifted: {missing} "
                       f"live key(s) missing, {extra} key(s) without a live row")

    def check_tally(self, tally: Tally, allowed_codes, label="") -> None:
        tag = f"{label}: " if label else ""
        print(f"[{self.name}] {tag}statements {tally.statements}, ok {tally.ok}, errors by code: "
              f"{tally.errors_text()}")
        unexpected = {k: v for k, v in tally.errors.items() if k not in allowed_codes}
        self.check(not unexpected, f"{tag}unexpected errors {unexpected} (allowed: {sorted(allowed_codes)})")
        self.check(tally.problem_count == 0, f"{tag}{tally.problem_count} wrong answer(s): "
                   + " | ".join(tally.problems))

    def run_clients(self, count: int, worker, budget_s: float, label="") -> None:
        """worker(i, deadline) in `count` threads started together; all must end by the deadline."""
        barrier = threading.Barrier(count)
        crashed = []
        deadline = time.monotonic() + budget_s

        def body(i):
            try:
                worker(i, barrier, deadline)
            except Exception as e:  # noqa: BLE001 - report any client crash
                crashed.append(f"client {i}: {type(e).__name__}: {e}")
                barrier.abort()

        threads = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(count)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(max(0.1, deadline + 15 - time.monotonic()))
        hung = sum(t.is_alive() for t in threads)
        tag = f"{label}: " if label else ""
        print(f"[{self.name}] {tag}{count} clients done in {time.monotonic() - t0:.1f} s")
        self.check(hung == 0, f"{tag}{hung} client(s) still blocked {budget_s + 15:.0f} s after start")
        self.check(not crashed, f"{tag}client crashes: " + " | ".join(crashed[:5]))
        self.check(time.monotonic() <= deadline + 1,
                   f"{tag}clients needed more than the {budget_s:.0f} s budget (stalls?)")

    def write_behind_proxy(self, sql: str, args=None) -> None:
        """A write 'from elsewhere' after the proxies started. In dedup mode every write must go
        through uniqgate (that is the mode's contract), so it does; otherwise it goes direct."""
        conn = connect(self.proxies[0].port) if DEDUP and self.proxies else self.admin
        try:
            with conn.cursor() as c:
                c.execute(sql, args)
        finally:
            if conn is not self.admin:
                close_quietly(conn)

    def finish(self) -> int:
        if self.saved_lock_wait is not None:
            with self.admin.cursor() as c:
                c.execute(f"SET GLOBAL innodb_lock_wait_timeout = {int(self.saved_lock_wait)}")
        for p in self.proxies:
            self.check(p.alive() or p.stopped_on_purpose, f"uniqgate on port {p.port} died (exit {p.proc.poll()})")
        for p in self.proxies:
            p.stop()
        close_quietly(self.admin)
        dt = time.monotonic() - self.t0
        if self.failures:
            print(f"[{self.name}] FAILED after {dt:.1f} s (target {TARGET}, seed {self.seed}):")
            for f in self.failures:
                print(f"  - {f}")
            for p in self.proxies:
                print(f"--- uniqgate log tail ({p.log}) ---")
                print(ug.log_tail(p.log, 25))
            return 1
        print(f"[{self.name}] OK after {dt:.1f} s")
        return 0


# ------------------------------------------------------------------ the scenario scripts' main()

def run_main(doc: str, scenarios: dict, scenario_name=lambda name: name) -> int:
    """`script SCENARIO` runs one scenario (exit 0 pass, 1 fail, 77 skip); `script list` lists them."""
    if len(sys.argv) != 2 or sys.argv[1] not in scenarios and sys.argv[1] != "list":
        print(doc + "\nscenarios: " + " ".join(scenarios), file=sys.stderr)
        return 2
    if sys.argv[1] == "list":
        for name, fn in scenarios.items():
            print(f"{name}: {fn.__doc__.strip()}")
        return 0
    s = Scenario(scenario_name(sys.argv[1]))
    try:
        scenarios[sys.argv[1]](s)
    except SystemExit:
        for p in s.proxies:
            p.stop()
        raise
    except Exception:  # noqa: BLE001 - a crash of the test itself is a failure with its traceback
        s.failures.append("the test crashed:\n" + traceback.format_exc())
    return s.finish()

