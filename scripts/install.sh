#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2034,SC1091  # globals here are read by the sourced lib/*.sh
# Larder's installer: the technician's one command on a fresh Raspberry Pi OS Lite (bookworm, 64-bit).
# Run `scripts/install.sh --help` for the options. Safe to run again: it changes only what differs.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/common.sh
. "$HERE/lib/common.sh"
# shellcheck source=lib/system.sh
. "$HERE/lib/system.sh"
# shellcheck source=lib/config.sh
. "$HERE/lib/config.sh"
# shellcheck source=lib/python.sh
. "$HERE/lib/python.sh"
# shellcheck source=lib/release.sh
. "$HERE/lib/release.sh"

usage() {
	cat <<'EOF'
Usage: sudo scripts/install.sh [options]

Installs (or upgrades) Larder: apt packages, the larder user, the locked Python environment of this version
in /opt/larder/releases/<version> (/opt/larder/current points at it), the models, /etc/larder/larder.env
(0600), device credentials, the larder.service unit; ends with `larder doctor`. Missing settings are asked
for when run at a terminal. A second run changes nothing.

An upgrade (a new version over a running one, from a bundle or this clone) backs up the store, migrates it,
restarts the service, and rolls back by itself to the previous version and its store (with every event
journalled since) unless the service reports READY, stays up and `larder doctor` finds nothing newly failing.

Settings (saved in /etc/larder/larder.env; an empty value removes a setting):
  --site NAME              site (kitchen) this unit belongs to
  --deepgram-key KEY       Deepgram API key
  --llm-url URL            OpenAI-compatible base URL      --llm-model NAME     --llm-key KEY
  --supabase-url URL       Supabase project URL            --supabase-key KEY   (the publishable key)
  --provisioning-code CODE one-time code exchanged for device credentials
  --mic-device DEV         microphone name fragment or index   --mic-channel N   (0-based)
  --speaker-device DEV     speaker name fragment or index
  --confirm-pin N          BCM pin of the confirm button    --cancel-pin N
  --led none|single|rgb    status light kind                --led-pins P  (one pin, or r,g,b)
  --screen-pin PIN         4-12 digits for changes made on the unit's web page (only a salted hash is kept)
  --set KEY=VALUE          any other LARDER_ setting
  --config FILE            read settings from an env file (KEY=VALUE lines)
  -y, --yes                never prompt (use flags, the existing file and defaults)
  Tip: keys typed at the prompts stay out of the shell history; keys given as flags do not.

Modes:
  --dry-run                say what would change; change nothing
  --uninstall [--purge]    remove Larder; keeps /var/lib/larder (journal, store) unless --purge
  --bundle DIR             offline install from a bundle made by --make-bundle (its SHA256SUMS are checked)
  --upgrade [DIR]          upgrade a running install from the bundle DIR (else from this source)
  --rollback               back to the version before the last upgrade, with a store it reads
  --settle SECONDS         how long an upgraded service must stay up after READY (default 10)
  --make-bundle DIR        make DIR/larder-<version>: the locked wheels, the Larder wheel and source, the
                           models (inside their wheels), BUNDLE (manifest) and SHA256SUMS; then stop
  --platform all|aarch64|x86_64|native  wheels for both kinds of unit (default), one, or this machine

Targets and steps (for image builds and CI):
  --root DIR               install under DIR (DIR/opt/larder, DIR/etc/larder, ...); implies --no-apt,
                           --no-provision, --no-doctor; the user is made in DIR/etc/passwd; the unit is
                           enabled with systemctl --root but not started
  --source DIR             the Larder source tree (default: the one this script is in)
  --python PATH            interpreter for the environment (default: python3)
  --lock FILE              lock file (default: requirements-runtime.lock, else requirements.lock)
  --no-apt --no-user --no-systemctl --no-provision --no-doctor --no-models --skip-venv
  --force                  carry on when the OS or machine is not the expected one

Exit status: 0 done; 1 error (nothing half-done is left running); 2 bad usage;
             3 installed, but provisioning, the service start or larder doctor reported a problem;
             4 the upgrade failed and was rolled back (the previous version runs, every event kept).
EOF
}

