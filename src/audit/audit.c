/* Opening the configured sinks and writing one record to all of them. The mode decides what a failure
 * means: required fails the caller (which then refuses to launch), best-effort warns and goes on. */
#include <string.h>
#include <sys/stat.h>

#include "audit/audit-internal.h"
#include "util/log.h"

struct audit {
        enum audit_mode mode;
        char *file_path; /* NULL: no file sink */
        uint64_t rotate_size;
        struct audit_keys keys;
        char *journald_socket;  /* NULL: no journald sink */
        bool journald_required; /* audit_journald = on: a missing socket is a failure */
        char *syslog_socket;    /* NULL: no syslog sink */
        enum audit_switch kernel;
};

/* best-effort: warn and carry on; required: the first failure is the result (the others are warned). */
static int sink_failed(const struct audit *a, int r, struct herror *sink_err, struct herror *err, bool *failed)
{
        if (a->mode == AUDIT_MODE_REQUIRED && !*failed) {
                *failed = true;
                herror_set(err, -r, "%s", herror_msg(sink_err));
                herror_wrap(err, "audit (required)");
        } else {
                log_warn("audit: %s", herror_msg(sink_err));
        }
        herror_clear(sink_err);
        return r;
}

static int open_file_sink(struct audit *a, const struct audit_config *c, struct herror *err)
{
        int r = audit_config_log_path(c, &a->file_path, err);
        if (r < 0 || !a->file_path)
                return r;
        a->rotate_size = c->rotate_size;
        return audit_keys_load(&a->keys, c->hmac_key_path, c->sign_key_path, false, err);
}

static int open_journald(struct audit *a, const struct audit_config *c, struct herror *err)
{
        if (c->journald == AUDIT_SWITCH_OFF)
                return 0;
        const char *path = c->journald_socket ? c->journald_socket : AUDIT_JOURNALD_SOCKET;
        struct stat st;
        bool there = stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
        if (!there && c->journald == AUDIT_SWITCH_AUTO) {
                log_debug("audit: no journald socket at %s; journald sink off", path);
                return 0;
        }
        a->journald_required = c->journald == AUDIT_SWITCH_ON;
        if (!there)
                return herror_set(err, ENOENT, "journald: no socket at %s (audit_journald = on)", path);
        return (a->journald_socket = strdup(path)) ? 0 : herror_set(err, ENOMEM, "out of memory");
}

int audit_open(const struct audit_config *c, struct audit **ret, struct herror *err)
{
        struct audit *a = calloc(1, sizeof *a);
        if (!a)
                return herror_set(err, ENOMEM, "out of memory");
        a->mode = c->mode;
        if (a->mode == AUDIT_MODE_OFF) {
                *ret = a;
                return 0;
        }
        if (c->syslog && !(a->syslog_socket = strdup(c->syslog_socket ? c->syslog_socket : AUDIT_SYSLOG_SOCKET))) {
                free(a);
                return herror_set(err, ENOMEM, "out of memory");
        }
        a->kernel = c->kernel;
        if (a->kernel == AUDIT_SWITCH_AUTO && !audit_kernel_available()) {
                log_debug("audit: CAP_AUDIT_WRITE is not effective; kernel audit sink off");
                a->kernel = AUDIT_SWITCH_OFF;
        }
        bool failed = false;
        _cleanup_herror_ struct herror e = HERROR_INIT;
        int r;
        if ((r = open_file_sink(a, c, &e)) < 0)
                sink_failed(a, r, &e, err, &failed);
        if ((r = open_journald(a, c, &e)) < 0)
                sink_failed(a, r, &e, err, &failed);
        if (failed) {
                audit_close(a);
                return -err->errnum;
        }
        *ret = a;
        return 0;
}

void audit_close(struct audit *a)
{
        if (!a)
                return;
        free(a->file_path);
        audit_keys_done(&a->keys);
        free(a->journald_socket);
        free(a->syslog_socket);
        free(a);
}

static int emit_kernel(struct audit *a, const struct audit_record *rec, const struct audit_identity *id,
                       struct herror *e)
{
        int r = audit_kernel_send(rec, id, e);
        if (r == 0 && a->kernel == AUDIT_SWITCH_ON)
                return herror_set(e, EPERM,
                                  "kernel audit: not possible here (needs CAP_AUDIT_WRITE in the initial "
                                  "namespaces; audit_kernel = on)");
        if (r == 0)
                log_debug("audit: the kernel audit sink is not usable here");
        return r < 0 ? r : 0;
}

int audit_emit(struct audit *a, const struct audit_record *rec, struct herror *err)
{
        if (!a || a->mode == AUDIT_MODE_OFF)
                return 0;
        struct audit_identity id;
        char now[64];
        audit_identity_get(&id);
        audit_now_rfc3339(now, sizeof now);
        _cleanup_json_ json_t *body = NULL;
        _cleanup_herror_ struct herror e = HERROR_INIT;
        bool failed = false;
        int r = audit_record_to_json(rec, &id, now, &body, &e);
        if (r < 0)
                return sink_failed(a, r, &e, err, &failed), a->mode == AUDIT_MODE_REQUIRED ? r : 0;
        if (a->file_path) {
                struct audit_file_sink fs = { .path = a->file_path, .rotate_size = a->rotate_size };
                char hash[AUDIT_HASH_HEX + 1];
                if ((r = audit_file_append(&fs, &a->keys, body, NULL, hash, &e)) < 0)
                        sink_failed(a, r, &e, err, &failed);
                else
                        json_object_set_new(body, "hash", json_string(hash)); /* anchors the file in the others */
        }
        if (a->journald_socket && (r = audit_journald_send(a->journald_socket, rec, body, &e)) < 0)
                sink_failed(a, r, &e, err, &failed);
        if (a->syslog_socket && (r = audit_syslog_send(a->syslog_socket, body, &e)) < 0)
                sink_failed(a, r, &e, err, &failed);
        if (a->kernel != AUDIT_SWITCH_OFF && (r = emit_kernel(a, rec, &id, &e)) < 0)
                sink_failed(a, r, &e, err, &failed);
        return failed ? -err->errnum : 0;
}
