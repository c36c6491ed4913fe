#!/usr/bin/env bats
# The image commands (hutch load, images, inspect, tag, rmi, prune, save) end to end, each test with a
# store of its own (--storage "$BATS_TEST_TMPDIR/store"; never the user's default store). Inputs: the
# umoci-built busybox layout ($BUSYBOX_OCI), tars of it, docker-archives and hand-made layouts built
# here, and the skopeo-made signed vectors ($HUTCH_VECTORS/oci/tiny-signed).
# shellcheck shell=bash

load helpers

TINY_V1=sha256:572034cadef6bf695708d4bf95d48263544f759360e7f5a53e8d78dc82080232
TINY_V2=sha256:43d4055be4be7a0f4a4651189c6225ce2009280c855f0694c00290d51c253946
TINY_EVIL=sha256:ec2bb9d891c201bff6cda995de5e42d081c761a9f8b7ec3fd4d893009647be74

setup() {
        requires jq
        fixtures
        STORE=$BATS_TEST_TMPDIR/store
}

teardown() {
        remove_rootfs_caches
        # podman's storage holds files of subordinate IDs: removed from inside its user namespace
        if [ -d "$BATS_TEST_TMPDIR/podman" ]; then
                podman unshare rm -rf "$BATS_TEST_TMPDIR/podman" 2>/dev/null || true
        fi
}

h() { "$HUTCH" "$@"; }
hs() { "$HUTCH" "$1" --storage "$STORE" "${@:2}"; }

vectors() {
        TINY=${HUTCH_VECTORS:-}/oci/tiny-signed
        if [ ! -f "$TINY/index.json" ]; then
                if hutch_must_work; then
                        fail "required in CI: test vectors at HUTCH_VECTORS=${HUTCH_VECTORS:-} (unset?)"
                        return 1
                fi
                skip "no test vectors at HUTCH_VECTORS=${HUTCH_VECTORS:-}"
        fi
}

goarch() {
        case $(uname -m) in
        x86_64) echo amd64 ;;
        aarch64) echo arm64 ;;
        *) uname -m ;;
        esac
}

# make_layout DIR REF_NAME TAR...: an OCI layout of uncompressed tar layers, made by hand (so that
# tests can break any part of it). REF_NAME "" = no ref.name annotation. $CFG_EXTRA (a JSON object,
# default {}) is merged into the config's "config" object.
make_layout() {
        local dir=$1 refname=$2 f d size layers='[]' diffs='[]' cfg man
        shift 2
        mkdir -p "$dir/blobs/sha256"
        printf '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
        for f in "$@"; do
                d=$(sha256sum <"$f" | cut -c1-64)
                size=$(stat -c %s "$f")
                cp "$f" "$dir/blobs/sha256/$d"
                layers=$(jq -c --arg d "sha256:$d" --argjson s "$size" \
                        '. + [{mediaType:"application/vnd.oci.image.layer.v1.tar",digest:$d,size:$s}]' <<<"$layers")
                diffs=$(jq -c --arg d "sha256:$d" '. + [$d]' <<<"$diffs")
        done
        cfg=$(jq -cn --arg a "$(goarch)" --argjson diffs "$diffs" \
                --argjson extra "${CFG_EXTRA:-{\}}" \
                '{architecture:$a,os:"linux",config:({Cmd:["/bin/sh"],Env:["PATH=/bin"],Labels:{"x.test":"yes"}} + $extra),
                  rootfs:{type:"layers",diff_ids:$diffs},history:[{created_by:"make_layout"}]}')
        printf '%s' "$cfg" >"$dir/cfg.tmp"
        d=$(sha256sum <"$dir/cfg.tmp" | cut -c1-64)
        mv "$dir/cfg.tmp" "$dir/blobs/sha256/$d"
        # sizes in bytes (${#var} counts characters)
        man=$(jq -cn --arg d "sha256:$d" --argjson s "$(stat -c %s "$dir/blobs/sha256/$d")" --argjson layers "$layers" \
                '{schemaVersion:2,mediaType:"application/vnd.oci.image.manifest.v1+json",
                  config:{mediaType:"application/vnd.oci.image.config.v1+json",digest:$d,size:$s},layers:$layers}')
        printf '%s' "$man" >"$dir/man.tmp"
        d=$(sha256sum <"$dir/man.tmp" | cut -c1-64)
        mv "$dir/man.tmp" "$dir/blobs/sha256/$d"
        jq -cn --arg d "sha256:$d" --argjson s "$(stat -c %s "$dir/blobs/sha256/$d")" --arg r "$refname" \
                '{schemaVersion:2,manifests:[{mediaType:"application/vnd.oci.image.manifest.v1+json",digest:$d,size:$s}
                  + (if $r == "" then {} else {annotations:{"org.opencontainers.image.ref.name":$r}} end)]}' \
                >"$dir/index.json"
        echo "sha256:$d"
}

# start_held CMD...: start CMD in the background, held before its exec until kill_when is watching (so a
# fast CMD cannot finish before the watch is set up); HELD_PID is CMD's pid (the subshell execs it).
start_held() {
        HELD_GO=$BATS_TEST_TMPDIR/go.$RANDOM
        mkfifo "$HELD_GO"
        (read -r _ <"$HELD_GO" && exec "$@") >/dev/null 2>&1 3>&- &
        HELD_PID=$!
}

# kill_when GLOB PID [GO]: as soon as a path matching GLOB is created (the work to interrupt has started),
# kill -9 PID, then reap it. Waits on inotify and a pidfd, not by polling: on a loaded machine a polling
# loop may wake up only after the work is done. With GO (start_held's fifo), PID is let go once the watch
# is set up. Fails when PID ended first or nothing appeared.
kill_when() {
        local watched=0
        python3 - "$(dirname "$1")" "$(basename "$1")" "$2" "${3:-}" <<'PY' || watched=1
import ctypes, fnmatch, os, select, signal, struct, sys
d, pattern, pid, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(os.O_CLOEXEC)
if fd < 0 or libc.inotify_add_watch(fd, d.encode(), 0x100 | 0x80) < 0:  # IN_CREATE | IN_MOVED_TO
    sys.exit("inotify on %s failed" % d)
pidfd = os.pidfd_open(pid)
def kill_if(names):
    if any(fnmatch.fnmatch(n, pattern) for n in names):
        os.kill(pid, signal.SIGKILL)
        sys.exit(0)
kill_if(os.listdir(d))
if go:
    with open(go, "w") as f:
        f.write("go\n")
while True:
    ready = select.select([fd, pidfd], [], [], 60)[0]
    if fd in ready:
        buf, names, off = os.read(fd, 65536), [], 0
        while off < len(buf):
            _, _, _, n = struct.unpack_from("iIII", buf, off)
            names.append(buf[off + 16:off + 16 + n].rstrip(b"\0").decode(errors="replace"))
            off += 16 + n
        kill_if(names)
    else:
        sys.exit(1)
PY
        # a held PID the watcher never let go would wait on its fifo for ever
        [ -z "${3:-}" ] || kill -9 "$2" 2>/dev/null || true
        wait "$2" || true
        [ "$watched" = 0 ] || fail "$2 finished (or 60 s passed) before $1 appeared"
        compgen -G "$1" >/dev/null || fail "killed before $1 appeared"
}

# The digest `hutch load` printed.
loaded_digest() { sed -n 's/^Manifest digest: //p' <<<"$1"; }

# Every stored blob hashes to its name: nothing partial is in the store under a blob's name.
assert_blobs_intact() {
        local f
        for f in "$1"/blobs/sha256/*; do
                [ -e "$f" ] || continue
                case ${f##*/} in .tmp-*) continue ;; esac
                [ "$(sha256sum <"$f" | cut -c1-64)" = "${f##*/}" ] || fail "blob ${f##*/} does not hash to its name"
        done
}

# One line, exit 125, naming the input: the contract for a refused load.
assert_refused() { # file what
        [ "$status" -eq 125 ] || fail "load of $1 ($2): status $status: $output"
        [ "${#lines[@]}" -eq 1 ] || fail "load of $1 ($2): expected one line, got: $output"
        [[ "$output" == "hutch: $1"* ]] || fail "load of $1 ($2): the line does not name the file: $output"
}

