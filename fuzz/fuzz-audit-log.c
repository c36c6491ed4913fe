/* The audit log as `hutch audit verify` reads it (the log is what an attacker who got write access would
 * tamper with), then each line as `hutch audit show` and `hutch events` parse, filter and print it. The
 * input's first byte picks the key verify is given: 'h' the HMAC key, 's' the Ed25519 public key (the
 * seeds in fuzz/corpus/audit-log were written by hutch with these keys), anything else none; the rest is
 * the log. A log that verifies must count no more records than it has lines, and with a key every
 * record must have been checked. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "cli/audit-view.h"
#include "fuzz/fuzz.h"
#include "util/fileio.h"

static const char hmac_key[] = "hutch-fuzz-audit-hmac-key-32byte";
static const char ed25519_pub[] = "-----BEGIN PUBLIC KEY-----\n"
                                  "MCowBQYDK2VwAyEAiNEyIcXJn20vgbDkuaCCzBTEtSoiLrxTSr2tzNlC5EY=\n"
                                  "-----END PUBLIC KEY-----\n";
static char hmac_path[96], pub_path[96];
static FILE *devnull;

static void write_key(char *path, size_t size, const char *dir, const char *name, const char *data)
{
        snprintf(path, size, "%s/%s", dir, name);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || write_all(fd, data, strlen(data)) < 0 || close(fd) < 0)
                fuzz_die(path);
}

static void init_once(void)
{
        if (devnull)
                return;
        const char *dir = fuzz_scratch_dir("audit-log");
        write_key(hmac_path, sizeof hmac_path, dir, "hmac.key", hmac_key);
        write_key(pub_path, sizeof pub_path, dir, "pub.pem", ed25519_pub);
        if (!(devnull = fopen("/dev/null", "we")))
                fuzz_die("/dev/null");
}

static void verify(const char *log, size_t len, char mode)
{
        int fd = memfd_create("audit.log", MFD_CLOEXEC);
        if (fd < 0 || write_all(fd, log, len) < 0)
                fuzz_die("memfd");
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        const char *paths[] = { path };
        struct audit_verify_opts o = { .hmac_key_path = mode == 'h' ? hmac_path : NULL,
                                       .pubkey_path = mode == 's' ? pub_path : NULL };
        struct audit_verify_result res;
        struct herror err = HERROR_INIT;
        if (audit_verify(paths, 1, &o, &res, &err) == 0) {
                size_t lines = 0;
                for (size_t i = 0; i < len; i++)
                        lines += log[i] == '\n';
                if (res.records > lines || strlen(res.last_hash) != 64 || res.files != 1)
                        fuzz_die("verified, but the counts are wrong");
                if ((mode == 'h' || mode == 's') && res.records > 0 && !res.macs_checked)
                        fuzz_die("a key was given, but records passed unchecked");
        } else if (!herror_msg(&err)[0]) {
                fuzz_die("a refusal without a message");
        }
        herror_clear(&err);
        close(fd);
}

static void show(const char *log, size_t len)
{
        struct audit_filter f = { .user = "root", .image = "busybox" };
        snprintf(f.since, sizeof f.since, "2026-01-01T00:00:00");
        for (const char *p = log, *end = log + len; p < end;) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t l = nl ? (size_t) (nl - p) : (size_t) (end - p);
                json_t *rec = audit_view_parse(p, l);
                if (rec) {
                        audit_filter_match(&f, rec);
                        audit_view_print(devnull, rec, p, false);
                        json_decref(rec);
                }
                p += l + 1;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > FUZZ_MAX_INPUT || size < 1)
                return 0;
        init_once();
        verify((const char *) data + 1, size - 1, (char) data[0]);
        show((const char *) data + 1, size - 1);
        return 0;
}
