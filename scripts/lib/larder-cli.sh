#!/bin/sh
# The `larder` command, installed by Larder's scripts/install.sh as /usr/local/bin/larder.
# Run as root (sudo larder doctor) it reads the root-only settings in /etc/larder/larder.env itself, then
# hands files it made in /var/lib/larder back to the service user, so the daemon can always open its store.
LARDER=/opt/larder/current/bin/larder
DATA=/var/lib/larder
if [ "$(id -u)" != 0 ]; then
	exec "$LARDER" "$@"
fi
umask 027
status=0
"$LARDER" "$@" || status=$?
if [ -d "$DATA" ] && id larder >/dev/null 2>&1; then
	chown -R --from=0 larder:larder "$DATA" 2>/dev/null || true
fi
exit "$status"
