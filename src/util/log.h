/* Logging for the CLI layer. Core code never logs except at debug level (STYLE.md, from systemd). */
#pragma once

#include "util/cleanup.h"

enum log_level {
        LOG_LEVEL_ERROR,
        LOG_LEVEL_WARN,
        LOG_LEVEL_INFO,
        LOG_LEVEL_DEBUG,
        _LOG_LEVEL_MAX,
        _LOG_LEVEL_INVALID = -EINVAL
};
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON, _LOG_FORMAT_MAX, _LOG_FORMAT_INVALID = -EINVAL };

int log_level_from_string(const char *s);
int log_format_from_string(const char *s);
void log_set_level(enum log_level l);
enum log_level log_get_level(void);
void log_set_format(enum log_format f);
void log_set_prefix(const char *prefix);
/* Also send records to this file (opened O_APPEND|O_CLOEXEC); the runtime face's --log. */
int log_open_file(const char *path);
void log_close_file(void);
void log_msg(enum log_level l, const char *fmt, ...) _printf_(2, 3);

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)                                         \
        do {                                                   \
                if (log_get_level() >= LOG_LEVEL_DEBUG)        \
                        log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__); \
        } while (0)
