"""Does every solutions notebook run top to bottom in the CPU profile, within its budget?
Are committed notebooks clean, and is lessons/ exactly what nbgrader generates from solutions/?"""
from __future__ import annotations

import json
import time
import tomllib

import nbclient
import nbformat
import pytest

from tests.conftest import ROOT, assignments, committed_text, read_nb

BUDGETS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["dlcourse"]["notebook-budget-seconds"]


@pytest.mark.notebook
@pytest.mark.parametrize("assignment", assignments())
def test_solution_runs_within_budget(assignment, monkeypatch):
    monkeypatch.setenv("DLCOURSE_PROFILE", "cpu")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    assert assignment in BUDGETS, f"add a CPU budget for {assignment} to [tool.dlcourse] in pyproject.toml"
    budget = BUDGETS[assignment]
    for path in sorted((ROOT / "solutions" / assignment).glob("*.ipynb")):
        nb = read_nb(path)
        # A last cell reports every HeldOut the notebook made: the test set is used within budget.
        nb.cells.append(nbformat.v4.new_code_cell(
            "import json as _j, dlcourse.heldout as _h; print('HELDOUT' + _j.dumps(_h.usage()))"))
        client = nbclient.NotebookClient(nb, timeout=budget, resources={"metadata": {"path": str(path.parent)}})
        start = time.monotonic()
        # A hard limit, not a benchmark: the notebook is stopped when the budget runs out.
        client.execute()
        elapsed = time.monotonic() - start
        assert elapsed < budget, f"{path.name} took {elapsed:.0f} s; its CPU budget is {budget} s"
        errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
        assert not errors, f"{path.name}: {errors[0].ename}: {errors[0].evalue}"
        report = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
        usage = json.loads(report.split("HELDOUT", 1)[1])
        over = {name: u for name, u in usage.items() if len(u["uses"]) > u["budget"]}
        assert not over, f"{path.name} evaluates held-out data more often than its budget allows: {over}"


def committed_notebooks():
    return sorted(p for folder in ("solutions", "lessons") for p in (ROOT / folder).rglob("*.ipynb")
                  if ".ipynb_checkpoints" not in p.parts)


@pytest.mark.parametrize("path", committed_notebooks(), ids=lambda p: str(p.relative_to(ROOT)))
def test_committed_notebooks_have_no_outputs(path):
    nb = json.loads(committed_text(path))
    dirty = [i for i, c in enumerate(nb["cells"]) if c.get("outputs") or c.get("execution_count")]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs or execution counts; clear them"


@pytest.mark.parametrize("assignment", assignments())
def test_source_cells_carry_nbgrader_metadata(assignment):
    """Are exercises proper nbgrader cells: ids named after the lesson, tests locked, points set?"""
    for path in (ROOT / "solutions" / assignment).glob("*.ipynb"):
        nb = read_nb(path)
        answers = tests = 0
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader")
            if not meta:
                continue
            assert meta["schema_version"] == 3
            gid = meta["grade_id"]
            if meta.get("solution") and cell.cell_type == "code":
                answers += 1
                assert gid.startswith(assignment[:3]), f"{gid} should start with {assignment[:3]}"
                assert "### BEGIN SOLUTION" in cell.source
            if meta.get("grade") and cell.cell_type == "code":
                tests += 1
                assert meta["locked"] and meta["points"] > 0, gid
                hidden = cell.source.split("### BEGIN HIDDEN TESTS")[-1]
                assert "expect=" not in hidden.split("### END HIDDEN TESTS")[0], \
                    f"{gid}: hidden checks take their expected values from the solution, not expect="
        assert answers >= 5 and tests >= 5, f"{path.name}: {answers} exercises, {tests} tests cells; need 5 each"


@pytest.mark.xdist_group("lessons")
def test_lessons_are_generated_from_solutions(generated_lessons):
    """Is lessons/ byte for byte what nbgrader generates from solutions/ (nothing stale), the
    public checks' reference values included?"""
    def files(folder):
        return sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file()
                      and p.suffix in (".ipynb", ".json") and ".ipynb_checkpoints" not in p.parts)
    expected = [p for p in files(generated_lessons) if len(p.parts) > 1]
    actual = [p for p in files(ROOT / "lessons") if len(p.parts) > 1]
    assert actual == expected, "lessons/ has different files than solutions/: run `make lessons`"
    for rel in expected:
        want = (generated_lessons / rel).read_text()
        # The working copy (a developer just ran `make lessons`) or the committed one (a learner
        # is working in lessons/) must be exactly what the solutions generate.
        assert want in ((ROOT / "lessons" / rel).read_text(), committed_text(ROOT / "lessons" / rel)), \
            f"lessons/{rel} is stale: run `make lessons` and commit"


def test_lessons_leak_no_solutions_or_hidden_tests():
    for path in (ROOT / "lessons").rglob("*.ipynb"):
        text = committed_text(path)
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
            assert marker not in text, f"{path.name} contains {marker}"
