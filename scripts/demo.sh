#!/usr/bin/env bash
# The main job on embedded defaults: set up, count the demo's opening stock, then run the daemon over the bundled
# demo recording (demo catalogue, offline models, no microphone needed). Replies are written as WAV files to
# ./demo-replies. Options go to `larder run`: --stay keeps the daemon and its page (port 8080) up afterwards.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
export LARDER_DATA_DIR="${LARDER_DATA_DIR:-$PWD/.demo-data}"
# the opening stocktake, counted again on every run so the demo says the same each time
.venv/bin/larder count device/data/demo_stock.csv >/dev/null
echo "demo: opening stock counted from device/data/demo_stock.csv (larder stock shows it)"
echo "demo: the unit's page is served while it runs (scripts/demo.sh --stay keeps it up after the recording)"
exec .venv/bin/larder run --input demo --replies demo-replies "$@"
