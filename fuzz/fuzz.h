/* Every harness defines LLVMFuzzerTestOneInput and caps its input (systemd's 64 KiB rule). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define FUZZ_MAX_INPUT (64u * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
