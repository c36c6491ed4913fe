#!/usr/bin/env bats
# hutch key / sign / verify / trust (issue 5) against signatures hutch did not make: the skopeo-made
# vectors in $HUTCH_VECTORS (../shared/vectors, staged by run-bats) and signatures made here with the
# openssl CLI. Images go into a per-test store under registry-style names with `hutch load`, which keeps
# the cosign signatures the layout holds; tests that need an image with exactly the signatures they
# make store it with the test driver $HUTCH_IMAGE_TOOL (tests/image-tool.c), which takes none, and
# attach them with `hutch sign --signature/--payload`. Every test uses its own store, policy files and
# XDG_CONFIG_HOME.
# shellcheck shell=bash

load helpers
bats_require_minimum_version 1.5.0

V2_DIGEST=sha256:43d4055be4be7a0f4a4651189c6225ce2009280c855f0694c00290d51c253946
EVIL_DIGEST=sha256:ec2bb9d891c201bff6cda995de5e42d081c761a9f8b7ec3fd4d893009647be74
TINY=registry.example/sandbox/tiny

setup() {
        requires openssl xxd
        if [ ! -r "${HUTCH_VECTORS:-}/README.md" ]; then
                if hutch_must_work; then
                        fail "required in CI: the test vectors are not readable at HUTCH_VECTORS=${HUTCH_VECTORS:-}"
                        return 1
                fi
                skip "the test vectors are not readable at HUTCH_VECTORS=${HUTCH_VECTORS:-(unset)}"
        fi
        if [ ! -x "${HUTCH_IMAGE_TOOL:-}" ]; then
                if hutch_must_work; then
                        fail "required in CI: HUTCH_IMAGE_TOOL=${HUTCH_IMAGE_TOOL:-} is not executable by $(id -un)"
                        return 1
                fi
                skip "HUTCH_IMAGE_TOOL=${HUTCH_IMAGE_TOOL:-} is not executable by $(id -un)"
        fi
        V=$HUTCH_VECTORS
        KEY=$V/keys/sigstore-p256.pub
        STORE=$BATS_TEST_TMPDIR/store
        export XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/config XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
        unset HUTCH_KEY_PASSWORD HUTCH_STORAGE
        cd "$BATS_TEST_TMPDIR"
}

# ---- helpers ------------------------------------------------------------------------------------

# hload TAG NAME: `hutch load` of the layout's image TAG (v1, v2, evil) as NAME, with the signatures the
# layout holds for it (v2's, and the same one re-attached to evil); prints the manifest digest.
hload() {
        local out
        out=$("$HUTCH" load -q --storage "$STORE" --name "$2" "$V/oci/tiny-signed:$1") || fail "hutch load $1 as $2: $out"
        sed -n 's/^Manifest digest: //p' <<<"$out"
}

# import TAG NAME: the same image stored WITHOUT any signature (the test driver $HUTCH_IMAGE_TOOL), for
# tests that attach exactly the signatures they make; prints the manifest digest.
import() {
        "$HUTCH_IMAGE_TOOL" import "$V/oci/tiny-signed:$1" "$STORE" "$2"
}

# attach NAME SIGNATURE PAYLOAD
attach() {
        run "$HUTCH" sign --storage "$STORE" --signature "$2" --payload "$3" "$1"
        [ "$status" -eq 0 ] || fail "attaching $2 to $1: $output"
}

# expect_accept POLICY IMAGE
expect_accept() {
        run --separate-stderr "$HUTCH" verify --storage "$STORE" --policy "$1" "$2"
        [ "$status" -eq 0 ] || fail "$2 under $(basename "$1"): expected accepted, got status $status: $output $stderr"
        grep -q ": accepted$" <<<"$output" || fail "no 'accepted' line: $output"
}

# expect_reject POLICY IMAGE [PATTERN]: `hutch verify` exits 1 with exactly one line on stderr, naming the
# image and matching PATTERN (grep -E); and `hutch run` refuses the same image with the same reason, exit
# 125, before anything of it is unpacked. (verify's stdout stays in $output.)
expect_reject() {
        run --separate-stderr "$HUTCH" run --storage "$STORE" --policy "$1" "$2" true
        [ "$status" -eq 125 ] || fail "$2 under $(basename "$1"): hutch run: expected 125, got status $status: $output $stderr"
        grep -qF "$2 rejected by the trust policy" <<<"$stderr" || fail "hutch run: $stderr"
        if [ -n "${3:-}" ]; then
                grep -Eq -- "$3" <<<"$stderr" || fail "hutch run: message does not match /$3/: $stderr"
        fi
        [ -z "$(ls -A "$STORE/rootfs" 2>/dev/null)" ] || fail "hutch run unpacked $2: $(ls -A "$STORE/rootfs")"

        run --separate-stderr "$HUTCH" verify --storage "$STORE" --policy "$1" "$2"
        [ "$status" -eq 1 ] || fail "$2 under $(basename "$1"): expected rejected (1), got status $status: $output $stderr"
        grep -q ": REJECTED$" <<<"$output" || fail "no 'REJECTED' line: $output"
        [ "$(wc -l <<<"$stderr")" -eq 1 ] || fail "expected one line on stderr, got: $stderr"
        grep -qF "$2" <<<"$stderr" || fail "the message does not name $2: $stderr"
        if [ -n "${3:-}" ]; then
                grep -Eq -- "$3" <<<"$stderr" || fail "message does not match /$3/: $stderr"
        fi
}

