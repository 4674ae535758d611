# shellcheck shell=bash disable=SC2034  # globals shared with install.sh and the other libs
# Releases side by side, and upgrades that cannot strand a kitchen.
#
# Each release is a folder /opt/larder/releases/<version> (a venv; a rebuild of the same version from other
# files is <version>+<id>); /opt/larder/current points at the running one, /opt/larder/previous at the one
# before it, and /opt/larder/venv at current (the path older units and scripts use). An upgrade:
#   1. takes `larder doctor --json` from the running release (the baseline), stops the service and backs up
#      the store (SQLite's online backup, in /var/lib/larder/backups);
#   2. switches current to the new release, records the way back in /opt/larder/rollback.env, and runs the
#      new release's `larder migrate`;
#   3. starts the service, which must report READY, stay up for --settle seconds, and pass
#      `larder doctor --baseline` (no check failing that passed before).
# Any failure rolls back by itself, as `--rollback` does by hand: stop the service; when the store's schema
# is newer than the previous release reads, set it aside, restore the backup and carry every event journalled
# since into it (the previous release's `larder merge-journal`); else keep the store as it is (the previous
# release reads it, and every event stays). Then current points at the previous release again and it starts.

UPGRADING=0 SETTLE_S=10 SERVICE_OK=1 GATE_RAN=0 BACKUP_FILE=""

release_dir() { printf '%s/%s' "$(at /opt/larder/releases)" "$1"; }

# The release a link points at (releases/NAME -> NAME), or nothing.
link_release() {
	local target
	target=$(readlink "$1" 2>/dev/null) || return 0
	case "$target" in releases/*) printf '%s' "${target#releases/}" ;; esac
}

# The running release: /opt/larder/current, else a venv link from before `current` existed.
current_release() {
	local name
	name=$(link_release "$(at /opt/larder/current)")
	[ -n "$name" ] || name=$(link_release "$(at /opt/larder/venv)")
	printf '%s' "$name"
}

# The version being installed: the bundle's Larder wheel, else device/__init__.py of the source.
install_version() {
	local wheel
	if [ -n "$BUNDLE" ]; then
		wheel=$(find "$BUNDLE/wheels" -maxdepth 1 -name 'larder-*.whl' -printf '%f\n' | head -n 1)
		[ -n "$wheel" ] || die "the bundle $BUNDLE has no Larder wheel" "rebuild it with --make-bundle"
		wheel=${wheel#larder-}
		printf '%s' "${wheel%%-*}"
	else
		sed -n 's/^__version__ *= *"\([^"]*\)".*/\1/p' "$SRC/device/__init__.py"
	fi
}

# release_name VERSION ID: the version, unless a release of that version built from other files is there.
release_name() {
	local version=$1 id=$2 dir
	dir=$(release_dir "$version")
	if [ ! -d "$dir" ] || [ "$(cat "$dir/.larder-id" 2>/dev/null)" = "$id" ]; then
		printf '%s' "$version"
	else
		printf '%s+%s' "$version" "${id:0:8}"
	fi
}

# point LINK NAME: make /opt/larder/LINK a relative symlink to releases/NAME (atomically: a rename).
point() {
	local link
	link=$(at "/opt/larder/$1")
	ln -sfn "releases/$2" "$link.new"
	mv -Tf "$link.new" "$link"
}

# The venv link older units use: /opt/larder/venv -> current.
ensure_venv_link() {
	local link
	link=$(at /opt/larder/venv)
	if [ "$(readlink "$link" 2>/dev/null)" != current ]; then
		act "point $link at current" ln -sfn current "$link"
	fi
}

# The store schema a release reads and writes (empty when it cannot say).
release_schema() {
	(cd / && "$(release_dir "$1")/bin/python" -c \
		'from device.inventory.migrations import SCHEMA_VERSION; print(SCHEMA_VERSION)' 2>/dev/null) || true
}

# The schema version of the store file (0 when there is none).
store_schema() {
	[ -s "$DATA_DIR/larder.db" ] || {
		echo 0
		return 0
	}
	"$PYTHON" -c 'import sqlite3, sys
conn = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
print(conn.execute("PRAGMA user_version").fetchone()[0])' "$DATA_DIR/larder.db"
}

