#include <string.h>

#include "spec/build.h"
#include "util/json.h"

static const char *const default_caps[] = {
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
        "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT",
};

static const char *const masked_paths[] = {
        "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi", "/sys/devices/virtual/powercap",
};

static const char *const readonly_paths[] = {
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static json_t *strings(const char *const *v, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                json_array_append_new(a, json_string(v[i]));
        return a;
}

static json_t *build_mounts(void)
{
        return json_pack(
                "[{s:s,s:s,s:s}, {s:s,s:s,s:s,s:[s,s,s,s]}, {s:s,s:s,s:s,s:[s,s,s,s,s]},"
                " {s:s,s:s,s:s,s:[s,s,s,s,s]}, {s:s,s:s,s:s,s:[s,s,s]}, {s:s,s:s,s:s,s:[s,s,s,s]}]",
                "destination", "/proc", "type", "proc", "source", "proc",
                "destination", "/dev", "type", "tmpfs", "source", "tmpfs", "options", "nosuid", "strictatime", "mode=755",
                "size=65536k",
                "destination", "/dev/pts", "type", "devpts", "source", "devpts", "options", "nosuid", "noexec",
                "newinstance", "ptmxmode=0666", "mode=0620",
                "destination", "/dev/shm", "type", "tmpfs", "source", "shm", "options", "nosuid", "noexec", "nodev",
                "mode=1777", "size=65536k",
                "destination", "/dev/mqueue", "type", "mqueue", "source", "mqueue", "options", "nosuid", "noexec", "nodev",
                "destination", "/sys", "type", "sysfs", "source", "sysfs", "options", "nosuid", "noexec", "nodev", "ro");
}

static json_t *build_namespaces(bool rootless)
{
        static const char *const types[] = { "pid", "network", "ipc", "uts", "mount", "cgroup", "user" };
        json_t *a = json_array();
        for (size_t i = 0; a && i < ELEMENTSOF(types); i++) {
                if (!rootless && streq(types[i], "user"))
                        continue;
                json_array_append_new(a, json_pack("{s:s}", "type", types[i]));
        }
        return a;
}

static json_t *build_process(void)
{
        json_t *caps = strings(default_caps, ELEMENTSOF(default_caps));
        return json_pack("{s:b, s:{s:i,s:i}, s:[s], s:[s,s], s:s, s:{s:O,s:O,s:o,s:[],s:[]}, s:[{s:s,s:i,s:i}], s:b}",
                         "terminal", 1, "user", "uid", 0, "gid", 0, "args", "sh", "env",
                         "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", "cwd", "/",
                         "capabilities", "bounding", caps, "effective", caps, "permitted", caps, "inheritable", "ambient",
                         "rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024, "noNewPrivileges", 1);
}

int spec_build_default(bool rootless, uid_t uid, gid_t gid, json_t **ret, struct herror *err)
{
        _cleanup_json_ json_t *seccomp = NULL;
        int r = json_parse_limited(spec_default_seccomp_json, spec_default_seccomp_json_len, "profiles/seccomp/default.json",
                                   JSON_MAX_SIZE_DEFAULT, JSON_MAX_DEPTH_DEFAULT, &seccomp, err);
        if (r < 0)
                return r;
        json_object_del(seccomp, "comment");
        _cleanup_json_ json_t *linux_ = json_pack("{s:o, s:o, s:o, s:O}", "namespaces", build_namespaces(rootless),
                                                  "maskedPaths", strings(masked_paths, ELEMENTSOF(masked_paths)),
                                                  "readonlyPaths", strings(readonly_paths, ELEMENTSOF(readonly_paths)),
                                                  "seccomp", seccomp);
        if (!linux_)
                return herror_set(err, ENOMEM, "build the default spec");
        if (rootless) {
                json_object_set_new(linux_, "uidMappings", json_pack("[{s:i,s:I,s:i}]", "containerID", 0, "hostID", (json_int_t) uid, "size", 1));
                json_object_set_new(linux_, "gidMappings", json_pack("[{s:i,s:I,s:i}]", "containerID", 0, "hostID", (json_int_t) gid, "size", 1));
        }
        json_t *spec = json_pack("{s:s, s:o, s:{s:s,s:b}, s:s, s:o, s:O}", "ociVersion", "1.2.0", "process", build_process(),
                                 "root", "path", "rootfs", "readonly", 1, "hostname", "hutch", "mounts", build_mounts(),
                                 "linux", linux_);
        if (!spec)
                return herror_set(err, ENOMEM, "build the default spec");
        *ret = spec;
        return 0;
}
