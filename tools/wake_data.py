"""Build the wake-word validation set once (cached WAVs + manifest) for ``tools/wake_eval.py``.

    nice -n 10 .venv/bin/python tools/wake_data.py [--root /tmp/wake-data] [--minutes 45 25]

Positives: "<wake word>. <command>" for each of the four built-in models, in many voices (Piper joe at three
speeds and shifted pitches, a dozen espeak-ng voices at several speeds and pitches), said in one breath or
with a pause. Negatives: long stretches of cafe talk (orders, chatter, staff calls, the unit's own replies, some
"okay ..." phrases), some with a second talker underneath. Two splits with disjoint voices and commands:
``tune`` (choose the rule) and ``held`` (check it). Noise is mixed in later by the evaluator, so clips are clean.
Existing files are kept: re-running only fills in what is missing.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from device.audio.wav import write_wav
from device.protocols import SAMPLE_RATE, Audio
from tests import speech

WAKE_PHRASES = {
    "okay_nabu": "Okay, Nabu.",
    "hey_jarvis": "Hey Jarvis.",
    "hey_mycroft": "Hey Mycroft.",
    "alexa": "Alexa.",
}


@dataclass(frozen=True)
class Voice:
    name: str
    engine: str  # "piper" or an espeak-ng voice
    rate: float = 1.0  # Piper length_scale, or espeak words per minute
    pitch: int = 50  # espeak pitch 0-99, or Piper pitch shift in cents (sox)


TUNE_VOICES = [
    Voice("joe-0.8", "piper", 0.8, 0),
    Voice("joe-1.0", "piper", 1.0, 0),
    Voice("joe-1.25", "piper", 1.25, 0),
    Voice("joe-up300", "piper", 1.0, 300),
    Voice("joe-down200", "piper", 1.1, -200),
    Voice("en-us", "en-us", 150, 50),
    Voice("en-us-slow-low", "en-us", 125, 35),
    Voice("en-us+m3-fast", "en-us+m3", 180, 50),
    Voice("en-gb-x-rp", "en-gb-x-rp", 150, 60),
    Voice("en-gb-scotland", "en-gb-scotland", 140, 50),
    Voice("en-us+f2", "en-us+f2", 150, 50),
    Voice("en-us+f3", "en-us+f3", 165, 55),
    Voice("en-029", "en-029", 150, 50),
    Voice("en-us-nyc", "en-us-nyc", 170, 45),
    Voice("en-gb+Annie", "en-gb+Annie", 150, 50),
    Voice("en-us+Andy", "en-us+Andy", 140, 50),
]
HELD_VOICES = [
    Voice("joe-0.9", "piper", 0.9, 0),
    Voice("joe-up500", "piper", 1.05, 500),
    Voice("en-us+m3", "en-us+m3", 150, 50),
    Voice("en-gb", "en-gb", 160, 50),
    Voice("en-us+f4", "en-us+f4", 150, 50),
    Voice("en-us+f2-slow", "en-us+f2", 130, 40),
    Voice("en-gb-x-gbcwmd", "en-gb-x-gbcwmd", 145, 50),
    Voice("en-us+Mike", "en-us+Mike", 160, 50),
]
TUNE_COMMANDS = [
    "add three cases of oat milk to the walk-in",
    "how many eggs do we have",
    "we used two pounds of butter",
    "take two cases of whole milk out of the walk-in",
    "set croissants to forty eight",
    "we're out of sourdough",
    "add six bags of flour to dry storage",
    "undo that",
]
HELD_COMMANDS = [
    "add four cartons of almond milk",
    "how much cheddar is left",
    "remove one case of tomatoes from the cooler",
    "we got a delivery of ten pounds of coffee beans",
    "move two trays of muffins to the front",
    "cancel",
]

_FOOD = [
    "croissants",
    "bagels",
    "muffins",
    "scones",
    "banana bread",
    "avocado toast",
    "a panini",
    "soup",
    "cookies",
]
_DRINK = [
    "latte",
    "flat white",
    "cappuccino",
    "americano",
    "mocha",
    "chai",
    "cold brew",
    "tea",
    "hot chocolate",
]
_NAME = ["Sam", "Maria", "Jo", "Alex", "Priya", "Tom", "Nadia", "Ben", "Mike", "Anna", "Nick", "Omar"]
_SIZE = ["small", "medium", "large", "twelve ounce", "sixteen ounce"]
_NUM = ["two", "three", "four", "five", "seven", "nine", "twelve", "fourteen", "twenty"]
_TEMPLATES = [
    "Can I get a {size} {drink} with oat milk, please?",
    "I'll have {num} {food} and a {drink}.",
    "Could I grab a {drink} to go?",
    "{name}, your {drink} is ready at the counter.",
    "Table {num} wants {food} and two {drink}s.",
    "Is the {food} gluten free?",
    "Do you have any {food} left?",
    "That's {num} fifty, card or cash?",
    "Just tap your card there, thanks.",
    "Behind you, hot pan coming through!",
    "We're eighty-sixed on {food}, tell the front.",
    "Okay, thanks, see you tomorrow.",
    "Okay, one {drink} and a {food}.",
    "Hey {name}, can you cover the register for a minute?",
    "Hey, can you grab more cups from the back?",
    "Did you see the game last night? Unreal.",
    "It's so cold out there today.",
    "My sister's coming in at noon, save her a {food}.",
    "Is the wifi password still on the board?",
    "We need more {food} for the lunch rush.",
    "How long on the {food}? About {num} minutes.",
    "I think the dishwasher is leaking again.",
    "Can someone check the walk-in temperature?",
    "Thanks so much, have a good one!",
    "Sorry, was that a {size} or a {size}?",
    "No, I said {drink}, not {drink}.",
    "Alright, {num} {food}, coming right up.",
    "Yeah, a lot of people came in this morning.",
    "Added {num} cartons of oat milk to the walk-in.",
    "You have {num} eggs in the walk-in.",
    "Used {num} pounds of butter. {num} pounds left.",
    "That's a lot: add three hundred cartons of oat milk? Say yes or no.",
    "Sorry, I didn't catch that. Say it again?",
    "Undone: removed {num} cartons of oat milk.",
    "Is {name} working tomorrow or Thursday?",
    "Let's say {num}, no more.",
]
# Phrases that sound like a wake word: scored apart from ordinary talk (a stress test, not the false-wake figure)
_CONFUSABLE = [
    "Okay, next order is {num} {food}.",
    "Okay, now the {drink} for table {num}.",
    "Okay, no problem, I'll bring it over.",
    "Okay, nah, not that one, the other {drink}.",
    "Okay, number {num}, your order's up.",
    "Okay, nobody touch the fryer.",
    "Okay, Nadia, you're on the grill.",
    "Can I have the banana bread and a mocha?",
    "Jar of honey for the tea, please.",
    "Hey, Jarvis Street is closed today.",
    "My craft beer place closed down.",
    "Hey, my crafty friend!",
    "A lexicon of coffee words, that's what this menu is.",
    "Alexis, your order's ready.",
]


def sentence(rng: random.Random, templates: list[str] = _TEMPLATES) -> str:
    fill = {"food": _FOOD, "drink": _DRINK, "name": _NAME, "size": _SIZE, "num": _NUM}
    text = rng.choice(templates)
    while "{" in text:
        key = text[text.index("{") + 1 : text.index("}")]
        text = text.replace("{" + key + "}", rng.choice(fill[key]), 1)
    return text


def pitch_shift(audio: Audio, cents: int) -> Audio:
    raw = ["-t", "raw", "-r", str(SAMPLE_RATE), "-e", "signed", "-b", "16", "-c", "1"]
    out = subprocess.run(
        ["sox", *raw, "-", *raw, "-", "pitch", str(cents)],
        input=audio.tobytes(),
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(out, dtype=np.int16).copy()


def synth(voice: Voice, text: str) -> Audio:
    if voice.engine == "piper":
        audio = speech.piper(text, length_scale=voice.rate, noise_scale=0.667)
        return pitch_shift(audio, voice.pitch) if voice.pitch else audio
    return speech.espeak(text, voice=voice.engine, speed=int(voice.rate), pitch=voice.pitch)


def positive(voice: Voice, wake: str, command: str, rng: random.Random) -> Audio:
    """Lead silence, then the wake phrase and command in one breath or with a pause, then a tail."""
    lead = speech.silence(rng.uniform(0.2, 1.0))
    if rng.random() < 0.5:
        body = speech.trim(synth(voice, f"{wake} {command}"))
    else:
        gap = speech.silence(rng.choice([0.0, 0.15, 0.4]))
        body = speech.concat(speech.trim(synth(voice, wake)), gap, speech.trim(synth(voice, command)))
    return speech.concat(lead, body, speech.silence(1.0))


def talk(
    voices: list[Voice], seconds: float, rng: random.Random, templates: list[str]
) -> tuple[Audio, list[dict[str, Any]]]:
    """Sentences in random voices (Piper about 35% of them) with short pauses, and where each one is."""
    piper = [v for v in voices if v.engine == "piper"]
    espeak = [v for v in voices if v.engine != "piper"]
    parts: list[Audio] = []
    spans: list[dict[str, Any]] = []
    total = 0
    while total < seconds * SAMPLE_RATE:
        voice = rng.choice(piper if rng.random() < 0.35 else espeak)
        text = sentence(rng, templates)
        said = speech.trim(synth(voice, text))
        spans.append(
            {"start_s": total / SAMPLE_RATE, "end_s": (total + len(said)) / SAMPLE_RATE, "text": text}
        )
        parts += [said, speech.silence(rng.uniform(0.15, 1.2))]
        total += len(parts[-2]) + len(parts[-1])
    return speech.concat(*parts)[: round(seconds * SAMPLE_RATE)], spans


def with_babble(
    audio: Audio, spans: list[dict[str, Any]], shift_s: float
) -> tuple[Audio, list[dict[str, Any]]]:
    """A second talker 8 dB down: the same block started ``shift_s`` later (a cafe without a second synthesis)."""
    shift = round(shift_s * SAMPLE_RATE)
    under = np.roll(audio, shift).astype(np.float64) * 10 ** (-8 / 20)
    mixed = np.clip(audio + under, -32768, 32767).astype(np.int16)
    seconds = len(audio) / SAMPLE_RATE
    moved = [
        {
            **s,
            "start_s": (float(s["start_s"]) + shift_s) % seconds,
            "end_s": (float(s["end_s"]) + shift_s) % seconds,
            "under": True,
        }
        for s in spans
    ]
    return mixed, spans + moved


def build(root: Path, minutes: dict[str, float], block_s: float = 300.0) -> dict[str, list[dict[str, Any]]]:
    (root / "pos").mkdir(parents=True, exist_ok=True)
    (root / "neg").mkdir(parents=True, exist_ok=True)
    manifest: dict[str, list[dict[str, Any]]] = {"positives": [], "negatives": []}
    splits = {"tune": (TUNE_VOICES, TUNE_COMMANDS), "held": (HELD_VOICES, HELD_COMMANDS)}
    for split, (voices, commands) in splits.items():
        for model, wake in WAKE_PHRASES.items():
            for voice in voices:
                for i, command in enumerate(commands):
                    clip = f"{split}-{model}-{voice.name}-{i}"
                    path = root / "pos" / f"{clip}.wav"
                    if not path.exists():
                        rng = random.Random(clip)
                        write_wav(path, positive(voice, wake, command, rng), SAMPLE_RATE)
                    entry = {"id": clip, "split": split, "model": model, "voice": voice.name, "text": command}
                    manifest["positives"].append(entry)
        blocks = [
            (f"{split}-talk-{b}", _TEMPLATES) for b in range(max(1, round(minutes[split] * 60 / block_s)))
        ]
        blocks.append((f"{split}-hard-0", _CONFUSABLE))
        for block, (name, templates) in enumerate(blocks):
            path = root / "neg" / f"{name}.wav"
            if not path.exists():
                rng = random.Random(name)
                audio, spans = talk(voices, block_s, rng, templates)
                if block % 3 == 2:  # a second talker underneath: cafe babble
                    audio, spans = with_babble(audio, spans, rng.uniform(30.0, block_s - 30.0))
                write_wav(path, audio, SAMPLE_RATE)
                path.with_suffix(".json").write_text(json.dumps(spans), encoding="utf-8")
                print(f"{name}: {block_s / 60:.0f} min", flush=True)
            kind = "hard" if templates is _CONFUSABLE else "talk"
            manifest["negatives"].append({"id": name, "split": split, "kind": kind, "seconds": block_s})
    manifest["voices"] = [{"split": s, **asdict(v)} for s, (vs, _) in splits.items() for v in vs]
    (root / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--root", type=Path, default=Path("/tmp/wake-data"))
    parser.add_argument("--minutes", type=float, nargs=2, default=(45.0, 25.0), metavar=("TUNE", "HELD"))
    args = parser.parse_args()
    manifest = build(args.root, {"tune": args.minutes[0], "held": args.minutes[1]})
    print(
        f"{len(manifest['positives'])} positive clips, {len(manifest['negatives'])} talk blocks in {args.root}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
