/* parser.c - a small language front end: generates a program of SIZE statements
 * (default 200000) like
 *     total_17 = (alpha_3 * 1234 + min(beta_9, 77)) % (gamma_1 | 5) ;
 * into a text buffer, then tokenizes it, parses it by recursive descent (precedence
 * climbing) and evaluates it over a hash table of variables (uint32 arithmetic, x/0 = 0).
 * Prints the text size and "checksum H", a hash of every assigned value. */
#include "bench.h"
#include <string.h>

/* ---------------- generator ---------------- */
static const char *const names[] = {"alpha", "beta", "gamma", "delta", "total", "acc", "tmp", "x", "y", "zeta"};
static char *text;
static size_t tlen, tcap;
static uint32_t gseed;

static void emit(const char *s) {
    size_t n = strlen(s);
    if (tlen + n + 1 > tcap) {
        tcap = (tcap + n + 1) * 2;
        text = realloc(text, tcap);
        if (!text) abort();
    }
    memcpy(text + tlen, s, n + 1);
    tlen += n;
}
static void emit_u(uint32_t v) {
    char b[12], *p = b + 11;
    *p = 0;
    do { *--p = (char)('0' + v % 10); v /= 10; } while (v);
    emit(p);
}
static void emit_var(void) {
    emit(names[bench_rand(&gseed) % 10]);
    emit("_");
    emit_u(bench_rand(&gseed) % 32);
}
static void gen_expr(int depth) {
    uint32_t r = bench_rand(&gseed) % 16;
    if (depth <= 0 || r < 5) {
        if (r & 1) emit_var(); else emit_u(bench_rand(&gseed) % 10000);
        return;
    }
    if (r < 7) { emit("("); gen_expr(depth - 1); emit(")"); return; }
    if (r < 8) { emit(bench_rand(&gseed) & 1 ? "max(" : "min("); gen_expr(depth - 1); emit(", "); gen_expr(depth - 1); emit(")"); return; }
    if (r < 9) { emit("-"); gen_expr(depth - 1); return; }
    static const char *const ops[] = {" + ", " - ", " * ", " / ", " % ", " & ", " | ", " ^ ", " << ", " >> ", " + ", " * "};
    gen_expr(depth - 1);
    emit(ops[bench_rand(&gseed) % 12]);
    gen_expr(depth - 1);
}
static void generate(uint32_t statements) {
    gseed = 0xC0FFEEu;
    tlen = 0;
    emit("");
    for (uint32_t i = 0; i < statements; i++) {
        emit_var();
        emit(" = ");
        gen_expr(4);
        emit(" ;\n");
    }
}

/* ---------------- lexer ---------------- */
enum { T_EOF, T_NUM, T_IDENT, T_OP, T_LP, T_RP, T_COMMA, T_ASSIGN, T_SEMI };
typedef struct { int kind; uint32_t num; const char *s; uint32_t len; int op; } token;
static const char *src;
static token tok;

static void next(void) {
    while (*src == ' ' || *src == '\n' || *src == '\t' || *src == '\r') src++;
    const char *s = src;
    tok.s = s;
    char c = *s;
    if (c == 0) { tok.kind = T_EOF; return; }
    if (c >= '0' && c <= '9') {
        uint32_t v = 0;
        while (*s >= '0' && *s <= '9') v = v * 10 + (uint32_t)(*s++ - '0');
        tok.kind = T_NUM; tok.num = v;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
        while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_') s++;
        tok.kind = T_IDENT;
    } else if (c == '<' && s[1] == '<') { tok.kind = T_OP; tok.op = 'l'; s += 2;
    } else if (c == '>' && s[1] == '>') { tok.kind = T_OP; tok.op = 'r'; s += 2;
    } else {
        s++;
        switch (c) {
        case '(': tok.kind = T_LP; break;
        case ')': tok.kind = T_RP; break;
        case ',': tok.kind = T_COMMA; break;
        case '=': tok.kind = T_ASSIGN; break;
        case ';': tok.kind = T_SEMI; break;
        default: tok.kind = T_OP; tok.op = c; break;
        }
    }
    tok.len = (uint32_t)(s - tok.s);
    src = s;
}