@test "load: the umoci-built layout, named by --name, normalised; without a name it is stored by digest only" {
        run hs load "$BUSYBOX_OCI:latest"
        [ "$status" -eq 0 ] || fail "load: $output"
        [[ "$output" == *"ref.name \"latest\" is a tag, not a name"*"hutch tag"* ]] || fail "no warning: $output"
        local d
        d=$(loaded_digest "$output")
        [[ "$d" =~ ^sha256:[0-9a-f]{64}$ ]] || fail "no digest printed: $output"
        [[ "$output" == *"Loaded image: $d"* ]]
        [ "$(jq -r '.refs | length' "$STORE/refs.json")" = 0 ]
        [ "$(jq -r '.unnamed | join(",")' "$STORE/refs.json")" = "$d" ]
        run hs images -q
        [ "$status" -eq 0 ] && [ "$output" = "${d:7:12}" ] || fail "images -q: $output"

        run hs load --name busybox "$BUSYBOX_OCI"
        [ "$status" -eq 0 ] || fail "load --name: $output"
        [[ "$output" == *"Loaded image: docker.io/library/busybox:latest"* ]] || fail "$output"
        [ "$(jq -r '.refs["docker.io/library/busybox:latest"]' "$STORE/refs.json")" = "$d" ]
        # named now: no longer listed as unnamed
        [ "$(jq -r '.unnamed | length' "$STORE/refs.json")" = 0 ]
        # every name form reaches it
        for n in busybox busybox:latest docker.io/library/busybox "${d#sha256:}" "${d:7:12}" "$d"; do
                run hs inspect "$n"
                [ "$status" -eq 0 ] || fail "inspect $n: $output"
                [ "$(jq -r .Digest <<<"$output")" = "$d" ]
        done
        # a layout whose ref.name is a full name keeps it, normalised
        local l=$BATS_TEST_TMPDIR/named
        cp -r "$BUSYBOX_OCI" "$l"
        chmod -R u+w "$l"
        jq '.manifests[0].annotations["org.opencontainers.image.ref.name"] = "localhost/tools/bb:1.0"' \
                "$BUSYBOX_OCI/index.json" >"$l/index.json"
        run hs load "$l"
        [ "$status" -eq 0 ] || fail "load of a layout with a full ref.name: $output"
        [[ "$output" == *"Loaded image: localhost/tools/bb:1.0"* ]] || fail "$output"
        # names that are not references are refused before anything is read
        run hs load --name 'Bad Name' "$BUSYBOX_OCI"
        [ "$status" -eq 125 ] && [ "${#lines[@]}" -eq 1 ]
        # a name with a digest must carry the image's own digest
        run hs load --name "localhost/pinned@sha256:$(printf '%064d' 0)" "$BUSYBOX_OCI"
        [ "$status" -eq 125 ] && [ "${#lines[@]}" -eq 1 ] && [[ "$output" == *"carries a digest that is not the image's ($d)"* ]] || fail "$output"
        run hs tag busybox "localhost/pinned@sha256:$(printf '%064d' 0)"
        [ "$status" -eq 125 ] && [ "${#lines[@]}" -eq 1 ] || fail "$output"
        run hs load --name "localhost/pinned@$d" "$BUSYBOX_OCI"
        [ "$status" -eq 0 ] && [[ "$output" == *"Loaded image: localhost/pinned@$d"* ]] || fail "$output"
        [ "$(jq -r --arg n "localhost/pinned@$d" '.refs[$n]' "$STORE/refs.json")" = "$d" ]
        assert_blobs_intact "$STORE"
}

@test "load: oci-archive as tar, tar.gz and tar.zst give the same image" {
        local a=$BATS_TEST_TMPDIR/bb d0 d
        tar -C "$BUSYBOX_OCI" -cf "$a.tar" .
        gzip -c "$a.tar" >"$a.tar.gz"
        d0=$(hs load -q --name bb:plain "$BUSYBOX_OCI" | sed -n 's/^Manifest digest: //p')
        for f in "$a.tar" "$a.tar.gz"; do
                run hs load -q --name "bb:${f##*.}" "$f"
                [ "$status" -eq 0 ] || fail "load $f: $output"
                d=$(loaded_digest "$output")
                [ "$d" = "$d0" ] || fail "$f: digest $d, the layout's is $d0"
        done
        if command -v zstd >/dev/null; then
                zstd -q -c "$a.tar" >"$a.tar.zst"
                run hs load -q --name bb:zst "$a.tar.zst"
                [ "$status" -eq 0 ] || fail "load tar.zst: $output"
                [ "$(loaded_digest "$output")" = "$d0" ]
        fi
        # the extraction directories are gone
        [ -z "$(ls -A "$STORE/tmp")" ]
        run hs images --format json
        [ "$(jq -r '.[0].Names | length' <<<"$output")" -ge 3 ]
}

@test "load: a multi-platform index resolves to the host, --platform picks another, a missing one is one line" {
        local l=$BATS_TEST_TMPDIR/multi layer ls arch c cs m ms mans='[]' other idx is host d
        host=$(goarch)
        if [ "$host" = arm64 ]; then other=amd64; else other=arm64; fi
        mkdir -p "$l/blobs/sha256"
        printf '{"imageLayoutVersion":"1.0.0"}' >"$l/oci-layout"
        tar -C "$BUSYBOX_ROOTFS" -cf "$BATS_TEST_TMPDIR/layer.tar" ./bin/busybox
        layer=$(sha256sum <"$BATS_TEST_TMPDIR/layer.tar" | cut -c1-64)
        ls=$(stat -c %s "$BATS_TEST_TMPDIR/layer.tar")
        cp "$BATS_TEST_TMPDIR/layer.tar" "$l/blobs/sha256/$layer"
        # blob FILE: store FILE as a blob, print "HEX SIZE"
        blob() {
                local h
                h=$(sha256sum <"$1" | cut -c1-64)
                mv "$1" "$l/blobs/sha256/$h"
                echo "$h $(stat -c %s "$l/blobs/sha256/$h")"
        }
        for arch in "$other" "$host"; do
                jq -cn --arg a "$arch" --arg l "sha256:$layer" \
                        '{architecture:$a,os:"linux",config:{Cmd:["/bin/busybox","echo",$a]},rootfs:{type:"layers",diff_ids:[$l]}}' >"$l/c.tmp"
                read -r c cs < <(blob "$l/c.tmp")
                jq -cn --arg c "sha256:$c" --argjson cs "$cs" --arg l "sha256:$layer" --argjson ls "$ls" \
                        '{schemaVersion:2,mediaType:"application/vnd.oci.image.manifest.v1+json",
                          config:{mediaType:"application/vnd.oci.image.config.v1+json",digest:$c,size:$cs},
                          layers:[{mediaType:"application/vnd.oci.image.layer.v1.tar",digest:$l,size:$ls}]}' >"$l/m.tmp"
                read -r m ms < <(blob "$l/m.tmp")
                mans=$(jq -c --arg m "sha256:$m" --argjson ms "$ms" --arg a "$arch" \
                        '. + [{mediaType:"application/vnd.oci.image.manifest.v1+json",digest:$m,size:$ms,
                               platform:{os:"linux",architecture:$a}}]' <<<"$mans")
        done
        jq -cn --argjson mans "$mans" '{schemaVersion:2,mediaType:"application/vnd.oci.image.index.v1+json",manifests:$mans}' >"$l/i.tmp"
        read -r idx is < <(blob "$l/i.tmp")
        jq -cn --arg i "sha256:$idx" --argjson is "$is" \
                '{schemaVersion:2,manifests:[{mediaType:"application/vnd.oci.image.index.v1+json",digest:$i,size:$is,
                  annotations:{"org.opencontainers.image.ref.name":"localhost/multi:1"}}]}' >"$l/index.json"

        run hs load "$l"
        [ "$status" -eq 0 ] || fail "load: $output"
        [[ "$output" == *"Loaded image: localhost/multi:1"* ]] || fail "$output"
        d=$(loaded_digest "$output")
        [ "$d" = "$(jq -r --arg a "$host" '.[] | select(.platform.architecture == $a) | .digest' <<<"$mans")" ] || fail "not the host's: $output"
        run hs inspect localhost/multi:1
        [ "$(jq -r '.Architecture + " " + .Config.Cmd[2]' <<<"$output")" = "$host $host" ] || fail "$output"

        run hs load --name localhost/multi:other --platform "linux/$other" "$l"
        [ "$status" -eq 0 ] || fail "load --platform: $output"
        [ "$(loaded_digest "$output")" = "$(jq -r --arg a "$other" '.[] | select(.platform.architecture == $a) | .digest' <<<"$mans")" ]
        run hs inspect localhost/multi:other
        [ "$(jq -r .Architecture <<<"$output")" = "$other" ]

        run hs load --name localhost/multi:none --platform linux/s390x "$l"
        assert_refused "$l" "no manifest for the platform"
        [[ "$output" == *s390x* ]] || fail "$output"
        run hs load --platform 'linux' "$l"
        [ "$status" -eq 125 ] && [ "${#lines[@]}" -eq 1 ] && [[ "$output" == *"--platform"* ]] || fail "$output"
        [ "$(jq -r '.refs | keys | join(",")' "$STORE/refs.json")" = "localhost/multi:1,localhost/multi:other" ]
}

# A docker-archive ('docker save' layout) of the busybox tree: two images (two configs), the first with
# two RepoTags, the second with one; layers are uncompressed tars named by path.
make_docker_archive() {
        local out=$1 dir=$BATS_TEST_TMPDIR/da l c1 c2
        mkdir -p "$dir"
        tar -C "$BUSYBOX_ROOTFS" -cf "$dir/layer.tar" .
        l=$(sha256sum <"$dir/layer.tar" | cut -c1-64)
        for cmd in sh ls; do
                jq -cn --arg a "$(goarch)" --arg l "sha256:$l" --arg c "/bin/$cmd" \
                        '{architecture:$a,os:"linux",config:{Cmd:[$c]},rootfs:{type:"layers",diff_ids:[$l]}}' >"$dir/c.json"
                c=$(sha256sum <"$dir/c.json" | cut -c1-64)
                mv "$dir/c.json" "$dir/$c.json"
                if [ "$cmd" = sh ]; then c1=$c; else c2=$c; fi
        done
        jq -cn --arg c1 "$c1.json" --arg c2 "$c2.json" \
                '[{Config:$c1,RepoTags:["busybox:da","localhost/other:1"],Layers:["layer.tar"]},
                  {Config:$c2,RepoTags:["registry.example/two:latest"],Layers:["layer.tar"]}]' >"$dir/manifest.json"
        tar -C "$dir" -cf "$out" manifest.json "$c1.json" "$c2.json" layer.tar
}

