/* One error convention for all of hutch (docs/errors.md):
 * a function that can fail returns 0 (or a non-negative value) on success and a negative errno on
 * failure, and when given a struct herror fills it with the errno and a message naming what failed.
 * Callers add context with herror_wrap() on the way up; only the CLI prints. */
#pragma once

#include <stdarg.h>
#include "util/cleanup.h"

struct herror {
        int errnum; /* positive errno value; 0 = no error */
        char *msg;  /* malloc'd, one line, no trailing newline */
};

#define HERROR_INIT     \
        {               \
                0, NULL \
        }

/* Record an error and return -errnum. errnum <= 0 is treated as EINVAL. err may be NULL. */
int herror_set(struct herror *err, int errnum, const char *fmt, ...) _printf_(3, 4);
int herror_setv(struct herror *err, int errnum, const char *fmt, va_list ap) _printf_(3, 0);
/* Like herror_set, with ": strerror(errnum)" appended. */
int herror_sys(struct herror *err, int errnum, const char *fmt, ...) _printf_(3, 4);
/* Prefix the message with "context: " and return -errnum (unchanged). */
int herror_wrap(struct herror *err, const char *fmt, ...) _printf_(2, 3);
void herror_clear(struct herror *err);

#if defined(__clang_analyzer__) && !defined(HERROR_IMPLEMENTATION)
/* The analyzer (scripts/lint) cannot see into error.c, so it would follow "success" paths out of every
 * failure return. Tell it what error.c guarantees: these always return a negative errno. */
#define HERROR_NEGATIVE_(call)           \
        ({                               \
                int _hr = (call);        \
                _hr < 0 ? _hr : -EINVAL; \
        })
#define herror_set(err, errnum, ...) HERROR_NEGATIVE_(herror_set(err, errnum, __VA_ARGS__))
#define herror_sys(err, errnum, ...) HERROR_NEGATIVE_(herror_sys(err, errnum, __VA_ARGS__))
#define herror_wrap(err, ...) HERROR_NEGATIVE_(herror_wrap(err, __VA_ARGS__))
#endif
const char *herror_msg(const struct herror *err);

static inline void herror_clearp(struct herror *e)
{
        herror_clear(e);
}
#define _cleanup_herror_ _cleanup_(herror_clearp)
