"""Known submissions for lesson 06 (convolutional networks) and their exact scores.

Points per tests cell: 06_shapes_tests 9, 06_concept_output_shape_tests 2.5, 06_conv_naive_tests 10,
06_conv_backward_tests 7, 06_maxpool_tests 8, 06_im2col_tests 6, 06_conv_im2col_tests 6,
06_digits_cnn_tests 7, 06_concept_corner_tests 3, 06_class_metrics_tests 8,
06_concept_augmentation_tests 3, 06_saliency_tests 7, 06_diagnose_frame_swap_tests 10. Hidden
checks carry most of the points (public ones 0.5-1 each, hidden ones 1-3). The comments on each
variant below give the reasoning; the VARIANTS list holds the exact scores.
"""
from tests.submissions import Variant

ASSIGNMENT = "06_cnn"

# ---------------------------------------------------------------------------------------------
# Wrong but plausible.
# ---------------------------------------------------------------------------------------------

# Output size without the stride: right for stride 1 only. Fails the public size check (stride 2
# half, 1 pt) and the hidden sizes (strides 2 and 3, 2 pt); receptive fields and parameter counts
# pass: 5 of 8.
SHAPES_FORGETS_STRIDE = '''
def conv_output_size(size, kernel, stride=1, pad=0, dilation=1):
    return size + 2 * pad - dilation * (kernel - 1)


def receptive_field(layers):
    rf, jump = 1, 1
    for kernel, stride in layers:
        rf += (kernel - 1) * jump
        jump *= stride
    return rf


def conv_param_count(in_channels, out_channels, kernel, bias=True):
    KH, KW = (kernel, kernel) if isinstance(kernel, int) else kernel
    return out_channels * in_channels * KH * KW + (out_channels if bias else 0)
'''

# Receptive field that multiplies in a layer's own stride before adding its kernel: identical for
# stride-1 stacks (public check passes), wrong once a strided layer is followed by another. Only
# the hidden strided-stack check (2 pt) fails: 6 of 8.
RECEPTIVE_FIELD_OWN_STRIDE = '''
def conv_output_size(size, kernel, stride=1, pad=0, dilation=1):
    return (size + 2 * pad - dilation * (kernel - 1) - 1) // stride + 1


def receptive_field(layers):
    rf, jump = 1, 1
    for kernel, stride in layers:
        jump *= stride
        rf += (kernel - 1) * jump
    return rf


def conv_param_count(in_channels, out_channels, kernel, bias=True):
    KH, KW = (kernel, kernel) if isinstance(kernel, int) else kernel
    return out_channels * in_channels * KH * KW + (out_channels if bias else 0)
'''

# np.pad(x, pad) pads *every* axis, batch and channels too. With pad=0 nothing changes, so the two
# public checks pass; the three hidden checks (2 pt each) use padding 1 or 2 and fail: 2 of 8.
CONV_PADS_EVERY_AXIS = '''
def conv_forward_naive(x, w, b, stride=1, pad=0):
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    H_out = (H + 2 * pad - KH) // stride + 1
    W_out = (W + 2 * pad - KW) // stride + 1
    x_pad = np.pad(x, pad)
    out = np.zeros((N, F, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * stride:i * stride + KH, j * stride:j * stride + KW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out
'''

# The output size ignores the stride: for stride 1 all is well (worked example, the stride-1 public
# check and the hidden "same" conv (2 pt) pass); with stride 2 or 3 the loops run past the image
# and the windows no longer match the kernel (it raises): 4 of 8.
CONV_FORGETS_STRIDE = '''
def conv_forward_naive(x, w, b, stride=1, pad=0):
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    H_out = H + 2 * pad - KH + 1
    W_out = W + 2 * pad - KW + 1
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * stride:i * stride + KH, j * stride:j * stride + KW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out
'''