/* ---------------- variables: open-addressing hash table ---------------- */
#define HT 1024
typedef struct { const char *name; uint32_t len; uint32_t value; } slot;
static slot table[HT];

static slot *lookup(const char *name, uint32_t len) {
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < len; i++) h = (h ^ (uint8_t)name[i]) * 16777619u;
    for (uint32_t i = h & (HT - 1);; i = (i + 1) & (HT - 1)) {
        if (!table[i].name) { table[i].name = name; table[i].len = len; table[i].value = 0; return &table[i]; }
        if (table[i].len == len && memcmp(table[i].name, name, len) == 0) return &table[i];
    }
}

/* ---------------- parser + evaluator ---------------- */
static int parse_error;
static void expect(int kind) {
    if (tok.kind != kind) parse_error = 1;
    next();
}
static int prec(int op) {
    switch (op) {
    case '|': return 1;
    case '^': return 2;
    case '&': return 3;
    case 'l': case 'r': return 4;
    case '+': case '-': return 5;
    case '*': case '/': case '%': return 6;
    default: return 0;
    }
}
static uint32_t expr(int minprec);
static uint32_t primary(void) {
    if (tok.kind == T_NUM) { uint32_t v = tok.num; next(); return v; }
    if (tok.kind == T_OP && tok.op == '-') { next(); return 0u - primary(); }
    if (tok.kind == T_LP) { next(); uint32_t v = expr(1); expect(T_RP); return v; }
    if (tok.kind == T_IDENT) {
        const char *name = tok.s;
        uint32_t len = tok.len;
        next();
        if (tok.kind == T_LP) {
            next();
            uint32_t a = expr(1);
            expect(T_COMMA);
            uint32_t b = expr(1);
            expect(T_RP);
            if (len == 3 && memcmp(name, "min", 3) == 0) return a < b ? a : b;
            if (len == 3 && memcmp(name, "max", 3) == 0) return a > b ? a : b;
            parse_error = 1;
            return 0;
        }
        return lookup(name, len)->value;
    }
    parse_error = 1;
    next();
    return 0;
}
static uint32_t expr(int minprec) {
    uint32_t lhs = primary();
    while (tok.kind == T_OP && prec(tok.op) >= minprec) {
        int op = tok.op, p = prec(op);
        next();
        uint32_t rhs = expr(p + 1);
        switch (op) {
        case '+': lhs += rhs; break;
        case '-': lhs -= rhs; break;
        case '*': lhs *= rhs; break;
        case '/': lhs = rhs ? lhs / rhs : 0; break;
        case '%': lhs = rhs ? lhs % rhs : 0; break;
        case '&': lhs &= rhs; break;
        case '|': lhs |= rhs; break;
        case '^': lhs ^= rhs; break;
        case 'l': lhs <<= (rhs & 31); break;
        case 'r': lhs >>= (rhs & 31); break;
        }
    }
    return lhs;
}
static uint32_t run_program(const char *program) {
    memset(table, 0, sizeof table);
    src = program;
    parse_error = 0;
    next();
    uint32_t h = 0;
    while (tok.kind == T_IDENT) {
        slot *target = lookup(tok.s, tok.len);
        next();
        expect(T_ASSIGN);
        uint32_t v = expr(1);
        expect(T_SEMI);
        target->value = v;
        h = (h ^ v) * 16777619u + 1;
    }
    if (tok.kind != T_EOF || parse_error) return 0xdeadbeefu;
    return h;
}

BENCH_EXPORT("bench_parser") uint32_t bench_parser(uint32_t statements) {
    generate(statements);
    return run_program(text);
}

#ifndef BENCH_REACTOR
int main(int argc, char **argv) {
    uint32_t n = bench_size(argc, argv, 200000);
    uint32_t h = bench_parser(n);
    printf("parser: %u statements, %lu bytes of source\n", n, (unsigned long)tlen);
    printf("checksum %u\n", h);
    return 0;
}
#endif
