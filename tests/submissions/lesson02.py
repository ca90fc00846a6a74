"""Known submissions for lesson 02 (backprop), with the exact score each must get.

Later exercises call earlier solution functions (TwoLayerNet uses the learner's layers), so a bug
in a layer also costs the points of the TwoLayerNet checks that depend on it; the scores say so.
"""
from tests.submissions import Variant

ASSIGNMENT = "02_backprop"

# --------------------------------------------------------------------------------------------
# Wrong but plausible.
# --------------------------------------------------------------------------------------------
SOFTMAX_CE_WRONG_SIGN = '''
def softmax_cross_entropy(scores, y):
    N = scores.shape[0]
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(N), y].mean()
    onehot = np.zeros_like(scores)
    onehot[np.arange(N), y] = 1.0
    dscores = (onehot - np.exp(log_probs)) / N     # sign flipped: this is -dL/dscores
    return loss, dscores
'''

AFFINE_MISSING_BIAS_GRAD = '''
def affine_forward(x, W, b):
    out = x @ W + b
    cache = (x, W, b)
    return out, cache


def affine_backward(dout, cache):
    x, W, b = cache
    dx = dout @ W.T
    dW = x.T @ dout
    db = np.zeros_like(b)          # "TODO: bias gradient" never filled in
    return dx, dW, db
'''

SOFTMAX_CE_LOG_OF_PROBS = '''
def softmax_cross_entropy(scores, y):
    N = scores.shape[0]
    shifted = scores - scores.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(N), y]))     # log(0) = -inf for a confident wrong model
    dscores = p.copy()
    dscores[np.arange(N), y] -= 1.0
    return loss, dscores / N
'''

SCALAR_GRAPH_FORGETS_A_BRANCH = '''
def scalar_graph(x, y, z):
    q = x + y
    r = y * z
    f = q * r
    L = max(f, 0.0)
    df = 1.0 if f > 0 else 0.0
    dq = df * r
    dr = df * q
    dx = dq
    dy = dq                 # forgets the path through r
    dz = dr * y
    return L, {"x": dx, "y": dy, "z": dz}
'''

CHECK_LAYER_CRASHES_ON_SHAPE = '''
def check_layer(forward, backward, inputs, dout):
    _, cache = forward(*inputs)
    analytic = backward(dout, cache)
    if len(inputs) == 1 and not isinstance(analytic, (tuple, list)):
        analytic = (analytic,)
    errors = []
    for i, x in enumerate(inputs):
        def f(v, i=i):
            args = list(inputs)
            args[i] = v
            return forward(*args)[0]
        numeric = numerical_gradient_array(f, x.copy(), dout)
        errors.append(relative_error(analytic[i], numeric))   # raises on a wrong shape
    return errors
'''

# --------------------------------------------------------------------------------------------
# Right, but written differently: loops, other names, prints and warnings. Full marks.
# --------------------------------------------------------------------------------------------
LOOPS_SCALAR_GRAPH = '''
def scalar_graph(x, y, z):
    print("forward...")
    s1 = x + y
    s2 = y * z
    prod = s1 * s2
    loss = prod if prod > 0 else 0.0
    g = float(prod > 0)
    grad_x = g * s2
    grad_y = g * s2 + g * s1 * z
    grad_z = g * s1 * y
    return loss, dict(z=grad_z, y=grad_y, x=grad_x)
'''

LOOPS_AFFINE = '''
import warnings


def affine_forward(x, W, b):
    N, M = x.shape[0], W.shape[1]
    result = np.zeros((N, M))
    for n in range(N):
        for m in range(M):
            result[n, m] = np.dot(x[n], W[:, m]) + b[m]
    return result, {"inputs": x, "weights": W}


def affine_backward(dout, cache):
    inputs, weights = cache["inputs"], cache["weights"]
    grad_inputs = np.zeros_like(inputs)
    grad_weights = np.zeros_like(weights)
    grad_bias = np.zeros(weights.shape[1])
    for n in range(inputs.shape[0]):
        grad_inputs[n] = weights @ dout[n]
        grad_weights += np.outer(inputs[n], dout[n])
        grad_bias += dout[n]
    if inputs.shape[0] == 1:
        warnings.warn("batch of one")
    return grad_inputs, grad_weights, grad_bias
'''

