"""Every notebook's exercises check themselves, and every checker is proven here.

Conventions (README, "Exercises"):

* notebook ``<folder>/<stem>.ipynb`` ends with 3-5 exercises; each has a stub cell the reader
  replaces and, below it, a cell calling ``check("<name>", answer)``;
* the checkers live beside the notebook in ``<folder>/<stem>_exercises.py`` (registered with
  ``gdtf.exercises.exercise``);
* ``solutions/<stem>.py`` maps each exercise name to a :class:`gdtf.exercises.Solution`: a correct
  answer and typical wrong ones, each with words its hint must contain.

The committed notebooks show the stubs' "not attempted yet"; these tests show that each checker
accepts the correct answer and rejects every wrong one with the intended hint.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import nbformat
import pytest

from gdtf.exercises import EXERCISES, Solution, judge

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(
    path
    for path in REPO_ROOT.glob("*/*.ipynb")
    if not any(part.startswith(".") for part in path.relative_to(REPO_ROOT).parts)
)
CHECK_CALL = re.compile(r"""\bcheck\(\s*["']([\w-]+)["']""")
MIN_EXERCISES, MAX_EXERCISES = 3, 5


def _load(module_name: str, folder: Path):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    return importlib.import_module(module_name)


def checker_module(notebook: Path):
    return _load(f"{notebook.stem}_exercises", notebook.parent)


def solutions_module(notebook: Path):
    checker_module(notebook)  # the solutions may import the notebook's modules; checkers register first
    return _load(f"solutions.{notebook.stem}", REPO_ROOT)


def check_cells(notebook: Path) -> dict[str, nbformat.NotebookNode]:
    """Exercise name -> the code cell that calls its checker."""
    nb = nbformat.read(notebook, as_version=4)
    cells = {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            for name in CHECK_CALL.findall(cell.source):
                cells[name] = cell
    return cells


def _cases():
    for notebook in NOTEBOOKS:
        if not (REPO_ROOT / "solutions" / f"{notebook.stem}.py").exists():
            continue  # test_each_notebook_has_checked_exercises_with_proven_solutions names it
        solutions = solutions_module(notebook).SOLUTIONS
        for name, solution in solutions.items():
            yield pytest.param(name, solution.correct, None, id=f"{name}-correct")
            for index, wrong in enumerate(solution.wrong, 1):
                yield pytest.param(name, wrong.answer, wrong.hint, id=f"{name}-wrong{index}")


def _notebook_id(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=_notebook_id)
def test_each_notebook_has_checked_exercises_with_proven_solutions(notebook):
    names = list(check_cells(notebook))
    where = _notebook_id(notebook)
    assert MIN_EXERCISES <= len(names) <= MAX_EXERCISES, (
        f"{where}: {len(names)} checked exercises ({names}); each notebook needs "
        f"{MIN_EXERCISES}-{MAX_EXERCISES}, each with a check(...) cell"
    )
    module = checker_module(notebook)
    registered = {name for name, entry in EXERCISES.items() if entry.checker.__module__ == module.__name__}
    assert set(names) == registered, (
        f"{where}: the notebook checks {sorted(names)}, {module.__name__}.py registers {sorted(registered)}"
    )
    solutions = solutions_module(notebook).SOLUTIONS
    assert set(solutions) == set(names), (
        f"solutions/{notebook.stem}.py answers {sorted(solutions)}, the notebook asks {sorted(names)}"
    )
    assert all(isinstance(solution, Solution) for solution in solutions.values())


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=_notebook_id)
def test_committed_notebooks_show_the_stubs_not_attempted(notebook):
    for name, cell in check_cells(notebook).items():
        text = "".join(output.get("text", "") for output in cell.outputs if output.output_type == "stream")
        assert f"· {name}: not attempted yet" in text, (
            f"{_notebook_id(notebook)}: the committed check cell of {name!r} shows {text!r}, "
            "not the stub's verdict"
        )
        shown = [output.output_type for output in cell.outputs]
        assert shown == ["stream"], f"{_notebook_id(notebook)}: {name!r}'s check cell shows {shown}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=_notebook_id)
def test_each_notebook_says_where_its_solutions_are(notebook):
    nb = nbformat.read(notebook, as_version=4)
    markdown = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    assert f"../solutions/{notebook.stem}.py" in markdown, (
        f"{_notebook_id(notebook)}: link the solutions file ../solutions/{notebook.stem}.py in the Exercises"
    )


@pytest.mark.parametrize(("name", "answer", "hint"), list(_cases()))
def test_checker_accepts_the_solution_and_rejects_each_wrong_answer(name, answer, hint):
    verdict = judge(name, answer)
    line = str(verdict)  # what check() prints in the notebook
    assert "\n" not in line and "Traceback" not in line, line
    if hint is None:
        assert verdict.passed, f"{name}: the correct answer got {verdict}"
    else:
        assert verdict.status == "hint", f"{name}: a wrong answer passed: {verdict}"
        assert hint in verdict.message, f"{name}: expected a hint with {hint!r}, got {verdict.message!r}"
