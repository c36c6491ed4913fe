#define LSM_DL_IMPLEMENTATION
#include "sandbox/lsm-dl.h"

#include <dlfcn.h>

#include "util/log.h"

#define LSM_DL_DEFINE(name) __typeof__(name) *dl_##name;
#if HAVE_SELINUX
SELINUX_DL_SYMBOLS(LSM_DL_DEFINE)
#endif
#if HAVE_APPARMOR
APPARMOR_DL_SYMBOLS(LSM_DL_DEFINE)
#endif
#undef LSM_DL_DEFINE

/* 1 loaded, -1 failed, 0 not tried */
static int selinux_state, apparmor_state;

static void *open_library(const char *soname)
{
        /* RTLD_NODELETE: the pointers stay valid for the life of the process */
        void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (!h)
                log_debug("cannot load %s: %s", soname, dlerror());
        return h;
}

#define LSM_DL_RESOLVE(name)                                             \
        if (ok && !(dl_##name = (__typeof__(name) *) dlsym(h, #name))) { \
                log_debug("%s has no symbol %s", soname, #name);         \
                ok = false;                                              \
        }

bool lsm_dl_selinux(void)
{
#if HAVE_SELINUX
        if (selinux_state == 0) {
                static const char soname[] = "libselinux.so.1";
                void *h = open_library(soname);
                bool ok = h != NULL;
                SELINUX_DL_SYMBOLS(LSM_DL_RESOLVE)
                selinux_state = ok ? 1 : -1;
        }
        return selinux_state > 0;
#else
        return false;
#endif
}

bool lsm_dl_apparmor(void)
{
#if HAVE_APPARMOR
        if (apparmor_state == 0) {
                static const char soname[] = "libapparmor.so.1";
                void *h = open_library(soname);
                bool ok = h != NULL;
                APPARMOR_DL_SYMBOLS(LSM_DL_RESOLVE)
                apparmor_state = ok ? 1 : -1;
        }
        return apparmor_state > 0;
#else
        return false;
#endif
}
