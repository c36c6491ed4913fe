/* The JSON edge: json_parse_limited, then dispatch tables using every standard dispatcher, a nested
 * object and an array of objects (so the child paths are built at depth), then a round trip: whatever
 * we accept must serialise and be accepted again as the same value. */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "util/json.h"

#define FUZZ_JSON_DEPTH 16

struct fuzz_item {
        char *name;
        uint32_t id;
};

struct fuzz_target {
        char *s;
        bool b;
        uint32_t u32;
        int32_t i32;
        int64_t i64;
        uint64_t u64;
        char **strv;
        struct fuzz_item nested;
        struct fuzz_item *items;
        size_t n_items;
};

static const struct json_field item_table[] = {
        { "id", JSON_INTEGER, json_dispatch_uint32, offsetof(struct fuzz_item, id), 0 },
        { "name", JSON_STRING, json_dispatch_string, offsetof(struct fuzz_item, name), JF_MANDATORY },
        { NULL },
};

static int dispatch_item(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        return json_dispatch(v, jpath, item_table, dst, JD_REJECT_UNKNOWN, err);
}

static int dispatch_items(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        struct fuzz_target *t = dst;
        size_t n = json_array_size(v);
        if (n > 1024)
                return herror_set(err, E2BIG, "%s: too many items", jpath);
        t->items = calloc(n ? n : 1, sizeof *t->items);
        if (!t->items)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char p[256];
                json_path_index(p, sizeof p, jpath, i);
                t->n_items = i + 1;
                int r = dispatch_item(p, json_array_get(v, i), &t->items[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static const struct json_field table[] = {
        { "s", JSON_STRING, json_dispatch_string, offsetof(struct fuzz_target, s), 0 },
        { "b", JSON_TRUE, json_dispatch_bool, offsetof(struct fuzz_target, b), 0 },
        { "u32", JSON_INTEGER, json_dispatch_uint32, offsetof(struct fuzz_target, u32), 0 },
        { "i32", JSON_INTEGER, json_dispatch_int32, offsetof(struct fuzz_target, i32), JF_NULLABLE },
        { "i64", JSON_INTEGER, json_dispatch_int64, offsetof(struct fuzz_target, i64), 0 },
        { "u64", JSON_INTEGER, json_dispatch_uint64, offsetof(struct fuzz_target, u64), 0 },
        { "strv", JSON_ARRAY, json_dispatch_strv, offsetof(struct fuzz_target, strv), JF_NULLABLE },
        { "nested", JSON_OBJECT, dispatch_item, offsetof(struct fuzz_target, nested), 0 },
        { "items", JSON_ARRAY, dispatch_items, 0, 0 },
        { "real", JSON_REAL, NULL, 0, 0 },
        { "any", (json_type) -1, NULL, 0, 0 },
        { "no", (json_type) -1, NULL, 0, JF_UNSUPPORTED },
        { NULL },
};

static void target_free(struct fuzz_target *t)
{
        free(t->s);
        strv_free(t->strv);
        free(t->nested.name);
        for (size_t i = 0; i < t->n_items; i++)
                free(t->items[i].name);
        free(t->items);
}

/* What we accepted, serialised, must parse again (nothing in it deeper, no NUL) to an equal value. */
static void round_trip(json_t *j)
{
        _cleanup_free_ char *text = json_dumps(j, JSON_COMPACT);
        if (!text)
                return; /* out of memory */
        _cleanup_json_ json_t *again = NULL;
        if (json_parse_limited(text, strlen(text), "dumped", SIZE_MAX, FUZZ_JSON_DEPTH, &again, NULL) < 0)
                abort();
        if (!json_equal(j, again))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > FUZZ_MAX_INPUT)
                return 0;
        _cleanup_json_ json_t *j = NULL;
        _cleanup_herror_ struct herror err = HERROR_INIT;
        if (json_parse_limited((const char *) data, size, "fuzz.json", FUZZ_MAX_INPUT, FUZZ_JSON_DEPTH, &j, &err) < 0)
                return 0;
        round_trip(j);
        struct fuzz_target t = { 0 };
        json_dispatch(j, "", table, &t, JD_REJECT_UNKNOWN, &err);
        target_free(&t);
        herror_clear(&err);
        /* Also as a lenient format, and an array root through the items dispatcher. */
        struct fuzz_target lenient = { 0 };
        if (json_is_array(j))
                dispatch_items("", j, &lenient, &err);
        else
                json_dispatch(j, "", table, &lenient, 0, &err);
        target_free(&lenient);
        return 0;
}
