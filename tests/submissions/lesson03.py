"""Known submissions for lesson 03 (optimisation and generalisation), with the exact score each must get."""
from tests.submissions import Variant

ASSIGNMENT = "03_optimisation"

# --------------------------------------------------------------------------------------------
# Wrong but plausible.
# --------------------------------------------------------------------------------------------
ADAM_NO_BIAS_CORRECTION = '''
def adam(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 0)
    config["t"] += 1
    config["m"] = config["beta1"] * config["m"] + (1 - config["beta1"]) * dw
    config["v"] = config["beta2"] * config["v"] + (1 - config["beta2"]) * dw ** 2
    next_w = w - config["learning_rate"] * config["m"] / (np.sqrt(config["v"]) + config["epsilon"])
    return next_w, config
'''

DROPOUT_NOT_SCALED = '''
def dropout_forward(x, p, train, rng):
    if not train:
        return x, None
    mask = rng.random(x.shape) >= p          # keeps the right units, but forgets 1 / (1 - p)
    return x * mask, mask


def dropout_backward(dout, cache):
    mask = cache
    if mask is None:
        return dout
    return dout * mask
'''

EARLY_STOPPING_ARGMIN_OVER_ALL = '''
def early_stopping(val_losses, patience):
    best_epoch = int(np.argmin(val_losses))     # looks at epochs that were never run
    best_so_far, waited = np.inf, 0
    for epoch, loss in enumerate(val_losses):
        if loss < best_so_far:
            best_so_far, waited = loss, 0
        else:
            waited += 1
        if waited == patience:
            return best_epoch, epoch
    return best_epoch, len(val_losses) - 1
'''

L2_IN_PLACE = '''
def l2_regularise(loss, grads, params, reg):
    for name in params:
        if name.startswith("W"):
            loss += 0.5 * reg * np.sum(params[name] ** 2)
            grads[name] += reg * params[name]      # changes the caller's arrays
    return loss, grads
'''

# --------------------------------------------------------------------------------------------
# Right, but written differently: loops, other conventions, names, prints and warnings.
# --------------------------------------------------------------------------------------------
OTHER_SGD_MOMENTUM = '''
import warnings


def sgd(w, dw, config=None):
    settings = {"learning_rate": 1e-2}
    if config is not None:
        settings.update(config)
    out = np.empty_like(w)
    for i in np.ndindex(*np.shape(w)):
        out[i] = w[i] - settings["learning_rate"] * dw[i]
    return out, settings


def sgd_momentum(w, dw, config=None):
    # PyTorch's form: v <- mu v + dw, w <- w - lr v (the same path for a fixed lr).
    config = {} if config is None else config
    lr = config.setdefault("learning_rate", 1e-2)
    mu = config.setdefault("momentum", 0.9)
    if "buf" not in config:
        warnings.warn("creating the momentum buffer")
        config["buf"] = np.zeros_like(w)
    config["buf"] = mu * config["buf"] + dw
    return w - lr * config["buf"], config
'''

OTHER_RMSPROP = '''
def rmsprop(w, dw, config=None):
    config = dict(learning_rate=1e-2, decay_rate=0.99, epsilon=1e-8) | (config or {})
    sq = config.get("cache")
    if sq is None:
        sq = np.zeros_like(w)
    sq = config["decay_rate"] * sq + (1 - config["decay_rate"]) * np.square(dw)
    config["cache"] = sq
    # epsilon inside the square root: a common variant
    return w - config["learning_rate"] * dw / np.sqrt(sq + config["epsilon"]), config
'''

OTHER_ADAM = '''
def adam(w, dw, config=None):
    if config is None:
        config = {}
    lr = config.get("learning_rate", 1e-3)
    b1, b2 = config.get("beta1", 0.9), config.get("beta2", 0.999)
    eps = config.get("epsilon", 1e-8)
    step = config.get("t", 0) + 1
    first = b1 * config.get("m", 0.0) + (1 - b1) * dw
    second = b2 * config.get("v", 0.0) + (1 - b2) * dw * dw
    # Kingma and Ba's "efficient" form: fold both corrections into the step size.
    lr_t = lr * np.sqrt(1 - b2 ** step) / (1 - b1 ** step)
    new_w = w - lr_t * first / (np.sqrt(second) + eps)
    config.update({"learning_rate": lr, "beta1": b1, "beta2": b2, "epsilon": eps,
                   "t": step, "m": first, "v": second})
    print("adam step", step) if step == 1 else None
    return new_w, config
'''

OTHER_INIT = '''
def xavier_init(fan_in, fan_out, rng):
    limit = np.sqrt(6.0 / (fan_in + fan_out))       # uniform(-a, a) has std a / sqrt(3)
    return rng.uniform(-limit, limit, size=(fan_in, fan_out))


def he_init(fan_in, fan_out, rng):
    return rng.standard_normal((fan_in, fan_out)) * (2.0 / fan_in) ** 0.5
'''

