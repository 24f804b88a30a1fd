/*
 * parallel.c — local worker processes for sweeps (`mlp -j N`), the
 * scheduler shared with MPI rank 0, and the progress display.
 *
 * See parallel.h for the design. What this file adds:
 *   - A worker is fork()ed for each point, from the parent as it was when
 *     the sweep began, and _exit()s after answering (atexit handlers and
 *     stdio buffers belong to the parent): no point sees what another
 *     changed. A serial sweep runs the same way, one process at a time
 *     (par_run_serial), so serial and -j share their semantics by
 *     construction. A fork costs ~0.6 ms of CPU a point.
 *   - Under -j the child's stdout (fd 1) is a memory file the parent made
 *     and reads back after the point (or after the child died, what it
 *     had flushed): everything the point prints, through the VM or not,
 *     is captured, and nothing reaches the terminal out of order. Live
 *     progress bars are switched off in those workers (h->tty). Serially
 *     the child writes to stdout itself, while the parent waits.
 *   - The kernel thread pool does not survive fork() (only the forking
 *     thread is copied), so each child makes its own, sized for its share
 *     of the cores; the parent's pool is left alone.
 *   - The parent ignores SIGPIPE while a sweep runs, so a worker that died
 *     between points shows up as a failed write, not as the parent's death.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "parallel.h"
#include "std.h"

/* ---- buffers and frames ---------------------------------------------------- */

void par_put(par_buf *b, const void *p, size_t n)
{
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->n + n + 1) * 2;
        char *s = realloc(b->s, cap);
        if (!s) { b->oom = true; return; }
        b->s = s;
        b->cap = cap;
    }
    if (n) memcpy(b->s + b->n, p, n);
    b->n += n;
    b->s[b->n] = 0;
}

void par_put_u64(par_buf *b, uint64_t x) { par_put(b, &x, sizeof x); }

void par_buf_free(par_buf *b)
{
    free(b->s);
    *b = (par_buf){0};
}

void par_frame_free(par_frame *f)
{
    par_buf_free(&f->out);
    par_buf_free(&f->sum);
    par_buf_free(&f->res);
}

par_head par_frame_head(const par_frame *f)
{
    par_head h = { PAR_MAGIC, f->kind, f->index, 0, f->out.n, f->sum.n, f->res.n, f->rank };
    memcpy(&h.seconds_bits, &f->seconds, sizeof f->seconds);
    return h;
}

void par_frame_died(par_frame *f, uint64_t index, const char *how)
{
    *f = (par_frame){ .kind = PAR_DIED, .index = index };
    par_put(&f->sum, how, strlen(how));
}

/* procs workers each get an equal share of the cores this process may use
 * (sched_getaffinity respects taskset and cgroups, unlike the core count),
 * so -j 2 on 2 cores runs 2 single-threaded workers, not 4 threads. */
int par_cores(void)
{
    cpu_set_t set;
    int cores = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
    return cores < 1 ? 1 : cores;
}

int par_threads_per(int procs)
{
    const char *s = getenv("MLP_THREADS");
    if (s && *s) return 0;   /* rt_pool_create(0) reads MLP_THREADS itself */
    int cores = par_cores();
    int n = procs > 0 ? cores / procs : cores;
    return n < 1 ? 1 : n;
}

int par_workers_for(int jobs, size_t npoints)
{
    const size_t n = jobs < 1 ? 1 : (size_t)jobs;
    if (npoints <= n) return (int)npoints;
    /* the fewest, from n to 2n, whose last round fills the n cores */
    for (size_t w = n; w <= 2 * n; w++)
        if (npoints % w == 0 || npoints % w >= n) return (int)w;
    return (int)n;
}

/* ---- pipes -------------------------------------------------------------------- */

/* Pipes move at most PIPE_BUF atomically and signals interrupt calls:
 * these two loop until all n bytes moved, false on EOF or a real error
 * (a worker or parent that died mid-frame). */
static bool write_full(int fd, const void *p, size_t n)
{
    const char *s = p;
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        s += w;
        n -= (size_t)w;
    }
    return true;
}

