"""Do the check helpers judge correctly and say what is wrong in words a learner can act on?"""
import numpy as np
import pytest

from dlcourse import checks
from dlcourse.checks import Tests, assert_close, assert_shape, compare, decode, encode, to_plain


def test_close_values_pass():
    assert_close(np.array([1.0, 2.0]), [1.0, 2.0 + 1e-9])


def test_shape_mismatch_is_named():
    with pytest.raises(AssertionError, match=r"shape mismatch: expected \(3,\), got \(2,\)"):
        assert_close(np.zeros(2), np.zeros(3), name="result")


def test_largest_error_and_its_index_are_reported():
    actual = np.array([[1.0, 2.0], [3.0, 4.5]])
    with pytest.raises(AssertionError) as err:
        assert_close(actual, [[1.0, 2.0], [3.0, 4.0]])
    assert "largest error 0.5 at index (1, 1): got 4.5, expected 4" in str(err.value)


def test_nan_is_explained_as_overflow():
    msg = compare(to_plain(np.array([np.nan, 1.0])), to_plain(np.array([0.5, 1.0])))
    assert "got nan at index (0,)" in msg and "overflow" in msg


def test_matching_nan_and_inf_pass():
    assert compare(to_plain(np.array([np.nan, np.inf])), to_plain(np.array([np.nan, np.inf]))) is None


def test_dtype_kind_is_checked_for_booleans():
    assert "differ" in compare(to_plain(np.array([True, False])), to_plain(np.array([True, True])))


def test_assert_shape_allows_wildcards():
    assert_shape(np.zeros((4, 3)), (-1, 3))
    with pytest.raises(AssertionError, match=r"expected shape \(-1, 2\), got \(4, 3\)"):
        assert_shape(np.zeros((4, 3)), (-1, 2))


def test_plain_data_round_trips():
    value = to_plain({"w": np.arange(6, dtype=np.float32).reshape(2, 3), "n": 3, "ok": True, "tag": "x",
                      "seq": (1.5, [2, 3])})
    back = decode(encode(value))
    assert compare(back, value) is None
    assert back["w"].dtype == np.float32 and back["w"].shape == (2, 3)


def test_torch_tensors_become_arrays():
    torch = pytest.importorskip("torch")
    plain = to_plain(torch.ones(2, 2, requires_grad=True) * 2)
    assert isinstance(plain, np.ndarray) and plain.tolist() == [[2.0, 2.0], [2.0, 2.0]]


@pytest.mark.parametrize("bad", [
    {"__ndarray__": "AAAA", "dtype": "|O", "shape": [1]},            # object dtype
    {"__ndarray__": "AAAAAAAAAAA=", "dtype": "<f8", "shape": [2]},   # bytes do not match the shape
    {"__ndarray__": "AAAAAAAAAAA=", "dtype": "<f8", "shape": [-1]},  # negative shape
    {"something": "else"},
    3.5,                                                              # bare numbers are not the wire format
])
def test_decode_rejects_anything_but_plain_data(bad):
    with pytest.raises((ValueError, TypeError)):
        decode(bad)


def test_objects_that_are_not_data_are_refused():
    class Liar:
        def __eq__(self, other):
            return True
    with pytest.raises(checks.UnsupportedValue):
        to_plain(Liar())


def test_tests_report_partial_credit_and_raise_on_failure(capsys):
    t = Tests("demo")
    t.check("right", lambda: 1.0, expect=1.0, points=2)
    t.check("wrong", lambda: 2.0, expect=1.0)
    t.check("crashes", lambda: 1 / 0, expect=1.0)
    assert t.score == 2 and t.max_score == 4
    with pytest.raises(checks.ChecksFailed, match="2 of 3 check\\(s\\) failed in demo") as err:
        t.done()
    out = capsys.readouterr().out
    assert "PASS" in out and "right" in out and "raised ZeroDivisionError" in out
    # IPython shows one red line, not a traceback into dlcourse.
    assert err.value._render_traceback_() == ["\x1b[31m2 of 3 check(s) failed in demo\x1b[0m"]


def test_not_implemented_is_reported_kindly():
    t = Tests("demo")
    def todo():
        raise NotImplementedError()
    t.check("todo", todo, expect=1.0)
    assert "not implemented yet" in t.results[0][2]


def test_lazy_expect_failing_fails_only_that_check():
    t = Tests("demo")
    t.check("a", lambda: 1.0, expect=lambda: 1 / 0)
    t.check("b", lambda: 1.0, expect=1.0)
    assert [r[2] is None for r in t.results] == [False, True]


