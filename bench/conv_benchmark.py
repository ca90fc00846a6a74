"""Benchmark for lesson 06 (not a test): prints ratios measured in one run.

    PYTHONPATH=. python bench/conv_benchmark.py            # one thread for NumPy and PyTorch
    PYTHONPATH=. python bench/conv_benchmark.py --threads 0   # the libraries' default threads

1. naive (loops) / im2col convolution, forward and backward;
2. im2col / torch.nn.functional.conv2d, forward and forward + backward (target: <= 8x);
3. the digits CNN's time to 97% validation accuracy with the course loop (dlcourse.train.fit) /
   with a bare PyTorch loop, same model, data order and optimizer (target: <= 1.2x).

The convolution code and the CNN are lesson 06's solution, read from the solution notebook by
grade_id: the helper package ships to students, so it holds no exercise solutions.
One thread is the default because on a shared machine multi-threaded timings swing by 10x and more.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from torch import nn

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "solutions" / "06_cnn" / "06_cnn.ipynb"
SOLUTION_CELLS = ["06_conv_naive", "06_conv_backward", "06_im2col", "06_conv_im2col", "06_digits_cnn"]
TARGET_ACCURACY = 0.97


def load_solution(grade_ids=SOLUTION_CELLS):
    """Run the solution notebook's cells with these grade_ids; return the names they define."""
    cells = {cell["metadata"].get("nbgrader", {}).get("grade_id"): "".join(cell["source"])
             for cell in json.loads(NOTEBOOK.read_text())["cells"]}
    namespace = {"np": np, "torch": torch, "nn": nn}
    for grade_id in grade_ids:
        exec(cells[grade_id], namespace)
    return namespace