static bool read_full(int fd, void *p, size_t n)
{
    char *s = p;
    while (n) {
        ssize_t r = read(fd, s, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        s += r;
        n -= (size_t)r;
    }
    return true;
}

/* Reads exactly n bytes into a fresh, NUL-terminated buffer. */
static bool read_buf(int fd, par_buf *b, uint64_t n)
{
    if (n > ((uint64_t)1 << 40)) return false;   /* a corrupt length, not a real result */
    char *s = malloc((size_t)n + 1);
    if (!s || !read_full(fd, s, (size_t)n)) { free(s); return false; }
    s[n] = 0;
    *b = (par_buf){ .s = s, .n = (size_t)n, .cap = (size_t)n + 1 };
    return true;
}

/* Head, then out, sum and res, in the order par_worker_take reads them. */
static bool write_frame(int fd, const par_frame *f)
{
    par_head h = par_frame_head(f);
    return write_full(fd, &h, sizeof h) && write_full(fd, f->out.s, f->out.n) &&
           write_full(fd, f->sum.s, f->sum.n) && write_full(fd, f->res.s, f->res.n);
}

/* ---- the worker process ------------------------------------------------------ */

typedef struct par_state {
    int jobs;          /* local worker processes per sweep; <= 1: serial */
    bool worker;       /* this process serves points: its own sweeps run serially */
    par_mpi *mpi;      /* the MPI job this process belongs to, or NULL */
    uint64_t sweeps;   /* parallel sweeps begun: the same count on every rank */
} par_state;

static par_state *state_of(mlp_vm *vm);

/* A file in memory for the point's stdout (a temporary file where the
 * kernel has no memfd). */
static int capture_fd(void)
{
    int fd = memfd_create("mlp-point-output", MFD_CLOEXEC);
    if (fd >= 0) return fd;
    FILE *f = tmpfile();
    return f ? dup(fileno(f)) : -1;
}

/* The child: runs the one point it is given and exits, so every point
 * starts from the parent's state at the sweep, whatever an earlier point
 * changed (isolation by construction). Its stdout is out_fd (the parent
 * reads it back) or, for a serial sweep (out_fd < 0), the parent's own. */
__attribute__((noreturn)) static void worker_main(mlp_vm *vm, const par_job *job, int task_fd,
                                                  int res_fd, int out_fd, int threads,
                                                  rt_core_share *share)
{
    /* Die with the parent rather than run on as an orphan. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    par_state *st = state_of(vm);
    if (st) st->worker = true;
    std_host *h = std_host_of(vm);
    /* the parent's pool has no threads here; with a share, enough threads
     * for every core, used as the share allows */
    h->pool = rt_pool_create(share ? share->cores : threads);
    if (share) rt_pool_share(h->pool, share, threads);
    if (out_fd >= 0) {
        h->tty = false;
        h->epoch_lines = false;   /* the parent reports finished points */
        if (dup2(out_fd, STDOUT_FILENO) < 0) _exit(71);
        close(out_fd);
    }
    uint64_t i;
    if (!read_full(task_fd, &i, sizeof i)) _exit(0);
    par_frame f = { .index = i };
    double t0 = rt_seconds();
    if (share) atomic_fetch_add(&share->busy, 1);
    bool ok = job->run(vm, job->ctx, (size_t)i, &f.res, &f.sum);
    if (share) atomic_fetch_sub(&share->busy, 1);   /* our cores are free for the others */
    f.seconds = rt_seconds() - t0;
    fflush(stdout);
    f.kind = ok ? PAR_RESULT : PAR_INTERRUPTED;
    int code;
    if (!ok && mlp_exit_requested(vm, &code)) {   /* the code travels in res */
        f.kind = PAR_EXIT;
        par_buf_free(&f.res);
        par_put_u64(&f.res, (uint64_t)(int64_t)code);
    }
    if (f.sum.oom || f.res.oom) _exit(72);
    if (!write_frame(res_fd, &f)) _exit(0);   /* the parent is gone */
    _exit(ok ? 0 : 130);
}

bool par_worker_spawn(mlp_vm *vm, const par_job *job, par_worker *w, par_worker *others,
                      int n, int threads, rt_core_share *share, bool capture)
{
    int tp[2], rp[2], out = capture ? capture_fd() : -1;
    if (capture && out < 0) return false;
    if (pipe2(tp, O_CLOEXEC) != 0) {
        if (out >= 0) close(out);
        return false;
    }
    if (pipe2(rp, O_CLOEXEC) != 0) {
        close(tp[0]);
        close(tp[1]);
        if (out >= 0) close(out);
        return false;
    }
    /* Anything buffered now would be written again by the child. */
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        close(tp[1]);
        close(rp[0]);
        /* Holding a sibling's pipes would hide its death from the parent. */
        for (int k = 0; k < n; k++)
            if (others[k].pid && &others[k] != w) {
                close(others[k].task_fd);
                close(others[k].res_fd);
                if (others[k].out_fd >= 0) close(others[k].out_fd);
            }
        worker_main(vm, job, tp[0], rp[1], out, threads, share);
    }
    int saved = errno;
    close(tp[0]);
    close(rp[1]);
    if (pid < 0) {
        close(tp[1]);
        close(rp[0]);
        if (out >= 0) close(out);
        errno = saved;
        return false;
    }
    *w = (par_worker){ .pid = pid, .task_fd = tp[1], .res_fd = rp[0], .out_fd = out,
                       .point = -1 };
    return true;
}

