#include <stdio.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "cli/audit-view.h"

int audit_view_log_path(const char *file, char **ret, struct herror *err)
{
        if (file)
                return (*ret = strdup(file)) ? 0 : herror_set(err, ENOMEM, "out of memory");
        _cleanup_audit_config_ struct audit_config *c = NULL;
        int r = audit_config_load(NULL, &c, err);
        if (r < 0)
                return r;
        if ((r = audit_config_log_path(c, ret, err)) < 0)
                return r;
        if (!*ret)
                return herror_set(err, ENOENT, "the audit file log is off (audit_log = none); name a FILE");
        return 0;
}

int audit_filter_set_since(struct audit_filter *f, const char *s, struct herror *err)
{
        char *end;
        errno = 0;
        unsigned long long n = strtoull(s, &end, 10);
        static const struct {
                char unit;
                unsigned long long secs;
        } units[] = {
                { 's', 1 },
                { 'm', 60 },
                { 'h', 3600 },
                { 'd', 86400 },
        };
        if (end != s && !errno && end[0] && !end[1]) {
                for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                        if (*end != units[i].unit || n > (unsigned long long) INT32_MAX)
                                continue;
                        time_t t = time(NULL) - (time_t) (n * units[i].secs);
                        struct tm tm;
                        gmtime_r(&t, &tm);
                        strftime(f->since, sizeof f->since, "%Y-%m-%dT%H:%M:%S", &tm);
                        return 0;
                }
        }
        /* record times are fixed-width UTC, so a date or time prefix compares as text */
        int y, mo, d;
        if (strlen(s) >= sizeof f->since || sscanf(s, "%4d-%2d-%2d", &y, &mo, &d) != 3 || strlen(s) < 10)
                return herror_set(err, EINVAL,
                                  "--since '%s': expected YYYY-MM-DD[THH:MM:SS[.N]Z] (UTC) or a duration "
                                  "like 30m, 2h, 7d",
                                  s);
        snprintf(f->since, sizeof f->since, "%s", s);
        size_t l = strlen(f->since);
        if (l > 10 && f->since[l - 1] == 'Z')
                f->since[l - 1] = 0;
        return 0;
}

static const char *str(json_t *o, const char *a, const char *b)
{
        json_t *v = json_object_get(o, a);
        if (b)
                v = json_object_get(v, b);
        return json_is_string(v) ? json_string_value(v) : NULL;
}

bool audit_filter_match(const struct audit_filter *f, json_t *rec)
{
        const char *t = str(rec, "time", NULL);
        if (f->since[0] && (!t || strcmp(t, f->since) < 0))
                return false;
        if (f->user) {
                const char *name = str(rec, "user", "name");
                json_t *uid = json_object_get(json_object_get(rec, "user"), "uid");
                char num[32];
                snprintf(num, sizeof num, "%lld", (long long) json_integer_value(uid));
                if (!(name && streq(name, f->user)) && !(json_is_integer(uid) && streq(num, f->user)))
                        return false;
        }
        if (f->image) {
                const char *ref = str(rec, "image", "ref"), *dg = str(rec, "image", "digest");
                if (!(ref && strstr(ref, f->image)) && !(dg && strncmp(dg, f->image, strlen(f->image)) == 0))
                        return false;
        }
        return true;
}

json_t *audit_view_parse(const char *line, size_t len)
{
        json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(o)) {
                json_decref(o);
                return NULL;
        }
        return o;
}

void audit_view_print_header(FILE *out)
{
        fprintf(out, "%-30s  %-7s  %-16s  %-20s  %-30s  %s\n", "TIME", "EVENT", "USER", "CONTAINER", "IMAGE", "DETAIL");
}

static void detail(json_t *rec, char *buf, size_t size)
{
        json_t *exit_ = json_object_get(rec, "exit");
        const char *reason = str(rec, "reason", NULL), *verdict = str(rec, "trust", "verdict");
        if (reason)
                snprintf(buf, size, "%s", reason);
        else if (json_is_object(exit_) && json_integer_value(json_object_get(exit_, "signal")))
                snprintf(buf, size, "signal %lld", (long long) json_integer_value(json_object_get(exit_, "signal")));
        else if (json_is_object(exit_))
                snprintf(buf, size, "exit %lld", (long long) json_integer_value(json_object_get(exit_, "status")));
        else if (json_is_integer(json_object_get(rec, "pid")))
                snprintf(buf, size, "pid %lld%s%s", (long long) json_integer_value(json_object_get(rec, "pid")),
                         verdict ? " trust " : "", verdict ? verdict : "");
        else
                buf[0] = 0;
}

void audit_view_print(FILE *out, json_t *rec, const char *line, bool json)
{
        if (json) {
                fprintf(out, "%s\n", line);
                return;
        }
        char user[64], d[512];
        const char *name = str(rec, "user", "name");
        json_t *uid = json_object_get(json_object_get(rec, "user"), "uid");
        snprintf(user, sizeof user, "%s(%lld)", name ? name : "?", (long long) json_integer_value(uid));
        detail(rec, d, sizeof d);
        const char *t = str(rec, "time", NULL), *ev = str(rec, "event", NULL), *id = str(rec, "container", "id");
        const char *img = str(rec, "image", "ref");
        fprintf(out, "%-30s  %-7s  %-16s  %-20s  %-30s  %s\n", t ? t : "?", ev ? ev : "?", user, id ? id : "-",
                img ? img : "-", d);
}
