/* AppArmor and SELinux: option parsing, profile and label selection, the MCS choice, the relabel refusal
 * list and walk, and the fail-closed paths. Neither LSM is active on the test machine: selection is
 * tested over host descriptions (struct lsm_host) for every case, and against this host's real probe for
 * the refusals; enforcement itself is not verified here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "sandbox/kernel.h"
#include "sandbox/lsm.h"
#include "sandbox/mounts.h"

/* ---- require= ---- */

static void require_list(void **state)
{
        unsigned bits = 0;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_int_equal(confine_parse_require("landlock,apparmor,selinux,seccomp", &bits, &err), 0);
        assert_int_equal(bits,
                         CONFINE_BIT(CONFINE_LANDLOCK) | CONFINE_BIT(CONFINE_APPARMOR) | CONFINE_BIT(CONFINE_SELINUX) |
                                 CONFINE_BIT(CONFINE_SECCOMP));
        bits = 0;
        assert_int_equal(confine_parse_require("seccomp", &bits, &err), 0);
        assert_int_equal(confine_parse_require("landlock", &bits, &err), 0); /* repeated options add up */
        assert_int_equal(bits, CONFINE_BIT(CONFINE_SECCOMP) | CONFINE_BIT(CONFINE_LANDLOCK));
        static const char *const bad[] = { "",      "landlock,", ",seccomp", "landlock,,seccomp",
                                           "smack", "Landlock",  "seccomp2" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                herror_clear(&err);
                if (confine_parse_require(bad[i], &bits, &err) >= 0)
                        fail_msg("require=%s accepted", bad[i]);
                assert_non_null(strstr(herror_msg(&err), "is not one of"));
        }
        assert_string_equal(confine_layer_to_string(CONFINE_APPARMOR), "apparmor");
        assert_null(confine_layer_to_string(_CONFINE_MAX));
}

/* ---- AppArmor ---- */

static int aa(const struct lsm_host *h, const char *asked, bool required, char **profile, const char **why, char *msg)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        int r = lsm_apparmor_select(h, asked, required, profile, why, &err);
        snprintf(msg, 256, "%s", herror_msg(&err));
        return r;
}

static void apparmor_selection(void **state)
{
        const struct lsm_host off = { 0 }, on = { .apparmor = true },
                              loaded = { .apparmor = true, .apparmor_default_loaded = true };
        char *p = NULL, msg[256];
        const char *why = NULL;
        /* the default: hutch-default only where AppArmor is active and the profile loaded */
        assert_int_equal(aa(&loaded, NULL, false, &p, &why, msg), 0);
        assert_string_equal(p, "hutch-default");
        assert_null(why);
        free(p);
        assert_int_equal(aa(&on, NULL, false, &p, &why, msg), 0);
        assert_null(p);
        assert_non_null(strstr(why, "not loaded"));
        assert_int_equal(aa(&off, NULL, false, &p, &why, msg), 0);
        assert_null(p);
        assert_non_null(strstr(why, "not active"));
        /* required: the same cases refuse */
        assert_int_equal(aa(&off, NULL, true, &p, &why, msg), -EOPNOTSUPP);
        assert_non_null(strstr(msg, "require=apparmor"));
        assert_int_equal(aa(&on, NULL, true, &p, &why, msg), -EOPNOTSUPP);
        assert_int_equal(aa(&loaded, NULL, true, &p, &why, msg), 0);
        free(p);
        /* asked for by name */
        assert_int_equal(aa(&on, "my-profile", false, &p, &why, msg), 0);
        assert_string_equal(p, "my-profile");
        free(p);
        assert_int_equal(aa(&off, "my-profile", false, &p, &why, msg), -EOPNOTSUPP);
        assert_non_null(strstr(msg, "my-profile"));
        assert_null(p);
        assert_int_equal(aa(&on, "hutch-default", false, &p, &why, msg), -EOPNOTSUPP);
        assert_non_null(strstr(msg, "apparmor_parser"));
        assert_int_equal(aa(&off, "", false, &p, &why, msg), -EINVAL);
        assert_int_equal(aa(&on, "a\nb", false, &p, &why, msg), -EINVAL);
        /* unconfined: nothing, anywhere, unless AppArmor is required */
        assert_int_equal(aa(&off, "unconfined", false, &p, &why, msg), 0);
        assert_null(p);
        assert_null(why);
        assert_int_equal(aa(&loaded, "unconfined", false, &p, &why, msg), 0);
        assert_null(p);
        assert_int_equal(aa(&loaded, "unconfined", true, &p, &why, msg), -EINVAL);
}

