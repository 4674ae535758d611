"""scripts/install.sh against a throwaway root: files, owners and modes; idempotent; upgrade; uninstall.

The root is a temporary folder with its own /etc/passwd and /etc/group (as a chroot has), so the service user
is made there (useradd --prefix) and nothing on this machine changes. These runs skip the Python environment
(--skip-venv); test_appliance_bundle.py builds a real one.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.appliance.appliance_root import INSTALL, REPO, make_root, owner, run_install

SECRETS = {"deepgram": "dg_4b1d9e0c77aa", "supabase": "sb_publishable_Qw3rty", "code": "PROV-5521"}
FIRST = [
    "--site", "Walk-in Kitchen",
    "--deepgram-key", SECRETS["deepgram"],
    "--supabase-url", "https://abc.supabase.co",
    "--supabase-key", SECRETS["supabase"],
    "--provisioning-code", SECRETS["code"],
    "--mic-device", "ReSpeaker",
    "--mic-channel", "0",
    "--confirm-pin", "5",
]  # fmt: skip


def shell_scripts() -> list[Path]:
    scripts = sorted((REPO / "scripts").rglob("*.sh"))
    ci = REPO / ".ci" / "run"
    return [*scripts, ci] if ci.is_file() else scripts


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
@pytest.mark.parametrize("follow", [False, True], ids=["each-file", "following-sources"])
def test_shellcheck_is_clean(follow: bool) -> None:
    scripts = shell_scripts()
    assert INSTALL in scripts
    args = ["shellcheck", *(["-x"] if follow else []), *map(str, scripts)]
    result = subprocess.run(args, capture_output=True, text=True, cwd=REPO, timeout=120, check=False)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


def env_lines(root: Path) -> dict[str, str]:
    text = (root / "etc/larder/larder.env").read_text()
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_install_twice_then_uninstall(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    host_passwd = Path("/etc/passwd").read_text()

    first = run_install(root, "--skip-venv", *FIRST)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Done:" in first.stdout
    for secret in SECRETS.values():
        assert secret not in first.stdout + first.stderr

    uid = int(
        next(
            line.split(":")[2]
            for line in (root / "etc/passwd").read_text().splitlines()
            if line.startswith("larder:")
        )
    )
    groups = {
        line.split(":")[0]: line.split(":")[3] for line in (root / "etc/group").read_text().splitlines()
    }
    assert "larder" in groups["audio"].split(",") and "larder" in groups["gpio"].split(",")
    assert owner(root / "etc/larder/larder.env") == ("600", 0, 0)
    assert owner(root / "etc/larder") == ("700", 0, 0)
    assert owner(root / "var/lib/larder")[:2] == ("750", uid)
    assert owner(root / "etc/systemd/system/larder.service") == ("644", 0, 0)
    assert owner(root / "usr/local/bin/larder") == ("755", 0, 0)
    assert (root / "etc/systemd/system/multi-user.target.wants/larder.service").is_symlink()
    assert (root / "etc/systemd/system/larder.service").read_text() == (
        REPO / "systemd/larder.service"
    ).read_text()
    env = env_lines(root)
    assert env["LARDER_SITE"] == "'Walk-in Kitchen'"
    assert env["LARDER_DEEPGRAM_API_KEY"] == f"'{SECRETS['deepgram']}'"
    assert env["LARDER_DATA_DIR"] == "'/var/lib/larder'"
    assert env["LARDER_CONFIRM_PIN"] == "'5'"
    assert Path("/etc/passwd").read_text() == host_passwd  # this machine's users are untouched

    before = (root / "etc/larder/larder.env").read_bytes()
    second = run_install(root, "--skip-venv")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Nothing changed: Larder is already installed as requested" in second.stdout
    assert "change:" not in second.stdout
    assert (root / "etc/larder/larder.env").read_bytes() == before  # an upgrade keeps the config

    dry = run_install(root, "--skip-venv", "--dry-run", "--site", "Pastry")
    assert dry.returncode == 0 and "LARDER_SITE: changed" in dry.stdout and "would: update" in dry.stdout
    assert (root / "etc/larder/larder.env").read_bytes() == before

    third = run_install(root, "--skip-venv", "--site", "Pastry", "--mic-device", "")
    assert third.returncode == 0 and "Done: 1 change(s)" in third.stdout, third.stdout
    env = env_lines(root)
    assert env["LARDER_SITE"] == "'Pastry'" and "LARDER_MIC_DEVICE" not in env
    assert env["LARDER_SUPABASE_KEY"] == f"'{SECRETS['supabase']}'"

    journal = root / "var/lib/larder/larder.db"
    journal.write_bytes(b"the journal")
    gone = run_install(root, "--uninstall")
    assert gone.returncode == 0, gone.stdout + gone.stderr
    for path in ("opt/larder", "etc/larder", "etc/systemd/system/larder.service", "usr/local/bin/larder"):
        assert not (root / path).exists(), path
    assert not (root / "etc/systemd/system/multi-user.target.wants/larder.service").is_symlink()
    assert journal.read_bytes() == b"the journal"
    assert "Nothing to remove" in run_install(root, "--uninstall").stdout

    again = run_install(root, "--skip-venv", "--yes")
    assert again.returncode == 0 and journal.read_bytes() == b"the journal"
    purge = run_install(root, "--uninstall", "--purge")
    assert purge.returncode == 0, purge.stdout + purge.stderr
    assert not (root / "var/lib/larder").exists()
    assert "larder:" not in (root / "etc/passwd").read_text()


def test_dry_run_on_a_fresh_root_changes_nothing(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    listing = sorted(str(p) for p in root.rglob("*"))
    result = run_install(root, "--skip-venv", "--dry-run", *FIRST)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "would: create system user larder" in result.stdout and "would: write" in result.stdout
    assert sorted(str(p) for p in root.rglob("*")) == listing


def jwt(payload: dict[str, str]) -> str:
    def part(data: dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256'})}.{part(payload)}.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    ("flag", "value", "says"),
    [
        ("--supabase-key", jwt({"role": "service_role", "iss": "supabase"}), "service_role"),
        ("--supabase-key", "sb_secret_abcdef", "service_role"),
        ("--site", "Joe's", "quote"),
        ("--bogus", "1", "unknown option"),
    ],
)
def test_bad_input_stops_before_any_change(tmp_path: Path, flag: str, value: str, says: str) -> None:
    root = make_root(tmp_path)
    result = run_install(root, "--skip-venv", flag, value)
    assert result.returncode in (1, 2)
    assert says in result.stderr
    assert not (root / "etc/larder").exists()
    assert value not in result.stdout + result.stderr or flag in ("--site", "--bogus")


def test_upgrade_and_rollback_need_an_install_to_act_on(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    upgrade = run_install(root, "--skip-venv", "--upgrade")
    assert upgrade.returncode == 1 and "Larder is not installed here" in upgrade.stderr
    rollback = run_install(root, "--rollback")
    assert rollback.returncode == 1 and "there is no upgrade to roll back" in rollback.stderr
    assert not (root / "opt").exists() and not (root / "etc/larder").exists()
    settle = run_install(root, "--skip-venv", "--settle", "soon")
    assert settle.returncode == 2 and "--settle takes whole seconds" in settle.stderr


def test_the_anon_key_is_accepted(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    anon = jwt({"role": "anon", "iss": "supabase"})
    result = run_install(root, "--skip-venv", "--supabase-key", anon)
    assert result.returncode == 0, result.stderr
    assert env_lines(root)["LARDER_SUPABASE_KEY"] == f"'{anon}'"


def test_help_and_non_root_refusal() -> None:
    help_text = subprocess.run(
        ["bash", str(INSTALL), "--help"], capture_output=True, text=True, check=True
    ).stdout
    for flag in (
        "--dry-run",
        "--uninstall",
        "--purge",
        "--bundle",
        "--make-bundle",
        "--upgrade",
        "--rollback",
        "--settle",
        "--root",
        "--skip-venv",
    ):
        assert flag in help_text
    if os.geteuid() == 0:
        return
    result = subprocess.run(["bash", str(INSTALL)], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert result.returncode == 1 and "run me as root" in result.stderr
