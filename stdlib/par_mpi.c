/*
 * par_mpi.c — sweeps over the ranks of an MPI job (`mpirun -n K mlp x.mlp`).
 *
 * MPI is opened at run time with dlopen(), so mlp builds and runs on a
 * machine without MPI and only says so when started by an MPI launcher.
 * The calls used are the handful every MPI has (Init, Comm_rank/size,
 * Send, Recv, Iprobe, Finalize), on bytes only. The predefined handles
 * are Open MPI's ABI: MPI_COMM_WORLD and MPI_BYTE are the addresses of the
 * library's `ompi_mpi_comm_world` and `ompi_mpi_byte` objects, which is
 * what <mpi.h> expands them to. Status objects are never read (the sender
 * names itself in its message), so their layout does not matter here.
 *
 * Every rank runs the script from the start; ranks > 0 have stdout (and,
 * unless MLP_MPI_VERBOSE=1, stderr) on /dev/null. At the n-th sweep:
 *   rank 0     sends POINT(n, i) to a rank as soon as it is free, gathers
 *              the frames (head, then body) and prints in point order
 *              (par_schedule); then sends END(n) with every point's result
 *              to every rank;
 *   rank > 0   runs each POINT in a freshly forked local worker (a crash
 *              costs the point, not the rank and so not the job; no point
 *              sees what another changed), sends the frame
 *              back, and at END rebuilds the same results table from the
 *              results, so the script continues in rank 0's state.
 * When rank 0's script ends it sends QUIT to all; a rank that is then
 * still inside a sweep stops its script, and a rank that has ended waits
 * for QUIT (answering any POINT with "left the script") before it
 * finalises, so no rank blocks forever on a message that never comes.
 *
 * Waiting polls MPI_Iprobe with a 1 ms sleep instead of blocking in
 * MPI_Recv: Open MPI's blocking receive spins a core at 100%, which would
 * starve the workers on a machine running more ranks than cores.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "parallel.h"

enum { TAG_TASK = 7101, TAG_HEAD, TAG_BODY, TAG_END };
enum { TASK_POINT = 1, TASK_END, TASK_QUIT };
#define MPI_ANY_SOURCE_ (-1)   /* the same value in Open MPI and MPICH */

/* What rank 0 sends a rank: a point to run, the end of a sweep (with a
 * body of len bytes on TAG_END) or the end of the job. */
typedef struct task { uint64_t kind, seq, index, len; } task;

struct par_mpi {
    void *lib;
    void *comm, *byte;     /* MPI_COMM_WORLD, MPI_BYTE */
    int rank, size, local_size;
    bool quit;             /* rank > 0: QUIT has arrived */
    int (*Init)(int *, char ***);
    int (*Finalize)(void);
    int (*Comm_rank)(void *, int *);
    int (*Comm_size)(void *, int *);
    int (*Send)(const void *, int, void *, int, int, void *);
    int (*Recv)(void *, int, void *, int, int, void *, void *);
    int (*Iprobe)(int, int, void *, int *, void *);
};

/* The functions and objects taken from the library, one row each. */
static const struct { const char *name; size_t off; } symbols[] = {
    { "MPI_Init", offsetof(par_mpi, Init) },
    { "MPI_Finalize", offsetof(par_mpi, Finalize) },
    { "MPI_Comm_rank", offsetof(par_mpi, Comm_rank) },
    { "MPI_Comm_size", offsetof(par_mpi, Comm_size) },
    { "MPI_Send", offsetof(par_mpi, Send) },
    { "MPI_Recv", offsetof(par_mpi, Recv) },
    { "MPI_Iprobe", offsetof(par_mpi, Iprobe) },
    { "ompi_mpi_comm_world", offsetof(par_mpi, comm) },
    { "ompi_mpi_byte", offsetof(par_mpi, byte) },
};

/* Large enough for any MPI's MPI_Status; never read. */
typedef struct status_space { uint64_t words[16]; } status_space;

int par_mpi_rank(const par_mpi *m) { return m->rank; }

/* Which launcher started us, if any: the variable that says so. */
static const char *launched_by(void)
{
    static const char *const vars[] = { "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK" };
    const char *force = getenv("MLP_MPI");
    if (force && strcmp(force, "0") == 0) return NULL;
    if (force && strcmp(force, "1") == 0) return "MLP_MPI";
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i])) return vars[i];
    return NULL;
}

