"""Known submissions for lesson 09 (GANs) and their exact scores.

Points per tests cell: 09_generator_grads_tests 5, 09_concept_saturation_tests 3,
09_mode_coverage_tests 6, 09_concept_collapse_tests 2.5, 09_train_step_tests 12,
09_gradient_penalty_tests 6, 09_frechet_distance_tests 6, 09_concept_fid_tests 4.5,
09_diagnose_runs_tests 6.5. Public checks are worth 1 point (0.5 for an answer's format); hidden
ones carry the rest.

The train_step checks of the four mistakes the lesson names (no detach, swapped labels, the
generator stepped with the discriminator's optimiser, real and fake mixed in one batch-norm batch)
each fail a public check that names the mistake.
"""
from tests.submissions import Variant

ASSIGNMENT = "09_gans"

# ---------------------------------------------------------------------------------------------
# Generator gradients.
# ---------------------------------------------------------------------------------------------

# The derivative with respect to D instead of D's logit (the sigmoid's chain rule left out):
# -1/(1 - d) and -1/d. Every check fails: 0 of 5.
GRADS_WRT_D = '''
def minimax_grad(d):
    return -1 / (1 - np.asarray(d))


def nonsaturating_grad(d):
    return -1 / np.asarray(d)
'''

# ---------------------------------------------------------------------------------------------
# Mode coverage.
# ---------------------------------------------------------------------------------------------

# A mode counts as hit with a single near sample (min_count ignored). The worked example (1 pt)
# and the unchanged-inputs check, which reads modes_hit of that example (1 pt), fail; the ring data
# has ~100 samples per mode and passes; the random mixtures have modes with a few strays and fail
# (2 + 1 pt): 1 of 6.
COVERAGE_IGNORES_MIN_COUNT = '''
def mode_coverage(samples, centers, radius=0.25, min_count=10):
    dist = np.linalg.norm(samples[:, None, :] - centers[None, :, :], axis=2)
    nearest = dist.argmin(axis=1)
    near = dist.min(axis=1) <= radius
    counts = np.bincount(nearest[near], minlength=len(centers))
    return {"modes_hit": int((counts > 0).sum()), "near_fraction": float(near.mean()), "counts": counts}
'''

# Every sample is counted for its nearest mode, near or not (the radius only used for the fraction).
# The worked example's counts include the two far samples (fails); the ring data are all near
# (passes); the random mixtures are wider than the radius (fail, 2 + 1 pt); the unchanged-inputs
# check only reads modes_hit, which is still 1 (passes): 2 of 6.
COVERAGE_COUNTS_FAR_SAMPLES = '''
def mode_coverage(samples, centers, radius=0.25, min_count=10):
    dist = np.linalg.norm(samples[:, None, :] - centers[None, :, :], axis=2)
    nearest = dist.argmin(axis=1)
    counts = np.bincount(nearest, minlength=len(centers))
    near_fraction = float((dist.min(axis=1) <= radius).mean())
    return {"modes_hit": int((counts >= min_count).sum()), "near_fraction": near_fraction, "counts": counts}
'''

# ---------------------------------------------------------------------------------------------
# The training step: the four mistakes the lesson names.
# ---------------------------------------------------------------------------------------------

# No detach() in D's loss. Backward through G a second time then raises, and the error message
# suggests retain_graph=True, which makes it run. Because opt_G.zero_grad() comes just before the
# generator's backward, the update is still right: only the two gradient-arrival checks see that G
# received D's gradients (public, 1 pt; hidden, 1 pt): 10 of 12.
NO_DETACH_RETAIN_GRAPH = '''
def train_step(G, D, opt_G, opt_D, x_real, z, g_loss="nonsaturating", penalty=None):
    bce = F.binary_cross_entropy_with_logits
    fake = G(z)
    opt_D.zero_grad()
    logits_real, logits_fake = D(x_real), D(fake)
    loss_D = bce(logits_real, torch.ones_like(logits_real)) + bce(logits_fake, torch.zeros_like(logits_fake))
    if penalty is not None:
        loss_D = loss_D + penalty(D, x_real)
    loss_D.backward(retain_graph=True)
    opt_D.step()
    opt_G.zero_grad()
    logits = D(fake)
    if g_loss == "minimax":
        loss_G = -bce(logits, torch.zeros_like(logits))
    else:
        loss_G = bce(logits, torch.ones_like(logits))
    loss_G.backward()
    opt_G.step()
    return loss_D.item(), loss_G.item()
'''

