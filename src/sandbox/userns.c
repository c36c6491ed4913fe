#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/kernel.h"
#include "sandbox/pause.h"
#include "sandbox/userns.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/log.h"

struct net_report {
        int errnum;
        char step[64];
};

/* close_range() around the descriptors in keep (negative ones ignored). */
static void close_all_except(int *keep, size_t n)
{
        for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
                        int t = keep[j];
                        keep[j] = keep[j - 1];
                        keep[j - 1] = t;
                }
        unsigned from = 0;
        for (size_t i = 0; i < n; i++) {
                if (keep[i] < 0)
                        continue;
                if ((unsigned) keep[i] > from)
                        syscall(SYS_close_range, from, (unsigned) keep[i] - 1, 0U);
                from = (unsigned) keep[i] + 1;
        }
        syscall(SYS_close_range, from, ~0U, 0U);
}

int sandbox_loopback_up(const char **ret_step)
{
        _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return *ret_step = "socket for the loopback interface", -errno;
        struct ifreq ifr = { .ifr_name = "lo" };
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return *ret_step = "read the flags of lo", -errno;
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                return *ret_step = "bring lo up", -errno;
        return 0;
}

/* Making a network namespace costs a third of a millisecond: the holder makes the container's while the
 * launcher builds the spec, and reports on net_ready (an errno, 0 for done); the init joins it. */
static void holder_make_netns(int net_ready)
{
        const char *step = "make the network namespace";
        int r = unshare(CLONE_NEWNET) < 0 ? -errno : sandbox_loopback_up(&step);
        struct net_report rep = { .errnum = -r };
        snprintf(rep.step, sizeof rep.step, "%s", r < 0 ? step : "");
        if (write(net_ready, &rep, sizeof rep) != (ssize_t) sizeof rep)
                _exit(EXIT_FAILURE);
        close(net_ready);
}

/* The holder keeps nothing of the launcher but the pipes it uses: a copied descriptor of a lock or of
 * the audit log would otherwise live as long as it does. */
static _noreturn_ void holder_main(int rd, int net_ready, pid_t launcher)
{
        sigset_t all;
        sigfillset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != launcher)
                _exit(EXIT_FAILURE);
        close_all_except((int[]) { rd, net_ready }, 2);
        if (net_ready >= 0)
                holder_make_netns(net_ready);
        char c;
        while (read(rd, &c, 1) < 0 && errno == EINTR)
                ;
        _exit(EXIT_SUCCESS);
}

/* The pipes of a holder: hold[1] stays with the launcher (the holder exits at its EOF), net[0] too
 * when the holder makes a network namespace. */
struct holder_pipes {
        int hold[2], net[2];
};

static int holder_pipes_open(struct holder_pipes *p, bool with_net, struct herror *err)
{
        *p = (struct holder_pipes) { { -1, -1 }, { -1, -1 } };
        if (pipe2(p->hold, O_CLOEXEC) < 0 || (with_net && pipe2(p->net, O_CLOEXEC) < 0)) {
                int e = errno;
                closep(&p->hold[0]);
                closep(&p->hold[1]);
                return herror_sys(err, e, "pipe for the user namespace holder");
        }
        return 0;
}

/* After the fork: the launcher keeps its ends in u, the holder's ends are closed here. */
static void holder_pipes_keep(struct holder_pipes *p, struct sandbox_userns *u)
{
        closep(&p->hold[0]);
        closep(&p->net[1]);
        u->holder_pipe = p->hold[1];
        u->net_ready = p->net[0];
}

/* A namespace of the holder's, checked to be the holder's through its pidfd. */
static int open_holder_ns(const struct sandbox_userns *u, const char *type, struct herror *err)
{
        int fd = kernel_open_ns(u->holder, u->holder_pidfd, type);
        if (fd < 0)
                return herror_sys(err, -fd, "open the %s namespace of the user namespace holder (pid %d)", type,
                                  (int) u->holder);
        return fd;
}

static int open_holder_userns(struct sandbox_userns *u, struct herror *err)
{
        int fd = open_holder_ns(u, "user", err);
        if (fd < 0)
                return fd;
        u->fd = fd;
        return 0;
}

static int start_holder(struct sandbox_userns *u, struct herror *err)
{
        struct holder_pipes p;
        int r = holder_pipes_open(&p, u->with_net, err);
        if (r < 0)
                return r;
        pid_t launcher = getpid();
        pid_t pid = kernel_clone_pidfd(CLONE_NEWUSER, SIGCHLD, -1, &u->holder_pidfd);
        if (pid == 0)
                holder_main(p.hold[0], p.net[1], launcher);
        int e = errno;
        holder_pipes_keep(&p, u);
        if (pid < 0)
                return herror_sys(err, e, "create a user namespace");
        u->holder = pid;
        return open_holder_userns(u, err);
}

