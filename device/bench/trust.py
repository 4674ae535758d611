"""Silent wrong changes: the figure a cook's trust rests on. Pure counting over a run's ``FileResult``s.

A *silent wrong change* is a file whose stock changed without a question (the dialogue applied or undid
something at once: status ``applied`` or ``undone``) while the command differs from what was said on a key
of ``expect`` (action, item, amount, unit, place). A question, a refusal or "Sorry, I didn't catch that" is never
one: nothing changed. A *non-command that changed stock* is the worst kind: what was said was no stock change
(an order, chatter, a question, a yes) and stock changed anyway. *Asked* counts the files that ended in a
question (status ``pending``): the price paid for the first two being low.

Conditions group as the manifest labels them (``piper-0.9-kitchen10``); the noise level is the label's last
``-`` part (``kitchen10``), the voice the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from device.bench.results import FileResult

#: dialogue outcomes in which stock changed at once, without a question
CHANGED_AT_ONCE = frozenset({"applied", "undone"})
#: what was said changes stock (or takes a change back): everything else changing stock is a non-command's doing
SAID_CHANGES = frozenset({"add", "use", "waste", "set", "move", "out", "undo", "cancel"})


def changed_at_once(f: FileResult) -> bool:
    return f.error is None and f.status in CHANGED_AT_ONCE


def silent_wrong(f: FileResult) -> bool | None:
    """Stock changed without a question and the command is not what was said (None: nothing expected)."""
    if f.expect is None:
        return None
    return changed_at_once(f) and bool(f.wrong_keys)


def non_command_changed(f: FileResult) -> bool | None:
    """What was said changes no stock, yet stock changed (None: nothing expected)."""
    if f.expect is None:
        return None
    said = str(f.expect.get("action", "")).lower()
    return changed_at_once(f) and said not in SAID_CHANGES


def asked(f: FileResult) -> bool:
    return f.error is None and f.status == "pending"


def noise_of(cond: str) -> str:
    """``piper-0.9-kitchen10`` -> ``kitchen10``; a label without ``-`` is its own level."""
    return cond.rsplit("-", 1)[-1]


def voice_of(cond: str) -> str:
    """``piper-0.9-kitchen10`` -> ``piper-0.9``; a label without ``-`` is its own voice."""
    return cond.rsplit("-", 1)[0]


def tally(files: Iterable[FileResult]) -> dict[str, Any]:
    """Over the files with ``expect``: how many, accuracy, silent wrong changes, non-commands that changed stock
    and questions asked, as counts and shares."""
    scored = [f for f in files if f.expect is not None]
    n = len(scored)
    counts = {
        "right": sum(bool(f.correct) for f in scored),
        "silent_wrong": sum(bool(silent_wrong(f)) for f in scored),
        "non_command_changed": sum(bool(non_command_changed(f)) for f in scored),
        "asked": sum(asked(f) for f in scored),
    }
    row: dict[str, Any] = {"files": n, **counts}
    for key, count in counts.items():
        share = "accuracy" if key == "right" else f"{key}_rate"
        row[share] = round(count / n, 4) if n else None
    return row


def by_group(files: Sequence[FileResult], key: str) -> dict[str, dict[str, Any]]:
    """``tally`` per condition (``key="cond"``), per noise level (``"noise"``) or per voice (``"voice"``), in the
    order the manifest first names them."""
    label = {"cond": lambda c: c, "noise": noise_of, "voice": voice_of}[key]
    groups: dict[str, list[FileResult]] = {}
    for f in files:
        if f.cond is not None:
            groups.setdefault(label(f.cond), []).append(f)
    return {name: tally(members) for name, members in groups.items()}


def trust(files: Sequence[FileResult]) -> dict[str, Any]:
    """Everything above, for ``--json``'s details line and report.md."""
    return {
        "all": tally(files),
        "by_noise": by_group(files, "noise"),
        "by_condition": by_group(files, "cond"),
        "silent_wrong_files": [f.line for f in files if silent_wrong(f)],
    }


def markdown(files: Sequence[FileResult]) -> list[str]:
    """report.md's section: silent wrong changes beside accuracy, overall, per noise level and per condition."""
    found = trust(files)
    if not found["all"]["files"]:
        return []
    lines = [
        "",
        "## Silent wrong changes",
        "",
        "A stock change applied without a question that differs from what was said (action, item, amount, unit "
        "or place); non-commands that changed stock are counted apart (they are silent wrong changes too); "
        "asked: the file ended in a question, nothing changed.",
        "",
        "| group | files | accuracy | silent wrong | non-commands that changed stock | asked |",
        "|---|---|---|---|---|---|",
    ]
    rows = [("all", found["all"])]
    rows += [(f"noise {name}", row) for name, row in found["by_noise"].items()]
    rows += list(found["by_condition"].items())
    for name, row in rows:
        lines.append(
            f"| {name} | {row['files']} | {_pct(row['accuracy'])} | {row['silent_wrong']} "
            f"({_pct(row['silent_wrong_rate'])}) | {row['non_command_changed']} | {row['asked']} "
            f"({_pct(row['asked_rate'])}) |"
        )
    wrong = [f for f in files if silent_wrong(f)]
    if wrong:
        lines += ["", "Silent wrong changes:", ""]
        for f in wrong:
            said = (f.text or "").replace("|", "\\|")
            lines.append(
                f"- line {f.line} ({f.cond or ''}): said {said!r}, heard {f.transcript!r}, "
                f"wrong {', '.join(f.wrong_keys or [])}"
            )
    return lines


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"
