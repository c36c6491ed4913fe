/* The attached side of `hutch run`: signals, the terminal, the timeout. */
#pragma once
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <termios.h>

#include "util/error.h"

struct run_wait {
        int pidfd;               /* the container's init */
        int pty_master;          /* -t: the terminal's master, else -1 */
        bool interactive;        /* -i: copy our stdin to the terminal */
        int64_t timeout_ms;      /* 0 = none */
        int64_t stop_timeout_ms; /* grace between the stop signal and SIGKILL */
        int stop_signal;
        bool timed_out; /* out: --timeout ended it */
};

/* Block the signals hutch forwards (TERM INT HUP QUIT USR1 USR2 WINCH), before the container exists,
 * so none is lost or kills hutch while the container lives on. */
int run_block_signals(sigset_t *ret);
/* Receive the pty master the sandbox sends over the console socket. */
int run_receive_pty(int sock, struct herror *err);
void run_copy_winsize(int pty_master);
/* Our stdin into raw mode (1), not a terminal (0), or -errno. */
int run_raw_mode(struct termios *saved);
void run_restore_mode(const struct termios *saved);
/* Until the init exits: forward signals (WINCH as a window-size change with -t), copy the terminal,
 * and apply --timeout. Does not reap the init. */
int run_wait(struct run_wait *w, const sigset_t *mask, struct herror *err);
