"""Known submissions for lesson 07 (sequences) and their exact scores.

Points per tests cell: 07_rnn_step_tests 7, 07_bptt_tests 12, 07_clip_tests 5,
07_concept_gradients_tests 5, 07_padding_tests 6, 07_lm_tests 5, 07_temperature_tests 5,
07_concept_perplexity_tests 5, 07_baselines_tests 5, 07_rolling_origin_tests 3,
07_concept_classic_tests 4, 07_diagnose_leak_tests 7.
"""
from tests.submissions import Variant

ASSIGNMENT = "07_sequences"

# ---------------------------------------------------------------------------------------------
# 1. The recurrent step.
# ---------------------------------------------------------------------------------------------
STEP_FORWARD = '''
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    a = x @ Wx + h_prev @ Wh + b
    h_next = np.tanh(a)
    return h_next, (x, h_prev, Wx, Wh, a, h_next)
'''

# tanh' written as 1 - a**2 with the pre-activation a (the formula for h used on a). h_next passes
# (1 pt); every gradient check fails: 1 of 7.
STEP_TANH_FROM_PREACTIVATION = STEP_FORWARD + '''

def rnn_step_backward(dh_next, cache):
    x, h_prev, Wx, Wh, a, h_next = cache
    da = dh_next * (1 - a ** 2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(axis=0)
'''

# Correct: tanh' from the pre-activation done right, 1 - tanh(a)**2, with einsum and a loop for db.
STEP_CORRECT_FROM_PREACTIVATION = STEP_FORWARD + '''

def rnn_step_backward(dh_next, cache):
    x, h_prev, Wx, Wh, a, _ = cache
    da = dh_next * (1.0 - np.tanh(a) ** 2)
    db = np.zeros(da.shape[1])
    for row in da:
        db += row
    return (np.einsum("nh,dh->nd", da, Wx), np.einsum("nh,kh->nk", da, Wh),
            np.einsum("nd,nh->dh", x, da), np.einsum("nk,nh->kh", h_prev, da), db)
'''

# ---------------------------------------------------------------------------------------------
# 1.2 BPTT. A full loop written out (no step calls), with one thing changed per variant.
# ---------------------------------------------------------------------------------------------
BPTT = '''
def rnn_forward(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    prev = h0
    for t in range(T):
        prev = np.tanh(x[:, t] @ Wx + prev @ Wh + b)
        h[:, t] = prev
    return h, (x, h0, Wx, Wh, h)


def rnn_backward(dh, cache):
    x, h0, Wx, Wh, h = cache
    N, T, H = dh.shape
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(H)
    dx_sum = np.zeros((N, x.shape[2]))
    carry = np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        h_prev = h[:, t - 1] if t > 0 else h0
        da = ({upstream}) * {tanh_prime}
        {dx_line}
        {weights}
        carry = da @ Wh.T
    {dx_after}
    return dx, {dh0}, dWx, dWh, db
'''
_RIGHT = dict(upstream="dh[:, t] + carry", tanh_prime="(1 - h[:, t] ** 2)", dx_line="dx[:, t] = da @ Wx.T",
              weights="dWx += x[:, t].T @ da; dWh += h_prev.T @ da; db += da.sum(0)", dx_after="", dh0="carry")


def _bptt(**changes):
    return BPTT.format(**{**_RIGHT, **changes})


# Only the direct gradient dh[:, t], nothing from step t+1. h passes, and a one-step sequence
# (where there is nothing to carry) passes: 1 + 1 of 12.
BPTT_NOT_CARRIED = _bptt(upstream="dh[:, t]")
# 1 - a**2 with the pre-activation recomputed: only h passes: 1 of 12.
BPTT_TANH_FROM_PREACTIVATION = _bptt(tanh_prime="(1 - (x[:, t] @ Wx + h_prev @ Wh + b) ** 2)")
# Shared weights' gradients overwritten at each step (the last one processed, step 0, wins): h, dx
# and dh0 pass, and the one-step sequence: 4 of 12.
BPTT_WEIGHTS_NOT_SUMMED = _bptt(weights="dWx = x[:, t].T @ da; dWh = h_prev.T @ da; db = da.sum(0)")
# Summed over time for the wrong parameters: dx summed like a shared weight (every step gets the
# sum), the weights overwritten. h and dh0 pass, and the one-step sequence: 3 of 12.
BPTT_SUMS_INPUTS_NOT_WEIGHTS = _bptt(dx_line="dx_sum += da @ Wx.T",
                                     weights="dWx = x[:, t].T @ da; dWh = h_prev.T @ da; db = da.sum(0)",
                                     dx_after="dx = np.repeat(dx_sum[:, None, :], T, axis=1)")