/* ---- a namespace inside the user's pause namespace (sandbox/pause.h) ---- */

struct nested_result {
        pid_t holder;
        int errnum;
        char msg[256];
};

/* In the pause namespace the launcher's user is root with every capability: the holder's namespace is
 * made there, as its child, and its maps written with plain writes. CLONE_PARENT makes the holder the
 * launcher's child, to reap and to die with it, as the holder start_holder makes. */
static _noreturn_ void nested_maker_main(int pausefd, const struct holder_pipes *p, pid_t launcher,
                                         const struct idmap_ranges *inner, int res)
{
        close_all_except((int[]) { pausefd, p->hold[0], p->net[1], res }, 4);
        struct nested_result v = { .holder = 0 };
        struct herror e = HERROR_INIT;
        if (setns(pausefd, CLONE_NEWUSER) < 0) {
                herror_sys(&e, errno, "join the pause namespace");
        } else if ((v.holder = kernel_clone_pidfd(CLONE_NEWUSER | CLONE_PARENT, 0, -1, NULL)) == 0) {
                holder_main(p->hold[0], p->net[1], launcher);
        } else if (v.holder < 0) {
                herror_sys(&e, errno, "create a user namespace in the pause namespace");
        } else {
                idmap_write_ranges(v.holder, inner, &(struct idmap_plan) { .use_helpers = false }, &e);
        }
        v.errnum = e.errnum;
        snprintf(v.msg, sizeof v.msg, "%s", e.msg ? e.msg : "");
        _exit(write(res, &v, sizeof v) == (ssize_t) sizeof v ? EXIT_SUCCESS : EXIT_FAILURE);
}

/* The maker runs on while the caller builds the spec; sandbox_userns_made collects it. */
static int start_nested_maker(struct sandbox_userns *u, int pausefd, const struct idmap_ranges *inner,
                              struct herror *err)
{
        struct holder_pipes p;
        int res[2];
        int r = holder_pipes_open(&p, u->with_net, err);
        if (r < 0)
                return r;
        if (pipe2(res, O_CLOEXEC) < 0) {
                int e = errno;
                holder_pipes_keep(&p, u);
                return herror_sys(err, e, "pipe for the user namespace maker");
        }
        pid_t launcher = getpid();
        pid_t h = kernel_clone_pidfd(0, SIGCHLD, -1, NULL);
        if (h == 0) {
                close(res[0]);
                nested_maker_main(pausefd, &p, launcher, inner, res[1]);
        }
        int e = errno;
        holder_pipes_keep(&p, u);
        close(res[1]);
        if (h < 0) {
                close(res[0]);
                return herror_sys(err, e, "fork");
        }
        u->maker = h;
        u->maker_res = res[0];
        return 0;
}

static int collect_nested_maker(struct sandbox_userns *u, struct herror *err)
{
        struct nested_result v = { .holder = 0 };
        ssize_t n = read_all(u->maker_res, &v, sizeof v);
        closep(&u->maker_res);
        while (waitpid(u->maker, NULL, 0) < 0 && errno == EINTR)
                ;
        u->maker = 0;
        if (n != (ssize_t) sizeof v)
                return herror_set(err, EIO, "the user namespace maker died");
        if (v.holder > 0) {
                u->holder = v.holder; /* our child now, reaped by release whatever happens next */
                u->holder_pidfd = (int) syscall(SYS_pidfd_open, v.holder, 0);
        }
        if (v.errnum) {
                v.msg[sizeof v.msg - 1] = 0;
                return herror_set(err, v.errnum, "%s", v.msg);
        }
        return open_holder_userns(u, err);
}

static int start_nested(struct sandbox_userns *u, const struct idmap_ranges *via, struct herror *err)
{
        const struct idmap_ranges *m = &u->maps;
        struct spec_idmap uid[SPEC_MAX_IDMAPS], gid[SPEC_MAX_IDMAPS];
        int nu = idmap_translate(m->uid, m->n_uid, via->uid, via->n_uid, uid, ELEMENTSOF(uid));
        int ng = idmap_translate(m->gid, m->n_gid, via->gid, via->n_gid, gid, ELEMENTSOF(gid));
        if (nu < 0 || ng < 0)
                return herror_set(err, ERANGE, "the maps are not inside the pause namespace's");
        struct idmap_ranges inner = { .uid = uid, .gid = gid, .n_uid = (size_t) nu, .n_gid = (size_t) ng };
        _cleanup_close_ int pausefd = -1;
        int r = sandbox_pause_userns(via, &pausefd, err);
        return r < 0 ? r : start_nested_maker(u, pausefd, &inner, err);
}

