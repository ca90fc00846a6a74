"""Known submissions for lesson 05 (PyTorch fundamentals) and the exact score each must get.

Full marks per tests cell: 05_concept_shapes_tests 3, 05_broadcast_tests 7, 05_autograd_tests 6,
05_module_tests 5.5, 05_dataset_tests 5.5, 05_train_step_tests 12, 05_evaluate_tests 8,
05_seeded_loader_tests 7, 05_concept_initial_loss_tests 2.5, 05_concept_which_bug_tests 3.5,
05_diagnose_gradient_growth_tests 7.
"""
from tests.submissions import Variant

ASSIGNMENT = "05_pytorch"

# ----------------------------------------------------------------------------------------
# Cell sources, correct except where a variant says otherwise.
# ----------------------------------------------------------------------------------------
BROADCAST = '''
def pairwise_sq_dists(A, B):
    return ((A[:, None, :] - B[None, :, :]) ** 2).sum(dim={pair_dim})


def center_rows(X):
    return X - X.mean(dim=1{keepdim})
'''

AUTOGRAD = '''
def torch_two_layer(X, y, params, reg=0.0):
    p = {{k: torch.tensor(v, dtype=torch.{dtype}, requires_grad=True) for k, v in params.items()}}
    X_t = torch.as_tensor(X, dtype=torch.{dtype})
    y_t = torch.as_tensor(y, dtype=torch.long)
    scores = torch.relu(X_t @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
    loss = F.cross_entropy(scores, y_t, reduction="{reduction}") + {half} * reg * ((p["W1"] ** 2).sum() + (p["W2"] ** 2).sum())
    loss.backward()
    return loss.item(), {{k: v.grad.numpy() for k, v in p.items()}}
'''

MODULE = '''
class TwoLayerNet(nn.Module):
    def __init__(self, D, H, C):
        super().__init__()
        self.fc1 = nn.Linear(D, H)
        self.fc2 = nn.Linear(H, C)

    def forward(self, X):
        return {forward}
'''

DATASET = '''
class ArrayDataset(Dataset):
    def __init__(self, X, y, transform=None):
        self.X = {make_X}
        self.y = {make_y}
        self.transform = transform

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        x = self.X[i]
        if self.transform is not None:
            x = self.transform(x)
        return x, self.y[i]
'''

TRAIN_STEP = '''
def train_step(model, X, y, loss_fn, optimizer):
    model.train()
{body}
'''

EVALUATE = '''
def accuracy(model, loader, device="cpu"):
{set_mode}
    correct, total = 0, 0
    with torch.no_grad():
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            correct += (model(X).argmax(dim=1) == y).sum().item()
            total += len(y)
    return correct / total
'''

EVALUATE_BATCH_MEAN = '''
def accuracy(model, loader, device="cpu"):
    model.eval()
    per_batch = []
    with torch.no_grad():
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            per_batch.append((model(X).argmax(dim=1) == y).float().mean().item())
    return sum(per_batch) / len(per_batch)
'''

SEEDED_GLOBAL = '''
def seeded_loader(X, y, batch_size, seed):
    torch.manual_seed(seed)
    return DataLoader(ArrayDataset(X, y), batch_size=batch_size, shuffle=True)
'''

SEEDED_NO_SHUFFLE = '''
def seeded_loader(X, y, batch_size, seed):
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(ArrayDataset(X, y), batch_size=batch_size, shuffle=False, generator=generator)
'''

SEEDED_FIXED_PERMUTATION = '''
from torch.utils.data import Subset

def seeded_loader(X, y, batch_size, seed):
    order = np.random.default_rng(seed).permutation(len(y))   # shuffled once, the same every epoch
    return DataLoader(Subset(ArrayDataset(X, y), order.tolist()), batch_size=batch_size)
'''

GROWTH = '''
def gradient_growth(step, model, X, y, loss_fn, steps=3):
    optimizer = torch.optim.SGD(model.parameters(), lr={lr})
{body}
'''
GROWTH_OK = """    norms = []
    for _ in range(steps):
        step(model, X, y, loss_fn, optimizer)
        norms.append(float(torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters()))))
    return np.array(norms) / norms[0]"""