OTHER_L2 = '''
def l2_regularise(loss, grads, params, reg):
    penalty = 0.0
    out = {}
    for key in grads:
        if key[0] == "W":
            penalty += np.sum(params[key] * params[key])
            out[key] = grads[key] + reg * params[key]
        else:
            out[key] = grads[key].copy()
    return loss + reg * penalty / 2, out
'''

OTHER_DROPOUT = '''
import warnings


def dropout_forward(x, p, train, rng):
    if p >= 1:
        warnings.warn("p must be below 1")
    if train:
        keep = rng.binomial(1, 1 - p, size=x.shape).astype(bool)
        scale = 1.0 / (1.0 - p)
        return np.where(keep, x * scale, 0.0), ("train", keep, scale)
    return x.copy(), ("eval", None, 1.0)


def dropout_backward(dout, cache):
    mode, keep, scale = cache
    if mode == "eval":
        return dout
    return np.where(keep, dout * scale, 0.0)
'''

OTHER_EARLY_STOPPING = '''
def early_stopping(val_losses, patience):
    losses = list(val_losses)
    best_i, best_v, bad = 0, float("inf"), 0
    i = 0
    while i < len(losses):
        v = losses[i]
        if v == v and v < best_v:        # v == v is False for nan
            best_i, best_v, bad = i, v, 0
        else:
            bad += 1
            if bad >= patience:
                print(f"stopping after epoch {i}")
                break
        i += 1
    return best_i, min(i, len(losses) - 1)
'''

# --------------------------------------------------------------------------------------------
# More classes of mistake: lost state, in-place updates, wrong fan, ignored rng, off by one.
# --------------------------------------------------------------------------------------------
MOMENTUM_FORGETS_VELOCITY = '''
def sgd(w, dw, config=None):
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    return w - config["learning_rate"] * dw, config


def sgd_momentum(w, dw, config=None):
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = np.zeros_like(w)                       # a fresh velocity every call: the state is lost
    v = config["momentum"] * v - config["learning_rate"] * dw
    return w + v, config
'''

SGD_IN_PLACE = '''
def sgd(w, dw, config=None):
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    w -= config["learning_rate"] * dw           # changes the caller's array
    return w, config


def sgd_momentum(w, dw, config=None):
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config
'''

RMSPROP_CACHE_NOT_KEPT = '''
def rmsprop(w, dw, config=None):
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    cache = config.get("cache", np.zeros_like(w))
    cache = config["decay_rate"] * cache + (1 - config["decay_rate"]) * dw ** 2   # never stored back
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config
'''

HE_WITH_FAN_OUT = '''
def xavier_init(fan_in, fan_out, rng):
    return rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), size=(fan_in, fan_out))


def he_init(fan_in, fan_out, rng):
    return rng.normal(0.0, np.sqrt(2.0 / fan_out), size=(fan_in, fan_out))
'''

INIT_IGNORES_RNG = '''
def xavier_init(fan_in, fan_out, rng):
    return np.random.default_rng().normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), size=(fan_in, fan_out))


def he_init(fan_in, fan_out, rng):
    return np.random.default_rng().normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))
'''

L2_WITH_BIASES = '''
def l2_regularise(loss, grads, params, reg):
    new_grads = {}
    for name, value in params.items():          # biases too
        loss = loss + 0.5 * reg * np.sum(value ** 2)
        new_grads[name] = grads[name] + reg * value
    return loss, new_grads
'''

DROPOUT_P_AS_KEEP_PROBABILITY = '''
def dropout_forward(x, p, train, rng):
    if not train:
        return x, None
    mask = (rng.random(x.shape) < p) / p       # p read as the probability of keeping a unit
    return x * mask, mask


def dropout_backward(dout, cache):
    return dout if cache is None else dout * cache
'''

DROPOUT_IGNORES_RNG = '''
def dropout_forward(x, p, train, rng):
    if not train or p == 0:
        return x, None
    mask = (np.random.default_rng().random(x.shape) >= p) / (1.0 - p)
    return x * mask, mask


def dropout_backward(dout, cache):
    return dout if cache is None else dout * cache
'''

EARLY_STOPPING_TIE_IMPROVES = '''
def early_stopping(val_losses, patience):
    best_epoch, best_loss = 0, np.inf
    for epoch, loss in enumerate(val_losses):
        if loss <= best_loss:                   # a tie counts as an improvement
            best_epoch, best_loss = epoch, loss
        elif epoch - best_epoch >= patience:
            return best_epoch, epoch
    return best_epoch, len(val_losses) - 1
'''

