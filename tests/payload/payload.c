/* hutch-payload: a tiny static program that the integration tests run inside containers (and on the
 * host), so a test needs no image tools to ask "who am I, what can I see, what may I do".
 * Modelled on crun's tests/init.c.
 *
 * Usage: payload ACTION [ARGS...]. Each action prints one machine-readable line on stdout (`cat` and
 * `env` print what they read). Exit status: 0 on success, 1 when the action failed (the line then
 * names the errno, e.g. "EACCES"), 2 on a usage error. `syscall NAME` always exits 0: its result
 * ("OK", an errno name, or "KILLED:SIGSYS" when the probe's child process was killed) is the answer.
 *
 * Safety: every `syscall` probe (tests/probe/syscalls.c) uses arguments that make the call fail harmlessly
 * or do nothing lasting, so running the payload as root on a host without any sandbox changes nothing. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <arpa/inet.h>
#include <linux/audit.h>
#include <netinet/in.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/quota.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "syscalls.h"

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

static const char *errno_name(int e)
{
        return syscall_errno_name(e);
}

/* Set when a probe's child process was killed by a signal (e.g. SIGSYS from a seccomp kill action). */
static int probe_killed_by;

static const char *signal_name(int sig);

/* Print "OK" for r >= 0, "KILLED:SIGNAME" when a probe's child was killed, else the errno name. */
static int report(long r)
{
        if (probe_killed_by)
                printf("KILLED:%s\n", signal_name(probe_killed_by));
        else
                puts(r >= 0 ? "OK" : errno_name(errno));
        return 0;
}

static int fail_errno(void)
{
        puts(errno_name(errno));
        return 1;
}

static int usage(void)
{
        fprintf(stderr,
                "usage: payload id|cat FILE|write FILE TEXT|cwd|fds|status FIELD...|uid_map|gid_map|"
                "exit N|kill-self SIG|sleep-forever|signal-wait [READY_FILE]|tty|env|landlock-abi|"
                "tcp-bind PORT|tcp-connect PORT|ptrace-child|syscall NAME|syscall list|alloc MIB|forks N\n");
        return 2;
}

static int act_id(void)
{
        gid_t groups[NGROUPS_MAX];
        int n = getgroups(NGROUPS_MAX, groups);
        if (n < 0)
                return fail_errno();
        printf("uid=%u gid=%u euid=%u egid=%u groups=", getuid(), getgid(), geteuid(), getegid());
        for (int i = 0; i < n; i++)
                printf("%s%u", i ? "," : "", groups[i]);
        putchar('\n');
        return 0;
}

static int act_cat(const char *path)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return fail_errno();
        char buf[4096];
        ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) > 0)
                fwrite(buf, 1, (size_t) n, stdout);
        int e = errno;
        close(fd);
        if (n < 0) {
                errno = e;
                return fail_errno();
        }
        return 0;
}

static int act_write(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return fail_errno();
        size_t len = strlen(text);
        ssize_t n = write(fd, text, len);
        int e = errno;
        if (close(fd) < 0 && n >= 0) {
                e = errno;
                n = -1;
        }
        if (n < 0 || (size_t) n != len) {
                errno = n < 0 ? e : EIO;
                return fail_errno();
        }
        puts("OK");
        return 0;
}

static int act_cwd(void)
{
        char buf[PATH_MAX];
        if (!getcwd(buf, sizeof buf))
                return fail_errno();
        puts(buf);
        return 0;
}

static int cmp_int(const void *a, const void *b)
{
        int x = *(const int *) a, y = *(const int *) b;
        return (x > y) - (x < y);
}

/* The open fds, sorted, space separated; the directory fd used to list them is left out. */
static int act_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        if (!d)
                return fail_errno();
        int fds[4096], n = 0, self = dirfd(d);
        struct dirent *de;
        while ((de = readdir(d)) && n < (int) ELEMENTSOF(fds)) {
                if (de->d_name[0] == '.')
                        continue;
                int fd = atoi(de->d_name);
                if (fd != self)
                        fds[n++] = fd;
        }
        closedir(d);
        qsort(fds, (size_t) n, sizeof fds[0], cmp_int);
        for (int i = 0; i < n; i++)
                printf("%s%d", i ? " " : "", fds[i]);
        putchar('\n');
        return 0;
}