bool par_worker_give(par_worker *w, size_t i)
{
    uint64_t x = i;
    if (!w->pid || !write_full(w->task_fd, &x, sizeof x)) return false;
    w->point = (long)i;
    w->started = rt_seconds();
    return true;
}

/* How a reaped worker ended, as a row's error text. */
static void death_text(int status, char *buf, size_t n)
{
    if (WIFSIGNALED(status))
        snprintf(buf, n, "worker died: killed by signal %d", WTERMSIG(status));
    else if (WIFEXITED(status))
        snprintf(buf, n, "worker died: exited with status %d", WEXITSTATUS(status));
    else
        snprintf(buf, n, "worker died");
}

static void reap(par_worker *w, int *status)
{
    *status = 0;
    if (w->task_fd >= 0) close(w->task_fd);
    if (w->res_fd >= 0) close(w->res_fd);
    if (w->out_fd >= 0) close(w->out_fd);
    while (w->pid && waitpid(w->pid, status, 0) < 0 && errno == EINTR) {}
    *w = (par_worker){ .task_fd = -1, .res_fd = -1, .out_fd = -1, .point = -1 };
}

/* What the worker's point wrote to its captured stdout, flushed (all of
 * it after an answer; after a death, what it had flushed when it died).
 * The file's size, not its offset, which the worker shares. */
static void take_output(par_worker *w, par_buf *out)
{
    struct stat sb;
    if (w->out_fd < 0 || fstat(w->out_fd, &sb) != 0 || sb.st_size <= 0) return;
    char *s = malloc((size_t)sb.st_size);
    if (s && pread(w->out_fd, s, (size_t)sb.st_size, 0) == sb.st_size)
        par_put(out, s, (size_t)sb.st_size);
    free(s);
}