# as_unit RELEASE ARGS...: the release's `larder` with this unit's settings; files it makes go to the user.
as_unit() {
	local rel status=0
	rel=$(release_dir "$1")
	shift
	(cd / && env LARDER_ENV_FILE="$ENV_FILE" LARDER_DATA_DIR="$DATA_DIR" "$rel/bin/larder" "$@") || status=$?
	if [ "$SVC_UID" != 0 ] && [ -d "$DATA_DIR" ]; then chown -R "$SVC_UID:$SVC_GID" "$DATA_DIR"; fi
	return "$status"
}

# sqlite_copy FROM TO: a consistent single-file copy of a store (WAL content included), mode 600.
sqlite_copy() {
	"$PYTHON" - "$1" "$2" <<'EOF' || die "copying the store $1 to $2 failed"
import sqlite3, sys
source = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
target = sqlite3.connect(sys.argv[2])
source.backup(target)
target.execute("PRAGMA journal_mode = DELETE")
target.close()
source.close()
EOF
	chown "$SVC_UID:$SVC_GID" "$2"
	chmod 600 "$2"
}

# backup_store FROM: a copy of the store in DATA_DIR/backups (the last 3 stay); its path in BACKUP_FILE.
backup_store() {
	local dir=$DATA_DIR/backups
	install -d -m 700 -o "$SVC_UID" -g "$SVC_GID" "$dir"
	BACKUP_FILE="$dir/larder-$(date -u +%Y%m%dT%H%M%SZ)-from-$1.db"
	sqlite_copy "$DATA_DIR/larder.db" "$BACKUP_FILE"
	find "$dir" -maxdepth 1 -name 'larder-*.db' -printf '%f\n' | LC_ALL=C sort -r | tail -n +4 |
		while IFS= read -r name; do rm -f -- "${dir:?}/$name"; done
}

guarded() { [ "$NO_SYSTEMCTL" != 1 ] && [ "$DRY_RUN" != 1 ] && systemd_running; }

