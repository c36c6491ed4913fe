#!/usr/bin/env bats
# Image import and unpack (src/image) against a real producer and a real consumer: umoci builds a
# three-layer image (busybox tree; a layer deleting a file; a hand-made layer with an opaque
# directory), hutch's store imports it with digest checks and unpacks it, and the tree must equal
# what `umoci unpack --rootless` makes of the same image: file list, types, modes, link counts,
# symlink targets and contents. Ownership is not compared (both run unprivileged).
# Driver: $HUTCH_IMAGE_TOOL (tests/image-tool.c).
# shellcheck shell=bash

load helpers

setup_file() {
        export IMG_DIR="$BATS_FILE_TMPDIR/img"
}

setup() {
        requires umoci busybox
        if [ ! -x "${HUTCH_IMAGE_TOOL:-}" ]; then
                if hutch_must_work; then
                        fail "required in CI: HUTCH_IMAGE_TOOL=${HUTCH_IMAGE_TOOL:-} is not executable by $(id -un)"
                        return 1
                fi
                skip "HUTCH_IMAGE_TOOL=${HUTCH_IMAGE_TOOL:-} is not executable by $(id -un)"
        fi
        build_image
}

# The image, built once per file: layer 1 = a busybox tree with the shapes a tree has (dirs of several
# modes, a setuid file, relative and absolute symlinks, a hardlink, a fifo, an empty file); layer 2
# deletes a file and a directory (umoci writes explicit .wh. whiteouts); layer 3 is a tar made here
# with an opaque directory marker, added verbatim with `umoci raw add-layer`.
build_image() {
        [ -e "$IMG_DIR/done" ] && return 0
        local layout=$IMG_DIR/oci b=$IMG_DIR/bundle r busybox
        busybox=$(command -v busybox)
        rm -rf "$IMG_DIR"
        mkdir -p "$IMG_DIR"
        umoci init --layout "$layout"
        umoci new --image "$layout:test"

        umoci unpack --rootless --image "$layout:test" "$b"
        r=$b/rootfs
        mkdir -p "$r"/{bin,etc,tmp,root,data/sub,data/opq/inner,usr/share/doc}
        chmod 1777 "$r/tmp"
        chmod 0700 "$r/root"
        chmod 0750 "$r/usr/share/doc"
        install -m 0755 "$busybox" "$r/bin/busybox"
        ln -s busybox "$r/bin/sh"
        ln -s /bin/busybox "$r/bin/ls"
        ln -s ../../bin/busybox "$r/usr/share/rel"
        printf 'root:x:0:0:root:/root:/bin/sh\n' >"$r/etc/passwd"
        printf 'secret\n' >"$r/etc/shadow"
        chmod 0600 "$r/etc/shadow"
        printf 'su\n' >"$r/bin/su"
        chmod 4755 "$r/bin/su"
        printf 'keep\n' >"$r/data/keep"
        ln "$r/data/keep" "$r/data/keep-hard"
        printf 'gone\n' >"$r/data/gone.txt"
        printf 'old\n' >"$r/data/sub/old"
        printf 'lower\n' >"$r/data/opq/lower"
        printf 'inner\n' >"$r/data/opq/inner/file"
        : >"$r/data/empty"
        mkfifo -m 0640 "$r/data/fifo"
        umoci repack --image "$layout:test" "$b"
        rm -rf "$b"

        umoci unpack --rootless --image "$layout:test" "$b"
        r=$b/rootfs
        rm "$r/data/gone.txt"
        rm -rf "$r/data/sub"
        printf 'changed\n' >"$r/etc/passwd"
        umoci repack --image "$layout:test" "$b"
        rm -rf "$b"

        local st=$IMG_DIR/opaque-layer
        mkdir -p "$st/data/opq"
        : >"$st/data/opq/.wh..wh..opq"
        printf 'upper\n' >"$st/data/opq/upper"
        # the opaque marker after its sibling: it must still hide only the lower layers' content
        tar --format=pax -C "$st" -cf "$IMG_DIR/layer3.tar" data/opq/upper data/opq/.wh..wh..opq
        umoci raw add-layer --image "$layout:test" "$IMG_DIR/layer3.tar"
        umoci gc --layout "$layout"
        touch "$IMG_DIR/done"
}

