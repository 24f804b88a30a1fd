/*
 * fuzz_run.c — libFuzzer target for the whole interpreter: parse, compile
 * and RUN each input, so the VM, the builtins and the garbage collector see
 * arbitrary programs (fuzz_parse.c stops after compiling).
 *
 * Each input runs in a fresh interpreter with output discarded. Two limits
 * keep a generated program from hanging or exhausting the machine, and both
 * must end in an ordinary runtime error rather than a crash:
 *   - time: a virtual-time interval timer (SIGVTALRM; libFuzzer itself owns
 *     SIGALRM) calls mlp_interrupt, which the header promises is
 *     async-signal-safe, after 200 ms of CPU; the program then stops with
 *     the runtime error "interrupted" at its next call or backward jump;
 *   - memory: run with ASAN_OPTIONS=allocator_may_return_null=1 and
 *     -malloc_limit_mb, so `[0] * 1e12` makes malloc return NULL, which the
 *     VM must report as an error.
 * MLP_GC_STRESS=1 in the environment makes every allocation collect, which
 * is the setting that finds missing GC roots.
 *
 * Built and run by `make fuzz-run` (see tests/fuzz/README.md).
 */
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/time.h>

#include "mlp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The interpreter the timer interrupts; only touched by the signal handler
 * between the two setitimer calls, when it is valid. */
static mlp_vm *volatile running;

static void on_timer(int sig)
{
    (void)sig;
    mlp_vm *vm = running;
    if (vm != NULL)
        mlp_interrupt(vm);
}

static void discard(void *ud, const char *s, size_t n)
{
    (void)ud;
    (void)s;
    (void)n;
}

static void arm(long usec)
{
    struct itimerval t;
    memset(&t, 0, sizeof t);
    t.it_value.tv_usec = usec;
    t.it_interval.tv_usec = usec; /* again, in case the first came too early */
    setitimer(ITIMER_VIRTUAL, &t, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int installed;
    if (!installed) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_timer;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGVTALRM, &sa, NULL);
        installed = 1;
    }
    mlp_config cfg = { .write_out = discard, .write_err = discard };
    mlp_vm *vm = mlp_vm_new(&cfg);
    if (vm == NULL)
        return 0;
    running = vm;
    arm(200000);
    (void)mlp_run_source(vm, "fuzz.mlp", (const char *)data, size);
    arm(0);
    running = NULL;
    mlp_vm_free(vm);
    return 0;
}