# The initial state's gradient dropped (zeros): every public check but dh0 passes; every hidden
# check includes dh0: 4 of 12.
BPTT_DROPS_DH0 = _bptt(dh0="np.zeros_like(h0)")

# Correct: caches as a list of dicts, step functions, reversed(range(T)).
BPTT_CORRECT_WITH_STEPS = '''
def rnn_forward(x, h0, Wx, Wh, b):
    states, caches, h_t = [], [], h0
    for t in range(x.shape[1]):
        h_t, c = rnn_step_forward(x[:, t, :], h_t, Wx, Wh, b)
        states.append(h_t)
        caches.append({"step": c})
    return np.stack(states, axis=1), caches


def rnn_backward(dh, cache):
    grads_x = [None] * len(cache)
    dWx = dWh = db = 0.0
    d_state = 0.0
    for t in reversed(range(len(cache))):
        gx, d_state, gWx, gWh, gb = rnn_step_backward(dh[:, t, :] + d_state, cache[t]["step"])
        grads_x[t] = gx
        dWx, dWh, db = dWx + gWx, dWh + gWh, db + gb
    return np.stack(grads_x, axis=1), d_state, dWx, dWh, db
'''

# ---------------------------------------------------------------------------------------------
# 2. Clipping.
# ---------------------------------------------------------------------------------------------
# Each tensor clipped to max_norm on its own: the global-norm check and the hidden ones with
# large gradients fail; small gradients and not mutating pass: 2 of 5.
CLIP_PER_TENSOR = '''
def clip_grad_norm(grads, max_norm):
    total = float(np.sqrt(sum((g ** 2).sum() for g in grads.values())))
    out = {}
    for k, g in grads.items():
        n = np.sqrt((g ** 2).sum())
        out[k] = g * min(1.0, max_norm / (n + 1e-6))
    return out, total
'''
# Always rescaled to max_norm, also when the norm is smaller (small gradients grow): only the
# public "unchanged" check fails: 4 of 5.
CLIP_ALWAYS_RESCALES = '''
def clip_grad_norm(grads, max_norm):
    total = float(np.sqrt(sum((g ** 2).sum() for g in grads.values())))
    return {k: g * (max_norm / (total + 1e-6)) for k, g in grads.items()}, total
'''
# Scales the caller's arrays in place: right values, but the hidden "not modified" check fails: 4 of 5.
CLIP_IN_PLACE = '''
def clip_grad_norm(grads, max_norm):
    total = float(np.sqrt(sum((g ** 2).sum() for g in grads.values())))
    if total > max_norm:
        for g in grads.values():
            g *= max_norm / total
    return grads, total
'''
# Correct, another way: math.sqrt over a flat concatenation, no epsilon, float32 kept.
CLIP_CORRECT_FLAT = '''
import math

def clip_grad_norm(grads, max_norm):
    flat = np.concatenate([np.ravel(g).astype(np.float64) for g in grads.values()])
    norm = math.sqrt(float(flat @ flat))
    if norm <= max_norm:
        return {k: np.array(g, copy=True) for k, g in grads.items()}, norm
    return {k: (g * (max_norm / norm)).astype(g.dtype) for k, g in grads.items()}, norm
'''

# ---------------------------------------------------------------------------------------------
# 2. Concept check.
# ---------------------------------------------------------------------------------------------
CONCEPT_GRADIENTS_SWAPPED = '''
answer = {"vanishing": "A", "exploding": "C", "lstm": "B", "clipping_fixes": "vanishing"}
'''
CONCEPT_GRADIENTS_LOWERCASE = '''
answer = {"lstm": " b", "vanishing": "c", "exploding": "a ", "clipping_fixes": "Exploding"}
'''