bool par_worker_take(par_worker *w, par_frame *f)
{
    par_head h;
    long point = w->point;
    double started = w->started;
    *f = (par_frame){0};
    if (read_full(w->res_fd, &h, sizeof h) && h.magic == PAR_MAGIC &&
        read_buf(w->res_fd, &f->out, h.out_len) && read_buf(w->res_fd, &f->sum, h.sum_len) &&
        read_buf(w->res_fd, &f->res, h.res_len)) {
        f->kind = h.kind;
        f->index = h.index;
        memcpy(&f->seconds, &h.seconds_bits, sizeof f->seconds);
        w->point = -1;
        if (f->kind != PAR_INTERRUPTED) {
            par_buf_free(&f->out);
            take_output(w, &f->out);
            if (f->kind != PAR_EXIT) return true;
            /* exit(code) in the point: reap the worker, pass the frame on */
            int status;
            reap(w, &status);
            return false;
        }
    }
    bool interrupted = f->kind == PAR_INTERRUPTED;
    par_frame_free(f);
    par_buf out = {0};
    take_output(w, &out);
    int status;
    reap(w, &status);
    char how[128];
    death_text(status, how, sizeof how);
    par_frame_died(f, point < 0 ? 0 : (uint64_t)point, how);
    f->out = out;
    f->seconds = rt_seconds() - started;
    /* Exit status 130 is a worker stopping for Ctrl-C, not a crash. */
    if (interrupted || (WIFEXITED(status) && WEXITSTATUS(status) == 130) ||
        (WIFSIGNALED(status) && WTERMSIG(status) == SIGINT))
        f->kind = PAR_INTERRUPTED;
    return false;
}

/* Without force, closing the task pipe is the request to stop: an idle
 * worker reads EOF and exits at once, a busy one after its point. */
void par_worker_stop(par_worker *w, bool force)
{
    if (force && w->pid) kill(w->pid, SIGTERM);
    int status;
    reap(w, &status);
}

/* ---- progress ------------------------------------------------------------------ */

/* One stderr line per finished point; on a terminal a bar under them,
 * redrawn as points finish and every few tenths of a second. */
typedef struct progress {
    bool tty, quiet;   /* quiet: a serial sweep, which shows no progress */
    double t0;
    size_t done, total;
    int running;
} progress;

/* Redraws the bar in place (carriage return, erase to end of line); on a
 * terminal only, so logs of non-interactive runs hold just the lines. */
static void bar(progress *p)
{
    if (!p->tty) return;
    char line[160];
    int width = 30, fill = p->total ? (int)(width * p->done / p->total) : width;
    double el = rt_seconds() - p->t0;
    int k = snprintf(line, sizeof line, "\r[");
    for (int i = 0; i < width; i++) line[k++] = i < fill ? '=' : (i == fill ? '>' : '.');
    k += snprintf(line + k, sizeof line - (size_t)k, "] %zu/%zu points, %d running, %.0fs",
                  p->done, p->total, p->running, el);
    if (p->done > 0 && p->done < p->total)
        k += snprintf(line + k, sizeof line - (size_t)k, ", ~%.0fs left",
                      el / (double)p->done * (double)(p->total - p->done));
    snprintf(line + k, sizeof line - (size_t)k, "\033[K");
    fputs(line, stderr);
    fflush(stderr);
}

static void progress_line(progress *p, const par_frame *f)
{
    if (p->quiet) return;
    if (p->tty) fputs("\r\033[K", stderr);
    /* A long summary (a whole loss curve) is cut, at a character boundary. */
    const char *sum = f->sum.s ? f->sum.s : "";
    int n = (int)strlen(sum), max = 240;
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)sum[n] & 0xC0) == 0x80) n--;
    }
    fprintf(stderr, "sweep: point %llu/%zu (%.2fs): %.*s%s\n", (unsigned long long)f->index + 1,
            p->total, f->seconds, n, sum, sum[n] ? " ..." : "");
}

static void progress_end(progress *p)
{
    if (p->tty) fputs("\r\033[K", stderr);
    fflush(stderr);
}

/* ---- the scheduler -------------------------------------------------------------- */

/* The point's exit(code): its output, then the program's own exit. */
static bool exit_with(mlp_vm *vm, const par_frame *f)
{
    uint64_t c = 0;
    if (f->res.n >= sizeof c) memcpy(&c, f->res.s, sizeof c);
    if (f->out.n) mlp_write(vm, f->out.s, f->out.n);
    mlp_value ex, code = mlp_number((double)(int64_t)c), dummy;
    return mlp_get_global(vm, "exit", &ex) ? mlp_call(vm, ex, 1, &code, mlp_nil(), &dummy)
                                           : mlp_raise(vm, "exit(%d)", (int)(int64_t)c);
}

