"""Does lesson 06's CNN reach 97% test accuracy on the 8x8 digits, trained on a CPU with a fixed seed?

The model is the solution notebook's own DigitsCNN cell (found by grade_id), trained outside the
notebook with the recipe of the notebook's section 3.1 (CPU profile) and the course loop.
"""
import json
import pathlib
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")

NOTEBOOK = pathlib.Path(__file__).resolve().parents[1] / "solutions" / "06_cnn" / "06_cnn.ipynb"


def solution_source(grade_id):
    """Source of the solution notebook's cell with this nbgrader grade_id."""
    for cell in json.loads(NOTEBOOK.read_text())["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_id:
            return "".join(cell["source"])
    raise KeyError(f"no cell with grade_id {grade_id!r} in {NOTEBOOK}")


@pytest.mark.timeout(120)
def test_digits_cnn_reaches_97_percent_test_accuracy():
    from sklearn.model_selection import train_test_split
    from threadpoolctl import threadpool_limits
    from torch.utils.data import DataLoader, TensorDataset

    from dlcourse import get_profile, seed_everything
    from dlcourse.data import load_images
    from dlcourse.train import fit

    namespace = {"torch": torch, "nn": torch.nn, "np": np}
    exec(solution_source("06_digits_cnn"), namespace)
    data = load_images("digits", profile=get_profile("cpu"))
    X_train, X_val, y_train, y_val = train_test_split(data.X_train, data.y_train, test_size=0.15,
                                                      stratify=data.y_train, random_state=0)
    threads = torch.get_num_threads()
    start = time.perf_counter()
    try:
        # As in the notebook's CPU profile: one thread is faster for a model this small.
        with threadpool_limits(1):
            torch.set_num_threads(1)
            seed_everything(0)
            model = namespace["DigitsCNN"](in_channels=1, num_classes=10, width=32)
            train_loader = DataLoader(TensorDataset(torch.from_numpy(X_train), torch.from_numpy(y_train)),
                                      batch_size=128, shuffle=True, generator=torch.Generator().manual_seed(0))
            val_loader = DataLoader(TensorDataset(torch.from_numpy(X_val), torch.from_numpy(y_val)), batch_size=512)
            optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
            fit(model, train_loader, val_loader, torch.nn.CrossEntropyLoss(), optimizer, 15,
                device=torch.device("cpu"), progress=False)
            model.eval()
            with torch.no_grad():
                y_hat = model(torch.from_numpy(data.X_test)).argmax(dim=1).numpy()
    finally:
        torch.set_num_threads(threads)
    accuracy = float(np.mean(y_hat == data.y_test))
    assert data.name == "digits"
    assert accuracy >= 0.97, (f"DigitsCNN reached {accuracy:.2%} test accuracy on digits "
                              f"in {time.perf_counter() - start:.1f} s; expected at least 97%")
