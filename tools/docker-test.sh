#!/usr/bin/env bash
# The deployment test. First `systemd-analyze verify` of contrib/mediastreamer.service; then
# the Docker test: builds the image from this checkout with the Dockerfile, starts
# docker-compose.yml (unchanged) on a generated library, and checks ping, the start-up scan, a
# stream and a transcode, the web player's page, /health, that the catalog, users and API keys
# survive `down` and `up`, that the server runs as the configured UID, and that `docker stop`
# ends it cleanly within 10 s. Prints the image size and the time taken.
#
# Needs root or sudo: it installs docker.io, docker-compose and debootstrap when missing and
# starts dockerd when none runs. No image registry is needed: the base images are made
# locally (a debootstrapped Debian 12 root, and that root plus this machine's Rust toolchain
# as the builder) and passed as the Dockerfile's BUILDER_IMAGE and RUNTIME_IMAGE; they are
# kept between runs. Set MEDIASTREAMER_BUILDER_IMAGE / MEDIASTREAMER_RUNTIME_IMAGE to use
# others (e.g. rust:1-bookworm and debian:bookworm-slim where a registry is reachable).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
step() { echo "docker-test [$(($(date +%s) - started)) s]: $*" >&2; }
fail() {
    echo "docker-test: FAILED: $*" >&2
    exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }

