"""Tests for mnist_tutorial.results: the targets, the check, and the table a notebook displays."""

import json
import math

import pytest

from mnist_tutorial.models import RECIPES
from mnist_tutorial.results import TARGETS, Result, ResultsTable, Target, check_against_tutorial


def test_a_result_passes_down_to_the_reported_figure_minus_the_tolerance():
    target = Target(0.9706, tolerance=0.003)
    assert Result("a", 10, 3, 1.0, 0.9677, target).passed is True
    assert Result("a", 10, 3, 1.0, 0.9675, target).passed is False


def test_check_against_tutorial_returns_the_table_or_fails_loudly():
    good = Result("a", 10, 3, 1.0, 0.9700, Target(0.9706, tolerance=0.003))
    bad = Result("b", 10, 3, 1.0, 0.9600, Target(0.9706, tolerance=0.003))
    assert "| a | 10 | 3 | 1.0 s | 97.00% | 97.06% | pass (needs 96.76%) |" in repr(check_against_tutorial([good]))
    with pytest.raises(AssertionError, match="below the tutorial: b reached 96.00%, needs 96.76%") as failure:
        check_against_tutorial([good, bad])
    assert "| b | 10 | 3 | 1.0 s | 96.00% | 97.06% | FAIL (needs 96.76%) |" in str(failure.value)  # the table comes with it


@pytest.mark.parametrize("reported", [None, math.nan])
def test_without_a_reported_figure_the_minimum_is_what_is_needed(reported):
    target = Target(reported, tolerance=0.003, minimum=0.992)
    assert target.needed == 0.992 and target.describe() == "at least 99.20%"
    with pytest.raises(AssertionError, match=r"convnet reached 99\.00%, needs 99\.20%\n") as failure:
        check_against_tutorial([Result("convnet", 1, 10, 0, 0.99, target)])
    assert "nan" not in str(failure.value)
    nothing = Result("m", 1, 8, 0, 0.5, Target(reported, measured_on="train")).cells()
    assert nothing["expected"] == nothing["check"] == "-"  # no figure and no minimum: nothing is checked


def test_the_table_marks_training_accuracy_and_minimums():
    assert Result("c", 1, 1, 0, 0.99, Target(measured_on="train")).cells()["accuracy"] == "99.00% (train)"
    assert Result("c", 1, 1, 0, 0.99, Target(minimum=0.992)).cells()["check"] == "FAIL"


def test_the_displayed_table_carries_the_results_as_json_ready_data():
    results = [Result("m", 1, 8, 2.5, 0.99, Target(math.nan, measured_on="train")),
               Result("n", 2, 5, 1.0, 0.98, TARGETS["dense_512_rmsprop"])]
    data, metadata = ResultsTable(results)._repr_mimebundle_()
    assert data["text/markdown"] == data["text/plain"] == repr(ResultsTable(results))
    rows = json.loads(json.dumps(metadata["mnist_tutorial"]["results"], allow_nan=False))  # NaN is not JSON
    assert rows[0]["target"]["reported"] is None
    assert [Result.from_dict(row) for row in rows] == [Result("m", 1, 8, 2.5, 0.99, Target(measured_on="train")),
                                                       results[1]]


def test_every_recipe_has_a_target_on_the_data_its_tutorial_reported():
    assert set(RECIPES) < set(TARGETS)
    assert {name for name, target in TARGETS.items() if target.measured_on == "train"} == {"adam_64", "adam_512"}
    for name in RECIPES:
        assert 0 <= TARGETS[name].tolerance <= 0.005 and TARGETS[name].needed > 0.9 or TARGETS[name].measured_on == "train"