@test "load: a docker-archive with two images loads both under all their RepoTags, and unpacks" {
        local a=$BATS_TEST_TMPDIR/docker.tar
        make_docker_archive "$a"
        run hs load "$a"
        [ "$status" -eq 0 ] || fail "load: $output"
        for n in docker.io/library/busybox:da localhost/other:1 registry.example/two:latest; do
                [[ "$output" == *"Loaded image: $n"* ]] || fail "$n not loaded: $output"
        done
        [ "$(grep -c '^Manifest digest: ' <<<"$output")" = 2 ]
        run hs images --format json
        [ "$(jq length <<<"$output")" = 2 ] || fail "$output"
        [ "$(jq -r '.[] | select(.Names | index("localhost/other:1")) | .Names | length' <<<"$output")" = 2 ]
        run hs inspect registry.example/two
        [ "$(jq -c .Config.Cmd <<<"$output")" = '["/bin/ls"]' ]
        # one image picked by its RepoTag (which has a ':' of its own), renamed
        run hs load --name picked "$a:busybox:da"
        [ "$status" -eq 0 ] || fail "load FILE:TAG: $output"
        [[ "$output" == *"Loaded image: docker.io/library/picked:latest"* ]]
        # --name cannot name two images
        run hs load --name x "$a"
        [ "$status" -eq 125 ] && [[ "$output" == *"--name names one image"* ]]
        if [ -x "${HUTCH_IMAGE_TOOL:-}" ]; then
                run "$HUTCH_IMAGE_TOOL" rootfs "$STORE" localhost/other:1
                [ "$status" -eq 0 ] || fail "unpack: $output"
                cmp "$BUSYBOX_ROOTFS/bin/busybox" "${output#created }/bin/busybox"
        fi
}

# pm ARGS...: a rootless podman of this test's own (storage under $BATS_TEST_TMPDIR/podman).
pm() {
        local p=$BATS_TEST_TMPDIR/podman
        if [ ! -f "$p/containers.conf" ]; then
                mkdir -p "$p/storage" "$p/run"
                # this host: cgroupfs (PID 1 is not systemd), file events
                printf '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' >"$p/containers.conf"
        fi
        CONTAINERS_CONF="$p/containers.conf" podman --root "$p/storage" --runroot "$p/run" --storage-driver overlay \
                --cgroup-manager cgroupfs "$@"
}

# tree DIR: what a user sees in a rootfs (paths and types, symlink targets), for comparing two trees.
tree() { (cd "$1" && find . -printf '%p %y %l\n' | LC_ALL=C sort); }

@test "load: what podman save writes: docker-archive (one image, several images), oci-archive, oci-dir" {
        requires rootless podman subuid newuidmap
        local t=$BATS_TEST_TMPDIR id d da oa st
        id=$(pm pull -q "oci:$BUSYBOX_OCI:latest") || fail "podman pull from the fixture layout: $id"
        pm tag "$id" localhost/bb:1
        # a second, different image: the busybox binary alone, imported from a tarball
        tar -C "$BUSYBOX_ROOTFS" -cf "$t/bin.tar" ./bin/busybox
        pm import -q --change 'CMD ["/bin/busybox","true"]' "$t/bin.tar" localhost/only-busybox:2 >/dev/null
        pm save -q --format docker-archive -o "$t/da.tar" localhost/bb:1
        pm save -q --multi-image-archive -o "$t/multi.tar" localhost/bb:1 localhost/only-busybox:2
        pm save -q --format oci-archive -o "$t/oa.tar" localhost/bb:1
        pm save -q --format oci-dir -o "$t/odir" localhost/bb:1
        # podman's docker-archive keeps the legacy per-layer directories, layer.tar a symlink
        tar -tvf "$t/da.tar" | grep -q '/layer.tar -> \.\./[0-9a-f]\{64\}\.tar' || fail "no layer.tar symlink: $(tar -tvf "$t/da.tar")"

        run h load --storage "$t/s-da" "$t/da.tar"
        [ "$status" -eq 0 ] || fail "load of podman's docker-archive: $output"
        [[ "$output" == *"Loaded image: localhost/bb:1"* ]] || fail "$output"
        da=$(loaded_digest "$output")

        run h load --storage "$t/s-multi" "$t/multi.tar"
        [ "$status" -eq 0 ] || fail "load of podman's multi-image archive: $output"
        [[ "$output" == *"Loaded image: localhost/bb:1"* ]] && [[ "$output" == *"Loaded image: localhost/only-busybox:2"* ]] || fail "$output"
        [ "$(grep -c '^Manifest digest: ' <<<"$output")" = 2 ]
        run h inspect --storage "$t/s-multi" localhost/only-busybox:2
        [ "$(jq -c .Config.Cmd <<<"$output")" = '["/bin/busybox","true"]' ] || fail "$output"
        [ "$(jq -r .Digest <<<"$(h inspect --storage "$t/s-multi" localhost/bb:1)")" = "$da" ]

        # podman load reads standard input; so does hutch load
        piped() { pm save -q --format docker-archive localhost/bb:1 | h load --storage "$t/s-pipe"; }
        run piped
        [ "$status" -eq 0 ] && [[ "$output" == *"Loaded image: localhost/bb:1"* ]] && [ "$(loaded_digest "$output")" = "$da" ] || fail "podman save | hutch load: $output"

        run h load --storage "$t/s-oa" "$t/oa.tar"
        [ "$status" -eq 0 ] || fail "load of podman's oci-archive: $output"
        [[ "$output" == *"Loaded image: localhost/bb:1"* ]] || fail "$output"
        oa=$(loaded_digest "$output")
        run h load --storage "$t/s-odir" "$t/odir"
        [ "$status" -eq 0 ] || fail "load of podman's oci-dir: $output"
        [ "$(loaded_digest "$output")" = "$oa" ]

        # what a container would see is the fixture's tree, through either format
        if [ -x "${HUTCH_IMAGE_TOOL:-}" ]; then
                for st in s-da s-oa; do
                        run "$HUTCH_IMAGE_TOOL" rootfs "$t/$st" localhost/bb:1
                        [ "$status" -eq 0 ] || fail "unpack from $st: $output"
                        diff <(tree "$BUSYBOX_ROOTFS") <(tree "${output#created }") || fail "$st: the trees differ"
                        cmp "$BUSYBOX_ROOTFS/bin/busybox" "${output#created }/bin/busybox"
                done
        fi
}

