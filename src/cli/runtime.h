#pragma once

#include <stdbool.h>

struct runtime_globals {
        const char *root;
        bool systemd_cgroup;
};
extern struct runtime_globals runtime_globals;
