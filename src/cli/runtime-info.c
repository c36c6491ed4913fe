/* spec, features, list, ps: commands that describe rather than run. */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/runtime.h"
#include "sandbox/kernel.h"
#include "spec/build.h"
#include "util/fileio.h"
#include "util/log.h"

int runtime_cmd_spec(int argc, char **argv)
{
        static const struct option opts[] = {
                { "rootless", no_argument, NULL, 'r' },
                { "bundle", required_argument, NULL, 'b' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        bool rootless = false;
        const char *bundle = ".";
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "b:h", opts, NULL)) != -1) {
                if (c == 'r')
                        rootless = true;
                else if (c == 'b')
                        bundle = optarg;
                else if (c == 'h') {
                        printf("Usage: hutch-runtime spec [--rootless] [--bundle DIR]\n\n"
                               "Write a hardened default config.json (hutch's seccomp profile, no_new_privs, podman's\n"
                               "capability set with empty inheritable and ambient sets) into the bundle directory.\n"
                               "--rootless adds a user namespace mapping root to your own uid and gid.\n");
                        return 0;
                } else
                        return cli_bad_option("hutch-runtime spec", argc, argv), 1;
        }
        _cleanup_herror_ struct herror err = HERROR_INIT;
        _cleanup_close_ int dfd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
                herror_sys(&err, errno, "bundle %s", bundle);
                return log_error("%s", herror_msg(&err)), 1;
        }
        if (faccessat(dfd, "config.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return log_error("File config.json exists. Remove it first"), 1;
        _cleanup_json_ json_t *spec = NULL;
        if (spec_build_default(rootless, getuid(), getgid(), &spec, &err) < 0)
                return log_error("%s", herror_msg(&err)), 1;
        _cleanup_free_ char *text = json_dumps(spec, JSON_INDENT(8) | JSON_PRESERVE_ORDER);
        if (!text || atomic_write_at(dfd, "config.json", text, strlen(text), 0644, &err) < 0)
                return log_error("%s", text ? herror_msg(&err) : "out of memory"), 1;
        return 0;
}

static json_t *all_capabilities(void)
{
        json_t *a = json_array();
        for (cap_value_t c = 0; a && c < (cap_value_t) cap_max_bits(); c++) {
                char *name = cap_to_name(c);
                if (!name)
                        continue;
                char upper[64];
                size_t i;
                for (i = 0; i < sizeof upper - 1 && name[i]; i++)
                        upper[i] = (char) (name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
                upper[i] = 0;
                cap_free(name);
                json_array_append_new(a, json_string(upper));
        }
        return a;
}

static json_t *string_array(const char *const *v)
{
        json_t *a = json_array();
        for (size_t i = 0; a && v[i]; i++)
                json_array_append_new(a, json_string(v[i]));
        return a;
}

int runtime_cmd_features(int argc, char **argv)
{
        static const char *const mount_options[] = {
                "async",       "atime",       "bind",        "defaults",   "dev",      "diratime",   "dirsync",
                "exec",        "iversion",    "lazytime",    "loud",       "mand",     "noatime",    "nodev",
                "nodiratime",  "noexec",      "noiversion",  "nolazytime", "nomand",   "norelatime", "nostrictatime",
                "nosuid",      "nosymfollow", "private",     "rbind",      "relatime", "ro",         "rprivate",
                "rshared",     "rslave",      "runbindable", "rw",         "shared",   "silent",     "slave",
                "strictatime", "sync",        "unbindable",  NULL,
        };
        static const char *const namespaces[] = { "cgroup", "ipc", "mount", "network", "pid",
                                                  "user",   "uts", "time",  NULL };
        static const char *const actions[] = { "SCMP_ACT_ALLOW",        "SCMP_ACT_ERRNO",       "SCMP_ACT_KILL",
                                               "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
                                               "SCMP_ACT_TRACE",        "SCMP_ACT_TRAP",        NULL };
        static const char *const operators[] = { "SCMP_CMP_EQ", "SCMP_CMP_GE",        "SCMP_CMP_GT", "SCMP_CMP_LE",
                                                 "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE", NULL };
        static const char *const archs[] = { "SCMP_ARCH_X86_64",  "SCMP_ARCH_X86", "SCMP_ARCH_X32",
                                             "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", NULL };
        static const char *const flags[] = { "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                                             "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
                                             NULL };
        static const char *const none[] = { NULL };
        if (argc > 1 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                printf("Usage: hutch-runtime features\n\nPrint what this runtime supports, as JSON (runtime-spec features-linux.md).\n");
                return 0;
        }
        struct kernel_features k;
        kernel_probe(&k);
        _cleanup_json_ json_t *f = json_pack(
                "{s:s, s:s, s:o, s:o, s:{s:o, s:o, s:{s:b,s:b,s:b}, s:{s:b, s:o, s:o, s:o, s:o, s:o}, s:{s:b}, s:{s:b}},"
                " s:{s:s, s:s}}",
                "ociVersionMin", "1.0.0", "ociVersionMax", "1.2.0", "hooks", string_array(none), "mountOptions",
                string_array(mount_options), "linux", "namespaces", string_array(namespaces), "capabilities",
                all_capabilities(), "cgroup", "v1", 0, "v2", 1, "systemd", 0, "seccomp", "enabled", 1, "actions",
                string_array(actions), "operators", string_array(operators), "archs", string_array(archs), "knownFlags",
                string_array(flags), "supportedFlags", string_array(flags), "apparmor", "enabled", HAVE_APPARMOR,
                "selinux", "enabled", HAVE_SELINUX, "annotations", "io.github.hutch.landlock", "off|default|required",
                "io.github.hutch.landlock.abi", k.landlock_abi > 0 ? "available" : "unavailable");
        if (!f)
                return log_error("build the features document"), 1;
        _cleanup_free_ char *text = json_dumps(f, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
        printf("%s\n", text);
        return 0;
}

int runtime_cmd_list(int argc, char **argv)
{
        static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
                                              { "quiet", no_argument, NULL, 'q' },
                                              { "help", no_argument, NULL, 'h' },
                                              {} };
        bool json = false, quiet = false;
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "f:qh", opts, NULL)) != -1) {
                if (c == 'f' && cli_parse_format(optarg, &json) == 0)
                        continue;
                if (c == 'q') {
                        quiet = true;
                        continue;
                }
                if (c == 'h') {
                        printf("Usage: hutch-runtime list [--format table|json] [--quiet]\n\nList the containers in the state directory.\n");
                        return 0;
                }
                return cli_bad_option("hutch-runtime list", argc, argv), 1;
        }
        _cleanup_herror_ struct herror err = HERROR_INIT;
        _cleanup_close_ int rootfd = runtime_open_root(false, &err);
        _cleanup_json_ json_t *all = json_array();
        if (!json && !quiet)
                printf("%-24s %-8s %-8s %-32s %s\n", "ID", "PID", "STATUS", "CREATED", "BUNDLE");
        DIR *d = rootfd >= 0 ? fdopendir(openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) : NULL;
        struct dirent *de;
        while (d && (de = readdir(d))) {
                if (de->d_name[0] == '.' || !runtime_id_valid(de->d_name))
                        continue;
                _cleanup_close_ int dfd = runtime_open_container(rootfd, de->d_name, NULL);
                struct container_state st = { 0 };
                if (dfd < 0 || runtime_read_state(dfd, &st, NULL) < 0)
                        continue;
                enum container_status s = runtime_status(dfd, &st);
                pid_t pid = s == STATUS_STOPPED ? 0 : st.pid;
                if (json)
                        json_array_append_new(all,
                                              json_pack("{s:s,s:s,s:i,s:s,s:s,s:s,s:s}", "ociVersion", "1.2.0", "id",
                                                        st.id, "pid", (int) pid, "status", runtime_status_name(s),
                                                        "bundle", st.bundle, "created", st.created, "owner",
                                                        st.owner ? st.owner : ""));
                else if (quiet)
                        printf("%s\n", st.id);
                else
                        printf("%-24s %-8d %-8s %-32s %s\n", st.id, (int) pid, runtime_status_name(s), st.created,
                               st.bundle);
                container_state_clear(&st);
        }
        if (d)
                closedir(d);
        if (json) {
                /* runc prints null for an empty list; so do we, for tools that parse it. */
                _cleanup_free_ char *text = json_array_size(all) ? json_dumps(all, JSON_INDENT(2)) : strdup("null");
                printf("%s\n", text);
        }
        return 0;
}

