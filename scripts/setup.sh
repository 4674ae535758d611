#!/usr/bin/env bash
# Development set-up on Debian bookworm / Raspberry Pi OS from a clean clone: system packages, then the locked
# Python environment in .venv with the `larder` CLI at .venv/bin/larder. Safe to run again (it only adds what is
# missing). Usage: scripts/setup.sh [--dev]   (--dev adds the test tools and the PostgreSQL server for tests)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
dev=0
[ "${1:-}" = "--dev" ] && dev=1

say() { printf 'setup: %s\n' "$*"; }

packages=(python3 python3-venv python3-dev gcc libportaudio2 espeak-ng sox)
[ "$dev" = 1 ] && packages+=(postgresql shellcheck systemd chromium chromium-driver)
# npm brings Deno (the npm registry's `deno` package) for the Edge Function's tests; any Node.js 18+ will do.
[ "$dev" = 1 ] && ! command -v npm >/dev/null 2>&1 && packages+=(npm)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then sudo=()
    elif command -v sudo >/dev/null 2>&1; then sudo=(sudo)
    else
        say "missing system packages: ${missing[*]}"
        say "run as root, or install them: apt-get install ${missing[*]}"
        exit 1
    fi
    say "installing system packages: ${missing[*]}"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    say "Larder needs Python 3.11 or newer; $("$python" --version 2>&1) found"
    exit 1
fi

lock=requirements-runtime.lock
[ "$dev" = 1 ] && lock=requirements.lock
stamp=.venv/.larder-$(sha256sum "$lock" | cut -c1-16)
if [ ! -x .venv/bin/python ]; then
    say "creating .venv"
    "$python" -m venv .venv
fi
if [ ! -f "$stamp" ]; then
    say "installing locked dependencies from $lock"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r "$lock"
    rm -f .venv/.larder-*
    touch "$stamp"
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e . 2>/dev/null \
    || .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
if [ "$dev" = 1 ]; then
    # Deno for the provision-device Edge Function: the platform's binary comes inside an npm package.
    deno_stamp=tools/deno/node_modules/.larder-$(sha256sum tools/deno/package-lock.json | cut -c1-16)
    if [ ! -f "$deno_stamp" ]; then
        say "installing Deno from the npm registry (tools/deno)"
        npm ci --prefix tools/deno --no-audit --no-fund --loglevel=error >/dev/null
        touch "$deno_stamp"
    fi
fi
say "ready: .venv/bin/larder"
