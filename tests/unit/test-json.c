#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "util/fileio.h"
#include "util/json.h"

/* The last error, kept after the herror is gone so asserts can compare it whole. */
static char msg[1024];
static int errnum;

static void keep(const struct herror *err)
{
        snprintf(msg, sizeof msg, "%s", herror_msg(err) ? herror_msg(err) : "");
        errnum = err->errnum;
}

static int parse_n(const char *text, size_t len, size_t max_size, unsigned depth, json_t **ret)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        int r = json_parse_limited(text, len, "in.json", max_size, depth, ret, &err);
        keep(&err);
        return r;
}

static int parse(const char *text, unsigned depth, json_t **ret)
{
        return parse_n(text, strlen(text), 4096, depth, ret);
}

/* Accepted, and yields an object or an array. */
static void assert_parses(const char *text, unsigned depth)
{
        _cleanup_json_ json_t *j = NULL;
        assert_int_equal(parse(text, depth, &j), 0);
        assert_true(json_is_object(j) || json_is_array(j));
}

static void assert_refused(const char *text, unsigned depth, const char *expect)
{
        json_t *j = NULL;
        assert_int_equal(parse(text, depth, &j), -EINVAL);
        assert_null(j);
        assert_string_equal(msg, expect);
}

static char *repeat(char c, size_t n)
{
        char *s = malloc(n + 1);
        assert_non_null(s);
        memset(s, c, n);
        s[n] = 0;
        return s;
}

/* n levels of '[' around 1 */
static char *nested(size_t n)
{
        char *s = malloc(2 * n + 2);
        assert_non_null(s);
        memset(s, '[', n);
        s[n] = '1';
        memset(s + n + 1, ']', n);
        s[2 * n + 1] = 0;
        return s;
}

static void duplicates(void **state)
{
        assert_refused("{\n  \"a\": 1,\n  \"a\": 2\n}", 8,
                       "in.json: line 3 column 5: duplicate object key near '\"a\"'");
        assert_refused("[{\"x\":{\"k\":1,\"k\":1}}]", 8,
                       "in.json: line 1 column 16: duplicate object key near '\"k\"'");
        /* the same key in different objects is fine */
        assert_parses("[{\"k\":1},{\"k\":2},{\"o\":{\"k\":3}}]", 8);
}

static void depth(void **state)
{
        for (unsigned limit = 1; limit <= 70; limit++) {
                _cleanup_free_ char *ok = nested(limit), *deep = nested(limit + 1);
                assert_parses(ok, limit);
                char expect[64];
                snprintf(expect, sizeof expect, "in.json: nested deeper than %u levels", limit);
                assert_refused(deep, limit, expect);
        }
        /* objects count as arrays do */
        assert_parses("{\"a\":{\"b\":[{}]}}", 4);
        assert_refused("{\"a\":{\"b\":[{}]}}", 3, "in.json: nested deeper than 3 levels");
        /* siblings do not add up */
        assert_parses("[[1],[2],{\"a\":[3]},[[4]]]", 3);
        /* brackets inside strings do not count, nor do escaped quotes end the string */
        assert_parses("[\"[[[[{{{{\"]", 1);
        assert_parses("[\"\\\"[[[[\\\"\"]", 1);
        assert_parses("{\"[[[\":\"}}}{{{\"}", 1);
        /* an escaped backslash does end in a real quote: the brackets after it count */
        assert_parses("[\"\\\\\",[1]]", 2);
        assert_refused("[\"\\\\\",[[1]]]", 2, "in.json: nested deeper than 2 levels");
        assert_refused("[\"\\\\\\\"\",[[1]]]", 2, "in.json: nested deeper than 2 levels");
        /* a megabyte of '[' is refused by the scan, before jansson recurses into it */
        _cleanup_free_ char *flood = repeat('[', 1u << 20);
        json_t *j = NULL;
        assert_int_equal(parse_n(flood, 1u << 20, 2u << 20, JSON_MAX_DEPTH_DEFAULT, &j), -EINVAL);
        assert_string_equal(msg, "in.json: nested deeper than 64 levels");
        /* the default allows 64 */
        _cleanup_free_ char *d64 = nested(64), *d65 = nested(65);
        assert_parses(d64, JSON_MAX_DEPTH_DEFAULT);
        assert_refused(d65, JSON_MAX_DEPTH_DEFAULT, "in.json: nested deeper than 64 levels");
}