/* ---- SELinux ---- */

static void selinux_options(void **state)
{
        struct lsm_selinux_opts o = { 0 };
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_int_equal(lsm_selinux_opts_add(&o, "type:spc_t", &err), 0);
        assert_int_equal(lsm_selinux_opts_add(&o, "level:s0:c1,c2", &err), 0);
        assert_int_equal(lsm_selinux_opts_add(&o, "user:u,role:r,filetype:ft_t", &err), 0);
        assert_string_equal(o.type, "spc_t");
        assert_string_equal(o.level, "s0:c1,c2");
        assert_string_equal(o.user, "u");
        assert_string_equal(o.role, "r");
        assert_string_equal(o.filetype, "ft_t");
        assert_true(lsm_selinux_opts_any(&o));
        /* the comma list form: a piece naming no key continues the level */
        assert_int_equal(lsm_selinux_opts_add(&o, "type:t2,level:s0:c5,c6,user:u2", &err), 0);
        assert_string_equal(o.type, "t2");
        assert_string_equal(o.level, "s0:c5,c6");
        assert_string_equal(o.user, "u2");
        static const char *const bad[] = { "type:", "bogus:x", "c1,type:t", "type:a b", "level:s0\"", "Type:t", "" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                herror_clear(&err);
                if (lsm_selinux_opts_add(&o, bad[i], &err) >= 0 && bad[i][0])
                        fail_msg("label=%s accepted", bad[i]);
        }
        herror_clear(&err);
        assert_true(lsm_selinux_opts_add(&o, "disable", &err) < 0); /* with parts already given */
        lsm_selinux_opts_done(&o);
        assert_int_equal(lsm_selinux_opts_add(&o, "disable", &err), 0);
        assert_true(o.disable);
        assert_false(lsm_selinux_opts_any(&o));
        assert_true(lsm_selinux_opts_add(&o, "type:t", &err) < 0);
        lsm_selinux_opts_done(&o);
}

static void selinux_label_strings(void **state)
{
        char buf[LSM_LABEL_MAX];
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_int_equal(
                lsm_selinux_label_build(LSM_SELINUX_PROCESS_BASE, NULL, NULL, NULL, "s0:c1,c2", buf, sizeof buf, &err),
                0);
        assert_string_equal(buf, "system_u:system_r:container_t:s0:c1,c2");
        assert_int_equal(
                lsm_selinux_label_build(LSM_SELINUX_PROCESS_BASE, "u", "r", "spc_t", NULL, buf, sizeof buf, &err), 0);
        assert_string_equal(buf, "u:r:spc_t:s0");
        /* a base level with colons is kept whole, or replaced whole */
        assert_int_equal(lsm_selinux_label_build("a:b:c:s0-s0:c0.c1023", NULL, NULL, NULL, NULL, buf, sizeof buf, &err),
                         0);
        assert_string_equal(buf, "a:b:c:s0-s0:c0.c1023");
        assert_int_equal(lsm_selinux_label_build("a:b:c:s0-s0:c0.c1023", NULL, NULL, "t", "s0", buf, sizeof buf, &err),
                         0);
        assert_string_equal(buf, "a:b:t:s0");
        /* no level in the base (an MLS-less policy): none added unless given */
        assert_int_equal(lsm_selinux_label_build("a:b:c", NULL, NULL, NULL, NULL, buf, sizeof buf, &err), 0);
        assert_string_equal(buf, "a:b:c");
        assert_true(lsm_selinux_label_build("a:b", NULL, NULL, NULL, NULL, buf, sizeof buf, &err) < 0);
        assert_true(lsm_selinux_label_build("a::c:s0", NULL, NULL, NULL, NULL, buf, sizeof buf, &err) < 0);
        char small[8];
        assert_true(lsm_selinux_label_build(LSM_SELINUX_PROCESS_BASE, NULL, NULL, NULL, NULL, small, sizeof small,
                                            &err) < 0);
}

static void mcs_levels(void **state)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        bool seen_low = false, seen_high = false;
        char first[32] = "";
        bool varied = false;
        for (int i = 0; i < 4000; i++) {
                char buf[32], tail;
                unsigned a, b;
                assert_int_equal(lsm_mcs_pick(buf, sizeof buf, &err), 0);
                if (sscanf(buf, "s0:c%u,c%u%c", &a, &b, &tail) != 2)
                        fail_msg("not s0:cA,cB: %s", buf);
                if (!(a < b && b <= 1023))
                        fail_msg("out of order or range: %s", buf);
                seen_low |= a < 100;
                seen_high |= b > 923;
                if (!first[0])
                        snprintf(first, sizeof first, "%s", buf);
                varied |= !streq(first, buf);
        }
        assert_true(seen_low && seen_high && varied);
}

