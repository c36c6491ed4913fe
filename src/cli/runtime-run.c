/* run: create + start (+ wait): the container is this process's child and dies with it. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/run-io.h"
#include "cli/runtime.h"
#include "sandbox/container.h"
#include "util/log.h"

int runtime_parse_create_opts(const char *cmd, int argc, char **argv, bool with_run, struct runtime_create_opts *o);

/* Forward signals to the init until it exits (the same loop as hutch run, without a terminal). */
int runtime_wait_forwarding(int pidfd, const sigset_t *mask)
{
        struct run_wait w = { .pidfd = pidfd, .pty_master = -1 };
        return run_wait(&w, mask, NULL);
}

static void run_usage(FILE *out)
{
        fprintf(out,
                "Usage: hutch-runtime run [OPTIONS] ID\n\n"
                "Create and start a container, wait for it and exit with its status (128+N when killed by signal N).\n\n"
                "  -b, --bundle DIR          the bundle (default: current directory)\n"
                "  -d, --detach              do not wait; the container outlives this command\n"
                "      --keep                keep the container's state after it exits\n"
                "      --pid-file FILE       write the init's pid (no newline) to FILE\n"
                "      --console-socket SOCK send the pty master to this AF_UNIX socket\n"
                "      --preserve-fds N      pass N more fds (3 .. 3+N-1) to the container\n"
                "  -h, --help                show this help\n");
}

/* A container that must not run (or go on running): killed at its gate, reaped, its state removed. */
static void discard(int rootfd, const char *id, struct container_state *st, int pidfd)
{
        sandbox_kill(st->pid, st->start_time, SIGKILL, false, NULL);
        if (pidfd >= 0)
                waitid((idtype_t) P_PIDFD, (id_t) pidfd, NULL, WEXITED);
        if (st->cgroup)
                cgroup_remove_rel(st->cgroup, NULL);
        runtime_remove_container(rootfd, id, NULL);
        container_state_clear(st);
}

int runtime_cmd_run(int argc, char **argv)
{
        struct runtime_create_opts o = { 0 };
        int p = runtime_parse_create_opts("hutch-runtime run", argc, argv, true, &o);
        if (p == 1) {
                run_usage(stdout);
                return 0;
        }
        if (p < 0)
                return 1;
        const char *id = argv[optind];
        sigset_t mask;
        if (!o.detach)
                run_block_signals(&mask);
        _cleanup_herror_ struct herror err = HERROR_INIT;
        _cleanup_close_ int rootfd = -1, dirfd = -1, pidfd = -1;
        struct container_state st = { 0 };
        /* Gated like create, attached or not: the init waits at its start gate until the start record is
         * written, so with audit = required a launch that cannot be recorded never runs its workload. */
        o.start_record = true;
        if (runtime_create_container(id, &o, true, !o.detach, &rootfd, &dirfd, &st, &pidfd, &err) < 0) {
                log_error("%s", herror_msg(&err));
                runtime_audit_refusal(id, o.bundle ? o.bundle : ".", &err);
                return 1;
        }
        int64_t started = runtime_audit_now_ns();
        int r = sandbox_start(dirfd, &err);
        if (r < 0) {
                log_error("%s", herror_msg(&err));
                discard(rootfd, id, &st, pidfd);
                return 1;
        }
        if (o.detach) {
                container_state_clear(&st);
                return 0;
        }
        runtime_wait_forwarding(pidfd, &mask);
        /* peek (WNOWAIT) for the record: sandbox_wait reaps and keeps only the shell-style status */
        siginfo_t exited = { 0 };
        if (waitid((idtype_t) P_PIDFD, (id_t) pidfd, &exited, WEXITED | WNOWAIT) < 0)
                exited.si_pid = 0;
        struct sandbox sb = SANDBOX_INIT;
        sb.pid = st.pid;
        sb.pidfd = TAKE_FD(pidfd);
        sb.start_time = st.start_time;
        int status = 1;
        if (sandbox_wait(&sb, &status, &err) < 0) {
                log_error("%s", herror_msg(&err));
                status = 1;
        }
        if (runtime_audit_end(&st, &exited, runtime_audit_now_ns() - started, &err) < 0)
                log_error("%s", herror_msg(&err));
        sandbox_release(&sb);
        /* --keep keeps the cgroup with the state: `delete` removes both */
        if (!o.keep && st.cgroup && cgroup_remove_rel(st.cgroup, &err) < 0)
                log_error("%s", herror_msg(&err));
        if (!o.keep)
                runtime_remove_container(rootfd, id, NULL);
        container_state_clear(&st);
        return status;
}
