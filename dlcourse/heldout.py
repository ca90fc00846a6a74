"""Held-out data that counts how often it is used, so "the test set was used once" is a fact.

A test set stops being a test set the moment a choice is made by looking at it. Wrap it::

    test = HeldOut("test", X_test, y_test, budget=1)
    ...  # choose everything on validation data
    acc = test.evaluate(lambda X, y: (model.predict(X) == y).mean(), purpose="final model")
    print(test.report())        # test set 'test': used 1 of 1 time(s) (final model)

Every evaluation is recorded with its purpose. Going over the budget does not stop the
notebook (a learner exploring should see the warning, not a crash), but it is printed loudly,
and the course's tests fail when a solution notebook goes over any budget (``usage()``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

_REGISTRY: list["HeldOut"] = []


@dataclass
class HeldOut:
    """A held-out split that records each evaluation.

    Inputs:
    - name: what to call it in messages ("test")
    - X, y: the held-out features (N, ...) and targets (N,); any array-likes
    - budget: how many evaluations are allowed (1 for a test set)
    """

    name: str
    X: Any = field(repr=False)
    y: Any = field(repr=False, default=None)
    budget: int = 1
    uses: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.budget < 1:
            raise ValueError(f"budget must be at least 1, got {self.budget}")
        if self.y is not None and len(self.X) != len(self.y):
            raise ValueError(f"{self.name}: X has {len(self.X)} rows but y has {len(self.y)}")
        # Re-running a notebook cell makes a new HeldOut with the same name: it replaces the
        # old one, so counts are per notebook run, not per kernel lifetime.
        _REGISTRY[:] = [h for h in _REGISTRY if h.name != self.name]
        _REGISTRY.append(self)

    def evaluate(self, metric: Callable[[Any, Any], Any], purpose: str) -> Any:
        """Call ``metric(X, y)`` once on the held-out data and record why. Returns its result."""
        if not purpose or not str(purpose).strip():
            raise ValueError("say what the evaluation is for (purpose='final model'): it is recorded")
        self.uses.append(str(purpose))
        if len(self.uses) > self.budget:
            print(f"WARNING: {self.name} set used {len(self.uses)} times (budget {self.budget}): "
                  f"{'; '.join(self.uses)}. Every extra look turns it into a validation set, and "
                  f"the number it gives is no longer an honest estimate.")
        return metric(self.X, self.y)

    @property
    def over_budget(self) -> bool:
        return len(self.uses) > self.budget

    def report(self) -> str:
        what = ", ".join(self.uses) if self.uses else "not used yet"
        times = "once" if len(self.uses) == 1 else f"{len(self.uses)} times"
        return f"{self.name} set used {times} (budget {self.budget}): {what}"

    def __len__(self) -> int:
        return len(self.X)


def usage() -> dict[str, dict[str, Any]]:
    """Every HeldOut made in this process: {name: {"uses": [...], "budget": n}}."""
    return {h.name: {"uses": list(h.uses), "budget": h.budget} for h in _REGISTRY}
