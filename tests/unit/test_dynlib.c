/*
 * test_dynlib.c — libraries opened at their first use: the functions of a
 * table are found and callable, a missing library or function is an error
 * that names it (every time it is asked again, not only the first), and
 * libcurl and cairo are not loaded before they are needed.
 */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "dynlib.h"

#define M_FUNCS(X) X(cos) X(ldexp)
RT_DYNLIB_DEFINE(m, "libm.so.6", "libm (test)", M_FUNCS);

Test(dynlib, loads_a_table_and_calls_through_it)
{
    rt_error err;
    cr_assert(rt_dynlib_load(&m_lib, &err), "%s", err.msg);
    cr_assert(rt_dynlib_load(&m_lib, &err), "a second load is a no-op");
    cr_assert_eq((m_api.cos)(0.0), 1.0);
    cr_assert_eq((m_api.ldexp)(3.0, 4), 48.0);
}

static double no_such(double x) { return x; }
#define MISSING_FUNCS(X) X(no_such)
RT_DYNLIB_DEFINE(missing_fn, "libm.so.6", "libm (no_such)", MISSING_FUNCS);
RT_DYNLIB_DEFINE(missing_lib, "libmlp-test-absent.so.9", "absent (test)", M_FUNCS);

Test(dynlib, a_missing_library_or_function_is_an_error_that_names_it)
{
    (void)no_such;
    rt_error err;
    for (int again = 0; again < 2; again++) {
        cr_assert_not(rt_dynlib_load(&missing_lib_lib, &err));
        cr_assert(strstr(err.msg, "cannot load absent (test): libmlp-test-absent.so.9"), "%s", err.msg);
        cr_assert_not(rt_dynlib_load(&missing_fn_lib, &err));
        cr_assert(strstr(err.msg, "cannot load libm (no_such): libm.so.6 has no no_such"), "%s",
                  err.msg);
    }
}

Test(dynlib, the_heavy_libraries_are_not_loaded_at_startup)
{
    /* this process links what mlp links (LDLIBS): before anything asked
     * for a download or a figure, libcurl and cairo are not in it */
    cr_assert_null(dlopen("libcurl.so.4", RTLD_NOW | RTLD_NOLOAD));
    cr_assert_null(dlopen("libcairo.so.2", RTLD_NOW | RTLD_NOLOAD));
}
