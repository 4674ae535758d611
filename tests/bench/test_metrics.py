"""The benchmark's pure measures: the WER normaliser, edit distance, percentiles and command matching."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from device.bench.metrics import (
    corpus_wer,
    edit_distance,
    mismatches,
    normalise,
    percentile,
    spread,
    word_errors,
)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            "Add three cases of oat milk to the walk-in.",
            ["add", "3", "cases", "of", "oat", "milk", "to", "the", "walk", "in"],
        ),
        ("add 3 cases", ["add", "3", "cases"]),
        ("twenty four eggs", ["24", "eggs"]),
        ("twenty-four eggs", ["24", "eggs"]),
        ("24 eggs", ["24", "eggs"]),
        ("two three", ["2", "3"]),
        ("ten three", ["10", "3"]),
        ("twenty twenty", ["20", "20"]),
        ("one hundred five", ["105"]),
        ("two thousand three hundred", ["2300"]),
        ("a hundred", ["a", "hundred"]),
        ("We're out!", ["were", "out"]),
        ("1.5 pounds. Done.", ["1.5", "pounds", "done"]),
        ("  ", []),
    ],
)
def test_normalise(text: str, words: list[str]) -> None:
    assert normalise(text) == words


def test_digits_and_words_are_the_same_word() -> None:
    assert word_errors("add three cartons", "Add 3 cartons.") == (0, 3)
    assert word_errors("add 12 eggs", "add twelve eggs") == (0, 3)
    assert word_errors("add three cartons", "add four cartons") == (1, 3)


def test_edit_distance_counts_each_kind_of_edit() -> None:
    assert edit_distance(["a", "b", "c"], ["a", "b", "c"]) == 0
    assert edit_distance(["a", "b", "c"], ["a", "x", "c"]) == 1  # substitution
    assert edit_distance(["a", "b", "c"], ["a", "c"]) == 1  # deletion
    assert edit_distance(["a", "b"], ["a", "b", "c", "d"]) == 2  # insertions
    assert edit_distance([], ["a"]) == 1
    assert edit_distance(["a"], []) == 1


@given(st.lists(st.sampled_from("abc"), max_size=6), st.lists(st.sampled_from("abc"), max_size=6))
def test_edit_distance_is_a_metric(a: list[str], b: list[str]) -> None:
    d = edit_distance(a, b)
    assert d == edit_distance(b, a)
    assert abs(len(a) - len(b)) <= d <= max(len(a), len(b))
    assert (d == 0) == (a == b)


def test_corpus_wer_weights_by_reference_words() -> None:
    pairs = [("one two three four", "one two three four"), ("add milk", "")]
    assert corpus_wer(pairs) == pytest.approx(2 / 6)
    assert corpus_wer([]) is None
    assert corpus_wer([("", "noise")]) is None


@given(
    st.lists(st.floats(0, 10, allow_nan=False), min_size=1, max_size=30),
    st.sampled_from([0, 5, 50, 90, 95, 100]),
)
def test_percentile_matches_numpy(values: list[float], q: float) -> None:
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_percentile_edges() -> None:
    assert percentile([], 50) is None
    assert percentile([2.0], 95) == 2.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    with pytest.raises(ValueError):
        percentile([1.0], 101)
    assert spread([]) == {"p50": None, "p95": None, "mean": None, "max": None}
    assert spread([1.0, 3.0])["mean"] == 2.0


EXPECT = {
    "action": "add",
    "item": "oat milk",
    "quantity": 3,
    "unit": "case",
    "location": "walk-in",
    "to_location": None,
}


def test_matching_numbers_as_numbers_and_nulls_as_nulls() -> None:
    got = dict(EXPECT, quantity=3.0, confidence=0.97)
    assert mismatches(EXPECT, got) == []
    assert mismatches(EXPECT, dict(got, item="Oat Milk ")) == []
    assert mismatches(EXPECT, dict(got, quantity=4)) == ["quantity"]
    assert mismatches(EXPECT, dict(got, location=None)) == ["location"]
    assert mismatches(EXPECT, dict(got, to_location="bar")) == ["to_location"]
    assert mismatches(dict(EXPECT, quantity=None), dict(got, quantity=0)) == ["quantity"]


def test_confidence_only_has_to_be_present() -> None:
    expect = dict(EXPECT, confidence=0.5)
    assert mismatches(expect, dict(EXPECT, confidence=0.97)) == []
    assert mismatches(expect, dict(EXPECT)) == ["confidence"]


def test_keys_left_out_of_expect_are_not_compared_and_nothing_heard_misses_all() -> None:
    assert (
        mismatches({"action": "query", "item": "eggs"}, {"action": "query", "item": "eggs", "quantity": 3})
        == []
    )
    assert mismatches({"action": "query", "item": "eggs"}, None) == ["action", "item"]