@test "load: the signed vectors keep their signatures (v2 its own, evil the re-attached one, v1 none)" {
        vectors
        run hs load --name registry.example/sandbox/tiny:v2 "$TINY:v2"
        [ "$status" -eq 0 ] || fail "load v2: $output"
        [ "$(loaded_digest "$output")" = "$TINY_V2" ]
        run hs load --name registry.example/sandbox/tiny:v1 "$TINY:v1"
        [ "$status" -eq 0 ] || fail "load v1: $output"
        run hs load --name registry.example/sandbox/tiny:evil "$TINY:evil"
        [ "$status" -eq 0 ] || fail "load evil: $output"
        [ "$(loaded_digest "$output")" = "$TINY_EVIL" ]
        run hs inspect registry.example/sandbox/tiny:v2
        [ "$(jq -r .Signatures.Count <<<"$output")" = 1 ] || fail "$output"
        [ "$(jq -r '.Signatures.Origins[0]' <<<"$output")" = "sha256-${TINY_V2#sha256:}.sig layer 0" ]
        run hs inspect registry.example/sandbox/tiny:v1
        [ "$(jq -r .Signatures.Count <<<"$output")" = 0 ]
        [ ! -e "$STORE/sigs/${TINY_V1#sha256:}.json" ]
        run hs inspect registry.example/sandbox/tiny:evil
        [ "$(jq -r .Signatures.Count <<<"$output")" = 1 ]
        # the payload kept is the exact signed bytes
        local p
        p=$(jq -r '.signatures[0].payload' "$STORE/sigs/${TINY_V2#sha256:}.json")
        cmp "$STORE/blobs/sha256/${p#sha256:}" "$HUTCH_VECTORS/sigstore/tiny-v2.payload.json"
        [ "$(jq -r '.signatures[0].signature' "$STORE/sigs/${TINY_V2#sha256:}.json")" = "$(cat "$HUTCH_VECTORS/sigstore/tiny-v2.sig.b64")" ]
        # without a ref the layout holds three images (the .sig artifacts do not count)
        run hs load "$TINY"
        [ "$status" -eq 125 ] && [[ "$output" == *"more than one image"* ]]
        run hs inspect --format text registry.example/sandbox/tiny:v2
        [[ "$output" == *"Signatures:   1"* ]] || fail "$output"
}

@test "images: table, -q, --digests and --format json" {
        hs load -q --name busybox "$BUSYBOX_OCI" >/dev/null
        hs tag busybox localhost/bb:2
        run hs images
        [ "$status" -eq 0 ]
        [[ "${lines[0]}" == REPOSITORY*TAG*"IMAGE ID"*CREATED*SIZE ]] || fail "$output"
        [ "${#lines[@]}" = 3 ]
        [[ "$output" == *"docker.io/library/busybox"*latest* ]] && [[ "$output" == *"localhost/bb"*" 2 "* ]]
        run hs images -q
        [ "${#lines[@]}" = 1 ] && [[ "$output" =~ ^[0-9a-f]{12}$ ]]
        run hs images --digests
        [[ "$output" == *DIGEST*sha256:* ]]
        run hs images --format json
        [ "$(jq length <<<"$output")" = 1 ]
        [ "$(jq -r '.[0].Names | sort | join(",")' <<<"$output")" = "docker.io/library/busybox:latest,localhost/bb:2" ]
        [ "$(jq -r '.[0].Digest' <<<"$output")" = "$(jq -r '.refs["localhost/bb:2"]' "$STORE/refs.json")" ]
        [ "$(jq -r '.[0].Layers' <<<"$output")" = 1 ]
        [ "$(jq -r '.[0].Size' <<<"$output")" -gt 1000000 ]
        run hs images --format yaml
        [ "$status" -eq 125 ]
}

@test "inspect: config fields straight from the image, layers with sizes, history" {
        local l=$BATS_TEST_TMPDIR/l d
        tar -C "$BUSYBOX_ROOTFS" -cf "$BATS_TEST_TMPDIR/layer.tar" ./bin/busybox
        d=$(make_layout "$l" "" "$BATS_TEST_TMPDIR/layer.tar")
        hs load -q --name localhost/made "$l" >/dev/null
        run hs inspect localhost/made
        [ "$status" -eq 0 ] || fail "$output"
        [ "$(jq -r .Digest <<<"$output")" = "$d" ]
        [ "$(jq -c .Config <<<"$output")" = '{"Cmd":["/bin/sh"],"Env":["PATH=/bin"],"Labels":{"x.test":"yes"}}' ]
        [ "$(jq -r '.Layers[0].Size' <<<"$output")" = "$(stat -c %s "$BATS_TEST_TMPDIR/layer.tar")" ]
        [ "$(jq -r '.History[0].created_by' <<<"$output")" = make_layout ]
        [ "$(jq -r '.Os + "/" + .Architecture' <<<"$output")" = "linux/$(goarch)" ]
        run hs inspect localhost/missing
        [ "$status" -eq 125 ] && [[ "$output" == *"not in the store"* ]]

        # the declarations, as JSON and as text; the image's strings cannot drive the terminal
        CFG_EXTRA='{"Entrypoint":["/bin/busybox"],"WorkingDir":"/w","User":"1:2","StopSignal":"SIGINT",
                    "Volumes":{"/var/lib/db":{},"/data":{}},"ExposedPorts":{"8080/tcp":{},"53/udp":{}},
                    "Labels":{"x.test":"yes","evil":"a\u001b]0;pwned\u0007b\u009bc"}}' \
                make_layout "$BATS_TEST_TMPDIR/decl" "" "$BATS_TEST_TMPDIR/layer.tar" >/dev/null
        hs load -q --name localhost/decl "$BATS_TEST_TMPDIR/decl" >/dev/null
        run hs inspect localhost/decl
        [ "$status" -eq 0 ] || fail "$output"
        [ "$(jq -c '.Config | [.Entrypoint, .WorkingDir, .User, .StopSignal, (.Volumes | keys), (.ExposedPorts | keys)]' <<<"$output")" = \
                '[["/bin/busybox"],"/w","1:2","SIGINT",["/data","/var/lib/db"],["53/udp","8080/tcp"]]' ] || fail "$output"
        [ "$(jq -r '.Config.Labels.evil' <<<"$output")" = $'a\e]0;pwned\ab\xc2\x9bc' ]
        run hs inspect --format text localhost/decl
        [ "$status" -eq 0 ] || fail "$output"
        grep -qx 'Volumes:      /var/lib/db /data' <<<"$output" || fail "$output"
        grep -qx 'Ports:        8080/tcp 53/udp' <<<"$output" || fail "$output"
        grep -qx 'StopSignal:   SIGINT' <<<"$output" || fail "$output"
        grep -qx 'Labels:       x.test=yes' <<<"$output" || fail "$output"
        grep -qx '              evil=a?]0;pwned?b??c' <<<"$output" || fail "$output"
        if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' <<<"$output"; then fail "control bytes in: $(cat -v <<<"$output")"; fi
}

@test "tag, rmi and prune leave exactly what the named images need" {
        vectors
        hs load -q --name busybox "$BUSYBOX_OCI" >/dev/null
        hs load -q --name registry.example/sandbox/tiny:v2 "$TINY:v2" >/dev/null
        hs load -q "$TINY:v1" >/dev/null 2>&1 # by digest only
        local bb
        bb=$(jq -r '.refs["docker.io/library/busybox:latest"]' "$STORE/refs.json")
        run hs tag "${bb:7:12}" localhost/second
        [ "$status" -eq 0 ] || fail "tag: $output"
        [ "$(jq -r '.refs["localhost/second:latest"]' "$STORE/refs.json")" = "$bb" ]
        # a rootfs cache for busybox, as a run would leave it
        if [ -x "${HUTCH_IMAGE_TOOL:-}" ]; then
                "$HUTCH_IMAGE_TOOL" rootfs "$STORE" "$bb" >/dev/null
                [ -d "$STORE/rootfs/${bb#sha256:}" ]
        fi
        # by ID with two names: refused without -f
        run hs rmi "${bb:7:12}"
        [ "$status" -eq 125 ] && [[ "$output" == *"several names"* ]]
        run hs rmi localhost/second
        [ "$status" -eq 0 ] && [ "$output" = "Untagged: localhost/second:latest" ]
        [ -e "$STORE/blobs/sha256/${bb#sha256:}" ]
        if [ -x "${HUTCH_IMAGE_TOOL:-}" ]; then [ -d "$STORE/rootfs/${bb#sha256:}" ]; fi
        run hs rmi busybox
        [ "$status" -eq 0 ] || fail "$output"
        [[ "$output" == *"Deleted: $bb"* ]]
        [ ! -e "$STORE/rootfs/${bb#sha256:}" ]
        run hs rmi busybox
        [ "$status" -eq 125 ] && [ "${#lines[@]}" -eq 1 ]
        # a stale temp blob and a stale extraction directory, as a killed load leaves them
        : >"$STORE/blobs/sha256/.tmp-${bb#sha256:}-deadbeef"
        mkdir -p "$STORE/tmp/import-deadbeef/x"
        run hs prune
        [ "$status" -eq 0 ] || fail "prune: $output"
        # what is left is exactly tiny v2: manifest, config, layers, and its signature's payload
        local want have m
        m=$STORE/blobs/sha256/${TINY_V2#sha256:}
        want=$( (echo "${TINY_V2#sha256:}"
                jq -r '.config.digest, .layers[].digest' "$m" | cut -c8-
                jq -r '.signatures[].payload' "$STORE/sigs/${TINY_V2#sha256:}.json" | cut -c8-) | sort -u | tr '\n' ' ')
        have=$(ls -A "$STORE/blobs/sha256" | sort | tr '\n' ' ')
        [ "$have" = "$want" ] || fail "left: $have; needed: $want"
        # its signatures and the layout it was loaded from; nothing of the removed images
        [ "$(ls "$STORE/sigs" | tr '\n' ' ')" = "${TINY_V2#sha256:}.json ${TINY_V2#sha256:}.origin " ] || fail "sigs: $(ls "$STORE/sigs")"
        [ -z "$(ls -A "$STORE/tmp")" ]
        [ -z "$(ls -A "$STORE/rootfs")" ]
        # and what is left still works
        run hs inspect registry.example/sandbox/tiny:v2
        [ "$status" -eq 0 ] && [ "$(jq -r .Signatures.Count <<<"$output")" = 1 ]
        run hs prune
        [[ "$output" == "Removed 0 blobs"* ]] || fail "second prune: $output"
}

@test "save + load round trip keeps the manifest digest and the signatures" {
        vectors
        hs load -q --name registry.example/sandbox/tiny:v2 "$TINY:v2" >/dev/null
        hs load -q --name busybox "$BUSYBOX_OCI" >/dev/null
        local out=$BATS_TEST_TMPDIR/tiny.tar bbout=$BATS_TEST_TMPDIR/bb.tar
        run hs save -o "$out" registry.example/sandbox/tiny:v2
        [ "$status" -eq 0 ] || fail "save: $output"
        [ -f "$out" ] && [ -z "$(find "$BATS_TEST_TMPDIR" -maxdepth 1 -name '.tiny.tar.*')" ]
        # the layout inside names the image and carries the cosign artifact
        tar -xOf "$out" index.json | jq -e --arg s "sha256-${TINY_V2#sha256:}.sig" \
                '[.manifests[].annotations["org.opencontainers.image.ref.name"]] == ["registry.example/sandbox/tiny:v2", $s]'
        local s2=$BATS_TEST_TMPDIR/store2
        run h load --storage "$s2" "$out"
        [ "$status" -eq 0 ] || fail "load of the saved archive: $output"
        [[ "$output" == *"Loaded image: registry.example/sandbox/tiny:v2"* ]]
        [ "$(loaded_digest "$output")" = "$TINY_V2" ]
        run h inspect --storage "$s2" registry.example/sandbox/tiny:v2
        [ "$(jq -r .Signatures.Count <<<"$output")" = 1 ] || fail "$output"
        diff <(jq -S '.signatures | map(del(.origin))' "$STORE/sigs/${TINY_V2#sha256:}.json") \
                <(jq -S '.signatures | map(del(.origin))' "$s2/sigs/${TINY_V2#sha256:}.json")
        # umoci reads the saved layout (another consumer than hutch)
        mkdir "$BATS_TEST_TMPDIR/x"
        tar -C "$BATS_TEST_TMPDIR/x" -xf "$out"
        umoci stat --image "$BATS_TEST_TMPDIR/x:registry.example/sandbox/tiny:v2" >/dev/null || fail "umoci cannot read the saved layout"
        # an unsigned image: no artifact, same digest
        run hs save -o "$bbout" busybox
        [ "$status" -eq 0 ] || fail "save busybox: $output"
        # -o -: the same bytes on standard output (a pipe here), never on a terminal
        hs save -o - busybox | cat >"$BATS_TEST_TMPDIR/stdout.tar"
        cmp "$bbout" "$BATS_TEST_TMPDIR/stdout.tar"
        [ ! -e ./- ] && [ ! -e "$BATS_TEST_TMPDIR/-" ]
        if command -v script >/dev/null; then
                script -qec "'$HUTCH' save --storage '$STORE' -o - busybox" "$BATS_TEST_TMPDIR/tty.log" >/dev/null || true
                grep -q 'standard output is a terminal' "$BATS_TEST_TMPDIR/tty.log" || fail "$(cat -v "$BATS_TEST_TMPDIR/tty.log")"
                [ "$(wc -c <"$BATS_TEST_TMPDIR/tty.log")" -lt 1000 ] || fail "an archive went to the terminal"
        fi
        [ "$(tar -xOf "$bbout" index.json | jq '.manifests | length')" = 1 ]
        run h load --storage "$s2" "$bbout"
        [ "$(loaded_digest "$output")" = "$(jq -r '.refs["docker.io/library/busybox:latest"]' "$STORE/refs.json")" ]
        # a corrupt store is not exported: the old file stays as it was
        local layer
        layer=$(jq -r '.layers[0].digest' "$STORE/blobs/sha256/$(jq -r '.refs["docker.io/library/busybox:latest"]' "$STORE/refs.json" | cut -c8-)")
        chmod u+w "$STORE/blobs/sha256/${layer#sha256:}"
        printf 'X' | dd of="$STORE/blobs/sha256/${layer#sha256:}" bs=1 seek=500 conv=notrunc status=none
        cp "$bbout" "$BATS_TEST_TMPDIR/before.tar"
        run hs save -o "$bbout" busybox
        [ "$status" -eq 125 ] && [[ "$output" == *"does not match its digest"* ]] || fail "$output"
        cmp "$bbout" "$BATS_TEST_TMPDIR/before.tar"
        [ -z "$(find "$BATS_TEST_TMPDIR" -maxdepth 1 -name '.bb.tar.*')" ]
}

@test "hostile inputs: exit 125, one line naming the file, nothing named" {
        local l=$BATS_TEST_TMPDIR/l d layer f
        tar -C "$BUSYBOX_ROOTFS" -cf "$BATS_TEST_TMPDIR/layer.tar" ./etc
        d=$(make_layout "$l" "" "$BATS_TEST_TMPDIR/layer.tar")
        layer=$(jq -r '.layers[0].digest' "$l/blobs/sha256/${d#sha256:}" | cut -c8-)

        f=$BATS_TEST_TMPDIR/wrong-digest
        cp -r "$l" "$f"
        printf 'X' | dd of="$f/blobs/sha256/$layer" bs=1 seek=700 conv=notrunc status=none
        run hs load --name x "$f"
        assert_refused "$f" "a blob with a wrong digest"
        [[ "$output" == *"digest did not match"* ]]

        f=$BATS_TEST_TMPDIR/dotdot-digest
        cp -r "$l" "$f"
        jq '.manifests[0].digest = "sha256:../../../../etc/passwd"' "$l/index.json" >"$f/index.json"
        run hs load --name x "$f"
        assert_refused "$f" "sha256:../x in index.json"

        f=$BATS_TEST_TMPDIR/missing-blob
        cp -r "$l" "$f"
        rm "$f/blobs/sha256/$layer"
        run hs load --name x "$f"
        assert_refused "$f" "a missing blob"

        f=$BATS_TEST_TMPDIR/short-blob
        cp -r "$l" "$f"
        truncate -s -10 "$f/blobs/sha256/$layer"
        run hs load --name x "$f"
        assert_refused "$f" "a blob shorter than its descriptor"

        # an oci-archive with a ../ member: refused while it is extracted, nothing written outside
        mkdir -p "$BATS_TEST_TMPDIR/evil"
        echo evil >"$BATS_TEST_TMPDIR/evil/escape"
        tar -C "$l" -cf "$BATS_TEST_TMPDIR/dotdot.tar" .
        tar -C "$BATS_TEST_TMPDIR/evil" -P --transform 's,^escape,../../escape,' -rf "$BATS_TEST_TMPDIR/dotdot.tar" escape 2>/dev/null
        run hs load --name x "$BATS_TEST_TMPDIR/dotdot.tar"
        assert_refused "$BATS_TEST_TMPDIR/dotdot.tar" "an archive member with ../"
        [ ! -e "$STORE/escape" ] && [ ! -e "$STORE/tmp/escape" ] && [ ! -e "$(dirname "$STORE")/escape" ]

        # a layer with a ../ path: loads (digests are right), but never unpacks outside
        f=$BATS_TEST_TMPDIR/dotdot-layer
        tar -C "$BATS_TEST_TMPDIR/evil" -P --transform 's,^escape,../escape,' -cf "$BATS_TEST_TMPDIR/evil.tar" escape 2>/dev/null
        make_layout "$f" "" "$BATS_TEST_TMPDIR/evil.tar" >/dev/null
        run hs load -q --name localhost/evil "$f"
        [ "$status" -eq 0 ] || fail "load: $output"
        if [ -x "${HUTCH_IMAGE_TOOL:-}" ]; then
                run "$HUTCH_IMAGE_TOOL" rootfs "$STORE" localhost/evil:latest
                [ "$status" -ne 0 ] && [[ "$output" == *'..'* ]] || fail "unpack of a ../ layer: $output"
                [ ! -e "$STORE/rootfs/escape" ] && [ ! -e "$STORE/escape" ]
                [ -z "$(ls -A "$STORE/rootfs")" ]
        fi

        run hs load "$BATS_TEST_TMPDIR/no-such-file"
        assert_refused "$BATS_TEST_TMPDIR/no-such-file" "a missing file"
        printf 'not a tar' >"$BATS_TEST_TMPDIR/junk.tar"
        run hs load "$BATS_TEST_TMPDIR/junk.tar"
        assert_refused "$BATS_TEST_TMPDIR/junk.tar" "not an archive"

        # none of it named anything
        [ "$(jq -r '.refs | keys | join(",")' "$STORE/refs.json")" = "localhost/evil:latest" ]
        assert_blobs_intact "$STORE"
}

@test "concurrent loads and prunes on one store: every load named, every blob whole, nothing left over" {
        local t=$BATS_TEST_TMPDIR pids=() p n
        tar -C "$BUSYBOX_OCI" -cf "$t/bb.tar" .
        gzip -c "$t/bb.tar" >"$t/bb.tar.gz"
        make_docker_archive "$t/docker.tar"
        for n in 1 2 3; do
                hs load -q --name "localhost/layout:$n" "$BUSYBOX_OCI" >"$t/out.layout$n" 2>&1 &
                pids+=($!)
        done
        hs load -q --name localhost/tar:1 "$t/bb.tar" >"$t/out.tar" 2>&1 &
        pids+=($!)
        hs load -q --name localhost/gz:1 "$t/bb.tar.gz" >"$t/out.gz" 2>&1 &
        pids+=($!)
        hs load -q "$t/docker.tar" >"$t/out.docker" 2>&1 &
        pids+=($!)
        hs prune >"$t/out.prune1" 2>&1 &
        pids+=($!)
        hs prune >"$t/out.prune2" 2>&1 &
        pids+=($!)
        for p in "${pids[@]}"; do
                wait "$p" || fail "a concurrent command failed: $(tail -n +1 "$t"/out.*)"
        done
        run hs images --format json
        [ "$status" -eq 0 ] || fail "$output"
        [ "$(jq -r '[.[].Names[]] | sort | join(",")' <<<"$output")" = \
                "docker.io/library/busybox:da,localhost/gz:1,localhost/layout:1,localhost/layout:2,localhost/layout:3,localhost/other:1,localhost/tar:1,registry.example/two:latest" ] ||
                fail "$output"
        assert_blobs_intact "$STORE"
        for n in localhost/layout:2 localhost/gz:1 registry.example/two; do
                run hs inspect "$n"
                [ "$status" -eq 0 ] || fail "inspect $n: $output"
        done
        # every blob belongs to a named image, and no temp file or extraction is left
        run hs prune --dry-run
        [[ "$output" == "Would remove 0 blobs"*", 0 leftovers, 0 images without a name" ]] || fail "after the concurrent run: $output"
        [ -z "$(find "$STORE" -name '.tmp-*' -o -name 'import-*')" ]
}

@test "progress: one line rewritten with \\r on a TTY, none with -q or without a TTY" {
        command -v script >/dev/null || skip "script (util-linux) is not installed"
        local l=$BATS_TEST_TMPDIR/big
        head -c $((8 << 20)) /dev/urandom >"$BATS_TEST_TMPDIR/rand"
        tar -C "$BATS_TEST_TMPDIR" -cf "$BATS_TEST_TMPDIR/big.tar" rand
        make_layout "$l" "" "$BATS_TEST_TMPDIR/big.tar" >/dev/null
        script -qec "'$HUTCH' load --storage '$STORE' --name localhost/big '$l'" "$BATS_TEST_TMPDIR/tty.log" >/dev/null
        grep -q $'\r\e\\[KCopying blob [0-9a-f]\\{12\\} .*100%' "$BATS_TEST_TMPDIR/tty.log" || fail "no progress line: $(cat -v "$BATS_TEST_TMPDIR/tty.log")"
        # no newline between updates: one line
        [ "$(grep -c 'Copying blob' "$BATS_TEST_TMPDIR/tty.log")" = 1 ]
        rm -rf "$STORE"
        script -qec "'$HUTCH' load -q --storage '$STORE' --name localhost/big '$l'" "$BATS_TEST_TMPDIR/q.log" >/dev/null
        # (a bare `! cmd` never fails a bats test)
        if grep -q 'Copying blob' "$BATS_TEST_TMPDIR/q.log"; then fail "a progress line with -q: $(cat -v "$BATS_TEST_TMPDIR/q.log")"; fi
        rm -rf "$STORE"
        run hs load --name localhost/big "$l"
        [ "$status" -eq 0 ] && [[ "$output" != *"Copying blob"* ]]
}

@test "kill -9 during load and during unpack: nothing partial is ever used" {
        local l=$BATS_TEST_TMPDIR/big d big
        head -c $((100 << 20)) /dev/urandom >"$BATS_TEST_TMPDIR/rand"
        tar -C "$BATS_TEST_TMPDIR" -cf "$BATS_TEST_TMPDIR/big.tar" rand
        rm "$BATS_TEST_TMPDIR/rand"
        d=$(make_layout "$l" "" "$BATS_TEST_TMPDIR/big.tar")
        rm "$BATS_TEST_TMPDIR/big.tar"
        hs load -q --name busybox "$BUSYBOX_OCI" >/dev/null
        big=$(jq -r '.layers[0].digest' "$l/blobs/sha256/${d#sha256:}" | cut -c8-)
        # hutch itself, not a subshell running it (kill -9 of the subshell would leave hutch copying)
        start_held "$HUTCH" load --storage "$STORE" --name localhost/big "$l"
        # kill while the big blob is being copied (its temp file there before and after the kill)
        kill_when "$STORE/blobs/sha256/.tmp-$big-*" "$HELD_PID" "$HELD_GO"
        # the store: the old image listed, the killed one not; no blob under its name is partial
        run hs images --format json
        [ "$status" -eq 0 ] || fail "images after kill: $output"
        [ "$(jq -r '[.[].Names[]] | join(",")' <<<"$output")" = "docker.io/library/busybox:latest" ]
        assert_blobs_intact "$STORE"
        [ ! -e "$STORE/blobs/sha256/$big" ] || fail "the killed load's blob is in place"
        # a new load completes (the temp file of the killed one is not in its way)
        run hs load -q --name localhost/big "$l"
        [ "$status" -eq 0 ] || fail "load after kill: $output"
        [ "$(loaded_digest "$output")" = "$d" ]
        assert_blobs_intact "$STORE"
        if [ -x "${HUTCH_IMAGE_TOOL:-}" ]; then
                # kill the unpack midway too
                start_held "$HUTCH_IMAGE_TOOL" rootfs "$STORE" localhost/big:latest
                kill_when "$STORE/rootfs/${d#sha256:}.tmp-*" "$HELD_PID" "$HELD_GO"
                [ ! -e "$STORE/rootfs/${d#sha256:}" ] || fail "a killed unpack left a rootfs under the image's name"
                run "$HUTCH_IMAGE_TOOL" rootfs "$STORE" localhost/big:latest
                [ "$status" -eq 0 ] || fail "unpack after kill: $output"
                [ "$output" = "created $STORE/rootfs/${d#sha256:}" ]
                [ "$(stat -c %s "$STORE/rootfs/${d#sha256:}/rand")" = $((100 << 20)) ]
        fi
        # prune clears the leftovers and keeps both images
        run hs prune
        [ "$status" -eq 0 ] || fail "$output"
        [ -z "$(find "$STORE" -name '.tmp-*' -o -name '*.tmp-*' -o -name 'import-*')" ]
        run hs images -q
        [ "${#lines[@]}" = 2 ]
}

@test "kill -9 of hutch run while it unpacks: nothing partial is used, the next run sees every byte" {
        requires rootless userns subuid newuidmap
        local t=$BATS_TEST_TMPDIR l=$BATS_TEST_TMPDIR/big d hex sum policy=$BATS_TEST_TMPDIR/accept.json
        echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$policy"
        export XDG_CONFIG_HOME="$t/config" XDG_STATE_HOME="$t/state"
        tar -C "$BUSYBOX_ROOTFS" -cf "$t/bb.tar" .
        head -c $((100 << 20)) /dev/urandom >"$t/rand"
        sum=$(sha256sum <"$t/rand" | cut -c1-64)
        tar -C "$t" -cf "$t/big.tar" rand
        rm "$t/rand"
        d=$(make_layout "$l" "" "$t/bb.tar" "$t/big.tar")
        rm "$t/big.tar"
        hex=${d#sha256:}
        hs load -q --name localhost/big "$l" >/dev/null
        start_held "$HUTCH" run --storage "$STORE" --policy "$policy" --rm localhost/big /bin/busybox true
        kill_when "$STORE/rootfs/$hex.tmp-*" "$HELD_PID" "$HELD_GO"
        [ ! -e "$STORE/rootfs/$hex" ] || fail "a killed unpack left a rootfs under the image's name"
        run hs images --format json
        [ "$status" -eq 0 ] && [ "$(jq -r '.[0].Names[0]' <<<"$output")" = localhost/big:latest ] || fail "images: $output"
        run hs load -q --name localhost/big "$l"
        [ "$status" -eq 0 ] && [ "$(loaded_digest "$output")" = "$d" ] || fail "load after kill: $output"
        run "$HUTCH" run --storage "$STORE" --policy "$policy" --rm localhost/big /bin/busybox sha256sum /rand
        [ "$status" -eq 0 ] || fail "run after kill: $output"
        [ "${output%% *}" = "$sum" ] || fail "the run saw another /rand: $output"
        [ -d "$STORE/rootfs/$hex" ]
        [ -z "$(compgen -G "$STORE/rootfs/$hex.tmp-*")" ] || fail "the killed unpack's tree is still there"
}

@test "rmi and prune leave the rootfs cache of a running container alone, and prune it once the container ended" {
        requires rootless userns subuid newuidmap
        local t=$BATS_TEST_TMPDIR policy=$BATS_TEST_TMPDIR/accept.json d pid
        echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$policy"
        export XDG_CONFIG_HOME="$t/config" XDG_STATE_HOME="$t/state"
        mkdir "$t/ctl"
        d=$(hs load -q --name localhost/bb "$BUSYBOX_OCI" | sed -n 's/^Manifest digest: sha256://p')
        # the container says it is up, waits for /ctl/go, then looks at its root
        "$HUTCH" run --storage "$STORE" --policy "$policy" --rm -v "$t/ctl:/ctl" localhost/bb \
                sh -c 'touch /ctl/up; while [ ! -e /ctl/go ]; do sleep 0.05; done; ls /bin | wc -l; head -1 /etc/passwd' \
                >"$t/out" 2>&1 &
        pid=$!
        for _ in $(seq 1 400); do [ -e "$t/ctl/up" ] && break; sleep 0.05; done
        [ -e "$t/ctl/up" ] || fail "the container did not start: $(cat "$t/out")"
        run hs rmi localhost/bb
        [ "$status" -eq 0 ] || fail "rmi: $output"
        [[ "$output" == *"in use by a running container"* ]] && [[ "$output" == *"Deleted: sha256:$d"* ]] || fail "$output"
        run hs prune
        [ "$status" -eq 0 ] && [[ "$output" == *"Kept 1 rootfs caches"* ]] || fail "prune: $output"
        [ -d "$STORE/rootfs/$d" ]
        touch "$t/ctl/go"
        wait "$pid" || fail "the container failed: $(cat "$t/out")"
        # the container saw its whole root after the image was removed
        [ "$(head -1 "$t/out")" = "$(find "$BUSYBOX_ROOTFS/bin" -mindepth 1 -maxdepth 1 | wc -l)" ] && [ "$(sed -n 2p "$t/out")" = root:x:0:0:root:/root:/bin/sh ] || fail "$(cat "$t/out")"
        run hs prune
        [ "$status" -eq 0 ] && [[ "$output" == *", 1 rootfs caches,"* ]] || fail "second prune: $output"
        [ -z "$(ls -A "$STORE/rootfs")" ]
}

@test "images and prune: an image stored by digest only is listed as <none>, found by ID, pruned unless in use" {
        local t=$BATS_TEST_TMPDIR d d2
        run hs load "$BUSYBOX_OCI:latest"
        [ "$status" -eq 0 ] || fail "load: $output"
        d=$(loaded_digest "$output")
        run hs images
        [ "$status" -eq 0 ] && [ "${#lines[@]}" = 2 ] || fail "images: $output"
        [[ "${lines[1]}" =~ ^"<none>"\ +"<none>"\ +${d:7:12}\  ]] || fail "no <none> row: $output"
        run hs images --format json
        [ "$(jq -c '[.[] | [.Digest, .Names]]' <<<"$output")" = "[[\"$d\",[]]]" ] || fail "json: $output"
        for n in "${d:7:12}" "${d#sha256:}" "$d"; do
                run hs inspect "$n"
                [ "$status" -eq 0 ] && [ "$(jq -r .Digest <<<"$output")" = "$d" ] || fail "inspect $n: $output"
        done
        # a second one, from a layout entry without a ref.name; naming it takes it off the list
        tar -C "$BUSYBOX_ROOTFS" -cf "$t/layer.tar" ./bin/busybox
        d2=$(make_layout "$t/l2" "" "$t/layer.tar")
        run hs load "$t/l2"
        [ "$status" -eq 0 ] && [[ "$output" == *"Loaded image: $d2"* ]] || fail "load: $output"
        run hs images -q
        [ "$output" = "${d:7:12}
${d2:7:12}" ] || fail "images -q: $output"
        hs tag "${d2:7:12}" localhost/two
        [ "$(jq -r '.unnamed | join(",")' "$STORE/refs.json")" = "$d" ]
        # loading it again without a name does not list it as unnamed: it has one
        hs load -q "$t/l2" >/dev/null 2>&1
        [ "$(jq -r '.unnamed | join(",")' "$STORE/refs.json")" = "$d" ]

        # in use: a running container pins its rootfs cache (a shared flock, rootfs.h) and prune keeps it
        if [ -x "${HUTCH_IMAGE_TOOL:-}" ]; then
                run "$HUTCH_IMAGE_TOOL" rootfs "$STORE" "$d"
                [ "$status" -eq 0 ] || fail "rootfs: $output"
                mkfifo "$t/release"
                flock -s "$STORE/rootfs/${d#sha256:}" cat "$t/release" 3>&- &
                local holder=$!
                # the holder has the lock once flock runs cat, which blocks opening the fifo; prune's
                # lock attempt never waits (LOCK_NB), so retry until the holder is there
                for _ in $(seq 1 200); do
                        flock -n -x "$STORE/rootfs/${d#sha256:}" true || break
                        sleep 0.02
                done
                run hs prune
                echo >"$t/release"
                wait "$holder"
                [ "$status" -eq 0 ] && [[ "$output" == *"Kept 1 images without a name"* ]] || fail "prune: $output"
                [ -e "$STORE/blobs/sha256/${d#sha256:}" ] && [ -d "$STORE/rootfs/${d#sha256:}" ] || fail "prune removed an image in use"
                [ "$(jq -r '.unnamed | join(",")' "$STORE/refs.json")" = "$d" ]
        fi
        # unused: prune removes it (record, manifest, rootfs cache), and keeps the named one
        run hs prune
        [ "$status" -eq 0 ] && [[ "$output" == *", 1 images without a name" ]] || fail "prune: $output"
        [ ! -e "$STORE/blobs/sha256/${d#sha256:}" ] && [ ! -e "$STORE/rootfs/${d#sha256:}" ]
        [ "$(jq -r '.unnamed | length' "$STORE/refs.json")" = 0 ]
        run hs images -q
        [ "$output" = "${d2:7:12}" ] || fail "after prune: $output"
        run hs inspect localhost/two
        [ "$status" -eq 0 ]
        # rmi by ID deletes an unnamed image at once
        hs load -q "$BUSYBOX_OCI:latest" >/dev/null 2>&1
        run hs rmi "${d:7:12}"
        [ "$status" -eq 0 ] && [ "$output" = "Deleted: $d" ] || fail "rmi: $output"
        [ "$(jq -r '.unnamed | length' "$STORE/refs.json")" = 0 ]
}

@test "run: an image by its ID, a unique prefix, or repo@digest under any stored name of that repository" {
        requires rootless userns subuid newuidmap
        local t=$BATS_TEST_TMPDIR policy=$BATS_TEST_TMPDIR/accept.json d ref
        echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$policy"
        export XDG_CONFIG_HOME="$t/config" XDG_STATE_HOME="$t/state"
        d=$(hs load -q --name localhost/bb:1 "$BUSYBOX_OCI" | sed -n 's/^Manifest digest: //p')
        hr() { "$HUTCH" run --storage "$STORE" --policy "$policy" --rm "$@"; }
        for ref in "$d" "${d#sha256:}" "${d:7:12}" "localhost/bb@$d" "localhost/bb:2@$d" "localhost/bb:1@$d"; do
                run hr "$ref" /bin/busybox echo ok
                [ "$status" -eq 0 ] && [ "$output" = ok ] || fail "run $ref: $output"
        done
        # a digest does not lend the image to another repository
        run hr "localhost/other@$d" /bin/busybox echo ok
        [ "$status" -eq 125 ] && [ "${#lines[@]}" -eq 1 ] && [[ "$output" == *"not in the store"* ]] || fail "other repo: $output"
        run hr "localhost/bb@sha256:$(printf '%064d' 0)" /bin/busybox echo ok
        [ "$status" -eq 125 ] && [[ "$output" == *"not in the store"* ]] || fail "unknown digest: $output"
        # by ID the policy needs one name: two are refused, naming them; repo@digest still decides
        hs tag localhost/bb:1 registry.example/bb:2
        run hr "${d:7:12}" /bin/busybox echo ok
        [ "$status" -eq 125 ] && [[ "$output" == *"several names"*"localhost/bb:1"* ]] || fail "two names: $output"
        run hr "registry.example/bb@$d" /bin/busybox echo ok
        [ "$status" -eq 0 ] && [ "$output" = ok ] || fail "repo@digest with two names: $output"
        # an image without a name cannot be judged by the policy: refused with the way out
        hs rmi -f "${d:7:12}" >/dev/null
        hs load -q "$BUSYBOX_OCI:latest" >/dev/null 2>&1
        run hr "${d:7:12}" /bin/busybox echo ok
        [ "$status" -eq 125 ] && [[ "$output" == *"has no name"*"hutch tag"* ]] || fail "unnamed: $output"
}

# make_platform_archive OUT: a docker-archive of two images of the busybox binary, one for this machine
# (RepoTag localhost/p:host) and one for another architecture (localhost/p:other).
make_platform_archive() {
        local out=$1 dir=$BATS_TEST_TMPDIR/pa l c cfgs=() items='[]' arch tag
        mkdir -p "$dir"
        tar -C "$BUSYBOX_ROOTFS" -cf "$dir/layer.tar" ./bin/busybox
        l=$(sha256sum <"$dir/layer.tar" | cut -c1-64)
        for tag in host other; do
                arch=$(goarch)
                [ "$tag" = host ] || arch=$OTHER_ARCH
                jq -cn --arg a "$arch" --arg l "sha256:$l" \
                        '{architecture:$a,os:"linux",config:{Cmd:["/bin/busybox","echo",$a]},rootfs:{type:"layers",diff_ids:[$l]}}' >"$dir/c.json"
                c=$(sha256sum <"$dir/c.json" | cut -c1-64)
                mv "$dir/c.json" "$dir/$c.json"
                cfgs+=("$c.json")
                items=$(jq -c --arg c "$c.json" --arg t "localhost/p:$tag" '. + [{Config:$c,RepoTags:[$t],Layers:["layer.tar"]}]' <<<"$items")
        done
        printf '%s' "$items" >"$dir/manifest.json"
        tar -C "$dir" -cf "$out" manifest.json "${cfgs[@]}" layer.tar
}

@test "load: --platform picks the docker-archive images built for it, and refuses what cannot satisfy it" {
        local a=$BATS_TEST_TMPDIR/p.tar
        OTHER_ARCH=arm64
        [ "$(goarch)" != arm64 ] || OTHER_ARCH=amd64
        make_platform_archive "$a"
        run hs load --platform "linux/$OTHER_ARCH" "$a"
        [ "$status" -eq 0 ] || fail "load --platform: $output"
        [[ "$output" == *"Loaded image: localhost/p:other"* ]] && [[ "$output" != *"localhost/p:host"* ]] || fail "$output"
        [ "$(grep -c '^Manifest digest: ' <<<"$output")" = 1 ] && [[ "$output" != *"another platform"* ]] || fail "$output"
        [ "$(jq -r '.refs | keys | join(",")' "$STORE/refs.json")" = localhost/p:other ]
        run hs inspect localhost/p:other
        [ "$(jq -r .Architecture <<<"$output")" = "$OTHER_ARCH" ]
        # the host's platform, named explicitly (with a variant the image does not state)
        run hs load --platform "linux/$(goarch)" "$a"
        [ "$status" -eq 0 ] && [[ "$output" == *"Loaded image: localhost/p:host"* ]] && [[ "$output" != *"p:other"* ]] || fail "$output"
        # a platform none of them is for: one line, nothing named
        rm -rf "$STORE"
        run hs load --platform linux/s390x "$a"
        assert_refused "$a" "no image for the platform"
        [[ "$output" == *"none of its 2 images is for platform linux/s390x"* ]] || fail "$output"
        # the image a RepoTag picks must be for the platform asked for
        run hs load --platform "linux/$OTHER_ARCH" "$a:localhost/p:host"
        assert_refused "$a" "a tag of another platform"
        [[ "$output" == *"is for linux/$(goarch), not for the platform asked for (linux/$OTHER_ARCH)"* ]] || fail "$output"
        [ ! -e "$STORE/refs.json" ] || [ "$(jq -r '.refs | length' "$STORE/refs.json")" = 0 ]
        # without --platform every image loads; the foreign one with a warning
        run hs load "$a"
        [ "$status" -eq 0 ] && [[ "$output" == *"Loaded image: localhost/p:host"* ]] && [[ "$output" == *"Loaded image: localhost/p:other"* ]] || fail "$output"
        [[ "$output" == *"built for another platform than this machine"* ]] || fail "no warning: $output"
}

@test "load: from standard input (a pipe, a redirect, -, -i -), and -i/--input PATH" {
        local t=$BATS_TEST_TMPDIR d out
        tar -C "$BUSYBOX_OCI" -cf "$t/oa.tar" .
        d=$(hs load -q --name localhost/file "$t/oa.tar" | sed -n 's/^Manifest digest: //p')
        run bash -c "cat '$t/oa.tar' | '$HUTCH' load --storage '$STORE' --name localhost/piped"
        [ "$status" -eq 0 ] && [[ "$output" == *"Loaded image: localhost/piped:latest"* ]] && [ "$(loaded_digest "$output")" = "$d" ] || fail "pipe: $output"
        run bash -c "gzip -c '$t/oa.tar' | '$HUTCH' load --storage '$STORE' --name localhost/gz -"
        [ "$status" -eq 0 ] && [ "$(loaded_digest "$output")" = "$d" ] || fail "gzip on a pipe, -: $output"
        run bash -c "'$HUTCH' load --storage '$STORE' --name localhost/redirect <'$t/oa.tar'"
        [ "$status" -eq 0 ] && [ "$(loaded_digest "$output")" = "$d" ] || fail "redirect: $output"
        run bash -c "cat '$t/oa.tar' | '$HUTCH' load --storage '$STORE' --name localhost/dash -i -"
        [ "$status" -eq 0 ] && [ "$(loaded_digest "$output")" = "$d" ] || fail "-i -: $output"
        for o in -i --input; do
                run hs load --name localhost/opt "$o" "$t/oa.tar"
                [ "$status" -eq 0 ] && [ "$(loaded_digest "$output")" = "$d" ] || fail "$o: $output"
        done
        # a docker-archive with two images, through a pipe
        make_docker_archive "$t/da.tar"
        run bash -c "cat '$t/da.tar' | '$HUTCH' load --storage '$STORE'"
        [ "$status" -eq 0 ] && [ "$(grep -c '^Manifest digest: ' <<<"$output")" = 2 ] || fail "docker-archive on a pipe: $output"
        # a stream cut short, and junk: one line naming stdin, nothing named, nothing left in tmp/
        run bash -c "head -c 100000 '$t/oa.tar' | '$HUTCH' load --storage '$STORE' --name localhost/cut"
        [ "$status" -eq 125 ] && [ "${#lines[@]}" -eq 1 ] && [[ "$output" == "hutch: stdin: "* ]] || fail "cut short: $output"
        run bash -c "echo junk | '$HUTCH' load --storage '$STORE' --name localhost/junk"
        [ "$status" -eq 125 ] && [ "${#lines[@]}" -eq 1 ] && [[ "$output" == "hutch: stdin: "* ]] || fail "junk: $output"
        [ "$(jq -r '.refs | keys | map(select(. == "localhost/cut:latest" or . == "localhost/junk:latest")) | length' "$STORE/refs.json")" = 0 ]
        [ -z "$(ls -A "$STORE/tmp")" ] || fail "left in tmp: $(ls -A "$STORE/tmp")"
        # both an argument and -i; a terminal on stdin
        run hs load -i "$t/oa.tar" "$t/oa.tar"
        [ "$status" -eq 125 ] && [ "${#lines[@]}" -eq 1 ] || fail "two inputs: $output"
        if command -v script >/dev/null; then
                script -qec "'$HUTCH' load --storage '$STORE'" "$t/tty.log" >/dev/null && fail "read from a terminal"
                grep -q "standard input (it is a terminal)" "$t/tty.log" || fail "tty: $(cat "$t/tty.log")"
        fi
        assert_blobs_intact "$STORE"
}

@test "load: an archive is extracted by an isolated child (own user and pid namespace, seccomp, no_new_privs)" {
        requires userns
        local t=$BATS_TEST_TMPDIR lay=$BATS_TEST_TMPDIR/lay pid kids status_line k
        cp -r "$BUSYBOX_OCI" "$lay"
        chmod -R u+w "$lay"
        head -c $((4 << 20)) /dev/urandom >"$lay/padding" # in the archive, not in the image
        tar -C "$lay" -cf "$t/big.tar" .
        mkfifo "$t/sent" "$t/go"
        # hutch load reads the archive from a pipe: after 2 MB (far more than a pipe holds, so the reader
        # has taken most of it) the writer says so on "sent" and waits on "go" before the rest.
        observe() {
                { head -c $((2 << 20)) "$t/big.tar"; echo >"$t/sent"; read -r _ <"$t/go"; tail -c +$(((2 << 20) + 1)) "$t/big.tar"; } |
                        "$HUTCH" load --storage "$STORE" --name localhost/iso >"$t/out" 2>&1 &
                pid=$!
                read -r _ <"$t/sent"
                kids=$(ps -o pid= --ppid "$pid" | tr -d ' ')
                STATUS=""
                for k in $kids; do STATUS+=$(grep -E '^(Seccomp|NoNewPrivs|CapEff|NSpid):' /proc/"$k"/status | tr -s '\t ' ' ')$'\n'; done
                OWN=$(grep -E '^(Seccomp|NoNewPrivs):' /proc/"$pid"/status | tr -s '\t ' ' ')
                echo >"$t/go"
                wait "$pid"
        }
        observe || fail "load: $(cat "$t/out")"
        [[ "$(cat "$t/out")" == *"Loaded image: localhost/iso:latest"* ]] || fail "$(cat "$t/out")"
        # hutch itself is not confined; its one child is
        [ "$OWN" = "NoNewPrivs: 0
Seccomp: 0" ] || fail "hutch load itself: $OWN"
        [ "$(wc -w <<<"$kids")" = 1 ] || fail "expected one extracting child, found: '$kids'"
        grep -qx 'Seccomp: 2' <<<"$STATUS" && grep -qx 'NoNewPrivs: 1' <<<"$STATUS" || fail "the child is not confined: $STATUS"
        # CHOWN DAC_OVERRIDE FOWNER FSETID SETFCAP, of its own user namespace; pid 1 of its own pid namespace
        grep -qx 'CapEff: 000000008000001b' <<<"$STATUS" || fail "capabilities: $STATUS"
        grep -Eqx "NSpid: $kids 1" <<<"$STATUS" || fail "not in a pid namespace of its own: $STATUS"
        # the same observation of an unconfined extraction finds no child: the check above can fail
        rm -rf "$STORE"
        HUTCH_UNPACK_SANDBOX=0 observe || fail "unconfined load: $(cat "$t/out")"
        [ -z "$kids" ] || fail "a child with HUTCH_UNPACK_SANDBOX=0: $kids"
        [[ "$(cat "$t/out")" == *"without the isolated unpacker"* ]] || fail "no warning: $(cat "$t/out")"
}

@test "load: hostile archives are refused by the isolated extractor, from a file or a pipe, nothing written outside" {
        local t=$BATS_TEST_TMPDIR f
        mkdir -p "$t/src" "$t/outside" "$t/sym"
        echo evil >"$t/src/escape"
        # ../ , an absolute path, and a symlink followed by a write through it
        tar -C "$t/src" -P --transform 's,^escape,../../../escape,' -cf "$t/dotdot.tar" escape
        tar -C "$t/src" -P --transform "s,^escape,$t/outside/abs," -cf "$t/abs.tar" escape
        ln -s "$t/outside" "$t/sym/link"
        tar -C "$t/sym" -cf "$t/symlink.tar" link
        tar -C "$t/src" -P --transform 's,^escape,link/pwned,' -rf "$t/symlink.tar" escape
        tar -tvf "$t/symlink.tar" | grep -q 'link/pwned' || fail "fixture: $(tar -tvf "$t/symlink.tar")"
        for f in dotdot abs symlink; do
                run hs load --name "localhost/$f" "$t/$f.tar"
                assert_refused "$t/$f.tar" "$f"
                run bash -c "cat '$t/$f.tar' | '$HUTCH' load --storage '$STORE' --name localhost/$f"
                [ "$status" -eq 125 ] && [ "${#lines[@]}" -eq 1 ] && [[ "$output" == "hutch: stdin: "* ]] || fail "$f on a pipe: $output"
        done
        [ -z "$(ls -A "$t/outside")" ] || fail "written outside: $(ls -A "$t/outside")"
        [ ! -e "$STORE/escape" ] && [ ! -e "$(dirname "$STORE")/escape" ] && [ ! -e "$STORE/tmp/escape" ]
        [ -z "$(ls -A "$STORE/tmp")" ]
        [ ! -e "$STORE/refs.json" ] || [ "$(jq -r '.refs | length' "$STORE/refs.json")" = 0 ]
}

@test "every image command has --help, and bad usage is one line with exit 125" {
        local c
        for c in load images inspect tag rmi prune save; do
                run h "$c" --help
                [ "$status" -eq 0 ] && [[ "${lines[0]}" == "Usage: hutch $c"* ]] || fail "$c --help: $output"
                run h "$c" --no-such-option
                [ "$status" -eq 125 ] && [ "${#lines[@]}" -eq 1 ] || fail "$c --no-such-option: $output"
        done
        run h save busybox
        [ "$status" -eq 125 ] && [[ "$output" == *"needs -o FILE"* ]]
}

@test "HUTCH_STORAGE chooses the store as --storage does" {
        run env HUTCH_STORAGE="$STORE" "$HUTCH" load -q --name busybox "$BUSYBOX_OCI"
        [ "$status" -eq 0 ] || fail "$output"
        [ -f "$STORE/refs.json" ]
        run env HUTCH_STORAGE="$STORE" "$HUTCH" images -q
        [ "${#lines[@]}" = 1 ]
}
