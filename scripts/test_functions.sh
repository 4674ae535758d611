#!/usr/bin/env bash
# The Supabase Edge Functions' checks: format, lint, type-check and `deno test`, with the Deno that
# `scripts/setup.sh --dev` installs from the npm registry. Nothing is fetched: remote and npm imports are off.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../cloud_sync/supabase/functions"
deno=$(cd ../../../tools/deno && pwd)/node_modules/.bin/deno
if [ ! -x "$deno" ]; then
    echo "test_functions: Deno is not installed; run scripts/setup.sh --dev" >&2
    exit 1
fi
export DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
for fn in */; do
    (
        cd "$fn"
        "$deno" fmt --check --quiet .
        "$deno" lint --quiet .
        "$deno" test --quiet --no-remote --no-npm --allow-net=127.0.0.1 --allow-env .
    )
done