# The textbook convolution flips the kernel; PyTorch's conv2d does not. Every check uses a kernel
# that is not symmetric under a half turn: 0 of 8.
CONV_FLIPS_KERNEL = '''
def conv_forward_naive(x, w, b, stride=1, pad=0):
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    H_out = (H + 2 * pad - KH) // stride + 1
    W_out = (W + 2 * pad - KW) // stride + 1
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    w_flipped = w[:, :, ::-1, ::-1]
    out = np.zeros((N, F, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * stride:i * stride + KH, j * stride:j * stride + KW]
                    out[n, f, i, j] = np.sum(window * w_flipped[f]) + b[f]
    return out
'''

# "=" instead of "+=" for dx: each window's gradient overwrites what other filters and overlapping
# windows put there. db and dw pass (1 pt each); the public dx check and both hidden (dx, dw, db)
# checks (2 pt each) fail: 2 of 7.
CONV_BACKWARD_OVERWRITES_DX = '''
def conv_backward_naive(dout, x, w, stride=1, pad=0):
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    rows = slice(i * stride, i * stride + KH)
                    cols = slice(j * stride, j * stride + KW)
                    dw[f] += x_pad[n, :, rows, cols] * dout[n, f, i, j]
                    dx_pad[n, :, rows, cols] = w[f] * dout[n, f, i, j]
    return dx_pad[:, :, pad:pad + H, pad:pad + W], dw, db
'''

# Max-pool backward that routes the gradient to every position of the window, as if it were
# average pooling without the division. The three forward checks pass (1 + 1 + 2 pt), both
# backward checks fail (1 + 2 pt): 4 of 7.
MAXPOOL_BACKWARD_TO_ALL = '''
def maxpool_forward_naive(x, pool=2, stride=2):
    N, C, H, W = x.shape
    H_out = (H - pool) // stride + 1
    W_out = (W - pool) // stride + 1
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = x[:, :, i * stride:i * stride + pool, j * stride:j * stride + pool].max(axis=(2, 3))
    return out


def maxpool_backward_naive(dout, x, pool=2, stride=2):
    _, _, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for i in range(H_out):
        for j in range(W_out):
            dx[:, :, i * stride:i * stride + pool, j * stride:j * stride + pool] += dout[:, :, i, j][:, :, None, None]
    return dx
'''

# im2col (and a consistent col2im) with rows ordered (p, q, c) instead of (c, p, q): a valid
# layout in itself, but it does not match w.reshape(F, -1). The shape check passes; the worked
# example (2 channels) and both hidden checks fail: 1 of 6. The (unchanged) im2col convolution uses
# these, and every one of its checks has several channels: 0 of 6.
IM2COL_KERNEL_MAJOR = '''
def im2col(x, KH, KW, stride=1, pad=0):
    N, C, H, W = x.shape
    H_out = (H + 2 * pad - KH) // stride + 1
    W_out = (W + 2 * pad - KW) // stride + 1
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = np.empty((KH, KW, C, N, H_out, W_out), dtype=x.dtype)
    for p in range(KH):
        for q in range(KW):
            cols[p, q] = x_pad[:, :, p:p + stride * H_out:stride, q:q + stride * W_out:stride].transpose(1, 0, 2, 3)
    return cols.reshape(KH * KW * C, N * H_out * W_out)


def col2im(cols, x_shape, KH, KW, stride=1, pad=0):
    N, C, H, W = x_shape
    H_out = (H + 2 * pad - KH) // stride + 1
    W_out = (W + 2 * pad - KW) // stride + 1
    patches = cols.reshape(KH, KW, C, N, H_out, W_out)
    x_pad = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=cols.dtype)
    for p in range(KH):
        for q in range(KW):
            x_pad[:, :, p:p + stride * H_out:stride, q:q + stride * W_out:stride] += patches[p, q].transpose(1, 0, 2, 3)
    return x_pad[:, :, pad:pad + H, pad:pad + W]
'''

