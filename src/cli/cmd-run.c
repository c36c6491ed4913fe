/* hutch run: image -> trust -> spec -> sandbox -> audit, in this process. The container is our child
 * (no daemon, no conmon, no second hutch); its writable layer lives in its own mount namespace. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "cli/audit-facts.h"
#include "cli/cli.h"
#include "cli/image-trust.h"
#include "cli/run-config.h"
#include "cli/run-confine.h"
#include "cli/run-io.h"
#include "cli/run-report.h"
#include "cli/run.h"
#include "cli/runtime.h"
#include "cli/volume.h"
#include "image/config.h"
#include "image/rootfs.h"
#include "sandbox/container.h"
#include "sandbox/idmap.h"
#include "sandbox/subid.h"
#include "spec/build.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/log.h"

#define CONTAINERS_DIR "containers"
#define CGROUP_FILE "cgroup" /* in a run's directory: its cgroup below the cgroup2 mount, if any */

/* The per-phase breakdown of one launch behind --log-level=debug (bench/ reads it to pick the next
 * optimisation); marking costs one clock_gettime when debug is off. */
struct phase_clock {
        double last_ms;
        char line[512];
        size_t len;
};

static double monotonic_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static void phase_mark(struct phase_clock *pc, const char *name)
{
        double now = monotonic_ms();
        if (pc->last_ms > 0 && log_get_level() >= LOG_LEVEL_DEBUG && pc->len < sizeof pc->line) {
                int n = snprintf(pc->line + pc->len, sizeof pc->line - pc->len, "%s%s %.2f ms", pc->len ? ", " : "",
                                 name, now - pc->last_ms);
                if (n > 0)
                        pc->len += (size_t) n;
        }
        pc->last_ms = now;
}

/* Everything one run decides and holds, freed by run_ctx_done(). */
struct run_ctx {
        struct run_options o;
        struct image_store store;
        struct image_target target;
        struct image_trust trust;
        bool trust_done;
        struct image_run_config config;
        int cachefd;
        char *cache_path;
        struct run_process proc;
        struct spec_run_mount *mounts;
        size_t n_mounts;
        struct spec_idmap uid_map[IDMAP_USER_MAP_MAX], gid_map[IDMAP_USER_MAP_MAX];
        size_t n_uid_map, n_gid_map;
        struct sandbox_userns userns; /* made with the maps, so newuidmap runs while the rest is prepared */
        struct spec *spec;
        struct run_confine confine;
        char *seccomp_name;
        char seccomp_sha256[DIGEST_STRING_MAX];
        char id[33];
        char *dir_path; /* <store>/containers/<id>: root.path, covered by a tmpfs inside */
        int dirfd;      /* flock()ed while we live, so a later run can tell it is not stale */
        struct audit *audit;
        struct timespec t_start;
        struct phase_clock phases;
        bool allow_privileged; /* the administrator's hutch.conf: allow_privileged = on */
};

static void run_ctx_done(struct run_ctx *c)
{
        if (c->dirfd >= 0) {
                /* Empty on the host: the tmpfs and overlay only ever existed in the container's namespace. */
                if (c->dir_path && rmdir(c->dir_path) < 0 && errno != ENOENT)
                        log_warn("remove %s: %s", c->dir_path, strerror(errno));
                close(c->dirfd);
        }
        free(c->dir_path);
        spec_free(c->spec);
        run_confine_done(&c->confine);
        free(c->seccomp_name);
        run_mounts_free(c->mounts, c->n_mounts);
        run_process_done(&c->proc);
        closep(&c->cachefd);
        sandbox_userns_release(&c->userns);
        free(c->cache_path);
        image_run_config_done(&c->config);
        if (c->trust_done)
                image_trust_done(&c->trust);
        image_target_done(&c->target);
        store_close(&c->store);
        audit_close(c->audit);
        run_options_done(&c->o);
}

/* ---- audit ---- */

static const char *verdict_name(const struct run_ctx *c)
{
        return !c->trust_done ? "not-evaluated" : c->trust.verdict.accepted ? "accepted" : "rejected";
}

/* The fields every record of this run carries; confinement comes from the spec (audit_facts_fill) once
 * there is one. */
