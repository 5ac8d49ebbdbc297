#!/usr/bin/env python3
"""Call an exported compute kernel on wasm3 (pywasm3; wasm3 has no WASI here).

    wasm3_run.py MODULE.reactor.wasm FUNC ARG

Calls `_initialize` when exported, then FUNC(ARG) and prints "checksum VALUE" in the same
format as the C programs' main(): uint32 results as unsigned, f64 results with %.9f.
"""
import sys

import wasm3


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    path, func, arg = sys.argv[1], sys.argv[2], int(sys.argv[3])
    env = wasm3.Environment()
    rt = env.new_runtime(1 << 20)  # wasm stack, bytes
    with open(path, "rb") as f:
        rt.load(env.parse_module(f.read()))
    try:
        init = rt.find_function("_initialize")
    except RuntimeError:
        init = None
    if init is not None:
        init()
    result = rt.find_function(func)(arg)
    if isinstance(result, float):
        print("checksum %.9f" % result)
    else:
        print("checksum %u" % (result & 0xFFFFFFFF))
    return 0


if __name__ == "__main__":
    sys.exit(main())
