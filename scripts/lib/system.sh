# shellcheck shell=bash disable=SC2034  # globals shared with install.sh and the other libs
# The system side of the install: OS and hardware checks, apt packages, the service user, folders, the unit,
# the `larder` command, systemctl, and --uninstall.

APT_PACKAGES=(python3 python3-venv libportaudio2 alsa-utils ca-certificates)
SERVICE_USER=larder
SERVICE_GROUPS=(audio gpio)

os_field() { awk -F= -v k="$1" '$1 == k { gsub(/"/, "", $2); print $2 }' "$2"; }

check_platform() {
	step "Checking the system"
	local release codename distro arch model
	release=$(at /etc/os-release)
	if [ -r "$release" ]; then
		codename=$(os_field VERSION_CODENAME "$release")
		distro=$(os_field ID "$release")
		if [ "$codename" = bookworm ]; then
			ok "$distro $codename"
		elif [ "$FORCE" = 1 ]; then
			warn "this is $distro ${codename:-unknown}, not bookworm; carrying on (--force)"
		else
			die "this is $distro ${codename:-unknown}; Larder is built for Raspberry Pi OS Lite bookworm" \
				"use a bookworm image, or --force to try anyway"
		fi
	else
		note "no $release: OS check skipped"
	fi
	if [ -n "$ROOT" ]; then
		note "hardware checks skipped: installing into $ROOT"
	else
		arch=$(uname -m)
		if [ "$arch" = aarch64 ]; then
			ok "64-bit ARM ($arch)"
		elif [ "$FORCE" = 1 ]; then
			warn "this machine is $arch, not aarch64; carrying on (--force)"
		else
			die "this machine is $arch; Larder's locked wheels are for 64-bit ARM (aarch64)" \
				"flash the 64-bit Raspberry Pi OS Lite, or --force to try anyway"
		fi
		model=$(tr -d '\0' </proc/device-tree/model 2>/dev/null || true)
		case "$model" in
		"Raspberry Pi"*) ok "$model" ;;
		*) note "not a Raspberry Pi (${model:-no device-tree model}): buttons and LEDs may not work" ;;
		esac
		check_space
	fi
}

check_space() {
	local free_mb
	free_mb=$(df -Pm "$(at /opt)" 2>/dev/null | awk 'NR == 2 { print $4 }')
	if [ -n "$free_mb" ] && [ "$free_mb" -lt 1500 ]; then
		warn "only ${free_mb} MB free for /opt: the Python environment needs about 1.5 GB" "free some space"
	fi
}

check_python() {
	if [ "$SKIP_VENV" = 1 ] && [ -z "$MAKE_BUNDLE" ]; then return 0; fi
	if ! have "$PYTHON" && [ "$NO_APT" != 1 ]; then
		return 0 # apt installs python3 next; checked again before the venv is made
	fi
	local version
	version=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) ||
		die "cannot run $PYTHON" "install python3, or point --python at a Python 3.11"
	case "$version" in
	3.1[1-9]) ok "Python $version ($PYTHON)" ;;
	*) die "Python $version is too old: Larder needs 3.11" "use bookworm's python3, or --python PATH" ;;
	esac
}

