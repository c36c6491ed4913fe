/* The sinks beside the file: journald (native protocol), syslog (LOG_AUTHPRIV) and the kernel audit
 * subsystem (NETLINK_AUDIT user messages). journald and the kernel stamp each entry with the sender's
 * credentials themselves (_UID, _PID, _AUDIT_LOGINUID; uid=, auid=, ses=), which the sender cannot forge:
 * they are the anchors a rewritten file log can be checked against. */
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit-internal.h"
#include "util/fileio.h"

/* ---- journald ------------------------------------------------------------------------------------- */

/* Fixed per event (docs/audit.md), so `journalctl MESSAGE_ID=...` finds every hutch start, end or refusal. */
static const char *const message_ids[_AUDIT_EVENT_MAX] = {
        [AUDIT_EVENT_START] = "93d0e0e18f2a4e2b9c3ec08a8d67a0e5",
        [AUDIT_EVENT_END] = "05b3112233c740a49d51600b63740c2a",
        [AUDIT_EVENT_REFUSAL] = "ec3c5d2357ac4299be7ed29f110972bf",
};

struct buf {
        char *data;
        size_t len, cap;
        bool oom;
};

static void buf_done(struct buf *b)
{
        free(b->data);
}

static void buf_add(struct buf *b, const void *p, size_t n)
{
        if (b->oom)
                return;
        if (b->len + n > b->cap) {
                size_t cap = b->cap ? b->cap : 4096;
                while (cap < b->len + n)
                        cap *= 2;
                char *d = realloc(b->data, cap);
                if (!d) {
                        b->oom = true;
                        return;
                }
                b->data = d;
                b->cap = cap;
        }
        memcpy(b->data + b->len, p, n);
        b->len += n;
}

/* One field: "KEY=value\n", or for a value with a newline the binary form "KEY\n" le64 length, value "\n". */
static void field(struct buf *b, const char *key, const char *value, size_t len)
{
        buf_add(b, key, strlen(key));
        if (!memchr(value, '\n', len)) {
                buf_add(b, "=", 1);
                buf_add(b, value, len);
        } else {
                uint64_t le = htole64((uint64_t) len);
                buf_add(b, "\n", 1);
                buf_add(b, &le, sizeof le);
                buf_add(b, value, len);
        }
        buf_add(b, "\n", 1);
}

/* HUTCH_<MEMBER>[_<SUBMEMBER>] for the record's members: strings as they are, anything else as JSON. */
static void json_fields(struct buf *b, const char *prefix, const json_t *o, bool nest)
{
        const char *k;
        json_t *v;
        json_object_foreach ((json_t *) o, k, v) {
                char key[128];
                snprintf(key, sizeof key, "%s_%s", prefix, k);
                for (char *p = key; *p; p++)
                        *p = (char) (*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
                if (json_is_null(v))
                        continue;
                if (json_is_object(v) && nest) {
                        json_fields(b, key, v, false);
                } else if (json_is_string(v)) {
                        field(b, key, json_string_value(v), json_string_length(v));
                } else {
                        _cleanup_free_ char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
                        if (text)
                                field(b, key, text, strlen(text));
                }
        }
}

static const char *member(const json_t *o, const char *a, const char *b)
{
        json_t *v = json_object_get(o, a);
        if (b)
                v = json_object_get(v, b);
        return json_is_string(v) ? json_string_value(v) : NULL;
}

static void summary(const struct audit_record *rec, const json_t *body, char *out, size_t size)
{
        const char *id = member(body, "container", "id"), *img = member(body, "image", "ref");
        const char *who = member(body, "user", "name");
        json_t *uid = json_object_get(json_object_get(body, "user"), "uid");
        int n = snprintf(out, size, "hutch %s: container %s%s%s by %s (uid %lld)", audit_event_to_string(rec->event),
                         id ? id : "-", img ? " image " : "", img ? img : "", who ? who : "?",
                         (long long) json_integer_value(uid));
        if (n < 0 || (size_t) n >= size)
                return;
        if (rec->event == AUDIT_EVENT_REFUSAL && rec->reason)
                snprintf(out + n, size - (size_t) n, ": %s", rec->reason);
        else if (rec->event == AUDIT_EVENT_END && rec->has_exit)
                snprintf(out + n, size - (size_t) n, ": %s %d", rec->exit_signal ? "killed by signal" : "exit status",
                         rec->exit_signal ? rec->exit_signal : rec->exit_status);
}

/* journald's protocol for datagrams too large for the socket: the payload in a sealed memfd, passed as
 * the only content of an empty datagram. */
static int send_memfd(int sock, const struct sockaddr_un *sa, socklen_t salen, const struct buf *b)
{
        _cleanup_close_ int mfd = memfd_create("hutch-audit", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (mfd < 0)
                return -errno;
        int r = write_all(mfd, b->data, b->len);
        if (r < 0)
                return r;
        if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
                return -errno;
        union {
                struct cmsghdr h;
                char space[CMSG_SPACE(sizeof(int))];
        } control = { 0 };
        struct msghdr mh = {
                .msg_name = (void *) sa, .msg_namelen = salen, .msg_control = &control, .msg_controllen = sizeof control
        };
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &mfd, sizeof(int));
        return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

int audit_journald_send(const char *socket_path, const struct audit_record *rec, const json_t *body, struct herror *err)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(socket_path) >= sizeof sa.sun_path)
                return herror_set(err, ENAMETOOLONG, "journald socket %s: path too long", socket_path);
        strcpy(sa.sun_path, socket_path);
        char msg[1024], prio = rec->event == AUDIT_EVENT_REFUSAL ? '4' : '6';
        summary(rec, body, msg, sizeof msg);
        _cleanup_(buf_done) struct buf b = { 0 };
        field(&b, "MESSAGE", msg, strlen(msg));
        field(&b, "MESSAGE_ID", message_ids[rec->event], 32);
        field(&b, "PRIORITY", &prio, 1);
        field(&b, "SYSLOG_IDENTIFIER", "hutch", 5);
        field(&b, "SYSLOG_FACILITY", "10", 2); /* authpriv */
        json_fields(&b, "HUTCH", body, true);
        if (b.oom)
                return herror_set(err, ENOMEM, "out of memory");
        _cleanup_close_ int sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (sock < 0)
                return herror_sys(err, errno, "journald: socket");
        socklen_t salen = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + strlen(sa.sun_path) + 1);
        if (sendto(sock, b.data, b.len, MSG_NOSIGNAL, (struct sockaddr *) &sa, salen) >= 0)
                return 0;
        int e = errno;
        if (e == EMSGSIZE || e == ENOBUFS) {
                int r = send_memfd(sock, &sa, salen, &b);
                if (r == 0)
                        return 0;
                e = -r;
        }
        return herror_sys(err, e, "journald: send to %s", socket_path);
}

