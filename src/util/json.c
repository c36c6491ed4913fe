#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "util/fileio.h"
#include "util/json.h"

/* Nesting depth outside strings, honouring escapes. Runs before jansson, whose recursive descent would
 * otherwise follow a megabyte of '[' down the stack; a closer without an opener is left to jansson. */
static int scan_depth(const char *data, size_t len, unsigned max_depth)
{
        unsigned depth = 0;
        bool in_string = false;
        for (size_t i = 0; i < len; i++) {
                char c = data[i];
                if (in_string) {
                        if (c == '\\')
                                i++;
                        else if (c == '"')
                                in_string = false;
                        continue;
                }
                if (c == '"')
                        in_string = true;
                else if (c == '[' || c == '{') {
                        if (++depth > max_depth)
                                return -1;
                } else if ((c == ']' || c == '}') && depth > 0)
                        depth--;
        }
        return 0;
}

int json_parse_limited(const char *data, size_t len, const char *source, size_t max_size, unsigned max_depth,
                       json_t **ret, struct herror *err)
{
        if (!source)
                source = "<input>";
        if (!data && len > 0)
                return herror_set(err, EINVAL, "%s: no data", source);
        if (!data)
                data = ""; /* jansson calls a NULL buffer "wrong arguments" and gives no position */
        if (len > max_size)
                return herror_set(err, EFBIG, "%s: larger than the limit of %zu bytes", source, max_size);
        if (len > 0 && memchr(data, 0, len))
                return herror_set(err, EINVAL, "%s: contains a NUL byte", source);
        if (scan_depth(data, len, max_depth) < 0)
                return herror_set(err, EINVAL, "%s: nested deeper than %u levels", source, max_depth);
        json_error_t je;
        json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
        if (!j)
                return herror_set(err, EINVAL, "%s: line %d column %d: %s", source, je.line, je.column, je.text);
        if (!json_is_object(j) && !json_is_array(j)) {
                json_decref(j);
                return herror_set(err, EINVAL, "%s: the top level must be an object or an array", source);
        }
        *ret = j;
        return 0;
}

int json_read_file(int dirfd, const char *path, size_t max_size, json_t **ret, struct herror *err)
{
        _cleanup_free_ char *data = NULL;
        size_t len;
        int r = read_file_at(dirfd, path, max_size, &data, &len, err);
        if (r < 0)
                return r;
        return json_parse_limited(data, len, path, max_size, JSON_MAX_DEPTH_DEFAULT, ret, err);
}

void json_path_index(char *buf, size_t size, const char *jpath, size_t index)
{
        snprintf(buf, size, "%s[%zu]", jpath, index);
}

void json_path_key(char *buf, size_t size, const char *jpath, const char *key)
{
        snprintf(buf, size, "%s.%s", jpath, key);
}

static const char *type_name(json_type t)
{
        switch (t) {
        case JSON_OBJECT:
                return "an object";
        case JSON_ARRAY:
                return "an array";
        case JSON_STRING:
                return "a string";
        case JSON_INTEGER:
                return "an integer";
        case JSON_REAL:
                return "a number";
        case JSON_TRUE:
        case JSON_FALSE:
                return "a boolean";
        case JSON_NULL:
                return "null";
        default:
                return "a value";
        }
}

static bool type_matches(json_t *v, json_type want)
{
        if ((int) want == -1)
                return true;
        if (want == JSON_TRUE || want == JSON_FALSE)
                return json_is_boolean(v);
        return json_typeof(v) == want;
}

