#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HERROR_IMPLEMENTATION /* error.c defines the functions error.h wraps for the analyzer */
#include "util/error.h"

int herror_setv(struct herror *err, int errnum, const char *fmt, va_list ap)
{
        if (errnum <= 0)
                errnum = EINVAL;
        if (!err)
                return -errnum;
        char *msg = NULL;
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        free(err->msg);
        err->msg = msg;
        err->errnum = errnum;
        return -errnum;
}

int herror_set(struct herror *err, int errnum, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = herror_setv(err, errnum, fmt, ap);
        va_end(ap);
        return r;
}

int herror_sys(struct herror *err, int errnum, const char *fmt, ...)
{
        if (errnum <= 0)
                errnum = EINVAL;
        if (!err)
                return -errnum;
        va_list ap;
        va_start(ap, fmt);
        herror_setv(err, errnum, fmt, ap);
        va_end(ap);
        char *full = NULL;
        if (asprintf(&full, "%s: %s", err->msg ? err->msg : "error", strerror(errnum)) >= 0) {
                free(err->msg);
                err->msg = full;
        }
        return -errnum;
}

int herror_wrap(struct herror *err, const char *fmt, ...)
{
        if (!err)
                return -EINVAL;
        if (err->errnum <= 0)
                err->errnum = EINVAL;
        char *ctx = NULL, *full = NULL;
        va_list ap;
        va_start(ap, fmt);
        int n = vasprintf(&ctx, fmt, ap);
        va_end(ap);
        if (n >= 0 && asprintf(&full, "%s: %s", ctx, err->msg ? err->msg : strerror(err->errnum)) >= 0) {
                free(err->msg);
                err->msg = full;
        }
        free(ctx);
        return -err->errnum;
}

void herror_clear(struct herror *err)
{
        if (!err)
                return;
        free(err->msg);
        err->msg = NULL;
        err->errnum = 0;
}

const char *herror_msg(const struct herror *err)
{
        if (!err || !err->errnum)
                return "no error";
        return err->msg ? err->msg : strerror(err->errnum);
}

void strv_free(char **v)
{
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

int strv_push(char ***v, const char *s)
{
        size_t n = 0;
        while (*v && (*v)[n])
                n++;
        char **nv = realloc(*v, (n + 2) * sizeof *nv);
        if (!nv)
                return -ENOMEM;
        *v = nv;
        nv[n + 1] = NULL;
        if (!(nv[n] = strdup(s)))
                return -ENOMEM;
        return 0;
}
