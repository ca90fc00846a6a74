"""Does the centred-difference gradient check agree with known gradients and catch wrong ones?"""
import numpy as np
import pytest

from dlcourse.gradcheck import grad_check, numerical_gradient, numerical_gradient_array, relative_error


def test_numerical_gradient_of_a_quadratic():
    A = np.random.default_rng(0).normal(size=(3, 3))
    x = np.random.default_rng(1).normal(size=3)
    f = lambda v: float(v @ A @ v)
    np.testing.assert_allclose(numerical_gradient(f, x.copy()), (A + A.T) @ x, rtol=1e-6)


def test_point_is_restored():
    x = np.array([1.0, 2.0])
    numerical_gradient(lambda v: float(np.sum(v ** 2)), x)
    assert x.tolist() == [1.0, 2.0]


def test_vector_jacobian_product():
    x = np.random.default_rng(2).normal(size=(2, 3))
    dout = np.random.default_rng(3).normal(size=(2, 3))
    np.testing.assert_allclose(numerical_gradient_array(np.tanh, x.copy(), dout), dout * (1 - np.tanh(x) ** 2), rtol=1e-6)


def test_grad_check_names_the_worst_entry():
    x = np.array([0.5, -1.0, 2.0])
    f = lambda v: float(np.sum(v ** 3))
    assert grad_check(f, x, 3 * x ** 2) < 1e-7
    wrong = 3 * x ** 2
    wrong[2] = -wrong[2]
    with pytest.raises(AssertionError, match=r"worst at index \(2,\)"):
        grad_check(f, x, wrong)


def test_float32_is_refused_with_advice():
    with pytest.raises(TypeError, match="astype"):
        numerical_gradient(lambda v: float(v.sum()), np.ones(2, dtype=np.float32))


def test_relative_error_shapes_must_match():
    with pytest.raises(ValueError):
        relative_error(np.ones(2), np.ones(3))