/* ---- syslog --------------------------------------------------------------------------------------- */

/* glibc's syslog(3) reports no failure, which required mode cannot live with: the datagram is sent here,
 * in the form syslog(3) gives it (RFC 3164, local time stamp), and a failed send is an error. */
int audit_syslog_send(const char *socket_path, const json_t *body, struct herror *err)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(socket_path) >= sizeof sa.sun_path)
                return herror_set(err, ENAMETOOLONG, "syslog socket %s: path too long", socket_path);
        strcpy(sa.sun_path, socket_path);
        _cleanup_free_ char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!text)
                return herror_set(err, ENOMEM, "out of memory");
        char stamp[32], head[96];
        struct tm tm;
        time_t now = time(NULL);
        strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", localtime_r(&now, &tm));
        snprintf(head, sizeof head, "<%d>%s hutch[%d]: audit ", LOG_AUTHPRIV | LOG_INFO, stamp, (int) getpid());
        struct iovec iov[2] = { { head, strlen(head) }, { text, strlen(text) } };
        struct msghdr mh = { .msg_name = &sa, .msg_namelen = sizeof sa, .msg_iov = iov, .msg_iovlen = 2 };
        _cleanup_close_ int sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (sock < 0)
                return herror_sys(err, errno, "syslog: socket");
        if (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
                return herror_sys(err, errno, "syslog: send to %s%s", socket_path,
                                  errno == ENOENT || errno == ECONNREFUSED ? " (no syslog daemon listening?)" : "");
        return 0;
}

/* ---- kernel audit --------------------------------------------------------------------------------- */

/* libaudit.h's numbers; the kernel headers do not carry the user message types. */
#define HUTCH_AUDIT_USER_START 1105
#define HUTCH_AUDIT_USER_END 1106
#define HUTCH_AUDIT_USER_ERR 1109
#define HUTCH_AUDIT_MAX_MESSAGE 8970
#define CAP_AUDIT_WRITE_BIT 29

bool audit_kernel_available(void)
{
        char status[8192];
        _cleanup_close_ int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read_all(fd, status, sizeof status - 1) : -1;
        if (n <= 0)
                return false;
        status[n] = 0;
        const char *eff = strstr(status, "\nCapEff:\t");
        unsigned long long caps = 0;
        return eff && sscanf(eff + 9, "%llx", &caps) == 1 && (caps >> CAP_AUDIT_WRITE_BIT) & 1;
}