# ---------------------------------------------------------------------------------------------
# 3. Padding.
# ---------------------------------------------------------------------------------------------
LAST_VALID = '''

def last_valid_output(outputs, lengths):
    return outputs[torch.arange(len(lengths)), torch.as_tensor(lengths) - 1]
'''
# Padded steps counted in the loss: the public loss check, the random batch and the gradient check
# fail; full-length batches and both last-output checks pass: 3 of 6.
PADDING_COUNTED_IN_LOSS = '''
def masked_cross_entropy(logits, targets, lengths):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
''' + LAST_VALID
# Padded losses zeroed but still counted in the mean (divided by N*T): 3 of 6.
PADDING_COUNTED_IN_MEAN = '''
def masked_cross_entropy(logits, targets, lengths):
    N, T, V = logits.shape
    mask = (torch.arange(T)[None, :] < lengths[:, None]).float()
    losses = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), reduction="none").reshape(N, T)
    return (losses * mask).mean()
''' + LAST_VALID
MASKED_RIGHT = '''
def masked_cross_entropy(logits, targets, lengths):
    N, T, V = logits.shape
    mask = torch.arange(T)[None, :] < lengths[:, None]
    losses = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), reduction="none").reshape(N, T)
    return losses[mask].mean()
'''
# The last output taken at step T-1, a padded step for short sequences: both last-output checks
# fail: 4 of 6.
PADDING_LAST_STEP_T_MINUS_1 = MASKED_RIGHT + '''

def last_valid_output(outputs, lengths):
    return outputs[:, -1]
'''
# Correct, another way: ignore_index, and gather.
PADDING_CORRECT_IGNORE_INDEX = '''
def masked_cross_entropy(logits, targets, lengths):
    T = targets.shape[1]
    padded = torch.arange(T).unsqueeze(0) >= torch.as_tensor(lengths).unsqueeze(1)
    return F.cross_entropy(logits.transpose(1, 2), targets.masked_fill(padded, -100), ignore_index=-100)


def last_valid_output(outputs, lengths):
    index = (torch.as_tensor(lengths) - 1).view(-1, 1, 1).expand(-1, 1, outputs.shape[2])
    return outputs.gather(1, index).squeeze(1)
'''

# ---------------------------------------------------------------------------------------------
# 4. Language model.
# ---------------------------------------------------------------------------------------------
PERPLEXITY_RIGHT = '''

def perplexity(logits, targets):
    return math.exp(F.cross_entropy(logits.double(), targets).item())
'''
# Targets equal to the inputs (not shifted): the three pair checks fail, both perplexity checks
# pass: 2 of 5.
LM_TARGETS_NOT_SHIFTED = '''
def teacher_forcing_pairs(ids, seq_len):
    M = (len(ids) - 1) // seq_len
    X = ids[:M * seq_len].reshape(M, seq_len)
    return X, X.copy()
''' + PERPLEXITY_RIGHT
# exp of the summed loss instead of the mean: both perplexity checks fail: 3 of 5.
LM_PERPLEXITY_OF_THE_SUM = '''
def teacher_forcing_pairs(ids, seq_len):
    M = (len(ids) - 1) // seq_len
    return ids[:M * seq_len].reshape(M, seq_len), ids[1:M * seq_len + 1].reshape(M, seq_len)


def perplexity(logits, targets):
    return math.exp(F.cross_entropy(logits.double(), targets, reduction="sum").item())
'''
# Correct, another way: loops over chunks; log-softmax by hand in NumPy.
LM_CORRECT_LOOPS = '''
def teacher_forcing_pairs(ids, seq_len):
    X, Y = [], []
    start = 0
    while start + seq_len + 1 <= len(ids):
        X.append(ids[start:start + seq_len])
        Y.append(ids[start + 1:start + seq_len + 1])
        start += seq_len
    return np.array(X, dtype=np.int64).reshape(-1, seq_len), np.array(Y, dtype=np.int64).reshape(-1, seq_len)


def perplexity(logits, targets):
    z = logits.detach().double().numpy()
    z = z - z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    nll = -log_p[np.arange(len(z)), targets.numpy()]
    return float(np.exp(nll.mean()))
'''