# Point current at the release built by install_python; on an upgrade, back up and migrate first.
switch_release() {
	[ -n "$PENDING_RELEASE" ] || return 0
	local new=$PENDING_RELEASE old record
	old=$(current_release)
	record=$(at /opt/larder/rollback.env)
	if [ -z "$old" ] || [ ! -d "$(release_dir "$old")" ]; then
		act "make $(at /opt/larder/current) point at release $new" point current "$new"
		ensure_venv_link
		RESTART_NEEDED=1
		return 0
	fi
	step "Upgrading from release $old to $new"
	UPGRADING=1
	if guarded; then
		if [ "$(systemctl show larder.service --property=ActiveState --value)" = activating ]; then
			systemctl start larder.service >/dev/null 2>&1 || true # let a (re)start finish: a steady baseline
		fi
		"$CLI" doctor --json >"$SCRATCH/doctor-before.json" 2>/dev/null || true
		ok "larder doctor of release $old kept as the baseline"
	fi
	[ -s "$SCRATCH/doctor-before.json" ] || echo '[]' >"$SCRATCH/doctor-before.json"
	stop_service_for_upgrade
	BACKUP_FILE=""
	if [ -s "$DATA_DIR/larder.db" ]; then
		act "back up the store before the upgrade" backup_store "$old"
	fi
	if [ "$DRY_RUN" != 1 ]; then
		printf 'FROM=%s\nTO=%s\nBACKUP=%s\n' "$old" "$new" "$BACKUP_FILE" >"$record.new"
		mv -f "$record.new" "$record"
	fi
	act "make $(at /opt/larder/previous) point at release $old" point previous "$old"
	act "make $(at /opt/larder/current) point at release $new" point current "$new"
	ensure_venv_link
	VENV_PY="$(at /opt/larder/current)/bin/python"
	RESTART_NEEDED=1
	if guarded && [ -s "$DATA_DIR/larder.db" ]; then
		as_unit "$new" migrate || rollback "the store migration of release $new failed"
	fi
	local dir name
	for dir in "$(at /opt/larder/releases)"/*; do
		[ -d "$dir" ] || continue
		name=$(basename "$dir")
		if [ "$name" != "$new" ] && [ "$name" != "$old" ]; then remove_path "$dir"; fi
	done
}

# After the service started on an upgrade: READY, still up after SETTLE_S, and no new doctor failure.
verify_upgrade() {
	[ "$UPGRADING" = 1 ] && guarded || return 0
	step "Checking the upgraded release"
	[ "$SERVICE_OK" = 1 ] || rollback "larder.service did not report READY"
	local restarts
	restarts=$(systemctl show larder.service --property=NRestarts --value)
	sleep "$SETTLE_S"
	if ! systemctl -q is-active larder.service ||
		[ "$(systemctl show larder.service --property=NRestarts --value)" != "$restarts" ]; then
		service_failed
		rollback "larder.service stopped or restarted within ${SETTLE_S} s of starting"
	fi
	ok "larder.service is up ${SETTLE_S} s after READY"
	GATE_RAN=1
	if "$CLI" doctor --baseline "$SCRATCH/doctor-before.json"; then
		DOCTOR_OK=1
	else
		rollback "larder doctor found a check failing that passed before the upgrade"
	fi
}

# rollback WHY: back to the previous release and a store it reads, with every event kept; then exit.
rollback() {
	printf '\n   UPGRADE FAILED: %s. Rolling back.\n' "$1" >&2
	restore_previous
	printf '\nRolled back to release %s: the upgrade failed (%s).\n' "$ROLLED_TO" "$1"
	exit 4
}

ROLLED_TO=""
restore_previous() {
	local record from="" to="" backup=""
	record=$(at /opt/larder/rollback.env)
	[ -f "$record" ] || die "there is no upgrade to roll back ($record is missing)" \
		"a rollback undoes the last upgrade, once"
	from=$(sed -n 's/^FROM=//p' "$record")
	to=$(sed -n 's/^TO=//p' "$record")
	backup=$(sed -n 's/^BACKUP=//p' "$record")
	[ -f "$(release_dir "$from")/.larder-complete" ] ||
		die "the previous release $from is not in $(at /opt/larder/releases)" "reinstall it from its bundle"
	step "Rolling back from release $to to $from"
	if [ "$NO_SYSTEMCTL" != 1 ] && systemd_running; then
		systemctl stop larder.service && ok "stopped larder.service"
	fi
	restore_store "$from" "$to" "$backup"
	point previous "$to" # the failed release stays until the next upgrade, for a look at its logs
	point current "$from"
	ok "$(at /opt/larder/current) points at release $from"
	rm -f -- "$record"
	ROLLED_TO=$from
	if [ "$NO_SYSTEMCTL" != 1 ] && systemd_running; then
		if systemctl start larder.service; then ok "larder.service runs release $from"; else service_failed; fi
	fi
}

# restore_store FROM TO BACKUP: a store release FROM reads, holding every event (see the top of this file).
restore_store() {
	local from=$1 to=$2 backup=$3 have reads aside
	have=$(store_schema)
	reads=$(release_schema "$from")
	if [ "$have" = 0 ]; then
		ok "no store yet: nothing to restore"
		return 0
	fi
	if [ -n "$reads" ] && [ "$have" -le "$reads" ]; then
		ok "the store (schema $have) is one release $from reads: kept as it is, every event with it"
		return 0
	fi
	[ -z "$backup" ] || [ -f "$backup" ] ||
		die "the store has schema $have, newer than release $from reads, and its backup $backup is gone" \
			"restore a copy from $DATA_DIR/backups by hand"
	install -d -m 700 -o "$SVC_UID" -g "$SVC_GID" "$DATA_DIR/backups"
	aside="$DATA_DIR/backups/rolled-back-$(date -u +%Y%m%dT%H%M%SZ)-from-$to.db"
	sqlite_copy "$DATA_DIR/larder.db" "$aside"
	ok "the store of release $to (schema $have) is kept as $aside"
	rm -f -- "$DATA_DIR/larder.db" "$DATA_DIR/larder.db-wal" "$DATA_DIR/larder.db-shm"
	if [ -n "$backup" ]; then
		sqlite_copy "$backup" "$DATA_DIR/larder.db"
		ok "restored the store backup $backup"
	else
		ok "there was no store before the upgrade: release $from starts one"
	fi
	if as_unit "$from" merge-journal "$aside"; then
		ok "the events journalled since the backup are back in the store"
	else
		warn "the events journalled by release $to since the backup could not be carried over; they are kept in $aside" \
			"keep that file; sudo larder merge-journal $aside (as a later release) adds them"
	fi
}
