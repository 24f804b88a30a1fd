/* checkpoint.c — fit's checkpoints, as safetensors with the fit's state (checkpoint.h). */
#include "checkpoint.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

void std_ckpt_config(char *buf, size_t size, const rt_optim *opt, const rt_dataset *train,
                     long epochs, long batch, rt_loss loss)
{
    char o[256];
    rt_optim_describe(opt, o, sizeof o);
    snprintf(buf, size, "epochs=%ld batch=%ld loss=%s optimizer=%s data=%lldx%lld", epochs, batch,
             rt_loss_name(loss), o, (long long)train->n, (long long)train->features);
}

/* doubles and 64-bit words as text that reads back exactly */
static json_t *hexd(double x)
{
    char b[40];
    snprintf(b, sizeof b, "%a", x);
    return json_string(b);
}
static json_t *u64s(uint64_t x)
{
    char b[24];
    snprintf(b, sizeof b, "%llu", (unsigned long long)x);
    return json_string(b);
}
static double get_d(json_t *v) { return json_is_string(v) ? strtod(json_string_value(v), NULL) : 0; }
static uint64_t get_u(json_t *v)
{
    return json_is_string(v) ? strtoull(json_string_value(v), NULL, 10) : 0;
}

static json_t *rng_json(const rt_rng *r)
{
    uint32_t spare;
    memcpy(&spare, &r->spare, 4);
    return json_pack("[o,o,o,I,I,I,I,i,i,I]", u64s(r->seed), u64s(r->stream), u64s(r->block),
                     (json_int_t)r->buf[0], (json_int_t)r->buf[1], (json_int_t)r->buf[2],
                     (json_int_t)r->buf[3], r->used, r->has_spare, (json_int_t)spare);
}

static void rng_from(json_t *a, rt_rng *r)
{
    r->seed = get_u(json_array_get(a, 0));
    r->stream = get_u(json_array_get(a, 1));
    r->block = get_u(json_array_get(a, 2));
    for (int i = 0; i < 4; i++) r->buf[i] = (uint32_t)json_integer_value(json_array_get(a, 3 + (size_t)i));
    r->used = (int)json_integer_value(json_array_get(a, 7));
    r->has_spare = (int)json_integer_value(json_array_get(a, 8));
    uint32_t spare = (uint32_t)json_integer_value(json_array_get(a, 9));
    memcpy(&r->spare, &spare, 4);
}

