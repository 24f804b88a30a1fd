/*
 * test_model.c — the model as a whole: summary counts, a small training run
 * that learns, bit-identical results across thread counts and SIMD paths,
 * allocation-free steps, errors.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "model.h"
#include "tensor.h"

static rt_layer_spec study_net[] = {
    {0}, {0}, {0}, {0}, {0}, {0},
};

static void make_study(rt_act act)
{
    study_net[0] = rt_spec_flatten(2, (int[]){28, 28});
    study_net[1] = rt_spec_dense(50, act, RT_INIT_GLOROT_UNIFORM);
    study_net[2] = rt_spec_batchnorm(0.99f, 1e-3f);
    study_net[3] = rt_spec_dense(50, act, RT_INIT_GLOROT_UNIFORM);
    study_net[4] = rt_spec_batchnorm(0.99f, 1e-3f);
    study_net[5] = rt_spec_dense(10, RT_ACT_SOFTMAX, RT_INIT_GLOROT_UNIFORM);
}

Test(model, study_network_parameter_counts)
{
    make_study(RT_ACT_RELU);
    rt_rng rng;
    rt_rng_init(&rng, 777, RT_STREAM_INIT);
    rt_error err;
    rt_model *m = rt_model_create(study_net, 6, 784, &rng, NULL, &err);
    cr_assert(m, "%s", err.msg);
    long tr, nt;
    rt_model_param_counts(m, &tr, &nt);
    cr_expect(tr + nt == 42710, "total %ld", tr + nt);
    cr_expect(nt == 200, "non-trainable %ld", nt);
    rt_layer_info info;
    rt_model_layer_info(m, 1, &info);
    cr_expect(strcmp(info.kind, "dense") == 0 && strcmp(info.activation, "relu") == 0);
    cr_expect(info.out == 50 && info.trainable == 784 * 50 + 50 && info.non_trainable == 0);
    rt_model_layer_info(m, 2, &info);
    cr_expect(info.trainable == 100 && info.non_trainable == 100);
    rt_model_layer_info(m, 0, &info);
    cr_expect(strcmp(info.kind, "flatten") == 0 && info.out == 784 && info.trainable == 0);
    /* glorot_uniform: within the limit, variance l^2/3 */
    rt_param *ps;
    int np = rt_model_params(m, &ps);
    cr_expect(np == 2 + 4 + 2 + 4 + 2);
    double lim = sqrt(6.0 / (784 + 50)), s2 = 0;
    for (long i = 0; i < ps[0].size; i++) {
        cr_assert(fabsf(ps[0].w[i]) <= lim);
        s2 += (double)ps[0].w[i] * ps[0].w[i];
    }
    cr_expect(fabs(s2 / ps[0].size / (lim * lim / 3) - 1) < 0.03);
    rt_model_free(m);
}

/* Two Gaussian blobs per class in 2-D, 3 classes; one-hot targets. */
static void blobs(rt_rng *r, int n, float *x, float *y)
{
    static const float centres[3][2] = {{-2, 0}, {2, 0}, {0, 2.5f}};
    for (int i = 0; i < n; i++) {
        int c = (int)rt_rng_below(r, 3);
        x[2 * i] = centres[c][0] + 0.7f * rt_rng_normal(r);
        x[2 * i + 1] = centres[c][1] + 0.7f * rt_rng_normal(r);
        for (int j = 0; j < 3; j++) y[3 * i + j] = j == c;
    }
}

/* Trains a small net for `epochs` on blobs; returns the final weights (all
 * parameters concatenated) in a malloc'd array, and first/last epoch loss. */