# --- defaults -----------------------------------------------------------------------------------------------
SRC=$(cd "$HERE/.." && pwd)
PYTHON=python3
LOCK="" BUNDLE="" MAKE_BUNDLE="" BUNDLE_PLATFORM=all CONFIG_FROM="" UPGRADE=0 ROLLBACK=0
UNINSTALL=0 PURGE=0 FORCE=0 ASSUME_YES=0
NO_APT=0 NO_USER=0 NO_SYSTEMCTL=0 NO_PROVISION=0 NO_DOCTOR=0 NO_MODELS=0 SKIP_VENV=0
SCREEN_PIN="" UNIT_CHANGED=0 RESTART_NEEDED=0 DOCTOR_OK=1 PENDING_RELEASE="" VENV_PY="" SVC_UID=0 SVC_GID=0

need() { [ $# -ge 2 ] || { printf 'install.sh: %s needs a value\n' "$1" >&2 && exit 2; }; }
folder() { [ -d "$2" ] || die "$1 $2: no such folder"; (cd "$2" && pwd); }

while [ $# -gt 0 ]; do
	opt=$1
	case "$opt" in
	--site) need "$@" && set_flag SITE "$2" && shift ;;
	--deepgram-key) need "$@" && set_flag DEEPGRAM_API_KEY "$2" && shift ;;
	--llm-url) need "$@" && set_flag LLM_BASE_URL "$2" && shift ;;
	--llm-model) need "$@" && set_flag LLM_MODEL "$2" && shift ;;
	--llm-key) need "$@" && set_flag LLM_API_KEY "$2" && shift ;;
	--supabase-url) need "$@" && set_flag SUPABASE_URL "$2" && shift ;;
	--supabase-key) need "$@" && set_flag SUPABASE_KEY "$2" && shift ;;
	--provisioning-code) need "$@" && set_flag PROVISIONING_CODE "$2" && shift ;;
	--mic-device) need "$@" && set_flag MIC_DEVICE "$2" && shift ;;
	--mic-channel) need "$@" && set_flag MIC_CHANNEL "$2" && shift ;;
	--speaker-device) need "$@" && set_flag SPEAKER_DEVICE "$2" && shift ;;
	--confirm-pin) need "$@" && set_flag CONFIRM_PIN "$2" && shift ;;
	--cancel-pin) need "$@" && set_flag CANCEL_PIN "$2" && shift ;;
	--led) need "$@" && set_flag LED "$2" && shift ;;
	--led-pins) need "$@" && set_flag LED_PINS "$2" && shift ;;
	--screen-pin) need "$@" && SCREEN_PIN=$2 && shift ;;
	--set)
		need "$@"
		[[ "$2" == *=* ]] || { printf 'install.sh: --set takes KEY=VALUE\n' >&2 && exit 2; }
		set_flag "${2%%=*}" "${2#*=}"
		shift
		;;
	--config) need "$@" && CONFIG_FROM=$2 && shift ;;
	-y | --yes | --non-interactive) ASSUME_YES=1 ;;
	--dry-run) DRY_RUN=1 ;;
	--uninstall) UNINSTALL=1 ;;
	--purge) PURGE=1 ;;
	--bundle)
		need "$@"
		BUNDLE=$(folder "$@") || exit 1
		shift
		;;
	--upgrade)
		UPGRADE=1
		if [ $# -ge 2 ] && [[ "$2" != -* ]]; then
			BUNDLE=$(folder "$@") || exit 1
			shift
		fi
		;;
	--rollback) ROLLBACK=1 ;;
	--settle)
		need "$@"
		[[ "$2" =~ ^[0-9]+$ ]] || { printf 'install.sh: --settle takes whole seconds\n' >&2 && exit 2; }
		SETTLE_S=$2
		shift
		;;
	--make-bundle) need "$@" && MAKE_BUNDLE=$2 && shift ;;
	--platform) need "$@" && BUNDLE_PLATFORM=$2 && shift ;;
	--root) need "$@" && ROOT=${2%/} && shift ;;
	--source)
		need "$@"
		SRC=$(folder "$@") || exit 1
		shift
		;;
	--python) need "$@" && PYTHON=$2 && shift ;;
	--lock) need "$@" && LOCK=$(realpath -m "$2") && shift ;;
	--no-apt) NO_APT=1 ;;
	--no-user) NO_USER=1 ;;
	--no-systemctl) NO_SYSTEMCTL=1 ;;
	--no-provision) NO_PROVISION=1 ;;
	--no-doctor) NO_DOCTOR=1 ;;
	--no-models) NO_MODELS=1 ;;
	--skip-venv) SKIP_VENV=1 ;;
	--force) FORCE=1 ;;
	-h | --help) usage && exit 0 ;;
	*) printf 'install.sh: unknown option %s (see --help)\n' "$opt" >&2 && exit 2 ;;
	esac
	shift
