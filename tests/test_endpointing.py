"""The endpointer: table tests of the pure segmenter (no audio, no clock), a property test, and the real
Silero VAD + endpointer on synthesized commands in kitchen noise and brown (extractor-fan) noise."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from device.pipeline.endpointing import Endpoint, EndpointConfig, Endpointer
from device.protocols import CHUNK_SAMPLES, CHUNK_SECONDS, SAMPLE_RATE
from device.settings import Settings
from device.vad import SileroVad
from tests.speech import SpeechCache, Utterance, in_noise, kitchen_noise, session_cache

C = CHUNK_SECONDS


def pattern(*runs: tuple[str, float]) -> list[bool]:
    """("speech", 1.0), ("silence", 0.3), ... as per-chunk booleans."""
    out: list[bool] = []
    for kind, seconds in runs:
        out += [kind == "speech"] * round(seconds / C)
    return out


def run(flags: list[bool], config: EndpointConfig | None = None) -> Endpoint | None:
    endpointer = Endpointer(config or EndpointConfig())
    result = None
    for flag in flags:
        result = endpointer.feed(C, flag)
        if result is not None:
            return result
    return result


def test_ends_after_the_configured_silence() -> None:
    end = run(pattern(("silence", 0.5), ("speech", 1.5), ("silence", 2.0)))
    assert end is not None and end.reason == "silence"
    assert end.speech_start_s == pytest.approx(0.5, abs=C)
    assert end.speech_end_s == pytest.approx(2.0, abs=C)
    assert end.delay_s == pytest.approx(0.5, abs=C)
    assert end.speech_s == pytest.approx(1.5, abs=C)


@pytest.mark.parametrize("silence_s", [0.3, 0.8, 1.2])
def test_end_silence_is_configurable(silence_s: float) -> None:
    end = run(pattern(("speech", 1.0), ("silence", 3.0)), EndpointConfig(end_silence_s=silence_s))
    assert end is not None and end.reason == "silence"
    assert end.delay_s == pytest.approx(silence_s, abs=C)


def test_a_pause_shorter_than_the_end_silence_is_bridged() -> None:
    end = run(pattern(("speech", 0.8), ("silence", 0.35), ("speech", 0.8), ("silence", 1.0)))
    assert end is not None and end.reason == "silence"
    assert end.speech_start_s == pytest.approx(0.0, abs=C)
    assert end.speech_end_s == pytest.approx(1.95, abs=2 * C)


def test_one_speech_chunk_does_not_start_a_command() -> None:
    flicker = ([True] + [False] * 4) * 40  # a lone "speech" chunk every 160 ms, for 6.4 s
    end = run(flicker)
    assert end is not None and end.reason == "no_speech"
    assert end.speech_start_s is None and end.speech_end_s is None
    assert end.decided_at_s == pytest.approx(4.0, abs=C)


def test_flickering_noise_cannot_hold_a_command_open() -> None:
    flicker = ([False] * 3 + [True]) * 40
    end = run(pattern(("speech", 1.0)) + flicker)
    assert end is not None and end.reason == "silence"
    assert end.speech_end_s == pytest.approx(1.0, abs=C)
    assert end.decided_at_s == pytest.approx(1.5, abs=C)


def test_two_speech_chunks_in_a_row_resume_a_command() -> None:
    before = pattern(("speech", 1.0), ("silence", 0.3))
    end = run([*before, True, True, *pattern(("silence", 1.0))])
    assert end is not None and end.reason == "silence"
    assert end.speech_end_s == pytest.approx((len(before) + 2) * C)


def test_a_short_blip_is_forgotten_and_listening_goes_on() -> None:
    flags = pattern(("silence", 0.5), ("speech", 0.15), ("silence", 1.0), ("speech", 1.2), ("silence", 1.0))
    end = run(flags)
    assert end is not None and end.reason == "silence"
    assert end.speech_start_s == pytest.approx(1.65, abs=C)


def test_a_blip_then_nothing_is_no_speech() -> None:
    end = run(pattern(("silence", 3.7), ("speech", 0.1), ("silence", 2.0)))
    assert end is not None and end.reason == "no_speech"
    assert end.decided_at_s == pytest.approx(3.7 + 0.1 + 0.5, abs=C)  # decided once the blip is judged


def test_min_speech_is_configurable() -> None:
    flags = pattern(("speech", 0.2), ("silence", 5.0))
    assert run(flags, EndpointConfig(min_speech_s=0.1)) == Endpoint(
        "silence", 0.0, pytest.approx(0.2, abs=C), pytest.approx(0.7, abs=C)
    )
    end = run(flags, EndpointConfig(min_speech_s=0.3))
    assert end is not None and end.reason == "no_speech"


def test_nonstop_speech_is_cut_at_max_length() -> None:
    end = run(pattern(("silence", 1.0), ("speech", 15.0)), EndpointConfig(max_command_s=6.0))
    assert end is not None and end.reason == "max_length"
    assert end.speech_start_s == pytest.approx(1.0, abs=C)
    assert end.decided_at_s == pytest.approx(7.0, abs=C)


def test_silence_after_the_wake_is_no_speech_at_the_timeout() -> None:
    end = run([False] * 500, EndpointConfig(no_speech_timeout_s=2.5))
    assert end == Endpoint("no_speech", None, None, pytest.approx(2.5, abs=C))


def test_speech_that_started_before_the_timeout_runs_past_it() -> None:
    end = run(pattern(("silence", 3.8), ("speech", 2.0), ("silence", 1.0)))
    assert end is not None and end.reason == "silence"
    assert end.speech_end_s == pytest.approx(5.8, abs=C)


def test_the_decision_is_kept() -> None:
    endpointer = Endpointer()
    first = None
    for flag in pattern(("speech", 1.0), ("silence", 1.0)):
        first = first or endpointer.feed(C, flag)
    assert first is not None
    assert endpointer.feed(C, True) is first
    assert not endpointer.in_speech


@pytest.mark.parametrize(
    ("flags", "reason"),
    [
        (pattern(("silence", 0.5), ("speech", 1.0)), "silence"),  # cut off mid-command: keep what was said
        (pattern(("silence", 0.5), ("speech", 0.1)), "no_speech"),  # only a blip so far
        (pattern(("silence", 1.0)), "no_speech"),
        ([], "no_speech"),
    ],
)
def test_finish_decides_when_the_audio_runs_out(flags: list[bool], reason: str) -> None:
    endpointer = Endpointer()
    for flag in flags:
        assert endpointer.feed(C, flag) is None
    end = endpointer.finish()
    assert end.reason == reason and end.decided_at_s == pytest.approx(len(flags) * C)
    if reason == "silence":
        assert end.speech_start_s == pytest.approx(0.5, abs=C) and end.speech_end_s == end.decided_at_s
    assert endpointer.finish() is end and endpointer.feed(C, True) is end


def test_finish_keeps_an_earlier_decision() -> None:
    endpointer = Endpointer()
    decided = None
    for flag in pattern(("speech", 1.0), ("silence", 0.6)):
        decided = decided or endpointer.feed(C, flag)
    assert decided is not None and endpointer.finish() is decided


def feed_probabilities(probabilities: list[float], config: EndpointConfig | None = None) -> Endpoint | None:
    endpointer = Endpointer(config or EndpointConfig())
    for probability in probabilities:
        result = endpointer.feed_probability(C, probability)
        if result is not None:
            return result
    return None


def test_clatter_after_the_last_word_does_not_hold_the_command_open() -> None:
    words, clatter = [0.95] * 31, [0.6, 0.55, 0.62, 0.58] * 5  # one second of speech, then mid scores
    end = feed_probabilities(words + clatter + [0.1] * 40)
    assert end is not None and end.reason == "silence"
    assert end.speech_end_s == pytest.approx(31 * C)
    assert end.delay_s == pytest.approx(16 * C)  # 0.5 s rounded up to whole chunks, clatter not counted


def test_with_one_threshold_the_same_clatter_holds_it_open() -> None:
    words, clatter = [0.95] * 31, [0.6, 0.55, 0.62, 0.58] * 5
    end = feed_probabilities(words + clatter + [0.1] * 40, EndpointConfig(hold_threshold=0.5))
    assert end is not None and end.speech_end_s == pytest.approx(51 * C)


def test_a_short_answer_with_a_soft_tail_is_not_a_blip() -> None:
    """ "No." is about 0.3 s; its second half scores like clatter. Held only by confident chunks it would be
    shorter than ``min_speech_s`` and forgotten; until a command is that long, the start threshold holds it."""
    no = [0.95, 0.9, 0.85, 0.65, 0.6, 0.6, 0.55, 0.6, 0.55, 0.52]
    end = feed_probabilities([0.05] * 10 + no + [0.05] * 40)
    assert end is not None and end.reason == "silence"
    assert end.speech_s >= EndpointConfig().min_speech_s
    # held by the high threshold from the start, only the first three chunks would count: a blip
    strict = feed_probabilities([0.05] * 10 + no + [0.05] * 150, EndpointConfig(speech_threshold=0.7))
    assert strict is not None and strict.reason == "no_speech"


def test_a_quick_no_is_a_command_and_a_clatter_is_not() -> None:
    """Piper's fast "No." scores as speech for 9 chunks (0.29 s) behind the WebRTC gate; a clatter is shorter."""
    no = feed_probabilities(
        [0.02] * 10 + [0.48, 0.84, 0.97, 0.99, 0.99, 1.0, 1.0, 0.99, 0.98, 0.51] + [0.05] * 30
    )
    assert no is not None and no.reason == "silence"
    clatter = feed_probabilities([0.02] * 10 + [0.8] * 6 + [0.05] * 150)
    assert clatter is not None and clatter.reason == "no_speech"


