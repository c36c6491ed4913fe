/* Landlock: the rules file format (refusals name the file and the field), and the rules enforced for
 * real in a child at every ABI from 1 to the kernel's, so the lowering of rights is exercised on this
 * kernel rather than assumed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/kernel.h"
#include "sandbox/landlock.h"
#include "spec/spec.h"

static int parse(const char *json, struct spec_landlock_rules **ret, char *msg, size_t size)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        *ret = NULL;
        int r = spec_parse_landlock_rules(json, strlen(json), "rules.json", ret, &err);
        snprintf(msg, size, "%s", herror_msg(&err));
        return r;
}

static void parses_paths_ports_and_extends(void **state)
{
        struct spec_landlock_rules *r = NULL;
        char msg[512];
        assert_int_equal(parse("{\"comment\":\"x\",\"extends\":\"default\",\"paths\":["
                               "{\"path\":\"/srv\",\"access\":[\"read\",\"write\"]},"
                               "{\"path\":\"/opt/tool\",\"access\":[\"execute\",\"read\"],\"comment\":\"y\"}],"
                               "\"tcp\":{\"bind\":[8080],\"connect\":[80,443]}}",
                               &r, msg, sizeof msg),
                         0);
        assert_true(r->extends_default);
        assert_int_equal(r->n_paths, 2);
        assert_string_equal(r->paths[0].path, "/srv");
        assert_int_equal(r->paths[0].access, SPEC_LANDLOCK_READ | SPEC_LANDLOCK_WRITE);
        assert_int_equal(r->paths[1].access, SPEC_LANDLOCK_READ | SPEC_LANDLOCK_EXECUTE);
        assert_int_equal(r->n_tcp_bind, 1);
        assert_int_equal(r->tcp_bind[0], 8080);
        assert_int_equal(r->n_tcp_connect, 2);
        assert_int_equal(r->tcp_connect[1], 443);
        spec_landlock_rules_free(r);
        assert_int_equal(parse("{\"extends\":\"none\"}", &r, msg, sizeof msg), 0);
        assert_false(r->extends_default);
        assert_int_equal(r->n_paths, 0);
        spec_landlock_rules_free(r);
}

static void refuses_bad_files(void **state)
{
        static const struct {
                const char *json, *want;
        } bad[] = {
                { "{}", ".extends: required property missing" },
                { "{\"extends\":\"all\"}", "neither \"default\" nor \"none\"" },
                { "{\"extends\":\"none\",\"bogus\":1}", ".bogus: unknown property" },
                { "{\"extends\":\"none\",\"paths\":[{\"path\":\"srv\",\"access\":[\"read\"]}]}",
                  "must be an absolute path" },
                { "{\"extends\":\"none\",\"paths\":[{\"path\":\"/a/../b\",\"access\":[\"read\"]}]}", "without \"..\"" },
                { "{\"extends\":\"none\",\"paths\":[{\"path\":\"/a\",\"access\":[\"rw\"]}]}", ".paths[0].access[0]" },
                { "{\"extends\":\"none\",\"paths\":[{\"path\":\"/a\",\"access\":[]}]}", "grants nothing" },
                { "{\"extends\":\"none\",\"paths\":[{\"path\":\"/a\"}]}",
                  ".paths[0].access: required property missing" },
                { "{\"extends\":\"none\",\"paths\":[{\"path\":\"/a\",\"access\":[\"read\"],\"mode\":1}]}",
                  ".paths[0].mode" },
                { "{\"extends\":\"none\",\"tcp\":{\"bind\":[0]}}", ".tcp.bind[0]: expected a TCP port" },
                { "{\"extends\":\"none\",\"tcp\":{\"connect\":[65536]}}", ".tcp.connect[0]" },
                { "{\"extends\":\"none\",\"tcp\":{\"listen\":[80]}}", ".tcp.listen: unknown property" },
                { "{\"extends\":\"none\",\"extends\":\"default\"}", "duplicate" },
                { "[1]", "expected an object" },
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                struct spec_landlock_rules *r = NULL;
                char msg[512];
                assert_true(parse(bad[i].json, &r, msg, sizeof msg) < 0);
                assert_null(r);
                if (!strstr(msg, bad[i].want) || !strstr(msg, "rules.json"))
                        fail_msg("%s: got \"%s\", want \"%s\"", bad[i].json, msg, bad[i].want);
        }
        /* more than the limit of rules */
        size_t cap = 64 + 40 * (SPEC_LANDLOCK_MAX_PATHS + 1);
        char *big = malloc(cap);
        size_t len = (size_t) snprintf(big, cap, "{\"extends\":\"none\",\"paths\":[");
        for (int i = 0; i <= SPEC_LANDLOCK_MAX_PATHS; i++)
                len += (size_t) snprintf(big + len, cap - len, "%s{\"path\":\"/a\",\"access\":[\"read\"]}",
                                         i ? "," : "");
        snprintf(big + len, cap - len, "]}");
        struct spec_landlock_rules *r = NULL;
        char msg[512];
        assert_true(parse(big, &r, msg, sizeof msg) < 0);
        assert_non_null(strstr(msg, "more than"));
        free(big);
}

