/*
 * dynlib.c — libraries opened at their first use (see dynlib.h).
 *
 * The struct of pointers is filled byte-wise (memcpy, so no pointer of
 * another type aliases its members): they are all function pointers, laid
 * out without padding, and POSIX guarantees a function pointer has the
 * size and representation of dlsym's void *.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "dynlib.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void try_load(rt_dynlib *lib)
{
    /* RTLD_LOCAL: the library's symbols stay out of the program's global
     * namespace (libffi's extern lookups, say, never see them) */
    void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(lib->why, sizeof lib->why, "%s", e ? e : lib->soname);
        lib->state = -1;
        return;
    }
    for (int i = 0; lib->names[i]; i++) {
        void *p = dlsym(h, lib->names[i]);
        if (!p) {
            snprintf(lib->why, sizeof lib->why, "%s has no %s", lib->soname, lib->names[i]);
            lib->state = -1;
            dlclose(h);
            return;
        }
        memcpy((char *)lib->slots + (size_t)i * sizeof p, &p, sizeof p);
    }
    lib->state = 1;     /* never closed: its functions are in use until exit */
}

bool rt_dynlib_load(rt_dynlib *lib, rt_error *err)
{
    pthread_mutex_lock(&lock);
    if (lib->state == 0) try_load(lib);
    int state = lib->state;
    pthread_mutex_unlock(&lock);
    if (state > 0) return true;
    return rt_fail(err, "cannot load %s: %s", lib->what, lib->why);
}