def test_a_mid_score_does_not_start_a_command_but_a_clear_one_does() -> None:
    assert feed_probabilities([0.45] * 60, EndpointConfig(no_speech_timeout_s=1.0)) == Endpoint(
        "no_speech", None, None, pytest.approx(32 * C)
    )
    end = feed_probabilities([0.2] * 5 + [0.55] * 2 + [0.9] * 20 + [0.1] * 30)
    assert end is not None and end.speech_start_s == pytest.approx(5 * C)
    assert end.speech_end_s == pytest.approx(27 * C)


def test_speech_that_ends_in_the_preroll_is_the_wake_word_not_a_command() -> None:
    wake_tail = pattern(("speech", 0.5), ("silence", 3.0))
    endpointer = Endpointer(EndpointConfig(no_speech_timeout_s=2.0), preroll_s=0.45)
    decided = next(filter(None, (endpointer.feed(C, flag) for flag in wake_tail)))
    assert decided.reason == "no_speech"
    # the same speech without a pre-roll is a command, and so is a command said straight after the wake word
    assert run(wake_tail) is not None and run(wake_tail).reason == "silence"  # type: ignore[union-attr]
    straight_on = Endpointer(preroll_s=0.45)
    said = pattern(("speech", 1.5), ("silence", 1.0))
    decided = next(filter(None, (straight_on.feed(C, flag) for flag in said)))
    assert decided.reason == "silence" and decided.speech_start_s == 0.0


