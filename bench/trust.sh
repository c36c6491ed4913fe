#!/usr/bin/env bash
# bench/trust.sh: what signature verification and policy evaluation cost a launch, interleaved:
#   hutch run --rm of an image signed with `hutch sign` (a `hutch key generate` key) under a policy that
#   requires it (default reject, sigstoreSigned for localhost/bench) vs the same image under
#   insecureAcceptAnything; and `hutch verify IMAGE` alone under each policy.
# Output: $BENCH_OUT/trust.json.
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"

hutch_store
export HUTCH_KEY_PASSWORD=bench-passphrase
"$hutch" key generate --output-key-prefix "$work/key" >/dev/null
"$hutch" sign --storage "$store" --key "$work/key.key" "$image" >/dev/null
signed=$work/signed-policy.json
"$hutch" trust set --policy "$signed" --type reject default
"$hutch" trust set --policy "$signed" --type sigstoreSigned --pubkeysfile "$work/key.pub" localhost/bench
"$hutch" verify --storage "$store" --policy "$signed" "$image" >/dev/null || die "the signed image is not accepted"

run="$hutch run --storage $store --rm"
verify="$hutch verify --storage $store"
timer --runs "$runs" --warmup 3 --out "$out/trust.json" --note "$(mount_note)" \
        -n "hutch run --rm, sigstoreSigned" "$run --policy $signed $image true" \
        -n "hutch run --rm, insecureAcceptAnything" "$run --policy $policy $image true" \
        -n "hutch verify, sigstoreSigned" "$verify --policy $signed $image" \
        -n "hutch verify, insecureAcceptAnything" "$verify --policy $policy $image"
python3 "$bench_dir/summarize.py" --show "$out/trust.json"
