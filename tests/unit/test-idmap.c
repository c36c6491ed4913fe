#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sandbox/idmap.h"

#define M(c, h, s)                                               \
        (struct spec_idmap)                                      \
        {                                                        \
                .container_id = (c), .host_id = (h), .size = (s) \
        }

static void expect_maps(const struct spec_idmap *got, int n, const struct spec_idmap *want, int n_want)
{
        assert_int_equal(n, n_want);
        for (int i = 0; i < n; i++) {
                assert_int_equal(got[i].container_id, want[i].container_id);
                assert_int_equal(got[i].host_id, want[i].host_id);
                assert_int_equal(got[i].size, want[i].size);
        }
}

/* the pause namespace's map: own uid 1000 at 0, the subordinate range after it */
static const struct spec_idmap pause_map[] = { { 0, 1000, 1 }, { 1, 200000, 65536 } };

static void same_map_becomes_identity_split_at_parent_ranges(void **state)
{
        (void) state;
        struct spec_idmap out[8];
        int n = idmap_translate(pause_map, 2, pause_map, 2, out, 8);
        expect_maps(out, n, (struct spec_idmap[]) { M(0, 0, 1), M(1, 1, 65536) }, 2);
}

static void keep_id_map_lands_on_parent_ids(void **state)
{
        (void) state;
        /* --userns=keep-id: 1000 stays 1000, the subordinate IDs fill the rest around it */
        const struct spec_idmap keep[] = { M(1000, 1000, 1), M(0, 200000, 1000), M(1001, 201000, 64536) };
        struct spec_idmap out[8];
        int n = idmap_translate(keep, 3, pause_map, 2, out, 8);
        expect_maps(out, n, (struct spec_idmap[]) { M(1000, 0, 1), M(0, 1, 1000), M(1001, 1001, 64536) }, 3);
}

static void range_crossing_parent_ranges_is_split(void **state)
{
        (void) state;
        /* adjacent host ranges that the parent maps from two separate places */
        const struct spec_idmap parent[] = { M(10, 500, 5), M(100, 505, 5) };
        const struct spec_idmap want[] = { M(0, 502, 6) };
        struct spec_idmap out[8];
        int n = idmap_translate(want, 1, parent, 2, out, 8);
        expect_maps(out, n, (struct spec_idmap[]) { M(0, 12, 3), M(3, 100, 3) }, 2);
}

static void host_ids_outside_the_parent_are_refused(void **state)
{
        (void) state;
        struct spec_idmap out[8];
        /* one ID past the end of the subordinate range */
        assert_int_equal(idmap_translate((struct spec_idmap[]) { M(0, 200000, 65537) }, 1, pause_map, 2, out, 8),
                         -ERANGE);
        assert_int_equal(idmap_translate((struct spec_idmap[]) { M(0, 999, 1) }, 1, pause_map, 2, out, 8), -ERANGE);
        assert_int_equal(idmap_translate((struct spec_idmap[]) { M(0, 1000, 1) }, 1, NULL, 0, out, 8), -ERANGE);
        /* a range running past the top of the ID space */
        const struct spec_idmap top[] = { M(0, UINT32_MAX - 1, 2) };
        assert_int_equal(idmap_translate((struct spec_idmap[]) { M(0, UINT32_MAX - 1, 3) }, 1, top, 1, out, 8),
                         -ERANGE);
}

static void output_limit_is_honoured(void **state)
{
        (void) state;
        struct spec_idmap out[1];
        assert_int_equal(idmap_translate(pause_map, 2, pause_map, 2, out, 1), -E2BIG);
        assert_int_equal(idmap_translate(pause_map, 0, pause_map, 2, out, 1), 0);
}

static void user_map_puts_own_id_at_self(void **state)
{
        (void) state;
        struct subid_range v[] = { { .start = 200000, .count = 65536 } };
        struct subid_ranges sub = { .v = v, .n = 1 };
        struct spec_idmap m[IDMAP_USER_MAP_MAX];
        size_t n = idmap_build_user_map(m, IDMAP_USER_MAP_MAX, 1000, 0, &sub);
        expect_maps(m, (int) n, pause_map, 2);
        n = idmap_build_user_map(m, IDMAP_USER_MAP_MAX, 1000, 1000, &sub);
        expect_maps(m, (int) n, (struct spec_idmap[]) { M(1000, 1000, 1), M(0, 200000, 1000), M(1001, 201000, 64536) },
                    3);
        sub.n = 0;
        n = idmap_build_user_map(m, IDMAP_USER_MAP_MAX, 1000, 0, &sub);
        expect_maps(m, (int) n, (struct spec_idmap[]) { M(0, 1000, 1) }, 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(same_map_becomes_identity_split_at_parent_ranges),
                cmocka_unit_test(keep_id_map_lands_on_parent_ids),
                cmocka_unit_test(range_crossing_parent_ranges_is_split),
                cmocka_unit_test(host_ids_outside_the_parent_are_refused),
                cmocka_unit_test(output_limit_is_honoured),
                cmocka_unit_test(user_map_puts_own_id_at_self),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
