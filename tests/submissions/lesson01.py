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

NP_TANH = '''def tanh(x):
    return np.tanh(x)


def tanh_grad(x):
    return 1.0 - np.tanh(x) ** 2
'''

# Correct, and built from sigmoid another way: 2 sigmoid(2x) - 1 = 1 - 2 sigmoid(-2x).
TANH_OTHER_IDENTITY = '''def tanh(x):
    return 1.0 - 2.0 * sigmoid(-2.0 * x)


def tanh_grad(x):
    t = tanh(x)
    return (1.0 - t) * (1.0 + t)
'''

SOFTMAX_IN_PLACE = '''def softmax(z):
    z -= np.max(z, axis=-1, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=-1, keepdims=True)


def softmax_grad(z, dout):
    s = softmax(z.copy())
    return s * (dout - np.sum(dout * s, axis=-1, keepdims=True))
'''

COLLAPSE_POPS_INPUTS = '''def collapse_linear(weights, biases):
    W, b = weights.pop(0), biases.pop(0)
    while weights:
        W_i, b_i = weights.pop(0), biases.pop(0)
        W, b = W @ W_i, b @ W_i + b_i
    return W, b
'''

DEAD_IF_ANY = '''def dead_units(Z):
    return np.any(Z <= 0, axis=0)


def dead_fraction_per_layer(weights, biases, X):
    h, fractions = X, []
    for W, b in zip(weights, biases):
        z = h @ W + b
        fractions.append(float(np.mean(dead_units(z))))
        h = relu(z)
    return fractions
'''

DEAD_STRICTLY_NEGATIVE = DEAD_IF_ANY.replace("np.any(Z <= 0, axis=0)", "np.all(Z < 0, axis=0)")

# Correct, written differently: a loop over units, and a count instead of a mean.
DEAD_LOOP = '''def dead_units(Z):
    out = np.zeros(Z.shape[1], dtype=bool)
    for j in range(Z.shape[1]):
        out[j] = not (Z[:, j] > 0).any()
    return out


def dead_fraction_per_layer(weights, biases, X):
    h, fractions = X, []
    for W, b in zip(weights, biases):
        z = h @ W + b
        fractions.append(dead_units(z).sum() / z.shape[1])
        h = np.maximum(z, 0)
    return fractions
'''

VARIANTS = [
    Variant("softmax_overflows", {"01_softmax": NAIVE_SOFTMAX}, {"01_softmax_tests": 6}),
    Variant("softmax_shifts_its_input_in_place", {"01_softmax": SOFTMAX_IN_PLACE}, {"01_softmax_tests": 10}),
    Variant("sigmoid_grad_from_wrong_variable", {"01_sigmoid": SIGMOID_GRAD_WRONG_VARIABLE}, {"01_sigmoid_tests": 3.5}),
    Variant("tanh_from_np_tanh_not_sigmoid", {"01_tanh": NP_TANH}, {"01_tanh_tests": 6}),
    Variant("tanh_grad_wrong_sign", {"01_tanh": TANH_GRAD_WRONG_SIGN}, {"01_tanh_tests": 4}),
    Variant("leaky_relu_grad_zero_for_negatives", {"01_relu": LEAKY_GRAD_ZERO}, {"01_relu_tests": 2.5}),
    Variant("collapse_keeps_only_last_bias", {"01_collapse": COLLAPSE_LAST_BIAS_ONLY}, {"01_collapse_tests": 2.5}),
    Variant("collapse_empties_the_callers_lists", {"01_collapse": COLLAPSE_POPS_INPUTS}, {"01_collapse_tests": 6}),
    Variant("endless_loop_in_relu_grad", {"01_relu": ENDLESS_RELU_GRAD}, {"01_relu_tests": 0}),
    Variant("dead_if_off_for_any_example", {"01_diagnose_dead": DEAD_IF_ANY}, {"01_diagnose_dead_tests": 0}),
    Variant("dead_only_if_strictly_negative", {"01_diagnose_dead": DEAD_STRICTLY_NEGATIVE}, {"01_diagnose_dead_tests": 2}),
    Variant("concepts_wrong",
            {"01_concept_choose": 'activation_choice = {"binary_output": "D", "multiclass_output": "D", "deep_hidden": "A", "regression_output": "C"}',
             "01_concept_depth_runs": 'depth_answer = {"sigmoid_naive": "B", "relu_naive": "C", "relu_he": "A"}',
             "01_concept_xor": 'xor_answer = {"linear": 0.5, "one_relu_layer": 1.0}'},
            {"01_concept_choose_tests": 0.5, "01_concept_depth_runs_tests": 0.5, "01_concept_xor_tests": 0.5}),
    Variant("concepts_missing_a_key",
            {"01_concept_depth_runs": 'depth_answer = {"sigmoid": "B", "relu_naive": "A", "relu_he": "C"}'},
            {"01_concept_depth_runs_tests": 0}),
    Variant("correct_loops_prints_warnings",
            {"01_sigmoid": LOOPY_SIGMOID, "01_softmax": LOOPY_SOFTMAX, "01_collapse": REDUCE_COLLAPSE}, {}),
    Variant("correct_written_differently",
            {"01_tanh": TANH_OTHER_IDENTITY, "01_diagnose_dead": DEAD_LOOP,
             "01_concept_choose": 'activation_choice = dict(binary_output=" a", multiclass_output="d ", deep_hidden="c", regression_output="e")',
             "01_concept_depth_runs": "depth_answer = {'relu_he': 'c', 'relu_naive': ' a', 'sigmoid_naive': 'B'}",
             "01_concept_xor": 'xor_answer = {"linear": 3 / 4, "one_relu_layer": 1}'}, {}),
]