bool par_mpi_start(par_mpi **out)
{
    *out = NULL;
    const char *why = launched_by();
    if (!why) return true;
    /* MLP_MPI_LIB names the one library to use; else Open MPI's sonames. */
    const char *user = getenv("MLP_MPI_LIB");
    const char *names[] = { user, user ? NULL : "libmpi.so.40", user ? NULL : "libmpi.so" };
    void *lib = NULL;
    const char *err = "no library name";
    for (size_t i = 0; i < 3 && !lib; i++) {
        if (!names[i]) continue;
        /* RTLD_GLOBAL: Open MPI's own plugins resolve symbols of libmpi. */
        lib = dlopen(names[i], RTLD_NOW | RTLD_GLOBAL);
        if (!lib) err = dlerror();
    }
    if (!lib) {
        fprintf(stderr,
                "mlp: started by an MPI launcher (%s is set) but no MPI library could be "
                "loaded: %s\nmlp: install Open MPI (Debian: libopenmpi3) or set MLP_MPI_LIB "
                "to its libmpi.so; MLP_MPI=0 runs without MPI\n", why, err);
        return false;
    }
    par_mpi *m = calloc(1, sizeof *m);
    if (!m) { fprintf(stderr, "mlp: out of memory\n"); return false; }
    m->lib = lib;
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        void *sym = dlsym(lib, symbols[i].name);
        if (!sym) {
            fprintf(stderr, "mlp: the MPI library lacks %s: mlp supports Open MPI's ABI\n",
                    symbols[i].name);
            free(m);
            return false;
        }
        memcpy((char *)m + symbols[i].off, &sym, sizeof sym);
    }
    if (m->Init(NULL, NULL) != 0 || m->Comm_rank(m->comm, &m->rank) != 0 ||
        m->Comm_size(m->comm, &m->size) != 0) {
        fprintf(stderr, "mlp: MPI_Init failed\n");
        free(m);
        return false;
    }
    if (m->size < 2) {   /* one rank: nothing to share; sweeps stay local */
        m->Finalize();
        free(m);
        return true;
    }
    const char *ls = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    m->local_size = ls ? atoi(ls) : m->size;
    if (m->local_size < 1) m->local_size = 1;
    if (m->rank > 0) {
        /* Only rank 0 speaks; the others run the script for its state. */
        int null = open("/dev/null", O_WRONLY);
        const char *verbose = getenv("MLP_MPI_VERBOSE");
        if (null >= 0) {
            fflush(stdout);
            dup2(null, STDOUT_FILENO);
            if (!verbose || strcmp(verbose, "1") != 0) dup2(null, STDERR_FILENO);
            close(null);
        }
    }
    *out = m;
    return true;
}

/* ---- messages ------------------------------------------------------------------ */

static bool send_bytes(par_mpi *m, const void *p, size_t n, int to, int tag)
{
    if (n > INT_MAX) return false;
    return m->Send(p, (int)n, m->byte, to, tag, m->comm) == 0;
}

static bool recv_bytes(par_mpi *m, void *p, size_t n, int from, int tag)
{
    status_space st;
    if (n > INT_MAX) return false;
    return m->Recv(p, (int)n, m->byte, from, tag, m->comm, &st) == 0;
}

/* Waits until a message (from, tag) is there; false when vm is
 * interrupted meanwhile or after timeout_ms (< 0: no limit). */
static bool arrived(par_mpi *m, int from, int tag, mlp_vm *vm, int timeout_ms)
{
    struct timespec nap = { 0, 1000000 };
    for (int waited = 0;; waited++) {
        int flag = 0;
        status_space st;
        if (m->Iprobe(from, tag, m->comm, &flag, &st) != 0) return false;
        if (flag) return true;
        if ((vm && mlp_interrupted(vm)) || (timeout_ms >= 0 && waited >= timeout_ms)) return false;
        nanosleep(&nap, NULL);
    }
}

static bool send_task(par_mpi *m, int to, uint64_t kind, uint64_t seq, uint64_t index,
                      const par_buf *body)
{
    task t = { kind, seq, index, body ? body->n : 0 };
    return send_bytes(m, &t, sizeof t, to, TAG_TASK) &&
           (!t.len || send_bytes(m, body->s, body->n, to, TAG_END));
}

