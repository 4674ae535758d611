"""The wake decision rule (pure table tests), the pre-roll buffer, and the real okay_nabu model on synthesized
commands, commands without the wake word, the unit's own replies, kitchen noise and the bundled demo."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from device.audio.wav import read_wav
from device.protocols import CHUNK_SAMPLES, SAMPLE_RATE, Audio, WakeHit
from device.settings import Sensitivity, Settings, WakeModelName
from device.wake import (
    CHECK_SECONDS,
    RECHECK_S,
    MicroWakeWordDetector,
    PreRoll,
    WakeDecider,
    noise_suppression_db,
)
from tests.speech import SpeechCache, concat, in_noise, kitchen_noise, piper, session_cache, silence, trim

DEMO_WAV = Path(__file__).resolve().parents[1] / "device" / "data" / "demo.wav"
STEP = 0.03  # one probability per 30 ms


def decide(decider: WakeDecider, probabilities: list[float], start_s: float = 0.0) -> list[int]:
    """Indices of the frames at which the decider fires."""
    return [i for i, p in enumerate(probabilities) if decider.feed(start_s + i * STEP, p) is not None]


@pytest.mark.parametrize(
    ("cutoff", "window", "probabilities", "fires"),
    [
        (0.5, 1, [0.1, 0.49, 0.5, 0.9], [2]),  # at the cutoff fires; refractory hides the next
        (0.3, 1, [0.29, 0.31], [1]),
        (0.5, 2, [1.0], []),  # the window must be full
        (0.5, 2, [0.9, 0.05, 0.05], []),  # one strong frame averaged with a weak one
        (0.5, 2, [0.4, 0.7], [1]),
        (0.85, 5, [0.9, 0.9, 0.9, 0.9, 0.5], []),
        (0.85, 5, [0.9, 0.9, 0.9, 0.8, 0.9], [4]),
        (0.5, 3, [0.0, 0.0, 0.9, 0.9, 0.0, 0.9], [3]),
    ],
)
def test_cutoff_and_window(cutoff: float, window: int, probabilities: list[float], fires: list[int]) -> None:
    assert decide(WakeDecider(cutoff=cutoff, window=window, refractory_s=2.0), probabilities) == fires


def test_fire_returns_the_averaged_score() -> None:
    decider = WakeDecider(cutoff=0.5, window=2, refractory_s=0.0)
    assert decider.feed(0.0, 0.4) is None
    fire = decider.feed(0.03, 0.8)
    assert fire is not None and fire.score == pytest.approx(0.6) and not fire.borderline


def test_refractory_time_then_a_fresh_window() -> None:
    decider = WakeDecider(cutoff=0.5, window=2, refractory_s=1.0)
    frames = [0.9] * 100  # 3 s of a confident wake word
    fired = decide(decider, frames)
    # Fires at frame 1, then the refractory second (34 frames) passes and the window refills (2 frames).
    assert fired[:2] == [1, 36]
    assert all(b - a >= 1.0 / STEP for a, b in itertools.pairwise(fired))


def test_no_refractory_fires_every_full_window() -> None:
    decider = WakeDecider(cutoff=0.5, window=2, refractory_s=0.0)
    assert decide(decider, [0.9] * 6) == [1, 3, 5]


def test_suppression_while_the_unit_speaks() -> None:
    decider = WakeDecider(cutoff=0.5, window=1, refractory_s=2.0)
    decider.suppress_until(1.0)
    assert decide(decider, [0.9] * 40) == [34]  # 34 * 0.03 = 1.02 s is the first frame after 1.0 s
    decider.suppress_until(0.5)  # an earlier time does not shorten it
    assert decider.feed(3.1, 0.9) is not None


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="cutoff"):
        WakeDecider(cutoff=0.0, window=1, refractory_s=1)
    with pytest.raises(ValueError, match="window"):
        WakeDecider(cutoff=0.5, window=0, refractory_s=1)


@pytest.mark.parametrize(
    ("sensitivity", "threshold", "cutoff", "window"),
    [
        (Sensitivity.HIGH, None, 0.02, 1),
        (Sensitivity.NORMAL, None, 0.05, 1),
        (Sensitivity.LOW, None, 0.5, 3),
        (Sensitivity.LOW, 0.42, 0.42, 3),
    ],
)
def test_sensitivity_maps_to_operating_points(
    sensitivity: Sensitivity, threshold: float | None, cutoff: float, window: int
) -> None:
    settings = Settings(wake_sensitivity=sensitivity, wake_threshold=threshold, wake_refractory_s=3.5)
    decider = WakeDecider.from_settings(settings)
    assert (decider.cutoff, decider.window, decider.refractory_s) == (cutoff, window, 3.5)


def test_preroll_keeps_the_last_seconds_in_order() -> None:
    preroll = PreRoll(0.5)
    chunks = [np.full(CHUNK_SAMPLES, i, dtype=np.int16) for i in range(40)]
    for chunk in chunks:
        preroll.push(chunk)
    kept = preroll.drain()
    assert [int(c[0]) for c in kept] == list(range(40 - 16, 40))  # 16 chunks of 32 ms = 0.512 s
    assert preroll.drain() == []
    off = PreRoll(0.0)
    off.push(chunks[0])
    assert off.drain() == []


@pytest.mark.parametrize(
    ("model", "setting", "level"),
    [
        (WakeModelName.OKAY_NABU, None, -20),  # measured: lifts it in kitchen and fan noise
        (WakeModelName.ALEXA, None, 0),  # measured: costs it clean wakes
        (WakeModelName.OKAY_NABU, 0, 0),
        (WakeModelName.HEY_MYCROFT, -30, -30),
    ],
)
def test_noise_suppression_is_the_setting_or_the_models_measured_choice(
    model: WakeModelName, setting: int | None, level: int
) -> None:
    assert noise_suppression_db(Settings(wake_model=model, wake_noise_suppression_db=setting)) == level


# --- the real okay_nabu model ---


@pytest.fixture(scope="session")
def voices(tmp_path_factory: pytest.TempPathFactory) -> SpeechCache:
    return session_cache(tmp_path_factory)


def detector(
    sensitivity: Sensitivity = Sensitivity.NORMAL, refractory_s: float = 2.0
) -> MicroWakeWordDetector:
    return MicroWakeWordDetector.from_settings(
        Settings(wake_sensitivity=sensitivity, wake_refractory_s=refractory_s)
    )


def hits(audio: Audio, det: MicroWakeWordDetector | None = None) -> list[WakeHit]:
    det = det or detector()
    found = []
    for start in range(0, len(audio) - CHUNK_SAMPLES + 1, CHUNK_SAMPLES):
        hit = det.process(audio[start : start + CHUNK_SAMPLES])
        if hit is not None:
            found.append(hit)
    return found


COMMANDS = [
    "add three cartons of oat milk to the walk-in",
    "how many eggs do we have",
    "we used two pounds of butter",
    "take two cases of whole milk out of the walk-in",
]


@pytest.mark.models
@pytest.mark.parametrize(
    ("voice", "noise", "snr_db"),
    [
        ("piper", None, None),
        ("piper", "kitchen", 10.0),
        ("piper", "brown", 10.0),
        ("en-us", None, None),
        ("en-us+m3", None, None),
        ("en-us+m3", "kitchen", 10.0),
    ],
)
@pytest.mark.parametrize("command", COMMANDS)
def test_wakes_on_okay_nabu(
    voices: SpeechCache, command: str, voice: str, noise: str | None, snr_db: float | None
) -> None:
    u = voices.utterance(command, voice=voice)
    if noise is not None and snr_db is not None:
        seed = COMMANDS.index(command)
        u = voices.get(f"{command}|{voice}|{noise}|{snr_db}", lambda: in_noise(u, noise, snr_db, seed=seed))
    found = hits(u.audio)
    assert len(found) == 1
    hit = found[0]
    assert hit.model == "okay_nabu" and hit.score >= 0.1
    # Heard at the end of the wake phrase, before (or, held for the transcript check, as) the command starts.
    assert u.speech_start_s + 0.3 < hit.at_s < u.command_start_s + 0.5


@pytest.mark.models
@pytest.mark.parametrize("voice", ["piper", "en-us", "en-us+m3", "en-gb-x-rp"])
def test_no_wake_on_commands_without_the_wake_word(voices: SpeechCache, voice: str) -> None:
    for command in [*COMMANDS, "okay add two bagels", "set croissants to forty eight", "undo that"]:
        assert hits(voices.utterance(command, wake=None, voice=voice).audio) == [], command


REPLIES = [
    "Added 3 cartons of oat milk to the walk-in.",
    "You have 48 eggs in the walk-in.",
    "Used 2 pounds of butter. 8 pounds left.",
    "That's a lot: add 300 cartons of oat milk? Say yes or no.",
    "Undone: removed 3 cartons of oat milk.",
    "Sorry, I didn't catch that. Say it again?",
    "Nothing to undo.",
]


@pytest.mark.models
@pytest.mark.parametrize("sensitivity", [Sensitivity.NORMAL, Sensitivity.HIGH])
def test_no_wake_on_the_units_own_replies(voices: SpeechCache, sensitivity: Sensitivity) -> None:
    for reply in REPLIES:
        audio = voices.get(f"reply|{reply}", lambda r=reply: piper(r))
        assert hits(audio, detector(sensitivity)) == [], reply


@pytest.mark.models
def test_suppression_gates_a_wake_word_played_by_the_unit(voices: SpeechCache) -> None:
    u = voices.utterance(COMMANDS[0])
    det = detector()
    det.suppress_for(u.seconds)  # as the runner does while its speaker plays
    assert hits(u.audio, det) == []
    later = hits(u.audio, det)  # the same words once the unit is quiet again
    assert len(later) == 1 and later[0].at_s > u.seconds


@pytest.mark.models
def test_refractory_on_real_audio(voices: SpeechCache) -> None:
    wake = voices.get("wake only", lambda: concat(silence(0.3), trim(piper("Okay, Nabu.")), silence(0.2)))
    twice = np.concatenate([wake, wake])  # "okay nabu okay nabu" within ~2 s
    assert len(hits(twice, detector(refractory_s=3.0))) == 1
    # One phrase keeps the probability high for ~0.5 s, so 0.8 s separates the two phrases but no more.
    assert len(hits(twice, detector(refractory_s=0.8))) == 2


@pytest.mark.models
def test_no_wake_in_two_minutes_of_kitchen_noise() -> None:
    assert hits(kitchen_noise(120.0), detector(Sensitivity.HIGH)) == []


@pytest.mark.models
def test_raw_probabilities_and_clock(voices: SpeechCache) -> None:
    det = detector()
    audio = voices.utterance(COMMANDS[1]).audio[: SAMPLE_RATE * 3]
    probs = [
        p for i in range(0, len(audio) - 511, CHUNK_SAMPLES) for p in det.probabilities(audio[i : i + 512])
    ]
    assert len(probs) == pytest.approx(len(audio) / SAMPLE_RATE / STEP, abs=2)
    assert all(0.0 <= p <= 1.0 for p in probs) and max(probs) > 0.5
    fed = det.now_s
    det.reset()
    assert det.now_s == fed  # the stream clock keeps counting across a reset
    hit = hits(audio, det)
    assert len(hit) == 1 and hit[0].at_s > fed


@pytest.mark.models
def test_the_lowered_listener_keeps_the_microphone_clock(voices: SpeechCache) -> None:
    det = detector()
    assert det.listeners == ["main", "lowered"]
    assert detector(Sensitivity.LOW).listeners == ["main"]
    audio = voices.utterance(COMMANDS[1]).audio[: SAMPLE_RATE * 3]
    main: list[tuple[float, float]] = []
    lowered: list[tuple[float, float]] = []
    for i in range(0, len(audio) - CHUNK_SAMPLES + 1, CHUNK_SAMPLES):
        for heard, frames in zip((main, lowered), det.frames(audio[i : i + CHUNK_SAMPLES]), strict=True):
            heard += frames
    # It hears the audio stretched by 19/16, so it makes that many more frames, stamped on the same clock.
    assert len(lowered) == pytest.approx(len(main) * 19 / 16, abs=3)
    assert lowered[-1][0] == pytest.approx(main[-1][0], abs=0.1)
    assert lowered[-1][0] <= det.now_s + 0.01
    # Both hear the same "okay nabu" at the same moment.
    main_peak, lowered_peak = (max(frames, key=lambda f: f[1]) for frames in (main, lowered))
    assert main_peak[1] > 0.5 and lowered_peak[1] > 0.1
    assert lowered_peak[0] == pytest.approx(main_peak[0], abs=0.25)


class Answers:
    """A transcriber that answers the wake checks from a script, in order (the STT boundary, faked)."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)

    def __call__(self, audio: Audio, prompt: str) -> str:
        assert abs(len(audio) - CHECK_SECONDS * SAMPLE_RATE) <= CHUNK_SAMPLES and "Nabu" in prompt
        return self.answers.pop(0)


