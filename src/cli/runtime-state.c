/* The runtime's state store: $XDG_RUNTIME_DIR/hutch (root: /run/hutch), one directory per container
 * holding state.json (written atomically), a lock file, and exec.fifo while the container waits for
 * `start`. */
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/runtime.h"
#include "sandbox/container.h"
#include "util/fileio.h"
#include "util/json.h"

#define STATE_FILE "state.json"
#define LOCK_FILE "lock"

void container_state_clear(struct container_state *s)
{
        free(s->id);
        free(s->bundle);
        free(s->rootfs);
        free(s->created);
        free(s->owner);
        free(s->cgroup);
        memset(s, 0, sizeof *s);
}

bool runtime_id_valid(const char *id)
{
        size_t n = strlen(id);
        if (n == 0 || n > 1024 || streq(id, ".") || streq(id, ".."))
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = id[i];
                bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        (i > 0 && (c == '_' || c == '.' || c == '+' || c == '-'));
                if (!ok)
                        return false;
        }
        return true;
}

/* uid 0 inside someone's user namespace (rootless podman runs its runtime so) is not root: only the
 * initial namespace's identity map says we are. */
static bool real_root(void)
{
        if (geteuid() != 0)
                return false;
        _cleanup_fclose_ FILE *f = fopen("/proc/self/uid_map", "re");
        unsigned long a, b, c;
        return f && fscanf(f, "%lu %lu %lu", &a, &b, &c) == 3 && a == 0 && b == 0 && c == 4294967295UL;
}

static int default_root(char *buf, size_t size, struct herror *err)
{
        if (real_root()) {
                snprintf(buf, size, "/run/hutch");
                return 0;
        }
        const char *xdg = getenv("XDG_RUNTIME_DIR");
        if (!xdg || xdg[0] != '/')
                return herror_set(err, ENOENT,
                                  "XDG_RUNTIME_DIR is not set (or not absolute); set it or pass --root DIR");
        snprintf(buf, size, "%s/hutch", xdg);
        return 0;
}

int runtime_open_root(bool create, struct herror *err)
{
        char path[4096];
        const char *root = runtime_globals.root;
        if (!root) {
                int r = default_root(path, sizeof path, err);
                if (r < 0)
                        return r;
                root = path;
        }
        if (create && mkdir(root, 0700) < 0 && errno != EEXIST)
                return herror_sys(err, errno, "create the state directory %s", root);
        int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return herror_sys(err, errno, "open the state directory %s", root);
        return fd;
}

int runtime_create_container_dir(int rootfd, const char *id, struct herror *err)
{
        if (!runtime_id_valid(id))
                return herror_set(err, EINVAL, "invalid container ID \"%s\"", id);
        if (mkdirat(rootfd, id, 0700) < 0) {
                if (errno == EEXIST)
                        return herror_set(err, EEXIST, "container ID %s already exists", id);
                return herror_sys(err, errno, "create the state of %s", id);
        }
        int fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return herror_sys(err, errno, "open the state of %s", id);
        return fd;
}

int runtime_open_container(int rootfd, const char *id, struct herror *err)
{
        if (!runtime_id_valid(id))
                return herror_set(err, EINVAL, "invalid container ID \"%s\"", id);
        int fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
                if (errno == ENOENT)
                        return herror_set(err, ENOENT, "container does not exist");
                return herror_sys(err, errno, "open the state of %s", id);
        }
        return fd;
}

int runtime_lock_container(int dirfd, struct herror *err)
{
        int fd = openat(dirfd, LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return herror_sys(err, errno, "open the container lock");
        while (flock(fd, LOCK_EX) < 0) {
                if (errno != EINTR) {
                        int e = errno;
                        close(fd);
                        return herror_sys(err, e, "lock the container");
                }
        }
        return fd;
}

void runtime_now_rfc3339(char *buf, size_t size)
{
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        char base[32];
        strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, size, "%s.%09ldZ", base, ts.tv_nsec);
}

int runtime_write_state(int dirfd, const struct container_state *s, struct herror *err)
{
        _cleanup_json_ json_t *o =
                json_pack("{s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:i}", "id", s->id, "pid", (json_int_t) s->pid,
                          "start_time", (json_int_t) s->start_time, "bundle", s->bundle, "rootfs", s->rootfs, "created",
                          s->created, "owner", s->owner ? s->owner : "", "landlock_abi", s->landlock_abi);
        if (!o || (s->cgroup && json_object_set_new(o, "cgroup", json_string(s->cgroup)) < 0))
                return herror_set(err, ENOMEM, "build state.json");
        _cleanup_free_ char *text = json_dumps(o, JSON_COMPACT);
        if (!text)
                return herror_set(err, ENOMEM, "build state.json");
        return atomic_write_at(dirfd, STATE_FILE, text, strlen(text), 0600, err);
}