bool std_ckpt_save(mlp_vm *vm, const char *path, std_model *m, const char *config,
                   const std_ckpt *c)
{
    json_t *st = json_object();
    json_object_set_new(st, "done", json_integer(c->done));
    json_object_set_new(st, "shuffle_seed", u64s(m->shuffle_seed));
    json_object_set_new(st, "epochs_run", json_integer(m->epochs_run));
    json_object_set_new(st, "steps", json_integer(rt_optim_steps(m->opt)));
    int nacc;
    double *acc = rt_optim_accs(m->opt, &nacc);
    json_t *accs = json_array(), *rngs = json_array(), *hist = json_array();
    for (int i = 0; i < nacc; i++) json_array_append_new(accs, hexd(acc[i]));
    for (int i = 0; i < rt_model_nlayers(m->m); i++)
        json_array_append_new(rngs, rng_json(&rt_model_layer(m->m, i)->rng));
    for (long e = 0; e < c->done; e++) {
        const rt_epoch_stats *s = &c->stats[e];
        json_t *row = json_pack("[o,o,o,o,o,o]", hexd(s->loss), hexd(s->acc), hexd(s->val_loss),
                                hexd(s->val_acc), hexd(s->seconds), hexd(s->lr));
        for (int x = 0; x < 16; x++) json_array_append_new(row, hexd(s->extra[x]));  /* metrics */
        json_array_append_new(hist, row);
    }
    const std_control *ctl = c->ctl;
    if (ctl)
        json_object_set_new(st, "control",
                            json_pack("[o,o,I,o,I,I,b]", hexd(ctl->sst.lr), hexd(ctl->sst.best),
                                      (json_int_t)ctl->sst.wait, hexd(ctl->es_best),
                                      (json_int_t)ctl->es_wait, (json_int_t)ctl->es_best_epoch,
                                      ctl->stopped));
    json_object_set_new(st, "accs", accs);
    json_object_set_new(st, "rngs", rngs);
    json_object_set_new(st, "history", hist);
    char *state = json_dumps(st, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(st);

    rt_st_meta meta[7] = { { "format", "mlp-checkpoint" } };
    char *owned[2];
    if (!state) return mlp_raise(vm, "fit: out of memory writing a checkpoint");
    if (!std_model_meta(vm, "fit", m, meta + 1, owned)) {
        free(state);
        return false;
    }
    meta[5] = (rt_st_meta){ "ckpt.fit", (char *)config };
    meta[6] = (rt_st_meta){ "ckpt.state", state };

    rt_st_tensor *w;
    int nw = std_weight_tensors(m, &w);
    int ns = rt_optim_nstate(m->opt);
    bool best = ctl && ctl->best;
    rt_st_tensor *all = nw >= 0 ? calloc((size_t)(nw + ns) + 2, sizeof *all) : NULL;
    char (*names)[32] = calloc((size_t)ns + 1, sizeof *names);
    rt_error err = { 0 };
    bool ok = all && names;
    if (ok) {
        memcpy(all, w, (size_t)nw * sizeof *all);
        for (int i = 0; i < ns; i++) {
            long size;
            rt_st_tensor *t = &all[nw + i];
            t->data = rt_optim_state(m->opt, i, &size);
            snprintf(names[i], sizeof names[i], "optimizer.state.%d", i);
            t->name = names[i];
            t->shape = rt_shape_1d(size);
        }
        if (best)
            all[nw + ns] = (rt_st_tensor){ .name = "optimizer.best_weights", .data = ctl->best,
                                           .shape = rt_shape_1d(ctl->nbest) };
        ok = rt_st_write(path, all, nw + ns + best, meta, 7, &err);
    } else {
        snprintf(err.msg, sizeof err.msg, "out of memory");
    }
    if (nw >= 0) free(w);
    free(all);
    free(names);
    free(owned[0]);
    free(owned[1]);
    free(state);
    return ok ? true : (err.io ? mlp_raise_io : mlp_raise)(vm, "fit: checkpoint %s", err.msg);
}

/* The control state saved with the checkpoint; the fit's own settings
 * (which the configuration check has compared) stay as given. */
static bool control_from(mlp_vm *vm, const char *path, std_control *ctl, json_t *a,
                         const rt_st_file *f, std_model *m)
{
    if (!json_is_array(a) || json_array_size(a) != 7)
        return mlp_raise(vm, "fit: resume: %s: the saved training control is missing", path);
    ctl->sst.lr = get_d(json_array_get(a, 0));
    ctl->sst.best = get_d(json_array_get(a, 1));
    ctl->sst.wait = (long)json_integer_value(json_array_get(a, 2));
    ctl->es_best = get_d(json_array_get(a, 3));
    ctl->es_wait = (long)json_integer_value(json_array_get(a, 4));
    ctl->es_best_epoch = (long)json_integer_value(json_array_get(a, 5));
    ctl->stopped = json_is_true(json_array_get(a, 6));
    const rt_st_tensor *t = rt_st_find(f, "optimizer.best_weights");
    if (!t || !ctl->es_restore) return true;
    rt_param *p;
    long total = 0;
    for (int i = 0, np = rt_model_params(m->m, &p); i < np; i++) total += p[i].size;
    if (!rt_shape_eq(&t->shape, &(rt_shape){ 1, { total } }))
        return mlp_raise(vm, "fit: resume: %s: the saved best weights do not match the model", path);
    ctl->best = malloc((size_t)total * sizeof *ctl->best + 1);
    if (!ctl->best) return mlp_raise(vm, "fit: resume: out of memory");
    memcpy(ctl->best, t->data, (size_t)total * sizeof *ctl->best);
    ctl->nbest = total;
    return true;
}

/* The same fit but for more epochs (a promoted point of a sweep's halving,
 * sweep.c): the configurations equal after "epochs=N", and N no fewer. */
static bool more_epochs(const char *saved, const char *config)
{
    char *a, *b;
    long ns = strtol(saved + (strncmp(saved, "epochs=", 7) == 0 ? 7 : 0), &a, 10);
    long nc = strtol(config + (strncmp(config, "epochs=", 7) == 0 ? 7 : 0), &b, 10);
    return strncmp(saved, "epochs=", 7) == 0 && strncmp(config, "epochs=", 7) == 0 &&
           ns <= nc && strcmp(a, b) == 0;
}

bool std_ckpt_load(mlp_vm *vm, const char *path, std_model *m, const char *config, std_ckpt *c)
{
    *c = (std_ckpt){ .ctl = c->ctl };
    rt_st_file f;
    rt_error err;
    if (!rt_st_read(path, &f, &err)) return mlp_raise(vm, "fit: resume: %s", err.msg);
    const char *fmt = rt_st_meta_get(&f, "format"), *cfg = rt_st_meta_get(&f, "ckpt.fit");
    const char *state = rt_st_meta_get(&f, "ckpt.state");
    json_t *st = state ? json_loads(state, 0, NULL) : NULL;
    bool ok = false;
    if (!fmt || strcmp(fmt, "mlp-checkpoint") != 0 || !cfg || !json_is_object(st)) {
        mlp_raise(vm, "fit: resume: %s is not a checkpoint written by fit(checkpoint=)", path);
        goto done;
    }
    if (strcmp(cfg, config) != 0 &&
        !(std_host_of(vm)->extend_epochs && more_epochs(cfg, config))) {
        mlp_raise(vm, "fit: resume: %s was written by another fit (%s); this fit is %s", path, cfg,
                  config);
        goto done;
    }
    if (!std_weights_from_file(vm, "fit: resume", path, m, &f, "optimizer.")) goto done;
    rt_param *params;
    int np = rt_model_params(m->m, &params);
    if (!rt_optim_prepare(m->opt, params, np, &err)) {
        mlp_raise(vm, "fit: resume: %s", err.msg);
        goto done;
    }
    for (int i = 0; i < rt_optim_nstate(m->opt); i++) {
        char name[32];
        long size;
        float *dst = rt_optim_state(m->opt, i, &size);
        snprintf(name, sizeof name, "optimizer.state.%d", i);
        const rt_st_tensor *t = rt_st_find(&f, name);
        if (!t || !rt_shape_eq(&t->shape, &(rt_shape){ 1, { size } })) {
            mlp_raise(vm, "fit: resume: %s: optimizer state %d is missing or of the wrong size",
                      path, i);
            goto done;
        }
        memcpy(dst, t->data, sizeof(float) * (size_t)size);
    }
    json_t *rngs = json_object_get(st, "rngs"), *hist = json_object_get(st, "history");
    json_t *accs = json_object_get(st, "accs");
    if ((int)json_array_size(rngs) != rt_model_nlayers(m->m) || !json_is_array(hist)) {
        mlp_raise(vm, "fit: resume: %s: the saved state does not match the model", path);
        goto done;
    }
    for (int i = 0; i < rt_model_nlayers(m->m); i++)
        rng_from(json_array_get(rngs, (size_t)i), &rt_model_layer(m->m, i)->rng);
    int nacc;
    double *acc = rt_optim_accs(m->opt, &nacc);
    for (int i = 0; i < nacc && i < (int)json_array_size(accs); i++)
        acc[i] = get_d(json_array_get(accs, (size_t)i));
    rt_optim_set_steps(m->opt, (long)json_integer_value(json_object_get(st, "steps")));
    m->shuffle_seed = get_u(json_object_get(st, "shuffle_seed"));
    m->epochs_run = (long)json_integer_value(json_object_get(st, "epochs_run"));
    c->done = (long)json_array_size(hist);
    c->stats = calloc((size_t)c->done + 1, sizeof *c->stats);
    if (!c->stats) {
        mlp_raise(vm, "fit: resume: out of memory");
        goto done;
    }
    for (long e = 0; e < c->done; e++) {
        json_t *row = json_array_get(hist, (size_t)e);
        rt_epoch_stats *t = &c->stats[e];
        *t = (rt_epoch_stats){ .epoch = (int)e + 1, .loss = get_d(json_array_get(row, 0)),
                               .acc = get_d(json_array_get(row, 1)),
                               .val_loss = get_d(json_array_get(row, 2)),
                               .val_acc = get_d(json_array_get(row, 3)),
                               .seconds = get_d(json_array_get(row, 4)), .lr = NAN };
        if (json_array_size(row) > 5) t->lr = get_d(json_array_get(row, 5));
        for (int x = 0; x < 16 && 6 + x < (int)json_array_size(row); x++)
            t->extra[x] = get_d(json_array_get(row, 6 + (size_t)x));
    }
    if (c->ctl && !control_from(vm, path, c->ctl, json_object_get(st, "control"), &f, m))
        goto done;
    ok = true;
done:
    json_decref(st);
    rt_st_free(&f);
    return ok;
}