static void size(void **state)
{
        char text[64];
        memset(text, ' ', sizeof text);
        text[0] = '[';
        text[40] = ']';
        json_t *j = NULL;
        assert_int_equal(parse_n(text, 41, 41, 8, &j), 0);
        json_decref(j);
        j = NULL;
        assert_int_equal(parse_n(text, 42, 41, 8, &j), -EFBIG);
        assert_null(j);
        assert_string_equal(msg, "in.json: larger than the limit of 41 bytes");
}

static void nul_bytes(void **state)
{
        const char raw[] = "{\"a\":\"b\0\"}";
        json_t *j = NULL;
        assert_int_equal(parse_n(raw, sizeof raw - 1, 4096, 8, &j), -EINVAL);
        assert_string_equal(msg, "in.json: contains a NUL byte");
        /* a NUL after the value, which strlen-based code would never see */
        const char after[] = "{}\0garbage";
        assert_int_equal(parse_n(after, sizeof after - 1, 4096, 8, &j), -EINVAL);
        assert_string_equal(msg, "in.json: contains a NUL byte");
        /* and spelled as an escape, jansson refuses it */
        assert_refused("[\"a\\u0000b\"]", 8,
                       "in.json: line 1 column 11: \\u0000 is not allowed without JSON_ALLOW_NUL near '\"a\\u0000b\"'");
        assert_null(j);
}

static void trailing_and_top_level(void **state)
{
        assert_refused("{} x", 8, "in.json: line 1 column 4: end of file expected near 'x'");
        assert_refused("[1] [2]", 8, "in.json: line 1 column 5: end of file expected near '['");
        assert_refused("{}}", 8, "in.json: line 1 column 3: end of file expected near '}'");
        assert_parses("{}\n\n  \t", 8);
        assert_parses("  []", 8);
        const char *scalars[] = { "42", "\"just a string\"", "null", "true", "1.5" };
        for (size_t i = 0; i < ELEMENTSOF(scalars); i++) {
                json_t *j = NULL;
                assert_int_equal(parse(scalars[i], 8, &j), -EINVAL);
                assert_null(j);
                /* jansson itself refuses a scalar root without JSON_DECODE_ANY; either message names the file */
                assert_true(strncmp(msg, "in.json: ", 9) == 0);
        }
        assert_refused("", 8, "in.json: line 1 column 0: '[' or '{' expected near end of file");
        json_t *j = NULL;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_int_equal(json_parse_limited(NULL, 0, "empty.json", 16, 8, &j, &err), -EINVAL);
        assert_string_equal(herror_msg(&err), "empty.json: line 1 column 0: '[' or '{' expected near end of file");
        /* integers past int64 cannot be represented: refused at parse time */
        assert_refused("[9223372036854775808]", 8,
                       "in.json: line 1 column 20: too big integer near '9223372036854775808'");
        assert_parses("[9223372036854775807, -9223372036854775808]", 8);
        /* invalid UTF-8 */
        assert_int_equal(parse("[\"\xff\"]", 8, &j), -EINVAL);
        assert_true(strncmp(msg, "in.json: line 1 column ", 23) == 0);
}

