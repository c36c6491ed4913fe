/* config.json parsing and validation: every rejection names the JSON path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <linux/capability.h>

#include "spec/build.h"
#include "spec/spec.h"

#define BASE_PROCESS "\"process\":{\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"sh\"],\"cwd\":\"/\"}"
#define USERNS                                                                  \
        "\"linux\":{\"namespaces\":[{\"type\":\"user\"},{\"type\":\"mount\"}]," \
        "\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],"     \
        "\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}]}"

static struct spec *parse_ok(const char *json)
{
        struct spec *s = NULL;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        int r = spec_parse(json, strlen(json), "config.json", &s, &err);
        if (r < 0)
                fail_msg("unexpected parse error: %s", herror_msg(&err));
        return s;
}

/* Returns the error message (static buffer) of a parse that must fail. */
static const char *parse_fail(const char *json)
{
        static char msg[1024];
        struct spec *s = NULL;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        int r = spec_parse(json, strlen(json), "config.json", &s, &err);
        if (r >= 0) {
                spec_free(s);
                fail_msg("parse unexpectedly succeeded: %s", json);
        }
        snprintf(msg, sizeof msg, "%s", herror_msg(&err));
        return msg;
}

static const char *validate_fail(const char *json, bool rootless)
{
        static char msg[1024];
        _cleanup_spec_ struct spec *s = parse_ok(json);
        _cleanup_herror_ struct herror err = HERROR_INIT;
        if (spec_validate(s, rootless, &err) >= 0)
                fail_msg("validation unexpectedly succeeded: %s", json);
        snprintf(msg, sizeof msg, "%s", herror_msg(&err));
        return msg;
}

#define assert_contains(hay, needle)                                                 \
        do {                                                                         \
                if (!strstr((hay), (needle)))                                        \
                        fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle)); \
        } while (0)

