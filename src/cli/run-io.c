/* Waiting for the container: one poll over the init's pidfd, a signalfd, a timerfd for --timeout and,
 * with -t, the pty master and our stdin. No sleeps: every wake-up is an event. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <termios.h>
#include <unistd.h>

#include "cli/run-io.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/log.h"

static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

int run_block_signals(sigset_t *ret)
{
        sigemptyset(ret);
        for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
                sigaddset(ret, forwarded[i]);
        return sigprocmask(SIG_BLOCK, ret, NULL) < 0 ? -errno : 0;
}

int run_receive_pty(int sock, struct herror *err)
{
        char byte;
        char ctl[CMSG_SPACE(sizeof(int))] = { 0 };
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl };
        ssize_t n;
        do
                n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return herror_sys(err, errno, "receive the container's terminal");
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)))
                return herror_set(err, EPROTO, "receive the container's terminal: no file descriptor came");
        int fd;
        memcpy(&fd, CMSG_DATA(c), sizeof fd);
        return fd;
}

void run_copy_winsize(int pty_master)
{
        struct winsize ws;
        if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
                ioctl(pty_master, TIOCSWINSZ, &ws);
}

int run_raw_mode(struct termios *saved)
{
        if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, saved) < 0)
                return 0;
        struct termios raw = *saved;
        cfmakeraw(&raw);
        return tcsetattr(STDIN_FILENO, TCSANOW, &raw) < 0 ? -errno : 1;
}

void run_restore_mode(const struct termios *saved)
{
        tcsetattr(STDIN_FILENO, TCSADRAIN, saved);
}

static int arm(int tfd, int64_t ms)
{
        struct itimerspec its = { .it_value = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 } };
        if (ms == 0)
                its.it_value.tv_nsec = 1;
        return timerfd_settime(tfd, 0, &its, NULL) < 0 ? -errno : 0;
}

static void send_signal(int pidfd, int sig)
{
        if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 && errno != ESRCH)
                log_debug("forward signal %d: %s", sig, strerror(errno));
}

/* The timer fired: first the stop signal, then (after the grace period) SIGKILL. */
static void on_timer(struct run_wait *w, int tfd, bool *killed)
{
        uint64_t ticks;
        if (read(tfd, &ticks, sizeof ticks) != sizeof ticks)
                return;
        if (!w->timed_out) {
                w->timed_out = true;
                log_info("--timeout: sending signal %d", w->stop_signal);
                send_signal(w->pidfd, w->stop_signal);
                arm(tfd, w->stop_timeout_ms);
        } else if (!*killed) {
                *killed = true;
                send_signal(w->pidfd, SIGKILL);
        }
}

static void on_signal(struct run_wait *w, int sfd)
{
        struct signalfd_siginfo si;
        if (read(sfd, &si, sizeof si) != sizeof si)
                return;
        if (si.ssi_signo == SIGWINCH && w->pty_master >= 0) {
                /* the kernel signals the terminal's foreground process group itself */
                run_copy_winsize(w->pty_master);
                return;
        }
        send_signal(w->pidfd, (int) si.ssi_signo);
}

/* Copy what is there from in to out; false when in is finished (EOF, EIO from a closed pty). */
static bool pump(int in, int out)
{
        char buf[16384];
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return true;
        if (n <= 0)
                return false;
        return write_all(out, buf, (size_t) n) >= 0;
}

static void drain_pty(int master)
{
        int fl = fcntl(master, F_GETFL);
        if (fl >= 0)
                fcntl(master, F_SETFL, fl | O_NONBLOCK);
        char buf[16384];
        ssize_t n;
        while ((n = read(master, buf, sizeof buf)) > 0)
                if (write_all(STDOUT_FILENO, buf, (size_t) n) < 0)
                        break;
}

enum { P_PIDFD, P_SIGNAL, P_TIMER, P_MASTER, P_STDIN, _P_MAX };

int run_wait(struct run_wait *w, const sigset_t *mask, struct herror *err)
{
        _cleanup_close_ int sfd = signalfd(-1, mask, SFD_CLOEXEC);
        _cleanup_close_ int tfd = -1;
        if (sfd < 0)
                return herror_sys(err, errno, "signalfd");
        if (w->timeout_ms > 0) {
                if ((tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC)) < 0 || arm(tfd, w->timeout_ms) < 0)
                        return herror_sys(err, errno, "timerfd for --timeout");
        }
        bool killed = false, stdin_open = w->pty_master >= 0 && w->interactive, master_open = w->pty_master >= 0;
        struct pollfd p[_P_MAX] = {
                [P_PIDFD] = { .fd = w->pidfd, .events = POLLIN }, [P_SIGNAL] = { .fd = sfd, .events = POLLIN },
                [P_TIMER] = { .fd = tfd, .events = POLLIN },      [P_MASTER] = { .fd = -1, .events = POLLIN },
                [P_STDIN] = { .fd = -1, .events = POLLIN },
        };
        for (;;) {
                p[P_MASTER].fd = master_open ? w->pty_master : -1;
                p[P_STDIN].fd = stdin_open ? STDIN_FILENO : -1;
                if (poll(p, _P_MAX, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return herror_sys(err, errno, "poll");
                }
                if (p[P_MASTER].revents && !pump(w->pty_master, STDOUT_FILENO))
                        master_open = false;
                if (p[P_STDIN].revents && !pump(STDIN_FILENO, w->pty_master))
                        stdin_open = false;
                if (p[P_SIGNAL].revents)
                        on_signal(w, sfd);
                if (p[P_TIMER].revents)
                        on_timer(w, tfd, &killed);
                if (p[P_PIDFD].revents) {
                        if (master_open)
                                drain_pty(w->pty_master);
                        return 0;
                }
        }
}