# The same, with both optimisers zeroed at the top: now G is stepped with the sum of D's and its
# own gradients. The one-step losses are computed before G moves and pass (1 pt); every parameter
# check and both arrival checks fail: 1 of 12.
NO_DETACH_ZERO_FIRST = '''
def train_step(G, D, opt_G, opt_D, x_real, z, g_loss="nonsaturating", penalty=None):
    bce = F.binary_cross_entropy_with_logits
    opt_D.zero_grad()
    opt_G.zero_grad()
    fake = G(z)
    logits_real, logits_fake = D(x_real), D(fake)
    loss_D = bce(logits_real, torch.ones_like(logits_real)) + bce(logits_fake, torch.zeros_like(logits_fake))
    if penalty is not None:
        loss_D = loss_D + penalty(D, x_real)
    loss_D.backward(retain_graph=True)
    opt_D.step()
    logits = D(fake)
    if g_loss == "minimax":
        loss_G = -bce(logits, torch.zeros_like(logits))
    else:
        loss_G = bce(logits, torch.ones_like(logits))
    loss_G.backward()
    opt_G.step()
    return loss_D.item(), loss_G.item()
'''

# Real labelled 0 and fake labelled 1 in D's loss. Only the two gradient-arrival checks pass (the
# right networks get gradients, just the wrong ones): 2 of 12.
LABELS_SWAPPED = '''
def train_step(G, D, opt_G, opt_D, x_real, z, g_loss="nonsaturating", penalty=None):
    bce = F.binary_cross_entropy_with_logits
    fake = G(z)
    opt_D.zero_grad()
    logits_real, logits_fake = D(x_real), D(fake.detach())
    loss_D = bce(logits_real, torch.zeros_like(logits_real)) + bce(logits_fake, torch.ones_like(logits_fake))
    if penalty is not None:
        loss_D = loss_D + penalty(D, x_real)
    loss_D.backward()
    opt_D.step()
    opt_G.zero_grad()
    logits = D(fake)
    if g_loss == "minimax":
        loss_G = -bce(logits, torch.zeros_like(logits))
    else:
        loss_G = bce(logits, torch.ones_like(logits))
    loss_G.backward()
    opt_G.step()
    return loss_D.item(), loss_G.item()
'''

# The generator's gradients handed to opt_D: G never moves and D takes a second step on the
# generator's loss. The one-step losses (computed before either extra step shows) and both arrival
# checks pass: 3 of 12.
G_STEPPED_WITH_OPT_D = '''
def train_step(G, D, opt_G, opt_D, x_real, z, g_loss="nonsaturating", penalty=None):
    bce = F.binary_cross_entropy_with_logits
    fake = G(z)
    opt_D.zero_grad()
    logits_real, logits_fake = D(x_real), D(fake.detach())
    loss_D = bce(logits_real, torch.ones_like(logits_real)) + bce(logits_fake, torch.zeros_like(logits_fake))
    if penalty is not None:
        loss_D = loss_D + penalty(D, x_real)
    loss_D.backward()
    opt_D.step()
    opt_D.zero_grad()
    logits = D(fake)
    if g_loss == "minimax":
        loss_G = -bce(logits, torch.zeros_like(logits))
    else:
        loss_G = bce(logits, torch.ones_like(logits))
    loss_G.backward()
    opt_D.step()
    return loss_D.item(), loss_G.item()
'''

