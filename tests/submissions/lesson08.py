"""Known submissions for lesson 08 (autoencoders) and the exact score each must get.

Full marks per tests cell: 08_principal_angles_tests 7, 08_concept_subspace_tests 2.5,
08_noise_tests 6, 08_kl_tests 7.5, 08_concept_kl_tests 2.5, 08_reparam_tests 6, 08_vae_loss_tests 6,
08_diagnose_collapse_tests 5.5, 08_recon_errors_tests 5, 08_alert_threshold_tests 7,
08_concept_prauc_tests 2.5. The four VAE mistakes named in the course's issue (a sign error in the
KL, log-variance used as variance, KL summed over the batch with pixels averaged, sampling without
the reparameterisation trick) each fail a public check.
"""
from tests.submissions import Variant

ASSIGNMENT = "08_autoencoders"

# ---------------------------------------------------------------------------------------------
# Wrong but plausible.
# ---------------------------------------------------------------------------------------------

# Singular values of A^T B without orthonormalising the bases: right only when both bases are
# orthonormal (the tilted-plane check), and "A and B are not changed": 2 of 7.
ANGLES_NO_ORTHONORMALISATION = '''
def principal_angles(A, B):
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    cosines = np.linalg.svd(A.T @ B, compute_uv=False)
    return np.sort(np.arccos(np.clip(cosines, -1.0, 1.0)))
'''

# Degrees where radians are asked for: zero angles still pass, as does the unchanged-input check: 2 of 7.
ANGLES_IN_DEGREES = '''
def principal_angles(A, B):
    Q_A, _ = np.linalg.qr(np.asarray(A, dtype=np.float64))
    Q_B, _ = np.linalg.qr(np.asarray(B, dtype=np.float64))
    cosines = np.linalg.svd(Q_A.T @ Q_B, compute_uv=False)
    return np.degrees(np.sort(np.arccos(np.clip(cosines, -1.0, 1.0))))
'''

# Noise in evaluation mode too: the public eval-mode check fails (1 pt): 5 of 6.
NOISE_ALSO_IN_EVAL = '''
class GaussianNoise(nn.Module):
    def __init__(self, std):
        super().__init__()
        self.std = std

    def forward(self, x):
        return x + self.std * torch.randn_like(x)
'''

# Adds the noise into the caller's tensor: every output is right, only the hidden in-place check
# fails (1 pt): 5 of 6.
NOISE_IN_PLACE = '''
class GaussianNoise(nn.Module):
    def __init__(self, std):
        super().__init__()
        self.std = std

    def forward(self, x):
        if not self.training:
            return x
        return x.add_(self.std * torch.randn_like(x))
'''

# The textbook formula -0.5 * sum(1 + logvar - mu^2 - exp(logvar)) without its leading minus: the KL
# comes out negative. Only "at the prior it is 0" passes (0.5 pt): 0.5 of 7.5.
KL_SIGN_ERROR = '''
def gaussian_kl(mu, logvar):
    return 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)
'''

# logvar used as if it were the variance: log(0) at the prior, log of negatives elsewhere: 0 of 7.5.
KL_LOGVAR_AS_VARIANCE = '''
def gaussian_kl(mu, logvar):
    return 0.5 * (logvar + mu ** 2 - 1.0 - torch.log(logvar)).sum(dim=-1)
'''

# Mean over the latent dimensions instead of the sum: right at the prior (0.5 pt) and for a 1-D
# latent space (1 pt): 1.5 of 7.5.
KL_MEAN_OVER_DIMENSIONS = '''
def gaussian_kl(mu, logvar):
    return 0.5 * (logvar.exp() + mu ** 2 - 1.0 - logvar).mean(dim=-1)
'''

# Sampling with .sample(): the right numbers, but z is cut off from autograd, so backward raises in
# both gradient checks (public encoder gradient 1 pt, hidden d z / d mu 1 pt): 4 of 6.
REPARAM_SAMPLE_NO_GRADIENT = '''
def reparameterize(mu, logvar):
    return torch.distributions.Normal(mu, torch.exp(0.5 * logvar)).sample()
'''