@pytest.mark.models
@pytest.mark.parametrize(
    ("answers", "woke"),
    [
        (["Okay."], True),  # asked again 0.5 s later: "Okay, Nabu."
        (["Okay."], False),  # asked again: "Okay, thanks."
        ([], False),  # "Okay, thanks." at once: no second question
    ],
)
def test_a_check_that_heard_only_okay_asks_again_a_moment_later(
    voices: SpeechCache, answers: list[str], woke: bool
) -> None:
    chatter = voices.get(
        "okay thanks", lambda: concat(silence(0.5), trim(piper("Okay, thanks.")), silence(1.5))
    )
    final = "Okay, Nabu." if woke else "Okay, thanks."
    det = MicroWakeWordDetector.from_settings(
        Settings(wake_lowered_voice=False), transcribe=Answers(*answers, final)
    )
    found = hits(chatter, det)
    checks = list(det.checks)
    assert len(checks) == len(answers) + 1
    if answers:
        assert checks[0].asks_again and not checks[0].accepted
        assert checks[1].at_s - checks[0].at_s == pytest.approx(RECHECK_S, abs=0.05)
    assert [h.at_s for h in found] == ([checks[0].at_s] if woke else [])  # stamped at the fire: the
    # runner keeps the audio since then, where the command begins