# ---------------------------------------------------------------------------------------------
# 4.1 Temperature and sampling.
# ---------------------------------------------------------------------------------------------
SAMPLE_RIGHT = '''

def sample_index(probs, u):
    return (np.cumsum(probs, axis=1) <= u[:, None]).sum(axis=1).clip(max=probs.shape[1] - 1)
'''
# Logits multiplied by the temperature: the public check at 0.5, the hidden temperature checks
# fail; sampling passes: 2 of 5.
TEMPERATURE_MULTIPLIES = '''
def temperature_softmax(logits, temperature):
    z = logits * temperature
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
''' + SAMPLE_RIGHT
# No max subtracted: exp(1000 / 0.1) overflows to nan: 4 of 5.
TEMPERATURE_OVERFLOWS = '''
def temperature_softmax(logits, temperature):
    e = np.exp(np.asarray(logits) / temperature)
    return e / e.sum(axis=-1, keepdims=True)
''' + SAMPLE_RIGHT
# The first index whose cumulative sum reaches u (>=): wrong exactly at the boundaries, which the
# public check probes; the random draws of the hidden check never hit one: 4 of 5.
SAMPLE_GREATER_OR_EQUAL = '''
def temperature_softmax(logits, temperature):
    z = logits / temperature
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def sample_index(probs, u):
    return np.array([int(np.argmax(np.cumsum(p) >= v)) for p, v in zip(probs, u)])
'''
# Correct, another way: scipy's softmax, searchsorted.
TEMPERATURE_CORRECT_SCIPY = '''
from scipy.special import softmax

def temperature_softmax(logits, temperature):
    return softmax(np.asarray(logits, dtype=float) / temperature, axis=-1)


def sample_index(probs, u):
    return np.array([min(np.searchsorted(np.cumsum(p), v, side="right"), len(p) - 1) for p, v in zip(probs, u)])
'''

CONCEPT_PERPLEXITY_LOG_V = '''
answer = {"uniform_perplexity": math.log(V), "best_model_sample": "A", "untrained_sample": "B", "lowest_temperature": "E"}
'''

# ---------------------------------------------------------------------------------------------
# 5. Forecasting.
# ---------------------------------------------------------------------------------------------
NAIVE_RIGHT = '''
def naive_forecast(history, horizon):
    return np.repeat(float(history[-1]), horizon)

'''
# The lag window ends AT the origin (includes y[o], the first value to forecast): look-ahead. The
# public lag check and the hidden one fail: 3 of 5.
LAG_WINDOWS_INCLUDE_ORIGIN = NAIVE_RIGHT + '''
def seasonal_naive_forecast(history, horizon, period):
    return np.array([history[len(history) - period + h % period] for h in range(horizon)], dtype=float)


def lag_windows(y, n_lags, horizon):
    X = [y[o - n_lags + 1:o + 1] for o in range(n_lags, len(y) - horizon + 1)]
    Y = [y[o:o + horizon] for o in range(n_lags, len(y) - horizon + 1)]
    return np.array(X), np.array(Y)
'''
# Seasonal naive one step off (repeats history[-period-1:-1]): the public forecast check and the
# hidden seasonal check fail: 3 of 5.
SEASONAL_NAIVE_OFF_BY_ONE = NAIVE_RIGHT + '''
def seasonal_naive_forecast(history, horizon, period):
    last = history[-period - 1:-1]
    return np.array([last[h % period] for h in range(horizon)], dtype=float)


def lag_windows(y, n_lags, horizon):
    X = [y[o - n_lags:o] for o in range(n_lags, len(y) - horizon + 1)]
    Y = [y[o:o + horizon] for o in range(n_lags, len(y) - horizon + 1)]
    return np.array(X), np.array(Y)
'''
# A sliding window of fixed size instead of an expanding one: every check fails: 0 of 3.
ROLLING_SLIDING_WINDOW = '''
def rolling_origin_splits(n, initial, horizon, step):
    return [(np.arange(o - initial, o), np.arange(o, o + horizon)) for o in range(initial, n - horizon + 1, step)]
'''
# The last fold dropped (< instead of <=): the public check and the weeks check fail: 1 of 3.
ROLLING_DROPS_LAST_FOLD = '''
def rolling_origin_splits(n, initial, horizon, step):
    folds, o = [], initial
    while o + horizon < n:
        folds.append((np.arange(o), np.arange(o, o + horizon)))
        o += step
    return folds
'''
# Correct, another way: a comprehension over range, lists of ints.
ROLLING_CORRECT_RANGE = '''
def rolling_origin_splits(n, initial, horizon, step):
    return [(list(range(o)), list(range(o, o + horizon))) for o in range(initial, n - horizon + 1, step)]
'''

CONCEPT_CLASSIC_WRONG = '''
answer = {"deploy": "GRU ", "ridge_beats_gru_folds": 5, "why": "b"}
'''