def test_duplicate_check_names_are_an_authoring_error():
    t = Tests("demo")
    t.check("a", lambda: 1.0, expect=1.0)
    with pytest.raises(ValueError, match="used twice"):
        t.check("a", lambda: 1.0, expect=1.0)


# ---- kinds: a value counts only when it is the reference's kind -----------------------------
@pytest.mark.parametrize("actual,expected,fragment", [
    (np.ones(3, dtype=bool), np.ones(3), "expected numbers, not booleans"),       # all-True vs floats
    (True, to_plain(1.0), "got a boolean"),
    (to_plain(1.0), True, "expected a boolean"),
    (to_plain(1), True, "expected a boolean"),
    ([1.0, 2.0], np.array([1.0, 2.0]), "expected a NumPy array of numbers with shape (2,), got a list"),
    (np.array([1.0, 2.0]), [to_plain(1.0), to_plain(2.0)], "expected a list or tuple of 2 items"),
    ("1.0", to_plain(1.0), "expected a number"),
    (None, np.zeros(2), "got None"),
])
def test_values_of_another_kind_never_match(actual, expected, fragment):
    msg = compare(to_plain(actual), expected)
    assert msg is not None and fragment in msg


@pytest.mark.parametrize("dtype,value,ok", [
    ("number", np.arange(3), True), ("number", np.arange(3.0, dtype=np.float32), True),
    ("float", np.arange(3), False), ("float", np.arange(3.0, dtype=np.float32), True),
    ("float64", np.arange(3.0, dtype=np.float32), False), ("float64", np.arange(3.0), True),
    ("int", np.arange(3.0), False), ("int", np.arange(3, dtype=np.int32), True),
    ("exact", np.arange(3, dtype=np.int32), False), ("exact", np.arange(3.0), True),
])
def test_dtype_policy_is_per_check_and_named_in_the_message(dtype, value, ok):
    msg = compare(to_plain(value), np.arange(3.0), dtype=dtype)
    assert (msg is None) == ok, msg
    if not ok:
        assert msg.startswith("expected ") and "got dtype" in msg


def test_numpy_bool_is_a_boolean_and_matches_python_bool():
    assert to_plain(np.bool_(True)) is True
    assert compare(to_plain(np.bool_(False)), False) is None


def test_array_like_lets_a_list_stand_for_an_array_only_when_asked():
    assert compare([to_plain(1.0), to_plain(2.0)], np.array([1.0, 2.0]), array_like=True) is None


def test_parts_name_the_items_of_a_returned_tuple():
    msg = compare([np.zeros((2, 1)), np.zeros(1)], [np.zeros((2, 1)), np.zeros(2)], parts=["W", "b"])
    assert msg == "shape mismatch in b: expected (2,), got (1,)"


def test_name_error_tells_the_learner_to_run_the_answer_cell():
    t = Tests("demo")
    t.check("uses sigmoid", lambda: undefined_sigmoid(1.0), expect=1.0)  # noqa: F821
    assert "run your answer cell first" in t.results[0][2]


def test_local_verdict_uses_the_reference_file_with_the_graders_comparison(tmp_path, monkeypatch):
    """One verdict: with public_checks.json present, the literal in the cell is not what counts."""
    ref = {"format": 1, "checks": {"demo": {"c": {"value": encode(to_plain(np.array([0.5]))), "rtol": 1e-6,
                                                  "atol": 1e-8, "dtype": "number", "array_like": False,
                                                  "parts": None, "points": 1.0}}}}
    (tmp_path / checks.PUBLIC_CHECKS_FILE).write_text(__import__("json").dumps(ref))
    table = checks.public_checks(tmp_path)
    monkeypatch.setattr(checks, "_public", table)
    t = Tests("demo")
    t.check("c", lambda: [0.5], expect=[0.5])   # a list where the reference is an array
    assert "got a list" in t.results[0][2]
    t.check("d", lambda: [0.5], expect=[0.5])   # not in the file: the literal, leniently
    assert t.results[1][2] is None


@pytest.mark.parametrize("actual", [np.array([1.0, 2.5]), np.array([1.0, np.nan]), np.zeros(3), [1.0, 2.0],
                                    np.array([True, False]), "text", None, np.array([1.0, 2.0])])