def test_config_from_settings() -> None:
    settings = Settings(end_silence_s=0.7, min_command_s=0.2, max_command_s=8, no_speech_timeout_s=3)
    assert EndpointConfig.from_settings(settings) == EndpointConfig(
        end_silence_s=0.7, min_speech_s=0.2, max_command_s=8.0, no_speech_timeout_s=3.0
    )
    # the hold threshold is never below the start threshold
    strict = EndpointConfig.from_settings(Settings(vad_threshold=0.8, vad_hold_threshold=0.6))
    assert (strict.speech_threshold, strict.hold_threshold) == (0.8, 0.8)
    assert EndpointConfig.from_settings(settings, no_speech_timeout_s=5.0).no_speech_timeout_s == 5.0


@given(st.lists(st.booleans(), max_size=600))
def test_it_always_decides_in_bounded_time_with_ordered_times(flags: list[bool]) -> None:
    config = EndpointConfig()
    endpointer = Endpointer(config)
    bound = config.no_speech_timeout_s + config.max_command_s + 2 * C
    result = None
    for flag in flags + [False] * round(bound / C):
        result = endpointer.feed(C, flag)
        if result is not None:
            break
    assert result is not None
    assert result.decided_at_s <= bound
    if result.reason == "no_speech":
        assert result.speech_start_s is None
    else:
        assert result.speech_start_s is not None and result.speech_end_s is not None
        assert result.speech_start_s < result.speech_end_s <= result.decided_at_s
        assert result.speech_s >= config.min_speech_s or result.reason == "max_length"


# --- the real VAD feeding the endpointer, as the pipeline runner does ---