/* A frame to rank 0: the head, then out + sum + res as one body. */
static bool send_frame(par_mpi *m, par_frame *f)
{
    f->rank = (uint64_t)m->rank;
    par_head h = par_frame_head(f);
    par_buf body = {0};
    par_put(&body, f->out.s, f->out.n);
    par_put(&body, f->sum.s, f->sum.n);
    par_put(&body, f->res.s, f->res.n);
    bool ok = !body.oom && send_bytes(m, &h, sizeof h, 0, TAG_HEAD) &&
              (!body.n || send_bytes(m, body.s, body.n, 0, TAG_BODY));
    par_buf_free(&body);
    return ok;
}

static void split(par_buf *dst, const char **p, uint64_t n)
{
    par_put(dst, *p, (size_t)n);
    *p += n;
}

/* Rank 0: the next frame from any rank. */
static bool recv_frame(par_mpi *m, par_frame *f)
{
    par_head h;
    if (!recv_bytes(m, &h, sizeof h, MPI_ANY_SOURCE_, TAG_HEAD) || h.magic != PAR_MAGIC)
        return false;
    uint64_t n = h.out_len + h.sum_len + h.res_len;
    char *body = n ? malloc((size_t)n) : NULL;
    if (n && (!body || !recv_bytes(m, body, (size_t)n, (int)h.rank, TAG_BODY))) {
        free(body);
        return false;
    }
    *f = (par_frame){ .kind = h.kind, .index = h.index, .rank = h.rank };
    memcpy(&f->seconds, &h.seconds_bits, sizeof f->seconds);
    const char *p = body;
    split(&f->out, &p, h.out_len);
    split(&f->sum, &p, h.sum_len);
    split(&f->res, &p, h.res_len);
    free(body);
    return true;
}

/* ---- rank 0 --------------------------------------------------------------------- */

typedef struct remote { par_mpi *m; uint64_t seq; } remote;

static bool remote_give(void *ctx, int s, size_t i)
{
    remote *r = ctx;
    return send_task(r->m, s + 1, TASK_POINT, r->seq, i, NULL);
}

static int remote_wait(void *ctx, mlp_vm *vm, int timeout_ms, par_frame *f, int *s)
{
    remote *r = ctx;
    if (!arrived(r->m, MPI_ANY_SOURCE_, TAG_HEAD, vm, timeout_ms)) {
        if (mlp_interrupted(vm)) return mlp_raise(vm, "interrupted"), -1;
        return 0;
    }
    if (!recv_frame(r->m, f)) return mlp_raise(vm, "sweep: MPI: a malformed answer"), -1;
    *s = (int)f->rank - 1;
    return 1;
}

/* Every point's result, for the other ranks' tables: per point its kind,
 * its summary (the death message of a died point) and its result. */
static void results_body(const par_frame *res, size_t n, par_buf *b)
{
    for (size_t i = 0; i < n; i++) {
        par_put_u64(b, res[i].kind);
        par_put_u64(b, res[i].sum.n);
        par_put(b, res[i].sum.s, res[i].sum.n);
        par_put_u64(b, res[i].res.n);
        par_put(b, res[i].res.s, res[i].res.n);
    }
}

static bool lead_sweep(mlp_vm *vm, par_mpi *m, uint64_t seq, const par_job *job)
{
    par_frame *results = calloc(job->npoints, sizeof *results);
    if (!results) return mlp_raise(vm, "sweep: out of memory");
    remote r = { m, seq };
    par_slots slots = { m->size - 1, &r, remote_give, remote_wait, false };
    bool ok = par_schedule(vm, job, &slots, results);
    if (ok) {
        par_buf body = {0};
        results_body(results, job->npoints, &body);
        for (int k = 1; k < m->size && ok; k++)
            ok = !body.oom && send_task(m, k, TASK_END, seq, 0, &body);
        par_buf_free(&body);
        if (!ok) mlp_raise(vm, "sweep: MPI: cannot send the results to the other ranks");
    }
    for (size_t i = 0; i < job->npoints; i++) par_frame_free(&results[i]);
    free(results);
    return ok;
}

/* ---- ranks > 0 ------------------------------------------------------------------ */

static bool recv_task(par_mpi *m, task *t, par_buf *body)
{
    *body = (par_buf){0};
    if (!arrived(m, 0, TAG_TASK, NULL, -1) || !recv_bytes(m, t, sizeof *t, 0, TAG_TASK))
        return false;
    if (!t->len) return true;
    char *s = malloc((size_t)t->len + 1);
    if (!s || !recv_bytes(m, s, (size_t)t->len, 0, TAG_END)) { free(s); return false; }
    s[t->len] = 0;
    *body = (par_buf){ .s = s, .n = (size_t)t->len, .cap = (size_t)t->len + 1 };
    return true;
}

