#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/log.h"

static enum log_level cur_level = LOG_LEVEL_WARN;
static enum log_format cur_format = LOG_FORMAT_TEXT;
static const char *cur_prefix = "hutch";
static int log_fd = -1;

static const char *const level_names[_LOG_LEVEL_MAX] = {
        [LOG_LEVEL_ERROR] = "error",
        [LOG_LEVEL_WARN] = "warning",
        [LOG_LEVEL_INFO] = "info",
        [LOG_LEVEL_DEBUG] = "debug",
};

int log_level_from_string(const char *s)
{
        if (streq(s, "warn"))
                return LOG_LEVEL_WARN;
        for (int i = 0; i < _LOG_LEVEL_MAX; i++)
                if (streq(s, level_names[i]))
                        return i;
        return _LOG_LEVEL_INVALID;
}

int log_format_from_string(const char *s)
{
        if (streq(s, "text"))
                return LOG_FORMAT_TEXT;
        if (streq(s, "json"))
                return LOG_FORMAT_JSON;
        return _LOG_FORMAT_INVALID;
}

void log_set_level(enum log_level l)
{
        cur_level = l;
}
enum log_level log_get_level(void)
{
        return cur_level;
}
void log_set_format(enum log_format f)
{
        cur_format = f;
}
void log_set_prefix(const char *prefix)
{
        cur_prefix = prefix;
}

int log_open_file(const char *path)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd < 0)
                return -errno;
        log_close_file();
        log_fd = fd;
        return 0;
}

void log_close_file(void)
{
        if (log_fd >= 0)
                close(log_fd);
        log_fd = -1;
}

/* runc's JSON log line shape: {"level":"error","msg":"...","time":"..."}, which conmon reads back. */
static void write_json(int fd, enum log_level l, const char *msg)
{
        char ts[64];
        struct timespec now;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &now);
        gmtime_r(&now.tv_sec, &tm);
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
        json_t *o = json_pack("{s:s, s:s, s:s}", "level", level_names[l], "msg", msg, "time", ts);
        if (!o)
                return;
        char *s = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (!s)
                return;
        dprintf(fd, "%s\n", s);
        free(s);
}

void log_msg(enum log_level l, const char *fmt, ...)
{
        if (l > cur_level || l < 0 || l >= _LOG_LEVEL_MAX)
                return;
        int saved = errno;
        char buf[4096];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        if (log_fd >= 0) {
                if (cur_format == LOG_FORMAT_JSON)
                        write_json(log_fd, l, buf);
                else
                        dprintf(log_fd, "%s: %s: %s\n", cur_prefix, level_names[l], buf);
        }
        /* With --log, podman/conmon read errors from the file; stderr still gets them for humans. */
        if (cur_format == LOG_FORMAT_JSON && log_fd < 0)
                write_json(STDERR_FILENO, l, buf);
        else if (l == LOG_LEVEL_ERROR)
                fprintf(stderr, "%s: %s\n", cur_prefix, buf);
        else
                fprintf(stderr, "%s: %s: %s\n", cur_prefix, level_names[l], buf);
        errno = saved;
}
