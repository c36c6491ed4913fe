#!/usr/bin/env bash
# fixtures.sh DIR PAYLOAD: build the integration tests' images into DIR, offline:
#   DIR/busybox-oci     OCI image layout (umoci), tag "latest": static busybox with its applet
#                       symlinks, /payload, /etc/passwd and /etc/group (root, nobody), /tmp 1777,
#                       empty /proc /sys /dev; config cmd /bin/sh
#   DIR/busybox-rootfs  the same tree as a plain directory, for bundles
#   DIR/stamp           hash of this script, PAYLOAD and busybox: a change rebuilds
# Idempotent and safe to run concurrently (flock on DIR/.lock); each tree appears by rename.
# Runs as an unprivileged user (umoci --rootless), no root, no namespaces, nothing runs in the rootfs.
set -euo pipefail
umask 022

[ $# -eq 2 ] || { echo "usage: fixtures.sh DIR PAYLOAD" >&2; exit 2; }
dir=$1 payload=$2
busybox=$(command -v busybox) || { echo "fixtures.sh: busybox is not installed (busybox-static)" >&2; exit 1; }
command -v umoci >/dev/null || { echo "fixtures.sh: umoci is not installed" >&2; exit 1; }
[ -x "$payload" ] || { echo "fixtures.sh: payload $payload is not executable" >&2; exit 1; }

want=$(cat -- "${BASH_SOURCE[0]}" "$payload" "$busybox" | sha256sum | cut -d' ' -f1)
up_to_date() { [ "$(cat "$dir/stamp" 2>/dev/null)" = "$want" ] && [ -d "$dir/busybox-oci" ] && [ -d "$dir/busybox-rootfs" ]; }
up_to_date && exit 0

mkdir -p -- "$dir"
exec 9>>"$dir/.lock"
flock 9
up_to_date && exit 0

tmp=$(mktemp -d "$dir/.build.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

# populate_rootfs ROOT: the busybox tree. Applet links are made from `busybox --list-full`
# (the paths `busybox --install -s` would use), relative so they resolve inside the rootfs.
populate_rootfs() {
        local root=$1 applet d up
        mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,run,var/tmp,home}
        chmod 1777 "$root/tmp" "$root/var/tmp"
        # 0755, not the usual 0700: the fixture is copied by two test users (hutch-test, hutch-nosubid)
        chmod 0755 "$root/root"
        install -m 0755 "$busybox" "$root/bin/busybox"
        while read -r applet; do
                if [ -z "$applet" ] || [ "$applet" = bin/busybox ]; then
                        continue
                fi
                d=$(dirname -- "$applet")
                case $d in
                .) up=bin/busybox ;;
                bin) up=busybox ;;
                *) up=$(sed 's#[^/][^/]*#..#g' <<<"$d")/bin/busybox ;; # usr/bin -> ../../bin/busybox
                esac
                mkdir -p "$root/$d"
                ln -sfn "$up" "$root/$applet"
        done < <("$busybox" --list-full)
        printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' \
                >"$root/etc/passwd"
        printf '%s\n' 'root:x:0:' 'nobody:x:65534:' >"$root/etc/group"
        install -m 0755 "$payload" "$root/payload"
}

populate_rootfs "$tmp/busybox-rootfs"

layout=$tmp/busybox-oci
umoci init --layout "$layout"
umoci new --image "$layout:latest"
umoci unpack --rootless --image "$layout:latest" "$tmp/bundle"
populate_rootfs "$tmp/bundle/rootfs"
umoci repack --image "$layout:latest" "$tmp/bundle"
umoci config --image "$layout:latest" --config.cmd=/bin/sh \
        --config.env=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --config.workingdir=/
umoci gc --layout "$layout"
# umoci writes blobs and index.json 0600; root and hutch-nosubid read them too.
chmod -R a+rX "$layout"
rm -rf -- "$tmp/bundle"

for t in busybox-oci busybox-rootfs; do
        if [ -e "$dir/$t" ]; then
                mv -- "$dir/$t" "$tmp/old-$t"
        fi
        mv -- "$tmp/$t" "$dir/$t"
done
echo "$want" >"$tmp/stamp"
mv -f -- "$tmp/stamp" "$dir/stamp"
