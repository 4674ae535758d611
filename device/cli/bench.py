"""``larder bench``: measure the offline voice path over a manifest of recordings, next to a generic peer.

    larder bench --manifest tests/data/bench/manifest.jsonl [--out DIR] [--json]

Prints one line per file, then the figures. With ``--json`` every line is a JSON object and the last one is
the summary (files, accuracy, wer, peer_wer, stt_time_ratio_vs_peer, latency_p50_s, latency_p95_s,
idle_cpu_fraction, peak_rss_mb). Progress goes to stderr. Exit code 1 when a manifest line or its WAV could not
be used (a command the pipeline got wrong or missed is a result, not an error), and before anything runs when
the manifest cannot be read or ``--out`` cannot be written.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

from device.errors import BenchError
from device.settings import load_settings


def register(sub: Any) -> None:
    bench = sub.add_parser("bench", help="benchmark accuracy, latency, idle CPU and memory over a manifest")
    add_arguments(bench)
    bench.set_defaults(func=cmd_bench)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--manifest", required=True, type=Path, help="JSON lines: path, text, speech_end_s, expect"
    )
    parser.add_argument("--out", type=Path, help="write report.md, latency.png and accuracy.png here")
    parser.add_argument("--json", action="store_true", help="JSON lines; the last one is the summary")
    parser.add_argument(
        "--catalog", type=Path, help="catalogue CSV for the run (default: the demo catalogue)"
    )
    parser.add_argument(
        "--idle", type=Path, help="noise WAV for idle CPU (default: the checkout's kitchen noise)"
    )
    parser.add_argument("--idle-seconds", type=_seconds, default=60.0, help="seconds of idle audio (0: skip)")
    parser.add_argument("--no-peer", action="store_true", help="skip the faster-whisper peer")
    parser.add_argument(
        "--no-semantic-compare",
        action="store_true",
        help="run each file once, with the settings' semantic endpointing (default: on and off, same files)",
    )
    parser.add_argument(
        "--fast",
        action="store_true",
        help="play files as fast as possible instead of at real-time pace (quicker; latency is then estimated)",
    )


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"seconds must be 0 or more: {text!r}")
    return value


def _check_out(out: Path) -> None:
    """Fail before minutes of measuring, not after, when the report cannot be written."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        why = "it is a file, not a folder" if out.is_file() else exc.strerror or exc
        raise BenchError(f"cannot write the report to {out}: {why}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise BenchError(f"cannot write the report to {out}: permission denied")


def cmd_bench(args: argparse.Namespace) -> int:
    from device.bench.runner import BenchOptions, run_bench

    if args.out is not None:
        _check_out(args.out)
    options = BenchOptions(
        manifest=args.manifest,
        catalog=args.catalog,
        idle_file=args.idle,
        idle_seconds=args.idle_seconds,
        peer=not args.no_peer,
        realtime=not args.fast,
        compare_semantic=not args.no_semantic_compare,
    )
    result = asyncio.run(run_bench(load_settings(), options, progress=_progress))
    for record in result.files:
        _print_file(record, as_json=args.json)
    summary = result.summary()
    if args.out is not None:
        from device.bench.report import write_report

        try:
            written = write_report(result, args.out)
        except OSError as exc:
            raise BenchError(f"cannot write the report to {args.out}: {exc.strerror or exc}") from None
        print(f"wrote {', '.join(str(p) for p in written)}", file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps(result.details()))
        print(json.dumps(summary), flush=True)
    else:
        _print_summary(result, summary)
    return 1 if result.bad_inputs else 0


def _progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _print_file(record: Any, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(record.to_json()))
        return
    if record.error is not None:
        print(f"FAIL  {record.error}")
        return
    mark = {True: "ok   ", False: "MISS ", None: "     "}[record.correct]
    latency = f"{record.latency_s * 1000:5.0f} ms" if record.latency_s is not None else "      -"
    print(f"{mark} {latency}  {Path(record.path).name}: {record.transcript!r} -> {record.reply}")


def _print_summary(result: Any, summary: dict[str, Any]) -> None:
    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.1%}"

    def ms(value: float | None) -> str:
        return "n/a" if value is None else f"{value * 1000:.0f} ms"

    ratio = summary["stt_time_ratio_vs_peer"]
    print()
    print(f"files {summary['files']} ({len(result.failures)} failed)")
    print(
        f"accuracy {pct(summary['accuracy'])}   WER {pct(summary['wer'])}   peer WER {pct(summary['peer_wer'])}"
    )
    print(f"transcription time vs peer: {'n/a' if ratio is None else f'{ratio:.2f}x'}")
    print(f"latency p50 {ms(summary['latency_p50_s'])}   p95 {ms(summary['latency_p95_s'])}")
    for cond, row in result.by_condition().items():
        print(
            f"  {cond:16s} accuracy {pct(row['accuracy'])}  WER {pct(row['wer'])}  peer WER {pct(row['peer_wer'])}"
        )
    _print_trust(result)
    _print_semantic(result.semantic())
    print(f"idle CPU (wake word + VAD) {pct(summary['idle_cpu_fraction'])} of one core")
    rss = summary["peak_rss_mb"]
    print(f"peak RSS {'n/a' if rss is None else f'{rss:.0f} MiB'}")


def _print_trust(result: Any) -> None:
    """Silent wrong changes (stock changed without a question, not as said) beside accuracy, per noise level."""
    from device.bench.trust import by_group, tally

    rows = {"all": tally(result.files), **by_group(result.files, "noise")}
    if not rows["all"]["files"]:
        return
    for name, row in rows.items():
        print(
            f"  silent wrong changes {name:12s} {row['silent_wrong']}/{row['files']}"
            f"  (non-commands {row['non_command_changed']}, asked {row['asked']})"
        )


def _print_semantic(comparison: dict[str, Any] | None) -> None:
    """Semantic endpointing on / off over the same files (``device.bench.semantic``)."""
    if comparison is None:
        return

    def show(value: float | None, kind: str) -> str:
        if value is None:
            return "n/a"
        return f"{value:.1%}" if kind == "pct" else f"{value * 1000:.0f} ms"

    for name in ("on", "off"):
        row = comparison[name]
        print(
            f"semantic endpointing {name:3s}: accuracy {show(row['accuracy'], 'pct')}  latency p50 "
            f"{show(row['latency_p50_s'], 's')} p95 {show(row['latency_p95_s'], 's')}  early end "
            f"{show(row['early_end_rate'], 'pct')}  cut too soon {show(row['cut_short_rate'], 'pct')} "
            f"({row['cut_short_applied']} applied)"
        )