static void read_file(void **state)
{
        char dir[] = "/tmp/test-json-XXXXXX";
        assert_non_null(mkdtemp(dir));
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        _cleanup_close_ int fd = openat(dfd, "good.json", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write_all(fd, "{\"a\":[1,2]}\n", 12), 0);
        _cleanup_close_ int bfd = openat(dfd, "dup.json", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        assert_true(bfd >= 0);
        assert_int_equal(write_all(bfd, "{\n\"a\":1,\n\"a\":1}", 15), 0);
        assert_int_equal(symlinkat("good.json", dfd, "link.json"), 0);
        assert_int_equal(mkdirat(dfd, "sub", 0700), 0);
        assert_int_equal(mkfifoat(dfd, "fifo", 0600), 0);

        json_t *j = NULL;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_int_equal(json_read_file(dfd, "good.json", 1024, &j, &err), 0);
        assert_int_equal(json_array_size(json_object_get(j, "a")), 2);
        json_decref(j);
        j = NULL;

        assert_int_equal(json_read_file(dfd, "dup.json", 1024, &j, &err), -EINVAL);
        assert_string_equal(herror_msg(&err), "dup.json: line 3 column 3: duplicate object key near '\"a\"'");
        herror_clear(&err);
        assert_int_equal(json_read_file(dfd, "good.json", 11, &j, &err), -EFBIG);
        assert_string_equal(herror_msg(&err), "good.json: larger than the limit of 11 bytes");
        herror_clear(&err);
        assert_int_equal(json_read_file(dfd, "link.json", 1024, &j, &err), -ELOOP);
        herror_clear(&err);
        assert_int_equal(json_read_file(dfd, "sub", 1024, &j, &err), -EINVAL);
        assert_non_null(strstr(herror_msg(&err), "not a regular file"));
        herror_clear(&err);
        /* a FIFO must not block the reader */
        assert_int_equal(json_read_file(dfd, "fifo", 1024, &j, &err), -EINVAL);
        assert_non_null(strstr(herror_msg(&err), "not a regular file"));
        herror_clear(&err);
        assert_int_equal(json_read_file(dfd, "missing.json", 1024, &j, &err), -ENOENT);
        assert_non_null(strstr(herror_msg(&err), "missing.json"));
        herror_clear(&err);
        assert_null(j);

        /* AT_FDCWD with an absolute path */
        char abs[64];
        snprintf(abs, sizeof abs, "%s/good.json", dir);
        assert_int_equal(json_read_file(AT_FDCWD, abs, 1024, &j, &err), 0);
        json_decref(j);

        unlinkat(dfd, "good.json", 0);
        unlinkat(dfd, "dup.json", 0);
        unlinkat(dfd, "link.json", 0);
        unlinkat(dfd, "fifo", 0);
        unlinkat(dfd, "sub", AT_REMOVEDIR);
        rmdir(dir);
}

/* Runs one dispatcher directly on v; keeps the message. */
static int run(json_dispatch_fn fn, json_t *v, void *dst)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        int r = fn(".p.q", v, dst, &err);
        keep(&err);
        json_decref(v);
        return r;
}

static void dispatch_string(void **state)
{
        char *s = strdup("old");
        assert_int_equal(run(json_dispatch_string, json_string("new"), &s), 0);
        assert_string_equal(s, "new");
        assert_int_equal(run(json_dispatch_string, json_integer(1), &s), -EINVAL);
        assert_string_equal(msg, ".p.q: expected a string");
        assert_int_equal(run(json_dispatch_string, json_null(), &s), -EINVAL);
        assert_int_equal(run(json_dispatch_string, json_stringn("a\0b", 3), &s), -EINVAL);
        assert_string_equal(msg, ".p.q: contains a NUL byte");
        _cleanup_free_ char *max = repeat('x', JSON_STRING_MAX), *over = repeat('x', JSON_STRING_MAX + 1);
        assert_int_equal(run(json_dispatch_string, json_string(max), &s), 0);
        assert_int_equal(strlen(s), JSON_STRING_MAX);
        assert_int_equal(run(json_dispatch_string, json_string(over), &s), -E2BIG);
        assert_string_equal(msg, ".p.q: longer than 65536 bytes");
        /* failures leave the old value */
        assert_int_equal(strlen(s), JSON_STRING_MAX);
        free(s);
}

static void dispatch_bool(void **state)
{
        bool b = false;
        assert_int_equal(run(json_dispatch_bool, json_true(), &b), 0);
        assert_true(b);
        assert_int_equal(run(json_dispatch_bool, json_false(), &b), 0);
        assert_false(b);
        b = true;
        assert_int_equal(run(json_dispatch_bool, json_integer(0), &b), -EINVAL);
        assert_string_equal(msg, ".p.q: expected a boolean");
        assert_int_equal(run(json_dispatch_bool, json_string("false"), &b), -EINVAL);
        assert_true(b);
}

