# tests/integration/users.sh: sourced (as root) by run-bats and scripts/bench. Creates the unprivileged
# users the tests and benchmarks run as. Callers set SUBID_COUNT, SUBID_FLOOR and define log and die.
# shellcheck shell=bash

has_subid_entry() { # file user uid
        awk -F: -v n="$2" -v u="$3" '$1 == n || $1 == u { found = 1 } END { exit !found }' "$1" 2>/dev/null
}

# The first id at or above SUBID_FLOOR past every range in FILE, aligned to SUBID_COUNT.
free_subid_start() { # file
        awk -F: -v floor="$SUBID_FLOOR" -v count="$SUBID_COUNT" '
                NF >= 3 && $2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ { end = $2 + $3; if (end > max) max = end }
                END {
                        start = floor
                        if (max > start) start = int((max + count - 1) / count) * count
                        print start
                }' "$1"
}

ensure_user() { # name
        local u=$1
        if ! getent passwd "$u" >/dev/null; then
                # SUB_*_COUNT=0: useradd must not hand out subordinate ids on its own; we choose them.
                useradd --create-home --shell /bin/bash --user-group \
                        -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$u" >&2 || die "useradd $u failed"
                log "created user $u"
        fi
        local uid gid home
        uid=$(id -u "$u") gid=$(id -g "$u") home=$(getent passwd "$u" | cut -d: -f6)
        if [ ! -d "$home" ]; then
                install -d -m 0700 -o "$uid" -g "$gid" "$home"
        fi
        install -d -m 0755 /run/user
        if [ ! -d "/run/user/$uid" ]; then
                install -d -m 0700 -o "$uid" -g "$gid" "/run/user/$uid"
        else
                chown "$uid:$gid" "/run/user/$uid" && chmod 0700 "/run/user/$uid"
        fi
}

ensure_subids() { # name
        local u=$1 uid start
        uid=$(id -u "$u")
        touch /etc/subuid /etc/subgid
        if ! has_subid_entry /etc/subuid "$u" "$uid"; then
                start=$(free_subid_start /etc/subuid)
                usermod --add-subuids "$start-$((start + SUBID_COUNT - 1))" "$u" >&2 || die "usermod --add-subuids failed"
                log "gave $u subordinate uids $start-$((start + SUBID_COUNT - 1))"
        fi
        if ! has_subid_entry /etc/subgid "$u" "$uid"; then
                start=$(free_subid_start /etc/subgid)
                usermod --add-subgids "$start-$((start + SUBID_COUNT - 1))" "$u" >&2 || die "usermod --add-subgids failed"
                log "gave $u subordinate gids $start-$((start + SUBID_COUNT - 1))"
        fi
}

ensure_no_subids() { # name
        local u=$1 uid f
        uid=$(id -u "$u")
        for f in /etc/subuid /etc/subgid; do
                if has_subid_entry "$f" "$u" "$uid"; then
                        sed -i -e "/^$u:/d" -e "/^$uid:/d" "$f"
                        log "removed the $f entries of $u"
                fi
        done
}
