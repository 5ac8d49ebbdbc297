#!/usr/bin/env python3
"""make bench-slurm: brine's own overhead per partition on a Slurm cluster.

A Count=N job (default 200) of a short module (fixtures/hello.wasm) runs
  1. locally, `brine run JOB --parallel P` (P = the number of cores): the baseline;
  2. on Slurm: `brine slurm submit` (copy, script, sbatch), the array until squeue
     no longer lists it (Slurm's scheduling and the elements), then `brine gather`;
  3. one array element as Slurm runs it (`sh DIR/.brine/job.sbatch` with
     SLURM_ARRAY_TASK_ID set, i.e. the shared-DIR check and `brine run --partition`),
     sampled sequentially on this machine outside Slurm.

brine's own overhead per partition = (submit + gather) / N + one element's time:
what brine adds to each partition beyond Slurm's scheduling (issue #16: target
<= 20 ms). The array's wall time is printed as well; it is mostly Slurm's.

Environment: BRINE (the binary; default target/release/brine), BENCH_COUNT (200),
BENCH_SAMPLES (elements sampled in 3., default 20). Needs `sinfo` to answer
(`make slurm-cluster` brings up the single-node cluster of the tests).
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BRINE = Path(os.environ.get("BRINE", ROOT / "target/release/brine")).resolve()
COUNT = int(os.environ.get("BENCH_COUNT", "200"))
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "20"))


def job_file(directory: Path) -> Path:
    """A Count=COUNT job of hello.wasm in `directory`."""
    shutil.copy(ROOT / "fixtures/hello.wasm", directory / "hello.wasm")
    job = directory / "job.yaml"
    job.write_text(
        f"Name: overhead\nType: batch\nCount: {COUNT}\nTasks:\n  - Name: main\n"
        "    Engine:\n      Type: wasm\n      Params:\n        EntryModule: /wasm/hello.wasm\n"
        "    InputSources:\n"
        "      - Source: {Type: localDirectory, Params: {SourcePath: hello.wasm}}\n"
        "        Target: /wasm/hello.wasm\n"
    )
    return job


def timed(args, **kwargs) -> tuple[float, subprocess.CompletedProcess]:
    """Runs `args`; its wall time in seconds and its result (failing loudly)."""
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, **kwargs)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(map(str, args))} failed ({done.returncode}):\n{done.stderr}")
    return elapsed, done


def wait_for_array(slurm_id: str) -> None:
    """Until squeue no longer lists any element of `slurm_id`."""
    while True:
        listed = subprocess.run(
            ["squeue", "-h", "-r", "-o", "%i", "-j", slurm_id], capture_output=True, text=True
        ).stdout.strip()
        if not listed:
            return
        time.sleep(0.05)


def local_baseline(job: Path, work: Path) -> float:
    parallel = os.cpu_count() or 1
    seconds, _ = timed(
        [BRINE, "run", job, "--output", work / "local", "--parallel", str(parallel), "--quiet"]
    )
    return seconds


def on_slurm(job: Path, work: Path) -> dict:
    out = work / "slurm"
    submit_s, done = timed([BRINE, "slurm", "submit", job, "--output", out, "--json"])
    slurm_id = json.loads(done.stdout)["slurm_job_id"]
    start = time.perf_counter()
    wait_for_array(slurm_id)
    array_s = time.perf_counter() - start
    start = time.perf_counter()
    gather = subprocess.run([BRINE, "gather", out, "--json"], capture_output=True, text=True)
    gather_s = time.perf_counter() - start
    report = json.loads(gather.stdout)
    if report["completed"] != COUNT:
        sys.exit(f"only {report['completed']} of {COUNT} partitions completed:\n{gather.stderr}")
    return {"submit": submit_s, "array": array_s, "gather": gather_s}


def one_element(job: Path, work: Path) -> list[float]:
    """Sequential runs of single elements of a --dry-run DIR, as Slurm would exec them."""
    out = work / "elements"
    timed([BRINE, "slurm", "submit", job, "--output", out, "--dry-run"])
    script = out / ".brine/job.sbatch"
    times = []
    for element in range(min(SAMPLES, COUNT)):
        env = dict(os.environ, SLURM_ARRAY_TASK_ID=str(element))
        seconds, _ = timed(["sh", script], env=env)
        times.append(seconds)
    return times


def main() -> None:
    if not BRINE.exists():
        sys.exit(f"{BRINE} is missing: cargo build --release (or set BRINE)")
    if subprocess.run(["sinfo", "-h"], capture_output=True).returncode != 0:
        sys.exit("no Slurm answers (sinfo failed): make slurm-cluster brings one up")
    with tempfile.TemporaryDirectory(prefix="brine-bench-slurm-") as tmp:
        work = Path(tmp)
        job = job_file(work)
        local_s = local_baseline(job, work)
        slurm = on_slurm(job, work)
        elements = one_element(job, work)
    element_ms = statistics.median(elements) * 1000
    per = lambda seconds: seconds * 1000 / COUNT  # noqa: E731 (ms per partition)
    overhead = per(slurm["submit"]) + per(slurm["gather"]) + element_ms
    print(f"brine slurm overhead: Count={COUNT} job of hello.wasm, {BRINE}")
    rows = [
        (f"local brine run --parallel {os.cpu_count()}", local_s, ""),
        ("slurm submit (copy, script, sbatch)", slurm["submit"], ""),
        ("slurm array until squeue is empty", slurm["array"], " (Slurm's scheduling included)"),
        ("brine gather", slurm["gather"], ""),
    ]
    for label, seconds, note in rows:
        print(f"  {label:<38} {seconds:8.2f} s {per(seconds):9.2f} ms/partition{note}")
    print(f"  {'one element (sh script, brine run)':<38} {element_ms:19.2f} ms (median of {len(elements)})")
    print(f"  brine's own overhead per partition: {overhead:.2f} ms (target <= 20 ms)")

if __name__ == "__main__":
    main()