# Real and fake concatenated into one batch for D. Without batch norm that changes nothing; with it,
# each half is normalised with the other's statistics: the public and the hidden batch-norm checks
# fail (1 + 2 pt): 9 of 12.
BATCHNORM_MIXED_BATCH = '''
def train_step(G, D, opt_G, opt_D, x_real, z, g_loss="nonsaturating", penalty=None):
    bce = F.binary_cross_entropy_with_logits
    fake = G(z)
    opt_D.zero_grad()
    n = len(x_real)
    logits_all = D(torch.cat([x_real, fake.detach()]))
    logits_real, logits_fake = logits_all[:n], logits_all[n:]
    loss_D = bce(logits_real, torch.ones_like(logits_real)) + bce(logits_fake, torch.zeros_like(logits_fake))
    if penalty is not None:
        loss_D = loss_D + penalty(D, x_real)
    loss_D.backward()
    opt_D.step()
    opt_G.zero_grad()
    logits = D(fake)
    if g_loss == "minimax":
        loss_G = -bce(logits, torch.zeros_like(logits))
    else:
        loss_G = bce(logits, torch.ones_like(logits))
    loss_G.backward()
    opt_G.step()
    return loss_D.item(), loss_G.item()
'''

# ---------------------------------------------------------------------------------------------
# Gradient penalty.
# ---------------------------------------------------------------------------------------------

# No create_graph: the value is right, but backpropagating it raises (the penalty has no graph).
# The linear value (1 pt), the image value (2 pt) and the unchanged x (1 pt) pass: 4 of 6.
GP_NO_CREATE_GRAPH = '''
def gradient_penalty(D, x, weight=1.0):
    x = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x).sum(), x)
    return weight * grad.pow(2).flatten(1).sum(dim=1).mean()
'''

# The norm, not its square. Only the unchanged-x check passes: 1 of 6.
GP_NORM_NOT_SQUARED = '''
def gradient_penalty(D, x, weight=1.0):
    x = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)
    return weight * grad.flatten(1).norm(dim=1).mean()
'''

# The squared norm taken over dim 1 only: right for (N, F) batches, wrong for images (N, C, H, W),
# where it averages over pixels instead of summing them. Only the hidden image check fails (2 pt):
# 4 of 6.
GP_NORM_OVER_DIM1 = '''
def gradient_penalty(D, x, weight=1.0):
    x = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)
    return weight * grad.pow(2).sum(dim=1).mean()
'''

# ---------------------------------------------------------------------------------------------
# Frechet distance.
# ---------------------------------------------------------------------------------------------

# np.cov with samples as variables (rowvar left True): the "covariance" is (N, N); the shifted set
# changes it, and two sets of different sizes do not even multiply. Every check fails: 0 of 6.
FD_ROWVAR = '''
def frechet_distance(feats_a, feats_b):
    mu_a, mu_b = feats_a.mean(axis=0), feats_b.mean(axis=0)
    S_a, S_b = np.cov(feats_a), np.cov(feats_b)
    eigenvalues = np.linalg.eigvals(S_a @ S_b).real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(S_a) + np.trace(S_b) - 2 * np.sqrt(np.clip(eigenvalues, 0, None)).sum())
'''

# np.sqrt of the matrix product (element by element) instead of its matrix square root: nan where
# an entry is negative, and wrong where none is. Every check fails: 0 of 6.
FD_ELEMENTWISE_SQRT = '''
def frechet_distance(feats_a, feats_b):
    mu_a, mu_b = feats_a.mean(axis=0), feats_b.mean(axis=0)
    S_a, S_b = np.cov(feats_a, rowvar=False), np.cov(feats_b, rowvar=False)
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(S_a + S_b - 2 * np.sqrt(S_a @ S_b)))
'''

# ---------------------------------------------------------------------------------------------
# Concept checks and the lab.
# ---------------------------------------------------------------------------------------------

# Run C read from its samples alone (few modes: "collapse, add the penalty"): its failure and fix
# (1 + 1 pt) are wrong: 4.5 of 6.5.
DIAGNOSE_C_AS_COLLAPSE = '''
failures = {"A": "b", "B": "a", "C": "b"}
fixes = {"A": "q", "B": "p", "C": "q"}
'''

# Saturation read the wrong way round (vanishes when D is fooled, late in training): only the
# format check passes (0.5 of 3).
SATURATION_BACKWARDS = '''
answer_saturation = {"minimax_vanishes_at": 1.0, "when": "B"}
'''

# A collapsed generator's near fraction taken for 1/8: format and "rewards collapse" pass
# (0.5 + 1 of 2.5).
COLLAPSE_NEAR_EIGHTH = '''
answer_collapse = {"modes_hit": 1, "near_fraction": 0.125, "rewards_collapse": "B"}
'''

