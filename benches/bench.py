#!/usr/bin/env python3
"""brine benchmark driver (run by benches/run.sh, i.e. `make bench`).

Runs every benchmark under brine, brine with fuel metering, wasmi (wasmi_cli), wasmtime
(Python bindings), node (node:wasi), wasm3 (pywasm3, exported kernels only) and native
(gcc -O2 of the same C), checks that every runtime prints brine's checksum, times them with
hyperfine and writes RESULTS.md, results.png and the raw hyperfine JSON.

Environment:
  BENCH_QUICK=1     small sizes, 2 runs each: a smoke test of the whole pipeline; results go
                    to $CARGO_TARGET_DIR/bench/quick/ instead of benches/
  BRINE=PATH        the brine binary (default $CARGO_TARGET_DIR/release/brine)
  BENCH_ONLY=a,b    run only these benchmarks (names as in BENCHES below, plus hello, job,
                    version, cat, copy, rss, determinism)
  BENCH_NOTE=TEXT   a note added to RESULTS.md (e.g. "other builds were running")

Nothing here asserts a timing: targets are reported as met / not met.
"""
from __future__ import annotations

import datetime
import json
import math
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")).resolve()
WORK = TARGET / "bench"
NATIVE = WORK / "native"
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
OUT = WORK / "quick" if QUICK else HERE
BRINE = os.environ.get("BRINE", str(TARGET / "release" / "brine"))
ONLY = {s for s in os.environ.get("BENCH_ONLY", "").split(",") if s}
WASM = HERE / "wasm"
RUNNERS = HERE / "runners"
PY = sys.executable
FUEL = "1000000000000000000"  # 1e18: never runs out; measures the cost of metering only

MiB = 1 << 20
GiB = 1 << 30

# name -> (full size, quick size, description)
BENCHES = {
    "coremark": (2000, 50, "CoreMark-like integer mix (list, matrix, state machine, CRC), iterations"),
    "sha256": (64, 2, "SHA-256 of generated data, MiB"),
    "nbody": (2_500_000, 50_000, "n-body simulation (f64), steps"),
    "fannkuch": (10, 8, "fannkuch-redux, n"),
    "parser": (600_000, 20_000, "generate + tokenize + parse + evaluate an expression language, statements"),
}
CAT_BYTES = 64 * MiB if QUICK else GiB
COPY_BYTES = 32 * MiB if QUICK else 512 * MiB
MEMHOG_MIB = 32 if QUICK else 256
RSS_REPEAT = 1 if QUICK else 3

# Timing plan: (rounds, runs per round). The runtimes of one benchmark take turns, round by
# round, in a rotating order, so a load change (other builds on the machine) hits all of them
# alike instead of whichever one was running at the time. The check run before the timing
# warms the page cache; short benchmarks also get hyperfine warm-up runs in each round.
if QUICK:
    LONG = (2, 1)
    SHORT = (2, 3)
else:
    LONG = (5, 1)
    SHORT = (5, 10)
MAX_ROUNDS = {"wasm3": 3}  # wasm3 (pywasm3) is the slowest: ~10 s per compute run

# display order and colours of the runtimes
RUNTIMES = ["brine", "brine-fuel", "brine-job", "brine-det", "wasmi", "wasmtime", "node", "wasm3", "native", "coreutils"]
LABELS = {
    "brine": "brine",
    "brine-fuel": "brine --fuel",
    "brine-job": "brine run (job)",
    "brine-det": "brine run --deterministic --receipt",
    "wasmi": "wasmi (wasmi_cli)",
    "wasmtime": "wasmtime (py, JIT)",
    "node": "node:wasi (V8)",
    "wasm3": "wasm3 (pywasm3)",
    "native": "native (gcc -O2)",
    "coreutils": "coreutils (cat/cp)",
}


def log(*a):
    print("[bench]", *a, file=sys.stderr, flush=True)


def sh(cmd: list[str] | str, **kw) -> str:
    """Run a command, return stdout (stripped), '' if it fails."""
    try:
        r = subprocess.run(cmd, shell=isinstance(cmd, str), capture_output=True, text=True, timeout=60, **kw)
        return (r.stdout or r.stderr).strip()
    except Exception:
        return ""


# ---------------------------------------------------------------------------------------------
# runtimes: how each one runs a WASI command (module, args, preopened dirs)
# ---------------------------------------------------------------------------------------------
def have(tool: str) -> bool:
    return shutil.which(tool) is not None


def pymod(name: str) -> bool:
    return subprocess.run([PY, "-c", f"import {name}"], capture_output=True).returncode == 0


AVAILABLE = {
    "brine": Path(BRINE).exists(),
    "brine-fuel": Path(BRINE).exists(),
    "brine-job": Path(BRINE).exists(),
    "brine-det": Path(BRINE).exists(),
    "wasmi": have("wasmi"),
    "wasmtime": pymod("wasmtime"),
    "node": have("node"),
    "wasm3": pymod("wasm3"),
    "native": True,
    "coreutils": True,
}