def test_feedback_messages_keep_the_verdict_and_show_nothing_of_the_value(actual):
    expected = np.array([1.0, 2.0])
    full = compare(to_plain(actual), expected)
    short = compare(to_plain(actual), expected, show_actual=False)
    assert (full is None) == (short is None)
    if short:
        assert "2.5" not in short and "nan" not in short and "text" not in short and "(3,)" not in short


def test_bounds_replace_equality_but_keep_the_kind():
    ref = {"value": to_plain(np.array([1e-3, 2e-3])), "bounds": [None, 1e-6]}
    assert checks.judge(to_plain(np.array([1e-9, 5e-8])), ref) is None
    assert "at most 1e-06" in checks.judge(to_plain(np.array([1e-9, 1e-2])), ref)
    assert "booleans" in checks.judge(to_plain(np.array([True, True])), ref)
    assert checks.judge(to_plain(np.array([np.nan, 0.0])), ref) is not None


def test_accuracy_is_computed_against_the_references_target_not_the_learners():
    ref = {"value": to_plain(np.array([0, 1, 2, 2])), "metric": "accuracy", "bounds": [0.75, None],
           "target": to_plain(np.array([0, 1, 2, 1]))}
    assert checks.judge(to_plain(np.array([0, 1, 2, 0])), ref) is None            # 3 of 4
    assert "accuracy within at least 0.75, got 0.5000" in checks.judge(to_plain(np.array([0, 1, 0, 0])), ref)
    assert checks.judge(to_plain(np.array([0, 1])), ref).startswith("expected predictions of shape (4,)")


def test_metric_needs_bounds_and_a_known_name():
    with pytest.raises(ValueError, match="metric"):
        Tests("demo").check("m", lambda: np.zeros(2), metric="accuracy")
    with pytest.raises(ValueError, match="metric"):
        Tests("demo").check("m", lambda: np.zeros(2), metric="f1", bounds=(0.5, None))


def test_per_item_bounds_name_the_item():
    ref = {"value": [to_plain(1e-9), to_plain(1.0)], "bounds": [[None, 1e-6], [1e-6, None]], "parts": ["dx", "dW"]}
    assert checks.judge([to_plain(1e-10), to_plain(0.3)], ref) is None
    assert checks.judge([to_plain(1e-10), to_plain(1e-9)], ref).startswith("expected the value dW within at least 1e-06")


def test_zero_fraction_is_computed_by_the_judge():
    ref = {"value": to_plain(np.zeros(10)), "metric": "zero_fraction", "bounds": [0.8, 1.0]}
    assert checks.judge(to_plain(np.r_[np.zeros(9), 1.0]), ref) is None
    assert "zero fraction within [0.8, 1], got 0.5000" in checks.judge(to_plain(np.r_[np.zeros(5), np.ones(5)]), ref)


def test_relations_same_seed_same_draw_other_seed_other_draw():
    ref = {"value": [to_plain(np.zeros(3))] * 3, "relations": {"same": [[0, 1]], "different": [[0, 2]]},
           "parts": ["seed 1", "seed 1 again", "seed 2"]}
    a, b = to_plain(np.arange(3.0)), to_plain(np.arange(3.0) + 1)
    assert checks.judge([a, a, b], ref) is None
    assert checks.judge([a, b, b], ref) == "expected seed 1 and seed 1 again to be the same"
    assert checks.judge([a, a, a], ref) == "expected seed 1 and seed 2 to be different"


def test_learner_side_and_grader_side_use_one_judge(monkeypatch):
    """In probe mode nothing is judged; locally the same judge runs on the same record."""
    t = Tests("demo")
    assert t.check("b", lambda: [np.zeros(2), np.zeros(2)], relations={"same": [(0, 1)]})
    assert not t.check("c", lambda: 0.5, bounds=(0.9, None))


def test_hidden_inputs_follow_the_cohort_secret(monkeypatch):
    monkeypatch.delenv(checks.SECRET_ENV, raising=False)
    public = checks.hidden_rng(101).normal(size=5)
    assert np.array_equal(public, np.random.default_rng(101).normal(size=5))  # self-study unchanged
    monkeypatch.setenv(checks.SECRET_ENV, "alpha")
    a1, a2 = checks.hidden_rng(101).normal(size=5), checks.hidden_rng(101).normal(size=5)
    monkeypatch.setenv(checks.SECRET_ENV, "beta")
    b = checks.hidden_rng(101).normal(size=5)
    assert np.array_equal(a1, a2) and not np.array_equal(a1, b) and not np.array_equal(a1, public)
