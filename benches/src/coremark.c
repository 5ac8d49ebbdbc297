/* coremark.c - a CoreMark-like integer mix (not EEMBC CoreMark; written for brine).
 * Each iteration runs the three CoreMark workloads on data seeded by the iteration:
 *   list:   a 256-node linked list: find, reverse, merge sort by two keys (function pointers)
 *   matrix: 32x32 int16 matrices: add constant, multiply by constant, by vector, by matrix,
 *           bit-extract of the products, clipped sums
 *   state:  a character state machine classifying comma-separated numeric tokens
 * and folds every result into a CRC-16. Size = iterations. Prints "checksum CRC". */
#include "bench.h"

static uint16_t crc16_byte(uint8_t data, uint16_t crc) {
    for (int i = 0; i < 8; i++) {
        uint8_t x16 = (uint8_t)((data & 1) ^ ((uint8_t)crc & 1));
        data >>= 1;
        if (x16 == 1) {
            crc ^= 0x4002;
            crc = (uint16_t)((crc >> 1) | 0x8000);
        } else {
            crc = (uint16_t)(crc >> 1);
        }
    }
    return crc;
}
static uint16_t crc16(uint16_t v, uint16_t crc) {
    crc = crc16_byte((uint8_t)v, crc);
    return crc16_byte((uint8_t)(v >> 8), crc);
}
static uint16_t crc32v(uint32_t v, uint16_t crc) {
    crc = crc16((uint16_t)v, crc);
    return crc16((uint16_t)(v >> 16), crc);
}

/* ---- list ---- */
#define LIST_N 256
typedef struct node {
    struct node *next;
    int16_t data;
    int16_t idx;
} node;
static node pool[LIST_N];

typedef int (*cmp_fn)(const node *, const node *);
static int cmp_data(const node *a, const node *b) {
    /* like CoreMark's cmp_complex: the key is a scrambled function of the data */
    int16_t ka = (int16_t)((a->data * 7) ^ (a->data >> 3)), kb = (int16_t)((b->data * 7) ^ (b->data >> 3));
    return (ka > kb) - (ka < kb);
}
static int cmp_idx(const node *a, const node *b) { return a->idx - b->idx; }

static node *list_init(uint32_t seed) {
    for (int i = 0; i < LIST_N; i++) {
        pool[i].data = (int16_t)(bench_rand(&seed) & 0x7fff);
        pool[i].idx = (int16_t)i;
        pool[i].next = i + 1 < LIST_N ? &pool[i + 1] : 0;
    }
    return &pool[0];
}
static node *list_reverse(node *l) {
    node *prev = 0;
    while (l) {
        node *n = l->next;
        l->next = prev;
        prev = l;
        l = n;
    }
    return prev;
}
static node *list_find(node *l, int16_t data) {
    while (l && (l->data & 0xff) != (data & 0xff)) l = l->next;
    return l;
}
static node *list_sort(node *list, cmp_fn cmp) { /* bottom-up merge sort (CoreMark's) */
    if (!list) return 0;
    for (int insize = 1;; insize *= 2) {
        node *p = list, *tail = 0;
        list = 0;
        int nmerges = 0;
        while (p) {
            nmerges++;
            node *q = p;
            int psize = 0;
            for (int i = 0; i < insize && q; i++) {
                psize++;
                q = q->next;
            }
            int qsize = insize;
            while (psize > 0 || (qsize > 0 && q)) {
                node *e;
                if (psize == 0) {
                    e = q; q = q->next; qsize--;
                } else if (qsize == 0 || !q) {
                    e = p; p = p->next; psize--;
                } else if (cmp(p, q) <= 0) {
                    e = p; p = p->next; psize--;
                } else {
                    e = q; q = q->next; qsize--;
                }
                if (tail) tail->next = e; else list = e;
                tail = e;
            }
            p = q;
        }
        tail->next = 0;
        if (nmerges <= 1) return list;
    }
}
static uint16_t bench_list(uint32_t seed, uint16_t crc) {
    node *l = list_init(seed);
    int found = 0, missed = 0;
    for (int i = 0; i < 64; i++) {
        node *f = list_find(l, (int16_t)(seed + i * 37));
        if (f) { found++; crc = crc16((uint16_t)f->idx, crc); } else missed++;
        l = list_reverse(l);
    }
    l = list_sort(l, cmp_data);
    for (node *p = l; p; p = p->next) crc = crc16((uint16_t)p->data, crc);
    l = list_sort(l, cmp_idx);
    uint32_t sum = 0;
    for (node *p = l; p; p = p->next) sum = sum * 3 + (uint32_t)p->data;
    crc = crc32v(sum, crc);
    return crc16((uint16_t)(found * 4 - missed), crc);
}

