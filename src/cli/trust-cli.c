#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/trust-cli.h"
#include "trust/signer.h"
#include "util/fileio.h"

void passphrase_free(char *p)
{
        if (!p)
                return;
        explicit_bzero(p, strlen(p));
        free(p);
}

/* One line from the terminal with echo off; the terminal settings are restored before returning. */
static int read_tty_line(int fd, const char *prompt, char **ret, struct herror *err)
{
        struct termios old, quiet;
        if (tcgetattr(fd, &old) < 0)
                return herror_sys(err, errno, "/dev/tty: cannot read terminal settings (set %s instead)",
                                  PASSPHRASE_ENV);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t) (ECHO | ECHONL);
        quiet.c_lflag |= ICANON;
        /* SIGINT/SIGTSTP while echo is off would leave the terminal silent: block them for the read. */
        sigset_t block, saved;
        sigemptyset(&block);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGTSTP);
        sigaddset(&block, SIGQUIT);
        sigprocmask(SIG_BLOCK, &block, &saved);
        /* Echo off before the prompt shows: what is typed once it is visible is never echoed, and
         * TCSAFLUSH drops only what was typed before it (as readpassphrase(3) does). */
        int r = 0;
        if (tcsetattr(fd, TCSAFLUSH, &quiet) < 0 || write_all(fd, prompt, strlen(prompt)) < 0)
                r = -errno;
        char buf[TRUST_PASSPHRASE_MAX + 2];
        size_t n = 0;
        while (r == 0 && n < sizeof buf - 1) {
                char c;
                ssize_t k = read(fd, &c, 1);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        r = -errno;
                        break;
                }
                if (k == 0 || c == '\n' || c == '\r')
                        break;
                buf[n++] = c;
        }
        buf[n] = 0;
        tcsetattr(fd, TCSAFLUSH, &old);
        (void) write_all(fd, "\n", 1);
        sigprocmask(SIG_SETMASK, &saved, NULL);
        if (r < 0) {
                explicit_bzero(buf, sizeof buf);
                return herror_sys(err, -r, "/dev/tty: cannot read the passphrase");
        }
        if (n > TRUST_PASSPHRASE_MAX) {
                explicit_bzero(buf, sizeof buf);
                return herror_set(err, EINVAL, "passphrase longer than %u bytes", TRUST_PASSPHRASE_MAX);
        }
        *ret = strdup(buf);
        explicit_bzero(buf, sizeof buf);
        return *ret ? 0 : herror_set(err, ENOMEM, "out of memory");
}

int passphrase_get(const char *prompt, bool confirm, char **ret, struct herror *err)
{
        const char *env = secure_getenv(PASSPHRASE_ENV);
        if (env) {
                if (strlen(env) > TRUST_PASSPHRASE_MAX)
                        return herror_set(err, EINVAL, "%s: longer than %u bytes", PASSPHRASE_ENV,
                                          TRUST_PASSPHRASE_MAX);
                *ret = strdup(env);
                return *ret ? 0 : herror_set(err, ENOMEM, "out of memory");
        }
        _cleanup_close_ int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return herror_sys(err, errno, "no terminal to ask for the passphrase on (/dev/tty); set %s",
                                  PASSPHRASE_ENV);
        _cleanup_passphrase_ char *first = NULL;
        int r = read_tty_line(fd, prompt, &first, err);
        if (r < 0)
                return r;
        if (confirm) {
                _cleanup_passphrase_ char *again = NULL;
                if ((r = read_tty_line(fd, "Enter the passphrase again: ", &again, err)) < 0)
                        return r;
                if (!streq(first, again))
                        return herror_set(err, EINVAL, "the passphrases do not match");
        }
        *ret = TAKE_PTR(first);
        return 0;
}

int trust_cli_read_file(const char *path, size_t max, char **ret, size_t *ret_len, struct herror *err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return herror_sys(err, errno, "%s", path);
        return read_fd_limited(fd, path, max, ret, ret_len, err);
}

int trust_cli_store_open(const char *storage, struct image_store *ret, struct herror *err)
{
        if (!storage || storage[0] == '/')
                return store_open(storage, ret, err);
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd))
                return herror_sys(err, errno, "--storage %s: cannot get the working directory", storage);
        _cleanup_free_ char *abs = NULL;
        if (asprintf(&abs, "%s/%s", cwd, storage) < 0)
                return herror_set(err, ENOMEM, "out of memory");
        return store_open(abs, ret, err);
}