# One line per path: path, type, permission bits, link count, symlink target, sha256 of content.
tree_listing() {
        (cd "$1" && find . -mindepth 1 -printf '%P %y %m %n %l\n' | sort | while read -r p t m n l; do
                h=-
                [ "$t" = f ] && h=$(sha256sum <"$p" | cut -c1-16)
                printf '%s %s %s %s %s %s\n' "$p" "$t" "$m" "$n" "${l:--}" "$h"
        done)
}

@test "import + unpack gives the same tree as umoci unpack --rootless" {
        local store=$BATS_TEST_TMPDIR/store out=$BATS_TEST_TMPDIR/out ref=$BATS_TEST_TMPDIR/ref
        run "$HUTCH_IMAGE_TOOL" import "$IMG_DIR/oci:test" "$store"
        [ "$status" -eq 0 ] || fail "import failed: $output"
        [[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]] || fail "import printed: $output"
        run "$HUTCH_IMAGE_TOOL" unpack "$store" test "$out"
        [ "$status" -eq 0 ] || fail "unpack failed: $output"
        umoci unpack --rootless --image "$IMG_DIR/oci:test" "$ref" >/dev/null
        tree_listing "$out" >"$BATS_TEST_TMPDIR/hutch.list"
        tree_listing "$ref/rootfs" >"$BATS_TEST_TMPDIR/umoci.list"
        diff -u "$BATS_TEST_TMPDIR/umoci.list" "$BATS_TEST_TMPDIR/hutch.list" || fail "trees differ (- umoci, + hutch)"
        # the whiteouts and the opaque dir did what the layers say
        [ ! -e "$out/data/gone.txt" ] && [ ! -e "$out/data/sub" ]
        [ "$(cat "$out/data/opq/upper")" = upper ]
        [ ! -e "$out/data/opq/lower" ] && [ ! -e "$out/data/opq/inner" ]
        [ "$(cat "$out/etc/passwd")" = changed ]
        [ "$(stat -c %a "$out/bin/su")" = 4755 ]
        [ "$(stat -c %i "$out/data/keep")" = "$(stat -c %i "$out/data/keep-hard")" ]
        [ "$(readlink "$out/bin/ls")" = /bin/busybox ]
        [ -z "$(find "$out" -name '.wh.*')" ]
}

