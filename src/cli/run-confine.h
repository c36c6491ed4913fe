/* hutch run's confinement decisions, made before any fork from the --security-opt options and what the
 * host offers: the Landlock mode and rules, the AppArmor profile, the SELinux labels (and :z/:Z volume
 * relabelling), and what applies by default but this host lacks, which is reported (once at info, always
 * in the audit record and --report) or, under require=, refused. */
#pragma once

#include "cli/run.h"
#include "sandbox/lsm.h"
#include "spec/spec.h"

struct run_confine {
        unsigned required; /* CONFINE_BITs */
        struct lsm_host host;
        const char *landlock_mode;                  /* "off", "default" or "required" (the spec's annotation) */
        struct spec_landlock_rules *landlock_rules; /* landlock=FILE; handed to the spec */
        char *apparmor_profile;
        char *selinux_process, *selinux_mount;
        char *unavailable[_CONFINE_MAX + 1]; /* "LAYER: why", NULL-terminated */
        size_t n_unavailable;
        char landlock_hint[256]; /* the Landlock ABI hint, "" when none */
};

void run_confine_done(struct run_confine *c);
/* Decide everything; errors (exit 125) name the option: a layer asked for or required that this host
 * cannot apply, a bad rules file. */
int run_confine_decide(const struct run_options *o, struct run_confine *c, struct herror *err);
/* :z / :Z volumes, after the volumes were resolved: relabelled for SELinux, a no-op without it. */
int run_confine_relabel(const struct run_confine *c, const struct spec_run_mount *m, size_t n, struct herror *err);
/* The one info line about what is not applied, and the Landlock hint; nothing when all applies. */
void run_confine_log(const struct run_confine *c);