/* Dynamic scheduling: every slot gets a point, and each answer frees its
 * slot for the next unassigned point, so long and short points balance
 * without knowing their cost. Answers arrive in any order; output and
 * take() go strictly in point order, as far as the finished prefix
 * reaches, so the program's output streams while the sweep runs. */
bool par_schedule(mlp_vm *vm, const par_job *job, par_slots *slots, par_frame *results)
{
    size_t n = job->npoints, next = 0, done = 0, emitted = 0;
    /* exit(code) in point exit_at: the points before it finish (a serial
     * run would have run them: their output and cache entries are kept),
     * none after it starts, then the program stops with the code. */
    size_t exit_at = n;
    par_frame exit_f = {0};
    bool *have = calloc(n + 1, sizeof *have);
    if (!have) return mlp_raise(vm, "sweep: out of memory");
    progress pr = { .tty = !slots->quiet && isatty(STDERR_FILENO), .quiet = slots->quiet,
                    .t0 = rt_seconds(), .total = n };
    bool ok = true;
    int free_slot = 0;
    /* A slot that cannot take a point (no process could be started)
     * fails that point alone, like a worker that died with it. */
    for (; free_slot < slots->n && next < n; free_slot++, next++) {
        if (slots->give(slots->ctx, free_slot, next)) { pr.running++; continue; }
        par_frame_died(&results[next], next, "worker died: could not start a worker process");
        have[next] = true;
        done++;
    }
    bar(&pr);
    while (ok && emitted < n) {
        /* Print the finished prefix in point order, then hand it over. */
        bool wrote = false;
        while (emitted < exit_at && have[emitted]) {
            par_frame *f = &results[emitted];
            /* The bar shares the terminal with the output: off it goes. */
            if (pr.tty && !wrote) fputs("\r\033[K", stderr);
            wrote = true;
            if (f->out.n) mlp_write(vm, f->out.s, f->out.n);
            par_buf_free(&f->out);
            ok = job->take(vm, job->ctx, emitted,
                           f->kind == PAR_DIED ? NULL : f->res.s ? f->res.s : "",
                           f->res.n, f->kind == PAR_DIED ? f->sum.s : NULL);
            emitted++;
            if (!ok) break;
        }
        if (wrote) {
            fflush(stdout);
            bar(&pr);
        }
        if (!ok || emitted == n) break;
        if (emitted == exit_at) {
            ok = exit_with(vm, &exit_f);
            break;
        }
        if (done == n) {   /* only when a slot vanished mid-point without an answer */
            ok = mlp_raise(vm, "sweep: a worker's answer was lost");
            break;
        }
        par_frame f = {0};
        int s = -1, r = slots->wait(slots->ctx, vm, 250, &f, &s);
        if (r < 0) { ok = false; break; }
        if (r == 0) { bar(&pr); continue; }
        if (f.kind == PAR_INTERRUPTED) {
            par_frame_free(&f);
            ok = mlp_raise(vm, "interrupted");
            break;
        }
        if (f.kind == PAR_EXIT) {
            if (f.index < exit_at) {
                par_frame_free(&exit_f);
                exit_f = f;
                exit_at = (size_t)f.index;
            } else {
                par_frame_free(&f);
            }
            pr.running--;
            continue;
        }
        if (f.index >= n || have[f.index]) {   /* not ours: ignore, keep the slot busy */
            par_frame_free(&f);
            continue;
        }
        pr.running--;
        pr.done++;
        results[f.index] = f;
        have[f.index] = true;
        done++;
        while (next < exit_at && s >= 0) {
            if (slots->give(slots->ctx, s, next)) { pr.running++; next++; break; }
            par_frame_died(&results[next], next, "worker died: could not start a worker process");
            have[next++] = true;
            done++;
        }
        progress_line(&pr, &results[f.index]);
    }
    progress_end(&pr);
    par_frame_free(&exit_f);
    free(have);
    return ok;
}

/* ---- local slots: worker processes over pipes ---------------------------------- */