/* "FIELD=VALUE ..." for the asked fields of /proc/self/status; an absent field prints FIELD=? and fails. */
static int act_status(int argc, char **argv)
{
        FILE *f = fopen("/proc/self/status", "re");
        if (!f)
                return fail_errno();
        char lines[64][256];
        int nlines = 0;
        while (nlines < (int) ELEMENTSOF(lines) && fgets(lines[nlines], sizeof lines[0], f))
                nlines++;
        fclose(f);
        int ret = 0;
        for (int a = 0; a < argc; a++) {
                const char *value = NULL;
                size_t len = strlen(argv[a]);
                for (int i = 0; i < nlines && !value; i++)
                        if (strncmp(lines[i], argv[a], len) == 0 && lines[i][len] == ':')
                                value = lines[i] + len + 1;
                if (!value) {
                        printf("%s%s=?", a ? " " : "", argv[a]);
                        ret = 1;
                        continue;
                }
                value += strspn(value, " \t");
                printf("%s%s=%.*s", a ? " " : "", argv[a], (int) strcspn(value, "\n"), value);
        }
        putchar('\n');
        return ret;
}

/* /proc/self/{uid,gid}_map on one line: "INSIDE OUTSIDE COUNT" entries joined by ";". */
static int act_map(const char *file)
{
        char path[64];
        snprintf(path, sizeof path, "/proc/self/%s", file);
        FILE *f = fopen(path, "re");
        if (!f)
                return fail_errno();
        unsigned long in, out, count;
        int n = 0;
        while (fscanf(f, "%lu %lu %lu", &in, &out, &count) == 3)
                printf("%s%lu %lu %lu", n++ ? ";" : "", in, out, count);
        fclose(f);
        putchar('\n');
        return 0;
}

static const struct {
        const char *name;
        int sig;
} signals[] = {
        { "HUP", SIGHUP },   { "INT", SIGINT },   { "QUIT", SIGQUIT }, { "ABRT", SIGABRT }, { "KILL", SIGKILL },
        { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 }, { "PIPE", SIGPIPE }, { "ALRM", SIGALRM },
        { "TERM", SIGTERM }, { "STOP", SIGSTOP }, { "TSTP", SIGTSTP }, { "CONT", SIGCONT }, { "WINCH", SIGWINCH },
        { "SYS", SIGSYS },   { "CHLD", SIGCHLD }, { "BUS", SIGBUS },   { "FPE", SIGFPE },   { "ILL", SIGILL },
};

static int signal_from_string(const char *s)
{
        if (strncmp(s, "SIG", 3) == 0)
                s += 3;
        for (size_t i = 0; i < ELEMENTSOF(signals); i++)
                if (strcmp(signals[i].name, s) == 0)
                        return signals[i].sig;
        char *end;
        long n = strtol(s, &end, 10);
        return *s && !*end && n > 0 && n < NSIG ? (int) n : -1;
}

static const char *signal_name(int sig)
{
        static char buf[16];
        for (size_t i = 0; i < ELEMENTSOF(signals); i++)
                if (signals[i].sig == sig) {
                        snprintf(buf, sizeof buf, "SIG%s", signals[i].name);
                        return buf;
                }
        snprintf(buf, sizeof buf, "SIG%d", sig);
        return buf;
}

static int act_kill_self(const char *arg)
{
        int sig = signal_from_string(arg);
        if (sig < 0)
                return usage();
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, sig);
        signal(sig, SIG_DFL);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        fflush(stdout);
        if (kill(getpid(), sig) < 0)
                return fail_errno();
        /* Still here: the signal's default action does not end a process (e.g. SIGCHLD, SIGCONT). */
        puts("ALIVE");
        return 1;
}

/* Block the usual termination signals, optionally create READY_FILE to say so, then print the
 * first one that arrives and exit 0: shows which signal a container's process received. */
