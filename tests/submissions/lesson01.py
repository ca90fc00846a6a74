"""Known submissions for lesson 01 and the exact points each must get."""
from tests.submissions import Variant

ASSIGNMENT = "01_activations"

NAIVE_SOFTMAX = '''def softmax(z):
    e = np.exp(z)
    return e / np.sum(e, axis=-1, keepdims=True)


def softmax_grad(z, dout):
    s = softmax(z)
    return s * (dout - np.sum(dout * s, axis=-1, keepdims=True))
'''

SIGMOID_GRAD_WRONG_VARIABLE = '''def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_grad(x):
    return x * (1 - x)
'''

TANH_GRAD_WRONG_SIGN = '''def tanh(x):
    return 2 * sigmoid(2 * x) - 1


def tanh_grad(x):
    return tanh(x) ** 2 - 1
'''

LEAKY_GRAD_ZERO = '''def relu(x):
    return np.maximum(0, x)


def relu_grad(x):
    return (x > 0) * 1.0


def leaky_relu(x, alpha=0.01):
    return np.where(x > 0, x, alpha * x)


def leaky_relu_grad(x, alpha=0.01):
    return (x > 0) * 1.0
'''

COLLAPSE_LAST_BIAS_ONLY = '''def collapse_linear(weights, biases):
    W = weights[0]
    for W_i in weights[1:]:
        W = W @ W_i
    return W, biases[-1]
'''

ENDLESS_RELU_GRAD = '''def relu(x):
    return np.maximum(0, x)


def relu_grad(x):
    while True:
        pass


def leaky_relu(x, alpha=0.01):
    return np.where(x > 0, x, alpha * x)


def leaky_relu_grad(x, alpha=0.01):
    return np.where(x > 0, 1.0, alpha)
'''

# Correct, but written with loops and other names, and noisy: prints, a warning, and
# numpy's own overflow warning on stderr. Every check must still pass.
LOOPY_SIGMOID = '''import math
import warnings

def sigmoid(values):
    print("sigmoid called on shape", np.shape(values))
    warnings.warn("this sigmoid uses a Python loop and is slow")
    result = np.zeros(np.shape(values))
    for index in np.ndindex(np.shape(values)):
        v = float(values[index])
        result[index] = 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))
    return result


def sigmoid_grad(values):
    s = sigmoid(values)
    return s - s * s
'''

LOOPY_SOFTMAX = '''import sys

def softmax(logits):
    logits = np.asarray(logits, dtype=float)
    flat = logits.reshape(-1, logits.shape[-1])
    probs = np.empty_like(flat)
    for r in range(flat.shape[0]):
        row = flat[r] - max(flat[r])
        exps = [np.exp(v) for v in row]
        total = sum(exps)
        probs[r] = [e / total for e in exps]
    print("softmax done", file=sys.stderr)
    return probs.reshape(logits.shape)


def softmax_grad(logits, upstream):
    p = softmax(logits)
    inner = (upstream * p).sum(axis=-1, keepdims=True)
    return p * upstream - p * inner
'''

REDUCE_COLLAPSE = '''from functools import reduce

def collapse_linear(weights, biases):
    def compose(acc, layer):
        A, c = acc
        M, d = layer
        return A @ M, c @ M + d
    start = (np.eye(len(weights[0])), np.zeros(len(weights[0])))
    return reduce(compose, zip(weights, biases), start)
'''

VARIANTS = [
    Variant("softmax_overflows", {"01_softmax": NAIVE_SOFTMAX}, {"01_softmax_tests": 4}),
    Variant("sigmoid_grad_from_wrong_variable", {"01_sigmoid": SIGMOID_GRAD_WRONG_VARIABLE}, {"01_sigmoid_tests": 3}),
    Variant("tanh_grad_wrong_sign", {"01_tanh": TANH_GRAD_WRONG_SIGN}, {"01_tanh_tests": 2}),
    Variant("leaky_relu_grad_zero_for_negatives", {"01_relu": LEAKY_GRAD_ZERO}, {"01_relu_tests": 2}),
    Variant("collapse_keeps_only_last_bias", {"01_collapse": COLLAPSE_LAST_BIAS_ONLY}, {"01_collapse_tests": 1}),
    Variant("endless_loop_in_relu_grad", {"01_relu": ENDLESS_RELU_GRAD}, {"01_relu_tests": 0}),
    Variant("correct_loops_prints_warnings",
            {"01_sigmoid": LOOPY_SIGMOID, "01_softmax": LOOPY_SOFTMAX, "01_collapse": REDUCE_COLLAPSE}, {}),
]
