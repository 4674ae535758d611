"""The daemon follows what the CLI writes beside it (``PRAGMA data_version``), and ``install.sh --screen-pin``
keeps only a salted hash."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from device.app import Unit, follow_store
from device.intent.command import Action
from device.inventory.catalog import Catalogue, Item, demo_catalogue
from device.inventory.store import Store
from device.inventory.watch import StoreWatcher
from device.pipeline import events as ev
from device.settings import load_settings
from device.web.pin import verify_pin
from tests.appliance.appliance_root import make_root, run_install

RICE = Item("rice", "bag", ("basmati",), "dry store", 4)


def test_the_watch_sees_other_processes_writes_and_only_them(tmp_path: Path) -> None:
    path = tmp_path / "larder.db"
    seen: list[Catalogue | None] = []
    with Store.open(path) as daemon, Store.open(path) as cli:
        watcher = StoreWatcher(daemon, seen.append)
        assert watcher.check() is False
        daemon.set_state("mine", 1)  # the daemon's own writes are not news to it
        assert watcher.check() is False
        cli.set_state("theirs", 1)
        assert watcher.check() is True and seen == [None]
        cli.replace_catalogue(Catalogue(items=(*demo_catalogue().items, RICE), locations=("dry store",)))
        assert watcher.check() is True and seen[-1] is not None and seen[-1].get("rice") == RICE
        assert watcher.check() is False and len(seen) == 2


def test_a_running_unit_understands_an_item_the_cli_imports_within_two_seconds(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data", gpio=False, stt="whisper")
    unit = Unit(settings)
    events: list[ev.Event] = []
    unit.bus.subscribe(events.append)
    csv_file = tmp_path / "menu.csv"
    csv_file.write_text(
        "name,aliases,unit,location,par\nrice,basmati,bag,dry store,4\neggs,,each,walk-in,60\n"
    )

    async def go() -> tuple[float, object, object]:
        before = await unit.resolver.resolve("add two bags of rice")
        follow = asyncio.ensure_future(follow_store(unit))
        await asyncio.sleep(0.1)
        loop = asyncio.get_running_loop()
        env = {"LARDER_DATA_DIR": str(settings.data_dir), "LARDER_ENV_FILE": str(tmp_path / "none.env")}
        done = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "device", "catalog", "import", str(csv_file), env=env
        )
        assert await done.wait() == 0
        imported = loop.time()
        while not any(isinstance(e, ev.StoreChanged) and e.catalogue for e in events):
            assert loop.time() - imported < 2.0, "the daemon did not follow the import within 2 s"
            await asyncio.sleep(0.05)
        followed = loop.time() - imported
        after = await unit.resolver.resolve("add two bags of rice")
        follow.cancel()
        return followed, before, after

    followed, before, after = asyncio.run(go())
    assert before.item != "rice"  # type: ignore[attr-defined]
    assert (after.action, after.item, after.quantity) == (Action.ADD, "rice", 2)  # type: ignore[attr-defined]
    assert unit.catalogue.get("rice") == RICE and unit.grammar.parse("add a bag of basmati").item == "rice"
    assert followed < 2.0
    unit.close()


def test_install_keeps_only_a_salted_hash_of_the_screen_pin(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    result = run_install(root, "--skip-venv", "--screen-pin", "482193")
    assert result.returncode == 0, result.stdout + result.stderr
    env_file = root / "etc/larder/larder.env"
    text = env_file.read_text()
    assert "482193" not in text + result.stdout + result.stderr
    assert "LARDER_SCREEN_PIN_HASH: set" in result.stdout
    out = subprocess.run(  # read back as the daemon reads it
        [sys.executable, "-c", "from device.settings import load_settings; "
         "print(load_settings().screen_pin_hash.get_secret_value())"],
        capture_output=True, text=True, env={"LARDER_ENV_FILE": str(env_file), "PATH": "/usr/bin:/bin"},
        check=True, cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    stored = out.stdout.strip()
    assert stored.startswith("scrypt$") and verify_pin("482193", stored) and not verify_pin("482194", stored)
    assert oct(env_file.stat().st_mode)[-3:] == "600"


def test_install_refuses_a_pin_that_is_not_digits(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    result = run_install(root, "--skip-venv", "--screen-pin", "12ab")
    assert result.returncode == 1
    assert "a screen PIN is digits only" in result.stderr and "Traceback" not in result.stderr
    assert not (root / "etc/larder/larder.env").exists()