# Conv layers keep their default bias before batch norm: everything works, but the parameter count
# (1 pt) and the hidden "convs have no bias" check (2 pt) fail: 4 of 7.
CNN_BIAS_BEFORE_BATCHNORM = '''
class DigitsCNN(nn.Module):
    def __init__(self, in_channels=1, num_classes=10, width=32):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(),
        )
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * width, num_classes))

    def forward(self, X):
        return self.head(self.features(X))
'''

# "Recall" divided by how often a class was *predicted* (that is precision). The confusion matrix
# and both class-weight checks pass; the public recall check (1 pt), the hidden random-labels
# check and the hidden missing-class check (2 pt each) fail: 3 of 8.
RECALL_IS_PRECISION = '''
def confusion_matrix(y, y_hat, num_classes):
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (y, y_hat), 1)
    return cm


def per_class_recall(y, y_hat, num_classes):
    cm = confusion_matrix(y, y_hat, num_classes)
    predicted = cm.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(predicted > 0, np.diag(cm) / predicted, np.nan)


def balanced_accuracy(y, y_hat, num_classes):
    return float(np.nanmean(per_class_recall(y, y_hat, num_classes)))


def class_weights(y, num_classes):
    counts = np.bincount(y, minlength=num_classes)
    return len(y) / (num_classes * counts)
'''

# Backpropagating the sum of *all* logits instead of each image's true-class logit. Shape and
# signs pass; the linear-model check (1 pt) and the hidden CNN check (3 pt) fail: 1 of 5.
SALIENCY_ALL_LOGITS = '''
def saliency_map(model, X, y):
    model.eval()
    X = X.detach().clone().requires_grad_(True)
    model(X).sum().backward()
    return X.grad.abs().amax(dim=1)
'''

# Forgetting model.eval(): batch norm then normalises with the batch's statistics. The two public
# checks use a model without batch norm and pass; the hidden batch-norm CNN check (3 pt) fails: 2 of 5.
SALIENCY_TRAIN_MODE = '''
def saliency_map(model, X, y):
    X = X.detach().clone().requires_grad_(True)
    logits = model(X)
    logits[torch.arange(len(y)), y].sum().backward()
    return X.grad.abs().amax(dim=1)
'''

# The counterfactual done wrong: the donor taken from the image's own class (shift ignored), so
# nothing changes; a copy forgotten (the caller's X gets the swapped frames); a random donor of
# the right class (the images shown to the model differ from the specified ones).
FRAME_SWAP = '''
def frame_swap(predict_fn, X, y, ring, shift=5, num_classes=10):
    X, y = np.asarray(X), np.asarray(y)
    target = (y + shift) % num_classes
{donors}
    X_swapped = {copy}
    X_swapped[:, :, ring] = X[donor][:, :, ring]
    y_hat = np.asarray(predict_fn(X_swapped))
    return {{"accuracy": float(np.mean(y_hat == y)), "follows_frame": float(np.mean(y_hat == target))}}
'''
FIRST_OF = "    first = np.array([np.flatnonzero(y == k)[0] for k in range(num_classes)])\n"
FRAME_SWAP_OWN_CLASS = FRAME_SWAP.format(donors=FIRST_OF + "    donor = first[y]", copy="X.copy()")
FRAME_SWAP_IN_PLACE = FRAME_SWAP.format(donors=FIRST_OF + "    donor = first[target]", copy="X")
FRAME_SWAP_RANDOM_DONOR = FRAME_SWAP.format(
    donors="    r = np.random.default_rng(0)\n    donor = np.array([r.choice(np.flatnonzero(y == k)) for k in target])",
    copy="X.copy()")

# ---------------------------------------------------------------------------------------------
# Correct, written differently: full marks.
# ---------------------------------------------------------------------------------------------

