"""Runs a benchmark: every manifest file through Larder's offline path, then idle cost, memory and the peer.

The unit is built by ``device.app.Unit`` from the caller's settings, with three changes so a run is offline,
repeatable and harmless: a throwaway data folder (its own store, on the demo catalogue unless ``--catalog`` or a
line's ``catalog`` names another), Whisper as the speech engine, and no LLM. Each file goes through
``unit.pipeline(microphone, speaker, wake=False, clock=None).listen_and_respond`` exactly as ``larder simulate``
and the daemon's post-wake path do. A question left pending by one file is cancelled before the next, so every
file is a fresh command. Order: models load and warm up, idle cost, the files, peak RSS (before the peer loads,
so it is Larder's own), then the peer over the same files.
"""

from __future__ import annotations

import asyncio
import logging
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from device.bench.manifest import Entry, LineError, read_manifest
from device.bench.metrics import peak_rss_mib
from device.bench.results import BenchResult, FileResult
from device.errors import LarderError
from device.pipeline.turns import StageTimeouts
from device.settings import Settings, SttEngine

log = logging.getLogger(__name__)
#: ``--fast``'s time boxes: an hour a stage (a loaded machine makes a transcription slow, not wrong)
UNBOXED = StageTimeouts(transcribe=3600.0, resolve=3600.0, dialogue=3600.0, speak=3600.0)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BenchOptions:
    manifest: Path
    catalog: Path | None = None
    idle_file: Path | None = None
    idle_seconds: float = 60.0
    peer: bool = True
    #: play each file at real-time pace, as a microphone delivers it, and time the stages by the wall clock;
    #: ``False`` plays files as fast as possible and credits a draft transcription with the audio it overlapped
    realtime: bool = True
    #: run every file a second time with semantic endpointing the other way (on and off, alternating which goes
    #: first), for ``BenchResult.semantic``
    compare_semantic: bool = True


def default_idle_file() -> Path | None:
    """The kitchen noise recording of a source checkout (tests/data/noise/kitchen.wav), if there is one."""
    path = Path(__file__).resolve().parents[2] / "tests" / "data" / "noise" / "kitchen.wav"
    return path if path.is_file() else None


def bench_settings(settings: Settings, data_dir: Path) -> Settings:
    """The caller's settings, made offline and pointed at a throwaway data folder."""
    return settings.model_copy(
        update={"data_dir": data_dir, "stt": SttEngine.WHISPER, "llm_base_url": "", "tts_cache_dir": None}
    )


async def run_bench(
    settings: Settings, options: BenchOptions, progress: Progress | None = None
) -> BenchResult:
    """The whole benchmark; per-file problems are recorded in the result, never raised."""
    say = progress or (lambda message: None)
    entries, bad_lines = read_manifest(options.manifest)
    with tempfile.TemporaryDirectory(prefix="larder-bench-") as scratch:
        return await _run(settings, options, entries, bad_lines, Path(scratch), say)