# ---------------------------------------------------------------------------------------------
# 6. The leak.
# ---------------------------------------------------------------------------------------------
LEAK = '''
def future_columns(make_features, y, t):
    y = np.asarray(y, dtype=float)
    X, names = make_features(y.copy())
    y2 = y.copy()
    {perturb}
    X2, _ = make_features(y2)
    return [n for n, a, b in zip(names, X[t], X2[t]) if {changed}]
'''
_ISCLOSE = "not np.isclose(a, b, rtol=0, atol=1e-12, equal_nan=True)"
# Only y[t+1:] changed: the target itself (a column equal to y[t]) goes unnoticed; the public
# "target itself" check fails: 6 of 7.
LEAK_ONLY_AFTER_T = LEAK.format(perturb="y2[t + 1:] += np.arange(1.0, len(y) - t)", changed=_ISCLOSE)
# The whole series changed: every column is flagged, honest ones too: only the nan-at-the-end
# check passes: 1 of 7.
LEAK_WHOLE_SERIES = LEAK.format(perturb="y2 += np.arange(1.0, len(y) + 1.0)", changed=_ISCLOSE)
# The same amount added to every future value: a forward difference y[t+1] - y[t] does not move,
# so the hidden mixed check fails: 5 of 7.
LEAK_CONSTANT_SHIFT = LEAK.format(perturb="y2[t:] += 1.0", changed=_ISCLOSE)
# a != b: nan != nan, so a column that is nan in both runs is flagged: 6 of 7.
LEAK_NAN_IS_CHANGE = LEAK.format(perturb="y2[t:] += np.arange(1.0, len(y) - t + 1.0)", changed="a != b")
# Correct, another way: seeded random perturbation, a loop over columns.
LEAK_CORRECT_RANDOM = '''
def future_columns(make_features, y, t):
    X, names = make_features(np.array(y, dtype=float))
    bumped = np.array(y, dtype=float)
    bumped[t:] = bumped[t:] + np.random.default_rng(0).uniform(1.0, 2.0, size=len(bumped) - t)
    X_bumped, _ = make_features(bumped)
    found = []
    for j, name in enumerate(names):
        before, after = X[t, j], X_bumped[t, j]
        if np.isnan(before) and np.isnan(after):
            continue
        if np.isnan(before) or np.isnan(after) or abs(before - after) > 1e-9:
            found.append(name)
    return found
'''


def _combined(name_to_cells: list[tuple[str, dict[str, str], dict[str, float]]]) -> Variant:
    """One submission carrying several mistakes, each in a different exercise.

    Every exercise is scored on its own, from fresh inputs, so mistakes in different cells do not
    interact; combining them keeps the exact-score test to a few notebook runs (each run of this
    lesson takes most of a minute) while every mistake still has its own, named exact score.
    """
    answers: dict[str, str] = {}
    scores: dict[str, float] = {}
    for _, cells, cell_scores in name_to_cells:
        assert not set(cells) & set(answers), "two mistakes in one exercise cannot share a submission"
        answers.update(cells)
        scores.update(cell_scores)
    return Variant("__".join(name for name, _, _ in name_to_cells), answers=answers, scores=scores)