int runtime_cmd_ps(int argc, char **argv)
{
        static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
                                              { "help", no_argument, NULL, 'h' },
                                              {} };
        bool json = false;
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+f:h", opts, NULL)) != -1) {
                if (c == 'f' && cli_parse_format(optarg, &json) == 0)
                        continue;
                if (c == 'h') {
                        printf("Usage: hutch-runtime ps [--format table|json] ID\n\nList the host pids of the container's processes.\n");
                        return 0;
                }
                return cli_bad_option("hutch-runtime ps", argc, argv), 1;
        }
        if (argc - optind != 1)
                return cli_usage_error("hutch-runtime ps", "needs exactly one container ID"), 1;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        _cleanup_close_ int rootfd = runtime_open_root(false, &err);
        _cleanup_close_ int dfd = rootfd < 0 ? -1 : runtime_open_container(rootfd, argv[optind], &err);
        struct container_state st = { 0 };
        if (dfd < 0 || runtime_read_state(dfd, &st, &err) < 0)
                return log_error("%s", herror_msg(&err)), 1;
        char path[64];
        struct stat ns;
        snprintf(path, sizeof path, "/proc/%d/ns/pid", (int) st.pid);
        bool alive = runtime_status(dfd, &st) != STATUS_STOPPED && stat(path, &ns) == 0;
        _cleanup_json_ json_t *pids = json_array();
        if (!json)
                printf("PID\n");
        _cleanup_closedir_ DIR *d = alive ? opendir("/proc") : NULL;
        struct dirent *de;
        while (d && (de = readdir(d))) {
                char *end;
                long pid = strtol(de->d_name, &end, 10);
                struct stat other;
                snprintf(path, sizeof path, "/proc/%ld/ns/pid", pid);
                if (*end || pid <= 0 || stat(path, &other) < 0 || other.st_ino != ns.st_ino ||
                    other.st_dev != ns.st_dev)
                        continue;
                if (json)
                        json_array_append_new(pids, json_integer(pid));
                else
                        printf("%ld\n", pid);
        }
        if (json) {
                _cleanup_free_ char *text = json_dumps(pids, JSON_COMPACT);
                printf("%s\n", text);
        }
        container_state_clear(&st);
        return 0;
}