static void parses_full_config(void **state)
{
        const char *j =
                "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
                "\"hostname\":\"h\",\"unknownTopLevel\":{\"ignored\":1},"
                "\"process\":{\"terminal\":false,\"user\":{\"uid\":1,\"gid\":2,\"umask\":18,\"additionalGids\":[5,6]},"
                "\"args\":[\"sh\",\"-c\",\"true\"],\"env\":[\"A=b\"],\"cwd\":\"/tmp\",\"noNewPrivileges\":true,"
                "\"capabilities\":{\"bounding\":[\"CAP_CHOWN\",\"CAP_KILL\"],\"effective\":[\"CAP_KILL\"],\"permitted\":[\"CAP_KILL\"]},"
                "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":100,\"hard\":200}],\"oomScoreAdj\":100},"
                "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
                "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
                "{\"destination\":\"/data\",\"source\":\"/srv\",\"options\":[\"rbind\",\"ro\",\"rprivate\"]}],"
                "\"linux\":{\"namespaces\":[{\"type\":\"user\"},{\"type\":\"mount\"},{\"type\":\"pid\"},{\"type\":\"uts\"},{\"type\":\"network\"}],"
                "\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1},{\"containerID\":1,\"hostID\":100000,\"size\":65536}],"
                "\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":65537}],"
                "\"maskedPaths\":[\"/proc/kcore\"],\"readonlyPaths\":[\"/proc/sys\"],"
                "\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"},"
                "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,\"architectures\":[\"SCMP_ARCH_X86_64\"],"
                "\"syscalls\":[{\"names\":[\"read\",\"write\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                "{\"names\":[\"clone\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":2114060288,\"valueTwo\":0,\"op\":\"SCMP_CMP_MASKED_EQ\"}]}]}}}";
        _cleanup_spec_ struct spec *s = parse_ok(j);
        assert_string_equal(s->root_path, "rootfs");
        assert_true(s->root_readonly);
        assert_int_equal(s->process.uid, 1);
        assert_int_equal(s->process.gid, 2);
        assert_true(s->process.has_umask);
        assert_int_equal(s->process.umask, 022);
        assert_int_equal(s->process.n_additional_gids, 2);
        assert_int_equal(s->process.additional_gids[1], 6);
        assert_string_equal(s->process.args[2], "true");
        assert_true(s->process.no_new_privileges);
        assert_true(s->process.caps[CAPSET_BOUNDING] == ((1ULL << CAP_CHOWN) | (1ULL << CAP_KILL)));
        assert_true(s->process.caps[CAPSET_INHERITABLE] == 0);
        assert_int_equal(s->process.n_rlimits, 1);
        assert_int_equal(s->process.rlimits[0].resource, RLIMIT_NOFILE);
        assert_int_equal(s->process.rlimits[0].hard, 200);
        assert_int_equal(s->n_mounts, 3);
        assert_true(s->mounts[1].flags & MS_NOSUID);
        assert_true(s->mounts[1].flags & MS_STRICTATIME);
        assert_string_equal(s->mounts[1].data, "mode=755,size=65536k");
        assert_true(s->mounts[2].bind && s->mounts[2].recursive);
        assert_true(s->mounts[2].flags & MS_RDONLY);
        assert_true(s->mounts[2].propagation == (MS_PRIVATE | MS_REC));
        assert_true(s->namespaces[NS_PID].enabled);
        assert_true(s->namespaces[NS_NET].enabled);
        assert_false(s->namespaces[NS_IPC].enabled);
        assert_int_equal(s->n_uid_mappings, 2);
        assert_int_equal(s->uid_mappings[1].host_id, 100000);
        assert_int_equal(s->n_sysctl, 1);
        assert_non_null(s->seccomp);
        assert_int_equal(s->seccomp->default_action, SECCOMP_ACT_ERRNO);
        assert_int_equal(s->seccomp->default_errno_ret, 38);
        assert_int_equal(s->seccomp->n_rules, 2);
        assert_int_equal(s->seccomp->rules[1].args[0].op, SECCOMP_OP_MASKED_EQ);
        _cleanup_herror_ struct herror err = HERROR_INIT;
        if (spec_validate(s, false, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        /* the same config without its network namespace may not set a net.* sysctl */
        s->namespaces[NS_NET].enabled = false;
        assert_true(spec_validate(s, false, &err) < 0);
        assert_non_null(strstr(herror_msg(&err), "net.ipv4.ip_forward"));
}

static void rejects_bad_json(void **state)
{
        assert_contains(parse_fail("{\"ociVersion\":\"1.0.0\",\"ociVersion\":\"1.0.0\"}"), "config.json");
        assert_contains(parse_fail("{\"ociVersion\":\"1.0.0\"} trailing"), "config.json");
        assert_contains(parse_fail("[1]"), "config.json");
}

static void rejects_wrong_types_with_path(void **state)
{
        assert_contains(parse_fail("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},"
                                   "\"process\":{\"user\":{\"uid\":\"0\",\"gid\":0},\"cwd\":\"/\"}}"),
                        ".process.user.uid");
        assert_contains(parse_fail("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},"
                                   "\"process\":{\"user\":{\"uid\":4294967296,\"gid\":0},\"cwd\":\"/\"}}"),
                        ".process.user.uid");
        assert_contains(parse_fail("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},"
                                   "\"process\":{\"user\":{\"uid\":-1,\"gid\":0},\"cwd\":\"/\"}}"),
                        ".process.user.uid");
        /* jansson refuses NUL escapes already; json_dispatch_string checks again behind it */
        assert_contains(parse_fail("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\\u0000x\"}," BASE_PROCESS "}"),
                        "config.json: line 1");
        assert_contains(
                parse_fail(
                        "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"process\":{\"user\":{\"uid\":0,\"gid\":0},"
                        "\"cwd\":\"/\",\"args\":[\"a\",3]}}"),
                ".process.args[1]");
        assert_contains(parse_fail("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"}}"), ".process");
}

static void rejects_unsupported_features(void **state)
{
        assert_contains(parse_fail("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"}," BASE_PROCESS
                                   ",\"linux\":{\"personality\":{\"domain\":\"LINUX\"}}}"),
                        ".linux.personality: not supported");
        assert_contains(parse_fail("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"}," BASE_PROCESS
                                   ",\"hooks\":{\"prestart\":[{\"path\":\"/bin/true\"}]}}"),
                        ".hooks.prestart");
        _cleanup_spec_ struct spec *s = parse_ok("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"}," BASE_PROCESS
                                                 ",\"hooks\":{\"prestart\":[]}}");
        assert_non_null(s);
        assert_contains(parse_fail("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"}," BASE_PROCESS
                                   ",\"mounts\":[{\"destination\":\"/x\",\"type\":\"tmpfs\",\"options\":[\"rro\"]}]}"),
                        ".mounts[0].options[0]");
        assert_contains(
                parse_fail(
                        "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"process\":{\"user\":{\"uid\":0,\"gid\":0},"
                        "\"cwd\":\"/\",\"capabilities\":{\"bounding\":[\"CAP_NOPE\"]}}}"),
                ".process.capabilities.bounding[0]");
        assert_contains(parse_fail("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"}," BASE_PROCESS
                                   ",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_BOOM\"}}}"),
                        ".linux.seccomp.defaultAction");
        assert_contains(
                parse_fail("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"}," BASE_PROCESS
                           ",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"BOGUS\"]}}}"),
                ".linux.seccomp.flags[0]");
        assert_contains(parse_fail("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"}," BASE_PROCESS
                                   ",\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"pid\"}]}}"),
                        "listed twice");
        assert_contains(
                parse_fail(
                        "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"process\":{\"user\":{\"uid\":0,\"gid\":0},"
                        "\"cwd\":\"/\",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":2,\"hard\":1}]}}"),
                "soft limit");
}

