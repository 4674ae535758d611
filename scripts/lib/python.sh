# shellcheck shell=bash disable=SC2034  # globals shared with install.sh and the other libs
# The locked Python environment under /opt/larder, and offline bundles.
#
# Each build is a release folder /opt/larder/releases/<id> (a venv; <id> hashes the Python, the lock and the
# Larder source or bundle), and /opt/larder/venv is a relative symlink to the current one. A build that fails
# leaves the running release alone; an unchanged id means nothing to do. The previous release is kept.

# The lock to install: --lock, else the bundle's, else requirements-runtime.lock, else requirements.lock.
pick_lock() {
	if [ -n "$LOCK" ]; then
		:
	elif [ -n "$BUNDLE" ]; then
		LOCK="$BUNDLE/requirements.lock"
	elif [ -f "$SRC/requirements-runtime.lock" ]; then
		LOCK="$SRC/requirements-runtime.lock"
	else
		LOCK="$SRC/requirements.lock"
		note "requirements-runtime.lock not found: using requirements.lock (it includes the dev tools)"
	fi
	[ -r "$LOCK" ] || die "cannot read the lock file $LOCK"
}

# Files that make up the Larder package, relative to SRC (given as extra names: more files to list).
source_files() {
	local name
	local -a present=()
	for name in pyproject.toml README.md device cloud_sync models "$@"; do
		if [ -e "$SRC/$name" ]; then present+=("$name"); fi
	done
	(cd "$SRC" && find "${present[@]}" -type f ! -name '*.pyc' ! -path '*/__pycache__/*' | LC_ALL=C sort)
}

release_id() {
	{
		"$PYTHON" -c 'import sys; print(sys.version)'
		cat "$LOCK"
		if [ -n "$BUNDLE" ]; then
			(cd "$BUNDLE/wheels" && find . -maxdepth 1 -name '*.whl' -printf '%f %s\n' | LC_ALL=C sort &&
				sha256sum larder-*.whl)
		else
			(cd "$SRC" && source_files | xargs -d '\n' sha256sum)
		fi
		if [ "$NO_MODELS" = 1 ]; then echo "no-models"; fi
	} | sha256sum | cut -c1-16
}

# copy_source DEST: the files setuptools needs to build the Larder wheel (a clean copy: no build/ litter).
copy_source() {
	local dest=$1
	if grep -q '^readme *= *"README.md"' "$SRC/pyproject.toml" && [ ! -f "$SRC/README.md" ]; then
		die "$SRC/README.md is missing, and pyproject.toml names it" "restore README.md in the source tree"
	fi
	mkdir -p "$dest"
	(cd "$SRC" && source_files | xargs -d '\n' cp --parents -t "$dest")
}

pip_in() { "$1/bin/python" -m pip --disable-pip-version-check --no-input "${@:2}"; }

build_release() {
	local rel=$1 tmp
	tmp=$SCRATCH
	rm -rf -- "$rel"
	"$PYTHON" -m venv "$rel" || die "cannot create a Python environment in $rel" "install python3-venv"
	if [ -n "$BUNDLE" ]; then
		pip_in "$rel" install --no-index --find-links "$BUNDLE/wheels" --require-hashes -r "$LOCK" ||
			die "installing the locked packages from $BUNDLE/wheels failed" "rebuild the bundle with --make-bundle"
		pip_in "$rel" install --no-index --find-links "$BUNDLE/wheels" --no-deps larder ||
			die "the bundle has no Larder wheel" "rebuild the bundle with --make-bundle"
	else
		pip_in "$rel" install --require-hashes -r "$LOCK" ||
			die "installing the locked packages failed" "check the network, or install from a bundle (--bundle)"
		copy_source "$tmp/src"
		pip_in "$rel" wheel --quiet --no-deps -w "$tmp/wheel" "$tmp/src" || die "building the Larder wheel failed"
		pip_in "$rel" install --no-deps "$tmp"/wheel/larder-*.whl || die "installing the Larder wheel failed"
	fi
	verify_models "$rel"
	touch "$rel/.larder-complete"
}

# Check every installed model package's files against models/manifest.json (models/prepare.py --verify).
verify_models() {
	local rel=$1
	if [ "$NO_MODELS" = 1 ]; then
		note "model check skipped (--no-models)"
	elif [ ! -f "$SRC/models/prepare.py" ]; then
		note "this source has no models/prepare.py: models are used as their packages ship them"
	else
		(cd / && "$rel/bin/python" -m models.prepare --verify) ||
			die "a model file is missing or damaged (see above)" "reinstall, or rebuild the bundle"
	fi
}

# Join the split Whisper base model into /var/lib/larder/models when the settings ask for it.
prepare_models() {
	local out
	[ "${CFG[LARDER_WHISPER_MODEL]:-}" = base ] || return 0
	step "Whisper base model"
	if [ "$NO_MODELS" = 1 ] || [ "$SKIP_VENV" = 1 ] || [ ! -f "$SRC/models/prepare.py" ]; then
		note "skipped"
		return 0
	fi
	if [ "$DRY_RUN" = 1 ]; then
		note "would join it into $DATA_DIR/models unless it is there already"
		return 0
	fi
	out=$(cd / && "$VENV_PY" -m models.prepare --models-dir "$DATA_DIR/models" 2>&1) ||
		die "preparing the Whisper base model failed: $out" "install its packages, or set --set WHISPER_MODEL=tiny.en"
	if [[ "$out" == *"joined into"* ]]; then
		CHANGES=$((CHANGES + 1))
		printf '   change: %s\n' "$out"
	else
		ok "$out"
	fi
	if [ "$SVC_UID" != 0 ]; then chown -R "$SVC_UID:$SVC_GID" "$DATA_DIR/models"; fi
}