static void dispatch_integers(void **state)
{
        uint32_t u32 = 7;
        assert_int_equal(run(json_dispatch_uint32, json_integer(0), &u32), 0);
        assert_int_equal(u32, 0);
        assert_int_equal(run(json_dispatch_uint32, json_integer(UINT32_MAX), &u32), 0);
        assert_true(u32 == UINT32_MAX);
        assert_int_equal(run(json_dispatch_uint32, json_integer((json_int_t) UINT32_MAX + 1), &u32), -ERANGE);
        assert_string_equal(msg, ".p.q: 4294967296 is out of range (0 to 4294967295)");
        assert_int_equal(run(json_dispatch_uint32, json_integer(-1), &u32), -ERANGE);
        assert_string_equal(msg, ".p.q: -1 is out of range (0 to 4294967295)");
        assert_int_equal(run(json_dispatch_uint32, json_real(1.0), &u32), -EINVAL);
        assert_string_equal(msg, ".p.q: expected an integer");
        assert_int_equal(run(json_dispatch_uint32, json_string("1"), &u32), -EINVAL);
        assert_true(u32 == UINT32_MAX);

        int32_t i32 = 7;
        assert_int_equal(run(json_dispatch_int32, json_integer(INT32_MIN), &i32), 0);
        assert_int_equal(i32, INT32_MIN);
        assert_int_equal(run(json_dispatch_int32, json_integer(INT32_MAX), &i32), 0);
        assert_int_equal(i32, INT32_MAX);
        assert_int_equal(run(json_dispatch_int32, json_integer((json_int_t) INT32_MAX + 1), &i32), -ERANGE);
        assert_string_equal(msg, ".p.q: 2147483648 is out of range (-2147483648 to 2147483647)");
        assert_int_equal(run(json_dispatch_int32, json_integer((json_int_t) INT32_MIN - 1), &i32), -ERANGE);
        assert_string_equal(msg, ".p.q: -2147483649 is out of range (-2147483648 to 2147483647)");
        assert_int_equal(run(json_dispatch_int32, json_true(), &i32), -EINVAL);
        assert_string_equal(msg, ".p.q: expected an integer");
        assert_int_equal(i32, INT32_MAX);

        int64_t i64 = 7;
        assert_int_equal(run(json_dispatch_int64, json_integer(INT64_MIN), &i64), 0);
        assert_true(i64 == INT64_MIN);
        assert_int_equal(run(json_dispatch_int64, json_integer(INT64_MAX), &i64), 0);
        assert_true(i64 == INT64_MAX);
        assert_int_equal(run(json_dispatch_int64, json_real(2.5), &i64), -EINVAL);
        assert_string_equal(msg, ".p.q: expected an integer");
        assert_true(i64 == INT64_MAX);

        uint64_t u64 = 7;
        assert_int_equal(run(json_dispatch_uint64, json_integer(INT64_MAX), &u64), 0);
        assert_true(u64 == INT64_MAX);
        assert_int_equal(run(json_dispatch_uint64, json_integer(0), &u64), 0);
        assert_true(u64 == 0);
        assert_int_equal(run(json_dispatch_uint64, json_integer(-1), &u64), -ERANGE);
        assert_string_equal(msg, ".p.q: -1 is out of range (0 to 9223372036854775807)");
        assert_int_equal(run(json_dispatch_uint64, json_null(), &u64), -EINVAL);
        assert_string_equal(msg, ".p.q: expected an integer");
        assert_true(u64 == 0);
}

