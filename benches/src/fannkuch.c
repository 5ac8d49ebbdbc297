/* fannkuch.c - the Benchmarks Game fannkuch-redux (single-threaded, plain C).
 * Size = n (default 10). Prints "Pfannkuchen(n) = maxflips" and "checksum C" where
 * C = (uint32)(permutation checksum) * 256 + maxflips. */
#include "bench.h"

static int32_t fk_checksum, fk_maxflips;

static void fannkuch(int n) {
    int perm[16], perm1[16], count[16];
    int maxflips = 0, checksum = 0, permcount = 0, r = n;
    for (int i = 0; i < n; i++) perm1[i] = i;
    for (;;) {
        while (r != 1) { count[r - 1] = r; r--; }
        for (int i = 0; i < n; i++) perm[i] = perm1[i];
        int flips = 0, k;
        while ((k = perm[0]) != 0) {
            int k2 = (k + 1) >> 1;
            for (int i = 0; i < k2; i++) {
                int t = perm[i]; perm[i] = perm[k - i]; perm[k - i] = t;
            }
            flips++;
        }
        if (flips > maxflips) maxflips = flips;
        checksum += (permcount % 2 == 0) ? flips : -flips;
        for (;;) { /* next permutation */
            if (r == n) { fk_checksum = checksum; fk_maxflips = maxflips; return; }
            int p0 = perm1[0];
            for (int i = 0; i < r; i++) perm1[i] = perm1[i + 1];
            perm1[r] = p0;
            if (--count[r] > 0) break;
            r++;
        }
        permcount++;
    }
}

BENCH_EXPORT("bench_fannkuch") uint32_t bench_fannkuch(uint32_t n) {
    if (n < 3 || n > 15) return 0;
    fannkuch((int)n);
    return (uint32_t)fk_checksum * 256u + (uint32_t)fk_maxflips;
}

#ifndef BENCH_REACTOR
int main(int argc, char **argv) {
    uint32_t n = bench_size(argc, argv, 10);
    uint32_t c = bench_fannkuch(n);
    printf("%d\nPfannkuchen(%u) = %d\n", fk_checksum, n, fk_maxflips);
    printf("checksum %u\n", c);
    return 0;
}
#endif