# Loops over positions everywhere, other names, prints and a warning.
CORRECT_LOOPS = {
    "06_shapes": '''
import math


def conv_output_size(size, kernel, stride=1, pad=0, dilation=1):
    span = dilation * (kernel - 1) + 1
    return math.floor((size + 2 * pad - span) / stride) + 1


def receptive_field(layers):
    total_stride = 1
    field = 1
    for k, s in layers:
        field = field + (k - 1) * total_stride
        total_stride = total_stride * s
    return field


def conv_param_count(in_channels, out_channels, kernel, bias=True):
    if isinstance(kernel, (tuple, list)):
        kh, kw = kernel
    else:
        kh = kw = kernel
    weights = in_channels * kh * kw * out_channels
    return weights + out_channels if bias else weights
''',
    "06_conv_naive": '''
def conv_forward_naive(x, w, b, stride=1, pad=0):
    print("conv_forward_naive called with", x.shape, w.shape)
    n_img, n_ch, height, width = x.shape
    n_filt, _, kh, kw = w.shape
    out_h = 1 + (height + 2 * pad - kh) // stride
    out_w = 1 + (width + 2 * pad - kw) // stride
    padded = np.zeros((n_img, n_ch, height + 2 * pad, width + 2 * pad), dtype=x.dtype)
    padded[:, :, pad:pad + height, pad:pad + width] = x
    result = np.empty((n_img, n_filt, out_h, out_w), dtype=x.dtype)
    for img in range(n_img):
        for r in range(out_h):
            for c in range(out_w):
                patch = padded[img, :, r * stride:r * stride + kh, c * stride:c * stride + kw]
                for filt in range(n_filt):
                    total = b[filt]
                    for ch in range(n_ch):
                        total = total + (patch[ch] * w[filt, ch]).sum()
                    result[img, filt, r, c] = total
    return result
''',
    "06_conv_backward": '''
import warnings


def conv_backward_naive(dout, x, w, stride=1, pad=0):
    warnings.warn("slow loops ahead")
    n_img, n_ch, height, width = x.shape
    n_filt, _, kh, kw = w.shape
    padded = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)], mode="constant")
    dpadded = np.zeros(padded.shape)
    dw = np.zeros(w.shape)
    db = np.zeros(n_filt)
    for img in range(n_img):
        for r in range(dout.shape[2]):
            for c in range(dout.shape[3]):
                r0, c0 = r * stride, c * stride
                for filt in range(n_filt):
                    g = dout[img, filt, r, c]
                    db[filt] += g
                    dw[filt] += g * padded[img, :, r0:r0 + kh, c0:c0 + kw]
                    dpadded[img, :, r0:r0 + kh, c0:c0 + kw] += g * w[filt]
    dx = dpadded[:, :, pad:pad + height, pad:pad + width].copy()
    return (dx, dw, db)
''',
    "06_maxpool": '''
def maxpool_forward_naive(x, pool=2, stride=2):
    n_img, n_ch, height, width = x.shape
    out = np.empty((n_img, n_ch, (height - pool) // stride + 1, (width - pool) // stride + 1))
    for img in range(n_img):
        for ch in range(n_ch):
            for r in range(out.shape[2]):
                for c in range(out.shape[3]):
                    out[img, ch, r, c] = np.max(x[img, ch, r * stride:r * stride + pool, c * stride:c * stride + pool])
    return out


def maxpool_backward_naive(dout, x, pool=2, stride=2):
    dx = np.zeros(x.shape)
    for img in range(x.shape[0]):
        for ch in range(x.shape[1]):
            for r in range(dout.shape[2]):
                for c in range(dout.shape[3]):
                    window = x[img, ch, r * stride:r * stride + pool, c * stride:c * stride + pool]
                    best = window.max()
                    found = False
                    for p in range(pool):
                        for q in range(pool):
                            if not found and window[p, q] == best:
                                dx[img, ch, r * stride + p, c * stride + q] += dout[img, ch, r, c]
                                found = True
    return dx
''',
    "06_im2col": '''
def im2col(x, KH, KW, stride=1, pad=0):
    N, C, H, W = x.shape
    out_h = (H + 2 * pad - KH) // stride + 1
    out_w = (W + 2 * pad - KW) // stride + 1
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    columns = []
    for n in range(N):
        for i in range(out_h):
            for j in range(out_w):
                columns.append(padded[n, :, i * stride:i * stride + KH, j * stride:j * stride + KW].ravel())
    return np.array(columns).T


def col2im(cols, x_shape, KH, KW, stride=1, pad=0):
    N, C, H, W = x_shape
    out_h = (H + 2 * pad - KH) // stride + 1
    out_w = (W + 2 * pad - KW) // stride + 1
    padded = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    column = 0
    for n in range(N):
        for i in range(out_h):
            for j in range(out_w):
                padded[n, :, i * stride:i * stride + KH, j * stride:j * stride + KW] += cols[:, column].reshape(C, KH, KW)
                column += 1
    return padded[:, :, pad:pad + H, pad:pad + W]
''',
    "06_class_metrics": '''
def confusion_matrix(y, y_hat, num_classes):
    cm = np.zeros((num_classes, num_classes), dtype=int)
    for true, pred in zip(y, y_hat):
        cm[true][pred] += 1
    return cm


def per_class_recall(y, y_hat, num_classes):
    recalls = []
    for k in range(num_classes):
        mine = [pred for true, pred in zip(y, y_hat) if true == k]
        recalls.append(sum(p == k for p in mine) / len(mine) if mine else float("nan"))
    return np.array(recalls)


def balanced_accuracy(y, y_hat, num_classes):
    present = [r for r in per_class_recall(y, y_hat, num_classes) if not np.isnan(r)]
    return sum(present) / len(present)


def class_weights(y, num_classes):
    return np.array([len(y) / (num_classes * np.sum(y == k)) for k in range(num_classes)])
''',
}

