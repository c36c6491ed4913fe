#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/runtime.h"
#include "sandbox/container.h"
#include "spec/spec.h"
#include "util/fileio.h"
#include "util/log.h"

int runtime_load_bundle(const char *bundle, char **ret_abs, int *ret_fd, struct spec **ret_spec, struct herror *err)
{
        char abs[PATH_MAX];
        if (!realpath(bundle, abs))
                return herror_sys(err, errno, "bundle %s", bundle);
        _cleanup_close_ int fd = open(abs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return herror_sys(err, errno, "bundle %s", abs);
        _cleanup_spec_ struct spec *s = NULL;
        int r = spec_load(fd, "config.json", &s, err);
        if (r < 0)
                return herror_wrap(err, "%s", abs);
        if ((r = spec_validate(s, geteuid() != 0, err)) < 0)
                return herror_wrap(err, "%s/config.json", abs);
        *ret_abs = strdup(abs);
        if (!*ret_abs)
                return herror_set(err, ENOMEM, "out of memory");
        *ret_fd = TAKE_FD(fd);
        *ret_spec = TAKE_PTR(s);
        return 0;
}

int runtime_write_pid_file(const char *path, pid_t pid, struct herror *err)
{
        char dir[PATH_MAX], num[32];
        const char *slash = strrchr(path, '/');
        snprintf(dir, sizeof dir, "%.*s", slash ? (int) (slash - path) : 1, slash ? path : ".");
        if (slash == path)
                snprintf(dir, sizeof dir, "/");
        _cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return herror_sys(err, errno, "pid file directory %s", dir);
        int n = snprintf(num, sizeof num, "%d", (int) pid);
        return atomic_write_at(dfd, slash ? slash + 1 : path, num, (size_t) n, 0644, err);
}

int runtime_connect_console(const char *path, struct herror *err)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof sa.sun_path)
                return herror_set(err, ENAMETOOLONG, "console socket path %s is too long", path);
        strcpy(sa.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return herror_sys(err, errno, "socket");
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                int e = errno;
                close(fd);
                return herror_sys(err, e, "connect to the console socket %s", path);
        }
        return fd;
}

static char *owner_name(void)
{
        struct passwd *pw = getpwuid(geteuid());
        return strdup(pw ? pw->pw_name : "");
}

static int fill_state(struct container_state *st, const char *id, const char *bundle, const struct spec *s,
                      const struct sandbox *sb)
{
        char created[64], rootfs[PATH_MAX * 2];
        runtime_now_rfc3339(created, sizeof created);
        if (s->root_path[0] == '/')
                snprintf(rootfs, sizeof rootfs, "%s", s->root_path);
        else
                snprintf(rootfs, sizeof rootfs, "%s/%s", bundle, s->root_path);
        st->id = strdup(id);
        st->pid = sb->pid;
        st->start_time = sb->start_time;
        st->bundle = strdup(bundle);
        st->rootfs = strdup(rootfs);
        st->created = strdup(created);
        st->owner = owner_name();
        st->landlock_abi = sb->landlock_abi;
        if (sb->cgroup.fd >= 0 && !(st->cgroup = strdup(sb->cgroup.rel)))
                return -ENOMEM;
        return st->id && st->bundle && st->rootfs && st->created && st->owner ? 0 : -ENOMEM;
}

struct start_record {
        const char *id, *bundle;
};

/* `run`'s start record, written while the init sets up its rootfs so its fdatasync overlaps the setup (it is
 * still on disk before the gate opens: audit = required keeps "no record, no run"). */
static int record_start(const struct sandbox *sb, void *userdata, struct herror *err)
{
        const struct start_record *sr = userdata;
        struct container_state st = {
                .id = (char *) sr->id, .bundle = (char *) sr->bundle, .pid = sb->pid, .landlock_abi = sb->landlock_abi
        };
        return runtime_audit_start(&st, err);
}

int runtime_create_container(const char *id, const struct runtime_create_opts *o, bool gated, bool die_with_parent,
                             int *ret_rootfd, int *ret_dirfd, struct container_state *ret_state, int *ret_pidfd,
                             struct herror *err)
{
        _cleanup_free_ char *bundle = NULL;
        _cleanup_close_ int bundlefd = -1;
        _cleanup_spec_ struct spec *s = NULL;
        int r = runtime_load_bundle(o->bundle ? o->bundle : ".", &bundle, &bundlefd, &s, err);
        if (r < 0)
                return r;
        _cleanup_close_ int rootfd = runtime_open_root(true, err);
        if (rootfd < 0)
                return rootfd;
        _cleanup_close_ int dirfd = runtime_create_container_dir(rootfd, id, err);
        if (dirfd < 0)
                return dirfd;
        _cleanup_close_ int consolefd = -1;
        if (o->console_socket && (consolefd = runtime_connect_console(o->console_socket, err)) < 0) {
                runtime_remove_container(rootfd, id, NULL);
                return consolefd;
        }
        struct sandbox_opts so = {
                .bundle_dirfd = bundlefd,
                .bundle_path = bundle,
                .state_dirfd = gated ? dirfd : -1,
                .console_socket_fd = consolefd,
                .preserve_fds = o->preserve_fds,
                .container_id = id,
                .die_with_parent = die_with_parent,
                .systemd_cgroup = runtime_globals.systemd_cgroup,
        };
        if (runtime_globals.systemd_cgroup && s->resources.any_limit && s->cgroups_path)
                log_info(
                        "--systemd-cgroup: hutch does not talk to systemd; cgroupsPath \"%s\" is not used, the container's "
                        "cgroup is made beside hutch's own",
                        s->cgroups_path);
        struct start_record sr = { .id = id, .bundle = bundle };
        if (o->start_record) {
                so.during_setup = record_start;
                so.userdata = &sr;
        }
        struct sandbox sb = SANDBOX_INIT;
        r = sandbox_create(s, &so, &sb, err);
        if (r < 0) {
                runtime_remove_container(rootfd, id, NULL);
                return r;
        }
        struct container_state st = { 0 };
        if (fill_state(&st, id, bundle, s, &sb) < 0)
                r = herror_set(err, ENOMEM, "out of memory");
        if (r == 0)
                r = runtime_write_state(dirfd, &st, err);
        if (r == 0 && o->pid_file)
                r = runtime_write_pid_file(o->pid_file, sb.pid, err);
        if (r < 0) {
                sandbox_kill(sb.pid, sb.start_time, SIGKILL, false, NULL);
                if (sb.pidfd >= 0)
                        waitid((idtype_t) P_PIDFD, (id_t) sb.pidfd, NULL, WEXITED);
                cgroup_remove(&sb.cgroup, NULL);
                sandbox_release(&sb);
                container_state_clear(&st);
                runtime_remove_container(rootfd, id, NULL);
                return r;
        }
        if (die_with_parent && sb.landlock_abi == 0)
                log_info("landlock is not available on this kernel; running without it");
        *ret_state = st;
        *ret_rootfd = TAKE_FD(rootfd);
        *ret_dirfd = TAKE_FD(dirfd);
        if (ret_pidfd)
                *ret_pidfd = TAKE_FD(sb.pidfd);
        sandbox_release(&sb);
        return 0;
}