# torch.normal(mu, std): autograd sees it, but its gradient with respect to mu and std is zero, so
# the encoder learns nothing from the reconstruction. Both gradient checks fail: 4 of 6.
REPARAM_TORCH_NORMAL = '''
def reparameterize(mu, logvar):
    return torch.normal(mu, torch.exp(0.5 * logvar))
'''

# exp(logvar) (the variance) used as the standard deviation: only the unchanged-input check passes: 1 of 6.
REPARAM_VARIANCE_AS_STD = '''
def reparameterize(mu, logvar):
    return mu + torch.exp(logvar) * torch.randn_like(mu)
'''

# Reconstruction averaged over the pixels of the whole batch, KL summed over the batch: the two terms
# are on scales that differ by a factor N * D, and beta no longer means anything: 0 of 6.
VAE_LOSS_PIXEL_MEAN_BATCH_SUM = '''
def vae_loss(x_logits, x, kl, beta=1.0):
    recon = F.binary_cross_entropy_with_logits(x_logits, x)
    kl = kl.sum()
    return {"loss": recon + beta * kl, "recon": recon, "kl": kl}
'''

# Sigmoid, then binary cross-entropy: right until the logits are confident, where log(0) is clamped
# at -100. Only the hidden confident-logits check fails (1 pt): 5 of 6.
VAE_LOSS_SIGMOID_THEN_BCE = '''
def vae_loss(x_logits, x, kl, beta=1.0):
    recon = F.binary_cross_entropy(torch.sigmoid(x_logits), x, reduction="none").sum(dim=1)
    return {"loss": (recon + beta * kl).mean(), "recon": recon.mean(), "kl": kl.mean()}
'''

# One number for the whole batch instead of one per example: 0 of 5.
RECON_ONE_NUMBER = '''
def reconstruction_errors(model, X, batch_size=256):
    model.eval()
    X = torch.as_tensor(np.asarray(X), dtype=torch.float32)
    with torch.no_grad():
        return ((model(X) - X) ** 2).mean().numpy()
'''

# No model.eval(): dropout stays on while scoring. The public check's model has none (1 pt): 1 of 5.
RECON_TRAIN_MODE = '''
def reconstruction_errors(model, X, batch_size=256):
    X = torch.as_tensor(np.asarray(X), dtype=torch.float32)
    errors = []
    with torch.no_grad():
        for start in range(0, len(X), batch_size):
            batch = X[start:start + batch_size]
            errors.append(((model(batch) - batch) ** 2).mean(dim=1))
    return torch.cat(errors).numpy()
'''

SOLUTION_ALERT_METRICS = '''

def alert_metrics(scores, is_anomaly, threshold):
    flagged = np.asarray(scores) >= threshold
    is_anomaly = np.asarray(is_anomaly).astype(bool)
    hits = int((flagged & is_anomaly).sum())
    alerts = int(flagged.sum())
    return {"alerts": alerts, "precision": hits / alerts if alerts else 0.0,
            "recall": hits / int(is_anomaly.sum()) if is_anomaly.any() else 0.0}
'''

# The low tail: np.quantile(scores, alert_rate) flags 95% of the examples. The four threshold
# checks fail; alert_metrics (2 pt) and the unchanged input pass: 3 of 7.
THRESHOLD_LOW_TAIL = '''
def threshold_for_budget(val_scores, alert_rate):
    return float(np.quantile(val_scores, alert_rate))
''' + SOLUTION_ALERT_METRICS

# Sorts the caller's array in place: every threshold is right, the hidden unchanged-input check
# fails (1 pt): 6 of 7.
THRESHOLD_SORTS_IN_PLACE = '''
def threshold_for_budget(val_scores, alert_rate):
    val_scores.sort()
    k = max(1, int(alert_rate * len(val_scores)))
    return float(val_scores[-k])
''' + SOLUTION_ALERT_METRICS

SOLUTION_ACTIVE_UNITS = '''
def active_units(mu, threshold=0.01):
    mu = mu.detach().cpu().numpy() if torch.is_tensor(mu) else np.asarray(mu)
    return int((mu.astype(np.float64).var(axis=0) > threshold).sum())

'''

# The slow run taken for the collapsed one: the diagnosis (2 pt) fails: 3.5 of 5.5.
DIAGNOSIS_WRONG_RUN = SOLUTION_ACTIVE_UNITS + '''
diagnosis = {"collapsed": "B", "undertrained": "C", "cause": 1}
'''