static int se(const struct lsm_host *h, const struct lsm_selinux_opts *o, bool required, char **proc, char **mount,
              const char **why, char *msg)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        int r = lsm_selinux_select(h, o, required, proc, mount, why, &err);
        snprintf(msg, 256, "%s", herror_msg(&err));
        return r;
}

static void selinux_selection(void **state)
{
        struct lsm_host off = { 0 }, permissive = { .selinux = true },
                        no_type = { .selinux = true, .selinux_enforcing = true },
                        on = { .selinux = true, .selinux_enforcing = true, .selinux_container_type = true };
        snprintf(on.selinux_process_base, sizeof on.selinux_process_base, "%s", LSM_SELINUX_PROCESS_BASE);
        snprintf(on.selinux_file_base, sizeof on.selinux_file_base, "%s", LSM_SELINUX_FILE_BASE);
        permissive = (struct lsm_host) { .selinux = true };
        memcpy(permissive.selinux_process_base, on.selinux_process_base, sizeof on.selinux_process_base);
        memcpy(permissive.selinux_file_base, on.selinux_file_base, sizeof on.selinux_file_base);
        struct lsm_selinux_opts none = { 0 }, asked = { .type = (char *) "spc_t" },
                                levelled = { .level = (char *) "s0:c7,c9" }, disabled = { .disable = true };
        char *proc = NULL, *mount = NULL, msg[256];
        const char *why = NULL;
        if (!HAVE_SELINUX) {
                assert_int_equal(se(&on, &asked, false, &proc, &mount, &why, msg), -EOPNOTSUPP);
                assert_non_null(strstr(msg, "without libselinux"));
                skip();
        }
        /* the default: container_t with a random level, the same level on the mount label */
        assert_int_equal(se(&on, &none, false, &proc, &mount, &why, msg), 0);
        unsigned a, b, c, d;
        assert_int_equal(sscanf(proc, "system_u:system_r:container_t:s0:c%u,c%u", &a, &b), 2);
        assert_int_equal(sscanf(mount, "system_u:object_r:container_file_t:s0:c%u,c%u", &c, &d), 2);
        assert_true(a == c && b == d && a < b);
        free(proc);
        free(mount);
        /* not enforcing, or no container type: nothing by default, and why */
        assert_int_equal(se(&permissive, &none, false, &proc, &mount, &why, msg), 0);
        assert_null(proc);
        assert_non_null(strstr(why, "permissive"));
        assert_int_equal(se(&no_type, &none, false, &proc, &mount, &why, msg), 0);
        assert_non_null(strstr(why, "container type"));
        assert_int_equal(se(&off, &none, false, &proc, &mount, &why, msg), 0);
        assert_non_null(strstr(why, "not enabled"));
        assert_int_equal(se(&off, &none, true, &proc, &mount, &why, msg), -EOPNOTSUPP);
        assert_non_null(strstr(msg, "require=selinux"));
        assert_int_equal(se(&permissive, &none, true, &proc, &mount, &why, msg), -EOPNOTSUPP);
        /* asked for: applied wherever SELinux is enabled, an error where it is not */
        assert_int_equal(se(&permissive, &asked, false, &proc, &mount, &why, msg), 0);
        assert_int_equal(strncmp(proc, "system_u:system_r:spc_t:s0:c", 28), 0);
        free(proc);
        free(mount);
        assert_int_equal(se(&on, &levelled, false, &proc, &mount, &why, msg), 0);
        assert_string_equal(proc, "system_u:system_r:container_t:s0:c7,c9");
        assert_string_equal(mount, "system_u:object_r:container_file_t:s0:c7,c9");
        free(proc);
        free(mount);
        assert_int_equal(se(&off, &asked, false, &proc, &mount, &why, msg), -EOPNOTSUPP);
        assert_non_null(strstr(msg, "label="));
        assert_null(proc);
        assert_null(mount);
        /* disable: nothing, unless required */
        assert_int_equal(se(&on, &disabled, false, &proc, &mount, &why, msg), 0);
        assert_null(proc);
        assert_null(why);
        assert_int_equal(se(&on, &disabled, true, &proc, &mount, &why, msg), -EINVAL);
}