async def _run(
    settings: Settings,
    options: BenchOptions,
    entries: list[Entry],
    bad_lines: list[LineError],
    scratch: Path,
    say: Progress,
) -> BenchResult:
    from device.app import Unit
    from device.inventory.catalog import load_csv

    load_before = os.getloadavg()
    unit = Unit(bench_settings(settings, scratch / "data"))
    try:
        if options.catalog is not None:
            unit.store.replace_catalogue(load_csv(options.catalog))
        say("loading models")
        await asyncio.to_thread(unit.warm_up)
        _ = unit.wake
        await asyncio.to_thread(unit.whisper.warm_up)
        idle = None
        idle_file = options.idle_file or default_idle_file()
        if idle_file is not None and options.idle_seconds > 0:
            say(f"idle listening over {options.idle_seconds:g} s of {idle_file.name}")
            idle = await _idle(unit, idle_file, options.idle_seconds, scratch)
        catalogues = _Catalogues(unit, options.catalog)
        files = [_failed_line(bad) for bad in bad_lines]
        other: list[FileResult] = []
        commands: dict[str, int] = {}
        for number, entry in enumerate(entries, start=1):
            say(f"[{number}/{len(entries)}] {entry.path.name}")
            if options.compare_semantic:
                files_, other_ = await _both_ways(
                    unit, entry, catalogues, options, first_default=default_first(commands, entry.text)
                )
                files.append(files_)
                other.append(other_)
            else:
                files.append(await _one(unit, entry, catalogues, realtime=options.realtime))
        files.sort(key=lambda f: f.line)
        peak = peak_rss_mib()
        load_at_peer = os.getloadavg()
        peer = None
        if options.peer:
            say("peer: faster-whisper with the library's defaults")
            peer = await _run_peer(unit, entries, files, catalogues, say)
        return BenchResult(
            files=files,
            semantic_other=other if options.compare_semantic else None,
            idle=idle,
            peak_rss_mb=peak,
            peer=peer,
            machine=machine(load_before, load_at_peer, os.getloadavg()),
            config=_config(unit.settings, unit, options),
        )
    finally:
        unit.close()


class _Catalogues:
    """Switches the unit's catalogue when a manifest line names its own (the default otherwise)."""

    def __init__(self, unit: Any, default: Path | None) -> None:
        self.unit = unit
        self.default = default
        self.current = default

    def use(self, wanted: Path | None) -> None:
        from device.inventory.catalog import demo_catalogue, load_csv

        wanted = wanted or self.default
        if wanted == self.current:
            return
        catalogue = load_csv(wanted) if wanted is not None else demo_catalogue()
        self.unit.store.replace_catalogue(catalogue)
        self.unit.catalogue_changed(catalogue)
        self.current = wanted


async def _idle(unit: Any, path: Path, seconds: float, scratch: Path) -> Any:
    from device.bench.idle import load_noise, measure_idle

    try:
        noise = load_noise(path, seconds)
    except LarderError as exc:
        log.warning("idle measurement skipped: %s", exc.message)
        return None
    await asyncio.sleep(0.5)  # let worker threads of the warm-up settle before counting CPU
    return await measure_idle(unit, noise, str(path), scratch)


def _failed_line(bad: LineError) -> FileResult:
    return FileResult(
        line=bad.line,
        path="",
        cond=bad.cond,
        text=bad.text,
        expect={} if bad.has_expect else None,
        error=bad.message,
        bad_input=True,
    )


def default_first(commands: dict[str, int], text: str | None) -> bool:
    """Whether the settings' side of the semantic comparison runs first for a file. It alternates by command, not
    by file: the files of one command follow each other in a manifest, and only the first of them finds its reply
    missing from the phrase cache, so each side meets half of the replies Piper must render. ``commands`` holds
    the order in which texts were first seen."""
    return commands.setdefault(text or "", len(commands)) % 2 == 0


async def _both_ways(
    unit: Any, entry: Entry, catalogues: _Catalogues, options: BenchOptions, *, first_default: bool
) -> tuple[FileResult, FileResult]:
    """The file with the settings' semantic endpointing and with it the other way (``first_default``: in that
    order; see ``default_first``)."""
    default = bool(unit.settings.semantic_endpointing)
    order = (default, not default) if first_default else (not default, default)
    results = {}
    for semantic in order:
        _settle(unit)
        results[semantic] = await _one(unit, entry, catalogues, realtime=options.realtime, semantic=semantic)
    return results[default], results[not default]