# The gradients kept as references and measured at the end: .grad is updated in place, so every
# entry is the last gradient and an accumulating step looks like [1, 1, 1].
GROWTH_REFERENCES = """    kept = []
    for _ in range(steps):
        step(model, X, y, loss_fn, optimizer)
        kept.append([p.grad for p in model.parameters()])
    norms = [float(torch.sqrt(sum((g ** 2).sum() for g in grads))) for grads in kept]
    return np.array(norms) / norms[0]"""

# ----------------------------------------------------------------------------------------
# Correct, but written another way: loops, other names, prints and warnings.
# ----------------------------------------------------------------------------------------
CORRECT_OTHERWISE = {
    "05_broadcast": '''
import warnings

def pairwise_sq_dists(A, B):
    rows = []
    for a in A:                                  # a loop is slow but right
        rows.append(torch.sum((B - a) ** 2, dim=1))
    return torch.stack(rows)


def center_rows(X):
    print("centering", tuple(X.shape))
    warnings.warn("just a warning from the learner")
    return X - X.mean(1).unsqueeze(1)
''',
    "05_autograd": '''
def torch_two_layer(X, y, params, reg=0.0):
    leaves = {}
    for name in ["W1", "b1", "W2", "b2"]:
        leaves[name] = torch.from_numpy(params[name].copy()).requires_grad_()
    hidden = (torch.from_numpy(X) @ leaves["W1"] + leaves["b1"]).clamp(min=0)
    logits = hidden @ leaves["W2"] + leaves["b2"]
    log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    data_loss = -log_p[torch.arange(len(y)), torch.as_tensor(y)].mean()
    penalty = reg / 2 * (torch.sum(leaves["W1"] * leaves["W1"]) + torch.sum(leaves["W2"] * leaves["W2"]))
    total = data_loss + penalty
    total.backward()
    print("loss", float(total))
    return float(total), {name: t.grad for name, t in leaves.items()}   # tensors are fine too
''',
    "05_module": '''
class TwoLayerNet(nn.Module):
    def __init__(self, D, H, C):
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(D, H)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(H, C)

    def forward(self, X):
        X = self.flatten(X)
        return self.fc2(self.act(self.fc1(X)))
''',
    "05_dataset": '''
class ArrayDataset(Dataset):
    def __init__(self, X, y, transform=None):
        self.images, self.labels, self.fn = np.asarray(X), np.asarray(y), transform

    def __len__(self):
        return self.labels.shape[0]

    def __getitem__(self, index):
        image = torch.tensor(self.images[index], dtype=torch.float32)
        label = torch.tensor(int(self.labels[index]))
        return (image if self.fn is None else self.fn(image)), label
''',
    "05_train_step": '''
def train_step(model, X, y, loss_fn, optimizer):
    model.train(True)
    for p in model.parameters():
        p.grad = None                 # the same as optimizer.zero_grad()
    y_hat = model(X)
    batch_loss = loss_fn(y_hat, y)
    batch_loss.backward()
    optimizer.step()
    return float(batch_loss.detach())
''',
    "05_evaluate": '''
import warnings

def accuracy(model, loader, device="cpu"):
    model.train(False)
    hits = n = 0
    with torch.inference_mode():
        for batch_X, batch_y in loader:
            predictions = model(batch_X.to(device)).argmax(1).cpu()
            for p, label in zip(predictions.tolist(), batch_y.tolist()):
                hits += int(p == label)
                n += 1
    if n < 20:
        warnings.warn("small evaluation set")
    return hits / n
''',
    "05_seeded_loader": '''
from torch.utils.data import RandomSampler

def seeded_loader(X, y, batch_size, seed):
    g = torch.Generator()
    g.manual_seed(seed)
    ds = ArrayDataset(X, y)
    return DataLoader(ds, batch_size=batch_size, sampler=RandomSampler(ds, generator=g))
''',
}

