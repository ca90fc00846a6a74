"""Known submissions for lesson 10 (transfer learning) and their exact scores.

Points per tests cell: 10_prepare_tests 6, 10_extract_features_tests 5, 10_concept_trainable_tests 3,
10_count_params_tests 3, 10_set_trainable_tests 3, 10_make_optimizer_tests 6, 10_train_step_tests 6,
10_concept_bn_tests 3, 10_few_shot_tests 3, 10_concept_transfer_tests 3, 10_concept_shift_tests 3,
10_diagnose_finetune_tests 6. Public checks are worth 1 point each; the headline mistake of each
exercise fails a public check whose name says what it is.
"""
from tests.submissions import Variant

ASSIGNMENT = "10_transfer"

# ---------------------------------------------------------------------------------------------
# Wrong but plausible.
# ---------------------------------------------------------------------------------------------

# The backbone's normalisation not applied: resized and repeated, but raw pixels go in. Fails the
# public normalisation check, the hidden per-channel one (2) and the tensor one; the shape and
# dtype checks pass: 2 of 6.
PREPARE_NO_NORMALISATION = '''
def prepare(X, backbone):
    X = torch.as_tensor(X, dtype=torch.float32)
    size = backbone.input_size
    if X.shape[-2:] != (size, size):
        X = F.interpolate(X, size=(size, size), mode="bilinear", align_corners=False)
    if X.shape[1] != backbone.in_channels:
        X = X.expand(-1, backbone.in_channels, -1, -1)
    return X
'''

# Normalised with the target images' own mean and std instead of the backbone's: the numbers the
# backbone was trained on are not what it gets. Same checks fail: 2 of 6.
PREPARE_OWN_STATISTICS = '''
def prepare(X, backbone):
    X = torch.as_tensor(X, dtype=torch.float32)
    size = backbone.input_size
    if X.shape[-2:] != (size, size):
        X = F.interpolate(X, size=(size, size), mode="bilinear", align_corners=False)
    if X.shape[1] != backbone.in_channels:
        X = X.expand(-1, backbone.in_channels, -1, -1)
    return (X - X.mean()) / X.std()
'''

# No resizing: right for the course backbone's 8x8 inputs, wrong for ResNet-sized ones. Fails the
# public shape check and the hidden 3-channel 16x16 one (2): 3 of 6.
PREPARE_NO_RESIZE = '''
def prepare(X, backbone):
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.shape[1] != backbone.in_channels:
        X = X.expand(-1, backbone.in_channels, -1, -1)
    mean = torch.tensor(backbone.mean, dtype=torch.float32).view(1, -1, 1, 1)
    std = torch.tensor(backbone.std, dtype=torch.float32).view(1, -1, 1, 1)
    return (X - mean) / std
'''

# Features under no_grad but in train mode: batch norm normalises with each batch's statistics.
# Fails the public eval-mode check and the hidden batch-independence check (2); a backbone that
# was already in eval mode is fine: 2 of 5.
EXTRACT_TRAIN_MODE = '''
def extract_features(features, X, batch_size=256):
    with torch.no_grad():
        return torch.cat([features(X[i:i + batch_size]) for i in range(0, len(X), batch_size)])
'''

# Eval mode, but never put back: fails only the public "back in train mode" check: 4 of 5.
EXTRACT_NO_RESTORE = '''
def extract_features(features, X, batch_size=256):
    features.eval()
    with torch.no_grad():
        return torch.cat([features(X[i:i + batch_size]) for i in range(0, len(X), batch_size)])
'''

# Every parameter counted as trainable, requires_grad ignored: 0 of 3.
COUNT_IGNORES_REQUIRES_GRAD = '''
def count_parameters(model):
    total = sum(p.numel() for p in model.parameters())
    return {"trainable": total, "frozen": 0}
'''

