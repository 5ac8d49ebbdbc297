"""brine as a runtime for the official WASI test suite runner.

    python3 test-runner/wasi_test_runner.py -t tests/rust/testsuite -r /path/to/brine/adapters/brine.py

Set BRINE to the brine binary (default: `brine` on PATH). Each test runs as
`brine wasm run --env K=V --dir HOST::GUEST TEST ARGS...`.
"""

import os
import shlex
import subprocess
from pathlib import Path
from typing import Dict, List, Tuple

BRINE = shlex.split(os.getenv("BRINE", "brine"))


def get_name() -> str:
    return "brine"


def get_version() -> str:
    result = subprocess.run(BRINE + ["--version"], encoding="UTF-8",
                            capture_output=True, check=True)
    # "brine 0.1.0" -> "0.1.0"
    return result.stdout.strip().split(" ")[-1]


def compute_argv(test_path: str,
                 args: List[str],
                 env: Dict[str, str],
                 dirs: List[Tuple[Path, str]]) -> List[str]:
    argv = BRINE + ["wasm", "run"]
    for key, value in env.items():
        argv += ["--env", f"{key}={value}"]
    for host, guest in dirs:
        argv += ["--dir", f"{host}::{guest}"]
    argv += [test_path]
    argv += args
    return argv