EARLY_STOPPING_ONE_EPOCH_LATE = EARLY_STOPPING_TIE_IMPROVES.replace(
    "if loss <= best_loss:                   # a tie counts as an improvement", "if loss < best_loss:").replace(
    "elif epoch - best_epoch >= patience:", "elif epoch - best_epoch > patience:    # one epoch late")

DECISIONS_WRONG = {
    "03_concept_adamw": "adamw_prediction = {'adam_plus_l2': 'A', 'adamw': 'C'}",
    "03_concept_lr": "lr_answer = {'too_small': 'C', 'good': 'A', 'divergent': 'B', 'pick': 1.0}",
    "03_concept_bias_variance": "bias_variance = {'high_bias': 'deep', 'high_variance': 'shallow'}",
    "03_diagnose_eval": "eval_diagnosis = 'C'",
}
DECISIONS_OTHER_FORMS = {
    "03_concept_adamw": "adamw_prediction = dict(adamw='c', adam_plus_l2=' b ')",
    "03_concept_lr": "lr_answer = {'pick': '0.3', 'divergent': 'b', 'good': ' a', 'too_small': 'C'}",
    "03_concept_bias_variance": "bias_variance = {'high_variance': 'Deep', 'high_bias': ' SHALLOW'}",
    "03_diagnose_eval": "eval_diagnosis = ' b'",
}

VARIANTS = [
    # Only "a zero gradient does not move w" and "w unchanged" survive: every other step is too large.
    Variant("adam_no_bias_correction", answers={"03_adam": ADAM_NO_BIAS_CORRECTION},
            scores={"03_adam_tests": 1.5}),
    Variant("momentum_forgets_its_velocity", answers={"03_sgd_momentum": MOMENTUM_FORGETS_VELOCITY},
            scores={"03_sgd_momentum_tests": 2.5}),
    Variant("sgd_updates_w_in_place", answers={"03_sgd_momentum": SGD_IN_PLACE}, scores={"03_sgd_momentum_tests": 5}),
    # The first step is right (the cache starts at zero either way); every later one is not.
    Variant("rmsprop_cache_not_kept", answers={"03_rmsprop": RMSPROP_CACHE_NOT_KEPT}, scores={"03_rmsprop_tests": 1}),
    Variant("he_init_with_fan_out", answers={"03_init": HE_WITH_FAN_OUT}, scores={"03_init_tests": 3}),
    Variant("init_ignores_its_rng", answers={"03_init": INIT_IGNORES_RNG}, scores={"03_init_tests": 4}),
    Variant("l2_penalises_biases", answers={"03_l2": L2_WITH_BIASES}, scores={"03_l2_tests": 1}),
    # Right values, but the caller's gradient arrays are changed in place.
    Variant("l2_in_place", answers={"03_l2": L2_IN_PLACE}, scores={"03_l2_tests": 4}),
    # Eval mode, the fraction dropped, p = 0 / p = 0.9 and the rng pass; the scale, the mean and backward fail.
    Variant("dropout_not_scaled", answers={"03_dropout": DROPOUT_NOT_SCALED}, scores={"03_dropout_tests": 4}),
    Variant("dropout_p_as_keep_probability", answers={"03_dropout": DROPOUT_P_AS_KEEP_PROBABILITY},
            scores={"03_dropout_tests": 3}),
    Variant("dropout_ignores_its_rng", answers={"03_dropout": DROPOUT_IGNORES_RNG}, scores={"03_dropout_tests": 7}),
    # The stop epoch is right; the best epoch is wrong where a lower loss (or a nan) comes later.
    Variant("early_stopping_argmin_over_all_epochs", answers={"03_early_stopping": EARLY_STOPPING_ARGMIN_OVER_ALL},
            scores={"03_early_stopping_tests": 3.5}),
    Variant("early_stopping_tie_is_an_improvement", answers={"03_early_stopping": EARLY_STOPPING_TIE_IMPROVES},
            scores={"03_early_stopping_tests": 5.5}),
    Variant("early_stopping_one_epoch_late", answers={"03_early_stopping": EARLY_STOPPING_ONE_EPOCH_LATE},
            scores={"03_early_stopping_tests": 2}),
    Variant("decisions_wrong", answers=DECISIONS_WRONG,
            scores={"03_concept_adamw_tests": 0.5, "03_concept_lr_tests": 2, "03_concept_bias_variance_tests": 0.5,
                    "03_diagnose_eval_tests": 0.5}),
    Variant("correct_loops_other_conventions_prints",
            answers={"03_sgd_momentum": OTHER_SGD_MOMENTUM, "03_rmsprop": OTHER_RMSPROP, "03_adam": OTHER_ADAM,
                     "03_init": OTHER_INIT, "03_l2": OTHER_L2, "03_dropout": OTHER_DROPOUT,
                     "03_early_stopping": OTHER_EARLY_STOPPING, **DECISIONS_OTHER_FORMS},
            scores={}),
]