static float *train_toy(rt_pool *pool, const char *optname, int epochs, long *count,
                        double *first_loss, double *last_loss, double *last_acc)
{
    enum { N = 600, B = 32 };
    static float x[N * 2], y[N * 3];
    rt_rng data;
    rt_rng_init(&data, 11, 99);
    blobs(&data, N, x, y);
    rt_layer_spec specs[] = {
        rt_spec_dense(16, RT_ACT_TANH, RT_INIT_GLOROT_UNIFORM),
        rt_spec_batchnorm(0.99f, 1e-3f),
        rt_spec_dropout(0.1f),
        rt_spec_dense(16, RT_ACT_SIGMOID, RT_INIT_HE_UNIFORM),
        rt_spec_dense(3, RT_ACT_SOFTMAX, RT_INIT_GLOROT_UNIFORM),
    };
    rt_rng init, shuf;
    rt_rng_init(&init, 5, RT_STREAM_INIT);
    rt_rng_init(&shuf, 5, RT_STREAM_SHUFFLE);
    rt_error err;
    rt_model *m = rt_model_create(specs, 5, 2, &init, pool, &err);
    cr_assert(m, "%s", err.msg);
    rt_optim *opt = rt_optim_create(optname, NULL, &err);
    cr_assert(opt, "%s", err.msg);
    int32_t idx[N];
    for (int i = 0; i < N; i++) idx[i] = i;
    float bx[B * 2], by[B * 3];
    for (int e = 0; e < epochs; e++) {
        rt_rng_shuffle(&shuf, idx, N);
        double sum = 0, corr = 0;
        for (int at = 0; at < N; at += B) {
            int n = N - at < B ? N - at : B;
            for (int i = 0; i < n; i++) {
                memcpy(bx + 2 * i, x + 2 * idx[at + i], 2 * sizeof(float));
                memcpy(by + 3 * i, y + 3 * idx[at + i], 3 * sizeof(float));
            }
            double l, c;
            cr_assert(rt_model_train_step(m, opt, bx, by, n, RT_LOSS_CROSSENTROPY, &l, &c, &err),
                      "%s", err.msg);
            sum += l * n;
            corr += c;
        }
        if (e == 0) *first_loss = sum / N;
        *last_loss = sum / N;
        *last_acc = corr / N;
    }
    rt_param *ps;
    int np = rt_model_params(m, &ps);
    long total = 0;
    for (int p = 0; p < np; p++) total += ps[p].size;
    float *w = malloc((size_t)total * sizeof(float));
    long k = 0;
    for (int p = 0; p < np; p++) {
        memcpy(w + k, ps[p].w, (size_t)ps[p].size * sizeof(float));
        k += ps[p].size;
    }
    *count = total;
    rt_optim_free(opt);
    rt_model_free(m);
    return w;
}

Test(model, toy_training_learns)
{
    const char *opts[] = {"SGD", "Adam", "RMSprop", "Momentum", "AdaGrad", "Nadam", "AdamW"};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        long n;
        double first, last, acc;
        float *w = train_toy(NULL, opts[i], 15, &n, &first, &last, &acc);
        double need = strcmp(opts[i], "AdaGrad") == 0 ? 0.95 : 0.8;   /* lr 0.001: slow */
        cr_expect(last < need * first, "%s: loss %g -> %g", opts[i], first, last);
        if (strcmp(opts[i], "AdaGrad") != 0 && strcmp(opts[i], "SGD") != 0)
            cr_expect(acc > 0.9, "%s: accuracy %g", opts[i], acc);
        free(w);
    }
}

/* Runs train_toy in a child process (so environment variables such as
 * MLP_SIMD take effect before anything reads them) and returns its weights. */
