"""Does HeldOut count every evaluation, say so, and refuse malformed use?"""
import numpy as np
import pytest

from dlcourse import heldout
from dlcourse.heldout import HeldOut


def test_each_evaluation_is_recorded_with_its_purpose():
    test = HeldOut("t1", np.arange(4), np.array([0, 1, 0, 1]))
    acc = test.evaluate(lambda X, y: float((X % 2 == y).mean()), purpose="final model")
    assert acc == 1.0 and test.uses == ["final model"] and not test.over_budget
    assert test.report() == "t1 set used once (budget 1): final model"
    assert heldout.usage()["t1"] == {"uses": ["final model"], "budget": 1}


def test_going_over_budget_warns_loudly_but_does_not_crash(capsys):
    test = HeldOut("t2", np.zeros(3), np.zeros(3))
    test.evaluate(lambda X, y: 0, purpose="first")
    test.evaluate(lambda X, y: 0, purpose="peek at a threshold")
    assert test.over_budget
    out = capsys.readouterr().out
    assert "WARNING: t2 set used 2 times (budget 1)" in out and "peek at a threshold" in out


def test_rerunning_a_cell_starts_the_count_again():
    HeldOut("t3", [1], [1]).evaluate(lambda X, y: 0, purpose="a")
    fresh = HeldOut("t3", [1], [1])
    assert heldout.usage()["t3"]["uses"] == [] and fresh.uses == []


@pytest.mark.parametrize("kwargs,match", [
    ({"X": np.zeros(3), "y": np.zeros(2)}, "X has 3 rows but y has 2"),
    ({"X": np.zeros(3), "budget": 0}, "budget must be at least 1"),
])
def test_malformed_use_fails_with_a_clear_message(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HeldOut("bad", **kwargs)


def test_an_evaluation_must_say_what_it_is_for():
    with pytest.raises(ValueError, match="purpose"):
        HeldOut("t4", [1]).evaluate(lambda X, y: 0, purpose=" ")
