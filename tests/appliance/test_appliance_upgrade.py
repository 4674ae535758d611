"""Upgrades that cannot strand a kitchen, end to end: systemd in a container, the real installer and daemon.

Version A (this source) is installed from a bundle and runs, journalling the demo recording's commands over
and over (a drop-in makes it read the recording at speaking pace instead of a microphone, and start again
when it ends). Then two builds of a version B, each with a store migration A does not know:
  - a broken B: its `larder doctor` fails a check A passes. The installer backs up the store, migrates it,
    starts B (which journals more commands), sees the failure and rolls back to A by itself: A runs again
    on the backup with every event B journalled carried over, and B's migrated store kept aside;
  - a good B: the upgrade holds, and the journal holds every event from before.
Then `--rollback` by hand takes the unit back to A once more, again without losing an event.

The bundles are made offline (`--make-bundle --platform native`) from wheels repacked from this venv (no
package index is reached). Slow: three Python environments of ~870 MB are built (8 minutes at a load of 10 on
2 cores); LARDER_TEST_UPGRADE=0 skips it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

from device import __version__
from tests.appliance.appliance_root import REPO, run_install
from tests.appliance.appliance_wheels import hashed_lock, rewheel
from tests.appliance.systemd_container import Container, available

why_not = available()
if os.environ.get("LARDER_TEST_UPGRADE") == "0":
    why_not = "is turned off (LARDER_TEST_UPGRADE=0)"
pytestmark = [
    pytest.mark.skipif(why_not is not None, reason=f"a systemd container {why_not}"),
    pytest.mark.timeout(1800),
]

DROP_IN = """[Service]
ExecStart=
ExecStart=/opt/larder/current/bin/larder run --input demo --realtime
Restart=always
RestartSec=1
"""
SHIFT = '''

def _test_shift(db: Database) -> None:
    """A test build's migration: the shift each event was journalled in."""
    _run(db, "ALTER TABLE events ADD COLUMN shift TEXT NOT NULL DEFAULT ''")
