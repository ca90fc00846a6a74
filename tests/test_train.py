"""Tests for dlcourse.train: the course training loop (CPU, small, offline)."""
from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest
import torch
from torch import nn

from dlcourse.data import make_loader, make_shapes, make_spirals
from dlcourse.train import History, evaluate, fit, load_checkpoint, predict, save_checkpoint

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def cpu_only(monkeypatch):
    """The CPU, one thread (these models are tiny: more threads only add hand-offs), a fixed seed."""
    monkeypatch.setenv("DLCOURSE_DEVICE", "cpu")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(threads)


def _spirals(batch_size: int = 32):
    X, y = make_spirals(n_per_class=60, num_classes=3, noise=0.1, seed=0)
    return make_loader(X, y, batch_size, shuffle=True, seed=0), make_loader(X, y, 256)


def _mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 3))


def test_fit_learns_and_records_every_epoch():
    """Does fit learn the spirals, with one history entry per epoch and accuracies in [0, 1]?"""
    train, val = _spirals()
    model = _mlp()
    history = fit(model, train, val, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), 0.02),
                  num_epochs=40, progress=False)
    assert history.epochs == 40 and not history.stopped_early
    for values in (history.train_loss, history.train_acc, history.val_loss, history.val_acc, history.seconds):
        assert len(values) == 40
    assert all(0.0 <= a <= 1.0 for a in history.train_acc + history.val_acc)
    assert history.val_acc[history.best_epoch - 1] > 0.9
    assert history.train_loss[-1] < history.train_loss[0] / 3


def test_fit_reports_exact_means_over_uneven_batches():
    """Are the recorded loss and accuracy exact per-example means, even when the last batch is smaller?"""
    X, y = make_spirals(n_per_class=7, num_classes=3, seed=1)  # 21 examples: batches of 8, 8, 5
    model = _mlp()
    history = fit(model, make_loader(X, y, 8), make_loader(X, y, 8), nn.CrossEntropyLoss(),
                  torch.optim.SGD(model.parameters(), lr=0.0), num_epochs=1, progress=False)
    with torch.no_grad():
        y_hat = model(torch.as_tensor(X))
        expected_loss = nn.functional.cross_entropy(y_hat, torch.as_tensor(y)).item()
        expected_acc = (y_hat.argmax(1).numpy() == y).mean()
    assert history.train_loss[0] == pytest.approx(expected_loss, rel=1e-5)
    assert history.val_loss[0] == pytest.approx(expected_loss, rel=1e-5)
    assert history.val_acc[0] == pytest.approx(expected_acc)


def test_early_stopping_stops_after_patience_epochs():
    """With no improvement possible (lr = 0), does fit stop after exactly `patience` more epochs?"""
    train, val = _spirals()
    model = _mlp()
    history = fit(model, train, val, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.0),
                  num_epochs=10, patience=2, progress=False)
    assert history.stopped_early and history.epochs == 3 and history.best_epoch == 1
    assert "stopped early" in str(history)


def test_best_weights_are_restored_and_checkpointed(tmp_path):
    """Training that gets worse (gradient ascent): does the model end with, and the checkpoint hold, epoch 1's weights?"""
    train, val = _spirals()
    model = _mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, maximize=True)
    path = tmp_path / "ckpt" / "best.pt"
    history = fit(model, train, val, nn.CrossEntropyLoss(), optimizer, num_epochs=4, checkpoint_path=path,
                  progress=False)
    assert history.best_epoch == 1 and history.val_loss[-1] > history.val_loss[0]
    loss_now, acc_now = evaluate(model, val, nn.CrossEntropyLoss())
    assert loss_now == pytest.approx(history.val_loss[0], rel=1e-5) and acc_now == history.val_acc[0]

    fresh = _mlp()
    fresh_opt = torch.optim.SGD(fresh.parameters(), lr=0.05, momentum=0.9, maximize=True)
    with torch.no_grad():
        for p in fresh.parameters():
            p.zero_()
    state = load_checkpoint(path, fresh, fresh_opt)
    assert state["epoch"] == 1 and state["val_loss"] == pytest.approx(history.val_loss[0])
    for a, b in zip(model.state_dict().values(), fresh.state_dict().values()):
        assert torch.equal(a, b)
    assert fresh_opt.state_dict()["state"], "the optimizer's momentum buffers were not restored"
    assert [p.name for p in path.parent.iterdir()] == ["best.pt"]  # no temporary file left behind


def test_restore_best_false_keeps_the_last_weights():
    """With restore_best=False, does the model keep the last epoch's (worse) weights?"""
    train, val = _spirals()
    model = _mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, maximize=True)
    history = fit(model, train, val, nn.CrossEntropyLoss(), optimizer, num_epochs=3, restore_best=False,
                  progress=False)
    assert evaluate(model, val, nn.CrossEntropyLoss())[0] == pytest.approx(history.val_loss[-1], rel=1e-5)