static void audit_fill(const struct run_ctx *c, struct audit_record *rec, enum audit_event ev)
{
        *rec = (struct audit_record) {
                .event = ev,
                .entry = "run",
                .container_id = c->id[0] ? c->id : NULL,
                .container_name = c->o.name,
                .image_ref = c->target.name ? c->target.name : c->o.image,
                .trust_verdict = verdict_name(c),
                .duration_ns = -1,
        };
        size_t n = 0;
        while (c->proc.args && c->proc.args[n])
                n++;
        rec->argv = (const char *const *) c->proc.args;
        rec->n_argv = n;
        if (c->trust_done) {
                rec->trust_transport = c->trust.verdict.transport;
                rec->trust_scope = c->trust.verdict.scope;
                rec->trust_key_id = c->trust.verdict.key_id;
                rec->trust_signed_reference = c->trust.verdict.signed_reference;
                rec->trust_reason = c->trust.verdict.reason;
                rec->policy_path = c->trust.policy_source;
                rec->policy_sha256 = c->trust.policy_sha256[0] ? c->trust.policy_sha256 : NULL;
        }
        rec->seccomp_profile = c->seccomp_name;
        rec->seccomp_sha256 = c->seccomp_sha256[0] ? c->seccomp_sha256 : NULL;
        rec->unavailable = (const char *const *) c->confine.unavailable;
        rec->n_unavailable = c->confine.n_unavailable;
}

/* A refusal is recorded before the error is printed; in required mode an unwritable audit log is one
 * more reason, never a reason to go on. */
static int refuse(struct run_ctx *c, const struct herror *why)
{
        log_error("%s", herror_msg(why));
        if (c->audit) {
                struct audit_record rec;
                audit_fill(c, &rec, AUDIT_EVENT_REFUSAL);
                char digest[DIGEST_STRING_MAX];
                if (c->target.name)
                        rec.image_digest = digest_to_string(&c->target.manifest, digest);
                rec.reason = herror_msg(why);
                struct audit_facts facts = { 0 };
                if (c->spec)
                        audit_facts_fill(&facts, c->spec, 0, &rec);
                _cleanup_herror_ struct herror aerr = HERROR_INIT;
                if (audit_emit(c->audit, &rec, &aerr) < 0)
                        log_error("audit: %s", herror_msg(&aerr));
                audit_facts_done(&facts);
        }
        return EXIT_HUTCH_ERROR;
}

static int open_audit(struct run_ctx *c, struct herror *err)
{
        struct audit_config *cfg = NULL;
        int r = audit_config_load(NULL, &cfg, err);
        for (size_t i = 0; r == 0 && c->o.audit_settings && c->o.audit_settings[i]; i++) {
                char *kv = c->o.audit_settings[i], *eq = strchr(kv, '=');
                *eq = 0;
                r = audit_config_set(cfg, kv, eq + 1, err);
                *eq = '=';
        }
        if (r == 0) {
                c->allow_privileged = audit_config_allow_privileged(cfg);
                r = audit_open(cfg, &c->audit, err);
        }
        audit_config_free(cfg);
        return r;
}

/* ---- image, trust, rootfs ---- */

static void layer_started(size_t index, size_t count, const struct oci_descriptor *layer, void *userdata)
{
        (void) userdata;
        fprintf(stderr, "\rUnpacking layer %zu/%zu (%.1f MB)\033[K", index + 1, count, (double) layer->size / 1e6);
        if (index + 1 == count)
                fputc('\n', stderr);
}

static int prepare_image(struct run_ctx *c, struct herror *err)
{
        int r = store_open(c->o.storage, &c->store, err);
        if (r < 0 || (r = image_target_resolve(&c->store, c->o.image, &c->target, err)) < 0)
                return r;
        /* Before anything of the image is unpacked or parsed beyond its manifest: the policy decides. */
        if ((r = image_trust_evaluate(&c->store, &c->target, c->o.policy, &c->trust, err)) < 0)
                return r;
        c->trust_done = true;
        if (!c->trust.verdict.accepted)
                return herror_set(err, EPERM, "image %s rejected by the trust policy %s: %s", c->target.name,
                                  c->trust.policy_source ? c->trust.policy_source : "(none)", c->trust.verdict.reason);
        log_info("image %s accepted: %s", c->target.name, c->trust.verdict.reason);
        if ((r = store_read_run_config(&c->store, &c->target.manifest, &c->config, err)) < 0)
                return r;
        struct rootfs_options ro;
        rootfs_options_init(&ro);
        if (!c->o.quiet && isatty(STDERR_FILENO))
                ro.layer_started = layer_started;
        if ((r = rootfs_ensure(&c->store, &c->target.manifest, &ro, &c->cachefd, NULL, err)) < 0)
                return r;
        return rootfs_path(&c->store, &c->target.manifest, &c->cache_path, err);
}

