/* The image config's run defaults: types are checked and errors name the field and the document. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "image/config.h"

static void parses_run_defaults(void **state)
{
        (void) state;
        const char *j = "{\"os\":\"linux\",\"config\":{\"Entrypoint\":[\"/bin/sh\",\"-c\"],\"Cmd\":[\"echo hi\"],"
                        "\"Env\":[\"PATH=/bin\",\"A=b\"],\"WorkingDir\":\"/w\",\"User\":\"1000:1000\","
                        "\"StopSignal\":\"SIGINT\",\"Labels\":{\"x\":\"y\"},\"Unknown\":1}}";
        struct image_run_config c;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        if (image_config_parse(j, strlen(j), "cfg", &c, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        assert_string_equal(c.entrypoint[0], "/bin/sh");
        assert_string_equal(c.entrypoint[1], "-c");
        assert_null(c.entrypoint[2]);
        assert_string_equal(c.cmd[0], "echo hi");
        assert_string_equal(c.env[1], "A=b");
        assert_string_equal(c.working_dir, "/w");
        assert_string_equal(c.user, "1000:1000");
        assert_string_equal(c.stop_signal, "SIGINT");
        assert_int_equal(c.n_labels, 1);
        assert_string_equal(c.labels[0].key, "x");
        assert_string_equal(image_run_config_label(&c, "x"), "y");
        assert_null(image_run_config_label(&c, "z"));
        assert_null(c.volumes);
        assert_null(c.exposed_ports);
        image_run_config_done(&c);
}

/* Volumes and ExposedPorts are sets written as objects of {}; their keys come back sorted, as do labels. */
static void parses_declarations(void **state)
{
        (void) state;
        const char *j = "{\"config\":{\"Volumes\":{\"/var/lib/db\":{},\"/data\":null},"
                        "\"ExposedPorts\":{\"8080/tcp\":{},\"53/udp\":{},\"80\":{}},"
                        "\"Labels\":{\"org.opencontainers.image.version\":\"1.2\",\"a\":\"\",\"m\":\"v=w\"}}}";
        struct image_run_config c;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        if (image_config_parse(j, strlen(j), "cfg", &c, &err) < 0)
                fail_msg("%s", herror_msg(&err));
        assert_string_equal(c.volumes[0], "/data");
        assert_string_equal(c.volumes[1], "/var/lib/db");
        assert_null(c.volumes[2]);
        assert_string_equal(c.exposed_ports[0], "53/udp");
        assert_string_equal(c.exposed_ports[1], "80");
        assert_string_equal(c.exposed_ports[2], "8080/tcp");
        assert_null(c.exposed_ports[3]);
        assert_int_equal(c.n_labels, 3);
        assert_string_equal(c.labels[0].key, "a");
        assert_string_equal(c.labels[0].value, "");
        assert_string_equal(c.labels[1].key, "m");
        assert_string_equal(c.labels[1].value, "v=w");
        assert_string_equal(c.labels[2].key, "org.opencontainers.image.version");
        assert_string_equal(image_run_config_label(&c, "org.opencontainers.image.version"), "1.2");
        assert_null(c.entrypoint);
        image_run_config_done(&c);
        /* done leaves a zeroed struct that can be freed again */
        image_run_config_done(&c);
}

static void absent_and_null_are_empty(void **state)
{
        (void) state;
        static const char all_null[] = "{\"config\":{\"Entrypoint\":null,\"Cmd\":null,\"Env\":null,\"Volumes\":null,"
                                       "\"ExposedPorts\":null,\"Labels\":null}}";
        const char *docs[] = { "{}", "{\"config\":null}", all_null,
                               "{\"config\":{\"Volumes\":{},\"ExposedPorts\":{},\"Labels\":{}}}" };
        for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
                struct image_run_config c;
                _cleanup_herror_ struct herror err = HERROR_INIT;
                if (image_config_parse(docs[i], strlen(docs[i]), "cfg", &c, &err) < 0)
                        fail_msg("%s: %s", docs[i], herror_msg(&err));
                assert_null(c.entrypoint);
                assert_null(c.cmd);
                assert_null(c.env);
                assert_null(c.user);
                assert_null(c.volumes);
                assert_null(c.exposed_ports);
                assert_null(c.labels);
                assert_int_equal(c.n_labels, 0);
                image_run_config_done(&c);
        }
}

static void refuses_wrong_types(void **state)
{
        (void) state;
        struct {
                const char *doc, *msg;
        } cases[] = {
                { "{\"config\":{\"Cmd\":\"echo\"}}", "cfg: .config.Cmd" },
                { "{\"config\":{\"Entrypoint\":[1]}}", ".config.Entrypoint[0]" },
                { "{\"config\":{\"Env\":[\"A=\\u0000b\"]}}", "\\u0000 is not allowed" },
                { "{\"config\":{\"User\":0}}", ".config.User" },
                { "{\"config\":[]}", ".config" },
                { "[1]", "cfg" },
                { "{\"config\":{}} x", "cfg" },
                { "{\"a\":1,\"a\":2}", "cfg" },
                { "{\"config\":{\"Volumes\":[\"/data\"]}}", "cfg: .config.Volumes: expected an object" },
                { "{\"config\":{\"Volumes\":{\"/data\":\"yes\"}}}",
                  ".config.Volumes./data: expected an object ({}) or null" },
                { "{\"config\":{\"ExposedPorts\":\"80/tcp\"}}", ".config.ExposedPorts: expected an object" },
                { "{\"config\":{\"ExposedPorts\":{\"80/tcp\":[]}}}", ".config.ExposedPorts.80/tcp" },
                { "{\"config\":{\"Labels\":[\"a=b\"]}}", ".config.Labels: expected an object" },
                { "{\"config\":{\"Labels\":{\"a\":\"b\",\"n\":1}}}", ".config.Labels.n: expected a string" },
                { "{\"config\":{\"Labels\":{\"a\":null}}}", ".config.Labels.a: expected a string" },
                { "{\"config\":{\"Labels\":{\"a\":\"x\\u0000y\"}}}", "\\u0000 is not allowed" },
                /* a key is the image's: control bytes do not reach the one-line error */
                { "{\"config\":{\"Labels\":{\"a\\nb\\u001b[2J\":2}}}", ".config.Labels.a?b?[2J: expected a string" },
                { "{\"config\":{\"Labels\":{\"a\\u0000b\":\"x\"}}}", "cfg" },
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                struct image_run_config c = { 0 };
                _cleanup_herror_ struct herror err = HERROR_INIT;
                if (image_config_parse(cases[i].doc, strlen(cases[i].doc), "cfg", &c, &err) == 0) {
                        image_run_config_done(&c);
                        fail_msg("accepted: %s", cases[i].doc);
                }
                if (!strstr(herror_msg(&err), cases[i].msg))
                        fail_msg("%s: '%s' lacks '%s'", cases[i].doc, herror_msg(&err), cases[i].msg);
                for (const char *m = herror_msg(&err); *m; m++)
                        if ((unsigned char) *m < 0x20)
                                fail_msg("%s: a control byte in '%s'", cases[i].doc, herror_msg(&err));
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(parses_run_defaults),
                cmocka_unit_test(parses_declarations),
                cmocka_unit_test(absent_and_null_are_empty),
                cmocka_unit_test(refuses_wrong_types),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
