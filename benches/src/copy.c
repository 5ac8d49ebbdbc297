/* copy.c - file -> file copy through WASI preopens: copy SRC to DST (created/truncated)
 * with read/write in 64 KiB blocks; prints "checksum BYTES" (the number of bytes copied). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char buf[64 * 1024];

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s SRC DST\n", argv[0]);
        return 2;
    }
    int in = open(argv[1], O_RDONLY);
    if (in < 0) {
        fprintf(stderr, "copy: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    int out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0) {
        fprintf(stderr, "copy: %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    unsigned long long total = 0;
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n == 0) break;
        if (n < 0) {
            fprintf(stderr, "copy: read: %s\n", strerror(errno));
            return 1;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0) {
                fprintf(stderr, "copy: write: %s\n", strerror(errno));
                return 1;
            }
            off += w;
        }
        total += (unsigned long long)n;
    }
    if (close(out) != 0) {
        fprintf(stderr, "copy: close: %s\n", strerror(errno));
        return 1;
    }
    close(in);
    printf("checksum %llu\n", total);
    return 0;
}