static void dispatch_strv(void **state)
{
        char **v = NULL;
        _cleanup_json_ json_t *j = NULL;
        assert_int_equal(parse("[\"a\",\"\",\"c\"]", 4, &j), 0);
        assert_int_equal(run(json_dispatch_strv, json_incref(j), &v), 0);
        assert_string_equal(v[0], "a");
        assert_string_equal(v[1], "");
        assert_string_equal(v[2], "c");
        assert_null(v[3]);
        /* errors name the item; the old value survives */
        assert_int_equal(run(json_dispatch_strv, json_pack("[s,s,s,i]", "a", "b", "c", 4), &v), -EINVAL);
        assert_string_equal(msg, ".p.q[3]: expected a string");
        assert_int_equal(run(json_dispatch_strv, json_pack("[s,s]", "a", "b\0"), &v), 0);
        assert_null(v[2]);
        json_t *nul = json_array();
        json_array_append_new(nul, json_string("ok"));
        json_array_append_new(nul, json_stringn("x\0y", 3));
        assert_int_equal(run(json_dispatch_strv, nul, &v), -EINVAL);
        assert_string_equal(msg, ".p.q[1]: contains a NUL byte");
        assert_int_equal(run(json_dispatch_strv, json_object(), &v), -EINVAL);
        assert_string_equal(msg, ".p.q: expected an array of strings");
        assert_int_equal(run(json_dispatch_strv, json_string("a"), &v), -EINVAL);
        assert_string_equal(v[1], "b");
        assert_int_equal(run(json_dispatch_strv, json_array(), &v), 0);
        assert_null(v[0]);

        /* the item limit: exactly JSON_STRV_MAX is fine, one more is not */
        json_t *many = json_array();
        for (size_t i = 0; i < JSON_STRV_MAX; i++)
                json_array_append_new(many, json_string("s"));
        assert_int_equal(run(json_dispatch_strv, json_incref(many), &v), 0);
        assert_string_equal(v[JSON_STRV_MAX - 1], "s");
        assert_null(v[JSON_STRV_MAX]);
        json_array_append_new(many, json_string("s"));
        assert_int_equal(run(json_dispatch_strv, many, &v), -E2BIG);
        assert_string_equal(msg, ".p.q: more than 65536 entries");
        /* a long string deep in the list is named by its index */
        _cleanup_free_ char *over = repeat('y', JSON_STRING_MAX + 1);
        assert_int_equal(run(json_dispatch_strv,
                             json_pack("[s,s,s,s,s,s,s,s,s,s,s,s]", "", "", "", "", "", "", "", "", "", "", "", over),
                             &v),
                         -E2BIG);
        assert_string_equal(msg, ".p.q[11]: longer than 65536 bytes");
        strv_free(v);
}

struct child {
        char *name;
        uint32_t id;
};

struct target {
        char *s;
        bool b;
        uint32_t u;
        int32_t i;
        char **v;
        char *req;
        struct child c;
};

static const struct json_field child_table[] = {
        { "name", JSON_STRING, json_dispatch_string, offsetof(struct child, name), JF_MANDATORY },
        { "id", JSON_INTEGER, json_dispatch_uint32, offsetof(struct child, id), 0 },
        { NULL },
};

static int dispatch_child(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        return json_dispatch(v, jpath, child_table, dst, JD_REJECT_UNKNOWN, err);
}

static const struct json_field table[] = {
        { "s", JSON_STRING, json_dispatch_string, offsetof(struct target, s), 0 },
        { "b", JSON_TRUE, json_dispatch_bool, offsetof(struct target, b), 0 },
        { "u", JSON_INTEGER, json_dispatch_uint32, offsetof(struct target, u), 0 },
        { "i", JSON_INTEGER, json_dispatch_int32, offsetof(struct target, i), JF_NULLABLE },
        { "v", JSON_ARRAY, json_dispatch_strv, offsetof(struct target, v), 0 },
        { "req", JSON_STRING, json_dispatch_string, offsetof(struct target, req), JF_MANDATORY },
        { "c", JSON_OBJECT, dispatch_child, offsetof(struct target, c), JF_NULLABLE },
        { "any", (json_type) -1, NULL, 0, 0 },
        { "checked", JSON_OBJECT, NULL, 0, 0 },
        { "nope", (json_type) -1, NULL, 0, JF_UNSUPPORTED },
        { NULL },
};

static void target_free(struct target *t)
{
        free(t->s);
        free(t->req);
        strv_free(t->v);
        free(t->c.name);
        memset(t, 0, sizeof *t);
}

static int dispatch_at(const char *jpath, const char *text, unsigned flags, struct target *t)
{
        _cleanup_json_ json_t *j = NULL;
        assert_int_equal(parse(text, 8, &j), 0);
        _cleanup_herror_ struct herror err = HERROR_INIT;
        target_free(t);
        t->i = 99;
        int r = json_dispatch(j, jpath, table, t, flags, &err);
        keep(&err);
        return r;
}