@test "the store keeps verified blobs and a ref; the rootfs cache unpacks once" {
        local store=$BATS_TEST_TMPDIR/store digest hex
        digest=$("$HUTCH_IMAGE_TOOL" import "$IMG_DIR/oci:test" "$store" myimage)
        hex=${digest#sha256:}
        [ "$(stat -c %a "$store")" = 700 ]
        [ -f "$store/blobs/sha256/$hex" ]
        (cd "$store/blobs/sha256" && for f in *; do
                [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$f" ] || fail "blob $f does not hash to its name"
        done)
        grep -q "\"myimage\": \"$digest\"" "$store/refs.json" || fail "refs.json: $(cat "$store/refs.json")"
        run "$HUTCH_IMAGE_TOOL" rootfs "$store" myimage
        [ "$status" -eq 0 ] || fail "rootfs failed: $output"
        [ "$output" = "created $store/rootfs/$hex" ] || fail "first rootfs call printed: $output"
        local ino
        ino=$(stat -c %i "$store/rootfs/$hex")
        run "$HUTCH_IMAGE_TOOL" rootfs "$store" "$digest"
        [ "$output" = "cached $store/rootfs/$hex" ] || fail "second rootfs call printed: $output"
        [ "$(stat -c %i "$store/rootfs/$hex")" = "$ino" ]
        [ "$(cat "$store/rootfs/$hex/data/opq/upper")" = upper ]
        [ -x "$store/rootfs/$hex/bin/busybox" ]
        # no temporary directory left behind
        [ "$(find "$store/rootfs" -mindepth 1 -maxdepth 1 | wc -l)" = 1 ]
}

@test "a layout with a tampered layer is refused and leaves no ref" {
        local copy=$BATS_TEST_TMPDIR/oci store=$BATS_TEST_TMPDIR/store layer
        cp -r "$IMG_DIR/oci" "$copy"
        # the biggest blob is the busybox layer: flip one byte in the middle, keep the size
        layer=$(find "$copy/blobs/sha256" -type f -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2)
        chmod u+w "$layer"
        local byte
        byte=$(od -An -tu1 -j1000 -N1 "$layer" | tr -d ' ')
        # shellcheck disable=SC2059 # the format is the octal escape of the new byte
        printf "\\$(printf %o $(((byte + 1) % 256)))" | dd of="$layer" bs=1 seek=1000 conv=notrunc status=none
        run "$HUTCH_IMAGE_TOOL" import "$copy:test" "$store"
        [ "$status" -eq 1 ] || fail "import of a tampered layout: status $status: $output"
        [[ "$output" == *"digest did not match"* ]] || fail "unexpected message: $output"
        [ ! -e "$store/refs.json" ] || ! grep -q test "$store/refs.json"
        [ -z "$(find "$store/blobs/sha256" -type f -name '.tmp-*')" ]
}

@test "hostile digests in index.json are refused before any path is built" {
        local copy=$BATS_TEST_TMPDIR/oci store=$BATS_TEST_TMPDIR/store
        mkdir -p "$copy"
        cp "$IMG_DIR/oci/oci-layout" "$copy/"
        printf '%s' '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",' \
                '"digest":"sha256:../../../../etc/passwd","size":10}]}' >"$copy/index.json"
        run "$HUTCH_IMAGE_TOOL" import "$copy" "$store"
        [ "$status" -eq 1 ]
        [[ "$output" == *'sha256:../../../../etc/passwd'* ]] || fail "unexpected message: $output"
}

teardown() {
        if [ -n "${PM_LAYOUT:-}" ]; then
                rm -rf "$PM_LAYOUT"
        fi
        remove_rootfs_caches
}

# podman as a second producer: it re-exports the umoci image as docker-archive (docker save format:
# legacy <id>/layer.tar symlinks, uncompressed layers) and as oci-archive.
pm() {
        podman --root "$BATS_TEST_TMPDIR/pm/storage" --runroot "$BATS_TEST_TMPDIR/pm/run" --storage-driver vfs \
                --cgroup-manager cgroupfs --events-backend file "$@"
}

@test "podman's docker-archive and oci-archive import to the same tree as umoci unpack" {
        requires rootless podman subuid newuidmap
        local store=$BATS_TEST_TMPDIR/store ref=$BATS_TEST_TMPDIR/ref
        # podman names the pulled image after the layout path, which must be lowercase
        PM_LAYOUT=/tmp/hutch-image-unpack-$$-$BATS_TEST_NUMBER
        rm -rf "$PM_LAYOUT"
        cp -r "$IMG_DIR/oci" "$PM_LAYOUT"
        pm pull -q "oci:$PM_LAYOUT:test" >/dev/null
        pm tag "$(pm images -q | head -1)" hutch/test:v1
        pm save -q --format docker-archive -o "$BATS_TEST_TMPDIR/d.tar" hutch/test:v1
        pm save -q --format oci-archive -o "$BATS_TEST_TMPDIR/o.tar" hutch/test:v1
        pm unshare rm -rf "$BATS_TEST_TMPDIR/pm"
        rm -rf "$PM_LAYOUT"
        umoci unpack --rootless --image "$IMG_DIR/oci:test" "$ref" >/dev/null
        tree_listing "$ref/rootfs" >"$BATS_TEST_TMPDIR/umoci.list"
        run "$HUTCH_IMAGE_TOOL" import-docker-archive "$BATS_TEST_TMPDIR/d.tar" "$store"
        [ "$status" -eq 0 ] || fail "docker-archive import: $output"
        run "$HUTCH_IMAGE_TOOL" import-oci-archive "$BATS_TEST_TMPDIR/o.tar" "$store" from-oci
        [ "$status" -eq 0 ] || fail "oci-archive import: $output"
        grep -q '"localhost/hutch/test:v1"' "$store/refs.json" || fail "refs.json: $(cat "$store/refs.json")"
        local name dir
        for name in localhost/hutch/test:v1 from-oci; do
                dir=$BATS_TEST_TMPDIR/out-${name//[:\/]/_}
                run "$HUTCH_IMAGE_TOOL" unpack "$store" "$name" "$dir"
                [ "$status" -eq 0 ] || fail "unpack $name: $output"
                tree_listing "$dir" >"$dir.list"
                diff -u "$BATS_TEST_TMPDIR/umoci.list" "$dir.list" || fail "$name: trees differ (- umoci, + hutch)"
        done
        # the extraction directory is gone
        [ -z "$(ls -A "$store/tmp")" ]
}