# Vectorised differently: stride tricks, einsum, a boolean mask, torch.autograd.grad.
CORRECT_VECTORISED = {
    "06_conv_naive": '''
def conv_forward_naive(x, w, b, stride=1, pad=0):
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    KH, KW = w.shape[2:]
    windows = np.lib.stride_tricks.sliding_window_view(x_pad, (KH, KW), axis=(2, 3))[:, :, ::stride, ::stride]
    return np.einsum("nchwpq,fcpq->nfhw", windows, w) + b[None, :, None, None]
''',
    "06_conv_backward": '''
def conv_backward_naive(dout, x, w, stride=1, pad=0):
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            window = x_pad[:, :, i * stride:i * stride + KH, j * stride:j * stride + KW]
            dw += np.einsum("nf,ncpq->fcpq", dout[:, :, i, j], window)
            dx_pad[:, :, i * stride:i * stride + KH, j * stride:j * stride + KW] += np.einsum("nf,fcpq->ncpq", dout[:, :, i, j], w)
    return dx_pad[:, :, pad:pad + H, pad:pad + W], dw, dout.sum(axis=(0, 2, 3))
''',
    "06_maxpool": '''
def maxpool_forward_naive(x, pool=2, stride=2):
    windows = np.lib.stride_tricks.sliding_window_view(x, (pool, pool), axis=(2, 3))[:, :, ::stride, ::stride]
    return windows.max(axis=(4, 5))


def maxpool_backward_naive(dout, x, pool=2, stride=2):
    windows = np.lib.stride_tricks.sliding_window_view(x, (pool, pool), axis=(2, 3))[:, :, ::stride, ::stride]
    N, C, H_out, W_out = dout.shape
    first_max = windows.reshape(N, C, H_out, W_out, -1).argmax(axis=-1)
    dx = np.zeros_like(x)
    n, c, i, j = np.indices((N, C, H_out, W_out))
    np.add.at(dx, (n, c, i * stride + first_max // pool, j * stride + first_max % pool), dout)
    return dx
''',
    "06_im2col": '''
def im2col(x, KH, KW, stride=1, pad=0):
    N, C = x.shape[:2]
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = np.lib.stride_tricks.sliding_window_view(x_pad, (KH, KW), axis=(2, 3))[:, :, ::stride, ::stride]
    return win.transpose(1, 4, 5, 0, 2, 3).reshape(C * KH * KW, -1)


def col2im(cols, x_shape, KH, KW, stride=1, pad=0):
    N, C, H, W = x_shape
    H_out = (H + 2 * pad - KH) // stride + 1
    W_out = (W + 2 * pad - KW) // stride + 1
    c, p, q, n, i, j = np.indices((C, KH, KW, N, H_out, W_out))
    x_pad = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    np.add.at(x_pad, (n, c, i * stride + p, j * stride + q), cols.reshape(C, KH, KW, N, H_out, W_out))
    return x_pad[:, :, pad:H + pad, pad:W + pad]
''',
    "06_conv_im2col": '''
def conv_forward_im2col(x, w, b, stride=1, pad=0):
    N, _, H, W = x.shape
    F, _, KH, KW = w.shape
    out = np.einsum("fk,kr->fr", w.reshape(F, -1), im2col(x, KH, KW, stride, pad)) + b[:, None]
    return np.moveaxis(out.reshape(F, N, (H + 2 * pad - KH) // stride + 1, (W + 2 * pad - KW) // stride + 1), 0, 1)


def conv_backward_im2col(dout, x, w, stride=1, pad=0):
    F = w.shape[0]
    d = np.moveaxis(dout, 1, 0).reshape(F, -1)
    cols = im2col(x, w.shape[2], w.shape[3], stride, pad)
    dx = col2im(w.reshape(F, -1).T @ d, x.shape, w.shape[2], w.shape[3], stride, pad)
    return dx, np.einsum("fr,kr->fk", d, cols).reshape(w.shape), d.sum(1)
''',
    "06_digits_cnn": '''
from collections import OrderedDict


def conv_bn_relu(c_in, c_out):
    return [nn.Conv2d(c_in, c_out, kernel_size=3, stride=1, padding=1, bias=False),
            nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


class DigitsCNN(nn.Module):
    def __init__(self, in_channels=1, num_classes=10, width=32):
        super().__init__()
        layers = conv_bn_relu(in_channels, width) + conv_bn_relu(width, width) + [nn.MaxPool2d(2, 2)]
        layers += conv_bn_relu(width, 2 * width)
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(OrderedDict(pool=nn.AdaptiveAvgPool2d((1, 1)), flat=nn.Flatten(),
                                              fc=nn.Linear(2 * width, num_classes)))

    def forward(self, X):
        h = self.features(X)
        return self.head(h)
''',
    "06_class_metrics": '''
def confusion_matrix(y, y_hat, num_classes):
    return np.bincount(y * num_classes + y_hat, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def per_class_recall(y, y_hat, num_classes):
    cm = confusion_matrix(y, y_hat, num_classes).astype(float)
    support = cm.sum(1)
    recall = np.full(num_classes, np.nan)
    recall[support > 0] = np.diag(cm)[support > 0] / support[support > 0]
    return recall


def balanced_accuracy(y, y_hat, num_classes):
    r = per_class_recall(y, y_hat, num_classes)
    return float(r[~np.isnan(r)].mean())


def class_weights(y, num_classes):
    return (len(y) / num_classes) / np.bincount(y, minlength=num_classes)
''',
    "06_concept_output_shape": '''
answer_stack = dict(shape=(32, 7, 7), params=5856)
''',
    "06_concept_corner": '''
answer_corner = {"(0, 0)": 6 * 6, "(1, 1)": 8 * 8}
''',
    "06_concept_augmentation": '''
answer_augmentation = {"ship": " shift ±1 px + rotate ±10° ", "false invariance for 6 and 9": "upside down"}
''',
    "06_diagnose_frame_swap": '''
def frame_swap(predict_fn, X, y, ring, shift=5, num_classes=10):
    swapped = np.array(X, dtype=np.float32, copy=True)
    labels = [int(v) for v in y]
    rows, cols = np.nonzero(ring)
    for n, label in enumerate(labels):
        wanted = (label + shift) % num_classes
        donor = labels.index(wanted)          # the first image of that class
        for r, c in zip(rows, cols):
            swapped[n, :, r, c] = X[donor, :, r, c]
    guesses = list(predict_fn(swapped))
    own = sum(int(g) == label for g, label in zip(guesses, labels)) / len(labels)
    moved = sum(int(g) == (label + shift) % num_classes for g, label in zip(guesses, labels)) / len(labels)
    print(f"frame swap by {shift}: {own:.2f} kept, {moved:.2f} moved")
    return {"accuracy": own, "follows_frame": moved}
''',
    "06_saliency": '''
def saliency_map(model, X, y):
    was_training = model.training
    model.eval()
    inputs = X.clone().detach().requires_grad_()
    scores = model(inputs)
    picked = (scores * torch.nn.functional.one_hot(y, scores.shape[1])).sum()
    (grad,) = torch.autograd.grad(picked, inputs)
    model.train(was_training)
    return grad.abs().max(dim=1).values
''',
}

