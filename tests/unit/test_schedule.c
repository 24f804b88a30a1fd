/*
 * test_schedule.c — learning-rate schedules, the confusion-matrix scores
 * and the gradient rules of model.h, on cases small enough to work by hand.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include "model.h"
#include "schedule.h"
#include "scores.h"

static double lr_at(const rt_schedule *s, long e)
{
    rt_sched_state st;
    rt_schedule_start(s, &st);
    return rt_schedule_lr(s, &st, e);
}

Test(schedule, step_exponential_cosine_piecewise)
{
    rt_schedule st = { .kind = RT_SCHED_STEP, .lr = 1, .every = 2, .gamma = 0.5 };
    cr_expect_eq(lr_at(&st, 0), 1);
    cr_expect_eq(lr_at(&st, 1), 1);
    cr_expect_eq(lr_at(&st, 2), 0.5);
    cr_expect_eq(lr_at(&st, 5), 0.25);
    rt_schedule ex = { .kind = RT_SCHED_EXPONENTIAL, .lr = 2, .rate = 0.5 };
    cr_expect_eq(lr_at(&ex, 3), 0.25);
    rt_schedule co = { .kind = RT_SCHED_COSINE, .lr = 1, .epochs = 6, .warmup = 2 };
    cr_expect_eq(lr_at(&co, 0), 0.5);       /* warm-up (e + 1) / 2 */
    cr_expect_eq(lr_at(&co, 1), 1);
    cr_expect_eq(lr_at(&co, 2), 1);         /* cos 0 */
    cr_expect(fabs(lr_at(&co, 4) - 0.5) < 1e-15);   /* cos(pi / 2) */
    cr_expect_eq(lr_at(&co, 6), 0);
    cr_expect_eq(lr_at(&co, 100), 0);
    rt_schedule pw = { .kind = RT_SCHED_PIECEWISE, .npieces = 2, .at = { 0, 3 },
                       .value = { 0.1, 0.01 } };
    cr_expect_eq(lr_at(&pw, 2), 0.1);
    cr_expect_eq(lr_at(&pw, 3), 0.01);
    rt_error err;
    cr_expect(rt_schedule_check(&pw, &err));
    pw.at[0] = 1;
    cr_expect_not(rt_schedule_check(&pw, &err));
    rt_schedule neg = { .kind = RT_SCHED_STEP, .lr = -1, .every = 1, .gamma = 0.5 };
    cr_expect_not(rt_schedule_check(&neg, &err));
    cr_expect(strstr(err.msg, "lr must be a positive number") != NULL, "%s", err.msg);
}

Test(schedule, plateau_waits_then_cuts)
{
    rt_schedule s = { .kind = RT_SCHED_PLATEAU, .lr = 1, .factor = 0.5, .patience = 2,
                      .min_lr = 0.3 };
    rt_sched_state st;
    rt_schedule_start(&s, &st);
    const double values[] = { 5, 4, 4, 4, 3, 9, 9, 9, 9 };
    const double rates[] = { 1, 1, 1, 0.5, 0.5, 0.5, 0.3, 0.3, 0.3 };   /* after each value */
    for (int i = 0; i < 9; i++) {
        rt_schedule_observe(&s, &st, values[i]);
        cr_expect_eq(st.lr, rates[i], "after value %d: %g", i, st.lr);
    }
}

Test(scores, confusion_precision_recall_f1_topk_mae)
{
    /* 4 examples, 3 classes; predictions 0, 1, 1, 2 for labels 0, 1, 2, 2 */
    const float p[] = { 0.7f, 0.2f, 0.1f,   0.1f, 0.8f, 0.1f,   0.2f, 0.5f, 0.3f,   0, 0, 1 };
    int32_t labels[] = { 0, 1, 2, 2 };
    rt_dataset ds = { .n = 4, .classes = 3, .labels = labels };
    double cm[9], pr[3], re[3], f1[3];
    rt_metrics_confusion(p, 3, &ds, cm);
    const double want[9] = { 1, 0, 0,  0, 1, 0,  0, 1, 1 };
    cr_expect(memcmp(cm, want, sizeof cm) == 0);
    rt_metrics_scores(cm, 3, pr, re, f1);
    cr_expect_eq(pr[1], 0.5);   /* class 1 predicted twice, right once */
    cr_expect_eq(re[2], 0.5);   /* class 2 seen twice, found once */
    cr_expect(fabs(f1[1] - 2 * 0.5 * 1 / 1.5) < 1e-15);
    cr_expect_eq(rt_metrics_topk(p, 3, &ds, 1), 0.75);
    cr_expect_eq(rt_metrics_topk(p, 3, &ds, 2), 1);
    /* mae against one-hot: row errors 0.6, 0.4, 1.4, 0 over 12 values */
    cr_expect(fabs(rt_metrics_mae(p, 3, &ds) - (0.6 + 0.4 + 1.4) / 12) < 1e-7);
}

/* One dense layer, no activation, mse on one example: the gradient rules
 * applied before an SGD step of lr 1 (hand arithmetic). */
Test(gradrules, clipvalue_and_weight_decay)
{
    rt_layer_spec spec = rt_spec_dense(1, RT_ACT_LINEAR, RT_INIT_ZEROS);
    rt_rng rng;
    rt_rng_init(&rng, 1, RT_STREAM_INIT);
    rt_error err;
    rt_model *m = rt_model_create(&spec, 1, 2, &rng, NULL, &err);
    cr_assert(m, "%s", err.msg);
    rt_optim *opt = rt_optim_create("SGD", "keras", &err);
    cr_assert(opt && rt_optim_set(opt, "lr", 1.0));
    rt_param *p;
    rt_model_params(m, &p);
    p[0].w[0] = 1.0f;
    p[0].w[1] = -1.0f;
    const float x[] = { 2.0f, 0.0f }, y[] = { 0.0f };
    /* z = 2; dL/dz = 2 (z - y) = 4; g = (8, 0), bias 4; clipvalue 0.5: (0.5, 0), 0.5;
     * weight_decay 0.25 with lr 1: w *= 0.75 first: (0.75, -0.75) - (0.5, 0) */
    rt_grad_rules r = { .clipvalue = 0.5, .weight_decay = 0.25 };
    rt_model_set_grad_rules(m, &r);
    double loss, correct;
    cr_assert(rt_model_train_step(m, opt, x, y, 1, RT_LOSS_MSE, &loss, &correct, &err), "%s", err.msg);
    cr_expect_eq(loss, 4.0);
    cr_expect_eq(p[0].w[0], 0.25f);
    cr_expect_eq(p[0].w[1], -0.75f);
    cr_expect_eq(p[1].w[0], -0.5f);
    rt_optim_free(opt);
    rt_model_free(m);
}
