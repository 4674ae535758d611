"""The `larder` command line end to end: a real process, a real store file in a temp folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SEVEN = {"action", "item", "quantity", "unit", "location", "to_location", "confidence"}


@pytest.fixture
def larder(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LARDER_")}
    env["LARDER_DATA_DIR"] = str(tmp_path / "data")
    env["LARDER_ENV_FILE"] = str(tmp_path / "absent.env")

    def run(
        *args: str, stdin: str | None = None, extra: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "device", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env | (extra or {}),
            timeout=120,
        )

    return run


def stock_of(larder, item: str) -> float:
    rows = json.loads(larder("stock", "--json").stdout)
    return sum(r["quantity"] for r in rows if r["item"] == item)


def test_version_is_the_package_version(larder) -> None:
    from importlib.metadata import version

    from device import __version__

    shown = larder("--version")
    assert shown.returncode == 0 and shown.stdout.strip() == f"larder {__version__}"
    assert version("larder") == __version__  # pyproject reads it from device/__init__.py


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a command as another user")
def test_a_user_who_cannot_look_into_the_env_folder_uses_the_environment(tmp_path: Path) -> None:
    # as the service runs: /etc/larder is root's (0700), systemd passes the settings in the environment
    folder = tmp_path / "etc-larder"
    folder.mkdir(mode=0o700)
    (folder / "larder.env").write_text("LARDER_SITE='from the file'\n")
    tmp_path.chmod(0o755)
    env = {
        "PATH": os.environ["PATH"],
        "LARDER_ENV_FILE": str(folder / "larder.env"),
        "LARDER_SITE": "from systemd",
    }
    shown = subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable, "-c",
         "from device.settings import load_settings; print(load_settings().site)"],
        capture_output=True, text=True, env=env, cwd=Path(__file__).resolve().parents[1], timeout=60, check=False,
    )  # fmt: skip
    assert shown.returncode == 0 and shown.stdout.strip() == "from systemd", shown.stderr


def test_parse_reads_stdin_lines_in_order(larder) -> None:
    lines = [
        "add three cartons of oat milk to the walk-in",
        "how many eggs do we have",
        "table four is ready",
    ]
    result = larder("parse", "--json", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [set(o) for o in out] == [SEVEN] * 3
    assert out[0] | {"confidence": None} == {
        "action": "add",
        "item": "oat milk",
        "quantity": 3,
        "unit": "carton",
        "location": "walk-in",
        "to_location": None,
        "confidence": None,
    }
    assert [o["action"] for o in out] == ["add", "query", "unknown"]


def test_say_applies_and_reports_stock(larder) -> None:
    result = larder("say", "add three cartons of oat milk to the walk-in")
    assert result.returncode == 0, result.stderr
    assert "3 cartons of oat milk" in result.stdout
    assert stock_of(larder, "oat milk") == 3
    journal = json.loads(larder("journal", "--json").stdout)
    assert journal[-1]["action"] == "add"
    assert journal[-1]["transcript"] == "add three cartons of oat milk to the walk-in"
    assert journal[-1]["resolver"] == "grammar"


def test_confirmation_flow_from_the_cli(larder) -> None:
    assert larder("say", "add three cartons of oat milk to the walk-in").returncode == 0
    assert stock_of(larder, "oat milk") == 3

    asked = larder("say", "eighty six the oat milk")
    assert "?" in asked.stdout
    assert stock_of(larder, "oat milk") == 3
    larder("say", "yes")
    assert stock_of(larder, "oat milk") == 0

    larder("say", "undo that")
    assert stock_of(larder, "oat milk") == 3

    big = larder("say", "add 5000 cartons of oat milk")
    assert "?" in big.stdout
    assert stock_of(larder, "oat milk") == 3
    larder("say", "cancel")
    assert stock_of(larder, "oat milk") == 3


def test_catalog_import_replaces_the_demo(larder, tmp_path: Path) -> None:
    csv = tmp_path / "cat.csv"
    csv.write_text("name,aliases,unit,location,par\nguanciale,cheek,kg,cold room,2\nrigatoni,,bag,pantry,5\n")
    result = larder("catalog", "import", str(csv))
    assert result.returncode == 0, result.stderr
    parsed = json.loads(larder("parse", "--json", "add two kilos of guanciale to the cold room").stdout)
    assert (parsed["item"], parsed["quantity"], parsed["location"]) == ("guanciale", 2, "cold room")
    assert json.loads(larder("parse", "--json", "add two cartons of oat milk").stdout)["item"] is None


def test_bad_catalog_rows_import_nothing(larder, tmp_path: Path) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("name,aliases,unit,location,par\nbasil,,bunch,walk-in,4\n,,kg,,1\nsalt,,kg,pantry,lots\n")
    result = larder("catalog", "import", str(csv))
    assert result.returncode == 4
    assert "line 3" in result.stderr and "line 4" in result.stderr
    assert "Traceback" not in result.stderr
    names = [i["name"] for i in json.loads(larder("catalog", "show", "--json").stdout)]
    assert "oat milk" in names and "salt" not in names


def test_invalid_setting_names_variable_value_and_form(larder) -> None:
    result = larder("stock", extra={"LARDER_CONFIRM_WINDOW_S": "soon"})
    assert result.returncode == 2
    assert "LARDER_CONFIRM_WINDOW_S" in result.stderr
    assert "'soon'" in result.stderr and "number" in result.stderr
    assert "Traceback" not in result.stderr


def test_corrupt_store_is_set_aside_not_a_crash_loop(larder, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "larder.db").write_bytes(b"this is not a database" * 100)
    first = larder("stock")
    assert first.returncode == 3
    assert "Traceback" not in first.stderr
    assert any(p.name.startswith("larder.db.corrupt") for p in data.iterdir())
    second = larder("stock")
    assert second.returncode == 0, second.stderr


def test_a_bad_setting_names_the_env_file_it_came_from(larder, tmp_path: Path) -> None:
    env_file = tmp_path / "site.env"
    env_file.write_text("LARDER_END_SILENCE_S=abc\n", encoding="utf-8")
    result = larder("stock", extra={"LARDER_ENV_FILE": str(env_file)})
    assert result.returncode == 2
    assert f"fix it in {env_file} or the environment" in result.stderr


def test_a_blank_data_dir_means_the_default_not_the_current_folder(larder, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    result = larder("say", "add 2 eggs", extra={"LARDER_DATA_DIR": " ", "HOME": str(home)})
    assert result.returncode == 0, result.stderr
    assert not (Path.cwd() / "larder.db").exists() and not (Path.cwd() / " ").exists()
    assert list(home.rglob("larder.db"))


def test_undecodable_bytes_are_a_clear_message_or_replaced(larder) -> None:
    said = larder("say", os.fsdecode(b"add 3 eggs \xff"))  # a terminal that is not UTF-8
    assert said.returncode == 0, said.stderr
    assert said.stdout.startswith("Added 3 eggs")
    named = larder("stock", extra={"LARDER_DEVICE_ID": os.fsdecode(b"unit\xff")})
    assert named.returncode == 2
    assert "LARDER_DEVICE_ID" in named.stderr and "Traceback" not in named.stderr


@pytest.mark.parametrize("text", ["add " + "9" * 400 + " eggs", "add 1/0 eggs"])
def test_a_number_that_is_no_amount_is_not_understood(larder, text: str) -> None:
    got = json.loads(larder("parse", "--json", text).stdout)
    assert got["action"] == "unknown"


def test_an_endless_par_is_a_bad_row(larder, tmp_path: Path) -> None:
    csv = tmp_path / "inf.csv"
    csv.write_text(
        "name,aliases,unit,location,par\noat milk,oat,carton,walk-in,inf\nsoy milk,,carton,walk-in,1e400\n"
    )
    result = larder("catalog", "import", str(csv))
    assert result.returncode == 4
    assert "line 2" in result.stderr and "line 3" in result.stderr


def test_count_checks_a_stocktake_then_sets_it(larder, tmp_path: Path) -> None:
    good = tmp_path / "count.csv"
    good.write_text("item,quantity,unit,location\noat milk,2,case,\neggs,30,,\n", encoding="utf-8")
    dry = larder("count", str(good), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "line 2: Set oat milk to 2 cases" in dry.stdout and "nothing changed" in dry.stdout
    assert json.loads(larder("stock", "--json").stdout) == []
    done = larder("count", str(good))
    assert done.returncode == 0, done.stderr
    assert "Counted 2 row(s)" in done.stdout
    assert stock_of(larder, "oat milk") == 24 and stock_of(larder, "eggs") == 30

    bad = tmp_path / "bad.csv"
    bad.write_text("item,quantity\noat milk,5\nsaffron,3\neggs,lots\n", encoding="utf-8")
    out = larder("count", str(bad))
    assert out.returncode == 4 and "Traceback" not in out.stderr
    assert "line 3: I don't know 'saffron'" in out.stderr and "line 4: quantity 'lots'" in out.stderr
    assert stock_of(larder, "oat milk") == 24  # the good row was not counted either