/* ---- identity ---- */

static int prepare_idmaps(struct run_ctx *c, struct herror *err)
{
        uid_t uid = getuid();
        gid_t gid = getgid();
        if (uid == 0)
                return 0; /* real root: no user namespace, as podman as root */
        struct passwd *pw = getpwuid(uid);
        struct subid_ranges su = { 0 }, sg = { 0 };
        int r = subid_load(false, pw ? pw->pw_name : NULL, uid, &su, err);
        if (r == 0)
                r = subid_load(true, pw ? pw->pw_name : NULL, uid, &sg, err);
        if (r < 0) {
                subid_ranges_free(&su);
                subid_ranges_free(&sg);
                return r;
        }
        bool keep = c->o.userns == RUN_USERNS_KEEP_ID;
        if (su.n == 0 || sg.n == 0)
                log_warn("no subordinate IDs for %s in %s/%s: only your own IDs are mapped, so the image's other "
                         "users and groups cannot be used (see 'hutch doctor')",
                         pw ? pw->pw_name : "you", subid_path(false), subid_path(true));
        /* the same map the isolated unpacker used for the cache, so files the layers gave root appear as root */
        const struct subid_ranges *usub = sg.n ? &su : &(struct subid_ranges) { 0 };
        const struct subid_ranges *gsub = su.n ? &sg : &(struct subid_ranges) { 0 };
        c->n_uid_map = idmap_build_user_map(c->uid_map, ELEMENTSOF(c->uid_map), uid, keep ? uid : 0, usub);
        c->n_gid_map = idmap_build_user_map(c->gid_map, ELEMENTSOF(c->gid_map), gid, keep ? gid : 0, gsub);
        struct idmap_ranges m = { .uid = c->uid_map, .gid = c->gid_map, .n_uid = c->n_uid_map, .n_gid = c->n_gid_map };
        /* the pause namespace holds every ID the user has, own ID at 0: the map above unless keep-id moved it */
        struct spec_idmap pause_uid[IDMAP_USER_MAP_MAX], pause_gid[IDMAP_USER_MAP_MAX];
        struct idmap_ranges via = m;
        if (keep)
                via = (struct idmap_ranges) {
                        .uid = pause_uid,
                        .gid = pause_gid,
                        .n_uid = idmap_build_user_map(pause_uid, ELEMENTSOF(pause_uid), uid, 0, usub),
                        .n_gid = idmap_build_user_map(pause_gid, ELEMENTSOF(pause_gid), gid, 0, gsub),
                };
        subid_ranges_free(&su);
        subid_ranges_free(&sg);
        return sandbox_userns_prepare(&m, &via, !c->o.network_host, &c->userns, err);
}

static int prepare_process(struct run_ctx *c, struct herror *err)
{
        const struct image_run_config *ic = &c->config;
        const char *user = c->o.user;
        _cleanup_free_ char *keep_user = NULL;
        if (!user && c->o.userns == RUN_USERNS_KEEP_ID) {
                if (asprintf(&keep_user, "%u:%u", (unsigned) getuid(), (unsigned) getgid()) < 0)
                        return herror_set(err, ENOMEM, "out of memory");
                user = keep_user;
        }
        if (!user)
                user = ic->user;
        int r = run_resolve_user(c->cachefd, user, &c->proc, err);
        if (r < 0 ||
            (r = run_build_args(ic->entrypoint, ic->cmd, c->o.entrypoint, c->o.entrypoint_given, c->o.command,
                                &c->proc.args, err)) < 0 ||
            (r = run_build_env(ic->env, &c->o, &c->proc, &c->proc.env, err)) < 0)
                return r;
        const char *cwd = c->o.workdir ? c->o.workdir : ic->working_dir && *ic->working_dir ? ic->working_dir : "/";
        if (cwd[0] != '/')
                return herror_set(err, EINVAL, "the working directory %s must be absolute", cwd);
        c->proc.cwd = strdup(cwd);
        return c->proc.cwd ? 0 : herror_set(err, ENOMEM, "out of memory");
}

/* ---- the container's directory ---- */

