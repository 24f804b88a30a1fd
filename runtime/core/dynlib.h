/*
 * dynlib.h — a library the program loads when it first needs it.
 *
 * libcurl (downloads), libcrypto (SHA-256 of data files) and cairo (PNG,
 * SVG and PDF figures) pull in about fifty shared libraries between them
 * (TLS, Kerberos, LDAP, X11, fonts). Linked in, loading them took 5.2 of
 * the 7.1 ms every run of mlp spent before the first line of a script
 * (measured: an empty C program linked against them, 5.8 ms, against 0.6
 * ms); most scripts use none of them. So they are opened with dlopen at
 * their first use, and their functions are called through a table of
 * pointers filled then. A library that is missing then is an error of the
 * call that needed it, not of every run.
 */
#ifndef MLP_DYNLIB_H
#define MLP_DYNLIB_H

#include <stdbool.h>
#include "rt_error.h"

typedef struct rt_dynlib {
    const char *soname;         /* as dlopen wants it: "libcairo.so.2" */
    const char *what;           /* for errors: "cairo (figures)" */
    const char *const *names;   /* the functions, NULL-terminated */
    void *slots;                /* the struct of pointers, in the same order */
    /* state */
    int state;                  /* 0 not tried, 1 loaded, -1 failed */
    char why[200];              /* why it failed */
} rt_dynlib;

/* Loads the library and all its functions once (thread-safe); false with
 * err set ("cannot load cairo (figures): libcairo.so.2: ...") when the
 * library or one of its functions is missing. */
bool rt_dynlib_load(rt_dynlib *lib, rt_error *err);

/* The table of one library: X(name) for each function; declares the struct
 * of pointers typed as the header declares each function, the list of
 * names and the rt_dynlib. Call through PREFIX##_api.name(...). */
#define RT_DYNLIB_FIELD(f) __typeof__(f) *f;
#define RT_DYNLIB_NAME(f) #f,
#define RT_DYNLIB_DEFINE(prefix, soname_, what_, LIST)                              \
    static struct { LIST(RT_DYNLIB_FIELD) } prefix##_api;                          \
    static const char *const prefix##_names[] = { LIST(RT_DYNLIB_NAME) NULL };     \
    static rt_dynlib prefix##_lib = { .soname = soname_, .what = what_,           \
                                      .names = prefix##_names,                    \
                                      .slots = &prefix##_api }

#endif