# sigstore_policy FILE KEYFILE [SIGNED-IDENTITY-JSON [SCOPE]]: reject by default; SCOPE (default: the
# docker transport's "") needs a signature by KEYFILE.
sigstore_policy() {
        local ident=${3:+,\"signedIdentity\":$3}
        printf '{"default":[{"type":"reject"}],"transports":{"docker":{"%s":[{"type":"sigstoreSigned","keyPath":"%s"%s}]}}}\n' \
                "${4:-}" "$2" "$ident" >"$1"
}

# A P-256 key pair made by openssl: ec.key (SEC1 PEM), ec.pub.
openssl_key() {
        openssl ecparam -name prime256v1 -genkey -noout -out ec.key 2>/dev/null
        openssl ec -in ec.key -pubout -out ec.pub 2>/dev/null
}

# openssl_sign PAYLOAD SIG: ECDSA SHA-256 DER with ec.key.
openssl_sign() {
        openssl dgst -sha256 -sign ec.key -out "$2" "$1"
}

# payload IDENTITY DIGEST: the simple-signing payload as cosign writes it.
payload() {
        printf '{"critical":{"identity":{"docker-reference":"%s"},"image":{"docker-manifest-digest":"%s"},"type":"cosign container image signature"},"optional":null}' \
                "$1" "$2"
}

# der_to_p1363 DER OUT: ECDSA-Sig-Value -> r||s, 32 bytes each.
der_to_p1363() {
        local ints
        ints=$(openssl asn1parse -inform DER -in "$1" | awk -F: '/INTEGER/ { print $NF }')
        local r s
        r=$(sed -n 1p <<<"$ints") s=$(sed -n 2p <<<"$ints")
        printf '%64s%64s' "$r" "$s" | tr ' ' 0 | xxd -r -p >"$2"
        [ "$(stat -c %s "$2")" -eq 64 ] || fail "P1363 conversion gave $(stat -c %s "$2") bytes"
}

# ---- hutch key generate -------------------------------------------------------------------------

@test "key generate: encrypted PKCS#8 0600 + SubjectPublicKeyInfo 0644, the passphrase decrypts it" {
        HUTCH_KEY_PASSWORD=s3cret run "$HUTCH" key generate --output-key-prefix "$BATS_TEST_TMPDIR/k"
        [ "$status" -eq 0 ] || fail "$output"
        [ "$(stat -c %a k.key)" = 600 ] || fail "k.key mode $(stat -c %a k.key)"
        [ "$(stat -c %a k.pub)" = 644 ] || fail "k.pub mode $(stat -c %a k.pub)"
        head -1 k.key | grep -qx -- "-----BEGIN ENCRYPTED PRIVATE KEY-----" || fail "$(head -1 k.key)"
        head -1 k.pub | grep -qx -- "-----BEGIN PUBLIC KEY-----"
        openssl pkey -in k.key -passin pass:s3cret -noout
        ! openssl pkey -in k.key -passin pass:wrong -noout 2>/dev/null || fail "a wrong passphrase decrypted the key"
        # the public half is the private key's, and it is a P-256 key
        [ "$(openssl pkey -in k.key -passin pass:s3cret -pubout)" = "$(cat k.pub)" ]
        openssl pkey -pubin -in k.pub -text -noout | grep -q "prime256v1"
        grep -q "$(openssl pkey -pubin -in k.pub -outform DER | sha256sum | cut -d' ' -f1)" <<<"$output" ||
                fail "the fingerprint printed is not sha256 of the SPKI DER: $output"
}

@test "key generate: never overwrites, refuses an empty passphrase, --no-password warns, no tty fails clearly" {
        HUTCH_KEY_PASSWORD=one "$HUTCH" key generate --output-key-prefix k >/dev/null
        local before
        before=$(sha256sum k.key k.pub)
        HUTCH_KEY_PASSWORD=two run "$HUTCH" key generate --output-key-prefix k
        [ "$status" -eq 125 ] || fail "status $status: $output"
        grep -q "k.key: already exists" <<<"$output" || fail "$output"
        [ "$(sha256sum k.key k.pub)" = "$before" ] || fail "existing key files changed"
        # only k.pub exists: still refused, and no k2.key is left behind
        cp k.pub k2.pub
        HUTCH_KEY_PASSWORD=two run "$HUTCH" key generate --output-key-prefix k2
        [ "$status" -eq 125 ] && [ ! -e k2.key ] || fail "status $status, k2.key exists: $output"

        HUTCH_KEY_PASSWORD= run "$HUTCH" key generate --output-key-prefix e
        [ "$status" -eq 125 ] || fail "status $status: $output"
        grep -q "refusing an empty passphrase" <<<"$output" || fail "$output"
        [ ! -e e.key ] && [ ! -e e.pub ]

        run --separate-stderr "$HUTCH" key generate --output-key-prefix n --no-password
        [ "$status" -eq 0 ] || fail "$stderr"
        grep -q "NOT encrypted" <<<"$stderr" || fail "no warning: $stderr"
        head -1 n.key | grep -qx -- "-----BEGIN PRIVATE KEY-----"
        [ "$(stat -c %a n.key)" = 600 ]

        # no HUTCH_KEY_PASSWORD and no terminal (setsid: no controlling tty)
        run setsid -w "$HUTCH" key generate --output-key-prefix t </dev/null
        [ "$status" -eq 125 ] || fail "status $status: $output"
        grep -q "HUTCH_KEY_PASSWORD" <<<"$output" || fail "$output"
        [ ! -e t.key ]
}

# tty_run OUT CMD...: CMD in a new tmux session (a terminal, as a user has); "EXIT=<status>" goes to OUT.
tty_run() {
        local out=$1
        shift
        TMUX_SOCK=$BATS_TEST_TMPDIR/tmux.sock
        rm -f "$out"
        tmux -S "$TMUX_SOCK" new-session -d -x 120 -y 30 "$(printf '%q ' "$@"); echo EXIT=\$? >$out; sleep 60" 3>&-
}

wait_pane() {
        local i
        for i in $(seq 100); do tmux -S "$TMUX_SOCK" capture-pane -p | grep -q -- "$1" && return 0; sleep 0.1; done
        fail "pane never showed '$1': $(tmux -S "$TMUX_SOCK" capture-pane -p)"
}

# wait_exit OUT: sets EXITED (the "EXIT=N" line) and PANE (what the terminal showed), then ends the session.
wait_exit() {
        local i
        for i in $(seq 300); do [ -s "$1" ] && break; sleep 0.1; done
        PANE=$(tmux -S "$TMUX_SOCK" capture-pane -p)
        tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true
        EXITED=$(cat "$1" 2>/dev/null)
        [ -n "$PANE" ] || fail "nothing captured from the terminal"
}

# tty_answer PROMPT TEXT: once the terminal shows PROMPT, type TEXT and Enter.
tty_answer() {
        wait_pane "$1"
        tmux -S "$TMUX_SOCK" send-keys "$2" Enter
}

# tty_key_generate PREFIX FIRST SECOND: `hutch key generate` on a terminal, answering its two prompts.
tty_key_generate() {
        tty_run "$BATS_TEST_TMPDIR/exit" "$HUTCH" key generate --output-key-prefix "$BATS_TEST_TMPDIR/$1"
        tty_answer "Enter a passphrase for the private key:" "$2"
        tty_answer "Enter the passphrase again:" "$3"
        wait_exit "$BATS_TEST_TMPDIR/exit"
}

teardown() {
        [ ! -S "${TMUX_SOCK:-/nonexistent}" ] || tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true
        remove_rootfs_caches
}

@test "key generate and sign ask for the passphrase on the terminal: twice, echo off, a mismatch refused" {
        requires tty
        tty_key_generate k tty-s3cret tty-s3cret
        [ "$EXITED" = EXIT=0 ] || fail "$EXITED: $PANE"
        grep -q "Key fingerprint: sha256:" <<<"$PANE" || fail "$PANE"
        ! grep -q "tty-s3cret" <<<"$PANE" || fail "the passphrase was echoed: $PANE"
        openssl pkey -in k.key -passin pass:tty-s3cret -noout

        tty_key_generate m one two
        [ "$EXITED" = EXIT=125 ] || fail "$EXITED: $PANE"
        grep -q "do not match" <<<"$PANE" || fail "$PANE"
        [ ! -e m.key ] && [ ! -e m.pub ]

        # sign asks once, naming the key file, and the signature verifies under a policy naming k.pub
        hload v1 "$TINY:v1" >/dev/null
        tty_run "$BATS_TEST_TMPDIR/exit" "$HUTCH" sign --key "$BATS_TEST_TMPDIR/k.key" --storage "$STORE" "$TINY:v1"
        tty_answer "Enter the passphrase for $BATS_TEST_TMPDIR/k.key:" tty-s3cret
        wait_exit "$BATS_TEST_TMPDIR/exit"
        [ "$EXITED" = EXIT=0 ] || fail "$EXITED: $PANE"
        sigstore_policy p.json "$BATS_TEST_TMPDIR/k.pub"
        expect_accept p.json "$TINY:v1"
}

# ---- hutch sign ---------------------------------------------------------------------------------

@test "sign: a hutch signature verifies with 'openssl dgst -verify' alone, and under a policy naming the key" {
        hload v1 "$TINY:v1" >/dev/null
        local digest
        digest=$(hload v1 "$TINY:v1")
        HUTCH_KEY_PASSWORD=pw "$HUTCH" key generate --output-key-prefix k >/dev/null
        HUTCH_KEY_PASSWORD=pw run "$HUTCH" sign --key k.key --storage "$STORE" --output-signature sig.der \
                --output-payload payload.json "$TINY:v1"
        [ "$status" -eq 0 ] || fail "$output"
        run openssl dgst -sha256 -verify k.pub -signature sig.der payload.json
        [ "$output" = "Verified OK" ] || fail "$output"
        # the payload is the cosign simple-signing format, byte for byte as Go's json.Marshal writes it
        [ "$(cat payload.json)" = "{\"critical\":{\"identity\":{\"docker-reference\":\"$TINY:v1\"},\"image\":{\"docker-manifest-digest\":\"$digest\"},\"type\":\"cosign container image signature\"},\"optional\":{\"creator\":\"hutch $("$HUTCH" version | head -1 | awk '{print $3}')\"}}" ] ||
                fail "payload: $(cat payload.json)"
        # a flipped payload byte does not verify with openssl either (the check above can fail)
        sed 's/tiny:v1/tiny:v9/' payload.json >tampered.json
        ! openssl dgst -sha256 -verify k.pub -signature sig.der tampered.json >/dev/null || fail "openssl verified a tampered payload"
        # the signature was kept in the store: verify accepts the image under a policy naming k.pub
        sigstore_policy p.json "$BATS_TEST_TMPDIR/k.pub"
        expect_accept p.json "$TINY:v1"
        grep -q "identity:   $TINY:v1" <<<"$output" || fail "$output"
        grep -q "key:        sha256:$(openssl pkey -pubin -in k.pub -outform DER | sha256sum | cut -d' ' -f1)" <<<"$output" ||
                fail "$output"
        # a wrong passphrase signs nothing
        HUTCH_KEY_PASSWORD=nope run "$HUTCH" sign --key k.key --storage "$STORE" "$TINY:v1"
        [ "$status" -eq 125 ] && grep -q "wrong passphrase" <<<"$output" || fail "status $status: $output"
        # an output file that cannot be written fails the command before the store changes
        import v2 "$TINY:v2" >/dev/null
        HUTCH_KEY_PASSWORD=pw run "$HUTCH" sign --key k.key --storage "$STORE" --output-signature nodir/sig.der "$TINY:v2"
        [ "$status" -eq 125 ] && grep -q "nodir/sig.der" <<<"$output" || fail "status $status: $output"
        sigstore_policy p.json "$BATS_TEST_TMPDIR/k.pub"
        expect_reject p.json "$TINY:v2" "no signature exists"
}

@test "sign with keys openssl made: PKCS#8 Ed25519, P-384 and RSA sign and verify; SEC1 and public keys are refused clearly" {
        hload v1 "$TINY:v1" >/dev/null
        local alg
        openssl genpkey -algorithm ed25519 -out ed25519.key 2>/dev/null
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out p384.key 2>/dev/null
        openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key 2>/dev/null
        for alg in ed25519 p384 rsa; do
                openssl pkey -in "$alg.key" -pubout -out "$alg.pub"
                run "$HUTCH" sign --key "$alg.key" --storage "$STORE" --output-signature "$alg.sig" --output-payload "$alg.json" "$TINY:v1"
                [ "$status" -eq 0 ] || fail "$alg: $output"
                sigstore_policy "$alg-policy.json" "$BATS_TEST_TMPDIR/$alg.pub"
                expect_accept "$alg-policy.json" "$TINY:v1"
        done
        # openssl checks the ECDSA and RSA ones alone (Ed25519 signs the message itself: pkeyutl -rawin)
        openssl dgst -sha384 -verify p384.pub -signature p384.sig p384.json
        openssl dgst -sha256 -verify rsa.pub -signature rsa.sig rsa.json
        openssl pkeyutl -verify -pubin -inkey ed25519.pub -rawin -in ed25519.json -sigfile ed25519.sig
        # a SEC1 "EC PRIVATE KEY" and a public key are not signing keys
        openssl_key
        run "$HUTCH" sign --key ec.key --storage "$STORE" "$TINY:v1"
        [ "$status" -eq 125 ] && grep -q "ec.key: PEM block \"EC PRIVATE KEY\" is not a PKCS#8 private key" <<<"$output" || fail "$output"
        run "$HUTCH" sign --key ec.pub --storage "$STORE" "$TINY:v1"
        [ "$status" -eq 125 ] && grep -q "ec.pub: is a public key" <<<"$output" || fail "$output"
}

@test "sign --identity: the payload names that reference; matchRepoDigestOrExact then rejects, exactReference accepts" {
        hload v1 "$TINY:v1" >/dev/null
        HUTCH_KEY_PASSWORD=pw "$HUTCH" key generate --output-key-prefix k >/dev/null
        HUTCH_KEY_PASSWORD=pw run "$HUTCH" sign --key k.key --storage "$STORE" --identity registry.example/other/app:1 \
                --output-payload payload.json "$TINY:v1"
        [ "$status" -eq 0 ] || fail "$output"
        grep -q '"docker-reference":"registry.example/other/app:1"' payload.json
        sigstore_policy p.json "$BATS_TEST_TMPDIR/k.pub"
        expect_reject p.json "$TINY:v1" "identity \"registry.example/other/app:1\" is not accepted by signedIdentity matchRepoDigestOrExact"
        sigstore_policy p2.json "$BATS_TEST_TMPDIR/k.pub" '{"type":"exactReference","dockerReference":"registry.example/other/app:1"}'
        expect_accept p2.json "$TINY:v1"
}

# ---- the vectors' verdict table -----------------------------------------------------------------

# README.md in the vectors: images loaded as registry.example/sandbox/tiny:TAG. The reg-* policies were
# written for the registry copy at 127.0.0.1:5577 (and the launcher-oci-* ones for the "oci" transport of
# the layout); hutch evaluates stored images in the "docker" transport under the name they are stored
# under, so the scopes are rewritten to that name: 127.0.0.1:5577 -> registry.example, "oci" -> "docker".
@test "verdict table of the vectors (images stored as registry.example/sandbox/tiny:{v1,v2,evil})" {
        local t
        for t in v1 v2 evil; do
                hload "$t" "$TINY:$t" >/dev/null
        done
        # hutch load kept the layout's signature artifacts: v2's, and the same one re-attached to evil
        local p
        for p in "$V"/policies/*.json; do
                sed -e 's/127\.0\.0\.1:5577/registry.example/g' -e 's/"oci":/"docker":/' "$p" >"$(basename "$p")"
        done
        for p in reg-tiny-exactrepository launcher-oci-exactrepository reg-tiny-exactreference; do
                expect_accept "$p.json" "$TINY:v2"
                expect_reject "$p.json" "$TINY:v1" "A signature was required, but no signature exists"
                expect_reject "$p.json" "$TINY:evil" "signed for manifest $V2_DIGEST, but the image's manifest is $EVIL_DIGEST"
        done
        for t in v1 v2 evil; do
                expect_reject reg-reject-all.json "$TINY:$t" "rejects every image"
                expect_accept reg-accept-anything.json "$TINY:$t"
                local n=1
                [ "$t" != v1 ] || n=0
                grep -q "signatures: $n found" <<<"$output" || fail "$t: expected $n signatures kept by hutch load: $output"
                expect_accept launcher-oci-insecure.json "$TINY:$t"
        done
        expect_accept reg-scope-specific-reject-wins.json "$TINY:v2"
        expect_reject reg-scope-specific-reject-wins.json "$TINY:evil" "transports.docker\[\"$TINY:evil\"\]"
}

@test "verdict table with the shipped reg-* policies verbatim, images named as in the registry they were measured on" {
        local reg=127.0.0.1:5577/sandbox/tiny t
        for t in v1 v2 evil; do
                hload "$t" "$reg:$t" >/dev/null
        done
        local P=$V/policies
        expect_accept "$P/reg-tiny-exactrepository.json" "$reg:v2"
        expect_accept "$P/reg-tiny-exactreference.json" "$reg:v2"
        for t in v1 evil; do
                expect_reject "$P/reg-tiny-exactrepository.json" "$reg:$t"
                expect_reject "$P/reg-tiny-exactreference.json" "$reg:$t"
        done
        for t in v1 v2 evil; do
                expect_reject "$P/reg-reject-all.json" "$reg:$t"
                expect_accept "$P/reg-accept-anything.json" "$reg:$t"
                # the launcher-oci-* policies trust the "oci" transport: hutch load recorded the layout the
                # image came from, so the policy's oci section applies to it (src/cli/image-trust.c)
                expect_accept "$P/launcher-oci-insecure.json" "$reg:$t"
        done
        expect_accept "$P/launcher-oci-exactrepository.json" "$reg:v2"
        expect_reject "$P/launcher-oci-exactrepository.json" "$reg:v1" "no signature exists"
        expect_reject "$P/launcher-oci-exactrepository.json" "$reg:evil" "but the image's manifest is"
        run "$HUTCH" verify --storage "$STORE" --policy "$P/launcher-oci-exactrepository.json" --format json "$reg:v2"
        [[ "$output" == *'"transport": "oci"'* ]] || fail "not judged as an oci source: $output"
        # the same bytes from an archive have no layout origin: the docker name is judged, and rejected
        tar -C "$V/oci/tiny-signed" -cf tiny.tar .
        local STORE2=$BATS_TEST_TMPDIR/store2
        "$HUTCH" load -q --storage "$STORE2" --name "$reg:v2" tiny.tar:v2 >/dev/null
        run "$HUTCH" verify --storage "$STORE2" --policy "$P/launcher-oci-exactrepository.json" "$reg:v2"
        [ "$status" -eq 1 ] || fail "archive-loaded image judged under oci: $output"
        expect_accept "$P/reg-scope-specific-reject-wins.json" "$reg:v2"
        expect_reject "$P/reg-scope-specific-reject-wins.json" "$reg:evil"
        # --format json carries the same verdict
        run "$HUTCH" verify --storage "$STORE" --policy "$P/reg-tiny-exactreference.json" --format json "$reg:v2"
        [ "$status" -eq 0 ] || fail "$output"
        grep -q '"accepted": true' <<<"$output"
        grep -q '"scope": "127.0.0.1:5577/sandbox"' <<<"$output"
        grep -q '"signed_identity": "registry.example/sandbox/tiny:v2"' <<<"$output"
        grep -q "\"key_id\": \"sha256:$(openssl pkey -pubin -in "$KEY" -outform DER | sha256sum | cut -d' ' -f1)\"" <<<"$output"
        grep -q "\"sha256\": \"sha256:$(sha256sum "$P/reg-tiny-exactreference.json" | cut -d' ' -f1)\"" <<<"$output"
        grep -q '"signatures": 1' <<<"$output"
}

@test "verify reports what each requirement of the scope said, in text and JSON" {
        requires python3
        hload v2 "$TINY:v2" >/dev/null
        local id
        id=sha256:$(openssl pkey -pubin -in "$KEY" -outform DER | sha256sum | cut -d' ' -f1)
        printf '{"default":[{"type":"reject"}],"transports":{"docker":{"%s":[{"type":"sigstoreSigned","keyPath":"%s"},{"type":"insecureAcceptAnything"},{"type":"sigstoreSigned","keyPath":"%s"}]}}}\n' \
                "$TINY" "$KEY" "$V/keys/other-p256.pub" >p.json
        expect_reject p.json "$TINY:v2" "requirement 2 \(sigstoreSigned\)"
        grep -qF "requirement 0 (sigstoreSigned): accepted: signed by key $id as \"$TINY:v2\"" <<<"$output" || fail "$output"
        grep -qF "requirement 1 (insecureAcceptAnything): accepted" <<<"$output" || fail "$output"
        grep -Eq "requirement 2 \(sigstoreSigned\): rejected: .*does not verify" <<<"$output" || fail "$output"
        run --separate-stderr "$HUTCH" verify --storage "$STORE" --policy p.json --format json "$TINY:v2"
        [ "$status" -eq 1 ] || fail "status $status: $output"
        printf '%s' "$output" >verdict.json
        python3 - "$id" "$TINY:v2" <<'EOF' || fail "$output"
import json, sys
d = json.load(open("verdict.json"))
r = d["requirements"]
assert d["accepted"] is False and d["requirement_index"] == 2, d
assert [x["type"] for x in r] == ["sigstoreSigned", "insecureAcceptAnything", "sigstoreSigned"], r
assert [x["accepted"] for x in r] == [True, True, False], r
assert r[0]["key_id"] == sys.argv[1] and r[0]["signed_identity"] == sys.argv[2], r
assert r[2]["key_id"] is None and "does not verify" in r[2]["reason"], r
EOF
        # with the failing requirement removed the same image is accepted, by the key of requirement 0
        printf '{"default":[{"type":"reject"}],"transports":{"docker":{"%s":[{"type":"insecureAcceptAnything"},{"type":"sigstoreSigned","keyPath":"%s"}]}}}\n' \
                "$TINY" "$KEY" >p2.json
        expect_accept p2.json "$TINY:v2"
        grep -qF "key:        $id" <<<"$output" || fail "$output"
        grep -qF "requirement 1 (sigstoreSigned): accepted" <<<"$output" || fail "$output"
}

# ---- signature forms ----------------------------------------------------------------------------

@test "ECDSA signatures are accepted in DER and in raw r||s (IEEE P1363) form" {
        import v2 "$TINY:v2" >/dev/null
        sigstore_policy p.json "$KEY"
        # DER bytes (not base64): attach encodes them
        attach "$TINY:v2" "$V/sigstore/tiny-v2.sig.der" "$V/sigstore/tiny-v2.payload.json"
        expect_accept p.json "$TINY:v2"
        # the same signature as r||s, in a fresh store
        rm -rf "$STORE"
        import v2 "$TINY:v2" >/dev/null
        der_to_p1363 "$V/sigstore/tiny-v2.sig.der" sig.p1363
        attach "$TINY:v2" sig.p1363 "$V/sigstore/tiny-v2.payload.json"
        expect_accept p.json "$TINY:v2"
        # and r||s with s altered does not verify
        rm -rf "$STORE"
        import v2 "$TINY:v2" >/dev/null
        { head -c 63 sig.p1363; printf '\001'; } >bad.p1363
        cmp -s bad.p1363 sig.p1363 && { head -c 63 sig.p1363; printf '\002'; } >bad.p1363
        attach "$TINY:v2" bad.p1363 "$V/sigstore/tiny-v2.payload.json"
        expect_reject p.json "$TINY:v2" "does not verify"
}

@test "a signature made with the openssl CLI over a payload written here verifies" {
        local digest
        digest=$(hload v1 "$TINY:v1")
        openssl_key
        payload "$TINY:v1" "$digest" >payload.json
        openssl_sign payload.json sig.der
        openssl base64 -A -in sig.der >sig.b64
        attach "$TINY:v1" sig.b64 payload.json
        sigstore_policy p.json "$BATS_TEST_TMPDIR/ec.pub"
        expect_accept p.json "$TINY:v1"
        # the vector key did not sign it
        sigstore_policy other.json "$KEY"
        expect_reject other.json "$TINY:v1" "does not verify"
}

# ---- layouts written by `cosign save` -----------------------------------------------------------

# cosign is not packaged for Debian 12: cosign-save-layout.sh (beside this file) writes a layout in the shape
# `cosign save --dir` gives it, following sigstore/cosign pkg/oci/layout/write.go and index.go (the files it
# names): index.json entries without a ref.name, each annotated "kind" dev.cosignproject.cosign/image, .../sigs
# (the signature manifest, which names no digest) and .../atts (an attestation in a DSSE envelope). The
# signature is made here by the openssl CLI with ec.key; cosign's payload names the repository only, so
# policies accept it with signedIdentity matchRepository.

# cosign_save SRC REF DEST [DIGEST|@PAYLOAD]: prints the digest of the image saved. Signed with ec.key, or
# with $SIGN_KEY; the identity is $TINY, or $IDENT.
cosign_save() {
        bash "$BATS_TEST_DIRNAME/cosign-save-layout.sh" "$1" "$2" "$3" "${SIGN_KEY:-$BATS_TEST_TMPDIR/ec.key}" "${IDENT:-$TINY}" ${4:+"$4"} ||
                fail "cosign-save-layout.sh $*"
}

# cload LAYOUT[:REF] NAME [STORE]: hutch load; stdout in $output, stderr in $stderr, status in $status.
cload() {
        run --separate-stderr "$HUTCH" load --storage "${3:-$STORE}" --name "$2" "$1"
}

# expect_kept N: the last cload succeeded and kept N signatures.
expect_kept() {
        [ "$status" -eq 0 ] || fail "hutch load: status $status: $output $stderr"
        grep -qx "Signatures kept: $1" <<<"$stderr" || fail "expected $1 signatures kept: $stderr"
}

# variant NAME JQ-FILTER [JQ-OPTIONS...]: a copy of the layout ./good with its index.json passed through
# JQ-FILTER.
variant() {
        rm -rf "$1"
        cp -r good "$1"
        jq "${@:3}" "$2" good/index.json >"$1/index.json" || fail "jq '$2'"
}

# blob LAYOUT JQ-PATH: the hex digest at JQ-PATH of LAYOUT's index.json (e.g. .manifests[1].digest).
blob() {
        jq -r "$2" "$1/index.json" | cut -c8-
}

@test "cosign save form: hutch load keeps the signature; verify and run accept the right key, refuse a wrong one (125)" {
        requires jq
        openssl_key
        local digest
        digest=$(cosign_save "$V/oci/tiny-signed" v2 cs)
        [ "$digest" = "$V2_DIGEST" ] || fail "saved $digest"
        # the shape cosign save writes: one entry per kind, no ref.name anywhere
        [ "$(jq -c '[.manifests[].annotations.kind]' cs/index.json)" = \
                '["dev.cosignproject.cosign/image","dev.cosignproject.cosign/sigs","dev.cosignproject.cosign/atts"]' ] ||
                fail "$(cat cs/index.json)"
        jq -e '[.manifests[].annotations | has("org.opencontainers.image.ref.name")] | any | not' cs/index.json >/dev/null
        # no REF needed: the signature and attestation manifests are not images to choose from
        cload cs "$TINY:v2"
        expect_kept 1
        grep -qx "Manifest digest: $V2_DIGEST" <<<"$output" || fail "$output"
        jq -e '.signatures | length == 1 and (.[0].origin | test("kind sigs"))' "$STORE/sigs/${V2_DIGEST#sha256:}.json" >/dev/null ||
                fail "$(cat "$STORE/sigs/${V2_DIGEST#sha256:}.json")"

        sigstore_policy p.json "$BATS_TEST_TMPDIR/ec.pub" '{"type":"matchRepository"}'
        expect_accept p.json "$TINY:v2"
        grep -qx "  identity:   $TINY" <<<"$output" || fail "$output"
        sigstore_policy wrong.json "$KEY" '{"type":"matchRepository"}'
        expect_reject wrong.json "$TINY:v2" "does not verify"
        # cosign signs the repository, not repo:tag: the default signedIdentity refuses it, as containers/image does
        sigstore_policy default.json "$BATS_TEST_TMPDIR/ec.pub"
        expect_reject default.json "$TINY:v2" "identity \"$TINY\" is not accepted by signedIdentity matchRepoDigestOrExact"

        # the same layout as an oci-archive
        tar -C cs -cf cs.tar .
        cload cs.tar "$TINY:v2" "$BATS_TEST_TMPDIR/store2"
        expect_kept 1
        STORE=$BATS_TEST_TMPDIR/store2 expect_accept p.json "$TINY:v2"
}

@test "cosign save form: the payload bytes are verified before they are parsed" {
        requires jq
        openssl_key
        # validly signed by ec.key, but trailing data after the JSON
        printf '%s{}' "$(payload "$TINY" "$V2_DIGEST")" >trailing.json
        cosign_save "$V/oci/tiny-signed" v2 cs "@$BATS_TEST_TMPDIR/trailing.json" >/dev/null
        cload cs "$TINY:v2"
        expect_kept 1
        sigstore_policy p.json "$BATS_TEST_TMPDIR/ec.pub" '{"type":"matchRepository"}'
        expect_reject p.json "$TINY:v2" "payload: line 1 column [0-9]+: end of file expected"
        # under a key that did not sign it the payload is never parsed: the signature is what fails
        sigstore_policy wrong.json "$KEY" '{"type":"matchRepository"}'
        expect_reject wrong.json "$TINY:v2" "does not verify"
        ! grep -q "end of file" <<<"$stderr" || fail "the unverified payload was parsed: $stderr"
}

@test "cosign save form: hutch run starts the signed image under the right key and refuses it under a wrong one" {
        requires jq rootless userns subuid newuidmap
        fixtures
        openssl_key
        local img=localhost/busybox:latest
        IDENT=localhost/busybox cosign_save "$BUSYBOX_OCI" latest cs >/dev/null
        cload cs "$img"
        expect_kept 1
        # refused first: expect_reject also checks that nothing was unpacked
        sigstore_policy wrong.json "$KEY" '{"type":"matchRepository"}'
        expect_reject wrong.json "$img" "does not verify"
        sigstore_policy p.json "$BATS_TEST_TMPDIR/ec.pub" '{"type":"matchRepository"}'
        run --separate-stderr "$HUTCH" run --rm --storage "$STORE" --policy p.json "$img" echo signed-and-running
        [ "$status" -eq 0 ] && [ "$output" = signed-and-running ] || fail "status $status: $output $stderr"
}

@test "cosign save form, hostile: attestations, unknown kinds, duplicates, missing blobs, entries without a digest" {
        requires jq
        openssl_key
        cosign_save "$V/oci/tiny-signed" v2 good >/dev/null
        sigstore_policy p.json "$BATS_TEST_TMPDIR/ec.pub" '{"type":"matchRepository"}'
        local sigs atts payload
        sigs=$(blob good '.manifests[1].digest')
        atts=$(blob good '.manifests[2].digest')
        payload=$(jq -r '.layers[0].digest' "good/blobs/sha256/$sigs" | cut -c8-)

        # a layout whose sigs entry holds a signature by another key, plus an entry pointing at the good
        # signature manifest (valid signatures of the image by the trusted key) under the kind of an
        # attestation, a kind cosign does not define, or a "kind" outside cosign's namespace: that entry is not
        # read as signatures (nor, in cosign's namespace, taken for an image)
        openssl ecparam -name prime256v1 -genkey -noout -out other.key 2>/dev/null
        SIGN_KEY=$BATS_TEST_TMPDIR/other.key cosign_save "$V/oci/tiny-signed" v2 other >/dev/null
        local kind
        for kind in dev.cosignproject.cosign/atts dev.cosignproject.cosign/signatures sigs; do
                rm -rf "$STORE" k
                cp -r other k
                cp -n good/blobs/sha256/* k/blobs/sha256/
                jq --arg k "$kind" --argjson e "$(jq -c '.manifests[1]' good/index.json)" \
                        '.manifests += [$e | .annotations.kind = $k]' other/index.json >k/index.json
                cload k "$TINY:v2"
                if [ "$kind" = sigs ]; then
                        # someone else's label: an image like any other, so REF must pick one
                        [ "$status" -eq 125 ] && grep -q "more than one image" <<<"$stderr" || fail "$kind: $status $stderr"
                        cload k:@0 "$TINY:v2"
                fi
                expect_kept 1
                expect_reject p.json "$TINY:v2" "does not verify"
        done

        # the attestation's manifest missing: it is never read, so the load does not care
        rm -rf "$STORE"
        variant noatts .
        rm "noatts/blobs/sha256/$atts"
        cload noatts "$TINY:v2"
        expect_kept 1
        expect_accept p.json "$TINY:v2"

        # entries listed twice (image and signatures) count once
        rm -rf "$STORE"
        variant dup '.manifests += [.manifests[1], .manifests[0], .manifests[1]]'
        cload dup "$TINY:v2"
        expect_kept 1
        expect_accept p.json "$TINY:v2"
        grep -q "signatures: 1 found" <<<"$output" || fail "$output"

        # refused, naming what is wrong, and the image gets no name: the signature manifest or its payload
        # missing, a kind entry without a digest
        local v
        variant nosigs .
        rm "nosigs/blobs/sha256/$sigs"
        variant nopayload .
        rm "nopayload/blobs/sha256/$payload"
        variant nodigest 'del(.manifests[1].digest)'
        variant noimagedigest 'del(.manifests[0].digest)'
        for v in nosigs:"$sigs" nopayload:"index.json entry 1 \(kind sigs\) layer 0" nodigest:"manifests\[1\].digest" \
                noimagedigest:"manifests\[0\].digest"; do
                rm -rf "$STORE"
                cload "${v%%:*}" "$TINY:v2"
                [ "$status" -eq 125 ] || fail "${v%%:*}: expected 125, got $status: $output $stderr"
                [ "$(wc -l <<<"$stderr")" -eq 1 ] || fail "${v%%:*}: more than one line: $stderr"
                grep -Eq -- "${v#*:}" <<<"$stderr" || fail "${v%%:*}: message does not match /${v#*:}/: $stderr"
                run "$HUTCH" verify --storage "$STORE" --policy p.json "$TINY:v2"
                [ "$status" -eq 125 ] && grep -q "not in the store" <<<"$output" || fail "${v%%:*}: named anyway: $output"
        done
}

@test "cosign save form, hostile: a signature claiming another image's digest, and two images claiming the signature" {
        requires jq
        openssl_key
        sigstore_policy p.json "$BATS_TEST_TMPDIR/ec.pub" '{"type":"matchRepository"}'
        # v1 saved with a signature whose payload names v2's digest
        local v1
        v1=$(cosign_save "$V/oci/tiny-signed" v1 claim "$V2_DIGEST")
        cload claim "$TINY:v1"
        expect_kept 1
        expect_reject p.json "$TINY:v1" "signed for manifest $V2_DIGEST, but the image's manifest is $v1"
        # v2 itself added to that layout: the sigs entry signs the image entry's image (v1), so v2 does not get
        # the signature although it names v2
        cosign_save "$V/oci/tiny-signed" v2 v2layout >/dev/null
        cp -n v2layout/blobs/sha256/* claim/blobs/sha256/
        jq --argjson e "$(jq -c '.manifests[0] | .annotations = {"org.opencontainers.image.ref.name": "v2"}' v2layout/index.json)" \
                '.manifests += [$e]' claim/index.json >claim/index.json.new
        mv claim/index.json.new claim/index.json
        cload claim:v2 "$TINY:v2"
        expect_kept 0
        expect_reject p.json "$TINY:v2" "no signature exists"

        # two different images of kind image: whose is the signature? refused rather than guessed
        rm -rf "$STORE"
        jq --argjson e "$(jq -c '.manifests[0]' v2layout/index.json)" '.manifests += [$e]' claim/index.json >claim/index.json.new
        mv claim/index.json.new claim/index.json
        cload claim:@0 "$TINY:v1"
        [ "$status" -eq 125 ] && grep -q "cannot tell which one the dev.cosignproject.cosign/sigs entries sign" <<<"$stderr" ||
                fail "status $status: $stderr"
}

@test "cosign save form of a multi-platform image: the index's signatures are reported, not kept for the manifest" {
        requires jq
        openssl_key
        cp -r "$V/oci/tiny-signed" src
        chmod -R u+w src
        local idx hex
        idx=$(jq -cn --arg d "$V2_DIGEST" '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
                manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $d, size: 499,
                             platform: {os: "linux", architecture: "amd64"}}]}')
        printf '%s' "$idx" >idx.json
        hex=$(sha256sum idx.json | cut -d' ' -f1)
        cp idx.json "src/blobs/sha256/$hex"
        jq --arg d "sha256:$hex" --argjson s "$(stat -c %s idx.json)" \
                '.manifests += [{mediaType: "application/vnd.oci.image.index.v1+json", digest: $d, size: $s,
                                 annotations: {"org.opencontainers.image.ref.name": "multi"}}]' \
                src/index.json >src/index.json.new
        mv src/index.json.new src/index.json
        [ "$(cosign_save src multi cs)" = "sha256:$hex" ]
        [ "$(jq -r '.manifests[0].annotations.kind' cs/index.json)" = dev.cosignproject.cosign/imageIndex ]
        run --separate-stderr "$HUTCH" load --storage "$STORE" --platform linux/amd64 --name "$TINY:v2" cs
        expect_kept 0
        grep -q "1 signature(s) in the layout sign the image index sha256:$hex, not the platform manifest" <<<"$stderr" ||
                fail "$stderr"
        sigstore_policy p.json "$BATS_TEST_TMPDIR/ec.pub" '{"type":"matchRepository"}'
        expect_reject p.json "$TINY:v2" "no signature exists"
}

@test "cosign save form: hutch save of the image writes the signature so that a re-load keeps it" {
        requires jq
        openssl_key
        cosign_save "$V/oci/tiny-signed" v2 cs >/dev/null
        cload cs "$TINY:v2"
        expect_kept 1
        run "$HUTCH" save --storage "$STORE" -o saved.tar "$TINY:v2"
        [ "$status" -eq 0 ] || fail "$output"
        tar -xOf saved.tar index.json | jq -e --arg s "sha256-${V2_DIGEST#sha256:}.sig" \
                '[.manifests[].annotations["org.opencontainers.image.ref.name"]] | index($s) != null' >/dev/null ||
                fail "$(tar -xOf saved.tar index.json)"
        local STORE2=$BATS_TEST_TMPDIR/store2
        cload saved.tar "$TINY:v2" "$STORE2"
        expect_kept 1
        sigstore_policy p.json "$BATS_TEST_TMPDIR/ec.pub" '{"type":"matchRepository"}'
        STORE=$STORE2 expect_accept p.json "$TINY:v2"
        diff <(jq -S '.signatures | map(del(.origin))' "$STORE/sigs/${V2_DIGEST#sha256:}.json") \
                <(jq -S '.signatures | map(del(.origin))' "$STORE2/sigs/${V2_DIGEST#sha256:}.json")
        sigstore_policy wrong.json "$KEY" '{"type":"matchRepository"}'
        STORE=$STORE2 expect_reject wrong.json "$TINY:v2" "does not verify"
}

# ---- rejections ---------------------------------------------------------------------------------

@test "rejected: unsigned image, wrong key, key of another type, signature over another digest, tampered payload" {
        hload v1 "$TINY:v1" >/dev/null
        hload v2 "$TINY:v2" >/dev/null
        hload evil "$TINY:evil" >/dev/null
        sigstore_policy p.json "$KEY"
        expect_reject p.json "$TINY:v1" "A signature was required, but no signature exists"
        sigstore_policy wrong.json "$V/keys/other-p256.pub"
        expect_reject wrong.json "$TINY:v2" "does not verify"
        openssl genpkey -algorithm ed25519 -out ed.key 2>/dev/null
        openssl pkey -in ed.key -pubout -out ed.pub
        sigstore_policy ed.json "$BATS_TEST_TMPDIR/ed.pub"
        expect_reject ed.json "$TINY:v2" "Ed25519"
        openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:2048 -out rsa.key 2>/dev/null
        openssl pkey -in rsa.key -pubout -out rsa.pub
        sigstore_policy rsa.json "$BATS_TEST_TMPDIR/rsa.pub"
        expect_reject rsa.json "$TINY:v2" "RSA"
        expect_reject p.json "$TINY:evil" "signed for manifest $V2_DIGEST"
        # tampered payload: one byte changed, the signature kept
        rm -rf "$STORE"
        import v2 "$TINY:v2" >/dev/null
        sed 's/tiny:v2/tiny:v3/' "$V/sigstore/tiny-v2.payload.json" >tampered.json
        ! cmp -s tampered.json "$V/sigstore/tiny-v2.payload.json" || fail "the payload was not tampered with"
        attach "$TINY:v2" "$V/sigstore/tiny-v2.sig.b64" tampered.json
        expect_reject p.json "$TINY:v2" "does not verify"
}

@test "rejected although validly signed: duplicate keys, unknown critical members, trailing data in the payload" {
        local digest
        digest=$(hload v1 "$TINY:v1")
        openssl_key
        sigstore_policy p.json "$BATS_TEST_TMPDIR/ec.pub"
        local good bad name
        good=$(payload "$TINY:v1" "$digest")
        declare -A bads=(
                [dup]="${good%\}},\"optional\":null}"
                [dupdigest]="{\"critical\":{\"identity\":{\"docker-reference\":\"$TINY:v1\"},\"image\":{\"docker-manifest-digest\":\"$V2_DIGEST\",\"docker-manifest-digest\":\"$digest\"},\"type\":\"cosign container image signature\"},\"optional\":null}"
                [unknown]="{\"critical\":{\"identity\":{\"docker-reference\":\"$TINY:v1\"},\"image\":{\"docker-manifest-digest\":\"$digest\"},\"type\":\"cosign container image signature\",\"extra\":true},\"optional\":null}"
                [trailing]="$good{}"
        )
        for name in dup dupdigest unknown trailing; do
                rm -rf "$STORE"
                hload v1 "$TINY:v1" >/dev/null
                bad=${bads[$name]}
                printf '%s' "$bad" >"$name.json"
                openssl_sign "$name.json" "$name.sig"
                openssl dgst -sha256 -verify ec.pub -signature "$name.sig" "$name.json" >/dev/null
                attach "$TINY:v1" "$name.sig" "$name.json"
                case $name in
                dup*) expect_reject p.json "$TINY:v1" "payload: line 1 column [0-9]+: duplicate object key" ;;
                unknown) expect_reject p.json "$TINY:v1" "payload: .critical.extra: unknown property" ;;
                *) expect_reject p.json "$TINY:v1" "payload: line 1 column [0-9]+: end of file expected" ;;
                esac
        done
        # the same key and image with the good payload is accepted (so the rejections above are the payloads')
        rm -rf "$STORE"
        hload v1 "$TINY:v1" >/dev/null
        printf '%s' "$good" >good.json
        openssl_sign good.json good.sig
        attach "$TINY:v1" good.sig good.json
        expect_accept p.json "$TINY:v1"
}

@test "rejected: non-canonical or truncated base64, non-canonical or truncated DER" {
        sigstore_policy p.json "$KEY"
        local b64
        b64=$(cat "$V/sigstore/tiny-v2.sig.b64")
        # 71 bytes of the DER signature: base64 with one '=' whose last symbol's unused bits are then set
        head -c 71 "$V/sigstore/tiny-v2.sig.der" | openssl base64 -A >c71.b64
        local s last
        s=$(cat c71.b64)
        last=${s:94:1}
        local alphabet=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/
        local idx=${alphabet%%"$last"*}
        printf '%s%s=' "${s:0:94}" "${alphabet:$(( (${#idx} | 3) )):1}" >noncanon.b64
        [ "$(cat noncanon.b64)" != "$s" ] || fail "the non-canonical form equals the canonical one"
        printf '%s' "${b64:0:95}" >trunc.b64          # not a multiple of 4
        printf '%s====' "$b64" >pad.b64              # padding where none belongs
        printf '%s' "${b64:0:40}=${b64:41}" >mid.b64  # padding in the middle
        local f
        for f in noncanon trunc pad mid; do
                rm -rf "$STORE"
                import v2 "$TINY:v2" >/dev/null
                attach "$TINY:v2" "$f.b64" "$V/sigstore/tiny-v2.payload.json"
                expect_reject p.json "$TINY:v2" "base64"
        done
        # DER: truncated by one byte; long-form length (30 81 46 ...), which a canonical decoder refuses
        head -c 71 "$V/sigstore/tiny-v2.sig.der" >trunc.der
        { printf '\x30\x81'; tail -c +2 "$V/sigstore/tiny-v2.sig.der"; } >long.der
        [ "$(stat -c %s long.der)" -eq 73 ]
        for f in trunc long; do
                rm -rf "$STORE"
                import v2 "$TINY:v2" >/dev/null
                attach "$TINY:v2" "$f.der" "$V/sigstore/tiny-v2.payload.json"
                expect_reject p.json "$TINY:v2" "neither DER nor raw r\|\|s"
        done
}

@test "rejected: identity mismatch for each signedIdentity type (each also accepting its matching case)" {
        hload v2 "$TINY:v2" >/dev/null
        hload v2 "$TINY:v3" >/dev/null
        hload v2 registry.example/sandbox/other:v2 >/dev/null
        hload v2 mirror.example/sandbox/tiny:v2 >/dev/null
        hload v2 mirror.example/sandbox/tiny:v3 >/dev/null # one manifest: every name shares v2's signature
        sigstore_policy default.json "$KEY"
        expect_accept default.json "$TINY:v2"
        expect_reject default.json "$TINY:v3" "not accepted by signedIdentity matchRepoDigestOrExact"
        expect_reject default.json registry.example/sandbox/other:v2 "not accepted by signedIdentity matchRepoDigestOrExact"
        sigstore_policy exact.json "$KEY" '{"type":"matchExact"}'
        expect_accept exact.json "$TINY:v2"
        expect_reject exact.json "$TINY:v3" "not accepted by signedIdentity matchExact"
        sigstore_policy repo.json "$KEY" '{"type":"matchRepository"}'
        expect_accept repo.json "$TINY:v3"
        expect_reject repo.json registry.example/sandbox/other:v2 "not accepted by signedIdentity matchRepository"
        sigstore_policy ref.json "$KEY" "{\"type\":\"exactReference\",\"dockerReference\":\"$TINY:v2\"}"
        expect_accept ref.json registry.example/sandbox/other:v2
        sigstore_policy ref3.json "$KEY" "{\"type\":\"exactReference\",\"dockerReference\":\"$TINY:v3\"}"
        expect_reject ref3.json "$TINY:v3" "not accepted by signedIdentity exactReference"
        sigstore_policy erepo.json "$KEY" "{\"type\":\"exactRepository\",\"dockerRepository\":\"$TINY\"}"
        expect_accept erepo.json registry.example/sandbox/other:v2
        sigstore_policy erepo2.json "$KEY" '{"type":"exactRepository","dockerRepository":"registry.example/sandbox/nope"}'
        expect_reject erepo2.json "$TINY:v2" "not accepted by signedIdentity exactRepository"
        sigstore_policy remap.json "$KEY" '{"type":"remapIdentity","prefix":"mirror.example/sandbox","signedPrefix":"registry.example/sandbox"}'
        expect_accept remap.json mirror.example/sandbox/tiny:v2
        expect_reject remap.json mirror.example/sandbox/tiny:v3 "not accepted by signedIdentity remapIdentity"
}

@test "rejected: missing, unreadable or invalid policy file, each naming the file" {
        hload v2 "$TINY:v2" >/dev/null
        expect_reject "$BATS_TEST_TMPDIR/none.json" "$TINY:v2" "none.json"
        printf '{"default":[{"type":"insecureAcceptAnything"}]' >trunc.json
        expect_reject trunc.json "$TINY:v2" "trunc.json"
        printf '{"default":[{"type":"insecureAcceptAnything"}],"unknown":1}\n' >unknown.json
        expect_reject unknown.json "$TINY:v2" "unknown.json"
        printf '{"default":[{"type":"insecureAcceptAnything"}],"default":[{"type":"reject"}]}\n' >dup.json
        expect_reject dup.json "$TINY:v2" "dup.json"
        printf '{"default":[]}\n' >empty.json
        expect_reject empty.json "$TINY:v2" "empty.json"
        mkdir dir.json
        expect_reject dir.json "$TINY:v2" "dir.json"
        # a keyPath that does not exist
        sigstore_policy nokey.json "$BATS_TEST_TMPDIR/missing.pub"
        expect_reject nokey.json "$TINY:v2" "missing.pub"
        if [ "$(id -u)" != 0 ]; then
                printf '{"default":[{"type":"insecureAcceptAnything"}]}\n' >unreadable.json
                chmod 000 unreadable.json
                expect_reject unreadable.json "$TINY:v2" "unreadable.json.*(Permission denied)"
        fi
        # an invalid user policy is not skipped in favour of a more permissive one
        mkdir -p "$XDG_CONFIG_HOME/hutch"
        printf 'not json' >"$XDG_CONFIG_HOME/hutch/policy.json"
        run --separate-stderr "$HUTCH" verify --storage "$STORE" "$TINY:v2"
        [ "$status" -eq 1 ] && grep -q "$XDG_CONFIG_HOME/hutch/policy.json" <<<"$stderr" || fail "status $status: $stderr"
}

@test "verify: usage and store errors exit 125" {
        run "$HUTCH" verify --storage "$STORE"
        [ "$status" -eq 125 ]
        run "$HUTCH" verify --storage "$STORE" --format yaml "$TINY:v2"
        [ "$status" -eq 125 ]
        run "$HUTCH" verify --storage "$STORE" "$TINY:v2"
        [ "$status" -eq 125 ] && grep -q "not in the store" <<<"$output" || fail "status $status: $output"
        # an image stored by digest only has no identity for the policy
        "$HUTCH" load -q --storage "$STORE" "$V/oci/tiny-signed:v2" >/dev/null 2>&1
        run "$HUTCH" verify --storage "$STORE" --policy "$V/policies/reg-accept-anything.json" "$V2_DIGEST"
        [ "$status" -eq 125 ] && grep -q "has no name" <<<"$output" || fail "status $status: $output"
        "$HUTCH" tag --storage "$STORE" "$V2_DIGEST" "$TINY:v2"
        run "$HUTCH" verify --storage "$STORE" --policy "$V/policies/reg-accept-anything.json" "$V2_DIGEST"
        [ "$status" -eq 0 ] && grep -q "^$TINY:v2 ($V2_DIGEST): accepted" <<<"$output" || fail "status $status: $output"
}

# ---- scopes -------------------------------------------------------------------------------------

# containers-policy.json(5), "Policy Requirements": scopes of the docker transport, most specific first:
# a full reference, the repository, each namespace, the registry host[:port], then *.domain wildcards;
# only the first match is used, never merged with broader scopes.
@test "the most specific scope wins (containers-policy.json(5) scope forms)" {
        cat >scopes.json <<'EOF'
{
    "default": [{"type": "reject"}],
    "transports": {
        "docker": {
            "": [{"type": "reject"}],
            "hostname:5000": [{"type": "reject"}],
            "hostname:5000/namespace": [{"type": "insecureAcceptAnything"}],
            "hostname:5000/namespace/repo": [{"type": "reject"}],
            "hostname:5000/namespace/repo:trusted": [{"type": "insecureAcceptAnything"}],
            "docker.io/openshift": [{"type": "insecureAcceptAnything"}],
            "*.access.redhat.com": [{"type": "insecureAcceptAnything"}],
            "*.redhat.com": [{"type": "reject"}],
            "registry.access.redhat.com/private": [{"type": "reject"}]
        }
    }
}
EOF
        # NAME (as a user types it; stored under its normalised form) SCOPE VERDICT
        local name stored scope verdict
        while read -r name scope verdict; do
                stored=$name
                case $name in
                openshift/*) stored=docker.io/$name ;;
                busybox:*) stored=docker.io/library/$name ;;
                *) ;;
                esac
                hload v1 "$stored" >/dev/null
                run "$HUTCH" verify --storage "$STORE" --policy scopes.json "$name"
                grep -qF "scope:      $scope" <<<"$output" || fail "$name: expected scope $scope: $output"
                if [ "$verdict" = accept ]; then
                        [ "$status" -eq 0 ] || fail "$name: $output"
                else
                        [ "$status" -eq 1 ] || fail "$name: $output"
                fi
        done <<'EOF'
hostname:5000/namespace/repo:trusted hostname:5000/namespace/repo:trusted accept
hostname:5000/namespace/repo:latest hostname:5000/namespace/repo reject
hostname:5000/namespace/other:1 hostname:5000/namespace accept
hostname:5000/namespace/sub/deeper:1 hostname:5000/namespace accept
hostname:5000/elsewhere:1 hostname:5000 reject
docker.io/openshift/origin:v3 docker.io/openshift accept
openshift/origin:v4 docker.io/openshift accept
registry.access.redhat.com/ubi9:latest *.access.redhat.com accept
registry.access.redhat.com/private/x:1 registry.access.redhat.com/private reject
cdn.redhat.com/x:1 *.redhat.com reject
busybox:latest "" reject
EOF
}

# ---- trust show / set / reset -------------------------------------------------------------------

@test "trust set/show/reset round trip edits the user's policy, and verify applies it" {
        hload v1 "$TINY:v1" >/dev/null
        hload v2 "$TINY:v2" >/dev/null
        local user_policy=$XDG_CONFIG_HOME/hutch/policy.json
        # no file yet: the built-in default, which rejects everything
        run "$HUTCH" trust show
        [ "$status" -eq 0 ] && grep -q "built-in default policy" <<<"$output" || fail "$output"
        expect_reject_default() { run "$HUTCH" verify --storage "$STORE" "$1"; [ "$status" -eq 1 ] || fail "$1: $output"; }
        expect_reject_default "$TINY:v2"

        cp "$KEY" key.pub
        run "$HUTCH" trust set --type sigstoreSigned --pubkeysfile key.pub registry.example/sandbox
        [ "$status" -eq 0 ] || fail "$output"
        [ -f "$user_policy" ]
        grep -q "\"$BATS_TEST_TMPDIR/key.pub\"" "$user_policy" || fail "key path not absolute: $(cat "$user_policy")"
        grep -q '"keyPaths"' "$user_policy"
        run "$HUTCH" trust show
        grep -Eq "^docker +registry.example/sandbox +sigstoreSigned +$BATS_TEST_TMPDIR/key.pub" <<<"$output" || fail "$output"
        run "$HUTCH" trust show --format json
        grep -q "\"policy\": \"$user_policy\"" <<<"$output" || fail "$output"

        run "$HUTCH" verify --storage "$STORE" "$TINY:v2"
        [ "$status" -eq 0 ] || fail "$output"
        grep -q "scope:      registry.example/sandbox" <<<"$output"
        grep -q "policy:     $user_policy (sha256:$(sha256sum "$user_policy" | cut -d' ' -f1))" <<<"$output" || fail "$output"
        expect_reject_default "$TINY:v1"

        run "$HUTCH" trust set --type accept "$TINY:v1"
        [ "$status" -eq 0 ] || fail "$output"
        run "$HUTCH" verify --storage "$STORE" "$TINY:v1"
        [ "$status" -eq 0 ] || fail "$output"

        run "$HUTCH" trust set --type accept default
        [ "$status" -eq 0 ] || fail "$output"
        grep -q insecureAcceptAnything <<<"$(jq -c .default "$user_policy" 2>/dev/null || cat "$user_policy")"

        run "$HUTCH" trust reset registry.example/sandbox
        [ "$status" -eq 0 ] || fail "$output"
        run "$HUTCH" trust reset registry.example/sandbox
        [ "$status" -eq 125 ] && grep -q "no docker scope" <<<"$output" || fail "status $status: $output"
        run "$HUTCH" trust reset default
        [ "$status" -eq 0 ] || fail "$output"
        expect_reject_default "$TINY:v2"  # back to the default: reject
        run "$HUTCH" trust reset "$TINY:v1"
        [ "$status" -eq 0 ]
        expect_reject_default "$TINY:v1"
        # every file written is a valid policy (verify parsed it above); no temp files are left
        [ "$(find "$XDG_CONFIG_HOME/hutch" -mindepth 1 | wc -l)" -eq 1 ] || fail "$(ls -la "$XDG_CONFIG_HOME/hutch")"
}

@test "trust set: bad scopes, types and keys are refused and the policy file is left as it was" {
        run "$HUTCH" trust set --policy "$BATS_TEST_TMPDIR/p.json" --type reject registry.example
        [ "$status" -eq 0 ] || fail "$output"
        local before
        before=$(sha256sum p.json)
        run "$HUTCH" trust set --policy p.json --type accept busybox
        [ "$status" -eq 125 ] && grep -q "never matches" <<<"$output" || fail "$output"
        run "$HUTCH" trust set --policy p.json --type sigstoreSigned registry.example
        [ "$status" -eq 125 ] && grep -q "pubkeysfile" <<<"$output" || fail "$output"
        run "$HUTCH" trust set --policy p.json --type signedBy registry.example
        [ "$status" -eq 125 ] || fail "$output"
        HUTCH_KEY_PASSWORD=pw "$HUTCH" key generate --output-key-prefix k >/dev/null
        run "$HUTCH" trust set --policy p.json --type sigstoreSigned --pubkeysfile k.key registry.example
        [ "$status" -eq 125 ] && grep -q "private key" <<<"$output" || fail "$output"
        run "$HUTCH" trust set --policy p.json --type sigstoreSigned --pubkeysfile nowhere.pub registry.example
        [ "$status" -eq 125 ] && grep -q "nowhere.pub" <<<"$output" || fail "$output"
        [ "$(sha256sum p.json)" = "$before" ] || fail "p.json changed"
        # concurrent edits do not lose each other's change (the directory lock)
        local i
        for i in $(seq 12); do
                "$HUTCH" trust set --policy p.json --type accept "registry.example/c$i" >/dev/null &
        done
        wait
        for i in $(seq 12); do
                grep -q "\"registry.example/c$i\"" p.json || fail "scope c$i lost: $(cat p.json)"
        done
        # a symlinked policy is edited where it points; the link stays a link
        mkdir dotfiles
        cp p.json dotfiles/policy.json
        ln -s dotfiles/policy.json link.json
        run "$HUTCH" trust set --policy link.json --type accept registry.example/ns
        [ "$status" -eq 0 ] || fail "$output"
        [ -L link.json ] || fail "link.json was replaced by a file"
        grep -q '"registry.example/ns"' dotfiles/policy.json || fail "$(cat dotfiles/policy.json)"
        # an invalid file is not edited
        printf '{"default": []}' >bad.json
        run "$HUTCH" trust set --policy bad.json --type accept default
        [ "$status" -eq 125 ] && grep -q "bad.json" <<<"$output" || fail "$output"
        [ "$(cat bad.json)" = '{"default": []}' ]
}
