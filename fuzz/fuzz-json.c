/* The JSON edge: limits, then a dispatch table with every standard dispatcher. */
#include "fuzz/fuzz.h"
#include "util/json.h"

struct fuzz_target {
        char *s;
        bool b;
        uint32_t u32;
        int32_t i32;
        int64_t i64;
        uint64_t u64;
        char **strv;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const struct json_field t[] = {
                { "s", JSON_STRING, json_dispatch_string, offsetof(struct fuzz_target, s), 0 },
                { "b", JSON_TRUE, json_dispatch_bool, offsetof(struct fuzz_target, b), 0 },
                { "u32", JSON_INTEGER, json_dispatch_uint32, offsetof(struct fuzz_target, u32), 0 },
                { "i32", JSON_INTEGER, json_dispatch_int32, offsetof(struct fuzz_target, i32), JF_NULLABLE },
                { "i64", JSON_INTEGER, json_dispatch_int64, offsetof(struct fuzz_target, i64), 0 },
                { "u64", JSON_INTEGER, json_dispatch_uint64, offsetof(struct fuzz_target, u64), 0 },
                { "strv", JSON_ARRAY, json_dispatch_strv, offsetof(struct fuzz_target, strv), 0 },
                { "no", (json_type) -1, NULL, 0, JF_UNSUPPORTED },
                { NULL },
        };
        if (size > FUZZ_MAX_INPUT)
                return 0;
        json_t *j = NULL;
        struct herror err = HERROR_INIT;
        if (json_parse_limited((const char *) data, size, "fuzz.json", FUZZ_MAX_INPUT, 16, &j, &err) == 0) {
                struct fuzz_target ft = { 0 };
                json_dispatch(j, "", t, &ft, JD_REJECT_UNKNOWN, &err);
                free(ft.s);
                strv_free(ft.strv);
                json_decref(j);
        }
        herror_clear(&err);
        return 0;
}