CORRECT_OTHERWISE.update({
    "05_concept_shapes": '''
answer_shapes = {"a": (4, 3), "b": torch.Size([2, 3, 5]), "c": " Error", "d": [4, 4]}
''',
    "05_concept_initial_loss": '''
import math
answer_initial_loss = -math.log(1 / 10)
''',
    "05_concept_which_bug": '''
answer_runs = dict(A=" ZERO_GRAD", B="OK", C="Broadcast ")
''',
    "05_diagnose_gradient_growth": '''
def gradient_growth(step, model, X, y, loss_fn, steps=3):
    opt = torch.optim.SGD(model.parameters(), lr=0)
    sizes = np.zeros(steps, dtype=np.float32)
    for k in range(steps):
        step(model, X, y, loss_fn, opt)
        flat = torch.cat([p.grad.reshape(-1) for p in model.parameters() if p.grad is not None])
        sizes[k] = flat.norm().item()
    print("gradient norms:", sizes)
    return sizes / sizes[0]
''',
})

CORRECT_VECTORISED = {
    "05_broadcast": '''
def pairwise_sq_dists(A, B):
    # ||a - b||^2 = ||a||^2 - 2 a.b + ||b||^2, all pairs at once
    return (A * A).sum(1)[:, None] - 2 * A @ B.T + (B * B).sum(1)[None, :]


def center_rows(X):
    return X - X.sum(dim=1, keepdim=True) / X.shape[1]
''',
    "05_autograd": '''
def torch_two_layer(X, y, params, reg=0.0):
    W1, b1, W2, b2 = (torch.tensor(params[k], requires_grad=True) for k in ("W1", "b1", "W2", "b2"))
    h = F.relu(F.linear(torch.tensor(X), W1.T, b1))
    loss = F.nll_loss(F.log_softmax(F.linear(h, W2.T, b2), dim=1), torch.tensor(y))
    loss = loss + 0.5 * reg * (W1.pow(2).sum() + W2.pow(2).sum())
    grads = torch.autograd.grad(loss, [W1, b1, W2, b2])
    return loss.item(), dict(zip(["W1", "b1", "W2", "b2"], [g.numpy() for g in grads]))
''',
}