async def _one(
    unit: Any, entry: Entry, catalogues: _Catalogues, *, realtime: bool, semantic: bool | None = None
) -> FileResult:
    """One file through the pipeline; any failure is this file's error, in plain words."""
    from device.pipeline import events as ev

    result = FileResult(
        line=entry.line, path=str(entry.path), cond=entry.cond, text=entry.text, expect=entry.expect
    )
    problems: list[str] = []
    seen: dict[str, float] = {}
    pauses: list[ev.Event] = []

    def note(event: ev.Event) -> None:
        if isinstance(event, ev.ErrorEvent):
            problems.append(f"{event.code}: {event.message}")
        if isinstance(event, ev.DraftStarted | ev.PauseJudged | ev.FinalAsked | ev.ReplyPrepared):
            pauses.append(event)
        seen.setdefault(event.kind, event.at)

    try:
        catalogues.use(entry.catalog)
        microphone = unit.microphone(str(entry.path), realtime=realtime)
        await asyncio.to_thread(microphone.load)  # an unreadable file is this file's error, said plainly
    except LarderError as exc:
        result.error = f"{entry.label}: {exc.message}"
        result.bad_input = True
        return result
    unsubscribe = unit.bus.subscribe(note)
    try:
        _settle(unit)
        pipeline = unit.pipeline(
            microphone,
            unit.speaker(None, device=False),
            wake=False,
            clock=None,
            semantic=semantic,
            # files played fast measure what is understood, not time: a loaded machine must not fail them
            timeouts=None if realtime else UNBOXED,
        )
        synthesised = unit.tts.synth_count
        outcome = await pipeline.listen_and_respond(microphone.chunks())
        result.reply_rendered = unit.tts.synth_count > synthesised
    except LarderError as exc:
        result.error = f"{entry.label}: {exc.message}"
        return result
    except Exception as exc:  # one broken file must not stop the run
        log.debug("bench file failed", exc_info=True)
        result.error = f"{entry.label}: {type(exc).__name__}: {exc}"
        return result
    finally:
        unsubscribe()
    if outcome is None:
        reason = "; ".join(problems) or "no speech was heard"
        result.error = f"{entry.label}: {reason}"
        return result
    delay = outcome.endpoint_delay_s
    if entry.speech_end_s is not None:
        delay = max(0.0, outcome.endpoint.decided_at_s - entry.speech_end_s)
    result.transcript = outcome.transcript
    result.command = outcome.command.to_json() if outcome.command is not None else None
    result.reply = outcome.reply
    result.status = outcome.status
    result.endpoint = outcome.endpoint.reason
    result.semantic = unit.settings.semantic_endpointing if semantic is None else semantic
    if entry.speech_end_s is not None and outcome.endpoint.speech_end_s is not None:
        result.speech_left_s = max(0.0, entry.speech_end_s - outcome.endpoint.speech_end_s)
    # Whisper's time for the peer comparison: live, a draft began `draft_lead_s` before the endpoint decision
    result.stt_seconds = outcome.speech_end_to_transcript_s + (outcome.draft_lead_s if realtime else 0.0)
    if realtime and microphone.started_at is not None:
        speech_end = entry.speech_end_s if entry.speech_end_s is not None else outcome.endpoint.speech_end_s
        result.stages = _wall_stages(seen, microphone.started_at + (speech_end or 0.0))
        result.marks = _pause_marks(pauses, outcome.endpoint, speech_end, microphone.started_at)
    else:
        # the file played faster than real time; live, a draft started `draft_lead_s` of audio before the
        # endpoint decision overlaps that much of the wait, so only the rest is latency
        result.stages = {
            "endpoint_delay_s": delay,
            "speech_end_to_transcript_s": max(0.0, outcome.speech_end_to_transcript_s - outcome.draft_lead_s),
            "transcript_to_command_s": outcome.transcript_to_command_s,
            "command_to_first_audio_s": outcome.command_to_first_audio_s,
        }
    if problems:
        result.error = f"{entry.label}: {'; '.join(problems)}"
    return result


def _wall_stages(seen: dict[str, float], speech_end_at: float) -> dict[str, float]:
    """The four stages from the events' monotonic stamps, starting when the last word was captured."""
    marks = [
        speech_end_at,
        seen["speech_end"],
        seen["transcript"],
        seen["command"],
        seen.get("reply_started", seen["outcome"]),
    ]
    names = (
        "endpoint_delay_s",
        "speech_end_to_transcript_s",
        "transcript_to_command_s",
        "command_to_first_audio_s",
    )
    return {
        name: max(0.0, later - earlier) for name, earlier, later in zip(names, marks, marks[1:], strict=False)
    }