/* Rebuilds the table from END's body, exactly as rank 0 did. */
static bool take_all(mlp_vm *vm, const par_job *job, const par_buf *body)
{
    const char *p = body->s, *end = body->s + body->n;
    for (size_t i = 0; i < job->npoints; i++) {
        uint64_t kind, sn, rn;
        if (end - p < 16) return mlp_raise(vm, "sweep: MPI: truncated results");
        memcpy(&kind, p, 8);
        memcpy(&sn, p + 8, 8);
        p += 16;
        if ((uint64_t)(end - p) < sn + 8) return mlp_raise(vm, "sweep: MPI: truncated results");
        const char *sum = p;
        p += sn;
        memcpy(&rn, p, 8);
        p += 8;
        if ((uint64_t)(end - p) < rn) return mlp_raise(vm, "sweep: MPI: truncated results");
        char *died = kind == PAR_DIED ? strndup(sum, (size_t)sn) : NULL;
        bool ok = job->take(vm, job->ctx, i, kind == PAR_DIED ? NULL : p, (size_t)rn, died);
        free(died);
        if (!ok) return false;
        p += rn;
    }
    return true;
}

static bool serve_sweep(mlp_vm *vm, par_mpi *m, uint64_t seq, const par_job *job)
{
    par_worker w = { .task_fd = -1, .res_fd = -1, .out_fd = -1, .point = -1 };
    int threads = par_threads_per(m->local_size);
    bool ok = true;
    for (;;) {
        task t;
        par_buf body;
        if (!recv_task(m, &t, &body)) {
            ok = mlp_raise(vm, "sweep: MPI: lost contact with rank 0");
            break;
        }
        if (t.kind == TASK_QUIT) {
            m->quit = true;
            ok = mlp_raise(vm, "sweep: rank 0 ended the MPI job before this sweep");
            break;
        }
        if (t.kind == TASK_END) {
            if (t.seq != seq) { par_buf_free(&body); continue; }   /* a sweep we never saw */
            par_worker_stop(&w, false);
            ok = take_all(vm, job, &body);
            par_buf_free(&body);
            break;
        }
        par_frame f = {0};
        char how[128];
        if (t.seq != seq || t.index >= job->npoints) {
            snprintf(how, sizeof how, "rank %d is at another sweep: the ranks diverged", m->rank);
            par_frame_died(&f, t.index, how);
        } else {
            bool given = false;
            for (int attempt = 0; attempt < 2 && !given; attempt++) {
                if (!w.pid) par_worker_spawn(vm, job, &w, NULL, 0, threads, NULL, true);
                given = par_worker_give(&w, (size_t)t.index);
                if (!given) par_worker_stop(&w, true);
            }
            /* one process per point: the next starts from the sweep's state */
            if (!given) par_frame_died(&f, t.index, "worker died: could not start a worker process");
            else if (par_worker_take(&w, &f)) par_worker_stop(&w, false);
        }
        if (!send_frame(m, &f)) {
            par_frame_free(&f);
            ok = mlp_raise(vm, "sweep: MPI: cannot answer rank 0");
            break;
        }
        par_frame_free(&f);
    }
    par_worker_stop(&w, !ok);
    return ok;
}

bool par_mpi_sweep(mlp_vm *vm, par_mpi *m, uint64_t seq, const par_job *job)
{
    return m->rank == 0 ? lead_sweep(vm, m, seq, job) : serve_sweep(vm, m, seq, job);
}

void par_mpi_end(par_mpi *m)
{
    if (m->rank == 0) {
        for (int k = 1; k < m->size; k++) send_task(m, k, TASK_QUIT, 0, 0, NULL);
    } else {
        /* Wait for rank 0's QUIT, telling it that this rank is gone. */
        while (!m->quit) {
            task t;
            par_buf body;
            if (!recv_task(m, &t, &body)) break;
            par_buf_free(&body);
            if (t.kind == TASK_QUIT) break;
            if (t.kind == TASK_POINT) {
                par_frame f;
                char how[128];
                snprintf(how, sizeof how, "rank %d left the script before this sweep", m->rank);
                par_frame_died(&f, t.index, how);
                send_frame(m, &f);
                par_frame_free(&f);
            }
        }
    }
    fflush(stdout);
    m->Finalize();
    /* The library stays loaded: Open MPI does not support being unloaded. */
    free(m);
}