/* Anything of a failed attempt goes; the maps, plan and with_net stay. */
static int start_with_helpers(struct sandbox_userns *u, struct herror *err)
{
        struct sandbox_userns keep = *u;
        sandbox_userns_release(u);
        *u = (struct sandbox_userns) SANDBOX_USERNS_INIT;
        u->maps = keep.maps;
        u->plan = keep.plan;
        u->with_net = keep.with_net;
        int r = start_holder(u, err);
        if (r == 0)
                r = idmap_write_start(u->holder, &u->maps, &u->plan, &u->pending, err);
        if (r < 0)
                sandbox_userns_release(u);
        return r;
}

int sandbox_userns_prepare(const struct idmap_ranges *m, const struct idmap_ranges *via, bool with_net,
                           struct sandbox_userns *ret, struct herror *err)
{
        struct sandbox_userns *u = ret;
        *u = (struct sandbox_userns) SANDBOX_USERNS_INIT;
        u->maps = *m;
        u->with_net = with_net;
        int r = idmap_plan_ranges(m, &u->plan, err);
        if (r < 0)
                return r;
        if (u->plan.use_helpers && via && sandbox_pause_enabled()) {
                _cleanup_herror_ struct herror perr = HERROR_INIT;
                if (start_nested(u, via, &perr) == 0)
                        return 0;
                /* the helpers' way still works, and says clearly what is wrong when it does not */
                log_debug("user namespace without newuidmap: %s; running newuidmap and newgidmap", herror_msg(&perr));
        }
        return start_with_helpers(u, err);
}

bool sandbox_userns_prepared(const struct sandbox_userns *u)
{
        return u->fd >= 0 || u->maker > 0;
}

int sandbox_userns_made(struct sandbox_userns *u, struct herror *err)
{
        if (u->maker <= 0)
                return u->fd >= 0 ? 0 : herror_set(err, EINVAL, "no user namespace was prepared");
        _cleanup_herror_ struct herror perr = HERROR_INIT;
        if (collect_nested_maker(u, &perr) == 0)
                return 0;
        log_debug("user namespace in the pause namespace: %s; running newuidmap and newgidmap", herror_msg(&perr));
        return start_with_helpers(u, err);
}

int sandbox_userns_finish(struct sandbox_userns *u, struct herror *err)
{
        int r = sandbox_userns_made(u, err);
        if (r < 0)
                return r;
        r = idmap_write_finish(&u->pending, err);
        /* mapped or not, the holder's work is done: it exits at EOF and is reaped by release */
        closep(&u->holder_pipe);
        return r;
}

int sandbox_userns_netns(struct sandbox_userns *u, struct herror *err)
{
        if (u->netfd >= 0)
                return u->netfd;
        int r = sandbox_userns_made(u, err);
        if (r < 0)
                return r;
        if (u->net_ready < 0)
                return herror_set(err, ENOENT, "no network namespace was prepared");
        struct net_report rep = { .errnum = EIO };
        ssize_t n = read_all(u->net_ready, &rep, sizeof rep);
        closep(&u->net_ready);
        if (n != (ssize_t) sizeof rep)
                return herror_set(err, EIO, "the user namespace holder died before its network namespace was made");
        if (rep.errnum) {
                rep.step[sizeof rep.step - 1] = 0;
                return herror_sys(err, rep.errnum, "%s", rep.step);
        }
        int fd = open_holder_ns(u, "net", err);
        return fd < 0 ? fd : (u->netfd = fd);
}

static bool same_maps(const struct spec_idmap *a, size_t na, const struct spec_idmap *b, size_t nb)
{
        if (na != nb)
                return false;
        for (size_t i = 0; i < na; i++)
                if (a[i].container_id != b[i].container_id || a[i].host_id != b[i].host_id || a[i].size != b[i].size)
                        return false;
        return true;
}

bool sandbox_userns_matches(const struct sandbox_userns *u, const struct spec *s)
{
        return same_maps(u->maps.uid, u->maps.n_uid, s->uid_mappings, s->n_uid_mappings) &&
                same_maps(u->maps.gid, u->maps.n_gid, s->gid_mappings, s->n_gid_mappings);
}

void sandbox_userns_release(struct sandbox_userns *u)
{
        if (u->maker > 0)
                collect_nested_maker(u, NULL); /* to learn the holder's pid, and reap it below */
        idmap_write_finish(&u->pending, NULL);
        closep(&u->holder_pipe);
        kernel_kill_and_reap(u->holder, u->holder_pidfd);
        u->holder = 0;
        closep(&u->holder_pidfd);
        closep(&u->fd);
        closep(&u->net_ready);
        closep(&u->netfd);
}