def test_checkpoint_round_trip_without_optimizer(tmp_path):
    """Do save_checkpoint/load_checkpoint round-trip the weights, epoch and extra plain data?"""
    model = _mlp()
    save_checkpoint(tmp_path / "c.pt", model, epoch=7, note="hello")
    other = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 3))
    state = load_checkpoint(tmp_path / "c.pt", other)
    assert state["epoch"] == 7 and state["note"] == "hello" and state["optimizer"] is None
    assert torch.equal(other[0].weight, model[0].weight)


def test_regression_has_no_accuracy_and_works_without_validation():
    """Regression (float targets, MSE) with no val loader: nan accuracy, a loss that falls, one plot panel?"""
    r = np.random.default_rng(0)
    X = r.normal(size=(128, 3)).astype(np.float32)
    y = (X @ np.array([1.0, -2.0, 0.5], dtype=np.float32))[:, None]
    model = nn.Linear(3, 1)
    history = fit(model, make_loader(X, y, 32), None, nn.MSELoss(), torch.optim.SGD(model.parameters(), 0.1),
                  num_epochs=5, progress=False)
    assert all(math.isnan(a) for a in history.train_acc) and history.val_loss == []
    assert history.train_loss[-1] < 0.1 * history.train_loss[0] and history.best_epoch == 5
    assert len(history.plot().axes) == 1


def test_history_plot_draws_loss_and_accuracy():
    """Does History.plot draw a loss panel and an accuracy panel, train and val curves in each?"""
    history = History(train_loss=[1.0, 0.5], train_acc=[0.5, 0.8], val_loss=[1.1, 0.7], val_acc=[0.4, 0.7],
                      best_epoch=2)
    fig = history.plot()
    assert len(fig.axes) == 2 and all(len(ax.get_lines()) >= 2 for ax in fig.axes)
    assert "best val loss 0.7000 at epoch 2 (val acc 70.0%)" in str(history)


def test_progress_bar_goes_to_stderr_only(capsys):
    """Does progress=True draw a tqdm bar on stderr, progress=False print nothing, and stdout stay empty?"""
    train, val = _spirals()
    model = _mlp()
    fit(model, train, val, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters()), 2, progress=True)
    out, err = capsys.readouterr()
    assert out == "" and "batch" in err and "val_loss" in err
    fit(model, train, val, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters()), 2, progress=False)
    assert capsys.readouterr() == ("", "")


def test_device_defaults_to_get_device_and_scheduler_steps_per_epoch():
    """Does fit use get_device() when no device is given, and step an LR scheduler once per epoch?"""
    train, val = _spirals()
    model = _mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    fit(model, train, val, nn.CrossEntropyLoss(), optimizer, 3, scheduler=scheduler, progress=False)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5 ** 3)
    assert next(model.parameters()).device.type == "cpu"


def test_evaluate_and_predict_leave_the_mode_and_grads_alone():
    """Do evaluate and predict run in eval mode, restore train mode, and build no autograd graph?"""
    model = nn.Sequential(nn.Linear(2, 8), nn.Dropout(0.5), nn.Linear(8, 3))
    train, val = _spirals()
    model.train()
    out1, out2 = predict(model, val), predict(model, val)
    assert torch.equal(out1, out2) and out1.shape == (180, 3) and not out1.requires_grad  # dropout off
    evaluate(model, val, nn.CrossEntropyLoss())
    assert model.training and all(p.grad is None for p in model.parameters())


def test_a_cnn_on_synthetic_images():
    """Does fit train a small CNN on (N, 1, 16, 16) images past chance level in a few epochs?"""
    shapes = make_shapes(n_train=400, n_test=200, seed=0)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(8 * 8 * 8, 4))
    history = fit(model, make_loader(shapes.X_train, shapes.y_train, 32, shuffle=True, seed=0),
                  make_loader(shapes.X_test, shapes.y_test, 200), nn.CrossEntropyLoss(),
                  torch.optim.Adam(model.parameters(), 3e-3), num_epochs=6, progress=False)
    assert max(history.val_acc) > 0.6  # chance is 0.25


def test_checkpoint_records_seed_dataset_and_preprocessing(tmp_path):
    """Does every checkpoint say how it was made: the seed, the dataset and the preprocessing?"""
    train, val = _spirals()
    path = tmp_path / "best.pt"
    torch.manual_seed(123)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
    fit(model, train, val, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), num_epochs=2,
        checkpoint_path=path, progress=False,
        run_info={"dataset": "spirals (3 classes, 60 each, seed 0)", "preprocessing": "none", "lr": 0.1})
    state = load_checkpoint(path, nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3)))
    assert state["run_info"] == {"seed": 123, "dataset": "spirals (3 classes, 60 each, seed 0)",
                                 "preprocessing": "none", "lr": 0.1}
    # Without run_info the keys are still there, and the seed is still read from torch.
    torch.manual_seed(7)
    fit(model, train, val, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), num_epochs=1,
        checkpoint_path=path, progress=False)
    state = load_checkpoint(path, model)
    assert state["run_info"] == {"seed": 7, "dataset": None, "preprocessing": None}
    # An explicit seed wins over the generator's.
    fit(model, train, val, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), num_epochs=1,
        checkpoint_path=path, progress=False, run_info={"seed": 2024})
    assert load_checkpoint(path, model)["run_info"]["seed"] == 2024