sudo=()
[ "$(id -u)" -ne 0 ] && sudo=(sudo)
apt_install() {
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# --- Docker itself ------------------------------------------------------------------------
missing=()
have dockerd || missing+=(docker.io)
have debootstrap || missing+=(debootstrap)
have curl || missing+=(curl)
have systemd-analyze || missing+=(systemd)
if ! docker compose version >/dev/null 2>&1 && ! have docker-compose; then
    missing+=(docker-compose)
fi
[ ${#missing[@]} -eq 0 ] || { step "installing ${missing[*]}"; apt_install "${missing[@]}"; }
docker=(docker)
docker info >/dev/null 2>&1 || ! "${sudo[@]}" docker info >/dev/null 2>&1 || docker=("${sudo[@]}" docker)
if ! "${docker[@]}" info >/dev/null 2>&1; then
    step "starting dockerd"
    "${sudo[@]}" sh -c 'nohup dockerd >/var/log/mediastreamer-test-dockerd.log 2>&1 &'
    for _ in $(seq 60); do
        "${sudo[@]}" docker info >/dev/null 2>&1 && break
        sleep 1
    done
    docker=(docker)
    docker info >/dev/null 2>&1 || docker=("${sudo[@]}" docker)
    "${docker[@]}" info >/dev/null 2>&1 || fail "dockerd did not start (/var/log/mediastreamer-test-dockerd.log)"
fi
if "${docker[@]}" compose version >/dev/null 2>&1; then
    compose=("${docker[@]}" compose)
else
    compose=("${sudo[@]}" docker-compose)
fi
# The classic builder when BuildKit's buildx plugin is not installed.
"${docker[@]}" buildx version >/dev/null 2>&1 || export DOCKER_BUILDKIT=0

# --- The systemd unit ---------------------------------------------------------------------
cargo build -q --features synth --bin mediastreamer --bin genlib
bin_dir="${CARGO_TARGET_DIR:-$PWD/target}/debug"
unit_dir=$(mktemp -d)
# Verified with the binary where this checkout built it (verify checks that it exists).
sed "s|/usr/local/bin/mediastreamer|$bin_dir/mediastreamer|" contrib/mediastreamer.service \
    >"$unit_dir/mediastreamer.service"
systemd-analyze verify "$unit_dir/mediastreamer.service" || fail "systemd-analyze verify"
rm -rf "$unit_dir"
step "contrib/mediastreamer.service verified"

# --- Base images, made locally ------------------------------------------------------------
runtime_image=${MEDIASTREAMER_RUNTIME_IMAGE:-mediastreamer-test/bookworm-slim:latest}
rust_version=$(rustc --version | awk '{print $2}')
builder_image=${MEDIASTREAMER_BUILDER_IMAGE:-mediastreamer-test/builder:$rust_version}
if ! "${docker[@]}" image inspect "$runtime_image" >/dev/null 2>&1; then
    step "making $runtime_image (debootstrap of Debian 12)"
    # The Debian mirror this machine's apt uses.
    mirror=$(grep -h -m1 -oE '^URIs: *[^ ]+' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1 | awk '{print $2}' || true)
    [ -n "$mirror" ] || mirror=$(grep -h -m1 -oE '^deb +[^ ]+' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' || true)
    root=$(mktemp -d /var/tmp/mediastreamer-rootfs.XXXXXX)
    "${sudo[@]}" debootstrap --variant=minbase bookworm "$root" ${mirror:+"$mirror"} >/dev/null
    # Trimmed like the slim images: no package caches, lists or documentation.
    "${sudo[@]}" sh -c "rm -rf '$root'/var/cache/apt/archives/*.deb '$root'/var/lib/apt/lists/* \
        '$root'/usr/share/doc/* '$root'/usr/share/man/* '$root'/usr/share/info/*"
    "${sudo[@]}" tar -C "$root" -c . | "${docker[@]}" import - "$runtime_image" >/dev/null
    "${sudo[@]}" rm -rf "$root"
fi
if ! "${docker[@]}" image inspect "$builder_image" >/dev/null 2>&1; then
    step "making $builder_image (Debian 12 + a C toolchain + this machine's Rust $rust_version)"
    sysroot=$(rustc --print sysroot)
    prep="mediastreamer-test-builder-$$"
    # The builder trusts the certificate authorities added to this machine
    # (/usr/local/share/ca-certificates, e.g. of a TLS-inspecting proxy) to reach crates.io.
    "${docker[@]}" run --name "$prep" -v "$sysroot:/mnt/rust:ro" \
        -v /usr/local/share/ca-certificates:/usr/local/share/ca-certificates:ro \
        "$runtime_image" bash -c '
        set -e
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            build-essential ca-certificates >/dev/null
        update-ca-certificates >/dev/null
        mkdir -p /usr/local/rust
        cp -a /mnt/rust/bin /mnt/rust/lib /usr/local/rust/
        rm -rf /usr/local/rust/lib/rustlib/src /var/lib/apt/lists/*' >/dev/null
    "${docker[@]}" commit \
        --change 'ENV PATH=/usr/local/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        "$prep" "$builder_image" >/dev/null
    "${docker[@]}" rm "$prep" >/dev/null
fi

# --- The image ----------------------------------------------------------------------------
uid=1234
gid=1235
image="mediastreamer-test/mediastreamer:latest"
step "building $image (release build inside docker)"
build_started=$(date +%s)
"${docker[@]}" build -q -t "$image" \
    --build-arg "BUILDER_IMAGE=$builder_image" \
    --build-arg "RUNTIME_IMAGE=$runtime_image" \
    --build-arg "UID=$uid" --build-arg "GID=$gid" . >/dev/null
build_seconds=$(($(date +%s) - build_started))
size_bytes=$("${docker[@]}" image inspect -f '{{.Size}}' "$image")
step "image built in ${build_seconds} s; size $((size_bytes / 1000000)) MB"

# --- A generated library ------------------------------------------------------------------
work=$(mktemp -d /var/tmp/mediastreamer-docker-test.XXXXXX)
project="mstest$$"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 45330)
export MUSIC_DIR="$work/music" MEDIASTREAMER_IMAGE="$image" MEDIASTREAMER_UID=$uid \
    MEDIASTREAMER_GID=$gid MEDIASTREAMER_PORT=$port MEDIASTREAMER_ADMIN_PASSWORD=first-pw
cleanup() {
    "${compose[@]}" -p "$project" -f docker-compose.yml down -v >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
tracks=40
"$bin_dir/genlib" --tracks $tracks --seed 3 "$MUSIC_DIR" >/dev/null
chmod -R a+rX "$work"

base="http://127.0.0.1:$port"
get() { curl -fsS --max-time 30 "$base$1"; }
# api METHOD QUERY: a Subsonic call in JSON.
api() { get "/rest/$1?$2&f=json&c=docker-test"; }
wait_healthy() {
    for _ in $(seq 120); do
        get /health >/dev/null 2>&1 && return 0
        sleep 1
    done
    "${compose[@]}" -p "$project" logs >&2 || true
    fail "the container did not answer /health"
}
wait_scanned() {
    for _ in $(seq 120); do
        status=$(api getScanStatus "u=admin&p=$1" || true)
        if echo "$status" | grep -q '"scanning":false' && echo "$status" | grep -q "\"count\":$tracks"; then
            return 0
        fi
        sleep 1
    done
    fail "the start-up scan did not find $tracks tracks: $status"
}
up() { "${compose[@]}" -p "$project" -f docker-compose.yml up -d --no-build >/dev/null 2>&1 || fail "compose up"; }
exec_ms() { "${compose[@]}" -p "$project" -f docker-compose.yml exec -T mediastreamer "$@"; }

# --- First start --------------------------------------------------------------------------
step "compose up (music at $MUSIC_DIR, port $port, UID $uid)"
up
wait_healthy
wait_scanned first-pw
api ping "u=admin&p=first-pw" | grep -q '"status":"ok"' || fail "ping"
get /health | grep -q '"database":true' || fail "health"
get / | grep -qi '<!doctype html' || fail "the web player's page"
song=$(api getRandomSongs "u=admin&p=first-pw&size=1" | grep -oE '"id":"[^"]+"' | head -n1 | cut -d'"' -f4)
[ -n "$song" ] || fail "no song to stream"
bytes=$(curl -fsS --max-time 60 "$base/rest/stream?u=admin&p=first-pw&c=docker-test&id=$song" | wc -c)
[ "$bytes" -gt 1000 ] || fail "stream: $bytes bytes"
mp3=$(curl -fsS --max-time 60 -D - -o /dev/null "$base/rest/stream?u=admin&p=first-pw&c=docker-test&id=$song&format=mp3&maxBitRate=96")
echo "$mp3" | grep -qi '^content-type: audio/mpeg' || fail "transcode: $mp3"
# The running user, as seen by the kernel and inside.
pid_uid=$(exec_ms sh -c 'id -u; id -g' | tr '\n' ' ')
[ "$pid_uid" = "$uid $gid " ] || fail "runs as $pid_uid, not $uid $gid"
proc_uid=$(exec_ms sh -c "awk '/^Uid:/ {print \$2}' /proc/1/status")
[ "$proc_uid" = "$uid" ] || fail "the server process runs as UID $proc_uid"
# A user, a changed password and an API key, made with the CLI inside the container.
exec_ms mediastreamer user add bob --password bob-pw >/dev/null || fail "user add"
exec_ms mediastreamer user passwd admin --password second-pw >/dev/null || fail "user passwd"
key=$(exec_ms mediastreamer user apikey bob --label phone 2>/dev/null | tr -d '\r\n')
[ -n "$key" ] || fail "user apikey"
api star "u=bob&p=bob-pw&id=$song" | grep -q '"status":"ok"' || fail "star"

# --- down, up: everything is still there --------------------------------------------------
step "compose down and up again"
"${compose[@]}" -p "$project" -f docker-compose.yml down >/dev/null 2>&1 || fail "compose down"
up
wait_healthy
wait_scanned second-pw
api ping "u=admin&p=first-pw" | grep -q '"code":40' || fail "the first password still works after passwd"
api ping "u=bob&p=bob-pw" | grep -q '"status":"ok"' || fail "bob lost"
api ping "apiKey=$key" | grep -q '"status":"ok"' || fail "the API key lost"
api getStarred2 "u=bob&p=bob-pw" | grep -q "\"id\":\"$song\"" || fail "bob's star lost"

# --- docker stop ends it cleanly within 10 s ----------------------------------------------
container=$("${compose[@]}" -p "$project" -f docker-compose.yml ps -q mediastreamer)
health=$("${docker[@]}" inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$container")
[ "$health" != "unhealthy" ] || fail "HEALTHCHECK says unhealthy"
stop_started=$(date +%s%N)
"${docker[@]}" stop -t 10 "$container" >/dev/null
stop_ms=$((($(date +%s%N) - stop_started) / 1000000))
exit_code=$("${docker[@]}" inspect -f '{{.State.ExitCode}}' "$container")
[ "$exit_code" = 0 ] || fail "docker stop: exit code $exit_code (killed?)"
[ "$stop_ms" -lt 10000 ] || fail "docker stop took $stop_ms ms"
# (Read whole first: grep -q closing the pipe early would fail the pipeline.)
log=$("${docker[@]}" logs "$container" 2>&1)
grep -q 'stopped' <<<"$log" || fail "no clean shutdown in the log"

step "passed: image $((size_bytes / 1000000)) MB, build ${build_seconds} s, docker stop ${stop_ms} ms, total $(($(date +%s) - started)) s"
