#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sys/mman.h>

#include "image/digest.h"
#include "util/fileio.h"

#define ABC_SHA256 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void parses_valid(void **state)
{
        struct digest d;
        assert_int_equal(digest_parse("sha256:" ABC_SHA256, &d, NULL), 0);
        assert_string_equal(d.hex, ABC_SHA256);
        char buf[DIGEST_STRING_MAX];
        assert_string_equal(digest_to_string(&d, buf), "sha256:" ABC_SHA256);
        assert_true(digest_is_valid("sha256:" EMPTY_SHA256));
}

static void rejects(const char *s, int want)
{
        struct digest d = { .hex = "untouched" };
        _cleanup_herror_ struct herror err = HERROR_INIT;
        int r = digest_parse(s, &d, &err);
        if (r != -want)
                fail_msg("\"%s\": got %d, want %d", s ? s : "(null)", r, -want);
        assert_string_equal(d.hex, "untouched"); /* output untouched on failure */
        assert_non_null(err.msg);
        assert_false(digest_is_valid(s ? s : ""));
}

static void rejects_invalid(void **state)
{
        rejects(NULL, EINVAL);
        rejects("", EINVAL);
        rejects("sha256:", EINVAL);
        rejects("sha256:../x", EINVAL);
        rejects("sha256:../../../../etc/passwd", EINVAL);
        rejects("sha256:" ABC_SHA256 "/", EINVAL);
        rejects("sha256:" ABC_SHA256 "0", EINVAL);
        rejects("sha256:" ABC_SHA256 "\n", EINVAL);
        rejects("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", EINVAL);
        rejects("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a", EINVAL);
        rejects("sha256:zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", EINVAL);
        rejects("SHA256:" ABC_SHA256, EINVAL);
        rejects(ABC_SHA256, EINVAL);
        rejects("sha256 :" ABC_SHA256, EINVAL);
        rejects(":" ABC_SHA256, EINVAL);
        rejects("/sha256:" ABC_SHA256, EINVAL);
}

static void other_algorithms_unsupported(void **state)
{
        rejects("sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
                EOPNOTSUPP);
        rejects("blake3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262", EOPNOTSUPP);
        rejects("multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8", EOPNOTSUPP);
}

static void message_is_sanitised(void **state)
{
        _cleanup_herror_ struct herror err = HERROR_INIT;
        struct digest d;
        assert_int_equal(digest_parse("sha256:\x1b[31mred", &d, &err), -EINVAL);
        assert_null(strchr(herror_msg(&err), '\x1b'));
}

static void hashes_buffers_and_streams(void **state)
{
        struct digest d;
        assert_int_equal(digest_buffer("abc", 3, &d, NULL), 0);
        assert_string_equal(d.hex, ABC_SHA256);
        assert_int_equal(digest_buffer("", 0, &d, NULL), 0);
        assert_string_equal(d.hex, EMPTY_SHA256);
        struct sha256_stream s = { 0 };
        assert_int_equal(sha256_stream_init(&s, NULL), 0);
        assert_int_equal(sha256_stream_update(&s, "a", 1, NULL), 0);
        assert_int_equal(sha256_stream_update(&s, "bc", 2, NULL), 0);
        assert_int_equal(s.bytes, 3);
        assert_int_equal(sha256_stream_final(&s, &d, NULL), 0);
        assert_string_equal(d.hex, ABC_SHA256);
        sha256_stream_done(&s); /* after final: harmless */
        struct digest a, b;
        assert_int_equal(digest_parse("sha256:" ABC_SHA256, &a, NULL), 0);
        assert_int_equal(digest_parse("sha256:" EMPTY_SHA256, &b, NULL), 0);
        assert_true(digest_equal(&a, &d));
        assert_false(digest_equal(&a, &b));
}

/* FIPS 180-2 vectors: two blocks, and a million bytes fed in odd-sized pieces (block boundaries). */
static void hashes_multi_block_vectors(void **state)
{
        (void) state;
        char hex[SHA256_HEX_SIZE];
        sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
        assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
        static char a[1024]; /* pieces are at most 1003 bytes */
        memset(a, 'a', sizeof a);
        struct sha256 h;
        sha256_init(&h);
        size_t left = 1000000, piece = 1;
        while (left > 0) {
                size_t n = piece < left ? piece : left;
                sha256_update(&h, a, n);
                left -= n;
                piece = piece % 997 + 7;
        }
        uint8_t md[SHA256_DIGEST_SIZE];
        sha256_final(&h, md);
        sha256_to_hex(md, hex);
        assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void hashes_fds_with_limit(void **state)
{
        int fd = memfd_create("t", MFD_CLOEXEC);
        assert_true(fd >= 0);
        static char big[200000];
        memset(big, 'x', sizeof big);
        assert_int_equal(write_all(fd, "abc", 3), 0);
        lseek(fd, 0, SEEK_SET);
        struct digest d;
        uint64_t size = 0;
        assert_int_equal(digest_fd(fd, "t", 3, &d, &size, NULL), 0);
        assert_string_equal(d.hex, ABC_SHA256);
        assert_int_equal(size, 3);
        assert_int_equal(write_all(fd, big, sizeof big), 0);
        lseek(fd, 0, SEEK_SET);
        _cleanup_herror_ struct herror err = HERROR_INIT;
        assert_int_equal(digest_fd(fd, "t", 1000, &d, &size, &err), -EFBIG);
        assert_non_null(strstr(herror_msg(&err), "t: larger"));
        close(fd);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(parses_valid),
                cmocka_unit_test(rejects_invalid),
                cmocka_unit_test(other_algorithms_unsupported),
                cmocka_unit_test(message_is_sanitised),
                cmocka_unit_test(hashes_buffers_and_streams),
                cmocka_unit_test(hashes_multi_block_vectors),
                cmocka_unit_test(hashes_fds_with_limit),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