static int act_signal_wait(const char *ready_file)
{
        static const int waited[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
        sigset_t set;
        sigemptyset(&set);
        for (size_t i = 0; i < ELEMENTSOF(waited); i++)
                sigaddset(&set, waited[i]);
        if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
                return fail_errno();
        if (ready_file) {
                int fd = open(ready_file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                if (fd < 0)
                        return fail_errno();
                close(fd);
        }
        int sig;
        do
                sig = sigwaitinfo(&set, NULL);
        while (sig < 0 && errno == EINTR);
        if (sig < 0)
                return fail_errno();
        puts(signal_name(sig));
        return 0;
}

_Noreturn static void act_sleep_forever(void)
{
        for (;;)
                pause();
}

static int act_tty(void)
{
        struct winsize ws;
        int wfd = -1;
        for (int fd = 0; fd <= 2; fd++)
                if (wfd < 0 && isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0)
                        wfd = fd;
        printf("stdin=%d stdout=%d stderr=%d", isatty(0), isatty(1), isatty(2));
        if (wfd >= 0)
                printf(" rows=%u cols=%u\n", ws.ws_row, ws.ws_col);
        else
                printf(" rows=- cols=-\n");
        return 0;
}

static int act_env(void)
{
        for (char **e = environ; *e; e++)
                puts(*e);
        return 0;
}

/* TCP on 127.0.0.1:PORT. bind: bind and listen ("OK" or the errno). connect: to a port nobody listens
 * on, so a connect let through answers ECONNREFUSED and one fenced off EACCES. */
static int act_tcp(const char *what, const char *port)
{
        struct sockaddr_in sa = { .sin_family = AF_INET,
                                  .sin_port = htons((uint16_t) atoi(port)),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return fail_errno();
        if (strcmp(what, "bind") == 0) {
                int one = 1;
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
                if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen(fd, 1) < 0)
                        return fail_errno();
                puts("OK");
                return 0;
        }
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return fail_errno();
        puts("OK");
        return 0;
}

/* What a debugger does: trace a child of its own (PTRACE_TRACEME, stop, continue, reap). */
static int act_ptrace_child(void)
{
        pid_t pid = fork();
        if (pid < 0)
                return fail_errno();
        if (pid == 0) {
                if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
                        _exit(100 + (errno & 0x7f));
                raise(SIGSTOP);
                _exit(0);
        }
        int status;
        if (waitpid(pid, &status, 0) < 0)
                return fail_errno();
        if (WIFEXITED(status)) {
                errno = WEXITSTATUS(status) - 100;
                return fail_errno();
        }
        if (!WIFSTOPPED(status) || ptrace(PTRACE_CONT, pid, NULL, NULL) < 0 || waitpid(pid, &status, 0) < 0)
                return fail_errno();
        puts(WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "OK" : "EIO");
        return 0;
}

static int act_landlock_abi(void)
{
        long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
        printf("%ld\n", abi < 0 ? 0L : abi);
        return 0;
}

/* ---- syscall probes: tests/probe/syscalls.c */

static int act_syscall(const char *name)
{
        if (strcmp(name, "list") == 0) {
                for (size_t i = 0; i < n_syscall_probes; i++)
                        printf("%s%s", i ? " " : "", syscall_probes[i].name);
                putchar('\n');
                return 0;
        }
        const struct syscall_probe *p = syscall_probe_find(name);
        if (p)
                return report(syscall_probe_run(p, &probe_killed_by));
        fprintf(stderr, "payload: unknown syscall probe '%s' (see 'payload syscall list')\n", name);
        return 2;
}

/* alloc MIB: allocate and touch MIB mebibytes, 1 MiB at a time, then print "allocated MIB" (a memory
 * limit lower than that gets it OOM-killed first). */
static int act_alloc(const char *arg)
{
        long mib = atol(arg);
        for (long i = 0; i < mib; i++) {
                char *p = malloc(1 << 20);
                if (!p)
                        return fail_errno();
                memset(p, (int) (i & 0x7f) + 1, 1 << 20);
        }
        printf("allocated %ld\n", mib);
        return 0;
}

/* forks N: a bounded fork bomb: fork up to N children that wait, print "forked K" (K < N when fork
 * failed, with the errno name: "forked 18 EAGAIN"), then end them. */
static int act_forks(const char *arg)
{
        long want = atol(arg), k = 0;
        int pipefd[2];
        if (want <= 0 || pipe(pipefd) < 0)
                return fail_errno();
        int e = 0;
        for (; k < want; k++) {
                pid_t pid = fork();
                if (pid < 0) {
                        e = errno;
                        break;
                }
                if (pid == 0) {
                        char c;
                        close(pipefd[1]);
                        (void) !read(pipefd[0], &c, 1); /* until the parent closes the pipe */
                        _exit(0);
                }
        }
        close(pipefd[1]);
        close(pipefd[0]);
        while (wait(NULL) > 0)
                ;
        if (e)
                printf("forked %ld %s\n", k, errno_name(e));
        else
                printf("forked %ld\n", k);
        return 0;
}

/* deny GROUP[,GROUP] -- CMD...: exec CMD with the named syscalls answering ENOSYS, the way crun's
 * tests force the fallbacks (no_openat2.c): a kernel without them, for the launcher under test. Groups:
 * landlock (create_ruleset, add_rule, restrict_self), openat2, clone3 (so no CLONE_INTO_CGROUP). Raw
 * BPF: the payload is static, without libseccomp. */
static int act_deny(const char *groups, char **cmd)
{
        long nrs[8];
        size_t n = 0;
        if (strstr(groups, "landlock")) {
                nrs[n++] = SYS_landlock_create_ruleset;
                nrs[n++] = SYS_landlock_add_rule;
                nrs[n++] = SYS_landlock_restrict_self;
        }
        if (strstr(groups, "openat2"))
                nrs[n++] = SYS_openat2;
        if (strstr(groups, "clone3"))
                nrs[n++] = SYS_clone3;
        if (n == 0) {
                fprintf(stderr, "payload: deny: unknown group list '%s'\n", groups);
                return 2;
        }
        struct sock_filter f[16];
        size_t k = 0;
        f[k++] = (struct sock_filter) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
        for (size_t i = 0; i < n; i++)
                f[k++] = (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned) nrs[i],
                                                       (unsigned char) (n - i), 0);
        f[k++] = (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
        f[k++] = (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
        struct sock_fprog prog = { .len = (unsigned short) k, .filter = f };
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
                fprintf(stderr, "payload: deny: %s\n", strerror(errno));
                return 1;
        }
        execvp(cmd[0], cmd);
        fprintf(stderr, "payload: deny: exec %s: %s\n", cmd[0], strerror(errno));
        return 127;
}

int main(int argc, char **argv)
{
        /* Line-buffered even into a pipe, so a test reading the output sees each result at once. */
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc < 2)
                return usage();
        const char *a = argv[1];
        int n = argc - 2;
        if (strcmp(a, "id") == 0 && n == 0)
                return act_id();
        if (strcmp(a, "cat") == 0 && n == 1)
                return act_cat(argv[2]);
        if (strcmp(a, "write") == 0 && n == 2)
                return act_write(argv[2], argv[3]);
        if (strcmp(a, "cwd") == 0 && n == 0)
                return act_cwd();
        if (strcmp(a, "fds") == 0 && n == 0)
                return act_fds();
        if (strcmp(a, "status") == 0 && n >= 1)
                return act_status(n, argv + 2);
        if (strcmp(a, "uid_map") == 0 && n == 0)
                return act_map("uid_map");
        if (strcmp(a, "gid_map") == 0 && n == 0)
                return act_map("gid_map");
        if (strcmp(a, "exit") == 0 && n == 1)
                return atoi(argv[2]) & 0xff;
        if (strcmp(a, "kill-self") == 0 && n == 1)
                return act_kill_self(argv[2]);
        if (strcmp(a, "sleep-forever") == 0 && n == 0)
                act_sleep_forever();
        if (strcmp(a, "signal-wait") == 0 && n <= 1)
                return act_signal_wait(n == 1 ? argv[2] : NULL);
        if (strcmp(a, "tty") == 0 && n == 0)
                return act_tty();
        if (strcmp(a, "env") == 0 && n == 0)
                return act_env();
        if (strcmp(a, "landlock-abi") == 0 && n == 0)
                return act_landlock_abi();
        if ((strcmp(a, "tcp-bind") == 0 || strcmp(a, "tcp-connect") == 0) && n == 1)
                return act_tcp(a + 4, argv[2]);
        if (strcmp(a, "ptrace-child") == 0 && n == 0)
                return act_ptrace_child();
        if (strcmp(a, "syscall") == 0 && n == 1)
                return act_syscall(argv[2]);
        if (strcmp(a, "alloc") == 0 && n == 1)
                return act_alloc(argv[2]);
        if (strcmp(a, "forks") == 0 && n == 1)
                return act_forks(argv[2]);
        if (strcmp(a, "deny") == 0 && n >= 3 && strcmp(argv[3], "--") == 0)
                return act_deny(argv[2], argv + 4);
        return usage();
}