done

case "$BUNDLE_PLATFORM" in all | aarch64 | x86_64 | native) ;; *)
	printf 'install.sh: --platform is all, aarch64, x86_64 or native\n' >&2
	exit 2
	;;
esac

make_scratch
if [ -n "$MAKE_BUNDLE" ]; then
	mkdir -p "$MAKE_BUNDLE"
	make_bundle "$(cd "$MAKE_BUNDLE" && pwd)"
	exit 0
fi

[ "$(id -u)" = 0 ] || [ "$DRY_RUN" = 1 ] || die "run me as root: sudo $0 ..." "a dry run (--dry-run) works without root"
if [ -n "$ROOT" ]; then
	[ -d "$ROOT" ] || die "--root $ROOT is not a folder"
	ROOT=$(cd "$ROOT" && pwd)
	[ "$ROOT" = / ] && ROOT=""
fi
if [ -n "$ROOT" ]; then NO_APT=1 NO_PROVISION=1 NO_DOCTOR=1; fi
INTERACTIVE=0
if [ -t 0 ] && [ "$ASSUME_YES" != 1 ] && [ "$UNINSTALL" != 1 ]; then INTERACTIVE=1; fi

ENV_FILE=$(at /etc/larder/larder.env)
DATA_DIR=$(at /var/lib/larder)
UNIT_FILE=$(at /etc/systemd/system/larder.service)
CLI=/usr/local/bin/larder
[ "$DRY_RUN" = 1 ] && printf 'Dry run: nothing will be changed.\n'

if [ "$ROLLBACK" = 1 ]; then
	[ "$DRY_RUN" != 1 ] || die "--rollback has no dry run" "cat $(at /opt/larder/rollback.env) shows what it would do"
	SVC_UID=$(uid_of "$SERVICE_USER") SVC_GID=$(gid_of "$SERVICE_USER")
	[ -n "$SVC_UID" ] || SVC_UID=0 SVC_GID=0
	restore_previous
	run_doctor
	printf '\nRolled back to release %s.\n' "$ROLLED_TO"
	[ "$PROBLEMS" -eq 0 ] && [ "$DOCTOR_OK" = 1 ] || exit 3
	exit 0
fi
if [ "$UPGRADE" = 1 ] && [ -z "$(current_release)" ]; then
	die "Larder is not installed here${ROOT:+ (in $ROOT)}: nothing to upgrade" "install it: run this without --upgrade"
fi

if [ "$UNINSTALL" = 1 ]; then
	uninstall
	if [ "$CHANGES" -eq 0 ]; then
		printf '\nNothing to remove: Larder is not installed%s.\n' "${ROOT:+ in $ROOT}"
	else
		printf '\n%s %d change(s).\n' "$([ "$DRY_RUN" = 1 ] && echo Would make || echo Made)" "$CHANGES"
	fi
	exit 0
fi

verify_bundle
check_platform
install_packages
check_python
ensure_user
ensure_layout
install_python
[ -z "$SCREEN_PIN" ] || hash_screen_pin
write_config
prepare_models
switch_release
install_unit
provision
start_service
verify_upgrade
run_doctor

printf '\n'
if [ "$CHANGES" -eq 0 ]; then
	printf 'Nothing changed: Larder is already installed as requested%s.\n' "${ROOT:+ in $ROOT}"
elif [ "$DRY_RUN" = 1 ]; then
	printf 'Dry run: %d change(s) would be made.\n' "$CHANGES"
else
	printf 'Done: %d change(s) made%s.\n' "$CHANGES" "${ROOT:+ in $ROOT}"
fi
if [ "$PROBLEMS" -gt 0 ] || [ "$DOCTOR_OK" != 1 ]; then
	printf 'Installed, with %d warning(s) above%s.\n' "$PROBLEMS" "$([ "$DOCTOR_OK" != 1 ] && echo ' and doctor failures')"
	exit 3
fi
exit 0