def wasi_cmd(rt: str, module: Path, args: list[str], dirs: list[str] = ()) -> list[str] | None:
    """argv that runs a WASI command module on runtime `rt`; dirs are absolute host paths that
    are preopened at the same guest path (wasmi_cli can only map a dir to itself)."""
    m = str(module)
    if rt == "brine":
        return [BRINE, "wasm", "run", *[x for d in dirs for x in ("--dir", f"{d}::{d}")], m, *args]
    if rt == "brine-fuel":
        return [BRINE, "wasm", "run", "--fuel", FUEL, *[x for d in dirs for x in ("--dir", f"{d}::{d}")], m, *args]
    if rt == "wasmi":
        return ["wasmi", *[x for d in dirs for x in ("--dir", d)], m, *args]
    if rt == "wasmtime":
        return [PY, str(RUNNERS / "wasmtime_run.py"), *[x for d in dirs for x in ("--dir", f"{d}::{d}")], m, *args]
    if rt == "node":
        return ["node", "--no-warnings", str(RUNNERS / "node_wasi.mjs"),
                *[x for d in dirs for x in ("--dir", f"{d}::{d}")], m, *args]
    if rt == "native":
        return [str(NATIVE / module.stem), *args]
    return None


# ---------------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------------
@dataclass
class Timing:
    mean: float
    stddev: float
    min: float
    runs: int
    cpu: float  # mean user + system time per run


@dataclass
class Bench:
    name: str
    title: str
    size: str
    timings: dict[str, Timing] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)  # runtime -> why it was not timed
    bytes: int = 0  # for throughput benchmarks
    raw: dict[str, dict] = field(default_factory=dict)


RESULTS: dict[str, Bench] = {}
RSS: dict[str, dict[str, int]] = {}  # program -> runtime -> KiB
RSS_NOTES: dict[tuple[str, str], str] = {}
GUEST_MEM: dict[str, int] = {}  # program -> bytes of linear memory the guest ends with
CHECKS: list[str] = []


def measure(bench: Bench, commands: dict[str, str], plan: tuple[int, int], shell: bool = False):
    """Time each runtime's command with hyperfine, the runtimes taking turns round by round;
    store a Timing per runtime (or the failure) in bench."""
    rounds, per_round = plan
    jsdir = WORK / "json"
    jsdir.mkdir(parents=True, exist_ok=True)
    times: dict[str, list[float]] = {rt: [] for rt in commands}
    cpu: dict[str, float] = {rt: 0.0 for rt in commands}
    order = list(commands)
    for rnd in range(rounds):
        k = rnd % len(order)
        for rt in order[k:] + order[:k]:
            if rt in bench.failures or rnd >= MAX_ROUNDS.get(rt, rounds):
                continue
            js = jsdir / f"{bench.name}__{rt}__{rnd}.json"
            hf = ["hyperfine", "--style", "basic", "--export-json", str(js), "-n", rt, "--runs", str(per_round)]
            if per_round > 1:
                hf += ["--warmup", "2"]
            if not shell:
                hf += ["-N"]
            hf += [commands[rt]]
            log(f"{bench.name} / {rt} (round {rnd + 1}/{rounds}): {commands[rt]}")
            r = subprocess.run(hf, stdout=sys.stderr)
            if r.returncode != 0 or not js.exists():
                bench.failures[rt] = f"hyperfine failed (exit {r.returncode}) in round {rnd + 1}"
                continue
            res = json.loads(js.read_text())["results"][0]
            times[rt] += res["times"]
            cpu[rt] += (res["user"] + res["system"]) * len(res["times"])
    for rt, ts in times.items():
        if rt in bench.failures or not ts:
            continue
        bench.timings[rt] = Timing(statistics.fmean(ts), statistics.stdev(ts) if len(ts) > 1 else 0.0,
                                   min(ts), len(ts), cpu[rt] / len(ts))
        bench.raw[rt] = {"command": commands[rt], "mean": bench.timings[rt].mean,
                         "stddev": bench.timings[rt].stddev, "min": min(ts), "max": max(ts),
                         "user_plus_system_mean": cpu[rt] / len(ts), "times": ts}


def run_capture(argv: list[str], stdin_bytes: bytes | None = None, pipe_out: bool = False, timeout=600):
    """Run once; stdout goes to a file (node:wasi cannot write to pipes) unless pipe_out."""
    if pipe_out:
        r = subprocess.run(argv, input=stdin_bytes if stdin_bytes is not None else b"",
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        return r.returncode, r.stdout, r.stderr
    with tempfile.TemporaryFile() as out:
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.PIPE, timeout=timeout)
        out.seek(0)
        return r.returncode, out.read(), r.stderr


def checksum_line(out: bytes) -> str | None:
    lines = [ln for ln in out.decode(errors="replace").splitlines() if ln.startswith("checksum ")]
    return lines[-1] if lines else None


