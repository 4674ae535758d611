"""Reading benchmark manifests: good lines become entries, bad lines become plain errors, the rest still read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from device.bench.manifest import ManifestError, parse_manifest, read_manifest

SMALL = Path(__file__).resolve().parents[1] / "data" / "bench" / "manifest.jsonl"


def test_good_lines_and_path_resolution(tmp_path: Path) -> None:
    lines = [
        {"path": "clips/a.wav"},
        {
            "path": "/abs/b.wav",
            "text": "add milk",
            "speech_end_s": 2,
            "cond": "piper-clean",
            "catalog": "cat.csv",
            "expect": {"action": "add", "item": "whole milk", "quantity": 1.5},
            "voice": "joe",
        },
    ]
    content = "# a comment\n\n" + "\n".join(json.dumps(x) for x in lines) + "\n"
    entries, errors = parse_manifest(content, tmp_path)
    assert errors == []
    first, second = entries
    assert (first.line, first.path, first.text, first.expect) == (3, tmp_path / "clips" / "a.wav", None, None)
    assert second.path == Path("/abs/b.wav")
    assert second.speech_end_s == 2.0 and isinstance(second.speech_end_s, float)
    assert second.catalog == tmp_path / "cat.csv"
    assert second.expect == {"action": "add", "item": "whole milk", "quantity": 1.5}
    assert second.extra == {"voice": "joe"}


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"text": "add milk"}', 'needs "path"'),
        ('{"path": ""}', 'needs "path"'),
        ('{"path": "a.wav", "speech_end_s": -1}', "speech_end_s"),
        ('{"path": "a.wav", "speech_end_s": "2"}', "speech_end_s"),
        ('{"path": "a.wav", "expect": "add"}', '"expect" must be an object'),
        ('{"path": "a.wav", "expect": {}}', "empty"),
        ('{"path": "a.wav", "expect": {"action": "add", "colour": "red"}}', "unknown keys colour"),
        ('{"path": "a.wav", "expect": {"action": "add", "quantity": "3"}}', "expect.quantity"),
        ('{"path": "a.wav", "expect": {"action": 3}}', "expect.action"),
        ('{"path": "a.wav", "cond": 5}', '"cond"'),
    ],
)
def test_bad_lines_are_reported_and_the_rest_still_read(tmp_path: Path, line: str, says: str) -> None:
    content = '{"path": "before.wav"}\n' + line + '\n{"path": "after.wav"}\n'
    entries, errors = parse_manifest(content, tmp_path)
    assert [e.path.name for e in entries] == ["before.wav", "after.wav"]
    assert len(errors) == 1
    assert errors[0].line == 2
    assert errors[0].message.startswith("line 2")
    assert says in errors[0].message


def test_a_bad_line_keeps_what_the_counts_need(tmp_path: Path) -> None:
    line = {"path": 7, "text": "add milk", "cond": "espeak-5dB", "expect": {"action": "add"}}
    _, (error,) = parse_manifest(json.dumps(line), tmp_path)
    assert (error.cond, error.text, error.has_expect) == ("espeak-5dB", "add milk", True)


def test_missing_manifest_is_a_plain_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="does not exist"):
        read_manifest(tmp_path / "nope.jsonl")
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ManifestError, match="cannot read"):
        read_manifest(binary)


def test_the_committed_small_set_is_complete() -> None:
    entries, errors = read_manifest(SMALL)
    assert errors == []
    assert len(entries) >= 24
    assert all(e.path.is_file() for e in entries)
    assert all(e.text and e.expect and e.cond and e.speech_end_s for e in entries)
    assert {e.cond for e in entries} >= {
        "piper-clean",
        "piper-10dB",
        "piper-5dB",
        "espeak-clean",
        "espeak-10dB",
    }


def test_the_small_sets_expectations_are_what_the_grammar_makes_of_the_text() -> None:
    from device.bench.metrics import mismatches
    from device.intent.grammar import Grammar
    from device.inventory.catalog import demo_catalogue

    grammar = Grammar(demo_catalogue())
    entries, _ = read_manifest(SMALL)
    for entry in entries:
        assert entry.text is not None and entry.expect is not None
        assert mismatches(entry.expect, grammar.parse(entry.text).to_json()) == [], entry.text
