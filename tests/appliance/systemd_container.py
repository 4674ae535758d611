"""A systemd-capable container on this machine: systemd as PID 1 over an overlay of this machine's root.

``unshare`` makes new PID, mount, UTS, IPC and cgroup namespaces; inside, this machine's root is the lower
layer of an overlay whose writes go to a tmpfs (so /etc, /usr/local and /var change only in the container),
/opt/larder is a folder of the test's (on disk: releases are large), a folder of this machine's is shared
read-only at /srv/share (the container's /tmp is its own), and ``chroot`` starts systemd as PID 1, up to
basic.target (this machine's other services, a database server say, stay off).
Commands run inside with ``nsenter``. Killing PID 1 ends the container, its mounts and every process in it.
Needs root, unshare, nsenter, overlayfs and systemd; ``available()`` says why not when one is missing.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

_BOOT = r"""set -eu
work=$1 opt=$2 share=$3
mount -t tmpfs -o size=3g,mode=0755 tmpfs "$work/layer"
mkdir "$work/layer/upper" "$work/layer/work"
mount -t overlay overlay -o "lowerdir=/,upperdir=$work/layer/upper,workdir=$work/layer/work" "$work/root"
root=$work/root
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=0755 tmpfs "$root/run"
mkdir -p "$root/opt/larder"
mount --bind "$opt" "$root/opt/larder"
mkdir -p "$root/srv/share"
mount --bind "$share" "$root/srv/share"
mount -o remount,bind,ro "$root/srv/share"
exec chroot "$root" /usr/bin/env -i container=larder-test /lib/systemd/systemd --unit=basic.target
"""

_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def available() -> str | None:
    """Why a container cannot run here, or None when it can."""
    if os.geteuid() != 0:
        return "needs root"
    for tool in ("unshare", "nsenter", "chroot"):
        if shutil.which(tool) is None:
            return f"needs {tool}"
    if not Path("/lib/systemd/systemd").exists():
        return "needs systemd (apt-get install systemd)"
    if "overlay" not in Path("/proc/filesystems").read_text():
        return "needs overlayfs"
    return None


class Container:
    """One booted container; ``run`` a command inside, ``path`` a file inside as seen from here."""

    SHARE = Path("/srv/share")

    def __init__(self, work: Path, share: Path) -> None:
        self.work = work
        self.opt = work / "opt-larder"
        for name in ("layer", "root"):
            (work / name).mkdir(parents=True, exist_ok=True)
        self.opt.mkdir(exist_ok=True)
        script = work / "boot.sh"
        script.write_text(_BOOT)
        self._log = (work / "boot.log").open("wb")
        self._unshare = subprocess.Popen(
            ["unshare", "--pid", "--fork", "--kill-child", "--mount", "--uts", "--ipc", "--cgroup",
             "--propagation", "private",
             "bash", str(script), str(work), str(self.opt), str(share)],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.pid = 0
        try:
            self.pid = self._init_pid()
            self._wait_booted()
        except BaseException:
            self.close()
            raise

    def _init_pid(self) -> int:
        deadline = time.monotonic() + 30
        children = Path(f"/proc/{self._unshare.pid}/task/{self._unshare.pid}/children")
        while time.monotonic() < deadline:
            if self._unshare.poll() is not None:
                raise RuntimeError(f"the container did not start: {(self.work / 'boot.log').read_text()}")
            found = children.read_text().split() if children.exists() else []
            if found and Path(f"/proc/{found[0]}/exe").resolve().name == "systemd":
                return int(found[0])
            time.sleep(0.1)
        raise RuntimeError(f"systemd did not start: {(self.work / 'boot.log').read_text()}")

    def _wait_booted(self) -> None:
        deadline = time.monotonic() + 120
        state = ""
        while time.monotonic() < deadline:
            state = self.run("systemctl", "is-system-running", check=False).stdout.strip()
            if state in ("running", "degraded"):
                return
            time.sleep(0.5)
        raise RuntimeError(f"the container's systemd did not finish booting (state {state!r})")

    def run(
        self, *command: str, check: bool = True, timeout: float = 900
    ) -> subprocess.CompletedProcess[str]:
        """``command`` inside the container, as root, with a plain environment; output captured."""
        result = subprocess.run(
            ["nsenter", "-t", str(self.pid), "-a", "-r", "-w",
             "env", "-i", f"PATH={_PATH}", "HOME=/root", "LANG=C.UTF-8", *command],
            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=timeout, check=False,
        )  # fmt: skip
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
            )
        return result

    def path(self, inside: str) -> Path:
        """A path inside the container, reachable from this machine through PID 1's root."""
        return Path(f"/proc/{self.pid}/root") / inside.lstrip("/")

    def close(self) -> None:
        if self.pid:
            os.kill(self.pid, signal.SIGKILL)  # PID 1 gone: the kernel ends every process in the container
        else:
            self._unshare.kill()  # --kill-child takes PID 1 with it
        self._unshare.wait(timeout=60)
        self._log.close()