int json_dispatch(json_t *obj, const char *jpath, const struct json_field *table, void *base, unsigned flags,
                  struct herror *err)
{
        if (!json_is_object(obj))
                return herror_set(err, EINVAL, "%s: expected an object", jpath[0] ? jpath : ".");
        char path[512];
        for (const struct json_field *f = table; f->name; f++) {
                json_t *v = json_object_get(obj, f->name);
                json_path_key(path, sizeof path, jpath, f->name);
                if (!v) {
                        if (f->flags & JF_MANDATORY)
                                return herror_set(err, EINVAL, "%s: required property missing", path);
                        continue;
                }
                if (json_is_null(v) && (f->flags & (JF_NULLABLE | JF_UNSUPPORTED)))
                        continue;
                if (f->flags & JF_UNSUPPORTED)
                        return herror_set(err, EOPNOTSUPP, "%s: not supported by hutch", path);
                if (!type_matches(v, f->type))
                        return herror_set(err, EINVAL, "%s: expected %s", path, type_name(f->type));
                if (!f->dispatch)
                        continue;
                int r = f->dispatch(path, v, (char *) base + f->offset, err);
                if (r < 0)
                        return r;
        }
        if (flags & JD_REJECT_UNKNOWN) {
                const char *key;
                json_t *v;
                json_object_foreach (obj, key, v) {
                        bool known = false;
                        for (const struct json_field *f = table; f->name && !known; f++)
                                known = streq(f->name, key);
                        if (!known) {
                                json_path_key(path, sizeof path, jpath, key);
                                return herror_set(err, EINVAL, "%s: unknown property", path);
                        }
                }
        }
        return 0;
}

int json_dispatch_string(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        if (!json_is_string(v))
                return herror_set(err, EINVAL, "%s: expected a string", jpath);
        size_t len = json_string_length(v);
        const char *s = json_string_value(v);
        if (strlen(s) != len)
                return herror_set(err, EINVAL, "%s: contains a NUL byte", jpath);
        if (len > JSON_STRING_MAX)
                return herror_set(err, E2BIG, "%s: longer than %u bytes", jpath, JSON_STRING_MAX);
        char *copy = strdup(s);
        if (!copy)
                return herror_set(err, ENOMEM, "%s: out of memory", jpath);
        char **out = dst;
        free(*out);
        *out = copy;
        return 0;
}

int json_dispatch_bool(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        if (!json_is_boolean(v))
                return herror_set(err, EINVAL, "%s: expected a boolean", jpath);
        *(bool *) dst = json_is_true(v);
        return 0;
}

static int integer_in_range(const char *jpath, json_t *v, long long min, long long max, long long *ret,
                            struct herror *err)
{
        if (!json_is_integer(v))
                return herror_set(err, EINVAL, "%s: expected an integer", jpath);
        json_int_t i = json_integer_value(v);
        if (i < min || i > max)
                return herror_set(err, ERANGE, "%s: %lld is out of range (%lld to %lld)", jpath, (long long) i, min,
                                  max);
        *ret = i;
        return 0;
}

int json_dispatch_uint32(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        long long i;
        int r = integer_in_range(jpath, v, 0, UINT32_MAX, &i, err);
        if (r == 0)
                *(uint32_t *) dst = (uint32_t) i;
        return r;
}

int json_dispatch_int32(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        long long i;
        int r = integer_in_range(jpath, v, INT32_MIN, INT32_MAX, &i, err);
        if (r == 0)
                *(int32_t *) dst = (int32_t) i;
        return r;
}

int json_dispatch_int64(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        long long i;
        int r = integer_in_range(jpath, v, INT64_MIN, INT64_MAX, &i, err);
        if (r == 0)
                *(int64_t *) dst = (int64_t) i;
        return r;
}

/* jansson integers are signed 64-bit: larger values fail at parse time ("too big integer"). */
int json_dispatch_uint64(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        long long i;
        int r = integer_in_range(jpath, v, 0, INT64_MAX, &i, err);
        if (r == 0)
                *(uint64_t *) dst = (uint64_t) i;
        return r;
}

int json_dispatch_strv(const char *jpath, json_t *v, void *dst, struct herror *err)
{
        if (!json_is_array(v))
                return herror_set(err, EINVAL, "%s: expected an array of strings", jpath);
        size_t n = json_array_size(v);
        if (n > JSON_STRV_MAX)
                return herror_set(err, E2BIG, "%s: more than %u entries", jpath, JSON_STRV_MAX);
        _cleanup_strv_ char **strv = calloc(n + 1, sizeof *strv);
        if (!strv)
                return herror_set(err, ENOMEM, "%s: out of memory", jpath);
        for (size_t i = 0; i < n; i++) {
                char p[512];
                json_path_index(p, sizeof p, jpath, i);
                int r = json_dispatch_string(p, json_array_get(v, i), &strv[i], err);
                if (r < 0)
                        return r;
        }
        char ***out = dst;
        strv_free(*out);
        *out = TAKE_PTR(strv);
        return 0;
}