static float *train_in_child(int threads, const char *simd, long *count)
{
    int fd[2];
    cr_assert(pipe(fd) == 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        close(fd[0]);
        if (simd) setenv("MLP_SIMD", simd, 1);
        rt_pool *pool = rt_pool_create(threads);
        long n;
        double a, b, c;
        float *w = train_toy(pool, "Adam", 4, &n, &a, &b, &c);
        ssize_t ok = write(fd[1], &n, sizeof n);
        ok += write(fd[1], w, (size_t)n * sizeof(float));
        rt_pool_destroy(pool);
        _exit(ok == (ssize_t)(sizeof n + (size_t)n * sizeof(float)) ? 0 : 1);
    }
    close(fd[1]);
    cr_assert(read(fd[0], count, sizeof *count) == sizeof *count);
    float *w = malloc((size_t)*count * sizeof(float));
    size_t got = 0, want = (size_t)*count * sizeof(float);
    while (got < want) {
        ssize_t r = read(fd[0], (char *)w + got, want - got);
        cr_assert(r > 0);
        got += (size_t)r;
    }
    close(fd[0]);
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return w;
}

Test(model, bit_identical_across_threads_and_simd)
{
    long n1, n2, n3;
    float *one = train_in_child(1, NULL, &n1);
    float *two = train_in_child(2, NULL, &n2);
    float *scalar = train_in_child(2, "scalar", &n3);
    cr_assert(n1 == n2 && n1 == n3);
    cr_expect(memcmp(one, two, (size_t)n1 * sizeof(float)) == 0, "1 vs 2 threads differ");
    cr_expect(memcmp(one, scalar, (size_t)n1 * sizeof(float)) == 0, "MLP_SIMD=scalar differs");
    free(one); free(two); free(scalar);
}

Test(model, steps_do_not_allocate)
{
    make_study(RT_ACT_SIGMOID);
    rt_rng rng;
    rt_rng_init(&rng, 1, RT_STREAM_INIT);
    rt_error err;
    rt_model *m = rt_model_create(study_net, 6, 784, &rng, NULL, &err);
    rt_optim *opt = rt_optim_create("Adam", NULL, &err);
    float *x = calloc(100 * 784, sizeof(float)), *y = calloc(100 * 10, sizeof(float));
    for (int i = 0; i < 100 * 784; i++) x[i] = (float)((i * 7919) % 255) / 255.0f;
    for (int i = 0; i < 100; i++) y[i * 10 + i % 10] = 1;
    double l, c;
    cr_assert(rt_model_train_step(m, opt, x, y, 100, RT_LOSS_CROSSENTROPY, &l, &c, &err), "%s", err.msg);
    size_t before = rt_mem_in_use();
    for (int s = 0; s < 5; s++)
        cr_assert(rt_model_train_step(m, opt, x, y, 100, RT_LOSS_CROSSENTROPY, &l, &c, &err));
    cr_assert(rt_model_train_step(m, opt, x, y, 37, RT_LOSS_CROSSENTROPY, &l, &c, &err));
    cr_expect(rt_mem_in_use() == before);
    cr_expect(isfinite(l));
    free(x); free(y);
    rt_optim_free(opt);
    rt_model_free(m);
}

Test(model, evaluate_matches_predict_and_loss)
{
    rt_layer_spec specs[] = {
        rt_spec_dense(8, RT_ACT_ELU, RT_INIT_HE_NORMAL),
        rt_spec_batchnorm(0.9f, 1e-3f),
        rt_spec_dense(3, RT_ACT_LINEAR, RT_INIT_GLOROT_UNIFORM),   /* logits */
    };
    rt_rng rng, data;
    rt_rng_init(&rng, 3, RT_STREAM_INIT);
    rt_rng_init(&data, 3, 50);
    float x[70 * 2], y[70 * 3], out[70 * 3], p[70 * 3];
    blobs(&data, 70, x, y);
    rt_error err;
    rt_model *m = rt_model_create(specs, 3, 2, &rng, NULL, &err);
    rt_optim *opt = rt_optim_create("sgd", NULL, &err);
    double l, c;
    cr_assert(rt_model_train_step(m, opt, x, y, 32, RT_LOSS_CROSSENTROPY, &l, &c, &err), "%s", err.msg);
    cr_assert(rt_model_predict(m, x, 70, out, &err));      /* chunks of 32 */
    double ml, acc;
    cr_assert(rt_model_evaluate(m, x, y, 70, RT_LOSS_CROSSENTROPY, &ml, &acc, &err));
    /* independent: softmax of the logits in double, mean -log p[label] */
    double ref = 0, hits = 0;
    for (int i = 0; i < 70; i++) {
        double mx = out[3 * i], s = 0;
        int best = 0, label = 0;
        for (int j = 1; j < 3; j++) { if (out[3 * i + j] > mx) { mx = out[3 * i + j]; best = j; } }
        for (int j = 0; j < 3; j++) { s += exp(out[3 * i + j] - mx); if (y[3 * i + j] > 0) label = j; }
        double pl = exp(out[3 * i + label] - mx) / s;
        ref -= log(fmin(fmax(pl, 1e-7), 1 - 1e-7));
        hits += best == label;
        (void)p;
    }
    cr_expect(fabs(ml - ref / 70) < 1e-5, "%g vs %g", ml, ref / 70);
    cr_expect(fabs(acc - hits / 70) < 1e-12);
    rt_optim_free(opt);
    rt_model_free(m);
}