static int dispatch(const char *text, unsigned flags, struct target *t)
{
        return dispatch_at(".x", text, flags, t);
}

static void dispatch_table(void **state)
{
        struct target t = { 0 };
        assert_int_equal(dispatch("{\"s\":\"x\",\"b\":true,\"u\":4294967295,\"i\":-3,\"v\":[\"a\",\"b\"],\"req\":\"r\","
                                  "\"c\":{\"name\":\"n\",\"id\":5},\"any\":[1],\"checked\":{},\"nope\":null}",
                                  JD_REJECT_UNKNOWN, &t),
                         0);
        assert_string_equal(t.s, "x");
        assert_true(t.b);
        assert_true(t.u == UINT32_MAX);
        assert_int_equal(t.i, -3);
        assert_string_equal(t.v[1], "b");
        assert_null(t.v[2]);
        assert_string_equal(t.req, "r");
        assert_string_equal(t.c.name, "n");
        assert_int_equal(t.c.id, 5);

        /* type mismatches name the property; the type comes from the table */
        assert_int_equal(dispatch("{\"req\":\"r\",\"s\":1}", 0, &t), -EINVAL);
        assert_string_equal(msg, ".x.s: expected a string");
        assert_int_equal(dispatch("{\"req\":\"r\",\"b\":1}", 0, &t), -EINVAL);
        assert_string_equal(msg, ".x.b: expected a boolean");
        assert_int_equal(dispatch("{\"req\":\"r\",\"b\":false}", 0, &t), 0);
        assert_false(t.b);
        assert_int_equal(dispatch("{\"req\":\"r\",\"u\":1.0}", 0, &t), -EINVAL);
        assert_string_equal(msg, ".x.u: expected an integer");
        assert_int_equal(dispatch("{\"req\":\"r\",\"v\":\"a\"}", 0, &t), -EINVAL);
        assert_string_equal(msg, ".x.v: expected an array");
        assert_int_equal(dispatch("{\"req\":\"r\",\"checked\":[]}", 0, &t), -EINVAL);
        assert_string_equal(msg, ".x.checked: expected an object");
        assert_int_equal(dispatch("{\"req\":\"r\",\"any\":null}", 0, &t), 0);
        assert_int_equal(dispatch("{\"req\":\"r\",\"any\":\"s\"}", 0, &t), 0);
        /* range errors come from the dispatcher, with the same path */
        assert_int_equal(dispatch("{\"req\":\"r\",\"u\":4294967296}", 0, &t), -ERANGE);
        assert_string_equal(msg, ".x.u: 4294967296 is out of range (0 to 4294967295)");
        assert_int_equal(dispatch("{\"req\":\"r\",\"v\":[\"a\",\"b\",2]}", 0, &t), -EINVAL);
        assert_string_equal(msg, ".x.v[2]: expected a string");

        /* JF_MANDATORY: missing is an error; null is a value of the wrong type */
        assert_int_equal(dispatch("{}", 0, &t), -EINVAL);
        assert_string_equal(msg, ".x.req: required property missing");
        assert_int_equal(dispatch("{\"req\":null}", 0, &t), -EINVAL);
        assert_string_equal(msg, ".x.req: expected a string");

        /* JF_NULLABLE: null is skipped and leaves the field alone; elsewhere null is a type error */
        assert_int_equal(dispatch("{\"req\":\"r\",\"i\":null,\"c\":null}", 0, &t), 0);
        assert_int_equal(t.i, 99);
        assert_null(t.c.name);
        assert_int_equal(dispatch("{\"req\":\"r\",\"u\":null}", 0, &t), -EINVAL);
        assert_string_equal(msg, ".x.u: expected an integer");

        /* JF_UNSUPPORTED: absent or null is fine, anything else is refused */
        assert_int_equal(dispatch("{\"req\":\"r\"}", 0, &t), 0);
        assert_int_equal(dispatch("{\"req\":\"r\",\"nope\":false}", 0, &t), -EOPNOTSUPP);
        assert_string_equal(msg, ".x.nope: not supported by hutch");
        assert_int_equal(dispatch("{\"req\":\"r\",\"nope\":{}}", 0, &t), -EOPNOTSUPP);

        /* JD_REJECT_UNKNOWN; table rows without a dispatcher are known */
        assert_int_equal(dispatch("{\"req\":\"r\",\"extra\":1}", 0, &t), 0);
        assert_int_equal(dispatch("{\"req\":\"r\",\"extra\":1}", JD_REJECT_UNKNOWN, &t), -EINVAL);
        assert_string_equal(msg, ".x.extra: unknown property");
        assert_int_equal(dispatch("{\"req\":\"r\",\"any\":1,\"checked\":{}}", JD_REJECT_UNKNOWN, &t), 0);

        /* nested tables extend the path */
        assert_int_equal(dispatch("{\"req\":\"r\",\"c\":{\"id\":1}}", 0, &t), -EINVAL);
        assert_string_equal(msg, ".x.c.name: required property missing");
        assert_int_equal(dispatch("{\"req\":\"r\",\"c\":{\"name\":\"n\",\"id\":-1}}", 0, &t), -ERANGE);
        assert_string_equal(msg, ".x.c.id: -1 is out of range (0 to 4294967295)");
        assert_int_equal(dispatch("{\"req\":\"r\",\"c\":{\"name\":\"n\",\"zz\":0}}", 0, &t), -EINVAL);
        assert_string_equal(msg, ".x.c.zz: unknown property");

        /* the first error in table order stops the walk */
        assert_int_equal(dispatch("{\"b\":1,\"s\":2}", 0, &t), -EINVAL);
        assert_string_equal(msg, ".x.s: expected a string");

        /* the root: "" gives ".name" */
        assert_int_equal(dispatch_at("", "{\"s\":[]}", 0, &t), -EINVAL);
        assert_string_equal(msg, ".s: expected a string");
        assert_int_equal(dispatch_at("", "{\"req\":\"r\",\"c\":{}}", 0, &t), -EINVAL);
        assert_string_equal(msg, ".c.name: required property missing");
        assert_int_equal(dispatch_at("", "{\"req\":\"r\",\"q\":1}", JD_REJECT_UNKNOWN, &t), -EINVAL);
        assert_string_equal(msg, ".q: unknown property");

        /* not an object */
        assert_int_equal(dispatch_at(".x.list[2]", "[1]", 0, &t), -EINVAL);
        assert_string_equal(msg, ".x.list[2]: expected an object");
        assert_int_equal(dispatch_at("", "[]", 0, &t), -EINVAL);
        assert_string_equal(msg, ".: expected an object");
        target_free(&t);
}

