/*
 * parallel.h — running a sweep's points in other processes: local worker
 * processes (`mlp -j N`, MLP_JOBS) and the ranks of an MPI job (`mpirun -n
 * K mlp script.mlp`).
 *
 * Why processes, and why this works. A sweep's points are independent and
 * deterministic given the interpreter's state when the sweep starts (every
 * point restores the same random state). So any process holding that state
 * can run any point and get the same bytes:
 *   - local workers are fork()ed at the sweep: copy-on-write gives each the
 *     script's whole state, data sets included, for free;
 *   - MPI ranks each run the script from the start (each loads its own
 *     data), with their output discarded; at every sweep rank 0 hands out
 *     points and the others serve them, then every rank rebuilds the same
 *     results table and carries on to the next sweep in the same state.
 * The process that runs the script for real (the -j parent, MPI rank 0)
 * only schedules: it hands out point indexes as workers become free
 * (long and short points balance), prints each point's captured output in
 * point order and builds the table from the rows the workers send back,
 * so stdout is byte-identical to a serial run.
 *
 * The wire. A worker answers each point with one frame: a fixed head (what
 * happened, the point, its seconds, three lengths) and three byte strings:
 * the point's stdout, a one-line summary for the progress display and the
 * serialised result (sweep.c's business; opaque here). The same frame
 * crosses a pipe (-j) or MPI (ranks), so both paths share one format.
 *
 * Every point gets a fresh worker, forked from the parent's unchanged
 * sweep-start state (serial sweeps too, one at a time: par_run_serial).
 * A worker that dies (signal, crash, exit) costs only the point it held:
 * that point's result is "worker died: killed by signal 9". Ctrl-C stops the parent's wait at once; it terminates and
 * reaps every worker and the sweep fails with "interrupted".
 *
 * Ownership: the per-interpreter state (par_state, created by
 * mlp_parallel_start; without it every sweep is serial) is a field of the
 * stdlib's host state (std.h: std_host.par), which frees it, and with it
 * finalises MPI, when the interpreter is freed. Buffers (par_buf) are malloc'd and owned by whoever
 * holds them.
 */
#ifndef MLP_PARALLEL_H
#define MLP_PARALLEL_H

#include <stdint.h>
#include "clock.h"
#include "mlp.h"
#include "pool.h"

/* ---- for the CLI ----------------------------------------------------------- */

/* Sets how this interpreter runs sweeps. jobs > 1: that many local worker
 * processes; 0: $MLP_JOBS, else serial. When the process was started by an
 * MPI launcher (OMPI_COMM_WORLD_SIZE / PMIX_RANK in the environment, or
 * MLP_MPI=1) it also joins the MPI job; ranks > 0 then print nothing.
 * Returns false after writing a message to stderr when MPI was asked for
 * but cannot be used (no MPI library on this machine) or out of memory. */
bool mlp_parallel_start(mlp_vm *vm, int jobs);

/* True when a point of some sweep failed (sweep.c): the CLI then ends the
 * script with exit status 70 although it ran to its end. */
bool mlp_sweeps_failed(mlp_vm *vm);

/* ---- internal to stdlib/ ---------------------------------------------------- */

/* A growable byte buffer; `oom` sticks once an allocation failed. */
typedef struct par_buf { char *s; size_t n, cap; bool oom; } par_buf;

void par_put(par_buf *b, const void *p, size_t n);
void par_put_u64(par_buf *b, uint64_t x);
void par_buf_free(par_buf *b);

/* The parallel state (std_host.par); NULL is ignored. */
struct par_state;
void par_state_free(struct par_state *st);

/* What a sweep asks of the engine: npoints points, run by index. */
typedef struct par_job {
    size_t npoints;
    void *ctx;
    /* Runs point i in this process (a worker). Its program output goes to
     * stdout as usual and is captured by the caller; appends the
     * serialised result to *res and a one-line description (axis values
     * and reported values) to *sum. False only when interrupted. */
    bool (*run)(mlp_vm *vm, void *ctx, size_t i, par_buf *res, par_buf *sum);
    /* Takes point i's result, in point order, after its output has been
     * written: `res` as run made it, or NULL when the worker died, with
     * `died` saying how. False (with an error raised) stops the sweep. */
    bool (*take)(mlp_vm *vm, void *ctx, size_t i, const char *res, size_t len,
                 const char *died);
} par_job;

/* True when sweeps in this interpreter go through par_run. */
bool par_enabled(mlp_vm *vm);
/* Runs every point of job in workers; false with an error raised when
 * interrupted or when no worker could be started. */
bool par_run(mlp_vm *vm, const par_job *job);
/* The same, one point at a time, each in its own forked process writing
 * straight to stdout (a serial sweep: same isolation as a worker's). */
bool par_run_serial(mlp_vm *vm, const par_job *job);
/* True on an MPI rank > 0: its output is discarded, and side effects that
 * rank 0 performs for the job (save()) are skipped. */