VARIANTS = [
    Variant("shapes_forgets_stride", {"06_shapes": SHAPES_FORGETS_STRIDE}, {"06_shapes_tests": 6}),
    Variant("receptive_field_own_stride", {"06_shapes": RECEPTIVE_FIELD_OWN_STRIDE}, {"06_shapes_tests": 6}),
    Variant("conv_pads_every_axis", {"06_conv_naive": CONV_PADS_EVERY_AXIS}, {"06_conv_naive_tests": 2}),
    Variant("conv_forgets_stride", {"06_conv_naive": CONV_FORGETS_STRIDE}, {"06_conv_naive_tests": 6}),
    Variant("conv_flips_kernel", {"06_conv_naive": CONV_FLIPS_KERNEL}, {"06_conv_naive_tests": 0}),
    Variant("conv_backward_overwrites_dx", {"06_conv_backward": CONV_BACKWARD_OVERWRITES_DX},
            {"06_conv_backward_tests": 2}),
    Variant("maxpool_backward_to_all", {"06_maxpool": MAXPOOL_BACKWARD_TO_ALL}, {"06_maxpool_tests": 4}),
    Variant("im2col_kernel_major", {"06_im2col": IM2COL_KERNEL_MAJOR},
            {"06_im2col_tests": 1, "06_conv_im2col_tests": 0}),
    Variant("cnn_bias_before_batchnorm", {"06_digits_cnn": CNN_BIAS_BEFORE_BATCHNORM}, {"06_digits_cnn_tests": 4}),
    Variant("recall_is_precision", {"06_class_metrics": RECALL_IS_PRECISION}, {"06_class_metrics_tests": 3}),
    Variant("saliency_all_logits", {"06_saliency": SALIENCY_ALL_LOGITS}, {"06_saliency_tests": 2}),
    Variant("saliency_train_mode", {"06_saliency": SALIENCY_TRAIN_MODE}, {"06_saliency_tests": 3}),
    Variant("concepts_forgets_stride_whole_image_no_augmentation",
            {"06_concept_output_shape": 'answer_stack = {"shape": [32, 14, 14], "params": 16 * 75 + 32 * 144}',
             "06_concept_corner": 'answer_corner = {"(0, 0)": 64, "(1, 1)": 64}',
             "06_concept_augmentation": 'answer_augmentation = {"ship": "none", "false invariance for 6 and 9": "upside down"}'},
            {"06_concept_output_shape_tests": 0.5, "06_concept_corner_tests": 1.5, "06_concept_augmentation_tests": 1.5}),
    Variant("frame_swap_donor_of_the_same_class", {"06_diagnose_frame_swap": FRAME_SWAP_OWN_CLASS},
            {"06_diagnose_frame_swap_tests": 2}),
    Variant("frame_swap_changes_the_callers_images", {"06_diagnose_frame_swap": FRAME_SWAP_IN_PLACE},
            {"06_diagnose_frame_swap_tests": 9}),
    Variant("correct_loops", CORRECT_LOOPS, {}),
    Variant("correct_vectorised", CORRECT_VECTORISED, {}),
]
