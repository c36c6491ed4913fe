/* The runtime face's audit records (issue #8): start when a container's process is let run (start, run),
 * end when the runtime learns it ended (run after its wait; delete, without an exit status, which only the
 * reaper knows), refusal when create or run fails. What the record says about confinement comes from the
 * bundle's config.json, whose sha256 is recorded with it. Best-effort unless hutch.conf or --audit says
 * required: then a start that cannot be recorded does not run. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "audit/audit.h"
#include "cli/audit-facts.h"
#include "cli/runtime.h"
#include "image/digest.h"
#include "sandbox/landlock.h"
#include "spec/spec.h"
#include "util/fileio.h"
#include "util/log.h"

static int open_audit(struct audit **ret, struct herror *err)
{
        _cleanup_audit_config_ struct audit_config *c = NULL;
        int r = audit_config_load(NULL, &c, err);
        if (r == 0 && runtime_globals.audit_mode)
                r = audit_config_set(c, "audit", runtime_globals.audit_mode, err);
        if (r == 0 && runtime_globals.audit_log)
                r = audit_config_set(c, "audit_log", runtime_globals.audit_log, err);
        if (r == 0)
                r = audit_open(c, ret, err);
        return r;
}

static int emit(const struct audit_record *rec, struct herror *err)
{
        _cleanup_audit_ struct audit *a = NULL;
        int r = open_audit(&a, err);
        if (r == 0)
                r = audit_emit(a, rec, err);
        return r;
}

/* The bundle's spec and its hash, which the record's confinement fields borrow from. */
struct facts {
        struct spec *spec;
        char sha[DIGEST_STRING_MAX];
        struct audit_facts conf;
};

static void facts_done(struct facts *f)
{
        spec_free(f->spec);
        audit_facts_done(&f->conf);
}

static void fill_confinement(struct facts *f, struct audit_record *r, int landlock_abi)
{
        const struct spec *s = f->spec;
        audit_facts_fill(&f->conf, s, landlock_abi, r);
        r->seccomp_profile = s->seccomp ? "config.json linux.seccomp" : "none";
        r->seccomp_sha256 = s->seccomp ? f->sha : NULL;
        r->image_ref = spec_annotation(s, "org.opencontainers.image.ref.name");
        r->container_name = spec_annotation(s, "io.kubernetes.cri.container-name");
}

/* The bundle's config.json as the container got it: parsed for the record, hashed for the seccomp entry. */
static int load_facts(const char *bundle, struct facts *f, struct herror *err)
{
        _cleanup_close_ int dfd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return herror_sys(err, errno, "bundle %s", bundle);
        _cleanup_free_ char *data = NULL;
        size_t len;
        struct digest d;
        int r = read_file_at(dfd, "config.json", SPEC_MAX_CONFIG_SIZE, &data, &len, err);
        if (r == 0)
                r = digest_buffer(data, len, &d, err);
        if (r == 0)
                r = spec_parse(data, len, "config.json", &f->spec, err);
        if (r < 0)
                return r;
        digest_to_string(&d, f->sha);
        return 0;
}

int runtime_audit_start(const struct container_state *st, struct herror *err)
{
        struct facts f = { 0 };
        struct audit_record r = { .event = AUDIT_EVENT_START,
                                  .entry = "runtime",
                                  .container_id = st->id,
                                  .trust_verdict = "not-evaluated",
                                  .pid = st->pid,
                                  .duration_ns = -1 };
        _cleanup_herror_ struct herror e = HERROR_INIT;
        if (load_facts(st->bundle, &f, &e) == 0)
                fill_confinement(&f, &r, st->landlock_abi);
        else
                log_debug("audit: %s: the start record says less", herror_msg(&e));
        int ret = emit(&r, err);
        facts_done(&f);
        return ret;
}

void runtime_audit_refusal(const char *id, const char *bundle, const struct herror *why)
{
        char reason[2048];
        snprintf(reason, sizeof reason, "%s", herror_msg(why));
        struct audit_record r = { .event = AUDIT_EVENT_REFUSAL,
                                  .entry = "runtime",
                                  .container_id = id,
                                  .trust_verdict = "not-evaluated",
                                  .reason = reason,
                                  .duration_ns = -1 };
        struct facts f = { 0 };
        _cleanup_herror_ struct herror e = HERROR_INIT;
        /* a refused config may not parse: then the record has the reason and no more */
        if (bundle && load_facts(bundle, &f, &e) == 0)
                fill_confinement(&f, &r, 0);
        if (emit(&r, &e) < 0)
                log_error("audit: the refusal could not be recorded: %s", herror_msg(&e));
        facts_done(&f);
}

int runtime_audit_end(const struct container_state *st, const siginfo_t *exit_info, int64_t duration_ns,
                      struct herror *err)
{
        struct audit_record r = { .event = AUDIT_EVENT_END,
                                  .entry = "runtime",
                                  .container_id = st->id,
                                  .pid = st->pid,
                                  .duration_ns = duration_ns };
        if (exit_info && exit_info->si_pid) {
                r.has_exit = true;
                r.exit_status = exit_info->si_code == CLD_EXITED ? exit_info->si_status : 128 + exit_info->si_status;
                r.exit_signal = exit_info->si_code == CLD_EXITED ? 0 : exit_info->si_status;
        }
        return emit(&r, err);
}

int64_t runtime_audit_now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}