typedef struct local {
    mlp_vm *vm;
    const par_job *job;
    par_worker *w;
    int n, threads;
    rt_core_share *share;   /* shared memory: the workers' cores (NULL: fixed threads) */
    bool capture;   /* workers' stdout goes to memory (-j), or straight out (serial) */
} local;

static bool local_give(void *ctx, int s, size_t i)
{
    local *l = ctx;
    par_worker *w = &l->w[s];
    /* Every point gets a fresh process, forked from the sweep's start. */
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!w->pid &&
            !par_worker_spawn(l->vm, l->job, w, l->w, l->n, l->threads, l->share, l->capture))
            return false;
        if (par_worker_give(w, i)) return true;
        par_worker_stop(w, true);
    }
    return false;
}

/* Polls the result pipes of busy workers only (an idle worker has nothing
 * to say; its death shows at the next give). A pipe that reports hang-up
 * is a dead worker: par_worker_take turns that into its point's row.
 * Ctrl-C interrupts poll() (EINTR) and is noticed here at once. */
static int local_wait(void *ctx, mlp_vm *vm, int timeout_ms, par_frame *f, int *s)
{
    local *l = ctx;
    struct pollfd fds[256];
    int idx[256], k = 0;
    for (int i = 0; i < l->n && k < 256; i++)
        if (l->w[i].pid && l->w[i].point >= 0) {
            fds[k] = (struct pollfd){ .fd = l->w[i].res_fd, .events = POLLIN };
            idx[k++] = i;
        }
    if (mlp_interrupted(vm)) return mlp_raise(vm, "interrupted"), -1;
    if (k == 0) return 0;
    int r = poll(fds, (nfds_t)k, timeout_ms);
    if (r < 0 && errno != EINTR) return mlp_raise(vm, "sweep: poll: %s", strerror(errno)), -1;
    if (mlp_interrupted(vm)) return mlp_raise(vm, "interrupted"), -1;
    for (int j = 0; r > 0 && j < k; j++)
        if (fds[j].revents) {
            *s = idx[j];
            if (par_worker_take(&l->w[idx[j]], f)) par_worker_stop(&l->w[idx[j]], false);
            return 1;
        }
    return 0;
}

/* A sweep with -j (jobs workers at a time, output captured) or serially
 * (one at a time, writing straight to stdout, no progress lines): all of
 * them ended and reaped before returning, whatever happened (forced when
 * interrupted). */