# Frozen = everything in the state_dict that is not trainable: batch norm's running statistics
# (buffers) counted as frozen parameters: 0 of 3.
COUNT_INCLUDES_BUFFERS = '''
def count_parameters(model):
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    everything = sum(v.numel() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked"))
    return {"trainable": trainable, "frozen": everything - trainable}
'''

# Unfreezes the named blocks but never freezes the others: everything stays trainable. 0 of 3.
SET_TRAINABLE_NEVER_FREEZES = '''
def set_trainable(model, blocks):
    for name in blocks:
        for p in getattr(model.features, name).parameters():
            p.requires_grad_(True)
    for p in model.head.parameters():
        p.requires_grad_(True)
'''

# One group per block of the backbone, frozen or not: a frozen block with weight decay is still in
# the optimiser. Fails both public checks and every hidden check with a frozen block; fine when
# all blocks train: 2 of 6.
OPTIMIZER_KEEPS_FROZEN = '''
def make_optimizer(model, blocks, lr_head=1e-2, lr_backbone=1e-3, decay=0.5, weight_decay=1e-4):
    set_trainable(model, blocks)
    groups = [{"params": list(model.head.parameters()), "lr": lr_head, "name": "head"}]
    names = [name for name, block in model.features.named_children() if list(block.parameters())]
    for i, name in enumerate(reversed(names)):
        groups.append({"params": list(getattr(model.features, name).parameters()), "lr": lr_backbone * decay ** i,
                       "name": name})
    return torch.optim.AdamW(groups, weight_decay=weight_decay)
'''

# requires_grad set after the optimiser was built: groups are read from the old flags. On a fresh
# (all-trainable) model nothing differs; after a probe stage the newly unfrozen block is missing.
# Fails only the public "unfrozen after a probe stage" check: 5 of 6.
OPTIMIZER_BUILT_BEFORE_UNFREEZING = '''
def make_optimizer(model, blocks, lr_head=1e-2, lr_backbone=1e-3, decay=0.5, weight_decay=1e-4):
    groups = [{"params": list(model.head.parameters()), "lr": lr_head, "name": "head"}]
    order = [name for name, _ in model.features.named_children() if name in blocks]
    for i, name in enumerate(reversed(order)):
        params = [p for p in getattr(model.features, name).parameters() if p.requires_grad]
        if params:
            groups.append({"params": params, "lr": lr_backbone * decay ** i, "name": name})
    optimizer = torch.optim.AdamW(groups, weight_decay=weight_decay)
    set_trainable(model, blocks)
    return optimizer
'''

# Batch norm put in eval mode, then model.train() undoes it: running statistics are overwritten by
# every (tiny) batch. Only bn_eval=False behaves as asked: 1 of 6.
STEP_TRAIN_AFTER_BN_EVAL = '''
def train_step(model, X, y, optimizer, bn_eval=True):
    if bn_eval:
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()
    model.train()
    optimizer.zero_grad()
    loss = F.cross_entropy(model(X), y)
    loss.backward()
    optimizer.step()
    return loss.item()
'''

# Gradients never zeroed: one step is right, the second adds the first step's gradient again.
# Fails only the hidden two-step check (2): 4 of 6.
STEP_NEVER_ZEROES = '''
def train_step(model, X, y, optimizer, bn_eval=True):
    model.train()
    if bn_eval:
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()
    loss = F.cross_entropy(model(X), y)
    loss.backward()
    optimizer.step()
    return loss.item()
'''

# n examples in total instead of n per class. Only the seed check passes: 1 of 3.
FEW_SHOT_IN_TOTAL = '''
def few_shot_indices(y, n_per_class, seed=0):
    r = np.random.default_rng(seed)
    return np.sort(r.choice(len(y), size=n_per_class, replace=False)).astype(np.int64)
'''

# A fresh unseeded generator: balanced, but another subset every call. Fails the hidden seed
# check: 2 of 3.
FEW_SHOT_UNSEEDED = '''
def few_shot_indices(y, n_per_class, seed=0):
    r = np.random.default_rng()
    picked = [r.choice(np.flatnonzero(y == k), size=n_per_class, replace=False) for k in np.unique(y)]
    return np.sort(np.concatenate(picked)).astype(np.int64)
'''