LOOPS_RELU = '''
def relu_forward(x):
    out = np.where(x > 0, x, 0.0)
    return out, out                      # caching the output works too: out > 0 exactly where x > 0


def relu_backward(dout, cache):
    out = cache
    dx = np.array(dout, dtype=float, copy=True)
    dx[out <= 0] = 0.0
    return dx
'''

LOOPS_SOFTMAX_CE = '''
import warnings


def softmax_cross_entropy(scores, y):
    N, C = scores.shape
    total = 0.0
    grad = np.empty((N, C))
    for n in range(N):
        row = scores[n]
        lse = np.logaddexp.reduce(row)           # log-sum-exp, stable
        total += lse - row[y[n]]
        grad[n] = np.exp(row - lse)
        grad[n, y[n]] -= 1.0
    if N > 100:
        warnings.warn("large batch")
    if N < 4:
        print("mean loss", total / N)
    return total / N, grad / N
'''

LOOPS_CHECK_LAYER = '''
def check_layer(forward, backward, inputs, dout):
    h = 1e-6
    grads = backward(dout, forward(*inputs)[1])
    if isinstance(grads, np.ndarray):
        grads = [grads]
    report = []
    for k in range(len(inputs)):
        arrays = [a.copy() for a in inputs]
        target = arrays[k]
        numeric = np.zeros_like(target)
        for idx in np.ndindex(*target.shape):
            keep = target[idx]
            target[idx] = keep + h
            up = np.sum(forward(*arrays)[0] * dout)
            target[idx] = keep - h
            down = np.sum(forward(*arrays)[0] * dout)
            target[idx] = keep
            numeric[idx] = (up - down) / (2 * h)
        mine = np.asarray(grads[k])
        if mine.shape != numeric.shape:
            report.append(float("inf"))
        else:
            report.append(relative_error(mine, numeric))
    print(report)
    return report
'''

LOOPS_MLP = '''
class TwoLayerNet:
    def __init__(self, input_dim, hidden_dim, num_classes, weight_scale=1e-2, seed=0):
        gen = np.random.default_rng(seed)
        self.params = {}
        self.params["W1"] = gen.normal(0.0, weight_scale, size=(input_dim, hidden_dim))
        self.params["b1"] = np.zeros(hidden_dim)
        self.params["W2"] = gen.normal(0.0, weight_scale, size=(hidden_dim, num_classes))
        self.params["b2"] = np.zeros(num_classes)

    def loss(self, X, y=None):
        W1, b1, W2, b2 = (self.params[k] for k in ("W1", "b1", "W2", "b2"))
        pre = X @ W1 + b1
        hidden = np.maximum(pre, 0)
        logits = hidden @ W2 + b2
        if y is None:
            return logits
        N = X.shape[0]
        z = logits - logits.max(axis=1, keepdims=True)
        probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        data_loss = np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(N), y])
        d_logits = probs
        d_logits[np.arange(N), y] -= 1
        d_logits /= N
        grads = {"W2": hidden.T @ d_logits, "b2": d_logits.sum(0)}
        d_pre = (d_logits @ W2.T) * (pre > 0)
        grads["W1"] = X.T @ d_pre
        grads["b1"] = d_pre.sum(0)
        return data_loss, grads
'''