int runtime_read_state(int dirfd, struct container_state *ret, struct herror *err)
{
        static const struct json_field t[] = {
                { "id", JSON_STRING, json_dispatch_string, offsetof(struct container_state, id), JF_MANDATORY },
                { "pid", JSON_INTEGER, json_dispatch_int32, offsetof(struct container_state, pid), JF_MANDATORY },
                { "start_time", JSON_INTEGER, json_dispatch_uint64, offsetof(struct container_state, start_time),
                  JF_MANDATORY },
                { "bundle", JSON_STRING, json_dispatch_string, offsetof(struct container_state, bundle), JF_MANDATORY },
                { "rootfs", JSON_STRING, json_dispatch_string, offsetof(struct container_state, rootfs), JF_MANDATORY },
                { "created", JSON_STRING, json_dispatch_string, offsetof(struct container_state, created),
                  JF_MANDATORY },
                { "owner", JSON_STRING, json_dispatch_string, offsetof(struct container_state, owner), 0 },
                { "landlock_abi", JSON_INTEGER, json_dispatch_int32, offsetof(struct container_state, landlock_abi),
                  0 },
                { "cgroup", JSON_STRING, json_dispatch_string, offsetof(struct container_state, cgroup), 0 },
                { NULL },
        };
        _cleanup_json_ json_t *o = NULL;
        int r = json_read_file(dirfd, STATE_FILE, 1 << 20, &o, err);
        if (r < 0)
                return r;
        struct container_state s = { 0 };
        _Static_assert(sizeof(pid_t) == sizeof(int32_t), "pid_t is 32 bits");
        _Static_assert(sizeof(unsigned long long) == sizeof(uint64_t), "start time is 64 bits");
        r = json_dispatch(o, "", t, &s, 0, err);
        if (r < 0) {
                container_state_clear(&s);
                return herror_wrap(err, STATE_FILE);
        }
        *ret = s;
        return 0;
}

enum container_status runtime_status(int dirfd, const struct container_state *s)
{
        if (!sandbox_process_alive(s->pid, s->start_time))
                return STATUS_STOPPED;
        if (faccessat(dirfd, SANDBOX_EXEC_FIFO, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return STATUS_CREATED;
        return STATUS_RUNNING;
}

const char *runtime_status_name(enum container_status st)
{
        switch (st) {
        case STATUS_CREATED:
                return "created";
        case STATUS_RUNNING:
                return "running";
        case STATUS_STOPPED:
                return "stopped";
        case _STATUS_MAX:
        case _STATUS_INVALID:
        default:
                return "unknown";
        }
}

static int remove_dir_contents(int dirfd)
{
        static const char *const files[] = { STATE_FILE, LOCK_FILE, SANDBOX_EXEC_FIFO };
        for (size_t i = 0; i < ELEMENTSOF(files); i++)
                if (unlinkat(dirfd, files[i], 0) < 0 && errno != ENOENT)
                        return -errno;
        return 0;
}

int runtime_remove_container(int rootfd, const char *id, struct herror *err)
{
        _cleanup_close_ int dfd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return errno == ENOENT ? 0 : herror_sys(err, errno, "open the state of %s", id);
        int r = remove_dir_contents(dfd);
        if (r < 0)
                return herror_sys(err, -r, "remove the state of %s", id);
        if (unlinkat(rootfd, id, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return herror_sys(err, errno, "remove the state directory of %s", id);
        return 0;
}

char *runtime_state_json(const struct container_state *s, enum container_status st, int dirfd)
{
        _cleanup_json_ json_t *o =
                json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s}", "ociVersion", "1.2.0", "id", s->id, "pid",
                          (json_int_t) (st == STATUS_STOPPED ? 0 : s->pid), "status", runtime_status_name(st), "bundle",
                          s->bundle, "rootfs", s->rootfs, "created", s->created);
        if (!o)
                return NULL;
        json_object_set_new(o, "owner", json_string(s->owner ? s->owner : ""));
        (void) dirfd;
        return json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
}

static const struct {
        const char *name;
        int sig;
} signal_names[] = {
        { "HUP", SIGHUP },   { "INT", SIGINT },       { "QUIT", SIGQUIT }, { "ILL", SIGILL },     { "TRAP", SIGTRAP },
        { "ABRT", SIGABRT }, { "IOT", SIGIOT },       { "BUS", SIGBUS },   { "FPE", SIGFPE },     { "KILL", SIGKILL },
        { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV },     { "USR2", SIGUSR2 }, { "PIPE", SIGPIPE },   { "ALRM", SIGALRM },
        { "TERM", SIGTERM }, { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD }, { "CONT", SIGCONT },   { "STOP", SIGSTOP },
        { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN },     { "TTOU", SIGTTOU }, { "URG", SIGURG },     { "XCPU", SIGXCPU },
        { "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH }, { "IO", SIGIO },
        { "PWR", SIGPWR },   { "SYS", SIGSYS },
};

int runtime_parse_signal(const char *s)
{
        char *end;
        long n = strtol(s, &end, 10);
        if (*s && !*end)
                return n > 0 && n < NSIG ? (int) n : -EINVAL;
        if (strncmp(s, "SIG", 3) == 0)
                s += 3;
        for (size_t i = 0; i < ELEMENTSOF(signal_names); i++)
                if (strcasecmp(s, signal_names[i].name) == 0)
                        return signal_names[i].sig;
        return -EINVAL;
}
