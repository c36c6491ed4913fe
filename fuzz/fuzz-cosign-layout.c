/* Signatures found in an OCI layout the way `hutch load` finds cosign/skopeo signature artifacts: the
 * input is the signature manifest, stored as a blob of a scratch layout whose index.json names it
 * "sha256-<image digest>.sig". The layout also holds one signed payload (the shared vectors'), so layers
 * that point at it are read. Whatever is accepted must be at most COSIGN_MAX_SIGNATURES signatures whose
 * payloads are exactly the bytes of a blob the layout holds. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz/fuzz.h"
#include "image/digest.h"
#include "image/layout.h"
#include "trust/cosign-layout.h"
#include "util/fileio.h"

#define IMAGE_HEX "43d4055be4be7a0f4a4651189c6225ce2009280c855f0694c00290d51c253946"
#define IMAGE_DIGEST "sha256:" IMAGE_HEX

static const char payload[] =
        "{\"critical\":{\"identity\":{\"docker-reference\":\"registry.example/sandbox/tiny:v2\"},\"image\":"
        "{\"docker-manifest-digest\":\"" IMAGE_DIGEST "\"},"
        "\"type\":\"cosign container image signature\"},\"optional\":{\"creator\":\"containers/image 5.34.2\","
        "\"timestamp\":1795400802}}";

static int layoutfd = -1, blobsfd = -1;
static char last_blob[DIGEST_HEX_LEN + 1];

/* Plain writes, not atomic_write_at(): its fsync would make every input cost milliseconds. */
static void put(int dirfd, const char *name, const void *data, size_t len)
{
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || write_all(fd, data, len) < 0 || close(fd) < 0)
                fuzz_die(name);
}

static void init_once(void)
{
        if (layoutfd >= 0)
                return;
        layoutfd = open(fuzz_scratch_dir("cosign-layout"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (layoutfd < 0 || mkdirat(layoutfd, "blobs", 0755) < 0 || mkdirat(layoutfd, "blobs/sha256", 0755) < 0)
                fuzz_die("layout");
        blobsfd = openat(layoutfd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (blobsfd < 0)
                fuzz_die("blobs");
        static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
        put(layoutfd, "oci-layout", layout, sizeof layout - 1);
        struct digest d;
        if (digest_buffer(payload, sizeof payload - 1, &d, NULL) < 0)
                fuzz_die("digest");
        put(blobsfd, d.hex, payload, sizeof payload - 1);
}

/* The input as the signature manifest blob, and index.json naming it. */
static void store_manifest(const uint8_t *data, size_t size)
{
        struct digest d;
        if (digest_buffer(data, size, &d, NULL) < 0)
                fuzz_die("digest");
        if (last_blob[0] && !streq(last_blob, d.hex) && unlinkat(blobsfd, last_blob, 0) < 0)
                fuzz_die("unlink");
        put(blobsfd, d.hex, data, size);
        snprintf(last_blob, sizeof last_blob, "%s", d.hex);
        char index[512];
        int n = snprintf(index, sizeof index,
                         "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" OCI_MEDIA_TYPE_MANIFEST "\","
                         "\"digest\":\"sha256:%s\",\"size\":%zu,\"annotations\":{\"org.opencontainers.image.ref.name\":"
                         "\"sha256-" IMAGE_HEX ".sig\"}}]}",
                         d.hex, size);
        put(layoutfd, "index.json", index, (size_t) n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > FUZZ_MAX_INPUT)
                return 0;
        init_once();
        store_manifest(data, size);
        struct sigstore_signature *sigs = NULL;
        size_t n = 0;
        struct herror err = HERROR_INIT;
        if (cosign_layout_find_signatures(layoutfd, IMAGE_DIGEST, &sigs, &n, &err) == 0) {
                if (n > COSIGN_MAX_SIGNATURES)
                        fuzz_die("too many signatures");
                for (size_t i = 0; i < n; i++) {
                        bool is_payload = sigs[i].payload_len == sizeof payload - 1 &&
                                memcmp(sigs[i].payload, payload, sizeof payload - 1) == 0;
                        bool is_manifest =
                                sigs[i].payload_len == size && (size == 0 || memcmp(sigs[i].payload, data, size) == 0);
                        if (!is_payload && !is_manifest)
                                fuzz_die("a payload that is no blob of the layout");
                        if (!sigs[i].origin)
                                fuzz_die("a signature without an origin");
                }
                sigstore_signatures_free(sigs, n);
        } else if (!herror_msg(&err)[0]) {
                fuzz_die("a refusal without a message");
        }
        herror_clear(&err);
        return 0;
}
