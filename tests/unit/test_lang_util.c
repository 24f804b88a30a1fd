/*
 * test_lang_util.c — helpers shared by the language's unit tests: an
 * interpreter whose output and errors go to growable buffers.
 */
#include <stdlib.h>
#include <string.h>

#include "mlp.h"

typedef struct tl_capture {
    char *out, *err;
    size_t nout, nerr;
} tl_capture;

static void append(char **p, size_t *n, const char *s, size_t len) {
    *p = (char *)realloc(*p, *n + len + 1);
    memcpy(*p + *n, s, len);
    *n += len;
    (*p)[*n] = '\0';
}
static void w_out(void *ud, const char *s, size_t n) {
    tl_capture *c = (tl_capture *)ud;
    append(&c->out, &c->nout, s, n);
}
static void w_err(void *ud, const char *s, size_t n) {
    tl_capture *c = (tl_capture *)ud;
    append(&c->err, &c->nerr, s, n);
}

mlp_vm *tl_vm(tl_capture *c);
void tl_reset(tl_capture *c);
mlp_status tl_run(mlp_vm *vm, const char *src);

mlp_vm *tl_vm(tl_capture *c) {
    memset(c, 0, sizeof *c);
    append(&c->out, &c->nout, "", 0);
    append(&c->err, &c->nerr, "", 0);
    mlp_config cfg = {0};
    cfg.write_out = w_out;
    cfg.write_err = w_err;
    cfg.ud = c;
    return mlp_vm_new(&cfg);
}

void tl_reset(tl_capture *c) {
    free(c->out);
    free(c->err);
    memset(c, 0, sizeof *c);
    append(&c->out, &c->nout, "", 0);
    append(&c->err, &c->nerr, "", 0);
}

mlp_status tl_run(mlp_vm *vm, const char *src) {
    return mlp_run_source(vm, "t.mlp", src, strlen(src));
}
