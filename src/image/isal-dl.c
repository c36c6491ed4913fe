#include "image/isal-dl.h"

#include <dlfcn.h>
#include <stdio.h>

#define ISAL_SONAME "libisal.so.2"

#if HAVE_ISAL
#define ISAL_DL_DEFINE(name) __typeof__(name) *dl_##name;
ISAL_DL_SYMBOLS(ISAL_DL_DEFINE)
#undef ISAL_DL_DEFINE

static int tried; /* 0 not yet, 1 loaded, -errno failed */
static char why[256];

static int load(void)
{
        /* RTLD_NODELETE: the pointers stay valid for the life of the process */
        void *h = dlopen(ISAL_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (!h) {
                snprintf(why, sizeof why, "cannot load %s (package libisal2): %s", ISAL_SONAME, dlerror());
                return -ELIBACC;
        }
#define ISAL_DL_RESOLVE(name)                                                                   \
        if (!(dl_##name = (__typeof__(name) *) dlsym(h, #name))) {                              \
                snprintf(why, sizeof why, "%s has no symbol %s: too old?", ISAL_SONAME, #name); \
                return -ELIBBAD;                                                                \
        }
        ISAL_DL_SYMBOLS(ISAL_DL_RESOLVE)
#undef ISAL_DL_RESOLVE
        return 1;
}

bool isal_dl_load(struct herror *err)
{
        if (!tried)
                tried = load();
        if (tried < 0 && err)
                herror_set(err, -tried, "%s", why);
        return tried > 0;
}
#else
bool isal_dl_load(struct herror *err)
{
        if (err)
                herror_set(err, EOPNOTSUPP, "hutch was built without ISA-L (libisal-dev)");
        return false;
}
#endif
