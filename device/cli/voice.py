"""Voice commands: ``transcribe``, ``simulate``, ``listen``, ``run`` and ``wake test``."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from device.settings import load_settings


def register(sub: Any) -> None:
    transcribe = sub.add_parser("transcribe", help="speech to text for WAV files (offline Whisper)")
    transcribe.add_argument("files", nargs="+", type=Path)
    transcribe.add_argument("--json", action="store_true")
    transcribe.set_defaults(func=cmd_transcribe)

    simulate = sub.add_parser(
        "simulate", help="run VAD -> speech-to-text -> command -> apply -> reply per file"
    )
    simulate.add_argument("files", nargs="+", type=Path)
    simulate.add_argument("--json", action="store_true")
    simulate.add_argument("--replies", type=Path, help="write spoken replies as WAV files here")
    simulate.set_defaults(func=cmd_simulate)

    listen = sub.add_parser("listen", help="the full pipeline, wake word included, over a WAV file")
    listen.add_argument(
        "--input", type=_source, required=True, help="a WAV file, or 'demo' for the bundled recording"
    )
    listen.add_argument("--json", action="store_true", help="one JSON line per pipeline event")
    listen.add_argument("--replies", type=Path, help="write spoken replies as WAV files here")
    listen.add_argument("--realtime", action="store_true", help="play the file at real-time pace")
    listen.add_argument(
        "--web", action="store_true", help="serve the unit's page while listening, and after, until Ctrl-C"
    )
    listen.set_defaults(func=cmd_listen)

    run = sub.add_parser("run", help="the daemon: microphone in, speaker out")
    run.add_argument(
        "--input", type=_source, help="a WAV file instead of the microphone ('demo': the bundled recording)"
    )
    run.add_argument("--replies", type=Path, help="with --input: write spoken replies as WAV files here")
    run.add_argument("--json", action="store_true", help="print pipeline events as JSON lines")
    run.add_argument("--realtime", action="store_true", help="with --input: play the file at real-time pace")
    run.add_argument(
        "--stay",
        action="store_true",
        help="with --input: keep running (the page, sync) after it, until Ctrl-C",
    )
    run.set_defaults(func=cmd_run)

    wake = sub.add_parser("wake", help="wake word tools")
    wake_sub = wake.add_subparsers(dest="wake_command", metavar="ACTION", required=True)
    test = wake_sub.add_parser(
        "test",
        help="print each wake detection and check; over a site recording, false wakes per hour per sensitivity",
    )
    test.add_argument(
        "--input",
        type=_source,
        help="a WAV file of the site at work, no wake word said: heard at every sensitivity, every wake "
        "counted as false, the result kept for `larder doctor` (default: the microphone; 'demo': the bundled "
        "recording)",
    )
    test.add_argument("--json", action="store_true")
    test.set_defaults(func=cmd_wake_test)


def _unit() -> Any:
    from device.app import Unit

    return Unit(load_settings())


def cmd_transcribe(args: argparse.Namespace) -> int:
    from device.audio.resample import to_mono_16k
    from device.audio.wav import read_wav
    from device.stt.prompt import initial_prompt

    unit = _unit()
    prompt = initial_prompt(unit.catalogue, count_tokens=unit.whisper.count_tokens)
    failed = 0
    for path in args.files:
        try:
            audio, rate = read_wav(path)
        except Exception as exc:  # one bad file must not stop the others
            failed += 1
            _emit(args.json, {"file": str(path), "error": str(exc)}, f"{path}: {exc}")
            continue
        started = time.perf_counter()
        transcript = unit.whisper.transcribe(to_mono_16k(audio, rate), prompt=prompt)
        seconds = time.perf_counter() - started
        _emit(
            args.json,
            {"file": str(path), "text": transcript.text, "seconds": round(seconds, 3)},
            f"{path}: {transcript.text}  ({seconds:.2f} s)",
        )
    unit.close()
    return 1 if failed else 0


def cmd_simulate(args: argparse.Namespace) -> int:
    return asyncio.run(_simulate(args))


async def _simulate(args: argparse.Namespace) -> int:
    from device.audio.wav import read_wav

    unit = _unit()
    speaker = unit.speaker(args.replies, device=False)
    await asyncio.to_thread(unit.warm_up)
    failed = 0
    for path in args.files:
        try:
            read_wav(path)  # an unreadable file is this file's error, not a silent empty command
            microphone = unit.microphone(str(path), realtime=False)
            pipeline = unit.pipeline(microphone, speaker, wake=False)
            result = await pipeline.listen_and_respond(microphone.chunks())
        except Exception as exc:
            failed += 1
            _emit(args.json, {"file": str(path), "error": str(exc)}, f"{path}: {exc}")
            continue
        if result is None:
            _emit(
                args.json, {"file": str(path), "transcript": "", "command": None, "reply": ""}, f"{path}: -"
            )
            continue
        record = {
            "file": str(path),
            "transcript": result.transcript,
            "engine": result.engine,
            "command": result.command.to_json() if result.command else None,
            "reply": result.reply,
            "status": result.status,
            "latency": {
                "endpoint_delay_s": round(result.endpoint_delay_s, 3),
                "speech_end_to_transcript_s": round(result.speech_end_to_transcript_s, 3),
                "transcript_to_command_s": round(result.transcript_to_command_s, 3),
                "command_to_first_audio_s": round(result.command_to_first_audio_s, 3),
            },
        }
        _emit(args.json, record, f"{path}: {result.transcript!r} -> {result.reply}")
    await unit.aclose()
    return 1 if failed else 0


def cmd_listen(args: argparse.Namespace) -> int:
    return asyncio.run(_listen(args, daemon=False))


def cmd_run(args: argparse.Namespace) -> int:
    return asyncio.run(_listen(args, daemon=True))


async def _listen(args: argparse.Namespace, *, daemon: bool) -> int:
    from device.app import metered, run_daemon

    unit = _unit()
    _print_events(unit, as_json=args.json)
    try:
        if daemon:
            from device.logging_setup import configure_logging

            configure_logging(unit.settings)
            return await run_daemon(
                unit,
                args.input,
                replies_dir=args.replies,
                realtime=args.realtime,
                stay=args.stay and bool(args.input),
            )
        microphone = unit.microphone(args.input, realtime=args.realtime)
        speaker = unit.speaker(args.replies, device=False)
        if not args.web:
            await asyncio.to_thread(unit.warm_up)
            await unit.pipeline(microphone, speaker, clock=None).run()
            return 0
        return await _listen_with_page(unit, metered(unit, microphone), speaker)
    finally:
        await unit.aclose()


async def _listen_with_page(unit: Any, microphone: Any, speaker: Any) -> int:
    """``listen --web``: the pipeline and the unit's page; the page stays after the file until Ctrl-C."""
    from device.app import follow_store, serve_page

    await asyncio.to_thread(unit.warm_up)
    pipeline = unit.pipeline(microphone, speaker, clock=None)
    page = await serve_page(unit, pipeline)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    follow = asyncio.ensure_future(follow_store(unit))
    listening = asyncio.ensure_future(pipeline.run())
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({listening, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if listening.done():
            listening.result()  # the pipeline's own error, if it had one
            await stopped
        return 0
    finally:
        for task in (follow, listening, stopped):
            task.cancel()
        if page is not None:
            await page.stop()


def _source(text: str) -> str:
    """``--input``: a file or 'demo'; an empty value would silently mean the microphone."""
    if not text.strip():
        raise argparse.ArgumentTypeError("needs a WAV file or 'demo'")
    return text


def _print_events(unit: Any, *, as_json: bool) -> None:
    from device.pipeline import events as ev

    closed = False

    def show(event: ev.Event) -> None:
        nonlocal closed
        line = json.dumps(event.to_json(), default=str) if as_json else _describe(event)
        if not line or closed:
            return
        try:
            print(line, flush=True)
        except BrokenPipeError:  # the reader left (`| head`): the run goes on, quietly
            closed = True
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)

    unit.bus.subscribe(show)


def _describe(event: Any) -> str | None:
    from device.pipeline import events as ev

    stamp = f"[{event.audio_s:7.2f}s]" if event.audio_s is not None else " " * 10
    match event:
        case ev.Wake():
            return f"{stamp} woke ({event.source}, score {event.score:.2f})"
        case ev.TranscriptReady():
            return f"{stamp} heard: {event.text!r} ({event.engine}, {event.seconds:.2f} s)"
        case ev.Outcome():
            return f"{stamp} {event.status}: {event.reply}"
        case ev.ErrorEvent():
            return f"{stamp} error ({event.code}): {event.message}"
    return None


def cmd_wake_test(args: argparse.Namespace) -> int:
    return asyncio.run(_wake_test(args))


async def _wake_test(args: argparse.Namespace) -> int:
    """Each detection and check at the configured sensitivity; over a site recording (a file), at every
    sensitivity, with false wakes per hour and the sensitivity to use, kept in the data folder for the doctor."""
    from device.protocols import CHUNK_SECONDS
    from device.wake.site import SENSITIVITIES, SiteTest

    unit = _unit()
    settings = unit.settings
    site = args.input is not None and args.input != "demo"
    sensitivities = SENSITIVITIES if site else (settings.wake_sensitivity,)
    test = SiteTest(settings, unit.wake_check, sensitivities)
    microphone = unit.microphone(args.input, realtime=False)
    position = 0.0
    async for chunk in microphone.chunks():
        position += CHUNK_SECONDS
        for heard in test.feed(chunk):
            _emit_heard(args.json, heard, tagged=site)
    seconds = max(0.0, position - getattr(microphone, "tail_silence_s", 0.0))  # not the file's padding
    result = test.result(str(args.input), seconds)
    if not site:
        if not args.json:
            print(f"{result.wakes[settings.wake_sensitivity]} detection(s) in {seconds:.1f} s of audio")
        return 0
    path = result.save(settings.data_dir)
    _emit_site(args.json, result, settings.wake_sensitivity, path)
    return 0


def _emit_heard(as_json: bool, heard: Any, *, tagged: bool) -> None:
    tag = f"{heard.sensitivity:<7}" if tagged else ""
    extra = {"sensitivity": str(heard.sensitivity)} if tagged else {}
    if heard.check is not None:
        check = heard.check
        verdict = "woke" if check.accepted else "asking again" if check.asks_again else "ignored"
        _emit(
            as_json,
            {
                "event": "check",
                **extra,
                "at_s": round(check.at_s, 2),
                "score": round(check.score, 3),
                "listener": check.listener,
                "heard": check.transcript,
                "woke": check.accepted,
                "asks_again": check.asks_again,
            },
            f"{tag}{check.at_s:7.2f}s  borderline {check.score:.2f} ({check.listener} listener): "
            f"Whisper heard {check.transcript!r}, {verdict}",
        )
    if heard.hit is not None:
        hit = heard.hit
        _emit(
            as_json,
            {
                "event": "wake",
                **extra,
                "at_s": round(hit.at_s, 2),
                "model": hit.model,
                "score": round(hit.score, 3),
            },
            f"{tag}{hit.at_s:7.2f}s  {hit.model}  score {hit.score:.2f}",
        )


def _emit_site(as_json: bool, result: Any, configured: Any, path: Path) -> None:
    """False wakes per hour at each sensitivity (every wake in a site recording is false), and the choice."""
    hours = result.seconds / 3600
    for sensitivity, wakes in result.wakes.items():
        checks, cpu = result.checks[sensitivity], result.check_cpu_s[sensitivity]
        per_hour = {
            "false_wakes_per_hour": round(result.per_hour(sensitivity), 2),
            "checks_per_hour": round(checks / hours, 1) if hours else 0.0,
            "check_cpu_s_per_hour": round(cpu / hours, 1) if hours else 0.0,
        }
        mark = "  (configured)" if sensitivity == configured else ""
        _emit(
            as_json,
            {
                "event": "sensitivity",
                "sensitivity": str(sensitivity),
                "false_wakes": wakes,
                "checks": checks,
                "check_cpu_s": cpu,
                **per_hour,
            },
            f"{sensitivity:<7} {wakes} false wake(s), {per_hour['false_wakes_per_hour']:.1f} an hour; "
            f"{checks} Whisper check(s), {per_hour['check_cpu_s_per_hour']:.0f} s of CPU an hour{mark}",
        )
    suggested = result.suggested
    _emit(
        as_json,
        {
            "event": "summary",
            "file": result.file,
            "seconds": round(result.seconds, 1),
            "suggested": str(suggested),
            "configured": str(configured),
            "saved": str(path),
        },
        f"{result.seconds / 60:.1f} min of audio, every wake counted as false. Suggested sensitivity: "
        f"{suggested} (the most sensitive with at most 1 false wake an hour); configured: {configured}. "
        f"Saved for `larder doctor` in {path}",
    )


def _emit(as_json: bool, record: dict[str, Any], text: str) -> None:
    print(json.dumps(record) if as_json else text, file=sys.stdout, flush=True)
