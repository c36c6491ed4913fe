/* start, state, kill, delete: commands on an existing container, each under the container's lock. */
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/runtime.h"
#include "sandbox/container.h"
#include "util/log.h"

/* Parse "--help" and one ID; positional args beyond min_args are left at argv[optind + 1 ...]. */
static int simple_args(const char *cmd, const char *usage, int argc, char **argv, int min_args, int max_args)
{
        static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, {} };
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
                if (c == 'h') {
                        fputs(usage, stdout);
                        return 1;
                }
                return cli_bad_option(cmd, argc, argv), -1;
        }
        int n = argc - optind;
        if (n < min_args || n > max_args)
                return cli_usage_error(cmd, "wrong number of arguments"), -1;
        return 0;
}

struct opened {
        int rootfd, dirfd, lockfd;
        struct container_state st;
};

static void opened_close(struct opened *o)
{
        closep(&o->lockfd);
        closep(&o->dirfd);
        closep(&o->rootfd);
        container_state_clear(&o->st);
}

static int open_container(const char *id, struct opened *o, struct herror *err)
{
        *o = (struct opened) { .rootfd = -1, .dirfd = -1, .lockfd = -1 };
        int r;
        if ((o->rootfd = runtime_open_root(false, err)) == -ENOENT) {
                herror_set(err, ENOENT, "container does not exist");
                return -1;
        }
        if (o->rootfd < 0 || (o->dirfd = runtime_open_container(o->rootfd, id, err)) < 0 ||
            (o->lockfd = runtime_lock_container(o->dirfd, err)) < 0 ||
            (r = runtime_read_state(o->dirfd, &o->st, err)) < 0) {
                opened_close(o);
                return -1;
        }
        return 0;
}

static int fail(struct herror *err)
{
        log_error("%s", herror_msg(err));
        return 1;
}

int runtime_cmd_start(int argc, char **argv)
{
        int p = simple_args("hutch-runtime start",
                            "Usage: hutch-runtime start ID\n\nRun the process of a created container.\n", argc, argv, 1,
                            1);
        if (p)
                return p > 0 ? 0 : 1;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct opened o;
        if (open_container(argv[optind], &o, &err) < 0)
                return fail(&err);
        enum container_status st = runtime_status(o.dirfd, &o.st);
        int r = 0;
        if (st != STATUS_CREATED)
                r = herror_set(&err, EINVAL, "cannot start a container that is %s", runtime_status_name(st));
        else if ((r = runtime_audit_start(&o.st, &err)) == 0)
                r = sandbox_start(o.dirfd, &err);
        opened_close(&o);
        return r < 0 ? fail(&err) : 0;
}

int runtime_cmd_state(int argc, char **argv)
{
        int p = simple_args("hutch-runtime state",
                            "Usage: hutch-runtime state ID\n\nPrint the OCI state of a container as JSON.\n", argc,
                            argv, 1, 1);
        if (p)
                return p > 0 ? 0 : 1;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct opened o;
        if (open_container(argv[optind], &o, &err) < 0)
                return fail(&err);
        _cleanup_free_ char *json = runtime_state_json(&o.st, runtime_status(o.dirfd, &o.st), o.dirfd);
        opened_close(&o);
        if (!json)
                return fail(&err);
        printf("%s\n", json);
        return 0;
}

/* Options of kill and delete: one boolean flag and --help. Returns 1 after printing help, -1 on a bad
 * option (reported), 0 otherwise with *ret_flag set. */
