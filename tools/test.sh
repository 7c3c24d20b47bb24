#!/usr/bin/env bash
# README's test command: installs what the tests need when it is missing, then runs
# `cargo test` (arguments are passed on, e.g. `tools/test.sh --test api`).
#
# Needs: a C compiler (SQLite and LAME are compiled in), libopus-dev and pkg-config (the Opus
# encoder links the system libopus), xmllint (the API tests validate XML
# against the official XSD), ffmpeg (tests of the formats symphonia cannot decode), Debian's
# Chromium and Node.js 18+ with the npm packages of tests/web (the web player's browser test).
# Missing Debian packages are installed with apt-get: directly as root, else with sudo.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
have() { command -v "$1" >/dev/null 2>&1; }
[ -e /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
have cc || missing+=(build-essential)
have make || missing+=(make)
have pkg-config || missing+=(pkg-config)
pkg-config --exists opus 2>/dev/null || missing+=(libopus-dev)
have xmllint || missing+=(libxml2-utils)
have ffmpeg || missing+=(ffmpeg)
[ -x "${MEDIASTREAMER_CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium)
have node || missing+=(nodejs)
have npm || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
    echo "tools/test.sh: installing ${missing[*]}" >&2
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        have sudo || { echo "tools/test.sh: need root or sudo to install ${missing[*]}" >&2; exit 1; }
        sudo=(sudo)
    fi
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# playwright-core (pinned in tests/web/package-lock.json) runs on Debian 12's Node 18.
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 18 ]; then
    echo "tools/test.sh: Node.js 18 or newer is needed (found $(node --version))" >&2
    exit 1
fi
# npm ci again only when the lock file changed since the last install.
if [ ! -e tests/web/node_modules/.package-lock.json ] ||
    [ tests/web/package-lock.json -nt tests/web/node_modules/.package-lock.json ]; then
    (cd tests/web && npm ci --no-audit --no-fund --loglevel=error)
fi

exec cargo test "$@"