/* ---- this host (neither LSM active): what was asked for fails closed, defaults are reported ---- */

static void this_host_fails_closed(void **state)
{
        struct lsm_host h;
        lsm_probe(&h);
        char *p = NULL, *m = NULL, msg[256];
        const char *why = NULL;
        if (!h.apparmor) {
                assert_int_equal(aa(&h, "hutch-default", false, &p, &why, msg), -EOPNOTSUPP);
                assert_int_equal(aa(&h, NULL, true, &p, &why, msg), -EOPNOTSUPP);
                assert_int_equal(aa(&h, NULL, false, &p, &why, msg), 0);
                assert_non_null(why);
        }
        if (!h.selinux) {
                struct lsm_selinux_opts asked = { .type = (char *) "container_t" };
                assert_int_equal(se(&h, &asked, false, &p, &m, &why, msg), -EOPNOTSUPP);
                assert_int_equal(se(&h, &(struct lsm_selinux_opts) { 0 }, true, &p, &m, &why, msg), -EOPNOTSUPP);
                assert_int_equal(se(&h, &(struct lsm_selinux_opts) { 0 }, false, &p, &m, &why, msg), 0);
                assert_null(p);
                assert_non_null(why);
        }
        if (h.apparmor && h.selinux)
                skip();
}

static void no_labels_is_a_no_op(void **state)
{
        struct spec_process p = { 0 };
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_int_equal(lsm_apply_exec_labels(&p, -1, &err), 0);
        char empty[] = "";
        p.apparmor_profile = empty;
        p.selinux_label = empty;
        assert_int_equal(lsm_apply_exec_labels(&p, -1, &err), 0);
}

/* Before the clone: what the spec asks for is checked against this host, naming what cannot be had. */
static void spec_labels_checked_against_this_host(void **state)
{
        struct lsm_host h;
        lsm_probe(&h);
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct spec s = { 0 };
        assert_int_equal(lsm_check_host(&s, &err), 0);
        char unconfined[] = "unconfined", prof[] = "hutch-default", label[] = "system_u:system_r:container_t:s0:c1,c2";
        s.process.apparmor_profile = unconfined;
        assert_int_equal(lsm_check_host(&s, &err), 0);
        if (!h.apparmor) {
                s.process.apparmor_profile = prof;
                assert_int_equal(lsm_check_host(&s, &err), -EOPNOTSUPP);
                assert_non_null(strstr(herror_msg(&err), "\"hutch-default\" asked for, but AppArmor is not active"));
                /* the kernel's answer when asked directly agrees */
                assert_true(lsm_apparmor_profile_check("hutch-default") < 0);
                s.process.apparmor_profile = NULL;
        }
        if (!h.selinux) {
                herror_clear(&err);
                s.process.selinux_label = label;
                assert_int_equal(lsm_check_host(&s, &err), -EOPNOTSUPP);
                assert_non_null(strstr(herror_msg(&err), "container_t"));
                s.process.selinux_label = NULL;
                s.mount_label = label;
                assert_int_equal(lsm_check_host(&s, &err), -EOPNOTSUPP);
                assert_non_null(strstr(herror_msg(&err), "mount label"));
        }
        if (h.apparmor && h.selinux)
                skip();
}

/* In the child the label write itself is the check; without hutch's private procfs it fails closed. */
static void exec_labels_fail_closed_without_private_proc(void **state)
{
        char prof[] = "hutch-default", label[] = "system_u:system_r:container_t:s0:c1,c2";
        struct spec_process p = { .apparmor_profile = prof };
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_int_equal(lsm_apply_exec_labels(&p, -1, &err), -EOPNOTSUPP);
        assert_non_null(strstr(herror_msg(&err), "procfs"));
        p = (struct spec_process) { .selinux_label = label };
        herror_clear(&err);
        assert_true(lsm_apply_exec_labels(&p, -1, &err) < 0);
}

/* ---- mounts and volumes ---- */

static void mount_context_on_tmpfs_and_mqueue(void **state)
{
        struct spec s = { 0 };
        assert_null(rootfs_mount_context(&s, "tmpfs"));
        char label[] = "system_u:object_r:container_file_t:s0:c1,c2";
        s.mount_label = label;
        assert_string_equal(rootfs_mount_context(&s, "tmpfs"), label);
        assert_string_equal(rootfs_mount_context(&s, "mqueue"), label);
        assert_null(rootfs_mount_context(&s, "proc"));
        assert_null(rootfs_mount_context(&s, "sysfs"));
        assert_null(rootfs_mount_context(&s, NULL));
}