CONCEPTS_WRONG = {
    "08_concept_subspace": 'answer_subspace = ["A", "B", "D"]\n',
    "08_concept_kl": 'answer_kl = {"mu_2": 2.0, "var_4": 1.5}\n',
    "08_concept_prauc": 'answer_prauc = {"random": 0.5, "perfect": 1.0}\n',
}

# ---------------------------------------------------------------------------------------------
# Right, written differently: full marks.
# ---------------------------------------------------------------------------------------------
CORRECT_LIBRARIES = {
    # scipy's own principal angles, sorted smallest first.
    "08_principal_angles": '''
from scipy.linalg import subspace_angles


def principal_angles(A, B):
    return np.sort(subspace_angles(np.asarray(A, dtype=float), np.asarray(B, dtype=float)))
''',
    "08_noise": '''
class GaussianNoise(nn.Module):
    def __init__(self, std):
        super().__init__()
        self.std = std

    def forward(self, x):
        noise = torch.randn(x.shape, dtype=x.dtype, device=x.device) * self.std
        return x + noise if self.training else x
''',
    # torch.distributions does the KL and the reparameterised sample.
    "08_kl": '''
def gaussian_kl(mu, logvar):
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    return torch.distributions.kl_divergence(q, p).sum(dim=-1)
''',
    "08_reparam": '''
def reparameterize(mu, logvar):
    return torch.distributions.Normal(mu, (0.5 * logvar).exp()).rsample()
''',
    # Bernoulli log-likelihood from torch.distributions (validation off: pixels are not 0/1).
    "08_vae_loss": '''
def vae_loss(x_logits, x, kl, beta=1.0):
    log_lik = torch.distributions.Bernoulli(logits=x_logits, validate_args=False).log_prob(x)
    recon = -log_lik.sum(dim=1).mean()
    kl_mean = kl.mean()
    return {"recon": recon, "kl": kl_mean, "loss": recon + beta * kl_mean}
''',
    "08_diagnose_collapse": '''
def active_units(mu, threshold=0.01):
    mu = torch.as_tensor(mu, dtype=torch.float64)
    return int((mu.var(dim=0, unbiased=False) > threshold).sum().item())


diagnosis = {"collapsed": " c", "undertrained": "b ", "cause": "2"}
''',
    "08_concept_subspace": 'answer_subspace = ("d", " B")\n',
    "08_concept_kl": 'answer_kl = {"var_4": 0.5 * (4 - 1 - np.log(4)), "mu_2": 2}\n',
    "08_concept_prauc": 'answer_prauc = {"perfect": 1, "random": 50 / 1000}\n',
}

CORRECT_LOOPS = {
    # Orthonormal bases from the SVD instead of QR.
    "08_principal_angles": '''
def principal_angles(A, B):
    U_A = np.linalg.svd(np.asarray(A, dtype=np.float64), full_matrices=False)[0]
    U_B = np.linalg.svd(np.asarray(B, dtype=np.float64), full_matrices=False)[0]
    s = np.linalg.svd(U_A.T @ U_B, compute_uv=False)
    return np.sort(np.arccos(np.minimum(s, 1.0)))
''',
    "08_kl": '''
def gaussian_kl(mu, logvar):
    var = torch.exp(logvar)
    total = torch.zeros(mu.shape[0], dtype=mu.dtype)
    for j in range(mu.shape[1]):
        total = total + 0.5 * (var[:, j] + mu[:, j] ** 2 - 1 - logvar[:, j])
    return total
''',
    "08_reparam": '''
def reparameterize(mu, logvar):
    eps = torch.randn_like(mu)
    std = torch.sqrt(torch.exp(logvar))
    return eps * std + mu
''',
    # The stable formula for BCE with logits, by hand.
    "08_vae_loss": '''
def vae_loss(x_logits, x, kl, beta=1.0):
    per_pixel = torch.clamp(x_logits, min=0) - x_logits * x + torch.log1p(torch.exp(-torch.abs(x_logits)))
    recon = per_pixel.sum(dim=1)
    loss = recon + beta * kl
    return {"loss": loss.sum() / len(x), "recon": recon.sum() / len(x), "kl": kl.sum() / len(x)}
''',
    # One example at a time, in float64.
    "08_recon_errors": '''
def reconstruction_errors(model, X, batch_size=256):
    model.eval()
    device = next(model.parameters()).device
    out = np.zeros(len(X))
    with torch.no_grad():
        for i in range(len(X)):
            x = torch.tensor(np.asarray(X[i:i + 1]), dtype=torch.float32, device=device)
            out[i] = float(((model(x) - x) ** 2).mean())
    return out
''',
    "08_alert_threshold": '''
def threshold_for_budget(val_scores, alert_rate):
    ranked = sorted(float(s) for s in val_scores)
    k = int(alert_rate * len(ranked))
    if k < 1:
        k = 1
    return ranked[len(ranked) - k]


def alert_metrics(scores, is_anomaly, threshold):
    alerts = hits = anomalies = 0
    for s, a in zip(scores, is_anomaly):
        alerts += int(s >= threshold)
        hits += int(s >= threshold and a == 1)
        anomalies += int(a == 1)
    return {"alerts": alerts, "precision": hits / alerts if alerts > 0 else 0.0,
            "recall": hits / anomalies if anomalies > 0 else 0.0}
''',
}