static void validation_rules(void **state)
{
        /* rootless needs a user namespace */
        assert_contains(validate_fail("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"}," BASE_PROCESS
                                      ",\"linux\":{\"namespaces\":[{\"type\":\"mount\"}]}}",
                                      true),
                        "user namespace");
        assert_contains(
                validate_fail("{\"ociVersion\":\"2.0.0\",\"root\":{\"path\":\"r\"}," BASE_PROCESS "," USERNS "}", true),
                "ociVersion");
        assert_contains(
                validate_fail("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},"
                              "\"process\":{\"user\":{\"uid\":5,\"gid\":0},\"args\":[\"sh\"],\"cwd\":\"/\"}," USERNS
                              "}",
                              true),
                ".process.user.uid: 5 is not mapped");
        assert_contains(
                validate_fail("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},"
                              "\"process\":{\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"sh\"],\"cwd\":\"tmp\"}," USERNS
                              "}",
                              true),
                ".process.cwd");
        assert_contains(validate_fail("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"}," BASE_PROCESS ","
                                      "\"mounts\":[{\"destination\":\"/a/../../etc\",\"type\":\"tmpfs\"}]," USERNS "}",
                                      true),
                        ".mounts[0].destination");
        assert_contains(validate_fail("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"}," BASE_PROCESS
                                      ",\"hostname\":\"x\"," USERNS "}",
                                      true),
                        ".hostname");
        assert_contains(
                validate_fail(
                        "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"}," BASE_PROCESS ","
                        "\"linux\":{\"namespaces\":[{\"type\":\"user\"},{\"type\":\"mount\"}],"
                        "\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":10},{\"containerID\":5,\"hostID\":5000,\"size\":1}],"
                        "\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}]}}",
                        true),
                "overlaps");
        assert_contains(validate_fail("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"}," BASE_PROCESS ","
                                      "\"linux\":{\"namespaces\":[{\"type\":\"user\"},{\"type\":\"mount\"}],"
                                      "\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],"
                                      "\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],"
                                      "\"sysctl\":{\"vm.swappiness\":\"1\"}}}",
                                      true),
                        "vm.swappiness");
        /* cpu settings hutch does not apply are refused, not skipped; their zero values are no setting */
        assert_contains(parse_fail("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"}," BASE_PROCESS ","
                                   "\"linux\":{\"resources\":{\"cpu\":{\"shares\":512}}}}"),
                        ".linux.resources.cpu.shares: not supported by hutch");
        assert_contains(parse_fail("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"}," BASE_PROCESS ","
                                   "\"linux\":{\"resources\":{\"cpu\":{\"cpus\":\"0-1\",\"shares\":0}}}}"),
                        ".linux.resources.cpu.cpus: not supported by hutch");
        assert_contains(validate_fail("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"}," BASE_PROCESS ","
                                      "\"linux\":{\"namespaces\":[{\"type\":\"user\"},{\"type\":\"mount\"}],"
                                      "\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],"
                                      "\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],"
                                      "\"resources\":{\"pids\":{\"limit\":4194305}}}}",
                                      true),
                        ".linux.resources.pids.limit");
        assert_contains(validate_fail("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"}," BASE_PROCESS ","
                                      "\"linux\":{\"namespaces\":[{\"type\":\"user\"},{\"type\":\"mount\"}],"
                                      "\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],"
                                      "\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],"
                                      "\"resources\":{\"cpu\":{\"quota\":999}}}}",
                                      true),
                        ".linux.resources.cpu.quota");
        assert_contains(validate_fail("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"}," BASE_PROCESS ","
                                      "\"linux\":{\"namespaces\":[{\"type\":\"user\"},{\"type\":\"mount\"}],"
                                      "\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],"
                                      "\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],"
                                      "\"resources\":{\"cpu\":{\"quota\":5000,\"period\":999}}}}",
                                      true),
                        ".linux.resources.cpu.period");
        assert_contains(validate_fail("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"}," BASE_PROCESS ","
                                      "\"linux\":{\"namespaces\":[{\"type\":\"user\"},{\"type\":\"mount\"}],"
                                      "\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],"
                                      "\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],"
                                      "\"cgroupsPath\":\"/a/../b\"}}",
                                      true),
                        ".linux.cgroupsPath");
        assert_contains(
                validate_fail(
                        "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"process\":{\"user\":{\"uid\":0,\"gid\":0},"
                        "\"args\":[\"sh\"],\"cwd\":\"/\",\"capabilities\":{\"ambient\":[\"CAP_KILL\"]}}," USERNS "}",
                        true),
                "ambient");
}