def best_time(fn, repeats):
    """Fastest of `repeats` runs of fn(), in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_convolutions(sol, rng):
    F_ = torch.nn.functional
    # Small enough for the loops to finish in about a second.
    x = rng.normal(size=(8, 8, 16, 16)).astype(np.float32)
    w = rng.normal(size=(16, 8, 3, 3)).astype(np.float32)
    b = rng.normal(size=16).astype(np.float32)
    dout = rng.normal(size=(8, 16, 16, 16)).astype(np.float32)
    naive_fwd = best_time(lambda: sol["conv_forward_naive"](x, w, b, 1, 1), 2)
    im2col_fwd = best_time(lambda: sol["conv_forward_im2col"](x, w, b, 1, 1), 10)
    naive_bwd = best_time(lambda: sol["conv_backward_naive"](dout, x, w, 1, 1), 2)
    im2col_bwd = best_time(lambda: sol["conv_backward_im2col"](dout, x, w, 1, 1), 10)
    print(f"input {x.shape}, filters {w.shape}, stride 1, pad 1, float32")
    print(f"  forward   naive / im2col = {naive_fwd / im2col_fwd:7.1f}x   ({naive_fwd * 1e3:.1f} ms / {im2col_fwd * 1e3:.2f} ms)")
    print(f"  backward  naive / im2col = {naive_bwd / im2col_bwd:7.1f}x   ({naive_bwd * 1e3:.1f} ms / {im2col_bwd * 1e3:.2f} ms)")

    # A CIFAR-sized layer for the comparison with PyTorch.
    x = rng.normal(size=(32, 16, 32, 32)).astype(np.float32)
    w = rng.normal(size=(32, 16, 3, 3)).astype(np.float32)
    b = rng.normal(size=32).astype(np.float32)
    dout = rng.normal(size=(32, 32, 32, 32)).astype(np.float32)
    xt, wt, bt, dt = (torch.from_numpy(a) for a in (x, w, b, dout))
    im2col_fwd = best_time(lambda: sol["conv_forward_im2col"](x, w, b, 1, 1), 10)
    with torch.no_grad():
        torch_fwd = best_time(lambda: F_.conv2d(xt, wt, bt, padding=1), 10)

    def im2col_both():
        sol["conv_forward_im2col"](x, w, b, 1, 1)
        sol["conv_backward_im2col"](dout, x, w, 1, 1)

    def torch_both():
        xg, wg, bg = (a.clone().requires_grad_() for a in (xt, wt, bt))
        F_.conv2d(xg, wg, bg, padding=1).backward(dt)

    im2col_both_t = best_time(im2col_both, 5)
    torch_both_t = best_time(torch_both, 5)
    ratio = im2col_fwd / torch_fwd
    print(f"input {x.shape}, filters {w.shape}, stride 1, pad 1, float32")
    print(f"  forward            im2col / torch.conv2d = {ratio:5.1f}x   ({im2col_fwd * 1e3:.2f} ms / "
          f"{torch_fwd * 1e3:.2f} ms)   target <= 8x: {'OK' if ratio <= 8 else 'MISSED'}")
    print(f"  forward + backward im2col / torch        = {im2col_both_t / torch_both_t:5.1f}x   "
          f"({im2col_both_t * 1e3:.2f} ms / {torch_both_t * 1e3:.2f} ms)")


def bench_training_loops(sol, repeats=3, max_epochs=30):
    from sklearn.model_selection import train_test_split
    from torch.utils.data import DataLoader, TensorDataset

    from dlcourse import get_profile, seed_everything
    from dlcourse.data import load_images
    from dlcourse.train import fit

    data = load_images("digits", profile=get_profile("cpu"))
    X_train, X_val, y_train, y_val = train_test_split(data.X_train, data.y_train, test_size=0.15,
                                                      stratify=data.y_train, random_state=0)
    X_val_t, y_val_t = torch.from_numpy(X_val), torch.from_numpy(y_val)
    cpu = torch.device("cpu")

    def setup():
        """Identical model, data order and optimizer for every run (the notebook's CPU recipe)."""
        seed_everything(0)
        model = sol["DigitsCNN"](width=32)
        train_loader = DataLoader(TensorDataset(torch.from_numpy(X_train), torch.from_numpy(y_train)),
                                  batch_size=128, shuffle=True, generator=torch.Generator().manual_seed(0))
        val_loader = DataLoader(TensorDataset(X_val_t, y_val_t), batch_size=512)
        optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
        return model, train_loader, val_loader, optimizer

    def val_accuracy(model):
        model.eval()
        with torch.no_grad():
            return (model(X_val_t).argmax(dim=1) == y_val_t).float().mean().item()

    def bare():
        """A plain PyTorch loop that evaluates after every epoch and stops at the target."""
        model, train_loader, _, optimizer = setup()
        loss_fn = nn.CrossEntropyLoss()
        start = time.perf_counter()
        for epoch in range(1, max_epochs + 1):
            model.train()
            for X, y in train_loader:
                optimizer.zero_grad()
                loss_fn(model(X), y).backward()
                optimizer.step()
            if val_accuracy(model) >= TARGET_ACCURACY:
                return time.perf_counter() - start, epoch
        raise RuntimeError(f"the bare loop did not reach {TARGET_ACCURACY:.0%} in {max_epochs} epochs")

    def course(num_epochs):
        """fit() for the bare loop's number of epochs, then one epoch at a time until the target."""
        model, train_loader, val_loader, optimizer = setup()
        elapsed, epochs = 0.0, 0
        while epochs < max_epochs:
            start = time.perf_counter()
            fit(model, train_loader, val_loader, nn.CrossEntropyLoss(), optimizer, num_epochs,
                device=cpu, progress=False)
            elapsed += time.perf_counter() - start
            epochs += num_epochs
            if val_accuracy(model) >= TARGET_ACCURACY:  # not timed: fit has already evaluated
                return elapsed, epochs
            num_epochs = 1
        raise RuntimeError(f"the course loop did not reach {TARGET_ACCURACY:.0%} in {max_epochs} epochs")

    bare_runs, course_runs = [], []
    for _ in range(repeats):  # alternate, so that both see the same machine load
        bare_runs.append(bare())
        course_runs.append(course(bare_runs[-1][1]))
    (t_bare, e_bare), (t_course, e_course) = min(bare_runs), min(course_runs)
    ratio = t_course / t_bare
    print(f"digits CNN (width 32, AdamW, batch 128), time to {TARGET_ACCURACY:.0%} validation accuracy, "
          f"best of {repeats}:")
    print(f"  course loop / bare loop = {ratio:5.2f}x   ({t_course:.2f} s, {e_course} epochs / "
          f"{t_bare:.2f} s, {e_bare} epochs)   target <= 1.2x: {'OK' if ratio <= 1.2 else 'MISSED'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="threads for NumPy and PyTorch (0: library defaults)")
    args = parser.parse_args()
    if args.threads:
        threadpool_limits(args.threads)
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, numpy {np.__version__}, threads: {args.threads or 'library defaults'}")
    sol = load_solution()
    bench_convolutions(sol, np.random.default_rng(0))
    bench_training_loops(sol)


if __name__ == "__main__":
    main()