/* A dead run's cgroup (its container died with it: parent-death signal) goes with its directory. */
static void remove_stale_cgroup(int cfd)
{
        char rel[PATH_MAX];
        _cleanup_close_ int fd = openat(cfd, CGROUP_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return;
        ssize_t n = read_all(fd, rel, sizeof rel - 1);
        _cleanup_herror_ struct herror e = HERROR_INIT;
        if (n > 0) {
                rel[n] = 0;
                if (cgroup_remove_rel(rel, &e) < 0)
                        log_debug("a dead run's cgroup: %s", herror_msg(&e));
        }
        unlinkat(cfd, CGROUP_FILE, 0);
}

/* Directories of runs whose hutch is gone (killed with SIGKILL): nobody holds their lock. A new run's
 * directory exists unlocked between its mkdir and its flock, so makers hold the containers directory shared
 * across that window and the sweep takes it exclusively; a sweep that cannot have it now is skipped, the
 * next run does it. */
static void remove_stale(int containersfd)
{
        if (flock(containersfd, LOCK_EX | LOCK_NB) < 0)
                return;
        int fd = dup(containersfd);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                if (fd >= 0)
                        close(fd);
                flock(containersfd, LOCK_UN);
                return;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                _cleanup_close_ int cfd =
                        openat(containersfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (cfd < 0 || flock(cfd, LOCK_EX | LOCK_NB) < 0)
                        continue;
                remove_stale_cgroup(cfd);
                if (unlinkat(containersfd, de->d_name, AT_REMOVEDIR) == 0)
                        log_debug("removed the directory of a dead run: %s", de->d_name);
        }
        closedir(d);
        flock(containersfd, LOCK_UN);
}

static int make_container_dir(struct run_ctx *c, struct herror *err)
{
        unsigned char rnd[16];
        if (getentropy(rnd, sizeof rnd) < 0)
                return herror_sys(err, errno, "getentropy");
        for (size_t i = 0; i < sizeof rnd; i++)
                snprintf(c->id + 2 * i, 3, "%02x", rnd[i]);
        if (mkdirat(c->store.rootfd, CONTAINERS_DIR, 0700) < 0 && errno != EEXIST)
                return herror_sys(err, errno, "%s/%s", c->store.path, CONTAINERS_DIR);
        _cleanup_close_ int cfd =
                openat(c->store.rootfd, CONTAINERS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (cfd < 0)
                return herror_sys(err, errno, "%s/%s", c->store.path, CONTAINERS_DIR);
        remove_stale(cfd);
        if (flock(cfd, LOCK_SH) < 0)
                return herror_sys(err, errno, "lock %s/%s", c->store.path, CONTAINERS_DIR);
        if (mkdirat(cfd, c->id, 0700) < 0)
                return herror_sys(err, errno, "create %s/%s/%s", c->store.path, CONTAINERS_DIR, c->id);
        c->dirfd = openat(cfd, c->id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (c->dirfd < 0 || flock(c->dirfd, LOCK_EX) < 0)
                return herror_sys(err, errno, "open %s/%s/%s", c->store.path, CONTAINERS_DIR, c->id);
        flock(cfd, LOCK_UN);
        if (asprintf(&c->dir_path, "%s/%s/%s", c->store.path, CONTAINERS_DIR, c->id) < 0)
                return herror_set(err, ENOMEM, "out of memory");
        return 0;
}

/* ---- spec ---- */

/* What the audit record and the report name: the profile and the sha256 of its bytes. */
static int name_seccomp(struct run_ctx *c, const char *name, const char *sha256_hex, struct herror *err)
{
        snprintf(c->seccomp_sha256, sizeof c->seccomp_sha256, "sha256:%s", sha256_hex);
        c->seccomp_name = strdup(name);
        return c->seccomp_name ? 0 : herror_set(err, ENOMEM, "out of memory");
}

/* A profile other than the default (profiles/seccomp/ci.json, embedded with its sha256, or a user's file):
 * parsed against the bounding set, it replaces the default in the spec. */
static int use_seccomp_profile(struct run_ctx *c, const char *name, const char *data, size_t len,
                               const char *sha256_hex, struct herror *err)
{
        struct spec_seccomp *sc = NULL;
        int r = spec_parse_seccomp_profile(data, len, name, c->spec->process.caps[CAPSET_BOUNDING], &sc, err);
        if (r < 0)
                return r;
        spec_seccomp_free(c->spec->seccomp);
        c->spec->seccomp = sc;
        return name_seccomp(c, name, sha256_hex, err);
}

static int load_seccomp(struct run_ctx *c, struct herror *err)
{
        if (c->o.seccomp_unconfined) {
                spec_seccomp_free(c->spec->seccomp);
                c->spec->seccomp = NULL;
                c->seccomp_name = strdup("unconfined");
                log_warn("--security-opt seccomp=unconfined: no system call filter");
                return c->seccomp_name ? 0 : herror_set(err, ENOMEM, "out of memory");
        }
        const char *name = c->o.seccomp_profile;
        if (name && streq(name, "ci"))
                return use_seccomp_profile(c, "ci", spec_ci_seccomp_json, spec_ci_seccomp_json_len,
                                           spec_ci_seccomp_json_sha256, err);
        if (!name || streq(name, "default")) /* already in the spec: spec_build_run puts it there */
                return name_seccomp(c, "default", spec_default_seccomp_json_sha256, err);
        _cleanup_free_ char *data = NULL;
        size_t len;
        int r = read_file_at(AT_FDCWD, c->o.seccomp_profile, SPEC_MAX_CONFIG_SIZE, &data, &len, err);
        if (r < 0)
                return herror_wrap(err, "--security-opt seccomp");
        struct digest d;
        if ((r = digest_buffer(data, len, &d, err)) < 0)
                return r;
        return use_seccomp_profile(c, c->o.seccomp_profile, data, len, d.hex, err);
}

/* --privileged is an administrator's decision, not a user's: hutch runs hardened unless
 * /etc/hutch/hutch.conf says allow_privileged = on. Then, as podman's: every capability (of the user
 * namespace: nothing of the host's), no seccomp filter and no Landlock unless asked for by name, no masked
 * or read-only paths. no_new_privs stays. */
static int apply_privileged(struct run_ctx *c, struct herror *err)
{
        if (!c->o.privileged)
                return 0;
        if (!c->allow_privileged)
                return herror_set(err, EPERM,
                                  "--privileged is refused: hutch runs hardened unless the administrator sets "
                                  "'allow_privileged = on' in %s",
                                  AUDIT_SYSTEM_CONFIG);
        log_warn("--privileged: every capability, no seccomp filter, no Landlock, no masked paths");
        if (!c->o.seccomp_profile)
                c->o.seccomp_unconfined = true;
        if (!c->o.landlock)
                c->o.landlock = "off";
        return strv_push(&c->o.cap_add, "all") < 0 ? herror_set(err, ENOMEM, "out of memory") : 0;
}

/* --init's reaper: a static binary of the host's, bind-mounted read-only (podman's catatonit; a hutch
 * process inside the container is exactly what docs/pid1.md rules out). */
static int find_init(const struct run_options *o, const char **ret, struct herror *err)
{
        static const char *const candidates[] = { "/usr/libexec/podman/catatonit", "/usr/bin/catatonit",
                                                  "/usr/bin/tini-static" };
        struct stat st;
        *ret = NULL;
        if (!o->init)
                return 0;
        if (o->init_path) {
                if (o->init_path[0] != '/' || stat(o->init_path, &st) < 0 || !S_ISREG(st.st_mode) ||
                    access(o->init_path, X_OK) < 0)
                        return herror_set(err, ENOENT, "--init-path %s: not an absolute path to an executable file",
                                          o->init_path);
                *ret = o->init_path;
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(candidates); i++)
                if (stat(candidates[i], &st) == 0 && S_ISREG(st.st_mode) && access(candidates[i], X_OK) == 0) {
                        *ret = candidates[i];
                        return 0;
                }
        return herror_set(err, ENOENT,
                          "--init: no init binary found (install catatonit, or name a static one with --init-path)");
}

/* -v NAME:/dst: the volume's directory in the store, created on first use as podman does. */
static int resolve_volumes(struct run_ctx *c, struct herror *err)
{
        for (size_t i = 0; i < c->n_mounts; i++) {
                struct spec_run_mount *m = &c->mounts[i];
                if (!streq(m->type, "volume"))
                        continue;
                char *path = NULL, *bind = strdup("bind");
                int r = bind ? volume_create(&c->store, m->source, true, &path, err)
                             : herror_set(err, ENOMEM, "out of memory");
                if (r < 0) {
                        free(bind);
                        return r;
                }
                free(m->source);
                free(m->type);
                m->source = path;
                m->type = bind;
        }
        return 0;
}

static int prepare_spec(struct run_ctx *c, struct herror *err)
{
        const char *init_path;
        int r = run_parse_mounts(&c->o, &c->mounts, &c->n_mounts, err);
        if (r < 0 || (r = resolve_volumes(c, err)) < 0 || (r = find_init(&c->o, &init_path, err)) < 0 ||
            (r = apply_privileged(c, err)) < 0 || (r = run_confine_decide(&c->o, &c->confine, err)) < 0)
                return r;
        run_confine_log(&c->confine);
        struct spec_run_options so = {
                .rootless = getuid() != 0,
                .root_path = c->o.read_only ? c->cache_path : c->dir_path,
                .root_readonly = c->o.read_only,
                .read_only_tmpfs = c->o.read_only_tmpfs,
                .args = c->proc.args,
                .env = c->proc.env,
                .cwd = c->proc.cwd,
                .uid = c->proc.uid,
                .gid = c->proc.gid,
                .additional_gids = c->proc.additional_gids,
                .n_additional_gids = c->proc.n_additional_gids,
                .terminal = c->o.tty,
                .hostname = c->o.hostname ? c->o.hostname : c->o.name,
                .network_host = c->o.network_host,
                .uid_map = c->uid_map,
                .n_uid_map = c->n_uid_map,
                .gid_map = c->gid_map,
                .n_gid_map = c->n_gid_map,
                .cap_add = c->o.cap_add,
                .cap_drop = c->o.cap_drop,
                .mounts = c->mounts,
                .n_mounts = c->n_mounts,
                .ulimits = c->o.ulimits,
                .apparmor_profile = c->confine.apparmor_profile,
                .selinux_label = c->confine.selinux_process,
                .mount_label = c->confine.selinux_mount,
                .landlock = c->confine.landlock_mode,
                .pids_limit = c->o.pids_limit,
                .memory_limit = c->o.memory,
                .cpu_quota = c->o.cpu_quota,
                .cpu_period = c->o.cpu_period,
                .init_path = init_path,
                .privileged = c->o.privileged,
        };
        if ((r = spec_build_run(&so, &c->spec, err)) < 0 || (r = load_seccomp(c, err)) < 0)
                return r;
        c->spec->landlock_rules = TAKE_PTR(c->confine.landlock_rules);
        if ((r = spec_validate(c->spec, so.rootless, err)) < 0)
                return r;
        /* last, once nothing else can refuse the run: it changes files on the host */
        return run_confine_relabel(&c->confine, c->mounts, c->n_mounts, err);
}

/* ---- launch ---- */

/* The container is over: what its memory cgroup saw (res may be NULL), then the cgroup goes. */
static void finish_cgroup(const struct run_ctx *c, struct sandbox *sb, struct run_result *res)
{
        _cleanup_herror_ struct herror e = HERROR_INIT;
        bool oom = false;
        if (res && (sb->cgroup.controllers & CGROUP_MEMORY)) {
                if (cgroup_oom_killed(&sb->cgroup, &oom, &e) == 0)
                        res->oom_killed = oom;
                else
                        log_warn("%s", herror_msg(&e));
        }
        herror_clear(&e);
        if (cgroup_remove(&sb->cgroup, &e) < 0)
                log_warn("%s", herror_msg(&e));
        else
                unlinkat(c->dirfd, CGROUP_FILE, 0);
}

/* Where the container's cgroup is, for the next run to remove should this hutch be killed. */
static int note_cgroup(struct run_ctx *c, const struct sandbox *sb, struct herror *err)
{
        if (sb->cgroup.fd < 0)
                return 0;
        return atomic_write_at(c->dirfd, CGROUP_FILE, sb->cgroup.rel, strlen(sb->cgroup.rel), 0600, err);
}

static int audit_start_end(struct run_ctx *c, const struct sandbox *sb, enum audit_event ev,
                           const struct run_result *res, struct herror *err)
{
        struct audit_record rec;
        audit_fill(c, &rec, ev);
        char digest[DIGEST_STRING_MAX];
        rec.image_digest = digest_to_string(&c->target.manifest, digest);
        rec.pid = sb->pid;
        struct audit_facts facts = { 0 };
        audit_facts_fill(&facts, c->spec, sb->landlock_abi, &rec);
        if (res) {
                rec.has_exit = true;
                rec.exit_status = res->status;
                rec.exit_signal = res->signal;
                rec.timed_out = res->timed_out;
                rec.duration_ns = res->wall_ns;
        }
        int r = audit_emit(c->audit, &rec, err);
        if (r < 0)
                log_error("audit: %s", herror_msg(err));
        audit_facts_done(&facts);
        return r;
}

/* The start record is written while the init sets up its rootfs (sandbox_opts.during_setup): on disk
 * before the workload can run (with audit = required: no record, no run), without its fdatasync adding
 * to the launch. A setup that fails afterwards is recorded as a refusal of the same container. */
static int record_start(const struct sandbox *sb, void *userdata, struct herror *err)
{
        return audit_start_end(userdata, sb, AUDIT_EVENT_START, NULL, err);
}

static int start_container(struct run_ctx *c, struct sandbox *sb, int *ret_master, struct herror *err)
{
        /* HUTCH_OVERLAY=native|fuse|auto: which overlay builds the root (auto: native, fuse-overlayfs where refused) */
        int mode = overlay_mode_from_string(secure_getenv("HUTCH_OVERLAY"));
        if (mode < 0)
                return herror_set(err, EINVAL, "HUTCH_OVERLAY=%s: expected auto, native or fuse",
                                  secure_getenv("HUTCH_OVERLAY"));
        int sv[2] = { -1, -1 };
        if (c->o.tty && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return herror_sys(err, errno, "socketpair for the terminal");
        struct rootfs_overlay ov = { .lower = c->cache_path,
                                     .userxattr = getuid() != 0,
                                     .mode = (enum overlay_mode) mode };
        struct sandbox_opts so = {
                .bundle_dirfd = c->dirfd,
                .bundle_path = c->dir_path,
                .state_dirfd = c->dirfd,
                .console_socket_fd = sv[1],
                .container_id = c->id,
                .die_with_parent = true,
                .overlay = c->o.read_only ? NULL : &ov,
                .during_setup = record_start,
                .userdata = c,
                .userns = &c->userns,
        };
        int r = sandbox_create(c->spec, &so, sb, err);
        closep(&sv[1]);
        if (r == 0)
                r = note_cgroup(c, sb, err);
        if (r == 0 && c->o.tty) {
                *ret_master = run_receive_pty(sv[0], err);
                if (*ret_master < 0)
                        r = *ret_master;
                else
                        run_copy_winsize(*ret_master);
        }
        closep(&sv[0]);
        if (r < 0 && sb->pidfd >= 0) {
                sandbox_kill(sb->pid, sb->start_time, SIGKILL, false, NULL);
                int ignored;
                sandbox_wait(sb, &ignored, NULL);
                finish_cgroup(c, sb, NULL);
        }
        return r;
}

static int64_t elapsed_ns(const struct timespec *t0)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (t.tv_sec - t0->tv_sec) * 1000000000LL + (t.tv_nsec - t0->tv_nsec);
}

static int write_report(const struct run_ctx *c, const struct run_result *res, int landlock_abi, struct herror *err)
{
        char digest[DIGEST_STRING_MAX];
        const struct policy_verdict *v = &c->trust.verdict;
        struct run_report rep = {
                .container_id = c->id,
                .name = c->o.name,
                .image = c->target.name,
                .image_digest = digest_to_string(&c->target.manifest, digest),
                .verdict = verdict_name(c),
                .verdict_reason = v->reason,
                .scope = v->scope,
                .key_id = v->key_id,
                .policy = c->trust.policy_source,
                .policy_sha256 = c->trust.policy_sha256,
                .spec = c->spec,
                .seccomp_profile = c->seccomp_name,
                .seccomp_sha256 = c->seccomp_sha256[0] ? c->seccomp_sha256 : NULL,
                .landlock_abi = landlock_abi,
                .landlock_mode = c->confine.landlock_mode,
                .landlock_rules = c->o.landlock_rules,
                .confine = &c->confine,
                .uid_map = c->uid_map,
                .n_uid_map = c->n_uid_map,
                .gid_map = c->gid_map,
                .n_gid_map = c->n_gid_map,
                .network_host = c->o.network_host,
                .read_only = c->o.read_only,
                .result = res,
        };
        return run_write_report(c->o.report, &rep, err);
}

static int run_attached(struct run_ctx *c, const sigset_t *mask, struct herror *err)
{
        struct sandbox sb = SANDBOX_INIT;
        _cleanup_close_ int master = -1;
        int r = start_container(c, &sb, &master, err);
        phase_mark(&c->phases, "sandbox+start record");
        if (r < 0 && sb.exec_failed) {
                refuse(c, err);
                return err->errnum == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_INVOKE;
        }
        if (r < 0)
                return refuse(c, err);
        if ((r = sandbox_start(c->dirfd, err)) < 0) {
                sandbox_kill(sb.pid, sb.start_time, SIGKILL, false, NULL);
                int ignored;
                sandbox_wait(&sb, &ignored, NULL);
                finish_cgroup(c, &sb, NULL);
                sandbox_release(&sb);
                return refuse(c, err);
        }
        /* the container's own run time, as the end record and the report give it */
        clock_gettime(CLOCK_MONOTONIC, &c->t_start);
        struct termios saved;
        int raw = c->o.tty ? run_raw_mode(&saved) : 0;
        int stop = c->o.stop_signal     ? c->o.stop_signal
                : c->config.stop_signal ? runtime_parse_signal(c->config.stop_signal)
                                        : SIGTERM;
        struct run_wait w = { .pidfd = sb.pidfd,
                              .pty_master = master,
                              .interactive = c->o.interactive,
                              .timeout_ms = c->o.timeout_ms,
                              .stop_timeout_ms = c->o.stop_timeout_ms,
                              .stop_signal = stop > 0 ? stop : SIGTERM };
        r = run_wait(&w, mask, err);
        if (raw > 0)
                run_restore_mode(&saved);
        struct run_result res = { .timed_out = w.timed_out, .oom_killed = -1 };
        int status = EXIT_HUTCH_ERROR;
        if (r < 0 || sandbox_wait(&sb, &status, err) < 0) {
                sandbox_kill(sb.pid, sb.start_time, SIGKILL, false, NULL);
                finish_cgroup(c, &sb, NULL);
                sandbox_release(&sb);
                return refuse(c, err);
        }
        finish_cgroup(c, &sb, &res);
        res.status = status;
        res.signal = status > 128 ? status - 128 : 0;
        res.wall_ns = elapsed_ns(&c->t_start);
        struct rusage ru;
        if (getrusage(RUSAGE_CHILDREN, &ru) == 0)
                res.rusage = ru;
        phase_mark(&c->phases, "workload");
        _cleanup_herror_ struct herror aerr = HERROR_INIT;
        audit_start_end(c, &sb, AUDIT_EVENT_END, &res, &aerr);
        phase_mark(&c->phases, "end record");
        if (c->o.report && write_report(c, &res, sb.landlock_abi, err) < 0)
                log_error("%s", herror_msg(err));
        sandbox_release(&sb);
        return status;
}

int cmd_run(int argc, char **argv)
{
        struct run_ctx c = { .cachefd = -1, .dirfd = -1, .store = IMAGE_STORE_INIT, .userns = SANDBOX_USERNS_INIT };
        clock_gettime(CLOCK_MONOTONIC, &c.t_start);
        int r = run_parse_options(argc, argv, &c.o);
        if (r != 0) {
                if (r == 1)
                        run_usage(stdout);
                run_options_done(&c.o);
                return r == 1 ? 0 : EXIT_HUTCH_ERROR;
        }
        sigset_t mask;
        run_block_signals(&mask);
        _cleanup_herror_ struct herror err = HERROR_INIT;
        phase_mark(&c.phases, NULL);
        if (open_audit(&c, &err) < 0) {
                r = refuse(&c, &err);
        } else if ((phase_mark(&c.phases, "options+audit setup"), prepare_idmaps(&c, &err)) < 0 ||
                   (phase_mark(&c.phases, "user namespace"), prepare_image(&c, &err)) < 0 ||
                   (phase_mark(&c.phases, "image+trust+rootfs"), prepare_process(&c, &err)) < 0 ||
                   make_container_dir(&c, &err) < 0 ||
                   (phase_mark(&c.phases, "process+container dir"), prepare_spec(&c, &err)) < 0) {
                r = refuse(&c, &err);
        } else {
                phase_mark(&c.phases, "spec");
                /* Without -i the container reads nothing of ours, as with podman. */
                if (!c.o.interactive) {
                        int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
                        if (nul >= 0) {
                                dup2(nul, STDIN_FILENO);
                                close(nul);
                        }
                }
                r = run_attached(&c, &mask, &err);
        }
        run_ctx_done(&c);
        phase_mark(&c.phases, "cleanup");
        if (c.phases.len)
                log_debug("timing: hutch run: %s", c.phases.line);
        return r;
}