# Counts the linear head without its biases (and so the total too): 1 of 3.
CONCEPT_TRAINABLE_NO_BIAS = '''
head_only = 512 * 5
with_block = head_only + 2 * 64 * 64 * 9 + 2 * 128
'''

# Counts batch norm's running mean and variance as trainable: the total is off: 2 of 3.
CONCEPT_TRAINABLE_RUNNING_STATS = '''
head_only = 2565
with_block = head_only + 2 * 64 * 64 * 9 + 2 * 128 + 2 * 128
'''

# Expects batch norm in eval mode to be the worse one with tiny batches: 2 of 3.
CONCEPT_BN_WRONG_RUN = '''
worse_run = "eval"
running_mean_change = 0.0
'''

# Expects fine-tuning to win at one label per class too: 1.5 of 3.
CONCEPT_TRANSFER_FINETUNE_ALWAYS = '''
transfer_pays = {"1": "finetune", "25": "finetune"}
gap_shrinks = True
'''

# Pays for labels although augmentation did better on validation: 1.5 of 3.
CONCEPT_SHIFT_COLLECT = '''
shift_choice = "collect"
drop_recovered = False
'''

# Running statistics lumped in with the parameters: a block whose statistics moved looks like a
# block whose weights moved. Fails the public check, the hidden random one and run D's: 3 of 6.
DIAGNOSE_LUMPS_STATISTICS = '''
def block_changes(before, after, blocks):
    out = {}
    for block in blocks:
        names = [n for n in before if n.startswith(block + ".") and not n.endswith("num_batches_tracked")]
        diff = sum(float(((after[n].double() - before[n].double()) ** 2).sum()) for n in names)
        norm = sum(float((before[n].double() ** 2).sum()) for n in names)
        out[block] = [(diff / norm) ** 0.5 if norm else 0.0, 0.0]
    return out


diagnosis = {"A": "never_stepped", "B": "ok", "C": "bn_stats", "D": "frozen_moved", "E": "raw_inputs"}
'''

# A block's keys matched without the dot: "layer1" also takes "layer10". Fails only the hidden
# check that has a layer10: 5 of 6.
DIAGNOSE_PREFIX_WITHOUT_DOT = '''
def block_changes(before, after, blocks):
    out = {}
    for block in blocks:
        sums = {"param": [0.0, 0.0], "stats": [0.0, 0.0]}
        for name, b in before.items():
            if not name.startswith(block) or name.endswith("num_batches_tracked"):
                continue
            kind = "stats" if name.endswith(("running_mean", "running_var")) else "param"
            sums[kind][0] += float(((after[name].double() - b.double()) ** 2).sum())
            sums[kind][1] += float((b.double() ** 2).sum())
        out[block] = [(d / n) ** 0.5 if n > 0 else 0.0 for d, n in (sums["param"], sums["stats"])]
    return out


diagnosis = {"A": "never_stepped", "B": "ok", "C": "bn_stats", "D": "frozen_moved", "E": "raw_inputs"}
'''

# The right tool, the wrong reading: run A's untouched layer3 taken for the statistics problem and
# run C's for a block never stepped: 4 of 6.
DIAGNOSE_SWAPS_A_AND_C = (DIAGNOSE_PREFIX_WITHOUT_DOT
                          .replace("if not name.startswith(block) or", "if not name.startswith(block + '.') or")
                          .replace('"A": "never_stepped", "B": "ok", "C": "bn_stats"', '"A": "bn_stats", "B": "ok", "C": "never_stepped"'))

