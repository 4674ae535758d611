#!/usr/bin/env bash
# The test command: set up with the test tools, then lint, type-check and run the whole suite: the Python suite
# and the Edge Function's Deno tests (offline: no remote or npm imports).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh --dev
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
scripts/test_functions.sh
exec .venv/bin/pytest -q "$@"
