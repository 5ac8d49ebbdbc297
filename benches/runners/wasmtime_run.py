#!/usr/bin/env python3
"""Run a WASI preview1 command module on wasmtime (the `wasmtime` Python bindings, Cranelift JIT).

    wasmtime_run.py [--dir HOST::GUEST]... MODULE.wasm [ARGS...]

stdin/stdout/stderr are inherited; exits with the guest's exit code. The time includes the
Python interpreter's start and Cranelift compiling the module (no compilation cache).
"""
import sys

import wasmtime


def main() -> int:
    argv = sys.argv[1:]
    dirs = []
    while argv and argv[0] == "--dir":
        host, _, guest = argv[1].partition("::")
        dirs.append((host, guest or host))
        argv = argv[2:]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    module_path, args = argv[0], argv[1:]

    engine = wasmtime.Engine()
    module = wasmtime.Module.from_file(engine, module_path)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    store = wasmtime.Store(engine)
    wasi = wasmtime.WasiConfig()
    wasi.argv = [module_path] + args
    wasi.inherit_stdin()
    wasi.inherit_stdout()
    wasi.inherit_stderr()
    for host, guest in dirs:
        wasi.preopen_dir(host, guest)
    store.set_wasi(wasi)
    instance = linker.instantiate(store, module)
    start = instance.exports(store)["_start"]
    try:
        start(store)
    except wasmtime.ExitTrap as e:
        return e.code
    return 0


if __name__ == "__main__":
    sys.exit(main())