/* auditd's value encoding: quoted when plain, hex when it holds a space, quote, control byte or non-ASCII
 * (so a container name cannot forge "res=success" into the record). */
static void encode_value(char *out, size_t size, const char *v)
{
        bool plain = *v != 0;
        for (const unsigned char *p = (const unsigned char *) v; *p; p++)
                if (*p <= ' ' || *p == '"' || *p >= 0x7f)
                        plain = false;
        if (plain) {
                snprintf(out, size, "\"%s\"", v);
                return;
        }
        size_t k = 0;
        for (const unsigned char *p = (const unsigned char *) v; *p && k + 3 < size; p++)
                k += (size_t) snprintf(out + k, size - k, "%02X", *p);
        out[k] = 0;
        if (k == 0)
                snprintf(out, size, "?");
}

static void kernel_text(const struct audit_record *rec, const struct audit_identity *id, char *out, size_t size)
{
        char acct[600], cid[600], img[1200], reason[1200];
        encode_value(acct, sizeof acct, id->user[0] ? id->user : "?");
        encode_value(cid, sizeof cid, rec->container_id ? rec->container_id : "?");
        encode_value(img, sizeof img, rec->image_ref ? rec->image_ref : "?");
        encode_value(reason, sizeof reason, rec->reason ? rec->reason : "?");
        int n = snprintf(out, size, "op=hutch-%s acct=%s container=%s image=%s", audit_event_to_string(rec->event),
                         acct, cid, img);
        if (n > 0 && (size_t) n < size && rec->event == AUDIT_EVENT_REFUSAL)
                n += snprintf(out + n, size - (size_t) n, " reason=%s", reason);
        if (n > 0 && (size_t) n < size && rec->has_exit)
                n += snprintf(out + n, size - (size_t) n, " exit=%d signal=%d", rec->exit_status, rec->exit_signal);
        if (n > 0 && (size_t) n < size)
                snprintf(out + n, size - (size_t) n, " exe=\"/proc/%d/exe\" hostname=? addr=? terminal=? res=%s",
                         (int) id->hutch_pid, rec->event == AUDIT_EVENT_REFUSAL ? "failed" : "success");
}

static int kernel_ack(int fd)
{
        char buf[NLMSG_SPACE(sizeof(struct nlmsgerr)) + 256];
        struct pollfd p = { .fd = fd, .events = POLLIN };
        /* the kernel answers at once; a second is far beyond any real delay */
        int n = poll(&p, 1, 1000);
        if (n <= 0)
                return n == 0 ? -ETIMEDOUT : -errno;
        ssize_t len = recv(fd, buf, sizeof buf, 0);
        if (len < (ssize_t) NLMSG_SPACE(sizeof(struct nlmsgerr)))
                return len < 0 ? -errno : -EIO;
        struct nlmsghdr *h = (struct nlmsghdr *) buf;
        if (h->nlmsg_type != NLMSG_ERROR)
                return -EIO;
        return ((struct nlmsgerr *) NLMSG_DATA(h))->error;
}

int audit_kernel_send(const struct audit_record *rec, const struct audit_identity *id, struct herror *err)
{
        static const int types[_AUDIT_EVENT_MAX] = {
                [AUDIT_EVENT_START] = HUTCH_AUDIT_USER_START,
                [AUDIT_EVENT_END] = HUTCH_AUDIT_USER_END,
                [AUDIT_EVENT_REFUSAL] = HUTCH_AUDIT_USER_ERR,
        };
        _cleanup_close_ int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
        if (fd < 0)
                return errno == EPROTONOSUPPORT || errno == EAFNOSUPPORT
                        ? 0
                        : herror_sys(err, errno, "kernel audit: socket");
        struct {
                struct nlmsghdr h;
                char text[HUTCH_AUDIT_MAX_MESSAGE];
        } req = { 0 };
        kernel_text(rec, id, req.text, sizeof req.text);
        req.h.nlmsg_len = (uint32_t) NLMSG_LENGTH(strlen(req.text) + 1);
        req.h.nlmsg_type = (uint16_t) types[rec->event];
        req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
        req.h.nlmsg_seq = 1;
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
        if (sendto(fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *) &sa, sizeof sa) < 0) {
                /* ECONNREFUSED: not the initial user/pid namespace; EPERM: no CAP_AUDIT_WRITE */
                if (errno == ECONNREFUSED || errno == EPERM)
                        return 0;
                return herror_sys(err, errno, "kernel audit: send");
        }
        int r = kernel_ack(fd);
        if (r == -ECONNREFUSED || r == -EPERM)
                return 0;
        if (r < 0)
                return herror_sys(err, -r, "kernel audit: the kernel refused the record");
        return 1;
}