def check(bench: Bench, rt: str, argv: list[str], reference: bytes | None, whole: bool) -> bytes | None:
    """Run once and compare with brine's output (whole stdout, or only the checksum line).
    Returns stdout, or None (and records a failure) when the runtime fails or disagrees."""
    try:
        code, out, err = run_capture(argv)
    except subprocess.TimeoutExpired:
        bench.failures[rt] = "timed out in the check run"
        return None
    if code != 0:
        msg = err.decode(errors="replace").strip().splitlines()
        why = f"exit {code}" if code >= 0 else f"killed by signal {-code}"
        if reference is not None and checksum_line(out) == checksum_line(reference):
            why += " after printing the right checksum"
        bench.failures[rt] = f"{why}{': ' + msg[-1] if msg else ''}"[:200]
        return None
    if reference is not None:
        ok = out == reference if whole else checksum_line(out) == checksum_line(reference)
        if not ok:
            bench.failures[rt] = f"output differs from brine: {checksum_line(out)!r} vs {checksum_line(reference)!r}"
            return None
    CHECKS.append(f"{bench.name}/{rt}: {checksum_line(out) or out[:40]!r}")
    return out


def selected(name: str) -> bool:
    return not ONLY or name in ONLY


# ---------------------------------------------------------------------------------------------
# benchmarks
# ---------------------------------------------------------------------------------------------
def bench_compute(name: str):
    full, quick, title = BENCHES[name]
    size = str(quick if QUICK else full)
    b = RESULTS[name] = Bench(name, title, size)
    module = WASM / f"{name}.wasm"
    reference = None
    commands = {}
    for rt in ["brine", "brine-fuel", "wasmi", "wasmtime", "node", "wasm3", "native"]:
        if not AVAILABLE[rt]:
            b.failures[rt] = "not installed"
            continue
        if rt == "wasm3":
            argv = [PY, str(RUNNERS / "wasm3_run.py"), str(WASM / f"{name}.reactor.wasm"), f"bench_{name}", size]
        else:
            argv = wasi_cmd(rt, module, [size])
        whole = rt not in ("wasm3", "native")
        out = check(b, rt, argv, reference, whole)
        if rt == "brine" and out is None:
            log(f"{name}: brine failed ({b.failures.get('brine')}); outputs are compared with the next runtime's")
        if reference is None and whole and out is not None:
            reference = out
        if out is not None:
            commands[rt] = shlex.join(argv)
    measure(b, commands, LONG)


def bench_hello():
    b = RESULTS["hello"] = Bench("hello", "hello world: process start, module load, one fd_write, exit", "-")
    module = WASM / "hello.wasm"
    commands = {}
    for rt in ["brine", "wasmi", "wasmtime", "node", "native"]:
        if not AVAILABLE[rt]:
            b.failures[rt] = "not installed"
            continue
        argv = wasi_cmd(rt, module, [])
        if check(b, rt, argv, b"Hello, world!\n", True) is not None:
            commands[rt] = shlex.join(argv)
    # the whole job path: parse + plan + stage + run + write the results directory
    rt = "brine-job"
    if AVAILABLE[rt]:
        outdir = WORK / "job-results"
        argv = [BRINE, "run", str(HERE / "jobs" / "hello" / "job.yaml"), "--output", str(outdir), "--force"]
        code, out, err = run_capture(argv)
        stdout_file = outdir / "stdout"
        got = stdout_file.read_bytes() if stdout_file.exists() else b""
        if code != 0 or got != b"Hello, world!\n":
            b.failures[rt] = f"exit {code}, results/stdout {got[:40]!r}: {err.decode(errors='replace').strip()[-160:]}"
        else:
            CHECKS.append(f"hello/brine-job: results/stdout = {got!r}")
            commands[rt] = shlex.join(argv)
    measure(b, commands, SHORT)


def bench_version():
    """Process start and exit with nothing to run: what loading the binary costs."""
    b = RESULTS["version"] = Bench("version", "process start and exit: `--version`", "-")
    commands = {}
    for rt, argv in (("brine", [BRINE, "--version"]), ("wasmi", ["wasmi", "--version"])):
        if not AVAILABLE[rt]:
            b.failures[rt] = "not installed"
            continue
        code, out, err = run_capture(argv)
        if code != 0 or not out.strip():
            b.failures[rt] = f"exit {code}: {err.decode(errors='replace').strip()[-160:]}"
        else:
            commands[rt] = shlex.join(argv)
    measure(b, commands, SHORT)