@pytest.fixture(scope="session")
def voices(tmp_path_factory: pytest.TempPathFactory) -> SpeechCache:
    return session_cache(tmp_path_factory)


@pytest.fixture(scope="module")
def vad() -> SileroVad:
    return SileroVad()


def endpoint_real(vad: SileroVad, utterance: Utterance, start_s: float) -> tuple[Endpoint, float]:
    """Feed VAD decisions from ``start_s`` (where a wake would hand over); times back in clip seconds."""
    vad.reset()
    endpointer = Endpointer(EndpointConfig.from_settings(Settings()))
    audio = utterance.audio
    first = int(start_s * SAMPLE_RATE) // CHUNK_SAMPLES * CHUNK_SAMPLES
    for start in range(first, len(audio) - CHUNK_SAMPLES + 1, CHUNK_SAMPLES):
        result = endpointer.feed_probability(C, vad.speech_probability(audio[start : start + CHUNK_SAMPLES]))
        if result is not None:
            return result, first / SAMPLE_RATE
    raise AssertionError("the endpointer never decided")


COMMANDS = [
    ("add three cartons of oat milk to the walk-in", "piper"),
    ("we used two pounds of butter and a dozen eggs", "piper"),
    ("how many eggs do we have", "en-us+m3"),
]


@pytest.mark.models
@pytest.mark.parametrize(("noise", "snr_db"), [("kitchen", 10.0), ("brown", 10.0), ("brown", 5.0)])
@pytest.mark.parametrize(("command", "voice"), COMMANDS)
def test_real_vad_ends_commands_by_silence_in_noise(
    voices: SpeechCache, vad: SileroVad, command: str, voice: str, noise: str, snr_db: float
) -> None:
    clean = voices.utterance(command, voice=voice, tail_s=4.0)
    seed = COMMANDS.index((command, voice))
    key = f"{command}|{voice}|{noise}|{snr_db}"
    noisy = voices.get(key, lambda: in_noise(clean, noise, snr_db, seed=seed))
    end, base = endpoint_real(vad, noisy, clean.command_start_s - 0.2)
    assert end.reason == "silence"
    assert end.speech_start_s is not None and end.speech_end_s is not None
    assert base + end.speech_start_s == pytest.approx(clean.command_start_s, abs=0.25)
    assert base + end.speech_end_s == pytest.approx(clean.speech_end_s, abs=0.6)
    # Decided within about a second of the real end of speech (0.5 s of it is the configured silence).
    assert 0.4 <= base + end.decided_at_s - clean.speech_end_s <= 1.25


@pytest.mark.models
@pytest.mark.parametrize("noise", ["kitchen", "brown"])
def test_real_vad_in_steady_noise_without_speech_is_no_speech(vad: SileroVad, noise: str) -> None:
    from tests.speech import brown_noise

    bed = kitchen_noise(6.0, offset_s=50.0) if noise == "kitchen" else brown_noise(6.0, seed=3)
    end, _ = endpoint_real(vad, Utterance(bed, 0.0, 0.0), 0.0)
    assert end.reason == "no_speech"
    assert end.decided_at_s == pytest.approx(4.0, abs=C)


def test_end_now_ends_the_command_in_progress_and_keeps_the_decision() -> None:
    endpointer = Endpointer()
    assert endpointer.end_now() is None  # nothing started
    for flag in pattern(("silence", 0.3), ("speech", 1.0), ("silence", 0.2)):
        assert endpointer.feed(C, flag) is None
    decided = endpointer.end_now()
    assert decided is not None and decided.reason == "semantic"
    assert decided.speech_end_s == pytest.approx(1.3, abs=C) and decided.delay_s == pytest.approx(0.2, abs=C)
    assert (
        endpointer.feed(C, True) is decided
        and endpointer.end_now() is decided
        and endpointer.finish() is decided
    )


def test_end_now_does_not_end_a_blip_or_the_wake_words_tail() -> None:
    blip = Endpointer()
    for flag in pattern(("speech", 0.1), ("silence", 0.2)):
        blip.feed(C, flag)
    assert blip.end_now() is None
    wake = Endpointer(preroll_s=0.45)
    for flag in pattern(("speech", 0.45), ("silence", 0.2)):
        wake.feed(C, flag)
    assert wake.end_now() is None
