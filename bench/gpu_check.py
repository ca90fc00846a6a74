"""Check the GPU path in one call: run lessons 05, 06 and 10 in their full profile and print, for
each, the device, the training throughput, the validation accuracy and the wall time.

    make gpu-check                      # on a machine with a CUDA GPU (about 8 minutes at most)
    python bench/gpu_check.py --dry     # the same code path in the CPU profile, CUDA hidden (CI)

Each solution notebook runs top to bottom, as a learner would run it, with DLCOURSE_PROFILE=full.
After the cell that trains the lesson's main model, one extra cell prints that model's figures as
a JSON line, so the numbers are the notebook's own (images/s over its training epochs, its best
validation accuracy), not a separate benchmark's. The table at the end is what to report.

Exit status: 0 when every lesson ran (and, without --dry, ran on CUDA); 1 otherwise. Without a
CUDA device and without --dry it says so and stops: a CPU run in the full profile proves nothing
about the GPU path and takes far longer than the CPU profile.

Nothing here needs a newer torch than 2.11 / torchvision 0.26 (the GPU machine's): it only runs
the notebooks, and they use torch.autocast, channels_last and torch.compile, all older than 2.0.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import nbclient
import nbformat

ROOT = Path(__file__).resolve().parents[1]
MARK = "GPU-CHECK "

# (lesson, a line of the cell that trains the main model, what to print after it). The summary
# reads that cell's own variables, right after it ran, so later cells cannot change them.
LESSONS = [
    ("05_pytorch", "history = fit(model, train_loader, val_loader",
     "{'model': 'TwoLayerNet (MLP)', 'data': data.name, 'device': str(device), 'epochs': history.epochs, "
     "'images_per_s': len(X_tr) / (sum(history.seconds) / len(history.seconds)), "
     "'seconds_per_epoch': sum(history.seconds) / len(history.seconds), "
     "'val_acc': history.val_acc[history.best_epoch - 1], 'bf16_autocast': False}"),
    ("06_cnn", "history = fit(net, train_loader, val_loader",
     "{'model': 'DigitsCNN', 'data': data.name, 'device': str(device), 'epochs': history.epochs, "
     "'images_per_s': len(X_train) / (sum(history.seconds) / len(history.seconds)), "
     "'seconds_per_epoch': sum(history.seconds) / len(history.seconds), "
     "'val_acc': history.val_acc[history.best_epoch - 1], 'bf16_autocast': bool(use_amp)}"),
    ("10_transfer", "best_choice = max(results",
     "{'model': 'fine-tuning ' + str(best_choice[0]) + ' of ' + bb.name, 'data': 'target task', "
     "'device': str(device), 'epochs': len(results[best_choice]['seconds']), "
     "'images_per_s': results[best_choice]['images_per_s'], "
     "'seconds_per_epoch': sum(results[best_choice]['seconds']) / len(results[best_choice]['seconds']), "
     "'val_acc': results[best_choice]['best_val_acc'], 'bf16_autocast': bool(use_amp)}"),
]


def summary_cell(expression: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(f"import json as _json\nprint({MARK!r} + _json.dumps({expression}))")


def instrument(nb: nbformat.NotebookNode, lesson: str, anchor: str, expression: str) -> nbformat.NotebookNode:
    at = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and anchor in c.source]
    if len(at) != 1:
        raise SystemExit(f"{lesson}: expected one code cell containing {anchor!r}, found {len(at)}; "
                         f"update LESSONS in {Path(__file__).name} to the notebook's training cell")
    nb.cells.insert(at[0] + 1, summary_cell(expression))
    return nb


def run_lesson(lesson: str, anchor: str, expression: str, timeout: int) -> dict:
    path = ROOT / "solutions" / lesson / f"{lesson}.ipynb"
    nb = instrument(nbformat.read(path, as_version=4), lesson, anchor, expression)
    client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    try:
        client.execute()
    except Exception as exc:  # report it and go on to the next lesson
        first = str(exc).strip().splitlines()
        return {"lesson": lesson, "error": f"{type(exc).__name__}: {first[-1] if first else ''}"[:300],
                "wall_s": time.perf_counter() - start}
    wall = time.perf_counter() - start
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            for line in str(out.get("text", "")).splitlines():
                if line.startswith(MARK):
                    return {"lesson": lesson, **json.loads(line[len(MARK):]), "wall_s": wall}
    return {"lesson": lesson, "error": "the summary cell printed nothing", "wall_s": wall}


def cuda_name() -> str | None:
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dry", action="store_true", help="CPU profile with CUDA hidden: checks the script itself")
    p.add_argument("--lessons", nargs="*", default=[name for name, *_ in LESSONS])
    p.add_argument("--timeout", type=int, default=None, help="per-cell seconds (default 300; 120 with --dry)")
    args = p.parse_args(argv)

    os.environ["DLCOURSE_PROFILE"] = "cpu" if args.dry else "full"
    os.environ.setdefault("MPLBACKEND", "Agg")
    if args.dry:
        os.environ["CUDA_VISIBLE_DEVICES"] = ""  # the kernels inherit it: they see no GPU
    import torch

    gpu = None if args.dry else cuda_name()
    print(f"torch {torch.__version__} | profile {os.environ['DLCOURSE_PROFILE']} | "
          f"GPU: {gpu or ('hidden (--dry)' if args.dry else 'none')}", flush=True)
    if not args.dry and gpu is None:
        print("no CUDA device: this is not a GPU check (use --dry to check the script on the CPU)")
        return 1
    timeout = args.timeout or (120 if args.dry else 300)
    rows, start = [], time.perf_counter()
    for lesson, anchor, expression in LESSONS:
        if lesson in args.lessons:
            print(f"running {lesson} ...", flush=True)
            rows.append(run_lesson(lesson, anchor, expression, timeout))
    print(f"\n{'lesson':<12} {'device':<8} {'images/s':>10} {'s/epoch':>8} {'epochs':>6} {'val acc':>8} "
          f"{'bf16':>5} {'wall s':>7}  model (data)")
    ok = True
    for r in rows:
        if "error" in r:
            ok = False
            print(f"{r['lesson']:<12} FAILED after {r['wall_s']:.0f} s: {r['error']}")
            continue
        on_cuda = r["device"].startswith("cuda")
        ok = ok and (on_cuda or args.dry)
        print(f"{r['lesson']:<12} {r['device']:<8} {r['images_per_s']:>10,.0f} {r['seconds_per_epoch']:>8.3f} "
              f"{r['epochs']:>6} {r['val_acc']:>8.2%} {str(r['bf16_autocast']):>5} {r['wall_s']:>7.1f}  "
              f"{r['model']} ({r['data']})")
    print(f"total wall time {time.perf_counter() - start:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