def bench_cat():
    size = CAT_BYTES
    b = RESULTS["cat"] = Bench("cat", "stdin -> stdout through pipes, 64 KiB read/write", f"{size // MiB} MiB")
    b.bytes = size
    module = WASM / "cat.wasm"
    sample = os.urandom(16 * MiB)
    gen = f"dd if=/dev/zero bs=1M count={size // MiB} status=none"
    sink = "dd of=/dev/null bs=1M status=none"
    commands = {}
    for rt in ["brine", "wasmi", "wasmtime", "node", "native", "coreutils"]:
        if not AVAILABLE[rt]:
            b.failures[rt] = "not installed"
            continue
        argv = ["/bin/cat"] if rt == "coreutils" else wasi_cmd(rt, module, [])
        try:
            code, out, err = run_capture(argv, stdin_bytes=sample, pipe_out=True)
        except subprocess.TimeoutExpired:
            code, out, err = -1, b"", b"timeout"
        if code != 0 or out != sample:
            msg = err.decode(errors="replace").strip().splitlines()
            b.failures[rt] = (f"16 MiB pipe check failed: exit {code}, {len(out)} of {len(sample)} bytes"
                              f"{', ' + msg[-1][:120] if msg else ''}")
            continue
        CHECKS.append(f"cat/{rt}: 16 MiB random through pipes, identical")
        commands[rt] = f"{gen} | {shlex.join(argv)} | {sink}"
    measure(b, commands, LONG, shell=True)


def scratch_dir() -> Path:
    """tmpfs when it has room (file copy then measures the runtime, not the disk)."""
    shm = Path("/dev/shm")
    try:
        if shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 3 * COPY_BYTES:
            return Path(tempfile.mkdtemp(prefix="brine-bench-", dir=shm))
    except OSError:
        pass
    d = WORK / "data"
    d.mkdir(parents=True, exist_ok=True)
    return d


