"""dlcourse: the helpers every lesson imports. Lessons never redefine what is here."""
from dlcourse.checks import Tests, assert_close, assert_shape
from dlcourse.env import Profile, get_device, get_profile, seed_everything
from dlcourse.gradcheck import grad_check, numerical_gradient, numerical_gradient_array, relative_error

__all__ = [
    "Profile", "Tests", "assert_close", "assert_shape", "get_device", "get_profile", "grad_check",
    "numerical_gradient", "numerical_gradient_array", "relative_error", "seed_everything",
]
__version__ = "0.1.0"