install_python() {
	step "Python environment ($(at /opt/larder/venv))"
	if [ "$SKIP_VENV" = 1 ]; then
		note "skipped (--skip-venv)"
		return 0
	fi
	pick_lock
	local id rel link current
	id=$(release_id)
	rel=$(at "/opt/larder/releases/$id")
	link=$(at /opt/larder/venv)
	current=$(readlink "$link" 2>/dev/null || true)
	if [ "$current" = "releases/$id" ] && [ -f "$rel/.larder-complete" ]; then
		ok "release $id is current"
		VENV_PY="$link/bin/python"
		return 0
	fi
	if [ -f "$rel/.larder-complete" ]; then
		ok "release $id is already built"
	else
		act "build release $id from $(basename "$LOCK")${BUNDLE:+ (offline, from $BUNDLE)}" build_release "$rel"
	fi
	if [ "$DRY_RUN" != 1 ]; then VENV_PY="$rel/bin/python"; fi
	PENDING_RELEASE=$id
}

# Point /opt/larder/venv at the new release (after a backup of the store), then drop all but two releases.
switch_release() {
	[ -n "$PENDING_RELEASE" ] || return 0
	local id=$PENDING_RELEASE link old
	link=$(at /opt/larder/venv)
	old=$(readlink "$link" 2>/dev/null || true)
	if [ -n "$old" ] && [ -f "$DATA_DIR/larder.db" ]; then
		stop_service_for_upgrade
		act "back up the store before the upgrade" backup_store "${old#releases/}"
	fi
	act "switch $link to release $id" ln -sfn "releases/$id" "$link"
	VENV_PY="$link/bin/python"
	RESTART_NEEDED=1
	local dir name
	for dir in "$(at /opt/larder/releases)"/*; do
		[ -d "$dir" ] || continue
		name=$(basename "$dir")
		if [ "releases/$name" != "releases/$id" ] && [ "releases/$name" != "$old" ]; then
			remove_path "$dir"
		fi
	done
}

# A consistent copy of the store (SQLite's online backup), kept in DATA_DIR/backups; the last 3 stay.
backup_store() {
	local from=$1 dir stamp
	dir="$DATA_DIR/backups"
	stamp=$(date -u +%Y%m%dT%H%M%SZ)
	install -d -m 700 -o "$SVC_UID" -g "$SVC_GID" "$dir"
	"$PYTHON" - "$DATA_DIR/larder.db" "$dir/larder-$stamp-from-$from.db" <<'EOF' || die "backing up the store failed"
import sqlite3, sys
source = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
target = sqlite3.connect(sys.argv[2])
source.backup(target)
target.close()
source.close()
EOF
	chown "$SVC_UID:$SVC_GID" "$dir"/larder-*.db
	chmod 600 "$dir"/larder-*.db
	find "$dir" -maxdepth 1 -name 'larder-*.db' -printf '%f\n' | LC_ALL=C sort -r | tail -n +4 |
		while IFS= read -r name; do rm -f -- "${dir:?}/$name"; done
}

# --make-bundle DIR: everything an offline install needs (wheels for the Pi, the Larder wheel, this source).
make_bundle() {
	local dir=$1 tmp pip_venv minor
	local -a platform=()
	step "Making an offline bundle in $dir (for $BUNDLE_PLATFORM)"
	pick_lock
	tmp=$SCRATCH
	mkdir -p "$dir/wheels"
	cp "$LOCK" "$dir/requirements.lock"
	pip_venv="$tmp/pip"
	"$PYTHON" -m venv "$pip_venv" || die "cannot create a Python environment" "install python3-venv"
	if [ "$BUNDLE_PLATFORM" = aarch64 ]; then
		platform=(--only-binary=:all: --implementation cp --python-version 3.11 --abi cp311 --abi abi3 --abi none
			--platform manylinux2014_aarch64 --platform linux_aarch64)
		for minor in $(seq 17 36); do platform+=(--platform "manylinux_2_${minor}_aarch64"); done
	fi
	pip_in "$pip_venv" download --no-deps --require-hashes -r "$dir/requirements.lock" -d "$dir/wheels" \
		"${platform[@]}" || die "downloading the locked wheels failed" \
		"a package may have no wheel for $BUNDLE_PLATFORM; run --make-bundle on the Pi itself (with --platform native)"
	copy_source "$tmp/src"
	rm -f "$dir"/wheels/larder-*.whl
	pip_in "$pip_venv" wheel --quiet --no-deps -w "$dir/wheels" "$tmp/src" || die "building the Larder wheel failed"
	rm -rf -- "$dir/source"
	mkdir -p "$dir/source"
	(cd "$SRC" && source_files scripts systemd requirements.lock requirements-runtime.lock |
		xargs -d '\n' cp --parents -t "$dir/source")
	printf 'platform=%s\ncreated=%s\nlock=%s\n' "$BUNDLE_PLATFORM" "$(date -u +%FT%TZ)" "$(basename "$LOCK")" \
		>"$dir/BUNDLE"
	printf '\nBundle ready: %s (%s wheels).\nOn the unit: sudo %s/source/scripts/install.sh --bundle %s\n' \
		"$dir" "$(find "$dir/wheels" -name '*.whl' | wc -l)" "$dir" "$dir"
}