/* ---- matrix ---- */
#define MN 32
static int16_t ma[MN * MN], mb[MN * MN];
static int32_t mc[MN * MN];
static uint16_t matrix_sum(int32_t clipval) {
    int32_t tmp = 0, prev = 0;
    uint16_t ret = 0;
    for (int i = 0; i < MN * MN; i++) {
        int32_t cur = mc[i];
        tmp += cur;
        if (tmp > clipval) { ret += 10; tmp = 0; } else { ret += (cur > prev) ? 1 : 0; }
        prev = cur;
    }
    return ret;
}
static uint16_t bench_matrix(uint32_t seed, uint16_t crc) {
    int16_t val = (int16_t)(seed & 0xff) | 1;
    for (int i = 0; i < MN * MN; i++) {
        ma[i] = (int16_t)((bench_rand(&seed) & 0xffff) >> 4);
        mb[i] = (int16_t)(bench_rand(&seed) & 0xff);
    }
    for (int i = 0; i < MN * MN; i++) ma[i] = (int16_t)(ma[i] + val);            /* add const */
    for (int i = 0; i < MN * MN; i++) mc[i] = (int32_t)ma[i] * (int32_t)val;      /* mul const */
    crc = crc16(matrix_sum(0x7fff), crc);
    for (int i = 0; i < MN; i++) {                                               /* mul vect */
        int32_t s = 0;
        for (int j = 0; j < MN; j++) s += (int32_t)ma[i * MN + j] * (int32_t)mb[j];
        mc[i] = s;
    }
    crc = crc16(matrix_sum(0x7fff), crc);
    for (int i = 0; i < MN; i++)                                                 /* mul matrix */
        for (int j = 0; j < MN; j++) {
            int32_t s = 0;
            for (int k = 0; k < MN; k++) s += (int32_t)ma[i * MN + k] * (int32_t)mb[k * MN + j];
            mc[i * MN + j] = s;
        }
    crc = crc16(matrix_sum(0x7fff), crc);
    for (int i = 0; i < MN; i++)                                                 /* bit extract */
        for (int j = 0; j < MN; j++) {
            int32_t s = 0;
            for (int k = 0; k < MN; k++) {
                int32_t t = (int32_t)ma[i * MN + k] * (int32_t)mb[k * MN + j];
                s += ((t >> 2) & 0xf) * ((t >> 5) & 0x7f);
            }
            mc[i * MN + j] = s;
        }
    return crc16(matrix_sum(0x7fff), crc);
}

/* ---- state machine ---- */
enum { S_START, S_INT, S_FLOAT, S_EXP, S_SCI, S_HEX, S_INVALID, S_NSTATES };
static char sbuf[1024];
static void state_fill(uint32_t seed) {
    static const char *const toks[] = {"5012", "1234", "-874", "+122", "35.54400", ".1234500",
                                       "-110.700", "+0.64400", "5.500e+3", "-.123e-2", "-87e+832",
                                       "+0.6e-12", "T0.3e-1F", "-T.T++Tq", "1T3.4e4z", "34.0e-T^",
                                       "0x1f2a", "0xdead", "0xz1", "--", "7"};
    size_t pos = 0;
    while (pos + 12 < sizeof sbuf) {
        const char *t = toks[bench_rand(&seed) % (sizeof toks / sizeof toks[0])];
        while (*t) sbuf[pos++] = *t++;
        sbuf[pos++] = ',';
    }
    sbuf[pos] = 0;
}
static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int next_state(const char **pstr, uint32_t *transitions) {
    const char *str = *pstr;
    int state = S_START;
    for (; *str && state != S_INVALID; str++) {
        char c = *str;
        if (c == ',') { str++; break; }
        switch (state) {
        case S_START:
            if (is_digit(c)) state = (c == '0' && (str[1] == 'x' || str[1] == 'X')) ? S_HEX : S_INT;
            else if (c == '+' || c == '-') state = S_INT;
            else if (c == '.') state = S_FLOAT;
            else { state = S_INVALID; transitions[S_INVALID]++; }
            transitions[S_START]++;
            break;
        case S_INT:
            if (c == '.') { state = S_FLOAT; transitions[S_INT]++; }
            else if (!is_digit(c)) { state = S_INVALID; transitions[S_INT]++; }
            break;
        case S_FLOAT:
            if (c == 'E' || c == 'e') { state = S_EXP; transitions[S_FLOAT]++; }
            else if (!is_digit(c)) { state = S_INVALID; transitions[S_FLOAT]++; }
            break;
        case S_EXP:
            if (c == '+' || c == '-') { state = S_SCI; transitions[S_EXP]++; }
            else { state = S_INVALID; transitions[S_EXP]++; }
            break;
        case S_SCI:
            if (!is_digit(c)) { state = S_INVALID; transitions[S_SCI]++; }
            break;
        case S_HEX:
            if (c == 'x' || c == 'X' || is_digit(c) || (c >= 'a' && c <= 'f')) transitions[S_HEX]++;
            else { state = S_INVALID; }
            break;
        default:
            break;
        }
    }
    *pstr = str;
    return state;
}
static uint16_t bench_state(uint32_t seed, uint16_t crc) {
    uint32_t finals[S_NSTATES] = {0}, transitions[S_NSTATES] = {0};
    state_fill(seed);
    for (int pass = 0; pass < 2; pass++) {
        const char *p = sbuf;
        while (*p) finals[next_state(&p, transitions)]++;
        /* corrupt every 7th character, as CoreMark does between passes */
        for (size_t i = 0; sbuf[i]; i += 7)
            if (sbuf[i] != ',') sbuf[i] ^= (char)(seed & 0x3);
    }
    for (int i = 0; i < S_NSTATES; i++) {
        crc = crc32v(finals[i], crc);
        crc = crc32v(transitions[i], crc);
    }
    return crc;
}

BENCH_EXPORT("bench_coremark") uint32_t bench_coremark(uint32_t iterations) {
    uint16_t crc = 0;
    for (uint32_t it = 0; it < iterations; it++) {
        uint32_t seed = 0x9e3779b9u ^ (it * 2654435761u);
        if (seed == 0) seed = 1;
        crc = bench_list(seed, crc);
        crc = bench_matrix(seed, crc);
        crc = bench_state(seed, crc);
    }
    return crc;
}

#ifndef BENCH_REACTOR
int main(int argc, char **argv) {
    uint32_t n = bench_size(argc, argv, 400);
    printf("coremark-like: %u iterations\n", n);
    printf("checksum %u\n", bench_coremark(n));
    return 0;
}
#endif