# "Copying is not generating" (B) and "FD falls with fewer samples" (B): 2.5 of 4.5.
FID_OVERTRUSTED = '''
answer_fid = {"copies": "B", "one_digit": "B", "sample_size": "B", "compare": "B"}
'''

# ---------------------------------------------------------------------------------------------
# Correct, written differently: full marks.
# ---------------------------------------------------------------------------------------------

CORRECT_OTHERWISE = {
    "09_generator_grads": '''
def minimax_grad(d):
    # d/da log(1 - s(a)) = -s'(a) / (1 - s(a)), s' = s(1 - s)
    d = np.array(d, dtype=float)
    return -(d * (1 - d)) / (1 - d)


def nonsaturating_grad(d):
    d = np.array(d, dtype=float)
    return -(d * (1 - d)) / d
''',
    "09_concept_saturation": '''
answer_saturation = {"when": " a ", "minimax_vanishes_at": 0}
print("minimax vanishes where D rejects the fakes")
''',
    "09_mode_coverage": '''
def mode_coverage(samples, centers, radius=0.25, min_count=10):
    K = len(centers)
    counts = np.zeros(K, dtype=np.int64)
    near = 0
    for s in samples:
        best, best_d = 0, np.inf
        for k in range(K):
            dist = np.sqrt(((s - centers[k]) ** 2).sum())
            if dist < best_d:
                best, best_d = k, dist
        if best_d <= radius:
            counts[best] += 1
            near += 1
    hit = sum(1 for c in counts if c >= min_count)
    return {"counts": counts, "near_fraction": near / len(samples), "modes_hit": hit}
''',
    "09_concept_collapse": '''
answer_collapse = {"rewards_collapse": "b", "near_fraction": 1, "modes_hit": 1.0}
''',
    "09_train_step": '''
def _d_loss(D, x_real, fake):
    logits = torch.cat([D(x_real), D(fake)])
    targets = torch.cat([torch.ones(len(x_real), 1), torch.zeros(len(fake), 1)]).to(logits)
    # mean over both halves = (mean_real + mean_fake) / 2, so twice it is the sum of the two means
    return 2 * F.binary_cross_entropy(torch.sigmoid(logits), targets)


def train_step(G, D, opt_G, opt_D, x_real, z, g_loss="nonsaturating", penalty=None):
    fake = G(z)
    for p in D.parameters():
        p.grad = None
    loss_D = _d_loss(D, x_real, fake.detach())
    if penalty:
        loss_D = loss_D + penalty(D, x_real)
    loss_D.backward()
    opt_D.step()

    opt_G.zero_grad(set_to_none=True)
    logits = D(fake)
    if g_loss == "minimax":
        loss_G = torch.log1p(-torch.sigmoid(logits)).mean()
    else:
        loss_G = -F.logsigmoid(logits).mean()
    loss_G.backward()
    opt_G.step()
    return float(loss_D.detach()), float(loss_G.detach())
''',
    "09_gradient_penalty": '''
def gradient_penalty(D, x, weight=1.0):
    x_in = x.clone().detach()
    x_in.requires_grad = True
    out = D(x_in)
    grads = torch.autograd.grad(outputs=out, inputs=x_in, grad_outputs=torch.ones_like(out), create_graph=True)[0]
    return (grads.reshape(len(x_in), -1).norm(dim=1) ** 2).mean() * weight
''',
    "09_frechet_distance": '''
import scipy.linalg


def frechet_distance(feats_a, feats_b):
    a = np.array(feats_a, dtype=np.float64)
    b = np.array(feats_b, dtype=np.float64)
    ca, cb = a - a.mean(0), b - b.mean(0)
    S_a = ca.T @ ca / (len(a) - 1)
    S_b = cb.T @ cb / (len(b) - 1)
    covmean = scipy.linalg.sqrtm(S_a @ S_b)
    return float(np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(S_a) + np.trace(S_b) - 2 * np.trace(covmean).real)
''',
    "09_concept_fid": '''
answer_fid = {"compare": "b", "sample_size": " A", "one_digit": "B ", "copies": "a"}
''',
    "09_diagnose_runs": '''
failures = dict(A=" B", B="A", C="c")
fixes = dict(A="Q", B="p ", C="r")
''',
}