static bool local_run(mlp_vm *vm, int jobs, const par_job *job, bool serial)
{
    int n = par_workers_for(jobs, job->npoints);
    if (n > 256) n = 256;
    std_host *h = std_host_of(vm);
    int threads = serial && h->pool ? rt_pool_threads(h->pool) : par_threads_per(n);
    /* -j: the workers share the cores, so while fewer points than workers
     * are left (a sweep's last ones), the idle workers' cores go to the
     * points still running. Not when MLP_THREADS fixes the threads. */
    rt_core_share *share = NULL;
    if (!serial && threads > 0 && n > 1) {
        share = mmap(NULL, sizeof *share, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (share == MAP_FAILED) share = NULL;
        else {
            atomic_init(&share->busy, 0);
            share->cores = par_cores();
        }
    }
    local l = { vm, job, calloc((size_t)n, sizeof(par_worker)), n, threads, share, !serial };
    par_frame *results = calloc(job->npoints, sizeof *results);
    if (!l.w || !results) {
        free(l.w);
        free(results);
        if (share) munmap(share, sizeof *share);
        return mlp_raise(vm, "sweep: out of memory");
    }
    for (int i = 0; i < n; i++)
        l.w[i] = (par_worker){ .task_fd = -1, .res_fd = -1, .out_fd = -1, .point = -1 };
    struct sigaction ign = { .sa_handler = SIG_IGN }, old;
    sigaction(SIGPIPE, &ign, &old);
    par_slots slots = { n, &l, local_give, local_wait, serial };
    bool ok = par_schedule(vm, job, &slots, results);
    for (int i = 0; i < n; i++) par_worker_stop(&l.w[i], !ok);
    sigaction(SIGPIPE, &old, NULL);
    for (size_t i = 0; i < job->npoints; i++) par_frame_free(&results[i]);
    free(results);
    free(l.w);
    if (share) munmap(share, sizeof *share);
    return ok;
}

/* ---- the interpreter's parallel state ---------------------------------------- */

/* Runs when the interpreter is freed: the end of the script for MPI too. */
void par_state_free(par_state *st)
{
    if (!st) return;
    if (st->mpi && !st->worker) par_mpi_end(st->mpi);
    free(st);
}

/* NULL when the host never called mlp_parallel_start (embedders, unit
 * tests of other modules): every sweep is then serial. */
static par_state *state_of(mlp_vm *vm)
{
    std_host *h = std_host_of(vm);
    return h ? h->par : NULL;
}

bool par_enabled(mlp_vm *vm)
{
    par_state *st = state_of(vm);
    return st && !st->worker && (st->mpi || st->jobs > 1);
}

bool par_silent(mlp_vm *vm)
{
    par_state *st = state_of(vm);
    return st && st->mpi && par_mpi_rank(st->mpi) > 0;
}

/* Output the script printed before the sweep must reach stdout before
 * any point's output (and must not be inherited by the workers). */
bool par_run(mlp_vm *vm, const par_job *job)
{
    par_state *st = state_of(vm);
    if (job->npoints == 0) return true;
    fflush(stdout);
    if (st->mpi) return par_mpi_sweep(vm, st->mpi, ++st->sweeps, job);
    return local_run(vm, st->jobs, job, false);
}

bool par_run_serial(mlp_vm *vm, const par_job *job)
{
    if (job->npoints == 0) return true;
    fflush(stdout);
    fflush(stderr);
    return local_run(vm, 1, job, true);
}

/* A positive count from the environment; 0 when unset; -1 when malformed. */
static long env_count(const char *name)
{
    const char *s = getenv(name);
    if (!s || !*s) return 0;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return errno || *end || v < 1 ? -1 : v;
}

bool mlp_parallel_start(mlp_vm *vm, int jobs)
{
    if (jobs <= 0) {
        long j = env_count("MLP_JOBS");
        if (j < 0) {
            fprintf(stderr, "mlp: MLP_JOBS must be a positive integer, got '%s'\n",
                    getenv("MLP_JOBS"));
            return false;
        }
        jobs = j ? (int)(j > 256 ? 256 : j) : 1;
    }
    par_mpi *m = NULL;
    if (!par_mpi_start(&m)) return false;
    par_state *st = calloc(1, sizeof *st);
    if (!st) {
        if (m) par_mpi_end(m);
        fprintf(stderr, "mlp: out of memory\n");
        return false;
    }
    st->jobs = jobs;
    st->mpi = m;
    std_host *h = std_host_of(vm);
    if (!h) {
        par_state_free(st);
        fprintf(stderr, "mlp: mlp_parallel_start needs the stdlib (mlp_stdlib_open) first\n");
        return false;
    }
    par_state_free(h->par);
    h->par = st;
    return true;
}

/* ---- the test hook ------------------------------------------------------------- */

/* __test_die(signal): the calling process kills itself, without flushing
 * its output first (as an extern that aborts would). Only for the tests
 * of worker deaths; registered only with MLP_TEST_HOOKS=1. */
static bool n_test_die(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    long sig;
    if (!std_int_arg(vm, "__test_die", "signal", a[0], 1, 64, &sig)) return false;
    kill(getpid(), (int)sig);
    return true;
}

static const mlp_native test_natives[] = {
    { "__test_die", "signal", n_test_die,
      "__test_die(signal): test-only; sends signal to this process (MLP_TEST_HOOKS=1)" },
};

bool par_open(mlp_vm *vm)
{
    const char *hooks = getenv("MLP_TEST_HOOKS");
    if (!hooks || strcmp(hooks, "1") != 0) return true;
    return mlp_register(vm, test_natives, sizeof test_natives / sizeof test_natives[0]);
}