Test(model, mistakes_are_errors_not_crashes)
{
    rt_rng rng;
    rt_rng_init(&rng, 1, 1);
    rt_error err;
    rt_layer_spec bad_flat[] = {rt_spec_flatten(2, (int[]){28, 27}), rt_spec_dense(3, RT_ACT_SOFTMAX, 0)};
    cr_expect(rt_model_create(bad_flat, 2, 784, &rng, NULL, &err) == NULL);
    cr_expect(strstr(err.msg, "layer 1: flatten") && strstr(err.msg, "756"), "%s", err.msg);
    rt_layer_spec relu_last[] = {rt_spec_dense(3, RT_ACT_RELU, 0)};
    rt_model *m = rt_model_create(relu_last, 1, 2, &rng, NULL, &err);
    float x[2] = {1, 2}, y[3] = {0, 1, 0};
    double l, c;
    cr_expect(!rt_model_train_step(m, NULL, x, y, 1, RT_LOSS_CROSSENTROPY, &l, &c, &err));
    cr_expect(strstr(err.msg, "softmax") != NULL, "%s", err.msg);
    cr_expect(!rt_model_train_step(m, NULL, x, y, 0, RT_LOSS_MSE, &l, &c, &err));
    cr_expect(rt_model_train_step(m, NULL, x, y, 1, RT_LOSS_MSE, &l, &c, &err));
    rt_model_free(m);
    rt_layer_spec zero_units[] = {rt_spec_dense(0, RT_ACT_RELU, 0)};
    cr_expect(rt_model_create(zero_units, 1, 2, &rng, NULL, &err) == NULL);
    cr_expect(strstr(err.msg, "units") != NULL);
    rt_layer_spec bad_rate[] = {rt_spec_dropout(1.0f)};
    cr_expect(rt_model_create(bad_rate, 1, 2, &rng, NULL, &err) == NULL);
    cr_expect(strstr(err.msg, "rate") != NULL);
    /* optimizer state is tied to the model it first stepped */
    rt_optim *opt = rt_optim_create("Adam", NULL, &err);
    rt_model *a = rt_model_create(relu_last, 1, 2, &rng, NULL, &err);
    rt_layer_spec wider[] = {rt_spec_dense(4, RT_ACT_RELU, 0)};
    rt_model *b = rt_model_create(wider, 1, 2, &rng, NULL, &err);
    float y4[4] = {0};
    cr_expect(rt_model_train_step(a, opt, x, y, 1, RT_LOSS_MSE, &l, &c, &err));
    cr_expect(!rt_model_train_step(b, opt, x, y4, 1, RT_LOSS_MSE, &l, &c, &err));
    cr_expect(strstr(err.msg, "reset") != NULL, "%s", err.msg);
    rt_optim_free(opt);
    rt_model_free(a);
    rt_model_free(b);
}
