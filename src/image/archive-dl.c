#define ARCHIVE_DL_IMPLEMENTATION
#include "image/archive-dl.h"

#include <dlfcn.h>
#include <stdbool.h>

#define ARCHIVE_DL_DEFINE(name) __typeof__(name) *dl_##name;
ARCHIVE_DL_SYMBOLS(ARCHIVE_DL_DEFINE)
#undef ARCHIVE_DL_DEFINE

/* The soname of the ABI the headers describe; libarchive has kept it since 2011. */
#define LIBARCHIVE_SONAME "libarchive.so.13"

static bool loaded;

int archive_dl_load(struct herror *err)
{
        if (loaded)
                return 0;
        /* RTLD_NODELETE: the pointers stay valid for the life of the process, also if a caller closed it */
        void *h = dlopen(LIBARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (!h)
                return herror_set(err, ELIBACC, "cannot load %s (package libarchive13): %s", LIBARCHIVE_SONAME,
                                  dlerror());
#define ARCHIVE_DL_RESOLVE(name)                                 \
        if (!(dl_##name = (__typeof__(name) *) dlsym(h, #name))) \
                return herror_set(err, ELIBBAD, "%s has no symbol %s: too old?", LIBARCHIVE_SONAME, #name);
        ARCHIVE_DL_SYMBOLS(ARCHIVE_DL_RESOLVE)
#undef ARCHIVE_DL_RESOLVE
        loaded = true;
        return 0;
}
