/* Every harness defines LLVMFuzzerTestOneInput and caps its input (systemd's 64 KiB rule). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define FUZZ_MAX_INPUT (64u * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Say what broke (prefixed with the harness's name) and abort, so that libFuzzer keeps the input. */
_Noreturn void fuzz_die(const char *what);
/* A fresh directory /tmp/hutch-fuzz-NAME-XXXXXX, removed with all it holds at exit; once per process. */
const char *fuzz_scratch_dir(const char *name);
