"""A throwaway target root for scripts/install.sh, and a way to run the installer against it.

The root holds what a fresh image's /etc has for users (passwd, group, shadow, gshadow with root and the
audio group) and a bookworm os-release, so the installer's user creation and OS check run for real inside it.
The installer must run as root (it sets owners); without root or passwordless sudo the tests are skipped.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "scripts" / "install.sh"

_ETC = {
    "passwd": "root:x:0:0:root:/root:/bin/bash\n",
    "group": "root:x:0:\naudio:x:29:\n",
    "shadow": "root:*:19000:0:99999:7:::\n",
    "gshadow": "root:*::\naudio:*::\n",
    "os-release": 'PRETTY_NAME="Raspbian GNU/Linux 12 (bookworm)"\nID=raspbian\nVERSION_CODENAME=bookworm\n',
}


def _as_root() -> list[str]:
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        return ["sudo", "-n", "--preserve-env"]
    pytest.skip("the installer needs root (run the tests as root, or with passwordless sudo)")


def make_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    for name, text in _ETC.items():
        (root / "etc" / name).write_text(text)
    for name in ("shadow", "gshadow"):
        (root / "etc" / name).chmod(0o640)
    return root


def run_install(
    root: Path | None, *args: str, script: Path = INSTALL, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``install.sh --root ROOT ARGS`` with no terminal (no prompts); output captured."""
    command = [*_as_root(), "bash", str(script), *(["--root", str(root)] if root else []), *args]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        timeout=600,
        check=False,
    )


def owner(path: Path) -> tuple[str, int, int]:
    """(octal mode, uid, gid) of a path."""
    st = path.lstat()
    return f"{stat.S_IMODE(st.st_mode):o}", st.st_uid, st.st_gid