bool par_silent(mlp_vm *vm);
/* Registers the test-only native __test_die(signal) when MLP_TEST_HOOKS=1. */
bool par_open(mlp_vm *vm);

/* ---- between parallel.c and par_mpi.c ------------------------------------- */

enum { PAR_RESULT = 1, PAR_DIED, PAR_INTERRUPTED, PAR_EXIT /* the point called exit(index) */ };

/* One point's answer (see "The wire" above). */
typedef struct par_frame {
    uint64_t kind, index, rank;
    double seconds;
    par_buf out, sum, res;
} par_frame;

/* The fixed-size head of a frame on the wire. */
typedef struct par_head {
    uint64_t magic, kind, index, seconds_bits, out_len, sum_len, res_len, rank;
} par_head;
#define PAR_MAGIC 0x6d6c702d70617231ull   /* "mlp-par1" */

void par_frame_free(par_frame *f);
par_head par_frame_head(const par_frame *f);
/* A died frame for point i: `how` is the message. */
void par_frame_died(par_frame *f, uint64_t index, const char *how);

/* A local worker process: forked at a sweep, serving points over pipes. */
typedef struct par_worker {
    int pid;            /* 0: no process */
    int task_fd;        /* parent -> worker: point indexes (u64) */
    int res_fd;         /* worker -> parent: frames */
    int out_fd;         /* the worker's stdout, a memory file; -1: not captured */
    long point;         /* the point it holds, -1 when idle */
    double started;     /* when it got that point (monotonic seconds) */
} par_worker;

/* Forks w to run one point; `others` (n of them) are closed in the child.
 * Its kernels use `threads` threads, or with a share (in shared memory) at
 * least `threads` and more while other workers of the share are idle.
 * capture: its stdout goes to a memory file that par_worker_take reads
 * into the frame's `out`. False + error. */
bool par_worker_spawn(mlp_vm *vm, const par_job *job, par_worker *w, par_worker *others,
                      int n, int threads, rt_core_share *share, bool capture);
/* Gives point i to w; false if the worker is gone. */
bool par_worker_give(par_worker *w, size_t i);
/* Reads w's answer into *f (blocking). When the worker died instead, reaps
 * it and fills a died frame for the point it held; returns false then. */
bool par_worker_take(par_worker *w, par_frame *f);
/* Closes w's pipes, ends and reaps it (SIGTERM when `force`). */
void par_worker_stop(par_worker *w, bool force);

/* Threads for each of `procs` worker processes on this machine:
 * MLP_THREADS, else the available cores divided among them (at least 1). */
int par_threads_per(int procs);
/* Worker processes at once for a sweep of `npoints` points under -j jobs:
 * `jobs`, unless the points would leave a last round that fills only some
 * of them; then the fewest from jobs to 2 x jobs whose rounds all fill the
 * cores (none: jobs). The cores are then time-shared by whole points,
 * which on the 2-core machine of issue 18 beat handing a last point the
 * idle core as a second thread: the study's sweeps of 3 points with -j 2
 * took 9.1-9.6 s as 2 + 1, 8.2-8.5 s as 3 at once (a fit on two threads
 * runs only 1.03-1.16x faster). npoints <= jobs: npoints. */
int par_workers_for(int jobs, size_t npoints);
/* The CPUs this process may run on (taskset and cgroups respected). */
int par_cores(void);

/* MPI (par_mpi.c). */
typedef struct par_mpi par_mpi;
/* Joins the MPI job when launched by one: *out NULL when not. False +
 * message on stderr when MPI is asked for but unusable. */
bool par_mpi_start(par_mpi **out);
int par_mpi_rank(const par_mpi *m);
/* Frees m, ending the MPI job for this rank. */
void par_mpi_end(par_mpi *m);
/* Rank 0: runs sweep number seq over the other ranks. Rank > 0: serves the
 * points of sweep seq, then rebuilds the same table. */
bool par_mpi_sweep(mlp_vm *vm, par_mpi *m, uint64_t seq, const par_job *job);

/* The scheduler of parallel.c, shared with rank 0 of an MPI job: a set of
 * slots that each run one point at a time. */
typedef struct par_slots {
    int n;
    void *ctx;
    /* Hands point i to slot s; false when the slot is gone (its point is
     * then reported by the next wait as died). */
    bool (*give)(void *ctx, int s, size_t i);
    /* Waits up to timeout_ms for any answer; 1: *f filled and *s is the
     * slot (free again), 0: nothing yet, -1: error raised. */
    int (*wait)(void *ctx, mlp_vm *vm, int timeout_ms, par_frame *f, int *s);
    bool quiet;   /* no progress lines or bar (a serial sweep) */
} par_slots;

/* Schedules job's points over the slots; prints output in point order and
 * calls take; `results` (npoints frames, zeroed) keeps each point's frame
 * for the caller (MPI sends them on to the other ranks). */
bool par_schedule(mlp_vm *vm, const par_job *job, par_slots *slots, par_frame *results);

#endif
