/* Public keys in PEM (policy keyData after base64, key files): one "PUBLIC KEY" block decoded to DER
 * SubjectPublicKeyInfo and classified. What is accepted must be one of the supported types, within the
 * size limits, and named by a well-formed fingerprint. */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "trust/keys.h"

static void check_key(const struct trust_key *k)
{
        const char *id = trust_key_id(k);
        if (trust_key_type(k) >= _TRUST_KEY_TYPE_MAX || strncmp(id, "sha256:", 7) != 0 ||
            strlen(id) != TRUST_KEY_ID_SIZE - 1 || strspn(id + 7, "0123456789abcdef") != 64)
                abort();
        unsigned bits = trust_key_bits(k);
        if (trust_key_type(k) == TRUST_KEY_RSA && (bits < TRUST_RSA_MIN_BITS || bits > TRUST_RSA_MAX_BITS))
                abort();
        if (!trust_key_evp(k) || !streq(trust_key_source(k), "fuzz.pem"))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > FUZZ_MAX_INPUT)
                return 0;
        struct trust_key *k = NULL;
        struct herror err = HERROR_INIT;
        if (trust_key_from_pem(data, size, "fuzz.pem", &k, &err) == 0) {
                check_key(k);
                trust_key_free(k);
        } else if (!herror_msg(&err)[0]) {
                abort(); /* every refusal says why */
        }
        herror_clear(&err);
        return 0;
}
