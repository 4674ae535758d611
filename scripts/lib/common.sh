# shellcheck shell=bash disable=SC2034  # globals shared with install.sh and the other libs
# Output, change tracking and idempotent file helpers shared by install.sh's steps.
#
# Every step compares what is there with what should be there and calls `act` only for a difference, so
# a second run makes no change and says so. In a dry run `act` prints what it would do and runs nothing.

CHANGES=0
PROBLEMS=0
DRY_RUN=${DRY_RUN:-0}
ROOT=${ROOT:-}

step() { printf '\n== %s\n' "$*"; }
ok() { printf '   ok: %s\n' "$*"; }
note() { printf '   note: %s\n' "$*"; }
warn() {
	printf '   WARNING: %s\n' "$1" >&2
	if [ -n "${2:-}" ]; then printf '   hint: %s\n' "$2" >&2; fi
	PROBLEMS=$((PROBLEMS + 1))
}
die() {
	printf 'install.sh: error: %s\n' "$1" >&2
	if [ -n "${2:-}" ]; then printf '  hint: %s\n' "$2" >&2; fi
	exit 1
}

# act DESCRIPTION COMMAND...: make one change (or, in a dry run, say what would change).
act() {
	local what=$1
	shift
	CHANGES=$((CHANGES + 1))
	if [ "$DRY_RUN" = 1 ]; then
		printf '   would: %s\n' "$what"
		return 0
	fi
	printf '   change: %s\n' "$what"
	"$@"
}

have() { command -v "$1" >/dev/null 2>&1; }

# The target path for an absolute system path: under --root DIR it is DIR/path.
at() { printf '%s%s' "$ROOT" "$1"; }

# uid_of NAME / gid_of NAME: numeric ids in the target system (its own /etc files under --root).
uid_of() {
	if [ -n "$ROOT" ]; then
		awk -F: -v n="$1" '$1 == n { print $3; exit }' "$ROOT/etc/passwd" 2>/dev/null
	else
		getent passwd "$1" | cut -d: -f3
	fi
}
gid_of() {
	if [ -n "$ROOT" ]; then
		awk -F: -v n="$1" '$1 == n { print $3; exit }' "$ROOT/etc/group" 2>/dev/null
	else
		getent group "$1" | cut -d: -f3
	fi
}

# "mode uid gid" of a path, e.g. "600 0 0".
perms_of() { stat -c '%a %u %g' "$1" 2>/dev/null; }

# ensure_dir PATH MODE UID GID
ensure_dir() {
	local path=$1 mode=$2 uid=$3 gid=$4
	if [ ! -d "$path" ]; then
		act "create $path (mode $mode, owner $uid:$gid)" install -d -m "$mode" -o "$uid" -g "$gid" "$path"
	elif [ "$(perms_of "$path")" != "$mode $uid $gid" ]; then
		act "set $path to mode $mode, owner $uid:$gid" _set_perms "$path" "$mode" "$uid" "$gid"
	else
		ok "$path"
	fi
}

_set_perms() {
	chown "$3:$4" "$1"
	chmod "$2" "$1"
}

# install_file SOURCE DEST MODE UID GID: copy when the content differs, fix mode/owner when they differ.
# Sets FILE_CHANGED to 1 when DEST changed (or would change), else 0.
FILE_CHANGED=0
install_file() {
	local src=$1 dest=$2 mode=$3 uid=$4 gid=$5 verb=write
	FILE_CHANGED=1
	if [ -f "$dest" ] && cmp -s "$src" "$dest"; then
		if [ "$(perms_of "$dest")" = "$mode $uid $gid" ]; then
			ok "$dest"
			FILE_CHANGED=0
		else
			act "set $dest to mode $mode, owner $uid:$gid" _set_perms "$dest" "$mode" "$uid" "$gid"
		fi
		return 0
	fi
	[ -e "$dest" ] && verb=update
	act "$verb $dest" _replace_file "$src" "$dest" "$mode" "$uid" "$gid"
}

# Write a file atomically: a temporary sibling with the final mode and owner, then rename over.
_replace_file() {
	local src=$1 dest=$2 mode=$3 uid=$4 gid=$5 tmp
	tmp=$(mktemp "$dest.XXXXXX")
	chmod 600 "$tmp"
	cat "$src" >"$tmp"
	chown "$uid:$gid" "$tmp"
	chmod "$mode" "$tmp"
	mv -f "$tmp" "$dest"
}

# remove_path PATH: delete a file or folder if it is there.
remove_path() {
	if [ -e "$1" ] || [ -L "$1" ]; then
		act "remove $1" rm -rf -- "$1"
	fi
}

# A scratch folder, removed at exit: make_scratch runs once in the main shell (not in a $(...) subshell).
SCRATCH=""
make_scratch() {
	SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/larder-install.XXXXXX")
	chmod 700 "$SCRATCH"
	trap 'rm -rf -- "$SCRATCH"' EXIT
}
