/* hello.c - startup cost: prints "Hello, world!" and exits 0. */
#include <stdio.h>

int main(void) {
    fputs("Hello, world!\n", stdout);
    return 0;
}
