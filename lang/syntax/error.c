/*
 * error.c — formats `file:line:col: error: message`, the line and a caret.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "vm.h"

/* Decodes one UTF-8 code point at s (n bytes available); *adv gets its
 * length. Invalid bytes decode as themselves, one byte long. */
static unsigned decode(const unsigned char *s, size_t n, int *adv) {
    int l = utf8_len(s[0]);
    if ((size_t)l > n) l = 1;
    *adv = l;
    if (l == 1) return s[0];
    unsigned cp = s[0] & (0xFF >> (l + 1));
    for (int i = 1; i < l; i++) cp = (cp << 6) | (s[i] & 0x3F);
    return cp;
}

/* East Asian wide ranges (Hangul, CJK, full-width forms) take two columns
 * in a terminal. */
static bool wide(unsigned cp) {
    return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
           (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
           (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
           (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1FAFF) ||
           (cp >= 0x20000 && cp <= 0x3FFFD);
}

/* Byte offset of code point `n` (0-based) of the line s[i..e), or e. */
static size_t cp_offset(const char *src, size_t i, size_t e, int n) {
    while (n > 0 && i < e) {
        int adv;
        decode((const unsigned char *)src + i, e - i, &adv);
        i += (size_t)adv;
        n--;
    }
    return i;
}

void err_format(StrBuf *b, const char *file, const char *src, size_t len, int line, int col,
                const char *msg) {
    sb_printf(b, "%s:%d:%d: error: %s\n", file, line, col, msg);
    if (!src || line < 1) return;
    /* find the line */
    size_t i = 0;
    for (int l = 1; l < line && i < len; i++)
        if (src[i] == '\n') l++;
    if (i > len) return;
    size_t end = i;
    while (end < len && src[end] != '\n') end++;
    size_t e2 = end;
    if (e2 > i && src[e2 - 1] == '\r') e2--;
    if (i == len && line > 1 && (len == 0 || src[len - 1] == '\n')) {
        /* the position is at the end of input, after the last newline */
        sb_addc(b, "    \n    ^\n");
        return;
    }
    if (i == 0 && e2 >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0) i = 3; /* a BOM is skipped */
    /* A long line is shown as a window around the caret, "..." marking
     * what is cut off, so one error never prints a megabyte. */
    int ncp = 0;
    for (size_t p = i; p < e2 && ncp <= ERR_LINE_MAX; ncp++) {
        int adv;
        decode((const unsigned char *)src + p, e2 - p, &adv);
        p += (size_t)adv;
    }
    int first = 1; /* column of the first code point shown */
    bool cut_left = false, cut_right = false;
    if (ncp > ERR_LINE_MAX) {
        first = col - ERR_LINE_MAX / 2;
        if (first < 1) first = 1;
        cut_left = first > 1;
        size_t from = cp_offset(src, i, e2, first - 1);
        size_t to = cp_offset(src, from, e2, ERR_LINE_MAX - 6);
        cut_right = to < e2;
        i = from;
        e2 = to;
    }
    sb_addc(b, cut_left ? "    ..." : "    ");
    sb_add(b, src + i, e2 - i);
    sb_addc(b, cut_right ? "...\n    " : "\n    ");
    if (cut_left) sb_addc(b, "   ");
    int c = first;
    size_t p = i;
    while (c < col && p < e2) {
        int adv;
        unsigned cp = decode((const unsigned char *)src + p, e2 - p, &adv);
        if (cp == '\t') sb_addc(b, "\t");
        else sb_addc(b, wide(cp) ? "  " : " ");
        p += (size_t)adv;
        c++;
    }
    while (c < col) { /* column past the end of the line (end of input) */
        sb_addc(b, " ");
        c++;
    }
    sb_addc(b, "^\n");
}

void err_write(mlp_vm *vm, const char *s, size_t n) {
    if (vm->cfg.write_err) {
        vm->cfg.write_err(vm->cfg.ud, s, n);
    } else {
        /* what the program printed before the error comes before it */
        if (!vm->cfg.write_out) fflush(stdout);
        fwrite(s, 1, n, stderr);
    }
}

void err_print(mlp_vm *vm, const char *file, const char *src, size_t len, int line, int col,
               const char *msg) {
    StrBuf b = {0};
    err_format(&b, file, src, len, line, col, msg);
    err_write(vm, b.p, b.n);
    free(b.p);
}