@pytest.mark.models
def test_the_demo_recording_wakes_three_times() -> None:
    audio, rate = read_wav(DEMO_WAV)
    assert rate == SAMPLE_RATE and len(audio) / rate < 35
    found = hits(audio, detector(Sensitivity.NORMAL))
    assert len(found) == 3
    assert [round(h.at_s) for h in found] == [2, 12, 22]  # 1.85, 12.47, 22.19 s when generated


@pytest.mark.models
@pytest.mark.parametrize("sensitivity", list(Sensitivity))
def test_preroll_keeps_the_first_word_when_there_is_no_pause(
    voices: SpeechCache, sensitivity: Sensitivity
) -> None:
    u = voices.utterance(COMMANDS[0], gap_s=0.0)  # "okay nabu add three..." in one breath
    det, preroll = detector(sensitivity), PreRoll(Settings().preroll_s)
    for start in range(0, len(u.audio) - CHUNK_SAMPLES + 1, CHUNK_SAMPLES):
        chunk = u.audio[start : start + CHUNK_SAMPLES]
        preroll.push(chunk)
        if det.process(chunk) is not None:
            end_s = (start + CHUNK_SAMPLES) / SAMPLE_RATE
            break
    else:
        raise AssertionError("no wake")
    assert end_s > u.command_start_s  # the wake is heard only after the command has begun...
    kept = preroll.drain()
    assert end_s - len(kept) * CHUNK_SAMPLES / SAMPLE_RATE < u.command_start_s  # ...but its start is kept