def bench_copy():
    size = COPY_BYTES
    data = scratch_dir()
    b = RESULTS["copy"] = Bench("copy", f"file -> file through a preopened dir ({'tmpfs' if str(data).startswith('/dev/shm') else 'disk'}), 64 KiB read/write",
                                f"{size // MiB} MiB")
    b.bytes = size
    src, dst = data / "in.bin", data / "out.bin"
    try:
        with open(src, "wb") as f:
            chunk = os.urandom(MiB)
            for i in range(size // MiB):
                f.write(chunk[i % 7:] + chunk[: i % 7])
        module = WASM / "copy.wasm"
        ref = f"checksum {size}\n".encode()
        commands = {}
        for rt in ["brine", "wasmi", "wasmtime", "node", "native", "coreutils"]:
            if not AVAILABLE[rt]:
                b.failures[rt] = "not installed"
                continue
            if rt == "coreutils":
                argv = ["cp", str(src), str(dst)]
                code, _, err = run_capture(argv)
                out = ref if code == 0 else None
            else:
                argv = wasi_cmd(rt, module, [str(src), str(dst)], dirs=[str(data)])
                out = check(b, rt, argv, ref, rt != "native")
                if out is None:
                    continue
            if out is None or not dst.exists() or dst.stat().st_size != size or \
                    subprocess.run(["cmp", "-s", str(src), str(dst)]).returncode != 0:
                b.failures[rt] = "copy differs from the source"
                continue
            CHECKS.append(f"copy/{rt}: {size // MiB} MiB copied, identical")
            dst.unlink()
            commands[rt] = shlex.join(argv)
        measure(b, commands, LONG)
    finally:
        if str(data).startswith("/dev/shm/"):
            shutil.rmtree(data, ignore_errors=True)
        else:
            for p in (src, dst):
                p.unlink(missing_ok=True)


def write_job(path: Path, module: Path, params: list[str], inputs: Path | None, outputs: bool):
    """A one-task job running `module` (mounted at /wasm/m.wasm) with `params`."""
    lines = ["Type: batch", "Tasks:", "  - Name: main", "    Engine:", "      Type: wasm",
             "      Params:", "        EntryModule: /wasm/m.wasm",
             f"        Parameters: [{', '.join(json.dumps(p) for p in params)}]",
             "    InputSources:",
             f"      - Source: {{Type: localDirectory, Params: {{SourcePath: {json.dumps(str(module))}}}}}",
             "        Target: /wasm/m.wasm"]
    if inputs is not None:
        lines += [f"      - Source: {{Type: localDirectory, Params: {{SourcePath: {json.dumps(str(inputs))}}}}}",
                  "        Target: /inputs"]
    if outputs:
        lines += ["    ResultPaths: [{Name: outputs, Path: /outputs}]"]
    path.write_text("\n".join(lines) + "\n")


def bench_determinism():
    """The cost of --deterministic plus receipt hashing over a plain `brine run`,
    on a compute-heavy job (coremark) and an I/O-heavy one (copying an input to an output)."""
    base = WORK / "det"
    base.mkdir(parents=True, exist_ok=True)
    data = base / "data"
    data.mkdir(exist_ok=True)
    size = COPY_BYTES // 4
    with open(data / "in.bin", "wb") as f:
        chunk = os.urandom(MiB)
        for i in range(size // MiB):
            f.write(chunk[i % 7:] + chunk[: i % 7])
    cases = {
        "det-compute": ("deterministic + receipt over a plain run: coremark job",
                        str(BENCHES["coremark"][1 if QUICK else 0]),
                        lambda job: write_job(job, WASM / "coremark.wasm",
                                              [str(BENCHES["coremark"][1 if QUICK else 0])], None, False)),
        "det-io": ("deterministic + receipt over a plain run: copy an input file to an output",
                   f"{size // MiB} MiB",
                   lambda job: write_job(job, WASM / "copy.wasm", ["/inputs/in.bin", "/outputs/out.bin"],
                                         data, True)),
    }
    for name, (title, label, make) in cases.items():
        if not selected(name) and not selected("determinism"):
            continue
        b = RESULTS[name] = Bench(name, title, label)
        job = base / f"{name}.yaml"
        make(job)
        plain = [BRINE, "run", str(job), "--output", str(base / f"{name}-plain"), "--force"]
        det = [BRINE, "run", str(job), "--output", str(base / f"{name}-det"), "--force",
               "--deterministic", "--receipt", str(base / f"{name}.receipt.json")]
        commands = {}
        for rt, argv in (("brine-job", plain), ("brine-det", det)):
            code, _, err = run_capture(argv)
            if code != 0:
                b.failures[rt] = f"exit {code}: {err.decode(errors='replace').strip()[-160:]}"
            else:
                commands[rt] = shlex.join(argv)
        measure(b, commands, LONG)


def wasm_min_memory(path: Path) -> int:
    """Initial size in bytes of the module's first defined memory (parses the memory section)."""
    data = path.read_bytes()

    def leb(i):
        r = s = 0
        while True:
            byte = data[i]
            i += 1
            r |= (byte & 0x7F) << s
            s += 7
            if byte < 0x80:
                return r, i

    i = 8
    while i < len(data):
        sid = data[i]
        size, i = leb(i + 1)
        if sid == 5:
            count, j = leb(i)
            if count:
                _flags, j = leb(j)
                pages, j = leb(j)
                return pages * 65536
        i += size
    return 0


def peak_rss(argv: list[str]) -> tuple[int | None, str]:
    """Peak RSS in KiB of one run, with /usr/bin/time -f %M."""
    with tempfile.NamedTemporaryFile("r") as tf:
        r = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", tf.name, *argv],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
        txt = Path(tf.name).read_text().strip().splitlines()
        if not txt or not txt[-1].isdigit():
            return None, r.stderr.decode(errors="replace")[-200:]
        note = "" if r.returncode == 0 else f" (exit {r.returncode if r.returncode < 128 else 'signal ' + str(r.returncode - 128)} at the end)"
        return int(txt[-1]), r.stdout.decode(errors="replace") + note


def bench_rss():
    for prog, args in [("memhog", [str(MEMHOG_MIB)]), ("hello", [])]:
        RSS[prog] = {}
        module = WASM / f"{prog}.wasm"
        GUEST_MEM[prog] = wasm_min_memory(module)
        for rt in ["brine", "brine-fuel", "wasmi", "wasmtime", "node", "native"]:
            if not AVAILABLE[rt]:
                continue
            argv = wasi_cmd(rt, module, args)
            vals = []
            note = ""
            for _ in range(RSS_REPEAT):
                kib, out = peak_rss(argv)
                if kib is None:
                    log(f"rss {prog}/{rt} failed: {out}")
                    break
                vals.append(kib)
                if "at the end)" in out:
                    note = out[out.rindex(" ("):]
                m = re.search(r"memory_bytes (\d+)", out)
                if m and rt == "brine":
                    GUEST_MEM[prog] = int(m.group(1))
            if vals:
                RSS[prog][rt] = int(statistics.median(vals))
                if note:
                    RSS_NOTES[(prog, rt)] = note.strip()
                log(f"rss {prog}/{rt}: {RSS[prog][rt]} KiB")


# ---------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------
def versions() -> dict[str, str]:
    def pyver(mod):
        return sh([PY, "-c", f"import importlib.metadata as m; print(m.version('{mod}'))"])

    v = {
        "brine": sh([BRINE, "--version"]) + f" ({sh(['git', '-C', str(ROOT), 'rev-parse', '--short', 'HEAD'])}, "
                 "cargo build --release, lto=fat)",
        "wasmi (wasmi_cli)": sh(["wasmi", "--version"]) + " (default lazy-translation compilation)",
        "wasmtime (Python bindings)": "wasmtime-py " + pyver("wasmtime"),
        "node": sh(["node", "--version"]),
        "wasm3 (pywasm3)": "pywasm3 " + pyver("pywasm3"),
        "native": sh("gcc --version | head -1") + ", -O2",
        "wasm modules": sh("clang --version | head -1") + ", --target=wasm32-wasi -O2",
        "coreutils": sh("cat --version | head -1"),
        "hyperfine": sh(["hyperfine", "--version"]),
        "python": platform.python_version(),
        "rustc": sh(["rustc", "--version"]),
    }
    return v


def machine() -> dict[str, str]:
    cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
    os_name = sh(". /etc/os-release && echo $PRETTY_NAME")
    mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")
    return {"CPU": cpu or platform.processor(), "cores": str(os.cpu_count()),
            "OS": f"{os_name}, Linux {platform.release()}", "memory": mem}


def fmt_t(t: float) -> str:
    if t >= 1:
        return f"{t:.3f} s"
    if t >= 1e-3:
        return f"{t * 1e3:.1f} ms"
    return f"{t * 1e6:.0f} µs"


def ratio(b: Bench, rt: str, base: str) -> float | None:
    if rt in b.timings and base in b.timings:
        return b.timings[rt].mean / b.timings[base].mean
    return None


def fmt_r(r: float | None) -> str:
    return "—" if r is None else f"{r:.2f}×"


def noise(b: Bench, x: str, y: str) -> float:
    """Combined standard deviation of two means (s)."""
    return math.hypot(b.timings[x].stddev, b.timings[y].stddev)


def verdict(ok: bool | None, close: bool = False) -> str:
    if ok is None:
        return "n/a"
    if ok:
        return "**met**"
    return "**not met** (within noise)" if close else "**not met**"


def cpu_ratio(b: Bench, rt: str, base: str) -> str:
    if rt in b.timings and base in b.timings and b.timings[base].cpu > 0:
        return f"{b.timings[rt].cpu / b.timings[base].cpu:.2f}×"
    return "—"


def targets() -> list[tuple[str, str, str, str]]:
    rows = []
    # 1. compute speed vs wasmi
    for name in BENCHES:
        b = RESULTS.get(name)
        if not b:
            continue
        r = ratio(b, "brine", "wasmi")
        if r is None:
            rows.append((f"compute `{name}`: brine ≥ 1.00× wasmi's speed", "n/a", "—", verdict(None)))
        else:
            close = abs(b.timings["brine"].mean - b.timings["wasmi"].mean) <= noise(b, "brine", "wasmi")
            rows.append((f"compute `{name}`: brine ≥ 1.00× wasmi's speed",
                         f"{1 / r:.3f}× ({fmt_t(b.timings['brine'].mean)} vs {fmt_t(b.timings['wasmi'].mean)})",
                         cpu_ratio(b, "wasmi", "brine"), verdict(r <= 1.0, close)))
    h = RESULTS.get("hello")
    if h:
        rows.append(time_ratio_row(h, "brine", 1.0, "`brine wasm run hello` ≤ `wasmi hello`", True))
        rows.append(time_ratio_row(h, "brine-job", 1.5,
                                   "whole hello job (`brine run job.yaml`) ≤ 1.5× `wasmi hello`", False))
    v = RESULTS.get("version")
    if v:
        rows.append(time_ratio_row(v, "brine", 1.0, "`brine --version` ≤ `wasmi --version`", True))
    c = RESULTS.get("cat")
    if c:
        r = ratio(c, "native", "brine")  # throughput ratio brine/native = time native/brine
        rows.append(("stdin→pipe throughput ≥ 0.95× native C cat",
                     "n/a" if r is None else
                     f"{r:.2f}× ({c.bytes / c.timings['brine'].mean / GiB:.2f} vs {c.bytes / c.timings['native'].mean / GiB:.2f} GiB/s)",
                     cpu_ratio(c, "native", "brine") + " (whole pipeline)",
                     verdict(None if r is None else r >= 0.95)))
    for prog in RSS:
        kib = RSS[prog].get("brine")
        guest = GUEST_MEM.get(prog, 0)
        limit = guest / 1024 + 8 * 1024
        rows.append((f"peak RSS `{prog}` ≤ guest memory + 8 MiB",
                     "n/a" if kib is None else f"{kib / 1024:.1f} MiB vs {guest / MiB:.1f} + 8 MiB", "—",
                     verdict(None if kib is None else kib <= limit)))
    for name in BENCHES:
        if name in RESULTS:
            rows.append(overhead_row(RESULTS[name], "brine-fuel", "brine", 1.10,
                                     f"fuel-metered `{name}` ≤ 10% slower than unmetered"))
    for name in ("det-compute", "det-io"):
        if name in RESULTS:
            rows.append(overhead_row(RESULTS[name], "brine-det", "brine-job", 1.05,
                                     f"`{name}`: deterministic + receipt ≤ 5% slower than a plain run"))
    return rows


def time_ratio_row(b, rt, limit, claim, say_noise):
    """One claims row: `rt`'s time over wasmi's, pass if ≤ `limit` (with `say_noise`,
    a miss within the runs' noise is said so)."""
    r = ratio(b, rt, "wasmi")
    close = say_noise and r is not None and abs(b.timings[rt].mean - b.timings["wasmi"].mean) <= noise(b, rt, "wasmi")
    return (claim,
            "n/a" if r is None else f"{r:.2f}× ({fmt_t(b.timings[rt].mean)} vs {fmt_t(b.timings['wasmi'].mean)})",
            cpu_ratio(b, rt, "wasmi"),
            verdict(None if r is None else r <= limit, close))


def overhead_row(b, variant, base, limit, claim):
    """One claims row: how much slower `variant` ran than `base` (wall and CPU), pass if ≤ `limit`."""
    r = ratio(b, variant, base)
    return (claim,
            "n/a" if r is None else f"{(r - 1) * 100:+.1f}% ({fmt_t(b.timings[variant].mean)} vs {fmt_t(b.timings[base].mean)})",
            "—" if r is None else f"{(b.timings[variant].cpu / b.timings[base].cpu - 1) * 100:+.1f}%",
            verdict(None if r is None else r <= limit))


def chart(path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in [*BENCHES, "hello", "cat", "copy"] if n in RESULTS and "wasmi" in RESULTS[n].timings]
    rts = [rt for rt in RUNTIMES if rt != "wasmi" and any(rt in RESULTS[n].timings for n in names)]
    rts.insert(1 if "brine" in rts else 0, "wasmi")
    colors = {"brine": "#d62728", "brine-fuel": "#ff9896", "brine-job": "#8c564b", "brine-det": "#e377c2",
              "wasmi": "#1f77b4",
              "wasmtime": "#2ca02c", "node": "#9467bd", "wasm3": "#bcbd22", "native": "#7f7f7f",
              "coreutils": "#c7c7c7"}
    fig, ax = plt.subplots(figsize=(max(8, 1.6 * len(names)), 5.5))
    width = 0.8 / max(1, len(rts))
    for k, rt in enumerate(rts):
        xs, ys = [], []
        for i, n in enumerate(names):
            r = ratio(RESULTS[n], rt, "wasmi")
            if r is not None:
                xs.append(i + (k - (len(rts) - 1) / 2) * width)
                ys.append(r)
        ax.bar(xs, ys, width, label=LABELS[rt], color=colors[rt])
    ax.axhline(1.0, color="black", lw=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names)
    ax.set_ylabel("time relative to wasmi (log scale, lower is faster)")
    ax.set_title("brine benchmarks: wall time / wasmi_cli wall time" + (" (BENCH_QUICK smoke run)" if QUICK else ""))
    ax.legend(fontsize=8, ncol=3)
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def report(started: datetime.datetime, load_start: str, seconds: float):
    OUT.mkdir(parents=True, exist_ok=True)
    md = []
    w = md.append
    w("# brine benchmark results" + (" (BENCH_QUICK=1 smoke run: small sizes, not representative)" if QUICK else ""))
    w("")
    w(f"Generated by `make bench` (benches/run.sh → benches/bench.py) on {started:%Y-%m-%d %H:%M} UTC; "
      f"the run took {seconds / 60:.1f} min. Times are wall-clock means of whole processes measured "
      "with hyperfine (start, load/compile, run, exit), the runtimes of a benchmark taking turns in "
      f"{LONG[0]} rounds ({SHORT[0]}×{SHORT[1]} runs for hello; wasm3 at most {MAX_ROUNDS['wasm3']} rounds) so that "
      "load from other processes hits them alike; `user+sys` is the CPU time per run, less "
      "sensitive to such load. Ratios are time ÷ time, so **< 1 is faster**. "
      "Every runtime's output was checked against brine's before it was timed. Nothing here is "
      "asserted: the targets are reported as met / not met.")
    w("")
    w("## Machine")
    w("")
    for k, v in machine().items():
        w(f"- {k}: {v}")
    w(f"- load average at start: {load_start}; at end: {os.getloadavg()[0]:.2f}, {os.getloadavg()[1]:.2f}, {os.getloadavg()[2]:.2f}")
    if os.environ.get("BENCH_NOTE"):
        w(f"- **note:** {os.environ['BENCH_NOTE']}")
    w("")
    w("## Versions")
    w("")
    for k, v in versions().items():
        w(f"- {k}: {v}")
    w("")
    w("How each runtime is run: brine `wasm run MODULE ARGS` (fuel: `--fuel 1e18`), wasmi "
      "`wasmi MODULE ARGS`, wasmtime through `benches/runners/wasmtime_run.py` (includes the Python "
      "start, ~tens of ms, and Cranelift compiling the module), node through "
      "`benches/runners/node_wasi.mjs`, wasm3 through `benches/runners/wasm3_run.py` calling the "
      "exported kernel of `NAME.reactor.wasm` (no WASI in pywasm3; Python start included), native is "
      "the same C compiled with gcc -O2. Directory mounts map a host path to the same guest path.")
    w("")
    w("## Targets")
    w("")
    w("Verdicts use the wall-clock means. The CPU column gives the same ratio computed from "
      "user+sys time, which other load on the machine disturbs less.")
    w("")
    w("| target | measured (wall) | same in CPU time | result |")
    w("|---|---|---|---|")
    for t, m, c, v in targets():
        w(f"| {t} | {m} | {c} | {v} |")
    w("")
    w("## Results per benchmark")
    w("")
    for name in [*BENCHES, "hello", "version", "cat", "copy", "det-compute", "det-io"]:
        b = RESULTS.get(name)
        if not b:
            continue
        w(f"### {name} — {b.title} (size {b.size})")
        w("")
        tput = b.bytes > 0
        w("| runtime | mean ± σ | min | user+sys | runs | ×wasmi | ×native |" + (" throughput |" if tput else ""))
        w("|---|---|---|---|---|---|---|" + ("---|" if tput else ""))
        for rt in RUNTIMES:
            if rt in b.timings:
                t = b.timings[rt]
                row = (f"| {LABELS[rt]} | {fmt_t(t.mean)} ± {fmt_t(t.stddev)} | {fmt_t(t.min)} | {fmt_t(t.cpu)} | {t.runs} | "
                       f"{fmt_r(ratio(b, rt, 'wasmi'))} | {fmt_r(ratio(b, rt, 'native'))} |")
                if tput:
                    row += f" {b.bytes / t.mean / GiB:.2f} GiB/s |"
                w(row)
        for rt in RUNTIMES:
            if rt in b.failures:
                w(f"| {LABELS[rt]} | not timed: {b.failures[rt]} | | | | | |" + (" |" if tput else ""))
        w("")
    if RSS:
        w("### Peak RSS (`/usr/bin/time -f %M`, median of "
          f"{RSS_REPEAT} run{'s' if RSS_REPEAT > 1 else ''})")
        w("")
        progs = list(RSS)
        w("| runtime | " + " | ".join(f"memhog {MEMHOG_MIB} MiB" if p == "memhog" else p for p in progs) + " |")
        w("|---|" + "---|" * len(progs))
        w("| guest linear memory | " + " | ".join(f"{GUEST_MEM.get(p, 0) / MiB:.1f} MiB" for p in progs) + " |")
        for rt in RUNTIMES:
            if any(rt in RSS[p] for p in progs):
                cells = []
                for p in progs:
                    kib = RSS[p].get(rt)
                    if kib is None:
                        cells.append("—")
                    elif rt == "native":
                        cells.append(f"{kib / 1024:.1f} MiB")
                    else:
                        cells.append(f"{kib / 1024:.1f} MiB (guest + {(kib * 1024 - GUEST_MEM.get(p, 0)) / MiB:.1f})")
                    if (p, rt) in RSS_NOTES:
                        cells[-1] += " " + RSS_NOTES[(p, rt)]
                w(f"| {LABELS[rt]} | " + " | ".join(cells) + " |")
        w("")
    w("## Chart")
    w("")
    w("![time relative to wasmi](results.png) (drawn by `make bench`; not committed)")
    w("")
    w("## Checks")
    w("")
    w("<details><summary>outputs compared with brine's before timing</summary>")
    w("")
    for c in CHECKS:
        w(f"- {c}")
    w("")
    w("</details>")
    w("")
    w("Raw hyperfine data (every run's time): `results/hyperfine.json`.")
    (OUT / "RESULTS.md").write_text("\n".join(md) + "\n")
    (OUT / "results").mkdir(exist_ok=True)
    raw = {n: {"size": b.size, "bytes": b.bytes, "runtimes": b.raw, "failures": b.failures} for n, b in RESULTS.items()}
    raw["rss_kib"] = RSS
    raw["guest_memory_bytes"] = GUEST_MEM
    (OUT / "results" / "hyperfine.json").write_text(json.dumps(raw, indent=1) + "\n")
    try:
        chart(OUT / "results.png")
    except Exception as e:  # a missing matplotlib must not lose the tables
        log(f"chart failed: {e}")
    log(f"wrote {OUT / 'RESULTS.md'} and {OUT / 'results.png'}")


def summary():
    """A short summary on stdout."""
    print()
    for name, b in RESULTS.items():
        parts = [f"{rt}={fmt_r(ratio(b, rt, 'wasmi'))}" for rt in RUNTIMES if rt in b.timings]
        print(f"{name:9s} ×wasmi: " + " ".join(parts) + (f"  (failed: {', '.join(b.failures)})" if b.failures else ""))
    for t, m, c, v in targets():
        print(f"  {v.replace('**', ''):28s} {t}: {m} [cpu {c}]")


def main():
    started = datetime.datetime.now(datetime.timezone.utc)
    t0 = datetime.datetime.now().timestamp()
    la = os.getloadavg()
    load_start = f"{la[0]:.2f}, {la[1]:.2f}, {la[2]:.2f}"
    if not Path(BRINE).exists():
        sys.exit(f"bench.py: brine not found at {BRINE} (run benches/run.sh, or set BRINE=)")
    log(f"{'QUICK' if QUICK else 'FULL'} run; brine = {BRINE}; results -> {OUT}")
    for rt, ok in AVAILABLE.items():
        if not ok:
            log(f"warning: {rt} is not available; it is left out")
    for name in BENCHES:
        if selected(name):
            bench_compute(name)
    if selected("hello") or selected("job"):
        bench_hello()
    if selected("version"):
        bench_version()
    if selected("cat"):
        bench_cat()
    if selected("copy"):
        bench_copy()
    if selected("rss"):
        bench_rss()
    if selected("determinism") or selected("det-compute") or selected("det-io"):
        bench_determinism()
    report(started, load_start, datetime.datetime.now().timestamp() - t0)
    summary()


if __name__ == "__main__":
    main()