# --- apt ----------------------------------------------------------------------------------------------------
missing_packages() {
	local pkg
	for pkg in "${APT_PACKAGES[@]}"; do
		if [ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" != installed ]; then
			printf '%s\n' "$pkg"
		fi
	done
}

install_packages() {
	step "System packages"
	if [ "$NO_APT" = 1 ]; then
		note "skipped (--no-apt or --root)"
		return 0
	fi
	local -a missing
	mapfile -t missing < <(missing_packages)
	if [ "${#missing[@]}" -eq 0 ]; then
		ok "${APT_PACKAGES[*]}"
		return 0
	fi
	if [ -n "$BUNDLE" ]; then
		local -a debs=("$BUNDLE"/debs/*.deb)
		[ -e "${debs[0]}" ] || die "missing packages: ${missing[*]}, and no $BUNDLE/debs to install them from" \
			"on a bookworm arm64 machine run: apt-get download ${missing[*]} (and their dependencies) into $BUNDLE/debs"
		act "install ${missing[*]} from $BUNDLE/debs" env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y --no-download --no-install-recommends "${debs[@]}"
		return 0
	fi
	act "apt-get update" env DEBIAN_FRONTEND=noninteractive apt-get update -q
	act "install ${missing[*]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# --- the service user ---------------------------------------------------------------------------------------
prefix_args() { if [ -n "$ROOT" ]; then printf '%s\n' --prefix "$ROOT"; fi; }

in_group() {
	local file
	file=$(at /etc/group)
	awk -F: -v g="$2" -v u="$1" '$1 == g { n = split($4, m, ","); for (i = 1; i <= n; i++) if (m[i] == u) f = 1 }
		END { exit !f }' "$file"
}

ensure_user() {
	step "Service user ($SERVICE_USER)"
	if [ "$NO_USER" = 1 ]; then
		note "skipped (--no-user): files stay owned by root"
		SVC_UID=0 SVC_GID=0
		return 0
	fi
	if [ -n "$ROOT" ] && [ ! -f "$ROOT/etc/passwd" ]; then
		die "$ROOT/etc/passwd does not exist, so the service user cannot be made there" \
			"install into a root with /etc/passwd and /etc/group (a chroot), or pass --no-user"
	fi
	local -a prefix
	mapfile -t prefix < <(prefix_args)
	local group missing=()
	for group in "${SERVICE_GROUPS[@]}"; do
		if [ -z "$(gid_of "$group")" ]; then
			act "create group $group" groupadd "${prefix[@]}" --system "$group"
		fi
	done
	if [ -z "$(uid_of "$SERVICE_USER")" ]; then
		act "create system user $SERVICE_USER (groups ${SERVICE_GROUPS[*]})" useradd "${prefix[@]}" --system \
			--user-group --groups "$(
				IFS=,
				echo "${SERVICE_GROUPS[*]}"
			)" --home-dir /var/lib/larder --no-create-home --shell /usr/sbin/nologin \
			--comment "Larder voice inventory" "$SERVICE_USER"
	else
		for group in "${SERVICE_GROUPS[@]}"; do
			in_group "$SERVICE_USER" "$group" || missing+=("$group")
		done
		if [ "${#missing[@]}" -gt 0 ]; then
			act "add $SERVICE_USER to ${missing[*]}" usermod "${prefix[@]}" -a -G "$(
				IFS=,
				echo "${missing[*]}"
			)" "$SERVICE_USER"
		else
			ok "$SERVICE_USER in ${SERVICE_GROUPS[*]}"
		fi
	fi
	SVC_UID=$(uid_of "$SERVICE_USER")
	SVC_GID=$(gid_of "$SERVICE_USER")
	if [ -z "$SVC_UID" ]; then # only in a dry run: the user would be made
		SVC_UID=$SERVICE_USER SVC_GID=$SERVICE_USER
	fi
}

# --- folders, unit, command ---------------------------------------------------------------------------------
ensure_parent() { if [ ! -d "$1" ]; then act "create $1" mkdir -p "$1"; fi; }

ensure_layout() {
	step "Folders"
	local parent
	for parent in /opt /etc /var/lib /etc/systemd/system /usr/local/bin; do ensure_parent "$(at "$parent")"; done
	ensure_dir "$(at /opt/larder)" 755 0 0
	ensure_dir "$(at /etc/larder)" 700 0 0
	ensure_dir "$DATA_DIR" 750 "$SVC_UID" "$SVC_GID"
}

install_unit() {
	step "systemd unit and the larder command"
	install_file "$SRC/systemd/larder.service" "$UNIT_FILE" 644 0 0
	UNIT_CHANGED=$FILE_CHANGED
	[ "$UNIT_CHANGED" = 1 ] && RESTART_NEEDED=1
	install_file "$SRC/scripts/lib/larder-cli.sh" "$(at /usr/local/bin/larder)" 755 0 0
	return 0
}

systemd_running() { [ -z "$ROOT" ] && [ -d /run/systemd/system ]; }

# Stop the service, also when it is starting or waiting to restart (else it could start again mid-upgrade).
stop_service_for_upgrade() {
	local state
	if [ "$NO_SYSTEMCTL" != 1 ] && systemd_running; then
		state=$(systemctl show larder.service --property=ActiveState --value 2>/dev/null || true)
		case "$state" in
		"" | inactive | failed) ;;
		*) act "stop larder.service ($state) for the upgrade" systemctl stop larder.service ;;
		esac
	fi
}

start_service() {
	step "Service"
	if [ "$NO_SYSTEMCTL" = 1 ]; then
		note "skipped (--no-systemctl)"
		return 0
	fi
	local -a sc=(systemctl)
	if [ -n "$ROOT" ]; then sc=(systemctl "--root=$ROOT"); fi
	if ! systemd_running && [ -z "$ROOT" ]; then
		warn "systemd is not running here: the unit is enabled but not started" "reboot, or start it by hand"
	fi
	if systemd_running && [ "$UNIT_CHANGED" = 1 ]; then act "reload systemd" systemctl daemon-reload; fi
	if "${sc[@]}" -q is-enabled larder.service 2>/dev/null; then
		ok "larder.service is enabled"
	else
		act "enable larder.service" "${sc[@]}" -q enable larder.service
	fi
	systemd_running || return 0
	if systemctl -q is-active larder.service; then
		if [ "$RESTART_NEEDED" = 1 ]; then
			act "restart larder.service" systemctl restart larder.service || service_failed
		else
			ok "larder.service is running"
		fi
	else
		act "start larder.service (waits until it reports ready)" systemctl start larder.service || service_failed
	fi
}

service_failed() {
	SERVICE_OK=0
	warn "larder.service did not start; its last log lines:" "sudo journalctl -u larder -e"
	journalctl -u larder.service -n 20 --no-pager -q 2>/dev/null | sed 's/^/     /' >&2 || true
}

run_doctor() {
	[ "$GATE_RAN" = 1 ] && return 0 # the upgrade's check ran it
	step "larder doctor"
	if [ "$NO_DOCTOR" = 1 ] || [ "$DRY_RUN" = 1 ]; then
		note "skipped"
		return 0
	fi
	if "$CLI" doctor; then
		DOCTOR_OK=1
	else
		DOCTOR_OK=0
		printf '\n   larder doctor found problems (above). Fix them, then run: sudo larder doctor\n'
	fi
}

# --- uninstall ----------------------------------------------------------------------------------------------
uninstall() {
	if [ "$PURGE" = 1 ]; then step "Removing Larder and its data"; else step "Removing Larder"; fi
	if [ "$NO_SYSTEMCTL" != 1 ]; then
		if systemd_running && systemctl -q is-active larder.service; then
			act "stop larder.service" systemctl stop larder.service
		fi
		local -a sc=(systemctl)
		if [ -n "$ROOT" ]; then sc=(systemctl "--root=$ROOT"); fi
		if [ -f "$UNIT_FILE" ] && "${sc[@]}" -q is-enabled larder.service 2>/dev/null; then
			act "disable larder.service" "${sc[@]}" -q disable larder.service
		fi
	fi
	remove_path "$UNIT_FILE"
	remove_path "$UNIT_FILE.d"
	if [ "$CHANGES" -gt 0 ] && [ "$NO_SYSTEMCTL" != 1 ] && systemd_running; then
		act "reload systemd" systemctl daemon-reload
	fi
	remove_path "$(at /usr/local/bin/larder)"
	remove_path "$(at /opt/larder)"
	remove_path "$(at /etc/larder)"
	if [ "$PURGE" = 1 ]; then
		remove_path "$DATA_DIR"
		if [ "$NO_USER" != 1 ] && [ -n "$(uid_of "$SERVICE_USER")" ]; then
			local -a prefix
			mapfile -t prefix < <(prefix_args)
			act "delete user $SERVICE_USER" userdel "${prefix[@]}" "$SERVICE_USER"
		fi
	elif [ -d "$DATA_DIR" ]; then
		note "kept $DATA_DIR (the journal, store and credentials) and the $SERVICE_USER user; --purge removes them"
	fi
}
