/*
 * eval_team.h — an evaluation's batches side by side, whole, on the
 * threads of the model's pool (fit.c's validation pass and rt_evaluate,
 * the language's evaluate()).
 *
 * Each thread takes whole batches, one after another, and runs each with a
 * forward pass of its own (a shadow of the model, model.h: its own
 * activations and byte staging, the model's weights read only) and no
 * pool: a batch is evaluated exactly as rt_model_evaluate evaluates it on
 * the model, gathered exactly as fit.c gathers it, so every batch's mean
 * loss and accuracy are the bits the serial pass gets; the caller sums
 * them in batch order as it always did. Which thread took which batch
 * changes nothing.
 *
 * The team (shadows, row and target buffers) is made on the first run and
 * kept for the next ones with the same model and batch size (a fit's
 * epochs); rt_eval_team_free releases it. Memory: per thread a shadow for
 * one batch (about 1.3 MB for the study's 784-50-BN-50-BN-10 at batch
 * 100, most of it the first layer's compressed input and its unused
 * backward workspace), its targets, and a float batch only if some batch
 * is too dense to go as bytes. The data set is never copied.
 */
#ifndef MLP_EVAL_TEAM_H
#define MLP_EVAL_TEAM_H

#include <stdbool.h>
#include "dataset.h"
#include "losses.h"
#include "model.h"
#include "rt_error.h"

typedef struct rt_eval_team rt_eval_team;

/* How many threads would evaluate nbatches batches of m now: the threads
 * m's pool may use at this moment (its core share; pool.h), or 1 when
 * whole batches cannot go side by side or would not pay: one batch, one
 * thread, a user-defined activation (its C code need not be thread-safe),
 * or fewer than 32 batches for the team's whole life (`uses`: the batches
 * of all the evaluations it will serve, a fit's epochs for one; making the
 * shadows costs about what 5 to 15 batches of evaluation do). With 1 the
 * caller evaluates serially, as before. */
int rt_eval_team_threads(const rt_model *m, int nbatches, long uses);

/* Evaluates batch bi = 0 .. nbatches - 1 of ds (rows [bi batch, bi batch +
 * batch), the last one short) on `threads` threads (rt_eval_team_threads;
 * 1 runs on the calling thread, on a shadow all the same; a team that
 * found its threads waiting on one another, a thread having lost its CPU
 * to another process, runs its next few on the calling thread alone, see
 * eval_team.c): its mean loss into l[bi], its accuracy into
 * a[bi] (rt_model_evaluate's). y_width: floats per target row (the widest
 * of the model's outputs and the data's one-hot classes); fold: binary
 * data into one output unit (the one-hot pair folded to its label, as
 * fit.c does). *team is made or remade as needed (on m's thread; each
 * thread makes its own part of it on its first batch). On failure err
 * gets the message of a failing batch (the first of those that ran, in
 * batch order). */
bool rt_eval_team_run(rt_eval_team **team, rt_model *m, const rt_dataset *ds, rt_loss loss,
                      int batch, int y_width, bool fold, int threads, double *l, double *a,
                      rt_error *err);

void rt_eval_team_free(rt_eval_team *team);

#endif