'''
BROKEN_DOCTOR = """    return failed("version", "this build fails its doctor on purpose")  # a broken build
"""


def runtime_wheels(links: Path) -> Path:
    """Every runtime dependency installed in this venv, repacked as wheels, and a hashed lock for them."""
    names = []
    for line in (REPO / "requirements-runtime.lock").read_text().splitlines():
        if line[:1].isalnum():
            requirement = Requirement(line.rstrip(" \\"))
            if requirement.marker is None or requirement.marker.evaluate():
                names.append(requirement.name)
    wheels = [rewheel(name, links, compression=zipfile.ZIP_STORED) for name in names]
    rewheel("setuptools", links)  # the Larder wheel's build backend
    hashed_lock(wheels, links.parent / "runtime.lock")
    return links.parent / "runtime.lock"


def source(tmp: Path, name: str, version: str, *, migration: bool, broken: bool) -> Path:
    """A copy of this source as version ``version``, with the test migration and/or a failing doctor."""
    tree = tmp / name
    tree.mkdir()
    for part in ("pyproject.toml", "README.md", "requirements-runtime.lock", "requirements.lock"):
        shutil.copy2(REPO / part, tree / part)
    for part in ("device", "cloud_sync", "models", "scripts", "systemd"):
        shutil.copytree(REPO / part, tree / part, ignore=shutil.ignore_patterns("__pycache__"))
    init = tree / "device/__init__.py"
    init.write_text(init.read_text().replace(f'"{__version__}"', f'"{version}"'))
    if migration:
        path = tree / "device/inventory/migrations.py"
        text, found = re.subn(
            r"MIGRATIONS: tuple\[Migration, \.\.\.\] = \(([^)]*)\)",
            lambda m: f"{SHIFT}\n\nMIGRATIONS: tuple[Migration, ...] = ({m.group(1)}, _test_shift)",
            path.read_text(),
        )
        assert found == 1, "the test migration found no MIGRATIONS tuple to extend"
        path.write_text(text)
    if broken:
        path = tree / "device/doctor/system.py"
        text = path.read_text()
        head = (
            '    """Which Larder this is, where it runs from, and the store schema it reads and writes."""\n'
        )
        assert head in text
        path.write_text(text.replace(head, head + BROKEN_DOCTOR))
    return tree


def bundle(tree: Path, out: Path, links: Path, lock: Path) -> Path:
    made = run_install(
        None, "--make-bundle", str(out), "--platform", "native", "--lock", str(lock), "--python", sys.executable,
        script=tree / "scripts/install.sh",
        env={"PIP_CONFIG_FILE": "/dev/null", "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(links)},
    )  # fmt: skip
    assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
    found = list(out.glob("larder-*"))
    assert len(found) == 1, found
    return found[0]


@pytest.fixture(scope="module")
def work() -> Iterator[Path]:
    """A folder of this test's own: pytest's numbered temporary folders are pruned by other pytest runs on the
    machine, and this test outlives several."""
    with tempfile.TemporaryDirectory(prefix="larder-upgrade-test-", dir="/var/tmp") as folder:
        yield Path(folder)


@pytest.fixture(scope="module")
def bundles(work: Path) -> dict[str, Path]:
    base = work / "upgrade"
    base.mkdir()
    links = base / "links"
    links.mkdir()
    lock = runtime_wheels(links)
    builds = {
        "A": source(base, "a", __version__, migration=False, broken=False),
        "B-broken": source(base, "b-broken", "99.0.0", migration=True, broken=True),
        "B": source(base, "b", "99.0.1", migration=True, broken=False),
    }
    return {name: bundle(tree, base / f"out-{name}", links, lock) for name, tree in builds.items()}


@pytest.fixture
def unit(work: Path, bundles: dict[str, Path]) -> Iterator[Container]:
    container = Container(work / "container", share=bundles["A"].parents[1])
    try:
        yield container
    finally:
        container.close()


def install(unit: Container, *args: str) -> subprocess.CompletedProcess[str]:
    return unit.run(
        "bash",
        *args,
        "--python",
        "/usr/bin/python3",
        "--no-apt",
        "--force",
        "--settle",
        "15",
        "-y",
        check=False,
    )


_READ = """import json, sqlite3, sys
conn = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
ids = [row[0] for row in conn.execute("SELECT id FROM events ORDER BY rowid")]
print(json.dumps({"ids": ids, "schema": conn.execute("PRAGMA user_version").fetchone()[0]}))
"""


def read_store(unit: Container, path: str = "/var/lib/larder/larder.db") -> dict[str, Any]:
    """The store file's event ids (oldest first) and schema, read inside the container (read only)."""
    if not unit.path(path).exists():
        return {"ids": [], "schema": 0}
    return dict(json.loads(unit.run("python3", "-c", _READ, path).stdout))


def event_ids(unit: Container, path: str = "/var/lib/larder/larder.db") -> list[str]:
    return list(read_store(unit, path)["ids"])


def schema(unit: Container) -> int:
    return int(read_store(unit)["schema"])


def wait_for_events(unit: Container, more_than: int) -> list[str]:
    for _ in range(120):
        ids = event_ids(unit)
        if len(ids) > more_than:
            return ids
        unit.run("sleep", "1")
    raise AssertionError(f"the daemon journalled no more than {more_than} events in 2 minutes")


def running_version(unit: Container) -> str:
    return unit.run("/usr/local/bin/larder", "--version").stdout.strip()


def test_a_broken_upgrade_rolls_back_by_itself_and_no_event_is_lost(
    bundles: dict[str, Path], unit: Container
) -> None:
    base = bundles["A"].parents[1]  # shared with the container as Container.SHARE
    a, broken, good = (Container.SHARE / bundles[name].relative_to(base) for name in ("A", "B-broken", "B"))
    drop_in = unit.path("/etc/systemd/system/larder.service.d/demo.conf")
    drop_in.parent.mkdir(parents=True)
    drop_in.write_text(DROP_IN)

    first = install(
        unit, f"{a}/source/scripts/install.sh", "--bundle", str(a), "--site", "Upgrade test", "--no-doctor"
    )
    assert first.returncode in (0, 3), first.stdout[-4000:] + first.stderr[-4000:]  # 3: no microphone here
    assert "larder.service" in first.stdout and running_version(unit) == f"larder {__version__}"
    before = wait_for_events(unit, 1)
    a_schema = schema(unit)

    failed = install(unit, f"{broken}/source/scripts/install.sh", "--upgrade", str(broken))
    out = failed.stdout + failed.stderr
    assert failed.returncode == 4, out[-6000:]
    assert "back up the store before the upgrade" in out and f"schema {a_schema} -> {a_schema + 1}" in out
    assert "failing now and not in" in out and "version" in out, out[-6000:]
    assert f"Rolled back to release {__version__}" in out
    assert running_version(unit) == f"larder {__version__}"
    assert unit.run("systemctl", "is-active", "larder.service", check=False).stdout.strip() == "active"
    assert schema(unit) == a_schema  # A never opens the store B migrated: it got the backup back
    aside = [p for p in unit.path("/var/lib/larder/backups").glob("rolled-back-*-from-99.0.0.db")]
    assert len(aside) == 1
    journalled_by_b = [
        i for i in event_ids(unit, f"/var/lib/larder/backups/{aside[0].name}") if i not in before
    ]
    assert journalled_by_b, (
        "the broken B journalled nothing before it was rolled back; the test proves little"
    )
    after = event_ids(unit)
    assert set(before) <= set(after) and set(journalled_by_b) <= set(after)
    assert "the events journalled since the backup are back in the store" in out

    more = wait_for_events(unit, len(after))  # A goes on journalling on the restored store
    upgraded = install(unit, f"{good}/source/scripts/install.sh", "--upgrade", str(good))
    out = upgraded.stdout + upgraded.stderr
    assert upgraded.returncode in (0, 3), out[-6000:]
    assert "UPGRADE FAILED" not in out and running_version(unit) == "larder 99.0.1"
    assert schema(unit) == a_schema + 1
    assert set(more) <= set(event_ids(unit))

    on_b = wait_for_events(unit, len(event_ids(unit)))  # B journals too
    by_hand = unit.run("bash", f"{good}/source/scripts/install.sh", "--rollback", "--no-doctor", check=False)
    assert by_hand.returncode in (0, 3), by_hand.stdout[-4000:] + by_hand.stderr[-4000:]
    assert running_version(unit) == f"larder {__version__}" and schema(unit) == a_schema
    assert set(on_b) <= set(event_ids(unit))
    again = unit.run("bash", f"{good}/source/scripts/install.sh", "--rollback", check=False)
    assert again.returncode == 1 and "there is no upgrade to roll back" in again.stderr
    print(json.dumps({"events": len(event_ids(unit)), "carried_over": len(journalled_by_b)}))