# ---------------------------------------------------------------------------------------------
# Correct, written differently: full marks.
# ---------------------------------------------------------------------------------------------
CORRECT_DIFFERENTLY = {
    "10_prepare": '''
def prepare(X, backbone):
    images = torch.tensor(np.asarray(X), dtype=torch.float32) if not torch.is_tensor(X) else X.float().clone()
    if images.shape[-1] != backbone.input_size or images.shape[-2] != backbone.input_size:
        images = torch.nn.functional.interpolate(images, size=(backbone.input_size,) * 2, mode="bilinear")
    if images.shape[1] == 1 and backbone.in_channels > 1:
        images = images.repeat(1, backbone.in_channels, 1, 1)
    channels = [(images[:, c] - backbone.mean[c]) / backbone.std[c] for c in range(backbone.in_channels)]
    return torch.stack(channels, dim=1)
''',
    "10_extract_features": '''
def extract_features(features, X, batch_size=256):
    mode = features.training
    features.train(False)
    chunks = []
    for start in range(0, X.shape[0], batch_size):
        with torch.inference_mode():
            chunks.append(features(X[start:start + batch_size]).clone())
    features.train(mode)
    return torch.cat(chunks, dim=0)
''',
    "10_count_params": '''
def count_parameters(model):
    counts = {"trainable": 0, "frozen": 0}
    for name, p in model.named_parameters():
        counts["trainable" if p.requires_grad else "frozen"] += p.numel()
    return counts
''',
    "10_set_trainable": '''
def set_trainable(model, blocks):
    prefixes = tuple(f"features.{b}." for b in blocks) + ("head.",)
    for name, p in model.named_parameters():
        p.requires_grad = name.startswith(prefixes)
''',
    "10_make_optimizer": '''
def make_optimizer(model, blocks, lr_head=1e-2, lr_backbone=1e-3, decay=0.5, weight_decay=1e-4):
    set_trainable(model, blocks)
    names = [n for n, _ in model.features.named_children()]
    chosen = sorted((n for n in blocks if n in names), key=names.index, reverse=True)
    groups = [dict(name="head", lr=lr_head, params=[p for p in model.head.parameters() if p.requires_grad])]
    lr = lr_backbone
    for n in chosen:
        params = [p for p in getattr(model.features, n).parameters() if p.requires_grad]
        if params:
            groups.append(dict(name=n, lr=lr, params=params))
            lr = lr * decay
    return torch.optim.AdamW(groups, lr=lr_head, weight_decay=weight_decay)
''',
    "10_train_step": '''
def train_step(model, X, y, optimizer, bn_eval=True):
    model.train(True)
    for layer in model.modules():
        if bn_eval and isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
            layer.train(False)
    for group in optimizer.param_groups:
        for p in group["params"]:
            p.grad = None
    logits = model(X)
    loss = nn.CrossEntropyLoss()(logits, y)
    loss.backward()
    optimizer.step()
    return loss.item()
''',
    "10_few_shot": '''
def few_shot_indices(y, n_per_class, seed=0):
    gen = np.random.default_rng(seed)
    out = []
    for label in sorted(set(y.tolist())):
        where = np.nonzero(y == label)[0]
        out.extend(gen.permutation(where)[:n_per_class].tolist())
    return np.array(sorted(out), dtype=np.int64)
''',
    "10_concept_trainable": "head_only = 2565\nwith_block = 2565 + 73728 + 256\n",
    "10_concept_bn": 'worse_run = " Train "\nrunning_mean_change = 0\n',
    "10_concept_transfer": 'transfer_pays = {"25": "FineTune", "1": " probe"}\ngap_shrinks = True\n',
    "10_concept_shift": 'shift_choice = "Augment "\ndrop_recovered = False\n',
    "10_diagnose_finetune": '''
def block_changes(before, after, blocks):
    result = {}
    for block in blocks:
        keys = [k for k in before if k.split(".")[0] == block and "num_batches_tracked" not in k]
        stat_keys = [k for k in keys if "running_" in k]
        param_keys = [k for k in keys if k not in stat_keys]

        def rel(ks):
            if not ks:
                return 0.0
            d = torch.cat([(after[k] - before[k]).flatten().double() for k in ks]).norm()
            n = torch.cat([before[k].flatten().double() for k in ks]).norm()
            return float(d / n) if n > 0 else 0.0

        result[block] = [rel(param_keys), rel(stat_keys)]
    return result


diagnosis = dict(A="Never_Stepped", B="OK", C="bn_stats ", D="frozen_moved", E="raw_inputs")
''',
}

