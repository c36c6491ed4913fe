/* hutch events: the audit log as a stream of container events, like `podman events`. --follow waits on
 * inotify (never by polling): IN_MODIFY on the log for new records, and IN_CREATE/IN_MOVED_TO on its
 * directory for the fresh file a rotation leaves behind, so a rotation loses nothing: the old file is read
 * to its end through the descriptor already open before the new one is opened. */
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "cli/audit-view.h"
#include "cli/cli.h"
#include "util/log.h"

struct events {
        struct audit_filter filter;
        bool json;
        char *partial; /* an incomplete last line, until its newline arrives */
        size_t partial_len;
};

static const char *str(json_t *o, const char *a, const char *b)
{
        json_t *v = json_object_get(o, a);
        if (b)
                v = json_object_get(v, b);
        return json_is_string(v) ? json_string_value(v) : NULL;
}

/* podman's shape: TIME container EVENT ID (attributes) */
static void print_event(struct events *e, json_t *rec, const char *line)
{
        if (e->json) {
                printf("%s\n", line);
                fflush(stdout);
                return;
        }
        const char *id = str(rec, "container", "id"), *img = str(rec, "image", "ref"), *name = str(rec, "user", "name");
        const char *reason = str(rec, "reason", NULL), *t = str(rec, "time", NULL), *ev = str(rec, "event", NULL);
        json_t *uid = json_object_get(json_object_get(rec, "user"), "uid"), *ex = json_object_get(rec, "exit");
        printf("%s container %s %s (user=%s(%lld)", t ? t : "?", ev ? ev : "?", id ? id : "-", name ? name : "?",
               (long long) json_integer_value(uid));
        if (img)
                printf(", image=%s", img);
        if (json_is_integer(json_object_get(rec, "pid")))
                printf(", pid=%lld", (long long) json_integer_value(json_object_get(rec, "pid")));
        if (json_is_object(ex))
                printf(", exit=%lld, signal=%lld", (long long) json_integer_value(json_object_get(ex, "status")),
                       (long long) json_integer_value(json_object_get(ex, "signal")));
        if (reason)
                printf(", reason=%s", reason);
        printf(")\n");
        fflush(stdout);
}

static void handle_line(struct events *e, char *line, size_t len)
{
        _cleanup_json_ json_t *rec = audit_view_parse(line, len);
        if (rec && audit_filter_match(&e->filter, rec))
                print_event(e, rec, line);
}

/* Read fd to its current end, printing each complete line. */
static int drain(struct events *e, int fd)
{
        char buf[65536];
        for (;;) {
                ssize_t n = read(fd, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return 0;
                char *grown = realloc(e->partial, e->partial_len + (size_t) n + 1);
                if (!grown)
                        return -ENOMEM;
                e->partial = grown;
                memcpy(e->partial + e->partial_len, buf, (size_t) n);
                e->partial_len += (size_t) n;
                char *start = e->partial, *nl;
                while ((nl = memchr(start, '\n', e->partial_len - (size_t) (start - e->partial)))) {
                        *nl = 0;
                        handle_line(e, start, (size_t) (nl - start));
                        start = nl + 1;
                }
                e->partial_len -= (size_t) (start - e->partial);
                memmove(e->partial, start, e->partial_len);
        }
}

/* A rotated file, read whole; skip_ino: the live log's inode (a rotation since we opened it made it a
 * rotated file too: it is read through the live descriptor, once). */
static int drain_path(struct events *e, const char *path, ino_t skip_ino)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        struct stat st;
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_ino == skip_ino)
                return 0;
        int r = drain(e, fd);
        e->partial_len = 0; /* a rotated or finished file: whatever did not end in a newline is no record */
        return r;
}

/* Every rotated file of the series (all but the last path), oldest first. */
static int drain_rotated(struct events *e, char *const *paths, size_t n, ino_t skip_ino, struct herror *err)
{
        for (size_t i = 0; i + 1 < n; i++) {
                int r = drain_path(e, paths[i], skip_ino);
                if (r < 0)
                        return herror_sys(err, -r, "%s", paths[i]);
        }
        return 0;
}

static ino_t fd_ino(int fd)
{
        struct stat st;
        return fd >= 0 && fstat(fd, &st) == 0 ? st.st_ino : 0;
}

struct watch {
        int ifd, wd_dir, wd_file, fd;
        const char *path, *base;
};

