"""Writes a benchmark's ``report.md`` and its plots (``latency.png``, ``accuracy.png``) into a folder.

matplotlib is a development tool, not a dependency of the unit: it is imported here, lazily. Without it the
report is still written, and says the plots are missing and why.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from device.bench import trust
from device.bench.results import STAGES, BenchResult

_STAGE_NAMES = {
    "endpoint_delay_s": "endpoint delay",
    "speech_end_to_transcript_s": "transcribe",
    "transcript_to_command_s": "resolve",
    "command_to_first_audio_s": "first reply audio",
    "total": "total",
}


_MARK_NAMES = {
    "vad_end_s": "endpointer's end of speech (VAD lag)",
    "draft_started_s": "Whisper's draft started",
    "words_judged_s": "words first judged",
    "final_asked_s": "Finalize sent",
    "reply_prepared_s": "reply's first clause rendering",
}


def write_report(result: BenchResult, out: Path) -> list[Path]:
    """Write report.md and whatever plots can be drawn; return the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    note = None
    try:
        written += _plots(result, out)
    except ImportError as exc:
        note = f"Plots not drawn: matplotlib is not installed ({exc})."
    report = out / "report.md"
    report.write_text(render_markdown(result, [p.name for p in written], note), encoding="utf-8")
    return [report, *written]


def _fmt(value: Any, kind: str = "") -> str:
    if value is None:
        return "n/a"
    if kind == "pct":
        return f"{value:.1%}"
    if kind == "s":
        return f"{value * 1000:.0f} ms"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def render_markdown(result: BenchResult, plots: list[str], note: str | None = None) -> str:
    s = result.summary()
    m = result.machine
    lines = [
        "# Larder benchmark",
        "",
        f"Manifest `{result.config.get('manifest', '?')}`, {s['files']} files "
        f"({len(result.failures)} failed), catalogue {result.config.get('catalog', 'demo')}.",
        f"Machine: {m.get('cpu', '?')}, {m.get('cores', '?')} cores, {m.get('arch', '?')}, {m.get('os', '?')}, "
        f"Python {m.get('python', '?')}; 1-minute load average at start / peer / end: "
        f"{' / '.join(str(x) for x in m.get('load', []))}.",
        f"Larder: {result.config.get('whisper', '?')}, {result.config.get('whisper_threads', '?')} threads, "
        f"end of speech after {result.config.get('end_silence_s', '?')} s of silence.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| command accuracy (all expected keys) | {_fmt(s['accuracy'], 'pct')} |",
        f"| peer accuracy (peer transcript, same grammar) | {_fmt(result.details()['peer_accuracy'], 'pct')} |",
        f"| WER Larder | {_fmt(s['wer'], 'pct')} |",
        f"| WER peer | {_fmt(s['peer_wer'], 'pct')} |",
        f"| transcription time, Larder / peer | {_fmt(s['stt_time_ratio_vs_peer'])} |",
        f"| latency p50 (end of speech -> first reply audio) | {_fmt(s['latency_p50_s'], 's')} |",
        f"| latency p95 | {_fmt(s['latency_p95_s'], 's')} |",
        f"| idle CPU, wake word + VAD (fraction of one core) | {_fmt(s['idle_cpu_fraction'], 'pct')} |",
        f"| peak RSS, every model loaded | {_fmt(s['peak_rss_mb'])} MiB |",
        "",
        "## Latency per stage",
        "",
        "| stage | p50 | p95 | mean | max |",
        "|---|---|---|---|---|",
    ]
    for stage, row in result.stage_spread().items():
        lines.append(
            f"| {_STAGE_NAMES[stage]} | {_fmt(row['p50'], 's')} | {_fmt(row['p95'], 's')} "
            f"| {_fmt(row['mean'], 's')} | {_fmt(row['max'], 's')} |"
        )
    cold = result.rendered_first_audio()
    lines += [
        "",
        f"First reply audio for replies Piper had to synthesise at least in part ({cold['files']} files; the "
        f"others came whole from the phrase cache): p50 {_fmt(cold['p50'], 's')}, p95 {_fmt(cold['p95'], 's')}.",
    ]
    lines += _semantic_lines(result.semantic())
    conditions = result.by_condition()
    if conditions:
        lines += [
            "",
            "## By condition",
            "",
            "| condition | files | accuracy | peer accuracy | WER | peer WER | latency p50 |",
            "|---|---|---|---|---|---|---|",
        ]
        for cond, row in conditions.items():
            lines.append(
                f"| {cond} | {row['files']} | {_fmt(row['accuracy'], 'pct')} | "
                f"{_fmt(row['peer_accuracy'], 'pct')} | {_fmt(row['wer'], 'pct')} | "
                f"{_fmt(row['peer_wer'], 'pct')} | {_fmt(row['latency_p50_s'], 's')} |"
            )
    lines += trust.markdown(result.files)
    if result.idle is not None:
        idle = result.idle
        lines += [
            "",
            "## Idle listening",
            "",
            f"Over {idle.audio_s:.0f} s of `{Path(idle.source).name}`, CPU seconds per audio second: "
            f"wake word alone {idle.wake_only:.4f}, wake word + Silero VAD {idle.wake_and_vad:.4f}, "
            f"the pipeline's idle loop {idle.pipeline_idle:.4f} ({idle.false_wakes} false wake(s)).",
        ]
    if result.peer is not None:
        peer = result.peer
        lines += [
            "",
            "## Peer",
            "",
            f"{peer['engine']}; model `{peer['model_dir']}`, computing in {peer.get('compute_type', '?')}.",
            "",
            "| transcription time per file | p50 | p95 | mean | max |",
            "|---|---|---|---|---|",
        ]
        ours = result.stage_spread()["speech_end_to_transcript_s"]
        for name, row in (("Larder", ours), ("peer", result.peer_spread())):
            lines.append(
                f"| {name} | {_fmt(row['p50'], 's')} | {_fmt(row['p95'], 's')} | {_fmt(row['mean'], 's')} "
                f"| {_fmt(row['max'], 's')} |"
            )
    lines += ["", "## Files", "", "| line | cond | heard | peer heard | match | latency | error |"]
    lines.append("|---|---|---|---|---|---|---|")
    for f in result.files:
        match = {True: "yes", False: "no " + ",".join(f.wrong_keys or []), None: ""}[f.correct]
        lines.append(
            f"| {f.line} | {f.cond or ''} | {_cell(f.transcript)} | {_cell(f.peer_transcript)} | {match} | "
            f"{_fmt(f.latency_s, 's') if f.latency_s is not None else ''} | {_cell(f.error)} |"
        )
    lines += [""]
    if plots:
        lines += ["## Plots", "", *(f"![{name}]({name})" for name in plots), ""]
    if note:
        lines += [note, ""]
    return "\n".join(lines)


