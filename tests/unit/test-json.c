#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util/json.h"

static char msg[512];

static int parse(const char *text, unsigned depth, json_t **ret)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        int r = json_parse_limited(text, strlen(text), "in.json", 1024, depth, ret, &err);
        snprintf(msg, sizeof msg, "%s", herror_msg(&err));
        return r;
}

static void limits(void **state)
{
        json_t *j = NULL;
        assert_true(parse("{\"a\":1,\"a\":2}", 8, &j) < 0);
        assert_non_null(strstr(msg, "in.json: line 1"));
        assert_non_null(strstr(msg, "duplicate"));
        assert_int_equal(parse("[[[1]]]", 3, &j), 0);
        json_decref(j);
        assert_true(parse("[[[[1]]]]", 3, &j) < 0);
        assert_non_null(strstr(msg, "deeper than 3"));
        /* brackets inside strings and escaped quotes do not count */
        assert_int_equal(parse("[\"[[[[\\\"[[[[\"]", 2, &j), 0);
        json_decref(j);
        assert_true(parse("{} x", 8, &j) < 0);
        assert_true(parse("\"just a string\"", 8, &j) < 0);
        assert_non_null(strstr(msg, "in.json"));
        char big[2048];
        memset(big, ' ', sizeof big - 1);
        big[0] = '[';
        big[sizeof big - 2] = ']';
        big[sizeof big - 1] = 0;
        assert_true(parse(big, 8, &j) < 0);
        assert_non_null(strstr(msg, "larger than"));
        const char nul[] = "{\"a\":\"b\0\"}";
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_true(json_parse_limited(nul, sizeof nul - 1, "in.json", 1024, 8, &j, &err) < 0);
        assert_non_null(strstr(herror_msg(&err), "NUL"));
}

struct target {
        char *s;
        bool b;
        uint32_t u;
        int32_t i;
        char **v;
        char *req;
};

static const struct json_field table[] = {
        { "s", JSON_STRING, json_dispatch_string, offsetof(struct target, s), 0 },
        { "b", JSON_TRUE, json_dispatch_bool, offsetof(struct target, b), 0 },
        { "u", JSON_INTEGER, json_dispatch_uint32, offsetof(struct target, u), 0 },
        { "i", JSON_INTEGER, json_dispatch_int32, offsetof(struct target, i), JF_NULLABLE },
        { "v", JSON_ARRAY, json_dispatch_strv, offsetof(struct target, v), 0 },
        { "req", JSON_STRING, json_dispatch_string, offsetof(struct target, req), JF_MANDATORY },
        { "nope", (json_type) -1, NULL, 0, JF_UNSUPPORTED },
        { NULL },
};

static int dispatch(const char *text, unsigned flags, struct target *t)
{
        _cleanup_json_ json_t *j = NULL;
        assert_int_equal(parse(text, 8, &j), 0);
        _cleanup_herror_ struct herror err = HERROR_INIT;
        memset(t, 0, sizeof *t);
        int r = json_dispatch(j, ".x", table, t, flags, &err);
        snprintf(msg, sizeof msg, "%s", herror_msg(&err));
        return r;
}

static void target_free(struct target *t)
{
        free(t->s);
        free(t->req);
        strv_free(t->v);
}

static void dispatch_tables(void **state)
{
        struct target t;
        assert_int_equal(dispatch("{\"s\":\"x\",\"b\":false,\"u\":4294967295,\"i\":null,\"v\":[\"a\",\"b\"],\"req\":\"r\",\"nope\":null}", 0, &t), 0);
        assert_string_equal(t.s, "x");
        assert_true(t.u == UINT32_MAX);
        assert_string_equal(t.v[1], "b");
        assert_null(t.v[2]);
        target_free(&t);
        assert_true(dispatch("{\"u\":4294967296,\"req\":\"r\"}", 0, &t) < 0);
        assert_non_null(strstr(msg, ".x.u: 4294967296 is out of range"));
        target_free(&t);
        assert_true(dispatch("{\"u\":-1,\"req\":\"r\"}", 0, &t) < 0);
        target_free(&t);
        assert_true(dispatch("{\"s\":1,\"req\":\"r\"}", 0, &t) < 0);
        assert_non_null(strstr(msg, ".x.s: expected a string"));
        target_free(&t);
        assert_true(dispatch("{\"v\":[\"a\",2],\"req\":\"r\"}", 0, &t) < 0);
        assert_non_null(strstr(msg, ".x.v[1]: expected a string"));
        target_free(&t);
        assert_true(dispatch("{}", 0, &t) < 0);
        assert_non_null(strstr(msg, ".x.req: required property missing"));
        target_free(&t);
        assert_true(dispatch("{\"req\":\"r\",\"nope\":1}", 0, &t) < 0);
        assert_non_null(strstr(msg, ".x.nope: not supported"));
        target_free(&t);
        assert_int_equal(dispatch("{\"req\":\"r\",\"extra\":1}", 0, &t), 0);
        target_free(&t);
        assert_true(dispatch("{\"req\":\"r\",\"extra\":1}", JD_REJECT_UNKNOWN, &t) < 0);
        assert_non_null(strstr(msg, ".x.extra: unknown property"));
        target_free(&t);
        assert_true(dispatch("{\"req\":\"r\",\"b\":1}", 0, &t) < 0);
        assert_non_null(strstr(msg, ".x.b: expected a boolean"));
        target_free(&t);
}

int main(void)
{
        const struct CMUnitTest tests[] = { cmocka_unit_test(limits), cmocka_unit_test(dispatch_tables) };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