/* (Re)open the live log and watch it; a log not there yet is waited for through the directory watch. */
static int open_live(struct watch *w)
{
        if (w->wd_file >= 0)
                inotify_rm_watch(w->ifd, w->wd_file);
        if (w->fd >= 0)
                close(w->fd);
        w->wd_file = inotify_add_watch(w->ifd, w->path, IN_MODIFY);
        if (w->wd_file < 0 && errno != ENOENT)
                return -errno;
        w->fd = open(w->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (w->fd < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

/* true when the batch says a new file now sits at the log's name */
static bool replaced(const struct watch *w, const char *buf, ssize_t len)
{
        for (const char *p = buf; p < buf + len;) {
                const struct inotify_event *ev = (const struct inotify_event *) p;
                if (ev->wd == w->wd_dir && ev->len && streq(ev->name, w->base))
                        return true;
                p += sizeof *ev + ev->len;
        }
        return false;
}

/* The watches and the live log are in place before the rotated files are listed and read, so a rotation
 * at any moment is either seen in the rotated files or reported by inotify: no record falls in between. */
static int follow_start(struct events *e, struct watch *w, char *dir, struct herror *err)
{
        /* on a fresh account nothing has been recorded yet: wait for the first record like podman events -f */
        int r = audit_log_make_parents(w->path, err);
        if (r < 0)
                return r;
        if ((w->wd_dir = inotify_add_watch(w->ifd, dirname(dir), IN_CREATE | IN_MOVED_TO)) < 0)
                return herror_sys(err, errno, "watch %s", dir);
        if ((r = open_live(w)) < 0)
                return herror_sys(err, -r, "%s", w->path);
        _cleanup_strv_ char **series = NULL;
        size_t n = 0;
        if ((r = audit_log_series(w->path, &series, &n, err)) < 0 ||
            (r = drain_rotated(e, series, n, fd_ino(w->fd), err)) < 0)
                return r;
        if (w->fd >= 0 && (r = drain(e, w->fd)) < 0)
                return herror_sys(err, -r, "%s", w->path);
        return 0;
}

static int follow(struct events *e, const char *path, struct herror *err)
{
        _cleanup_free_ char *copy = strdup(path), *copy2 = strdup(path);
        if (!copy || !copy2)
                return herror_set(err, ENOMEM, "out of memory");
        struct watch w = { .wd_file = -1, .fd = -1, .path = path, .base = basename(copy2) };
        _cleanup_close_ int ifd = w.ifd = inotify_init1(IN_CLOEXEC);
        if (ifd < 0)
                return herror_sys(err, errno, "inotify");
        int r = follow_start(e, &w, copy, err);
        while (r == 0) {
                char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
                ssize_t n = read(ifd, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        r = herror_sys(err, n < 0 ? errno : EIO, "inotify read");
                        break;
                }
                /* the old file to its end first, then the one a rotation put in its place */
                r = w.fd >= 0 ? drain(e, w.fd) : 0;
                if (r == 0 && replaced(&w, buf, n)) {
                        e->partial_len = 0;
                        if ((r = open_live(&w)) == 0 && w.fd >= 0)
                                r = drain(e, w.fd);
                }
                if (r < 0)
                        herror_sys(err, -r, "%s", path);
        }
        if (w.fd >= 0)
                close(w.fd);
        return r;
}

/* The series as it is now, oldest first; a live log not there yet holds no records. */
static int print_all(struct events *e, const char *path, struct herror *err)
{
        _cleanup_strv_ char **series = NULL;
        size_t n = 0;
        int r = audit_log_series(path, &series, &n, err);
        if (r < 0 || (r = drain_rotated(e, series, n, 0, err)) < 0)
                return r;
        if ((r = drain_path(e, path, 0)) == -ENOENT)
                return 0;
        return r < 0 ? herror_sys(err, -r, "%s", path) : 0;
}

static void events_usage(FILE *out)
{
        fprintf(out,
                "Usage: hutch events [--follow] [--since T] [--format table|json] [FILE]\n\n"
                "Print container events (start, end, refusal) from the audit log, like podman events.\n\n"
                "  -f, --follow     keep printing new events as they are recorded (survives log rotation)\n"
                "      --since T    only events at or after T: YYYY-MM-DD[THH:MM:SS[.N]Z] (UTC) or 30m, 2h, 7d ago\n"
                "      --format F   table (default) or json (the records, one per line)\n"
                "  -h, --help       show this help\n");
}

int cmd_events(int argc, char **argv)
{
        enum { OPT_SINCE = 256, OPT_FORMAT };
        static const struct option opts[] = {
                { "follow", no_argument, NULL, 'f' },
                { "since", required_argument, NULL, OPT_SINCE },
                { "format", required_argument, NULL, OPT_FORMAT },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct events e = { 0 };
        bool follow_on = false;
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
                switch (c) {
                case 'f':
                        follow_on = true;
                        break;
                case OPT_SINCE:
                        if (audit_filter_set_since(&e.filter, optarg, &err) < 0)
                                return cli_usage_error("hutch events", "%s", herror_msg(&err));
                        break;
                case OPT_FORMAT:
                        if (cli_parse_format(optarg, &e.json) < 0)
                                return cli_usage_error("hutch events", "unknown format '%s'", optarg);
                        break;
                case 'h':
                        events_usage(stdout);
                        return 0;
                default:
                        return cli_bad_option("hutch events", argc, argv);
                }
        }
        if (argc - optind > 1)
                return cli_usage_error("hutch events", "at most one FILE");
        _cleanup_free_ char *path = NULL;
        if (audit_view_log_path(optind < argc ? argv[optind] : NULL, &path, &err) < 0)
                return cli_fail(&err);
        int r = follow_on ? follow(&e, path, &err) : print_all(&e, path, &err);
        free(e.partial);
        return r < 0 ? cli_fail(&err) : 0;
}