CORRECT_FLOAT32_EIGH = {
    "09_generator_grads": '''
def minimax_grad(d):
    out = np.empty_like(np.asarray(d, dtype=np.float32))
    flat_d, flat_out = np.asarray(d).reshape(-1), out.reshape(-1)
    for i in range(flat_d.size):
        flat_out[i] = -flat_d[i]
    return out


def nonsaturating_grad(d):
    return np.asarray(d, dtype=np.float32) - np.float32(1)
''',
    "09_frechet_distance": '''
def _sqrtm_psd(S):
    w, V = np.linalg.eigh(S)
    return (V * np.sqrt(np.clip(w, 0, None))) @ V.T


def frechet_distance(feats_a, feats_b):
    feats_a, feats_b = np.asarray(feats_a, np.float64), np.asarray(feats_b, np.float64)
    S_a, S_b = np.cov(feats_a.T), np.cov(feats_b.T)
    root_a = _sqrtm_psd(S_a)
    middle = root_a @ S_b @ root_a
    tr_covmean = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
    diff = feats_a.mean(0) - feats_b.mean(0)
    return float(diff @ diff + np.trace(S_a) + np.trace(S_b) - 2 * tr_covmean)
''',
}

VARIANTS = [
    Variant("grads_wrt_D_not_logit", {"09_generator_grads": GRADS_WRT_D}, {"09_generator_grads_tests": 0}),
    Variant("coverage_ignores_min_count", {"09_mode_coverage": COVERAGE_IGNORES_MIN_COUNT}, {"09_mode_coverage_tests": 1}),
    Variant("coverage_counts_far_samples", {"09_mode_coverage": COVERAGE_COUNTS_FAR_SAMPLES}, {"09_mode_coverage_tests": 2}),
    Variant("no_detach_retain_graph", {"09_train_step": NO_DETACH_RETAIN_GRAPH}, {"09_train_step_tests": 10}),
    Variant("no_detach_zero_first", {"09_train_step": NO_DETACH_ZERO_FIRST}, {"09_train_step_tests": 1}),
    Variant("labels_swapped", {"09_train_step": LABELS_SWAPPED}, {"09_train_step_tests": 2}),
    Variant("g_stepped_with_opt_D", {"09_train_step": G_STEPPED_WITH_OPT_D}, {"09_train_step_tests": 3}),
    Variant("batchnorm_mixed_batch", {"09_train_step": BATCHNORM_MIXED_BATCH}, {"09_train_step_tests": 9}),
    Variant("gp_no_create_graph", {"09_gradient_penalty": GP_NO_CREATE_GRAPH}, {"09_gradient_penalty_tests": 4}),
    Variant("gp_norm_not_squared", {"09_gradient_penalty": GP_NORM_NOT_SQUARED}, {"09_gradient_penalty_tests": 1}),
    Variant("gp_norm_over_dim1", {"09_gradient_penalty": GP_NORM_OVER_DIM1}, {"09_gradient_penalty_tests": 4}),
    Variant("fd_rowvar", {"09_frechet_distance": FD_ROWVAR}, {"09_frechet_distance_tests": 0}),
    Variant("fd_elementwise_sqrt", {"09_frechet_distance": FD_ELEMENTWISE_SQRT}, {"09_frechet_distance_tests": 0}),
    Variant("concepts_wrong", {"09_concept_saturation": SATURATION_BACKWARDS, "09_concept_collapse": COLLAPSE_NEAR_EIGHTH,
                               "09_concept_fid": FID_OVERTRUSTED, "09_diagnose_runs": DIAGNOSE_C_AS_COLLAPSE},
            {"09_concept_saturation_tests": 0.5, "09_concept_collapse_tests": 1.5, "09_concept_fid_tests": 2.5,
             "09_diagnose_runs_tests": 4.5}),
    Variant("correct_otherwise", CORRECT_OTHERWISE, {}),
    Variant("correct_float32_eigh", CORRECT_FLOAT32_EIGH, {}),
]