static const struct spec_idmap run_map[] = { { 0, 1000, 1 }, { 1, 100000, 65536 } };

static struct spec_run_options run_opts(char *const *args, char *const *env)
{
        return (struct spec_run_options) {
                .rootless = true,
                .root_path = "/store/containers/x",
                .args = args,
                .env = env,
                .cwd = "/work",
                .uid = 1000,
                .gid = 1000,
                .uid_map = run_map,
                .n_uid_map = 2,
                .gid_map = run_map,
                .n_gid_map = 2,
        };
}

static bool has_mount(const struct spec *s, const char *dst, const char *type, bool ro)
{
        for (size_t i = 0; i < s->n_mounts; i++)
                if (streq(s->mounts[i].destination, dst) && streq(s->mounts[i].type, type) &&
                    ((s->mounts[i].flags & MS_RDONLY) != 0) == ro)
                        return true;
        return false;
}

static void builds_run_spec(void **state)
{
        (void) state;
        char *args[] = { "/bin/sh", "-c", "true", NULL }, *env[] = { "PATH=/bin", "A=b", NULL };
        char *drop[] = { "all", NULL }, *add[] = { "net_raw", "CAP_KILL", NULL }, *ul[] = { "nofile=100:200", NULL };
        struct spec_run_mount m[] = {
                { .type = (char *) "bind",
                  .source = (char *) "/srv/data",
                  .destination = (char *) "/data",
                  .readonly = true },
                { .type = (char *) "tmpfs", .destination = (char *) "/scratch", .options = (char *) "size=1m" },
        };
        struct spec_run_options o = run_opts(args, env);
        o.cap_drop = drop;
        o.cap_add = add;
        o.ulimits = ul;
        o.mounts = m;
        o.n_mounts = 2;
        o.root_readonly = o.read_only_tmpfs = true;
        o.network_host = true;
        o.hostname = "box";
        o.landlock = "required";
        struct spec *s = NULL;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        if (spec_build_run(&o, &s, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        assert_string_equal(s->process.args[2], "true");
        assert_string_equal(s->process.env[1], "A=b");
        assert_string_equal(s->process.cwd, "/work");
        assert_int_equal(s->process.uid, 1000);
        assert_true(s->process.no_new_privileges);
        assert_int_equal(s->process.caps[CAPSET_BOUNDING], (1ull << CAP_NET_RAW) | (1ull << CAP_KILL));
        assert_int_equal(s->process.caps[CAPSET_AMBIENT], 0);
        assert_true(has_mount(s, "/data", "bind", true));
        assert_true(has_mount(s, "/scratch", "tmpfs", false));
        assert_true(has_mount(s, "/tmp", "tmpfs", false));
        assert_true(has_mount(s, "/run", "tmpfs", false));
        assert_true(s->root_readonly);
        assert_false(s->namespaces[NS_NET].enabled);
        assert_true(s->namespaces[NS_USER].enabled);
        assert_int_equal(s->n_uid_mappings, 2);
        assert_int_equal(s->uid_mappings[1].host_id, 100000);
        bool nofile = false;
        for (size_t i = 0; i < s->process.n_rlimits; i++)
                if (s->process.rlimits[i].resource == RLIMIT_NOFILE)
                        nofile = s->process.rlimits[i].soft == 100 && s->process.rlimits[i].hard == 200;
        assert_true(nofile);
        assert_non_null(s->seccomp);
        assert_string_equal(s->hostname, "box");
        assert_string_equal(s->annotations[0].value, "required");
        if (spec_validate(s, true, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        spec_free(s);

        /* the default: podman's capabilities, its own network namespace */
        o = run_opts(args, env);
        assert_int_equal(spec_build_run(&o, &s, NULL), 0);
        assert_true(s->namespaces[NS_NET].enabled);
        assert_true(s->process.caps[CAPSET_BOUNDING] & (1ull << CAP_CHOWN));
        assert_false(s->process.caps[CAPSET_BOUNDING] & (1ull << CAP_NET_RAW));
        spec_free(s);
}

static void run_spec_rejects_bad_options(void **state)
{
        (void) state;
        char *args[] = { "sh", NULL }, *env[] = { NULL };
        char *badcap[] = { "NOT_A_CAP", NULL }, *weird[] = { "net raw", NULL }, *badul[] = { "nofile", NULL };
        char *neg[] = { "nofile=-1", NULL }, *unk[] = { "bogus=1", NULL };
        struct {
                char **add, **ul;
                const char *msg;
        } cases[] = {
                { badcap, NULL, "unknown capability" }, { weird, NULL, "--cap-add" },
                { NULL, badul, "--ulimit nofile" },     { NULL, neg, "--ulimit nofile=-1" },
                { NULL, unk, "RLIMIT_BOGUS" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct spec_run_options o = run_opts(args, env);
                o.cap_add = cases[i].add;
                o.ulimits = cases[i].ul;
                struct spec *s = NULL;
                _cleanup_herror_ struct herror err = HERROR_INIT;
                if (spec_build_run(&o, &s, &err) == 0) {
                        spec_free(s);
                        fail_msg("case %zu built", i);
                }
                assert_contains(herror_msg(&err), cases[i].msg);
        }
        /* limits are built into linux.resources and pass validation: whether the host can apply them is
         * the sandbox's decision (sandbox/cgroup.c), not the spec's */
        struct spec_run_options o = run_opts(args, env);
        o.memory_limit = 1 << 20;
        o.pids_limit = 20;
        o.cpu_quota = 50000;
        o.cpu_period = 100000;
        struct spec *s = NULL;
        assert_int_equal(spec_build_run(&o, &s, NULL), 0);
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_int_equal(spec_validate(s, true, &err), 0);
        assert_true(s->resources.any_limit && s->resources.has_memory_limit && s->resources.has_pids_limit &&
                    s->resources.has_cpu_quota);
        assert_int_equal(s->resources.memory_limit, 1 << 20);
        assert_int_equal(s->resources.pids_limit, 20);
        assert_int_equal(s->resources.cpu_quota, 50000);
        assert_int_equal(s->resources.cpu_period, 100000);
        spec_free(s);
        /* none asked: no resources at all */
        o = run_opts(args, env);
        assert_int_equal(spec_build_run(&o, &s, NULL), 0);
        assert_false(s->resources.any_limit);
        spec_free(s);
}

static void assert_strv_equal(char **a, char **b)
{
        assert_true((a == NULL) == (b == NULL));
        size_t i = 0;
        for (; a && a[i] && b[i]; i++)
                assert_string_equal(a[i], b[i]);
        assert_true(!a || (!a[i] && !b[i]));
}

/* hutch run takes the default profile from scripts/seccomp-table.py's table; it must be exactly what the
 * JSON parser makes of the same file (hutch-runtime spec embeds the JSON) */
static void default_seccomp_table_equals_the_parsed_profile(void **state)
{
        (void) state;
        json_t *spec = NULL;
        assert_int_equal(spec_build_default(true, 1000, 1000, &spec, NULL), 0);
        struct spec_seccomp *p = NULL, *t = NULL;
        assert_int_equal(spec_parse_seccomp(json_object_get(json_object_get(spec, "linux"), "seccomp"), "x", &p, NULL),
                         0);
        assert_int_equal(spec_seccomp_from_table(&spec_default_seccomp_table, &t), 0);
        assert_int_equal(p->default_action, t->default_action);
        assert_int_equal(p->has_default_errno_ret, t->has_default_errno_ret);
        assert_int_equal(p->default_errno_ret, t->default_errno_ret);
        assert_int_equal(p->flags, t->flags);
        assert_int_equal(p->has_flags, t->has_flags);
        assert_strv_equal(p->architectures, t->architectures);
        assert_int_equal(p->n_rules, t->n_rules);
        assert_true(p->n_rules > 20);
        for (size_t i = 0; i < p->n_rules; i++) {
                const struct spec_seccomp_rule *a = &p->rules[i], *b = &t->rules[i];
                assert_strv_equal(a->names, b->names);
                assert_int_equal(a->action, b->action);
                assert_int_equal(a->has_errno_ret, b->has_errno_ret);
                assert_int_equal(a->errno_ret, b->errno_ret);
                assert_int_equal(a->n_args, b->n_args);
                for (size_t k = 0; k < a->n_args; k++) {
                        assert_int_equal(a->args[k].index, b->args[k].index);
                        assert_int_equal(a->args[k].value, b->args[k].value);
                        assert_int_equal(a->args[k].value_two, b->args[k].value_two);
                        assert_int_equal(a->args[k].op, b->args[k].op);
                }
        }
        spec_seccomp_free(p);
        spec_seccomp_free(t);
        json_decref(spec);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(parses_full_config),
                cmocka_unit_test(rejects_bad_json),
                cmocka_unit_test(rejects_wrong_types_with_path),
                cmocka_unit_test(rejects_unsupported_features),
                cmocka_unit_test(validation_rules),
                cmocka_unit_test(builds_run_spec),
                cmocka_unit_test(default_seccomp_table_equals_the_parsed_profile),
                cmocka_unit_test(run_spec_rejects_bad_options),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