static void relabel_refusals(void **state)
{
        static const char *const refused[] = { "/",       "/etc",    "/usr",      "/usr/share/x", "/etc/ssl",
                                               "/home",   "/root",   "/var",      "/var/lib",     "/tmp",
                                               "/proc/1", "/sys/fs", "/boot/efi", "/home/u" };
        for (size_t i = 0; i < ELEMENTSOF(refused); i++)
                if (!lsm_relabel_refused(refused[i], "/home/u"))
                        fail_msg("%s would be relabelled", refused[i]);
        static const char *const allowed[] = { "/home/u/data", "/srv/app", "/var/lib/app", "/tmp/x", "/data", "/usrx" };
        for (size_t i = 0; i < ELEMENTSOF(allowed); i++)
                if (lsm_relabel_refused(allowed[i], "/home/u"))
                        fail_msg("%s refused", allowed[i]);
        assert_false(lsm_relabel_refused("/home/u", NULL));
}

static void relabel_without_selinux_is_a_no_op(void **state)
{
        struct lsm_host off = { 0 };
        _cleanup_herror_ struct herror err = HERROR_INIT;
        /* podman: :z on a host without SELinux does nothing, even on a path it would refuse */
        assert_int_equal(lsm_relabel_tree(&off, "/etc", "system_u:object_r:container_file_t:s0", &err), 0);
        struct lsm_host on = { .selinux = true };
        if (HAVE_SELINUX) {
                assert_int_equal(lsm_relabel_tree(&on, "/etc", "system_u:object_r:container_file_t:s0", &err), -EPERM);
                assert_non_null(strstr(herror_msg(&err), "/etc"));
        }
}

static bool label_is(const char *path, const char *want)
{
        char got[LSM_LABEL_MAX] = "";
        ssize_t n = lgetxattr(path, "security.selinux", got, sizeof got - 1);
        if (n <= 0)
                return false;
        got[n] = 0;
        return streq(got, want);
}

/* The walk writes security.selinux itself; where SELinux is off only root may (CAP_SYS_ADMIN), and the
 * kernel stores the label as given. */
static void relabel_walk_stays_inside(void **state)
{
        if (!HAVE_SELINUX || geteuid() != 0)
                skip();
        char top[] = "/tmp/hutch-relabel-XXXXXX", outside[] = "/tmp/hutch-relabel-out-XXXXXX";
        assert_non_null(mkdtemp(top));
        int ofd = mkstemp(outside);
        assert_true(ofd >= 0);
        close(ofd);
        char sub[128], file[128], link[128];
        snprintf(sub, sizeof sub, "%s/sub", top);
        snprintf(file, sizeof file, "%s/sub/f", top);
        snprintf(link, sizeof link, "%s/sub/l", top);
        assert_int_equal(mkdir(sub, 0755), 0);
        int fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(symlink(outside, link), 0);
        const char *label = "system_u:object_r:container_file_t:s0:c1,c2";
        _cleanup_herror_ struct herror err = HERROR_INIT;
        int r = lsm_relabel_walk(top, label, &err);
        if (r == -EOPNOTSUPP || r == -ENOTSUP) {
                /* a /tmp without security xattrs */
                fail_msg("%s", herror_msg(&err));
        }
        assert_int_equal(r, 0);
        assert_true(label_is(top, label));
        assert_true(label_is(sub, label));
        assert_true(label_is(file, label));
        assert_true(label_is(link, label));     /* the link itself */
        assert_false(label_is(outside, label)); /* never what it points to */
        char cmd[256];
        snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", top, outside);
        assert_int_equal(system(cmd), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(require_list),
                cmocka_unit_test(apparmor_selection),
                cmocka_unit_test(selinux_options),
                cmocka_unit_test(selinux_label_strings),
                cmocka_unit_test(mcs_levels),
                cmocka_unit_test(selinux_selection),
                cmocka_unit_test(this_host_fails_closed),
                cmocka_unit_test(no_labels_is_a_no_op),
                cmocka_unit_test(spec_labels_checked_against_this_host),
                cmocka_unit_test(exec_labels_fail_closed_without_private_proc),
                cmocka_unit_test(mount_context_on_tmpfs_and_mqueue),
                cmocka_unit_test(relabel_refusals),
                cmocka_unit_test(relabel_without_selinux_is_a_no_op),
                cmocka_unit_test(relabel_walk_stays_inside),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