static void create_usage(FILE *out)
{
        fprintf(out,
                "Usage: hutch-runtime create [OPTIONS] ID\n\n"
                "Create a container from an OCI bundle; it waits for 'start' before running process.args.\n\n"
                "  -b, --bundle DIR          the bundle (default: current directory)\n"
                "      --pid-file FILE       write the init's pid (no newline) to FILE\n"
                "      --console-socket SOCK send the pty master to this AF_UNIX socket\n"
                "      --preserve-fds N      pass N more fds (3 .. 3+N-1) to the container\n"
                "      --no-pivot            accepted; hutch always uses pivot_root\n"
                "      --no-new-keyring      accepted; keyctl is blocked by the default seccomp profile\n"
                "  -h, --help                show this help\n");
}

/* Parses create's options, shared with run (which adds -d and --keep). */
int runtime_parse_create_opts(const char *cmd, int argc, char **argv, bool with_run, struct runtime_create_opts *o);
int runtime_parse_create_opts(const char *cmd, int argc, char **argv, bool with_run, struct runtime_create_opts *o)
{
        enum { OPT_PID_FILE = 256, OPT_CONSOLE, OPT_PRESERVE, OPT_NO_PIVOT, OPT_NO_KEYRING, OPT_KEEP };
        static const struct option opts[] = {
                { "bundle", required_argument, NULL, 'b' },
                { "pid-file", required_argument, NULL, OPT_PID_FILE },
                { "console-socket", required_argument, NULL, OPT_CONSOLE },
                { "preserve-fds", required_argument, NULL, OPT_PRESERVE },
                { "no-pivot", no_argument, NULL, OPT_NO_PIVOT },
                { "no-new-keyring", no_argument, NULL, OPT_NO_KEYRING },
                { "detach", no_argument, NULL, 'd' },
                { "keep", no_argument, NULL, OPT_KEEP },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, with_run ? "b:dh" : "b:h", opts, NULL)) != -1) {
                switch (c) {
                case 'b':
                        o->bundle = optarg;
                        break;
                case OPT_PID_FILE:
                        o->pid_file = optarg;
                        break;
                case OPT_CONSOLE:
                        o->console_socket = optarg;
                        break;
                case OPT_PRESERVE: {
                        char *end;
                        unsigned long n = strtoul(optarg, &end, 10);
                        if (*end || n > 1000000)
                                return cli_usage_error(cmd, "--preserve-fds needs a number, not '%s'", optarg), -1;
                        o->preserve_fds = (unsigned) n;
                        break;
                }
                case OPT_NO_PIVOT:
                case OPT_NO_KEYRING:
                        break;
                case 'd':
                        if (!with_run)
                                return cli_bad_option(cmd, argc, argv), -1;
                        o->detach = true;
                        break;
                case OPT_KEEP:
                        if (!with_run)
                                return cli_bad_option(cmd, argc, argv), -1;
                        o->keep = true;
                        break;
                case 'h':
                        return 1;
                default:
                        return cli_bad_option(cmd, argc, argv), -1;
                }
        }
        if (optind != argc - 1)
                return cli_usage_error(cmd, "needs exactly one container ID"), -1;
        return 0;
}

int runtime_cmd_create(int argc, char **argv)
{
        struct runtime_create_opts o = { 0 };
        int p = runtime_parse_create_opts("hutch-runtime create", argc, argv, false, &o);
        if (p == 1) {
                create_usage(stdout);
                return 0;
        }
        if (p < 0)
                return 1;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        _cleanup_close_ int rootfd = -1, dirfd = -1;
        struct container_state st = { 0 };
        if (runtime_create_container(argv[optind], &o, true, false, &rootfd, &dirfd, &st, NULL, &err) < 0) {
                log_error("%s", herror_msg(&err));
                runtime_audit_refusal(argv[optind], o.bundle ? o.bundle : ".", &err);
                return 1;
        }
        container_state_clear(&st);
        return 0;
}