static void example_profiles_parse(void **state)
{
        const char *src = getenv("HUTCH_SOURCE_DIR");
        static const char *const names[] = { "proc-writable.json", "loopback-tcp.json", "strict.json" };
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
                char path[4096];
                snprintf(path, sizeof path, "%s/profiles/landlock/%s", src ? src : "..", names[i]);
                struct spec_landlock_rules *r = NULL;
                _cleanup_herror_ struct herror err = HERROR_INIT;
                if (spec_load_landlock_rules(AT_FDCWD, path, &r, &err) < 0)
                        fail_msg("%s", herror_msg(&err));
                spec_landlock_rules_free(r);
        }
}

/* ---- enforcement ---- */

static char base[] = "/tmp/hutch-landlock-XXXXXX";
static char rw_dir[128], other_dir[128];

static int setup_dirs(void **state)
{
        if (!mkdtemp(base))
                return -1;
        snprintf(rw_dir, sizeof rw_dir, "%s/rw", base);
        snprintf(other_dir, sizeof other_dir, "%s/other", base);
        return mkdir(rw_dir, 0755) < 0 || mkdir(other_dir, 0755) < 0 ? -1 : 0;
}

static int teardown_dirs(void **state)
{
        char cmd[256];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
        return system(cmd) == 0 ? 0 : -1;
}

/* In a child restricted at abi: 0 when the file could be created, else the errno. */
static int try_create(const struct spec *s, int abi, const char *dir)
{
        pid_t pid = fork();
        if (pid == 0) {
                _cleanup_herror_ struct herror err = HERROR_INIT;
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || landlock_restrict_at_abi(s, abi, &err) < 0)
                        _exit(200);
                char path[256];
                snprintf(path, sizeof path, "%s/f%d", dir, abi);
                int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                _exit(fd < 0 ? errno : 0);
        }
        int status;
        waitpid(pid, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

/* The shape of a read-only-root container with one writable bind mount at rw_dir. */
static void fake_container(struct spec *s, struct spec_mount *m)
{
        *m = (struct spec_mount) { .destination = rw_dir, .type = (char *) "bind", .bind = true };
        *s = (struct spec) { .root_readonly = true, .mounts = m, .n_mounts = 1 };
}

static void default_rules_at_every_abi(void **state)
{
        int top = kernel_landlock_abi();
        if (top <= 0)
                skip();
        struct spec s;
        struct spec_mount m;
        fake_container(&s, &m);
        for (int abi = 1; abi <= top && abi <= LANDLOCK_ABI_NEWEST; abi++) {
                if (try_create(&s, abi, rw_dir) != 0)
                        fail_msg("ABI %d: the writable mount cannot be written", abi);
                if (try_create(&s, abi, other_dir) != EACCES)
                        fail_msg("ABI %d: a path outside the writable set was written", abi);
        }
}

static void rules_file_widens_and_narrows(void **state)
{
        if (kernel_landlock_abi() <= 0)
                skip();
        struct spec s;
        struct spec_mount m;
        fake_container(&s, &m);
        struct spec_landlock_path p = { .path = other_dir, .access = SPEC_LANDLOCK_READ | SPEC_LANDLOCK_WRITE };
        struct spec_landlock_rules widen = { .extends_default = true, .paths = &p, .n_paths = 1 };
        s.landlock_rules = &widen;
        assert_int_equal(try_create(&s, kernel_landlock_abi(), other_dir), 0);
        assert_int_equal(try_create(&s, kernel_landlock_abi(), rw_dir), 0);
        /* none: the default's writable mount is gone, only the file's path stays */
        struct spec_landlock_rules only = { .extends_default = false, .paths = &p, .n_paths = 1 };
        s.landlock_rules = &only;
        assert_int_equal(try_create(&s, kernel_landlock_abi(), other_dir), 0);
        assert_int_equal(try_create(&s, kernel_landlock_abi(), rw_dir), EACCES);
        /* a rule for a path that is not there grants nothing and is no error */
        struct spec_landlock_path gone = { .path = (char *) "/nonexistent/hutch", .access = SPEC_LANDLOCK_WRITE };
        struct spec_landlock_rules missing = { .extends_default = true, .paths = &gone, .n_paths = 1 };
        s.landlock_rules = &missing;
        assert_int_equal(try_create(&s, kernel_landlock_abi(), other_dir), EACCES);
}

static void abi_hint_names_what_is_missing(void **state)
{
        char buf[512];
        landlock_abi_hint(LANDLOCK_ABI_NEWEST, buf, sizeof buf);
        assert_string_equal(buf, "");
        landlock_abi_hint(LANDLOCK_ABI_NEWEST + 1, buf, sizeof buf);
        assert_string_equal(buf, "");
        landlock_abi_hint(3, buf, sizeof buf);
        assert_non_null(strstr(buf, "ABI is 3"));
        assert_non_null(strstr(buf, "TCP bind and connect"));
        assert_null(strstr(buf, "truncate"));
        landlock_abi_hint(1, buf, sizeof buf);
        assert_non_null(strstr(buf, "refer"));
        assert_non_null(strstr(buf, "update the kernel"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(parses_paths_ports_and_extends), cmocka_unit_test(refuses_bad_files),
                cmocka_unit_test(example_profiles_parse),         cmocka_unit_test(default_rules_at_every_abi),
                cmocka_unit_test(rules_file_widens_and_narrows),  cmocka_unit_test(abi_hint_names_what_is_missing),
        };
        return cmocka_run_group_tests(tests, setup_dirs, teardown_dirs);
}