# --------------------------------------------------------------------------------------------
# The lesson's core skill skipped: backward passes from the provided numerical gradient. Right
# to 1e-9 on small cases, so the public checks pass; the large hidden cases run out of time.
# --------------------------------------------------------------------------------------------
AFFINE_BY_CENTRED_DIFFERENCES = '''
def affine_forward(x, W, b):
    return x @ W + b, (x, W, b)


def affine_backward(dout, cache):
    x, W, b = cache
    dx = numerical_gradient_array(lambda v: v @ W + b, x.copy(), dout)
    dW = numerical_gradient_array(lambda v: x @ v + b, W.copy(), dout)
    db = numerical_gradient_array(lambda v: x @ W + v, b.copy(), dout)
    return dx, dW, db
'''

RELU_BY_CENTRED_DIFFERENCES = '''
def relu_forward(x):
    return np.maximum(x, 0.0), x


def relu_backward(dout, cache):
    return numerical_gradient_array(lambda v: np.maximum(v, 0.0), cache.copy(), dout)
'''

SOFTMAX_CE_BY_CENTRED_DIFFERENCES = '''
def softmax_cross_entropy(scores, y):
    def loss_of(s):
        shifted = s - s.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return float(-log_probs[np.arange(len(y)), y].mean())
    return loss_of(scores), numerical_gradient(loss_of, scores.copy())
'''

# --------------------------------------------------------------------------------------------
# More wrong but plausible.
# --------------------------------------------------------------------------------------------
AFFINE_DW_TRANSPOSED = AFFINE_MISSING_BIAS_GRAD.replace("dW = x.T @ dout", "dW = dout.T @ x").replace(
    "db = np.zeros_like(b)          # \"TODO: bias gradient\" never filled in", "db = dout.sum(axis=0)")
AFFINE_DB_MEAN = AFFINE_MISSING_BIAS_GRAD.replace(
    "db = np.zeros_like(b)          # \"TODO: bias gradient\" never filled in", "db = dout.mean(axis=0)")
SOFTMAX_CE_NOT_DIVIDED_BY_N = SOFTMAX_CE_LOG_OF_PROBS.replace(
    "p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)\n    loss = -np.mean(np.log(p[np.arange(N), y]))     # log(0) = -inf for a confident wrong model",
    "log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))\n    p = np.exp(log_p)\n    loss = -np.mean(log_p[np.arange(N), y])").replace(
    "return loss, dscores / N", "return loss, dscores            # forgot the 1 / N of the mean")

RELU_FORWARD_IN_PLACE = '''
def relu_forward(x):
    x[x < 0] = 0.0                  # changes the caller's array
    return x, x


def relu_backward(dout, cache):
    return dout * (cache > 0)
'''

MLP_IGNORES_SEED = LOOPS_MLP.replace("gen = np.random.default_rng(seed)", "gen = np.random.default_rng()")

# Right, written differently: an ndarray, exact logs, lower case and spaces.
DECISIONS_OTHER_FORMS = {
    "02_concept_dscores": "dscores_prediction = np.array([1, 1, -3, 1]) / 4",
    "02_concept_initial_loss": "initial_loss_prediction = dict(zip(['10_classes', '3_classes'], np.log([10, 3])))",
    "02_concept_sanity_runs": "sanity_runs = {'labels_shuffled': ' a', 'healthy': 'b', 'weights_too_large': 'C '}",
    "02_diagnose_colleague": "colleague_diagnosis = dict(dx='a', dW=' b', db='c')",
}
DECISIONS_WRONG = {
    "02_concept_dscores": "dscores_prediction = [0.25, 0.25, 0.75, 0.25]",
    "02_concept_initial_loss": "initial_loss_prediction = {'10_classes': 0.0, '3_classes': 0.0}",
    "02_concept_sanity_runs": "sanity_runs = {'healthy': 'B', 'weights_too_large': 'A', 'labels_shuffled': 'C'}",
    "02_diagnose_colleague": "colleague_diagnosis = {'dx': 'A', 'dW': 'D', 'db': 'C'}",
}

