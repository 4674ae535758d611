"""Replies: clause splitting (pure), the real Piper joe voice, the phrase cache and earcons."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from device.errors import TtsError
from device.protocols import TextToSpeech
from device.settings import Settings
from device.tts import PiperTts, make_earcon, split_clauses

REPLY = "Added 3 cases of oat milk to the walk-in."


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        ("", []),
        ("   \n ", []),
        ("Okay.", ["Okay."]),
        ("Are you sure? Say yes or no!", ["Are you sure?", "Say yes or no!"]),
        ("We have 1.5 kilograms of flour.", ["We have 1.5 kilograms of flour."]),
        ("That is 10,000 grams, give or take.", ["That is 10,000 grams, give or take."]),
        ("e.g. this stays. OK", ["e.g. this stays.", "OK"]),
        ("Added 3.  Done", ["Added 3.", "Done"]),
        ("one\ntwo", ["one", "two"]),
        ('He said "stop." Then left.', ['He said "stop."', "Then left."]),
        (
            "Added 3 cases of oat milk to the walk-in, that's 36 cartons. You're now above par, with 12 more "
            "than you need for the week.",
            [
                "Added 3 cases of oat milk to the walk-in,",  # the first clause is kept short: heard sooner
                "that's 36 cartons.",
                "You're now above par,",
                "with 12 more than you need for the week.",
            ],
        ),
        (
            "Low stock: oat milk, whole milk, eggs, butter, cheddar, bacon, salmon, avocados, basil and lemons.",
            [
                "Low stock: oat milk, whole milk, eggs,",
                "butter, cheddar, bacon, salmon, avocados, basil and lemons.",
            ],
        ),
        (
            "Moved 2 cases - that leaves 4 in the freezer; want me to reorder some more of them right now?",
            [
                "Moved 2 cases -",
                "that leaves 4 in the freezer;",
                "want me to reorder some more of them right now?",
            ],
        ),
        ("x" * 70 + " and more", ["x" * 70 + " and more"]),  # nowhere to split: left whole
    ],
)
def test_split_clauses(text: str, clauses: list[str]) -> None:
    assert split_clauses(text) == clauses


def test_split_clauses_max_chars() -> None:
    text = "First, second, third."
    assert split_clauses(text, max_chars=10, first_max_chars=10) == ["First,", "second,", "third."]
    assert split_clauses(text, max_chars=15, first_max_chars=15) == ["First, second,", "third."]
    assert split_clauses(text, max_chars=60, first_max_chars=8) == ["First,", "second, third."]
    assert split_clauses(text) == [text]


_words = st.one_of(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC'", min_size=1, max_size=9),
    st.from_regex(r"\A[0-9]{1,3}(\.[0-9]|,[0-9]{3})?\Z"),
    st.sampled_from([",", ".", "?", "!", ";", ":", "-", "\n"]),
)


@given(
    tokens=st.lists(_words, max_size=40),
    max_chars=st.integers(min_value=5, max_value=80),
    first_max_chars=st.integers(min_value=5, max_value=80),
)
def test_split_clauses_keeps_every_word_and_number(
    tokens: list[str], max_chars: int, first_max_chars: int
) -> None:
    text = " ".join(tokens)
    clauses = split_clauses(text, max_chars=max_chars, first_max_chars=first_max_chars)
    assert " ".join(clauses) == " ".join(text.split())
    assert all(c and c == c.strip() for c in clauses)
    for number in re.findall(r"\d+[.,]\d+", text):
        assert any(number in clause for clause in clauses)
    for index, clause in enumerate(clauses):
        if len(clause) > (max_chars if index else first_max_chars):  # only an unbreakable piece may be long
            assert not re.search(r"[,;:]\s", clause), clause


@pytest.fixture(scope="module")
def tts() -> Iterator[PiperTts]:
    yield PiperTts()


@pytest.mark.models
def test_render_is_int16_speech_of_plausible_length(tts: PiperTts) -> None:
    voice: TextToSpeech = tts
    audio = voice.render(REPLY)
    assert voice.sample_rate == 22_050
    assert audio.dtype == np.int16 and audio.ndim == 1
    seconds = len(audio) / tts.sample_rate
    assert 1.2 < seconds < 5.0
    assert np.abs(audio.astype(np.int32)).max() > 8000  # spoken, not silence
    assert len(tts.render("Okay.")) < len(audio)


@pytest.mark.models
def test_cache_hit_returns_the_same_audio_without_synthesis(tts: PiperTts) -> None:
    text = "Nothing to undo, the journal is empty."
    first = tts.render(text)
    count = tts.synth_count
    again = tts.render("  Nothing to undo,  the journal is empty. ")  # same words, other spacing
    assert tts.synth_count == count
    assert np.array_equal(first, again)
    tts.render(text + " Really.")
    assert tts.synth_count == count + 1


@pytest.mark.models
def test_empty_text_renders_nothing(tts: PiperTts) -> None:
    assert len(tts.render("  ")) == 0


@pytest.mark.models
def test_volume_scales_speech_and_earcons(tts: PiperTts) -> None:
    loud, chime = tts.render(REPLY), tts.earcon("wake")
    tts.volume = 0.5
    try:
        quiet, soft = tts.render(REPLY), tts.earcon("wake")
    finally:
        tts.volume = 1.0
    assert np.array_equal(quiet, np.round(loud * 0.5).astype(np.int16))
    assert np.array_equal(soft, np.round(chime * 0.5).astype(np.int16))


@pytest.mark.models
def test_prerendered_phrases_are_kept_on_disk_and_reused(tts: PiperTts, tmp_path: Path) -> None:
    phrases = ["Okay.", "Cancelled.", "Sorry, I didn't catch that."]
    first = PiperTts.from_settings(Settings(data_dir=tmp_path, tts_cache_dir=tmp_path / "phrases"))
    first.prerender(phrases)
    assert first.synth_count == 3
    assert len(list((tmp_path / "phrases").glob("*.wav"))) == 3
    rendered = [first.render(p) for p in phrases]
    assert first.synth_count == 3

    second = PiperTts(cache_dir=tmp_path / "phrases")
    second.prerender(phrases)
    assert second.synth_count == 0  # read from the WAV files, not synthesised
    for phrase, audio in zip(phrases, rendered, strict=True):
        assert np.array_equal(second.render(phrase), audio)
    assert second.synth_count == 0


@pytest.mark.models
def test_a_damaged_cache_file_is_rendered_again(tmp_path: Path) -> None:
    voice = PiperTts(cache_dir=tmp_path)
    voice.prerender(["Okay."])
    (path,) = tmp_path.glob("*.wav")
    path.write_bytes(b"RIFF garbage")
    again = PiperTts(cache_dir=tmp_path)
    again.prerender(["Okay."])
    assert again.synth_count == 1
    assert len(again.render("Okay.")) > 0


@pytest.mark.models
def test_an_unwritable_cache_dir_only_costs_the_disk_copy(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache folder should be")
    voice = PiperTts(cache_dir=blocker)
    voice.prerender(["Okay."])
    assert len(voice.render("Okay.")) > 0 and voice.synth_count == 1


def test_a_missing_voice_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TtsError, match="cannot load the Piper voice"):
        PiperTts(model_path=tmp_path / "none.onnx", config_path=tmp_path / "none.onnx.json")


def _dominant_hz(audio: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(audio.astype(np.float64)))
    return float(np.fft.rfftfreq(len(audio), 1 / rate)[int(np.argmax(spectrum))])


@pytest.mark.parametrize("rate", [22_050, 16_000])
def test_earcons_are_short_distinct_and_click_free(rate: int) -> None:
    sounds = {name: make_earcon(name, rate) for name in ("wake", "error", "done")}
    for name, audio in sounds.items():
        assert audio.dtype == np.int16
        assert 0.05 < len(audio) / rate < 0.5, name
        assert 5000 < np.abs(audio.astype(np.int32)).max() < 32767, name
        assert abs(int(audio[0])) < 300 and abs(int(audio[-1])) < 300, name
    assert len({audio.tobytes() for audio in sounds.values()}) == 3
    wake = sounds["wake"]
    third = len(wake) // 3
    assert _dominant_hz(wake[:third], rate) < _dominant_hz(wake[-third:], rate)  # rising
    assert _dominant_hz(sounds["error"], rate) < 300  # low
    assert _dominant_hz(sounds["done"], rate) > 800


def test_unknown_earcon_is_a_clear_error() -> None:
    with pytest.raises(TtsError, match="unknown earcon 'beep'"):
        make_earcon("beep", 22_050)


@pytest.mark.models
def test_earcons_come_at_the_voice_rate_and_are_cached(tts: PiperTts) -> None:
    chime = tts.earcon("wake")
    assert chime is tts.earcon("wake")
    assert np.array_equal(chime, make_earcon("wake", tts.sample_rate))
    with pytest.raises(TtsError):
        tts.earcon("beep")


@pytest.mark.models
def test_a_long_phrase_is_prerendered_clause_by_clause(tts: PiperTts) -> None:
    phrase = "I didn't catch the quantity, say it again, or press cancel."
    clauses = split_clauses(phrase)
    assert len(clauses) == 2
    tts.prerender([phrase])
    count = tts.synth_count
    for clause in clauses:
        tts.render(clause)
    assert tts.synth_count == count
