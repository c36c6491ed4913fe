/* unpack_layer() inside sandbox_isolated_call() (sandbox/isolate.h): the second layer of defence for
 * every stream hutch unpacks, the layers of a rootfs cache (rootfs.c) and an archive being imported
 * (store.c). The child gets the source fd and the target directory as its root, nothing else; what it
 * reports back is fn's error. Digest checks of the results stay with the caller. */
#pragma once

#include <stdbool.h>

#include "image/unpack.h"
#include "sandbox/isolate.h"
#include "util/error.h"

/* false when HUTCH_UNPACK_SANDBOX=0 (unpack in this process, for machines without user namespaces). */
bool unpack_confinement_wanted(void);

/* plan NULL: unpack_layer() in this process. Otherwise in an isolated child, uo as given (set uo->chown
 * only when plan->keeps_owners: with the own ID alone owners cannot be kept); uo->progress (if any) is
 * then called here, in the parent, about once per percent. */
int unpack_layer_confined(const struct isolate_plan *plan, int srcfd, int targetfd, struct unpack_options *uo,
                          struct herror *err);