VARIANTS = [
    # dscores negated: the loss checks pass, every gradient check fails, here and in the network.
    Variant("softmax_ce_wrong_sign", answers={"02_softmax_ce": SOFTMAX_CE_WRONG_SIGN},
            scores={"02_softmax_ce_tests": 4.5, "02_mlp_tests": 5.5}),
    # db = 0: forward, dx and dW pass; db and the hidden checks that include db fail.
    # In the network, b1 and b2 get no gradient: every gradient check fails.
    Variant("affine_missing_bias_grad", answers={"02_affine": AFFINE_MISSING_BIAS_GRAD},
            scores={"02_affine_tests": 3.5, "02_mlp_tests": 5.5}),
    Variant("affine_dW_transposed", answers={"02_affine": AFFINE_DW_TRANSPOSED},
            scores={"02_affine_tests": 3.5, "02_mlp_tests": 5.5}),
    # A mean over the batch: right only for a batch of one.
    Variant("affine_db_mean_not_sum", answers={"02_affine": AFFINE_DB_MEAN},
            scores={"02_affine_tests": 5, "02_mlp_tests": 6.5}),
    # Stable softmax, then log(p): right except where the true class's probability underflows.
    Variant("softmax_ce_log_of_probs", answers={"02_softmax_ce": SOFTMAX_CE_LOG_OF_PROBS},
            scores={"02_softmax_ce_tests": 9, "02_mlp_tests": 11.5}),
    Variant("softmax_ce_not_divided_by_N", answers={"02_softmax_ce": SOFTMAX_CE_NOT_DIVIDED_BY_N},
            scores={"02_softmax_ce_tests": 5.5, "02_mlp_tests": 6.5}),
    Variant("relu_forward_changes_its_input", answers={"02_relu": RELU_FORWARD_IN_PLACE},
            scores={"02_relu_tests": 4.5}),
    Variant("mlp_init_ignores_its_seed", answers={"02_mlp": MLP_IGNORES_SEED}, scores={"02_mlp_tests": 11.5}),
    # dL/dy misses one of its two paths: right only where the ReLU blocks everything.
    Variant("scalar_graph_forgets_a_branch", answers={"02_scalar_graph": SCALAR_GRAPH_FORGETS_A_BRANCH},
            scores={"02_scalar_graph_tests": 2.5}),
    # relative_error raises on the transposed dW instead of reporting inf.
    Variant("check_layer_crashes_on_shape", answers={"02_check_layer": CHECK_LAYER_CRASHES_ON_SHAPE},
            scores={"02_check_layer_tests": 4}),
    Variant("affine_backward_by_centred_differences", answers={"02_affine": AFFINE_BY_CENTRED_DIFFERENCES},
            scores={"02_affine_tests": 7.5, "02_mlp_tests": 9.5}),
    # Centred differences at the kink give half the upstream gradient: the public check says so.
    Variant("relu_backward_by_centred_differences", answers={"02_relu": RELU_BY_CENTRED_DIFFERENCES},
            scores={"02_relu_tests": 4, "02_mlp_tests": 9.5}),
    Variant("softmax_ce_by_centred_differences", answers={"02_softmax_ce": SOFTMAX_CE_BY_CENTRED_DIFFERENCES},
            scores={"02_softmax_ce_tests": 8.5}),
    Variant("decisions_wrong", answers=DECISIONS_WRONG,
            scores={"02_concept_dscores_tests": 0.5, "02_concept_initial_loss_tests": 0.5,
                    "02_concept_sanity_runs_tests": 0.5, "02_diagnose_colleague_tests": 0.5}),
    Variant("correct_loops_other_names_prints",
            answers={"02_scalar_graph": LOOPS_SCALAR_GRAPH, "02_affine": LOOPS_AFFINE, "02_relu": LOOPS_RELU,
                     "02_softmax_ce": LOOPS_SOFTMAX_CE, "02_check_layer": LOOPS_CHECK_LAYER,
                     "02_mlp": LOOPS_MLP, **DECISIONS_OTHER_FORMS},
            scores={}),
]
