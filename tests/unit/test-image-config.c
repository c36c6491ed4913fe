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
        image_run_config_done(&c);
}

static void absent_and_null_are_empty(void **state)
{
        (void) state;
        const char *docs[] = { "{}", "{\"config\":null}", "{\"config\":{\"Entrypoint\":null,\"Cmd\":null,\"Env\":null}}" };
        for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
                struct image_run_config c;
                _cleanup_herror_ struct herror err = HERROR_INIT;
                if (image_config_parse(docs[i], strlen(docs[i]), "cfg", &c, &err) < 0)
                        fail_msg("%s: %s", docs[i], herror_msg(&err));
                assert_null(c.entrypoint);
                assert_null(c.cmd);
                assert_null(c.env);
                assert_null(c.user);
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
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(parses_run_defaults),
                cmocka_unit_test(absent_and_null_are_empty),
                cmocka_unit_test(refuses_wrong_types),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
