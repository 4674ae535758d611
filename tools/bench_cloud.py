"""Benchmark the cloud voice path: end of speech -> first reply audio with Deepgram answering 300 ms after Finalize.

Runs the `larder simulate` path (Silero endpointing, Deepgram client + Whisper failover, grammar, dialogue, SQLite
store, Piper replies) over Piper-spoken kitchen commands, with LARDER_DEEPGRAM_URL pointed at the Deepgram
stand-in (tests/standins/deepgram.py) scripted to return each command's words ``--delay-ms`` after Finalize.
Reports, per grammar-resolved command, the time from the endpointer's decision (SpeechEnd) to the first reply
audio, split into Finalize->transcript, transcript->command and command->first audio, with p50/p95/max; the same
from the acoustic end of speech (adding the endpointer's silence wait); the websocket connect cost; and, for
comparison, the same figure when Deepgram's own endpointing already finalized the words (the stand-in ends the
utterance on 300 ms of quiet audio, as ``endpointing=300`` does), when it never answers (deadline, then Whisper)
and when it refuses the connection (Whisper at once).

With ``--realtime`` the cold passes run twice, with semantic endpointing on and off (``LARDER_SEMANTIC_ENDPOINTING``):
the stand-in knows each word 0.1 s after it is spoken, sends interim results once per ``--interim-every-s`` of
audio (1 s by default, as in Deepgram's documented example; 0: one per word) and Finalize answers the words it
knows, as Deepgram does; "acoustic end -> first audio" is then counted from the clip's last spoken sample, and
the final pause is broken down (audio seconds after that sample): the endpointer's end of speech (the VAD's lag),
Finalize sent, the final judged, the turn ended; and it counts the replies whose first clause was rendered ahead
(``ReplyPrepared``) from the interim words while Finalize was answered, and then played.

    .venv/bin/python tools/bench_cloud.py [--runs 2] [--delay-ms 300] [--realtime] [--interim-every-s 1] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from device.app import Unit
from device.audio.wav import RecordingSpeaker, WavMicrophone, write_wav
from device.bench.metrics import spread
from device.inventory.catalog import demo_catalogue
from device.pipeline import events as ev
from device.protocols import CHUNK_SAMPLES, SAMPLE_RATE
from device.settings import Settings
from device.stt.deepgram import DeepgramSpeechToText
from device.tts import split_clauses
from tests import speech
from tests.standins.deepgram import API_KEY, DeepgramStandIn, Script

COMMANDS = [
    "add one case of oat milk to the walk-in",
    "we used two pounds of butter",
    "move one case of croissants from the freezer to the walk-in",
    "how many bagels do we have",
    "we're out of almond milk",
    "throw away six avocados",
    "set whole milk to four gallons",
    "add two sleeves of takeaway cups to the dry store",
    "we used a dozen eggs",
    "add five bottles of vanilla syrup to the bar",
    "waste one pound of smoked salmon",
    "how many bags of coffee beans are in the dry store",
    "add six pints of blueberries",
    "we have ten bags of frozen berries in the freezer",
    "add one tub of ice cream",
    "we used three heads of lettuce",
    "add four loaves of sourdough to the dry store",
    "how much basil is left",
    "we used four quarts of heavy cream",
    "add two bunches of basil",
]


def summary(values: list[float]) -> dict[str, float]:
    """n, p50, p95, max and mean in ms, with ``larder bench``'s percentiles."""
    if not values:
        return {"n": 0}
    figures = spread([v * 1000 for v in values])
    return {
        "n": len(values),
        **{f"{key}_ms": round(figures[key] or 0.0, 1) for key in ("p50", "p95", "max", "mean")},
    }


LEAD_S, TAIL_S, INTERIM_LAG_S = 0.3, 1.2, 0.1


async def one(unit: Unit, wav: Path, realtime: bool, semantic: bool | None = None) -> Any:
    microphone = WavMicrophone(wav, realtime=realtime)
    pipeline = unit.pipeline(microphone, RecordingSpeaker(), wake=False, semantic=semantic)
    return await pipeline.listen_and_respond(microphone.chunks())


def pause_marks(events: list[ev.Event], result: Any, speech_end_s: float) -> dict[str, float]:
    """The final pause in audio seconds after the clip's last spoken sample (see the module docstring)."""
    end = result.endpoint.speech_end_s
    marks = {"vad_end": end - speech_end_s, "turn_ended": result.endpoint.decided_at_s - speech_end_s}
    for event in events:
        if isinstance(event, ev.FinalAsked) and event.speech_end_s == end:
            marks.setdefault("final_asked", end + event.silence_s - speech_end_s)
        elif isinstance(event, ev.PauseJudged) and event.speech_end_s == end and event.source == "final":
            marks.setdefault("final_judged", end + event.silence_s - speech_end_s)
        elif isinstance(event, ev.ReplyPrepared) and event.text == split_clauses(result.reply)[0]:
            # the audio that played was rendered ahead: from the interim words while Finalize was answered
            marks.setdefault("prepared" if "final_judged" not in marks else "prepared_at_final", 1.0)
    return marks