def _pause_marks(
    events: list[Any], endpoint: Any, speech_end_s: float | None, started_at: float
) -> dict[str, float]:
    """``results.MARKS`` of the final pause: its events (those about the endpoint's end of speech), in seconds
    after the end of speech in the file. Audio time is wall time here: the file plays at real-time pace."""
    if speech_end_s is None or endpoint.speech_end_s is None:
        return {}
    marks = {"vad_end_s": endpoint.speech_end_s - speech_end_s}
    names = {
        "draft_started": "draft_started_s",
        "pause_judged": "words_judged_s",
        "final_asked": "final_asked_s",
        "reply_prepared": "reply_prepared_s",
    }
    for event in events:
        name = names[event.kind]
        if abs(event.speech_end_s - endpoint.speech_end_s) < 1e-6 and name not in marks:
            marks[name] = event.at - started_at - speech_end_s
    return marks


def _settle(unit: Any) -> None:
    """Cancel a question the previous file left pending (as the cancel button would)."""
    if unit.dialogue.pending is not None:
        unit.dialogue.button("cancel", time.time())


async def _run_peer(
    unit: Any, entries: list[Entry], files: list[FileResult], catalogues: _Catalogues, say: Progress
) -> dict[str, Any] | None:
    from device.bench.peer import DESCRIPTION, PeerWhisper

    by_line = {f.line: f for f in files}
    try:
        peer = await asyncio.to_thread(PeerWhisper, unit.whisper.model_dir)
    except LarderError as exc:
        say(f"peer skipped: {exc.message}")
        return None
    warmed = False
    for number, entry in enumerate(entries, start=1):
        record = by_line[entry.line]
        try:
            audio = unit.microphone(str(entry.path), realtime=False).load()
            if not warmed:  # the first call allocates: keep it out of the timings, as Larder's warm-up does
                await asyncio.to_thread(peer.transcribe, audio)
                warmed = True
            say(f"peer [{number}/{len(entries)}] {entry.path.name}")
            heard = await asyncio.to_thread(peer.transcribe, audio)
            catalogues.use(entry.catalog)
            command = await unit.resolver.resolve(heard.text)
        except LarderError as exc:
            record.peer_error = exc.message
            continue
        record.peer_transcript = heard.text
        record.peer_seconds = heard.seconds
        record.peer_command = command.to_json()
    return {
        "engine": DESCRIPTION,
        "model_dir": str(peer.model_dir),
        "compute_type": peer.compute_type,
        "load_s": round(peer.load_seconds, 3),
    }


def machine(*loads: tuple[float, float, float]) -> dict[str, Any]:
    """What the figures were measured on, and how busy it was: 1-minute load averages at the start, when the
    peer started and at the end (others' work on a shared machine slows every figure but memory)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        system = platform.freedesktop_os_release().get("PRETTY_NAME", platform.system())
    except OSError:
        system = platform.system()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "arch": platform.machine(),
        "os": system,
        "python": sys.version.split()[0],
        "load": [round(load[0], 2) for load in loads],
    }


def _config(settings: Settings, unit: Any, options: BenchOptions) -> dict[str, Any]:
    return {
        "manifest": str(options.manifest),
        "catalog": str(options.catalog) if options.catalog else "demo",
        "whisper": unit.whisper.name,
        "whisper_threads": settings.whisper_threads,
        "end_silence_s": settings.end_silence_s,
        "semantic_endpointing": settings.semantic_endpointing,
        "semantic_pause_s": settings.semantic_pause_s,
        "semantic_hold_s": settings.semantic_hold_s,
        "semantic_open_silence_s": settings.semantic_open_silence_s,
        "vad_threshold": settings.vad_threshold,
        "wake_model": settings.wake_model.value,
        "wake_sensitivity": settings.wake_sensitivity.value,
    }
