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
    with pytest.raises(AssertionError, match="2 check\\(s\\) failed in demo: wrong, crashes"):
        t.done()
    out = capsys.readouterr().out
    assert "[PASS] right" in out and "raised ZeroDivisionError" in out


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
