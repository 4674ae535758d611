#!/usr/bin/env bash
# The main job on embedded defaults: set up, then run the daemon over the bundled demo recording (demo catalogue,
# offline models, no microphone needed). Replies are written as WAV files to ./demo-replies.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
export LARDER_DATA_DIR="${LARDER_DATA_DIR:-$PWD/.demo-data}"
exec .venv/bin/larder run --input demo --replies demo-replies "$@"