VARIANTS = [
    Variant("prepare_no_normalisation", {"10_prepare": PREPARE_NO_NORMALISATION}, {"10_prepare_tests": 2}),
    Variant("prepare_own_statistics", {"10_prepare": PREPARE_OWN_STATISTICS}, {"10_prepare_tests": 2}),
    Variant("prepare_no_resize", {"10_prepare": PREPARE_NO_RESIZE}, {"10_prepare_tests": 3}),
    Variant("extract_train_mode", {"10_extract_features": EXTRACT_TRAIN_MODE}, {"10_extract_features_tests": 2}),
    Variant("extract_no_restore", {"10_extract_features": EXTRACT_NO_RESTORE}, {"10_extract_features_tests": 4}),
    Variant("count_ignores_requires_grad", {"10_count_params": COUNT_IGNORES_REQUIRES_GRAD}, {"10_count_params_tests": 0}),
    Variant("count_includes_buffers", {"10_count_params": COUNT_INCLUDES_BUFFERS}, {"10_count_params_tests": 0}),
    Variant("set_trainable_never_freezes", {"10_set_trainable": SET_TRAINABLE_NEVER_FREEZES}, {"10_set_trainable_tests": 0}),
    Variant("optimizer_keeps_frozen", {"10_make_optimizer": OPTIMIZER_KEEPS_FROZEN}, {"10_make_optimizer_tests": 2}),
    Variant("optimizer_built_before_unfreezing", {"10_make_optimizer": OPTIMIZER_BUILT_BEFORE_UNFREEZING},
            {"10_make_optimizer_tests": 5}),
    Variant("step_train_after_bn_eval", {"10_train_step": STEP_TRAIN_AFTER_BN_EVAL}, {"10_train_step_tests": 1}),
    Variant("step_never_zeroes", {"10_train_step": STEP_NEVER_ZEROES}, {"10_train_step_tests": 4}),
    Variant("few_shot_in_total", {"10_few_shot": FEW_SHOT_IN_TOTAL}, {"10_few_shot_tests": 1}),
    Variant("few_shot_unseeded", {"10_few_shot": FEW_SHOT_UNSEEDED}, {"10_few_shot_tests": 2}),
    Variant("concepts_wrong", {"10_concept_trainable": CONCEPT_TRAINABLE_NO_BIAS, "10_concept_bn": CONCEPT_BN_WRONG_RUN,
                               "10_concept_transfer": CONCEPT_TRANSFER_FINETUNE_ALWAYS,
                               "10_concept_shift": CONCEPT_SHIFT_COLLECT},
            {"10_concept_trainable_tests": 1, "10_concept_bn_tests": 2, "10_concept_transfer_tests": 1.5,
             "10_concept_shift_tests": 1.5}),
    Variant("concept_trainable_running_stats", {"10_concept_trainable": CONCEPT_TRAINABLE_RUNNING_STATS},
            {"10_concept_trainable_tests": 2}),
    Variant("diagnose_lumps_statistics", {"10_diagnose_finetune": DIAGNOSE_LUMPS_STATISTICS}, {"10_diagnose_finetune_tests": 3}),
    Variant("diagnose_prefix_without_dot", {"10_diagnose_finetune": DIAGNOSE_PREFIX_WITHOUT_DOT},
            {"10_diagnose_finetune_tests": 5}),
    Variant("diagnose_swaps_a_and_c", {"10_diagnose_finetune": DIAGNOSE_SWAPS_A_AND_C}, {"10_diagnose_finetune_tests": 4}),
    Variant("correct_differently", CORRECT_DIFFERENTLY, {}),
]