static void paths(void **state)
{
        char buf[16];
        json_path_key(buf, sizeof buf, ".a", "b");
        assert_string_equal(buf, ".a.b");
        json_path_key(buf, sizeof buf, "", "root");
        assert_string_equal(buf, ".root");
        json_path_index(buf, sizeof buf, ".a", 12);
        assert_string_equal(buf, ".a[12]");
        json_path_index(buf, sizeof buf, "", 0);
        assert_string_equal(buf, "[0]");
        /* truncation keeps the buffer terminated and within size */
        memset(buf, 'Z', sizeof buf);
        json_path_key(buf, 8, ".process", "args");
        assert_string_equal(buf, ".proces");
        assert_int_equal(buf[8], 'Z');
        json_path_index(buf, 6, ".args", 123456);
        assert_string_equal(buf, ".args");
        json_path_index(buf, 1, ".args", 1);
        assert_string_equal(buf, "");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(duplicates),
                cmocka_unit_test(depth),
                cmocka_unit_test(size),
                cmocka_unit_test(nul_bytes),
                cmocka_unit_test(trailing_and_top_level),
                cmocka_unit_test(read_file),
                cmocka_unit_test(dispatch_string),
                cmocka_unit_test(dispatch_bool),
                cmocka_unit_test(dispatch_integers),
                cmocka_unit_test(dispatch_strv),
                cmocka_unit_test(dispatch_table),
                cmocka_unit_test(paths),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