def _semantic_lines(comparison: dict[str, Any] | None) -> list[str]:
    """Semantic endpointing on against off, the same files in the same run."""
    if comparison is None:
        return []
    lines = [
        "",
        "## Semantic endpointing on / off (same files, same run)",
        "",
        "| | accuracy | latency p50 | latency p95 | early end | cut too soon | of which applied |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in ("on", "off"):
        row = comparison[name]
        lines.append(
            f"| {name} | {_fmt(row['accuracy'], 'pct')} | {_fmt(row['latency_p50_s'], 's')} | "
            f"{_fmt(row['latency_p95_s'], 's')} | {_fmt(row['early_end_rate'], 'pct')} | "
            f"{_fmt(row['cut_short_rate'], 'pct')} | {row['cut_short_applied']} |"
        )
    lines += [
        "",
        "Where the time goes, p50 / p95 per side: the stages, and when each step of the final pause happened "
        "(seconds after the end of speech in the file; n: files that reached it).",
        "",
        "| | on | off |",
        "|---|---|---|",
    ]
    names = {**_STAGE_NAMES, **_MARK_NAMES}
    for group in ("marks", "stages"):
        for key in comparison["on"][group]:
            cells = []
            for name in ("on", "off"):
                row = comparison[name][group][key]
                cells.append(f"{_fmt(row['p50'], 's')} / {_fmt(row['p95'], 's')} (n={row['n']})")
            lines.append(f"| {names[key]} | {cells[0]} | {cells[1]} |")
    return lines


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def _plots(result: BenchResult, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written: list[Path] = []
    timed = [f for f in result.files if f.latency_s is not None]
    if timed:
        data = [[f.stages[s] * 1000 for f in timed] for s in STAGES]
        data.append([sum(f.stages[s] for s in STAGES) * 1000 for f in timed])
        fig, ax = plt.subplots(figsize=(8, 4.5))
        ax.boxplot(data, whis=(5, 95), showfliers=True)
        ax.set_xticks(range(1, len(data) + 1), [_STAGE_NAMES[s] for s in (*STAGES, "total")])
        ax.set_ylabel("ms (box: p25-p75, whiskers: p5-p95)")
        ax.set_title(f"Latency per stage, end of speech -> first reply audio ({len(timed)} files)")
        ax.axhline(1000, color="red", linestyle=":", linewidth=1, label="1 s")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))  # outside: the boxes' outliers reach 1 s
        ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        written.append(out / "latency.png")
        fig.savefig(written[-1], dpi=110)
        plt.close(fig)
    conditions = result.by_condition()
    if any(row["accuracy"] is not None for row in conditions.values()):
        names = list(conditions)
        ours = [(conditions[n]["accuracy"] or 0) * 100 for n in names]
        peer = [(conditions[n]["peer_accuracy"] or 0) * 100 for n in names]
        x = range(len(names))
        fig, ax = plt.subplots(figsize=(max(6, len(names) * 1.1), 4.5))
        ax.bar([i - 0.2 for i in x], ours, width=0.4, label="Larder")
        if result.peer is not None:
            ax.bar([i + 0.2 for i in x], peer, width=0.4, label="peer transcript, same grammar")
        ax.set_xticks(list(x), names, rotation=30, ha="right")
        ax.set_ylabel("commands fully right (%)")
        ax.set_ylim(0, 120)  # headroom for the legend above 100%
        ax.set_yticks(range(0, 101, 20))
        ax.set_title("Accuracy by condition")
        ax.legend(loc="upper center", ncol=2)
        ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        written.append(out / "accuracy.png")
        fig.savefig(written[-1], dpi=110)
        plt.close(fig)
    return written