async def connect_cost(url: str, rounds: int = 10) -> list[float]:
    """Seconds from session start to the socket being open (loopback: the handshake and our setup only)."""
    stt = DeepgramSpeechToText(url=url, api_key=API_KEY, catalogue=demo_catalogue())
    costs = []
    for _ in range(rounds):
        started = time.perf_counter()
        session = await stt.start()
        while session.connect_s is None and not session.task.done():
            await asyncio.sleep(0.001)
        costs.append(session.connect_s or time.perf_counter() - started)
        await session.feed(speech.silence(CHUNK_SAMPLES / SAMPLE_RATE))
        await session.abort()
    await stt.close()
    return costs


def latency(result: Any) -> float:
    """Endpointer decision -> first reply audio."""
    return float(
        result.speech_end_to_transcript_s + result.transcript_to_command_s + result.command_to_first_audio_s
    )


def fresh_unit(work: Path, name: str, url: str) -> Unit:
    """A unit with its own store and an empty reply cache, models loaded."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=work / name,
        stt="deepgram",
        deepgram_url=url,
        deepgram_api_key=API_KEY,
        gpio=False,
    )
    unit = Unit(settings)
    unit.warm_up()
    return unit


def acoustic_latency(result: Any, speech_end_s: float) -> float:
    """The clip's last spoken sample -> first reply audio (real-time runs: audio time is wall time)."""
    return float(result.endpoint.decided_at_s - speech_end_s + latency(result))


