#!/usr/bin/python3
"""Generic runner: one integration test = one command.

    run.py NAME compare [--timeout S] -- CMD ARGS...
        Runs CMD against MariaDB directly (UG_PORT=$UG_DIRECT_PORT, UG_SIDE=direct), then through
        the proxy (UG_PORT=$UG_PROXY_PORT, UG_SIDE=proxy). Both runs must exit 0 and print the
        same output after normalisation; otherwise a unified diff is printed and the test fails.
    run.py NAME single [--timeout S] -- CMD ARGS...
        Runs CMD once (UG_PORT=$UG_PROXY_PORT, UG_SIDE=proxy); its exit code is the result.

Clients print only what is deterministic (no ids, no timings) and assert their own invariants.
The normalisation below is a safety net for the few volatile values that slip through.
Outputs are kept in $UG_IT_STATE/out/NAME.{direct,proxy}.{out,err}.
"""
import difflib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ug  # noqa: E402

# (pattern, replacement) applied line by line to both outputs before comparing.
NORMALIZE = [
    (re.compile(r"(?i)\b(connection[ _]?id|thread[ _]?id)(\W+)\d+"), r"\1\2<id>"),
    (re.compile(r"\b\d+(\.\d+)? (sec|ms)\b"), r"<time> \2"),
    (re.compile(r"[ \t]+$"), ""),
]


def normalize(text: str) -> list:
    out = []
    for line in text.splitlines():
        for pat, rep in NORMALIZE:
            line = pat.sub(rep, line)
        out.append(line)
    return out


def run_side(name: str, side: str, port: str, cmd: list, env: dict, timeout: float, outdir: Path):
    env = {**os.environ, **env, "UG_PORT": port, "UG_SIDE": side}
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout)
        code, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        code, out, err = "timeout", e.stdout or b"", (e.stderr or b"") + f"\n[timed out after {timeout} s]\n".encode()
    dt = time.monotonic() - t0
    (outdir / f"{name}.{side}.out").write_bytes(out)
    (outdir / f"{name}.{side}.err").write_bytes(err)
    print(f"[{name}] {side}: port {port}, exit {code}, {dt:.1f} s")
    return code, out.decode(errors="replace"), err.decode(errors="replace")


def show_failure(side: str, code, out: str, err: str, env: dict) -> None:
    print(f"--- {side} stdout (last 60 lines) ---")
    print("\n".join(out.splitlines()[-60:]))
    print(f"--- {side} stderr (last 60 lines) ---")
    print("\n".join(err.splitlines()[-60:]))
    if side == "proxy":
        print_proxy_report(env)


def print_proxy_report(env: dict) -> None:
    d = Path(env["UG_IT_STATE"]) / "proxy"
    print("--- " + ug.proxy_state(d))
    print("--- proxy log tail ---")
    print(ug.log_tail(d / "proxy.log"))


def main() -> int:
    args = sys.argv[1:]
    if len(args) < 4 or "--" not in args or args[1] not in ("compare", "single"):
        print(__doc__, file=sys.stderr)
        return 2
    name, mode = args[0], args[1]
    opts, cmd = args[2:args.index("--")], args[args.index("--") + 1:]
    timeout = 300.0
    if opts[:1] == ["--timeout"]:
        timeout = float(opts[1])

    env = ug.test_env()
    missing = [k for k in ("UG_DIRECT_PORT", "UG_PROXY_PORT") if k not in env]
    if missing:
        print(f"[{name}] fixtures not running ({', '.join(missing)} unknown)")
        return 1
    outdir = Path(env["UG_IT_STATE"]) / "out"
    outdir.mkdir(parents=True, exist_ok=True)
    print(f"[{name}] proxy kind: {env.get('UG_PROXY_KIND') or '?'}")

    if mode == "single":
        code, out, err = run_side(name, "proxy", env["UG_PROXY_PORT"], cmd, env, timeout, outdir)
        sys.stdout.write(out)
        if code != 0:
            show_failure("proxy", code, out, err, env)
            return 1
        return 0

    results = {}
    for side, port in (("direct", env["UG_DIRECT_PORT"]), ("proxy", env["UG_PROXY_PORT"])):
        results[side] = run_side(name, side, port, cmd, env, timeout, outdir)
        code, out, err = results[side]
        if code != 0:
            show_failure(side, code, out, err, env)
            print(f"[{name}] FAILED: the {side} run exited with {code}")
            return 1

    direct, proxy = normalize(results["direct"][1]), normalize(results["proxy"][1])
    if direct != proxy:
        print(f"[{name}] FAILED: output through the proxy differs from the direct run")
        sys.stdout.writelines(l + "\n" for l in difflib.unified_diff(
            direct, proxy, "direct", "proxy", lineterm="", n=3))
        print_proxy_report(env)
        return 1
    print(f"[{name}] OK: {len(direct)} lines identical direct and through the proxy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