VARIANTS = [
    Variant("angles_no_orthonormalisation", {"08_principal_angles": ANGLES_NO_ORTHONORMALISATION},
            {"08_principal_angles_tests": 2}),
    Variant("angles_in_degrees", {"08_principal_angles": ANGLES_IN_DEGREES}, {"08_principal_angles_tests": 2}),
    Variant("noise_also_in_eval", {"08_noise": NOISE_ALSO_IN_EVAL}, {"08_noise_tests": 5}),
    Variant("noise_in_place", {"08_noise": NOISE_IN_PLACE}, {"08_noise_tests": 5}),
    Variant("kl_sign_error", {"08_kl": KL_SIGN_ERROR}, {"08_kl_tests": 0.5}),
    Variant("kl_logvar_as_variance", {"08_kl": KL_LOGVAR_AS_VARIANCE}, {"08_kl_tests": 0}),
    Variant("kl_mean_over_dimensions", {"08_kl": KL_MEAN_OVER_DIMENSIONS}, {"08_kl_tests": 1.5}),
    Variant("reparam_sample_no_gradient", {"08_reparam": REPARAM_SAMPLE_NO_GRADIENT}, {"08_reparam_tests": 4}),
    Variant("reparam_torch_normal", {"08_reparam": REPARAM_TORCH_NORMAL}, {"08_reparam_tests": 4}),
    Variant("reparam_variance_as_std", {"08_reparam": REPARAM_VARIANCE_AS_STD}, {"08_reparam_tests": 1}),
    Variant("vae_loss_pixel_mean_batch_sum", {"08_vae_loss": VAE_LOSS_PIXEL_MEAN_BATCH_SUM}, {"08_vae_loss_tests": 0}),
    Variant("vae_loss_sigmoid_then_bce", {"08_vae_loss": VAE_LOSS_SIGMOID_THEN_BCE}, {"08_vae_loss_tests": 5}),
    Variant("recon_one_number", {"08_recon_errors": RECON_ONE_NUMBER}, {"08_recon_errors_tests": 0}),
    Variant("recon_train_mode", {"08_recon_errors": RECON_TRAIN_MODE}, {"08_recon_errors_tests": 1}),
    Variant("threshold_low_tail", {"08_alert_threshold": THRESHOLD_LOW_TAIL}, {"08_alert_threshold_tests": 3}),
    Variant("threshold_sorts_in_place", {"08_alert_threshold": THRESHOLD_SORTS_IN_PLACE},
            {"08_alert_threshold_tests": 6}),
    Variant("diagnosis_wrong_run", {"08_diagnose_collapse": DIAGNOSIS_WRONG_RUN}, {"08_diagnose_collapse_tests": 3.5}),
    Variant("concepts_wrong", CONCEPTS_WRONG,
            {"08_concept_subspace_tests": 0.5, "08_concept_kl_tests": 0.5, "08_concept_prauc_tests": 0.5}),
    Variant("correct_libraries", CORRECT_LIBRARIES, {}),
    Variant("correct_loops", CORRECT_LOOPS, {}),
]
