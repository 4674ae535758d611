# shellcheck shell=bash disable=SC2034  # globals shared with install.sh and the other libs
# The env file /etc/larder/larder.env: merge flags, a --config file, the existing file and prompts; write it
# root-only (0600) when it changes; never print a secret. Then the provisioning-code exchange.
#
# Values are written single-quoted: systemd's EnvironmentFile= and python-dotenv (pydantic-settings) both
# take single-quoted text literally, so a value may hold anything but a quote, a backslash or a newline.

declare -A FLAGS=()    # settings given on the command line ("" = remove the setting)
declare -A OLD=()      # the env file as it is
declare -A CFG=()      # the env file as it will be

KNOWN_KEYS=(
	LARDER_SITE LARDER_DATA_DIR LARDER_DEEPGRAM_API_KEY LARDER_LLM_BASE_URL LARDER_LLM_MODEL LARDER_LLM_API_KEY
	LARDER_SUPABASE_URL LARDER_SUPABASE_KEY LARDER_PROVISIONING_CODE LARDER_MIC_DEVICE LARDER_MIC_CHANNEL
	LARDER_SPEAKER_DEVICE LARDER_CONFIRM_PIN LARDER_CANCEL_PIN LARDER_LED LARDER_LED_PINS
)
SECRET_KEYS=" LARDER_DEEPGRAM_API_KEY LARDER_LLM_API_KEY LARDER_SUPABASE_KEY LARDER_PROVISIONING_CODE LARDER_SCREEN_PIN_HASH "

is_secret() { [[ "$SECRET_KEYS" == *" $1 "* ]]; }

# set_flag KEY VALUE (KEY with or without the LARDER_ prefix, any case)
set_flag() {
	local key=${1^^}
	[[ "$key" == LARDER_* ]] || key="LARDER_$key"
	[[ "$key" =~ ^LARDER_[A-Z0-9_]+$ ]] || die "not a setting name: $1" "settings look like LARDER_SITE"
	check_value "$key" "$2"
	FLAGS[$key]=$2
}

# --screen-pin: keep only a salted scrypt hash of the PIN (LARDER_SCREEN_PIN_HASH); the PIN goes on stdin only.
hash_screen_pin() {
	local py=$PYTHON hash
	[ -n "$VENV_PY" ] && [ -x "$VENV_PY" ] && py=$VENV_PY
	hash=$(printf '%s\n' "$SCREEN_PIN" | PYTHONPATH="$SRC" "$py" -m device.web.pin 2>&1) ||
		die "${hash:---screen-pin: could not hash the PIN}" "give 4 to 12 digits, e.g. --screen-pin 4821"
	FLAGS[LARDER_SCREEN_PIN_HASH]=$hash
	SCREEN_PIN=""
}

check_value() {
	case "$2" in
	*"'"* | *\\* | *$'\n'*)
		die "$1 contains a quote, a backslash or a newline" "the env file cannot hold those characters"
		;;
	esac
	if [ "$1" = LARDER_SUPABASE_KEY ] && is_service_role_key "$2"; then
		die "LARDER_SUPABASE_KEY is a secret (service_role) key" \
			"give the project's publishable (anon) key: a unit must never hold the service_role key"
	fi
}

