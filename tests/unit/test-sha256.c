/* util/sha256: the portable implementation and OpenSSL's (once libcrypto is loaded) against the FIPS 180-4
 * examples, and against each other over every length around the block and padding boundaries, fed whole and
 * in pieces. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "util/crypto-dl.h"
#include "util/sha256.h"

static const struct {
        const char *in;
        size_t repeat;
        const char *hex;
} vectors[] = {
        { "", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
        { "abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
        { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
        { "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
          1, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
        { "a", 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
};

static void hash_vector(size_t i, char hex[static SHA256_HEX_SIZE])
{
        struct sha256 h;
        uint8_t md[SHA256_DIGEST_SIZE];
        sha256_init(&h);
        for (size_t k = 0; k < vectors[i].repeat; k++)
                sha256_update(&h, vectors[i].in, strlen(vectors[i].in));
        sha256_final(&h, md);
        sha256_to_hex(md, hex);
}

static void check_vectors(bool want_ossl)
{
        struct sha256 probe;
        sha256_init(&probe);
        assert_int_equal(probe.ossl, want_ossl);
        for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
                char hex[SHA256_HEX_SIZE];
                hash_vector(i, hex);
                assert_string_equal(hex, vectors[i].hex);
        }
}

static void portable_matches_fips_examples(void **state)
{
        (void) state;
        /* this binary links libcrypto for other tests, but hutch's loader has not run: portable */
        assert_false(crypto_dl_loaded);
        check_vectors(false);
}

/* every length from 0 to 300 (all fill states and both padding cases), whole and in 1/7/63-byte pieces */
static void portable_agrees_with_openssl(void **state)
{
        (void) state;
        uint8_t data[300];
        for (size_t i = 0; i < sizeof data; i++)
                data[i] = (uint8_t) (i * 131 + 7);
        char portable[301][SHA256_HEX_SIZE];
        assert_false(crypto_dl_loaded);
        for (size_t n = 0; n <= 300; n++)
                sha256_hex(data, n, portable[n]);
        struct herror err = HERROR_INIT;
        assert_int_equal(crypto_dl_load(&err), 0);
        static const size_t pieces[] = { 1, 7, 63 };
        for (size_t n = 0; n <= 300; n++) {
                char ossl[SHA256_HEX_SIZE];
                sha256_hex(data, n, ossl);
                assert_string_equal(portable[n], ossl);
                for (size_t p = 0; p < 3; p++) {
                        struct sha256 h;
                        uint8_t md[SHA256_DIGEST_SIZE];
                        char hex[SHA256_HEX_SIZE];
                        crypto_dl_loaded = false; /* the portable one, fed in pieces */
                        sha256_init(&h);
                        crypto_dl_loaded = true;
                        assert_false(h.ossl);
                        for (size_t o = 0; o < n; o += pieces[p])
                                sha256_update(&h, data + o, n - o < pieces[p] ? n - o : pieces[p]);
                        sha256_final(&h, md);
                        sha256_to_hex(md, hex);
                        assert_string_equal(hex, ossl);
                }
        }
        check_vectors(true);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(portable_matches_fips_examples),
                cmocka_unit_test(portable_agrees_with_openssl),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