static int flag_args(const char *cmd, const char *usage, const char *name, int short_opt, int argc, char **argv,
                     bool *ret_flag)
{
        const struct option opts[] = { { name, no_argument, NULL, short_opt }, { "help", no_argument, NULL, 'h' }, {} };
        char shorts[] = { (char) short_opt, 'h', 0 };
        int c;
        *ret_flag = false;
        opterr = 0;
        while ((c = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
                if (c == short_opt)
                        *ret_flag = true;
                else if (c == 'h') {
                        fputs(usage, stdout);
                        return 1;
                } else {
                        cli_bad_option(cmd, argc, argv);
                        return -1;
                }
        }
        return 0;
}

int runtime_cmd_kill(int argc, char **argv)
{
        bool all;
        int p = flag_args(
                "hutch-runtime kill",
                "Usage: hutch-runtime kill [--all] ID [SIGNAL]\n\nSend SIGNAL (default TERM; a name with or without "
                "SIG, or a number) to the container's init, or with --all to all its processes.\n",
                "all", 'a', argc, argv, &all);
        if (p)
                return p > 0 ? 0 : 1;
        if (argc - optind < 1 || argc - optind > 2)
                return cli_usage_error("hutch-runtime kill", "needs an ID and optionally a signal"), 1;
        int sig = argc - optind == 2 ? runtime_parse_signal(argv[optind + 1]) : SIGTERM;
        if (sig < 0)
                return log_error("unknown signal \"%s\"", argv[optind + 1]), 1;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct opened o;
        if (open_container(argv[optind], &o, &err) < 0)
                return fail(&err);
        int r = 0;
        if (runtime_status(o.dirfd, &o.st) == STATUS_STOPPED)
                r = herror_set(&err, ESRCH, "container not running");
        else
                r = sandbox_kill(o.st.pid, o.st.start_time, sig, all, &err);
        opened_close(&o);
        return r < 0 ? fail(&err) : 0;
}

/* SIGKILL, then wait on the pidfd until the init is gone: no sleeps. */
static int kill_and_wait(const struct container_state *st, struct herror *err)
{
        _cleanup_close_ int pidfd = (int) syscall(SYS_pidfd_open, st->pid, 0);
        if (pidfd < 0 || !sandbox_process_alive(st->pid, st->start_time))
                return 0;
        if (syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
                return herror_sys(err, errno, "kill the container init");
        struct pollfd p = { .fd = pidfd, .events = POLLIN };
        while (poll(&p, 1, -1) < 0)
                if (errno != EINTR)
                        return herror_sys(err, errno, "wait for the container init");
        return 0;
}

int runtime_cmd_delete(int argc, char **argv)
{
        bool force;
        int p = flag_args(
                "hutch-runtime delete",
                "Usage: hutch-runtime delete [--force] ID\n\nRemove a stopped or created container; --force kills a "
                "running one first.\n",
                "force", 'f', argc, argv, &force);
        if (p)
                return p > 0 ? 0 : 1;
        if (argc - optind != 1)
                return cli_usage_error("hutch-runtime delete", "needs exactly one container ID"), 1;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct opened o;
        if (open_container(argv[optind], &o, &err) < 0) {
                if (force && err.errnum == ENOENT && !strstr(herror_msg(&err), "state.json"))
                        return 0;
                /* A create that died before writing its state leaves a directory without state.json:
                 * --force cleans it up (its init, if any, died with the create: PDEATHSIG or sync EOF). */
                if (force && runtime_id_valid(argv[optind])) {
                        _cleanup_herror_ struct herror e2 = HERROR_INIT;
                        _cleanup_close_ int rootfd = runtime_open_root(false, &e2);
                        if (rootfd >= 0 && runtime_remove_container(rootfd, argv[optind], &e2) == 0)
                                return 0;
                }
                return fail(&err);
        }
        enum container_status st = runtime_status(o.dirfd, &o.st);
        int r = 0;
        /* Like runc: a created container (still at its start gate) is deleted without --force; only a
         * running one needs it. */
        if (st == STATUS_RUNNING && !force)
                r = herror_set(&err, EBUSY, "cannot delete container %s that is not stopped: %s", o.st.id,
                               runtime_status_name(st));
        else if (st != STATUS_STOPPED)
                r = kill_and_wait(&o.st, &err);
        if (r == 0 && o.st.cgroup)
                r = cgroup_remove_rel(o.st.cgroup, &err);
        if (r == 0)
                r = runtime_remove_container(o.rootfd, argv[optind], &err);
        if (r == 0 && st != STATUS_CREATED)
                r = runtime_audit_end(&o.st, NULL, -1, &err);
        opened_close(&o);
        return r < 0 ? fail(&err) : 0;
}
