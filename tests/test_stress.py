"""The stress mode's knobs (gdtf.stress) and its runner (tools/stress.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from gdtf.stress import SEED_SHIFT_ENV_VAR, THREADS_ENV_VAR, StressSettingError, intra_op_threads, seed

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tools.stress import CONFIGURATIONS, table  # noqa: E402


def test_seed_adds_the_shift(monkeypatch):
    monkeypatch.delenv(SEED_SHIFT_ENV_VAR, raising=False)
    assert seed(0) == 0 and seed(7) == 7
    monkeypatch.setenv(SEED_SHIFT_ENV_VAR, "3")
    assert seed(0) == 3 and seed(7) == 10


@pytest.mark.parametrize("value", ["-1", "1.5", "two", "1001"])
def test_a_bad_shift_names_the_variable_and_what_is_allowed(monkeypatch, value):
    monkeypatch.setenv(SEED_SHIFT_ENV_VAR, value)
    with pytest.raises(StressSettingError, match=rf"GDTF_SEED_SHIFT='{re.escape(value)}' .* 0 to 1000"):
        seed(0)


def test_seed_rejects_what_is_not_a_seed():
    with pytest.raises(TypeError, match="non-negative int"):
        seed(-1)
    with pytest.raises(TypeError, match="non-negative int"):
        seed(1.0)


def test_threads_unset_means_tensorflow_decides(monkeypatch):
    monkeypatch.delenv(THREADS_ENV_VAR, raising=False)
    assert intra_op_threads() is None
    monkeypatch.setenv(THREADS_ENV_VAR, "1")
    assert intra_op_threads() == 1
    monkeypatch.setenv(THREADS_ENV_VAR, "0")
    with pytest.raises(StressSettingError, match="GDTF_INTRA_OP_THREADS='0'"):
        intra_op_threads()


def test_configurations_cover_what_other_machines_change():
    configurations = CONFIGURATIONS.values()
    assert {c.seed_shift for c in configurations} >= {1, 2, 3}
    assert {c.onednn for c in configurations if c.threads == 1} == {0, 1}
    assert {c.onednn for c in configurations if c.seed_shift} == {0, 1}
    one_thread = CONFIGURATIONS["shift0-onednn1-1thread"].environment()
    assert one_thread[THREADS_ENV_VAR] == one_thread["OPENBLAS_NUM_THREADS"] == "1"
    assert THREADS_ENV_VAR not in CONFIGURATIONS["shift1-onednn0"].environment()


def test_table_shows_each_run():
    configurations = [CONFIGURATIONS["shift1-onednn0"], CONFIGURATIONS["shift2-onednn1"]]
    results = {("shift1-onednn0", "a.ipynb"): (True, 12.0), ("shift2-onednn1", "a.ipynb"): (False, 3.0)}
    lines = table(results, configurations, ["a.ipynb", "unit tests"]).splitlines()
    assert "passed    12 s" in lines[1] and "FAILED     3 s" in lines[1]
    assert lines[2].split() == ["unit", "tests", "not", "run", "not", "run"]


def run_stress(*args, **env):
    return subprocess.run(
        [sys.executable, "tools/stress.py", *args],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        encoding="utf-8",
        timeout=120,
    )


def test_a_bad_shift_stops_the_runner_at_once_in_one_line():
    result = run_stress(GDTF_SEED_SHIFT="x")
    assert result.returncode == 2
    assert result.stderr.strip() == "GDTF_SEED_SHIFT='x' is not allowed: use a whole number from 0 to 1000"
    assert result.stdout == ""


def test_the_runner_lists_its_configurations():
    result = run_stress("--list")
    assert result.returncode == 0
    assert [line.split()[0] for line in result.stdout.splitlines()] == list(CONFIGURATIONS)


# A seed written as a bare number would not move under the stress mode's shift.
BARE_SEED = re.compile(
    r"set_random_seed\(\s*\d|default_rng\(\s*\d|from_seed\(\s*\d|random\.set_seed\(\s*\d"
    r"|np\.random\.seed\(\s*\d|\bseed\s*=\s*\d|\bSEEDS?\s*=\s*(range\(|[(\[])?\s*\d"
)
NOTEBOOKS = sorted(
    p
    for p in REPO_ROOT.rglob("*.ipynb")
    if not any(part.startswith(".") for part in p.relative_to(REPO_ROOT).parts)
)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_seed_in_a_notebook_goes_through_gdtf_seed(path):
    notebook = nbformat.read(path, as_version=4)
    bare = [
        f"cell {index}: {line.strip()}"
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code"
        for line in cell.source.splitlines()
        if BARE_SEED.search(line.split("#", 1)[0])
    ]
    assert not bare, "write these seeds as seed(n) (from gdtf import seed):\n" + "\n".join(bare)
