#!/bin/sh
# The launch path must not map libarchive's dependency tree, libcrypto, nor libselinux/libapparmor
# (src/image/archive-dl.h, src/util/crypto-dl.h and src/sandbox/lsm-dl.h say why): hutch may
# not name libarchive (or what only it pulls in) as a DT_NEEDED library. With static_launch_libs (the
# second argument "static") libc is the only library a launch maps. TAP output.
set -u
bin=$1 link=${2:-shared}
echo "1..3"
needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
if [ -n "$needed" ]; then echo "ok 1 - readelf lists the needed libraries of $bin"; else echo "not ok 1 - no NEEDED entries read from $bin"; fi
bad=$(printf '%s\n' "$needed" | grep -E '^lib(archive|xml2|icu|stdc\+\+|nettle|lzma|bz2|lz4|acl|selinux|pcre2|apparmor|crypto|ssl|isal)' || true)
if [ -z "$bad" ]; then echo "ok 2 - neither libarchive, libcrypto, libisal, libselinux nor libapparmor is linked"; else echo "not ok 2 - linked: $bad"; fi
others=$(printf '%s\n' "$needed" | grep -vE '^(libc\.so\.6|ld-linux.*|libasan\.so.*|libubsan\.so.*)$' || true) # sanitizer runtimes: the san build
if [ "$link" != static ]; then echo "ok 3 # SKIP static_launch_libs is off"
elif [ -z "$others" ]; then echo "ok 3 - static_launch_libs: libc is the only library mapped at exec"
else echo "not ok 3 - static_launch_libs is on, yet linked: $others"; fi