VARIANTS = [
    # The step's tanh' mistake; the solution's BPTT calls this step, so BPTT fails too.
    Variant("step_tanh_derivative_from_the_preactivation", answers={"07_rnn_step": STEP_TANH_FROM_PREACTIVATION},
            scores={"07_rnn_step_tests": 1, "07_bptt_tests": 1}),
    _combined([
        ("bptt_gradient_not_carried_through_h_prev", {"07_bptt": BPTT_NOT_CARRIED}, {"07_bptt_tests": 2}),
        ("clip_each_tensor_on_its_own", {"07_clip": CLIP_PER_TENSOR}, {"07_clip_tests": 2}),
        ("concept_gradients_swapped", {"07_concept_gradients": CONCEPT_GRADIENTS_SWAPPED}, {"07_concept_gradients_tests": 2}),
        ("padding_counted_in_the_loss", {"07_padding": PADDING_COUNTED_IN_LOSS}, {"07_padding_tests": 3}),
        ("lm_targets_not_shifted", {"07_lm": LM_TARGETS_NOT_SHIFTED}, {"07_lm_tests": 2}),
        ("temperature_multiplies_the_logits", {"07_temperature": TEMPERATURE_MULTIPLIES}, {"07_temperature_tests": 2}),
        ("lag_windows_include_the_origin", {"07_baselines": LAG_WINDOWS_INCLUDE_ORIGIN}, {"07_baselines_tests": 3}),
        ("rolling_origin_sliding_window", {"07_rolling_origin": ROLLING_SLIDING_WINDOW}, {"07_rolling_origin_tests": 0}),
        ("leak_probe_changes_only_after_t", {"07_diagnose_leak": LEAK_ONLY_AFTER_T}, {"07_diagnose_leak_tests": 6}),
    ]),
    _combined([
        ("bptt_tanh_derivative_from_the_preactivation", {"07_bptt": BPTT_TANH_FROM_PREACTIVATION}, {"07_bptt_tests": 1}),
        ("clip_always_rescales", {"07_clip": CLIP_ALWAYS_RESCALES}, {"07_clip_tests": 4}),
        ("padding_counted_in_the_mean", {"07_padding": PADDING_COUNTED_IN_MEAN}, {"07_padding_tests": 3}),
        ("lm_perplexity_of_the_summed_loss", {"07_lm": LM_PERPLEXITY_OF_THE_SUM}, {"07_lm_tests": 3}),
        ("temperature_softmax_overflows", {"07_temperature": TEMPERATURE_OVERFLOWS}, {"07_temperature_tests": 4}),
        ("concept_perplexity_log_of_V", {"07_concept_perplexity": CONCEPT_PERPLEXITY_LOG_V}, {"07_concept_perplexity_tests": 4}),
        ("seasonal_naive_off_by_one", {"07_baselines": SEASONAL_NAIVE_OFF_BY_ONE}, {"07_baselines_tests": 3}),
        ("rolling_origin_drops_the_last_fold", {"07_rolling_origin": ROLLING_DROPS_LAST_FOLD}, {"07_rolling_origin_tests": 1}),
        ("leak_probe_changes_the_whole_series", {"07_diagnose_leak": LEAK_WHOLE_SERIES}, {"07_diagnose_leak_tests": 1}),
    ]),
    _combined([
        ("bptt_weight_gradients_not_summed_over_time", {"07_bptt": BPTT_WEIGHTS_NOT_SUMMED}, {"07_bptt_tests": 4}),
        ("clip_in_place", {"07_clip": CLIP_IN_PLACE}, {"07_clip_tests": 4}),
        ("last_output_at_step_T_minus_1", {"07_padding": PADDING_LAST_STEP_T_MINUS_1}, {"07_padding_tests": 4}),
        ("sample_index_greater_or_equal", {"07_temperature": SAMPLE_GREATER_OR_EQUAL}, {"07_temperature_tests": 4}),
        ("concept_classic_deploys_the_gru", {"07_concept_classic": CONCEPT_CLASSIC_WRONG}, {"07_concept_classic_tests": 2}),
        ("leak_probe_constant_shift", {"07_diagnose_leak": LEAK_CONSTANT_SHIFT}, {"07_diagnose_leak_tests": 5}),
    ]),
    _combined([
        ("bptt_sums_the_inputs_gradient_over_time_not_the_weights", {"07_bptt": BPTT_SUMS_INPUTS_NOT_WEIGHTS},
         {"07_bptt_tests": 3}),
        ("leak_probe_counts_nan_as_changed", {"07_diagnose_leak": LEAK_NAN_IS_CHANGE}, {"07_diagnose_leak_tests": 6}),
    ]),
    Variant("bptt_drops_the_initial_state_gradient", answers={"07_bptt": BPTT_DROPS_DH0}, scores={"07_bptt_tests": 4}),
    # Correct, written differently: full marks everywhere.
    Variant("correct_written_differently", answers={
        "07_rnn_step": STEP_CORRECT_FROM_PREACTIVATION, "07_bptt": BPTT_CORRECT_WITH_STEPS,
        "07_clip": CLIP_CORRECT_FLAT, "07_concept_gradients": CONCEPT_GRADIENTS_LOWERCASE,
        "07_padding": PADDING_CORRECT_IGNORE_INDEX, "07_lm": LM_CORRECT_LOOPS,
        "07_temperature": TEMPERATURE_CORRECT_SCIPY, "07_rolling_origin": ROLLING_CORRECT_RANGE,
        "07_diagnose_leak": LEAK_CORRECT_RANDOM}, scores={}),
]
