/* memhog.c - peak-RSS probe: malloc SIZE MiB (default 256), write every byte, read it back,
 * then print the guest's linear-memory size ("memory_bytes N", what a runtime must hold)
 * and "checksum S". A runtime's peak RSS minus memory_bytes is its own overhead. */
#include "bench.h"
#include <string.h>

int main(int argc, char **argv) {
    uint32_t mib = bench_size(argc, argv, 256);
    size_t n = (size_t)mib << 20;
    uint8_t *p = malloc(n);
    if (!p) {
        fprintf(stderr, "memhog: cannot allocate %u MiB\n", mib);
        return 1;
    }
    uint32_t s = 12345;
    for (size_t i = 0; i < n; i += 4096) {
        memset(p + i, (int)(bench_rand(&s) & 0xff), 4096 < n - i ? 4096 : n - i);
    }
    uint32_t sum = 0;
    for (size_t i = 0; i < n; i += 64) sum = sum * 31u + p[i];
#ifdef __wasm__
    printf("memory_bytes %lu\n", (unsigned long)__builtin_wasm_memory_size(0) * 65536ul);
#endif
    printf("checksum %u\n", sum);
    free(p);
    return 0;
}
