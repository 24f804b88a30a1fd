/*
 * error.h — the one printer of located errors.
 *
 * Every user-facing error, compile-time or run-time, is printed as
 *
 *     file:line:col: error: message
 *         the source line
 *                 ^
 *
 * Lines and columns are 1-based; a column counts code points, so a caret
 * under Korean text lands under the right character. The caret line copies
 * the tabs of the source line (so it lines up however tabs are shown) and
 * puts two spaces under East Asian wide characters. A line longer than
 * ERR_LINE_MAX code points is shown as a window of that width around the
 * caret, "..." marking each cut end.
 *
 * One chunk reports at most ERR_MAX errors; the next one is reported as
 * "too many errors" (first line only) and the rest are not printed.
 */
#ifndef MLP_ERROR_H
#define MLP_ERROR_H

#include <stddef.h>

#include "value.h"

#define ERR_MAX 20
#define ERR_MAX_TEXT "20"
#define ERR_LINE_MAX 120

/* Appends the three-line report to b (src may be NULL: then only the
 * first line). */
void err_format(StrBuf *b, const char *file, const char *src, size_t len, int line, int col,
                const char *msg);
/* Formats and writes the report to the VM's error callback. */
void err_print(mlp_vm *vm, const char *file, const char *src, size_t len, int line, int col,
               const char *msg);
/* Writes raw text to the error callback. */
void err_write(mlp_vm *vm, const char *s, size_t n);

#endif