is_service_role_key() {
	local payload
	[[ "$1" == sb_secret_* ]] && return 0
	[[ "$1" =~ ^[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+$ ]] || return 1
	payload=${BASH_REMATCH[1]//-/+}
	payload=${payload//_//}
	while [ $((${#payload} % 4)) -ne 0 ]; do payload="$payload="; done
	printf '%s' "$payload" | base64 -d 2>/dev/null | grep -q '"role" *: *"service_role"'
}

# read_env_file FILE ARRAY: KEY=VALUE lines (optionally quoted, optionally "export") into an assoc array.
read_env_file() {
	local file=$1 line key value
	local -n into=$2
	[ -r "$file" ] || return 0
	while IFS= read -r line || [ -n "$line" ]; do
		[[ "$line" =~ ^[[:space:]]*(export[[:space:]]+)?(LARDER_[A-Za-z0-9_]+)=(.*)$ ]] || continue
		key=${BASH_REMATCH[2]^^}
		value=${BASH_REMATCH[3]}
		if [[ "$value" =~ ^\'(.*)\'[[:space:]]*$ ]] || [[ "$value" =~ ^\"(.*)\"[[:space:]]*$ ]]; then
			value=${BASH_REMATCH[1]}
		fi
		into["$key"]=$value
	done <"$file"
}

# ask KEY QUESTION [secret]: prompt when interactive and the setting is still unset; Enter skips.
ask() {
	local key=$1 question=$2 answer=""
	[[ -v CFG[$key] ]] && return 0
	[ "$INTERACTIVE" = 1 ] || return 0
	if [ "${3:-}" = secret ]; then
		read -r -s -p "   $question: " answer
		printf '\n'
	else
		read -r -p "   $question: " answer
	fi
	if [ -n "$answer" ]; then
		check_value "$key" "$answer"
		CFG[$key]=$answer
	fi
}

prompt_missing() {
	[ "$INTERACTIVE" = 1 ] || return 0
	printf '   Answer the questions below; Enter leaves a setting at its default.\n'
	ask LARDER_SITE "Site (kitchen) name"
	ask LARDER_DEEPGRAM_API_KEY "Deepgram API key (Enter: speech stays on the unit with Whisper)" secret
	ask LARDER_LLM_BASE_URL "LLM base URL, OpenAI-compatible (Enter: no LLM)"
	if [ -n "${CFG[LARDER_LLM_BASE_URL]:-}" ]; then
		ask LARDER_LLM_MODEL "LLM model (Enter: gpt-4o-mini)"
		ask LARDER_LLM_API_KEY "LLM API key" secret
	fi
	ask LARDER_SUPABASE_URL "Supabase project URL (Enter: no cloud sync)"
	if [ -n "${CFG[LARDER_SUPABASE_URL]:-}" ]; then
		ask LARDER_SUPABASE_KEY "Supabase publishable key" secret
		ask LARDER_PROVISIONING_CODE "Provisioning code" secret
	fi
	if have arecord; then
		printf '   Capture devices:\n'
		arecord -l 2>/dev/null | grep '^card' | sed 's/^/     /' || printf '     (none found)\n'
	fi
	ask LARDER_MIC_DEVICE "Microphone name fragment or index (Enter: the default device)"
	ask LARDER_MIC_CHANNEL "Microphone channel, 0-based (Enter: 0)"
	ask LARDER_CONFIRM_PIN "Confirm button BCM pin (Enter: 17)"
	ask LARDER_CANCEL_PIN "Cancel button BCM pin (Enter: 27)"
	ask LARDER_LED_PINS "Status LED BCM pin, or red,green,blue pins (Enter: 22)"
}

# Build CFG: the existing file, then a --config file, then flags; prompts fill what is still unset.
merge_config() {
	local key
	read_env_file "$ENV_FILE" OLD
	for key in "${!OLD[@]}"; do CFG[$key]=${OLD[$key]}; done
	if [ -n "$CONFIG_FROM" ]; then
		[ -r "$CONFIG_FROM" ] || die "cannot read --config file $CONFIG_FROM"
		local -A given=()
		read_env_file "$CONFIG_FROM" given
		for key in "${!given[@]}"; do
			check_value "$key" "${given[$key]}"
			CFG[$key]=${given[$key]}
		done
	fi
	for key in "${!FLAGS[@]}"; do CFG[$key]=${FLAGS[$key]}; done
	CFG[LARDER_DATA_DIR]=/var/lib/larder
	prompt_missing
	for key in "${!CFG[@]}"; do
		if [ -z "${CFG[$key]}" ]; then unset "CFG[$key]"; else check_value "$key" "${CFG[$key]}"; fi
	done
}

render_env() {
	local key
	local -A done_keys=()
	printf '# Larder settings, written by scripts/install.sh (root only, mode 0600: it holds the secrets).\n'
	printf '# Re-running the installer keeps these values; flags change them. "sudo larder config" explains each.\n'
	for key in "${KNOWN_KEYS[@]}"; do
		if [[ -v CFG[$key] ]]; then
			printf "%s='%s'\n" "$key" "${CFG[$key]}"
			done_keys[$key]=1
		fi
	done
	while IFS= read -r key; do
		[ -n "$key" ] || continue
		[[ -v done_keys[$key] ]] || printf "%s='%s'\n" "$key" "${CFG[$key]}"
	done < <(printf '%s\n' "${!CFG[@]}" | LC_ALL=C sort)
}

# Say which settings change, naming keys only: values of secrets never reach the screen or a log.
describe_changes() {
	local key
	while IFS= read -r key; do
		[ -n "$key" ] || continue
		if [[ ! -v OLD[$key] ]]; then
			note "$key: set"
		elif [[ ! -v CFG[$key] ]]; then
			note "$key: removed"
		elif [ "${OLD[$key]}" != "${CFG[$key]}" ]; then
			note "$key: changed"
		fi
	done < <(printf '%s\n' "${!OLD[@]}" "${!CFG[@]}" | LC_ALL=C sort -u)
}

# validate_env FILE PYTHON: load the settings the way the daemon will; a bad value stops the install.
validate_env() {
	local file=$1 py=$2 out rc=0
	out=$(env -i PATH=/usr/bin:/bin HOME=/nonexistent LARDER_ENV_FILE="$file" "$py" - 2>&1 <<'EOF'
import sys
try:
    from device.errors import ConfigError
    from device.settings import load_settings
except ImportError as exc:
    print(f"cannot load Larder's settings module ({exc})")
    sys.exit(3)
try:
    load_settings()
except ConfigError as exc:
    print(exc)
    sys.exit(2)
EOF
	) || rc=$?
	case $rc in
	0) ok "settings are valid" ;;
	2) die "the settings are not valid: $out" "fix the flag or the value in $ENV_FILE and run again" ;;
	*) warn "could not check the settings: $out" "the Python environment may be incomplete" ;;
	esac
}

write_config() {
	step "Settings ($ENV_FILE)"
	merge_config
	local rendered
	rendered="$SCRATCH/larder.env"
	(umask 077 && render_env >"$rendered")
	describe_changes
	if [ "$SKIP_VENV" != 1 ] && [ -x "$VENV_PY" ]; then
		validate_env "$rendered" "$VENV_PY"
	fi
	install_file "$rendered" "$ENV_FILE" 600 0 0
	[ "$FILE_CHANGED" = 1 ] && RESTART_NEEDED=1
	return 0
}

# The provisioning code buys device credentials once; a marker (a hash, never the code) remembers it.
provision() {
	local url=${CFG[LARDER_SUPABASE_URL]:-} code=${CFG[LARDER_PROVISIONING_CODE]:-} marker digest out
	step "Device credentials"
	if [ "$NO_PROVISION" = 1 ]; then
		note "skipped (--no-provision or --root)"
		return 0
	fi
	if [ -z "$url" ] || [ -z "$code" ]; then
		note "skipped: needs both a Supabase URL and a provisioning code"
		return 0
	fi
	marker="$DATA_DIR/.provisioned"
	digest=$(printf '%s\n%s\n' "$url" "$code" | sha256sum | cut -d' ' -f1)
	if [ -f "$marker" ] && [ "$(cat "$marker")" = "$digest" ]; then
		ok "already provisioned with this code"
		return 0
	fi
	if [ "$DRY_RUN" = 1 ]; then
		act "exchange the provisioning code for device credentials" true
		return 0
	fi
	CHANGES=$((CHANGES + 1))
	printf '   change: exchange the provisioning code for device credentials\n'
	if out=$("$CLI" provision 2>&1); then
		printf '%s\n' "$digest" >"$marker"
		chown "$SVC_UID:$SVC_GID" "$marker"
		chmod 600 "$marker"
		ok "${out//"$code"/***}"
	else
		warn "provisioning failed: ${out//"$code"/***}" \
			"the code is kept in $ENV_FILE; when the unit is online run: sudo larder provision"
	fi
}
