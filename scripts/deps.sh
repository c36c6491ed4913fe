# Debian 12 packages hutch needs to build and test; sourced by scripts/test, scripts/demo, scripts/bench.
BUILD_PACKAGES=(meson ninja-build pkg-config gcc libc6-dev python3
        libseccomp-dev libcap-dev libssl-dev libarchive-dev libisal-dev libjansson-dev libapparmor-dev libselinux1-dev)
TEST_PACKAGES=("${BUILD_PACKAGES[@]}" libcmocka-dev clang libclang-rt-14-dev bats uidmap passwd util-linux
        busybox-static umoci runc tmux procps golang-github-containers-common jq podman valgrind apparmor
        openssl xxd zstd systemd catatonit fuse-overlayfs clang-tidy clang-format cppcheck bubblewrap
        qemu-system-x86 linux-image-amd64 kmod)  # tests/vm: a guest with a pure, delegated cgroup v2
# scripts/bench (not run by CI): the peers it measures hutch against, GNU time for peak RSS, hyperfine for
# bench/unpack.sh, and libcmocka-dev because its release build includes the tests' image-tool.
BENCH_PACKAGES=("${BUILD_PACKAGES[@]}" libcmocka-dev hyperfine time runc crun bubblewrap busybox-static jq uidmap debootstrap
        passwd util-linux procps umoci podman golang-github-containers-common)

ensure_packages() {
        local missing=() p
        for p in "$@"; do
                dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
        done
        [ ${#missing[@]} -eq 0 ] && return 0
        if [ "$(id -u)" -ne 0 ]; then
                echo "missing packages; as root run:" >&2
                echo "  apt-get install -y ${missing[*]}" >&2
                return 1
        fi
        echo "== installing: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/hutch-apt.log 2>&1 \
                || { tail -n 30 /tmp/hutch-apt.log; return 1; }
}
