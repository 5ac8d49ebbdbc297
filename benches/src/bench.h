/* bench.h - shared helpers for the brine benchmark programs.
 *
 * Every compute program has one kernel `uint32_t bench_NAME(uint32_t size)` (nbody returns
 * a double) and a main() that reads the size from argv[1], calls the kernel and prints a
 * line "checksum VALUE" last, so every runtime's output can be compared with brine's.
 *
 * Built three ways from the same source (benches/build.sh, benches/run.sh):
 *   wasm/NAME.wasm          wasm32-wasi command (main + _start)            all WASI runtimes
 *   wasm/NAME.reactor.wasm  -DBENCH_REACTOR: no main, the kernel exported,  wasm3 (no WASI)
 *                           no imports at all
 *   native NAME             gcc -O2                                        native baseline
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdint.h>
#include <stdlib.h>

#if defined(BENCH_REACTOR)
#define BENCH_EXPORT(name) __attribute__((export_name(name))) __attribute__((used))
#else
#define BENCH_EXPORT(name)
#include <stdio.h>
/* argv[1] as a positive size, or `dflt` when it is absent. */
static uint32_t bench_size(int argc, char **argv, uint32_t dflt) {
    if (argc < 2) return dflt;
    char *end;
    unsigned long v = strtoul(argv[1], &end, 10);
    if (*end != '\0' || v == 0) {
        fprintf(stderr, "usage: %s [SIZE]  (SIZE a positive integer)\n", argv[0]);
        exit(2);
    }
    return (uint32_t)v;
}
#endif

/* A small deterministic PRNG (xorshift32) for generated inputs. */
static inline uint32_t bench_rand(uint32_t *s) {
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

#endif