def over(
    unit: Unit,
    deepgram: DeepgramStandIn,
    files: list[tuple[str, Path, float]],
    realtime: bool,
    semantic: bool | None = None,
    **script: Any,
) -> list:
    """Run every command once through the simulate path with the stand-in scripted to say its words."""
    results = []
    for text, path, end in files:
        timing: dict[str, Any] = {}
        if realtime:  # each word as it is spoken, a little late, and Finalize answers what was revealed
            words = len(text.split())
            start = LEAD_S + INTERIM_LAG_S
            reveal = tuple(start + (end - LEAD_S) * (i + 1) / words for i in range(words))
            timing = {"reveal_at": reveal, "finalize_heard_only": True}
        deepgram.reset(Script(segments=(text,), **timing, **script))
        unit.stt.breaker.record_success(0.0)
        events: list[ev.Event] = []
        unsubscribe = unit.bus.subscribe(events.append)
        try:
            outcome = asyncio.run(one(unit, path, realtime, semantic))
        finally:
            unsubscribe()
        if outcome is None or outcome.command is None:
            print(f"no result for {text!r}", file=sys.stderr)
            continue
        results.append((outcome, end, pause_marks(events, outcome, end)))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=2, help="cold passes, each with a fresh unit (empty reply cache)"
    )
    parser.add_argument("--delay-ms", type=float, default=300, help="Deepgram's answer time after Finalize")
    parser.add_argument("--realtime", action="store_true", help="stream the audio at real-time pace")
    parser.add_argument(
        "--interim-every-s",
        type=float,
        default=1.0,
        help="with --realtime: one interim result per this much audio (0: one per word)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    delay = args.delay_ms / 1000
    cadence = {"interim_every_s": args.interim_every_s or None} if args.realtime else {}

    work = Path(tempfile.mkdtemp(prefix="bench-cloud-"))
    files = []
    for index, text in enumerate(COMMANDS):
        spoken = speech.trim(speech.piper(text))
        audio = speech.concat(speech.silence(LEAD_S), spoken, speech.silence(TAIL_S))
        path = work / f"command-{index:02d}.wav"
        write_wav(path, audio, SAMPLE_RATE)
        files.append((text, path, LEAD_S + len(spoken) / SAMPLE_RATE))

    report: dict[str, Any] = {
        "load_average_before": os.getloadavg(),
        "delay_ms": args.delay_ms,
        "interim_every_s": args.interim_every_s if args.realtime else None,
    }
    # fast playback outruns the 300 ms answer in audio time: semantic endpointing only means something live
    modes = (True, False) if args.realtime else (False,)
    with DeepgramStandIn() as deepgram:
        report["connect_ms"] = summary(asyncio.run(connect_cost(deepgram.url)))
        cold: dict[bool, list[Any]] = {mode: [] for mode in modes}
        warmed: dict[bool, list[Any]] = {}
        for run in range(args.runs):
            for mode in modes:
                unit = fresh_unit(work, f"cold-{run}-{mode}", deepgram.url)
                cold[mode] += over(
                    unit, deepgram, files, args.realtime, mode, finalize_delay_s=delay, **cadence
                )
                if run == args.runs - 1:
                    warmed[mode] = over(
                        unit, deepgram, files, args.realtime, mode, finalize_delay_s=delay, **cadence
                    )
                if run == args.runs - 1 and mode is False:
                    warm = warmed[mode]
                    synth = []
                    for clause in sorted({split_clauses(r.reply)[0] for r, _, _ in cold[mode]}):
                        started = time.perf_counter()
                        unit.tts.synthesize(clause)
                        synth.append(time.perf_counter() - started)
                unit.close()
        unit = fresh_unit(work, "endpointed", deepgram.url)
        endpointed = over(
            unit,
            deepgram,
            files,
            args.realtime,
            False,
            finalize_delay_s=delay,
            endpoint_on_silence=True,
            **cadence,
        )
        never = over(unit, deepgram, files[:5], args.realtime, False, answer_finalize=False, **cadence)
        refused = over(unit, deepgram, files[:5], args.realtime, False, reject=429, **cadence)
        unit.close()

    def grammar(results: list[Any], engine: str = "deepgram") -> list[Any]:
        return [r for r, _, _ in results if r.command.resolver == "grammar" and r.engine.startswith(engine)]

    def deepgram_grammar(results: list[Any]) -> list[Any]:
        return [x for x in results if x[0].command.resolver == "grammar" and x[0].engine == "deepgram"]

    def acoustic(results: list[Any]) -> dict[str, float]:
        return summary([acoustic_latency(r, end) for r, end, _ in deepgram_grammar(results)])

    def pause(results: list[Any], mark: str) -> dict[str, float]:
        return summary([marks[mark] for _, _, marks in deepgram_grammar(results) if mark in marks])

    off = grammar(cold[False])
    warm_, endpointed_ = grammar(warm), grammar(endpointed)
    report.update(
        {
            "cold_finalize_to_transcript": summary([r.speech_end_to_transcript_s for r in off]),
            "cold_transcript_to_command": summary([r.transcript_to_command_s for r in off]),
            "cold_command_to_first_audio": summary([r.command_to_first_audio_s for r in off]),
            "cold_endpoint_to_first_audio": summary([latency(r) for r in off]),
            "cold_speech_end_to_first_audio": summary([r.endpoint_delay_s + latency(r) for r in off]),
            "warm_endpoint_to_first_audio": summary([latency(r) for r in warm_]),
            "piper_first_clause_synth": summary(synth),
            "endpointed_finalize_to_transcript": summary([r.speech_end_to_transcript_s for r in endpointed_]),
            "endpointed_endpoint_to_first_audio": summary([latency(r) for r in endpointed_]),
            "whisper_after_no_final_endpoint_to_first_audio": summary(
                [latency(r) for r in grammar(never, "whisper")]
            ),
            "whisper_after_429_endpoint_to_first_audio": summary(
                [latency(r) for r in grammar(refused, "whisper")]
            ),
            "statuses": {s: sum(r.status == s for r in off) for s in sorted({r.status for r in off})},
        }
    )
    if args.realtime:
        on = grammar(cold[True])
        report.update(
            {
                "semantic_off_acoustic_end_to_first_audio": acoustic(cold[False]),
                "semantic_on_acoustic_end_to_first_audio": acoustic(cold[True]),
                "semantic_off_warm_acoustic_end_to_first_audio": acoustic(warmed[False]),
                "semantic_on_warm_acoustic_end_to_first_audio": acoustic(warmed[True]),
                **{
                    f"semantic_{side}_{mark}": pause(cold[mode], mark)
                    for side, mode in (("on", True), ("off", False))
                    for mark in ("vad_end", "final_asked", "final_judged", "turn_ended")
                },
                "semantic_on_early_ends": sum(r.endpoint.reason == "semantic" for r in on),
                "semantic_on_replies_prepared": sum("prepared" in marks for _, _, marks in cold[True]),
                "semantic_on_replies_prepared_at_final": sum(
                    "prepared_at_final" in marks for _, _, marks in cold[True]
                ),
                "semantic_on_statuses": {
                    s: sum(r.status == s for r in on) for s in sorted({r.status for r in on})
                },
            }
        )
    report["load_average_after"] = os.getloadavg()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"Deepgram stand-in answering {args.delay_ms:.0f} ms after Finalize; {len(off)} cold grammar-resolved commands"
    )
    print(f"{'ms':48} {'p50':>6} {'p95':>6} {'max':>6}")
    for key, row in report.items():
        if isinstance(row, dict) and "p50_ms" in row:
            print(f"{key:48} {row['p50_ms']:6.0f} {row['p95_ms']:6.0f} {row['max_ms']:6.0f}   (n={row['n']})")
    print("statuses:", report["statuses"])
    if args.realtime:
        print(
            "semantic endpointing on: early ends",
            report["semantic_on_early_ends"],
            report["semantic_on_statuses"],
            "; first clause rendered from the interim words while Finalize was answered:",
            report["semantic_on_replies_prepared"],
            "(from the final's words:",
            f"{report['semantic_on_replies_prepared_at_final']})",
        )
    print("load average before / after:", report["load_average_before"], report["load_average_after"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