VARIANTS = [
    # Exercise 1: broadcasting.
    Variant("center_rows_without_keepdim",       # (2, 3) - (2,) raises; a square matrix is silently wrong
            answers={"05_broadcast": BROADCAST.format(pair_dim="-1", keepdim="")},
            scores={"05_broadcast_tests": 4}),
    Variant("pairwise_sums_over_the_wrong_axis",  # (N, M, D).sum(1) -> (N, D)
            answers={"05_broadcast": BROADCAST.format(pair_dim="1", keepdim=", keepdim=True")},
            scores={"05_broadcast_tests": 3}),
    # Exercise 2: autograd.
    Variant("autograd_sum_instead_of_mean",
            answers={"05_autograd": AUTOGRAD.format(dtype="float64", reduction="sum", half="0.5")},
            scores={"05_autograd_tests": 0}),
    Variant("autograd_in_float32",
            answers={"05_autograd": AUTOGRAD.format(dtype="float32", reduction="mean", half="0.5")},
            scores={"05_autograd_tests": 0}),
    Variant("autograd_penalty_without_the_half",   # only the reg=0 check still agrees
            answers={"05_autograd": AUTOGRAD.format(dtype="float64", reduction="mean", half="1.0")},
            scores={"05_autograd_tests": 2}),
    # Exercise 3: nn.Module.
    Variant("module_without_relu",
            answers={"05_module": MODULE.format(forward="self.fc2(self.fc1(X.flatten(1)))")},
            scores={"05_module_tests": 1.5}),
    Variant("module_without_flatten",
            answers={"05_module": MODULE.format(forward="self.fc2(torch.relu(self.fc1(X)))")},
            scores={"05_module_tests": 3.5}),
    # Exercise 4: Dataset.
    Variant("dataset_keeps_float64_inputs",
            answers={"05_dataset": DATASET.format(make_X="torch.from_numpy(X)", make_y="torch.as_tensor(y)")},
            scores={"05_dataset_tests": 4.5}),
    Variant("dataset_float_labels",
            answers={"05_dataset": DATASET.format(make_X="torch.as_tensor(X, dtype=torch.float32)",
                                                  make_y="torch.tensor(y, dtype=torch.float32)")},
            scores={"05_dataset_tests": 3}),
    # Exercise 5: the training step.
    Variant("train_step_forgets_zero_grad",
            answers={"05_train_step": TRAIN_STEP.format(body="""\
    loss = loss_fn(model(X), y)
    loss.backward()
    optimizer.step()
    return loss.item()""")},
            scores={"05_train_step_tests": 4}),
    Variant("train_step_zero_grad_between_backward_and_step",
            answers={"05_train_step": TRAIN_STEP.format(body="""\
    loss = loss_fn(model(X), y)
    loss.backward()
    optimizer.zero_grad()
    optimizer.step()
    return loss.item()""")},
            scores={"05_train_step_tests": 3}),
    Variant("train_step_returns_the_loss_tensor",
            answers={"05_train_step": TRAIN_STEP.format(body="""\
    optimizer.zero_grad()
    loss = loss_fn(model(X), y)
    loss.backward()
    optimizer.step()
    return loss""")},
            scores={"05_train_step_tests": 11}),
    # Exercise 6: evaluation.
    Variant("accuracy_forgets_eval",
            answers={"05_evaluate": EVALUATE.format(set_mode="    pass")},
            scores={"05_evaluate_tests": 2}),
    Variant("accuracy_averages_per_batch_accuracies",
            answers={"05_evaluate": EVALUATE_BATCH_MEAN},
            scores={"05_evaluate_tests": 3}),
    # Exercise 7: reproducible shuffling.
    Variant("seeded_loader_seeds_the_global_generator",
            answers={"05_seeded_loader": SEEDED_GLOBAL},   # fails the public global-generator check only
            scores={"05_seeded_loader_tests": 6}),
    Variant("seeded_loader_does_not_shuffle",
            answers={"05_seeded_loader": SEEDED_NO_SHUFFLE},
            scores={"05_seeded_loader_tests": 2.5}),
    Variant("seeded_loader_same_order_every_epoch",
            answers={"05_seeded_loader": SEEDED_FIXED_PERMUTATION},
            scores={"05_seeded_loader_tests": 5}),
    # Concept checks answered the tempting way, and the diagnosis done wrong.
    Variant("concepts_square_broadcasts_runs_swapped_loss_is_a_probability",
            answers={"05_concept_shapes": 'answer_shapes = {"a": [4, 3], "b": [2, 3, 5], "c": "error", "d": "error"}',
                     "05_concept_initial_loss": "answer_initial_loss = 0.1",
                     "05_concept_which_bug": 'answer_runs = {"A": "broadcast", "B": "ok", "C": "zero_grad"}'},
            scores={"05_concept_shapes_tests": 2, "05_concept_initial_loss_tests": 0.5, "05_concept_which_bug_tests": 1.5}),
    Variant("gradient_growth_keeps_references_to_grad",
            answers={"05_diagnose_gradient_growth": GROWTH.format(lr="0.0", body=GROWTH_REFERENCES)},
            scores={"05_diagnose_gradient_growth_tests": 2}),
    Variant("gradient_growth_lets_the_weights_move",
            answers={"05_diagnose_gradient_growth": GROWTH.format(lr="0.1", body=GROWTH_OK)},
            scores={"05_diagnose_gradient_growth_tests": 0}),
    # Correct, written differently: full marks everywhere.
    Variant("correct_with_loops_other_names_prints_and_warnings", answers=CORRECT_OTHERWISE, scores={}),
    Variant("correct_vectorised_other_apis", answers=CORRECT_VECTORISED, scores={}),
]
