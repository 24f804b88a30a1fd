/* rt_error.c — see rt_error.h. */
#include <stdarg.h>
#include <stdio.h>
#include "rt_error.h"

bool rt_fail(rt_error *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->io = false;
    }
    return false;
}

bool rt_fail_io(rt_error *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->io = true;
    }
    return false;
}
