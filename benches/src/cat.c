/* cat.c - stdin -> stdout throughput: read(0)/write(1) in 64 KiB blocks until EOF.
 * The same source is compiled natively with gcc as the "native C cat" baseline, so the
 * only difference between the two is the runtime (WASI fd_read/fd_write vs syscalls). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char buf[64 * 1024];

int main(void) {
    for (;;) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n == 0) return 0;
        if (n < 0) {
            if (errno == EINTR) continue;
            fprintf(stderr, "cat: read: %s\n", strerror(errno));
            return 1;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(1, buf + off, (size_t)(n - off));
            if (w < 0) {
                if (errno == EINTR) continue;
                fprintf(stderr, "cat: write: %s\n", strerror(errno));
                return 1;
            }
            off += w;
        }
    }
}
