"""Execute every notebook of the repository top to bottom, in place (``make run``).

Each notebook runs in a fresh kernel with its own folder as the working
directory, so it regenerates the figures and GIFs in its ``images/`` folder;
the executed notebook (outputs, execution counts 1..n) is written back.

    python tools/run_notebooks.py                      # all notebooks
    python tools/run_notebooks.py vector_spread_example  # only those under a path
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO_ROOT = Path(__file__).resolve().parents[1]


def find_notebooks(paths: list[Path]) -> list[Path]:
    """All ``*.ipynb`` under the given paths, skipping hidden folders (.venv, checkpoints)."""
    found = []
    for base in paths:
        candidates = [base] if base.suffix == ".ipynb" else base.rglob("*.ipynb")
        for path in candidates:
            relative = path.resolve().relative_to(REPO_ROOT)
            if not any(part.startswith(".") for part in relative.parts):
                found.append(path.resolve())
    return sorted(set(found))


def execute_in_place(path: Path, timeout: int) -> float:
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,  # no per-cell timestamps: diffs show only real changes
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    nbformat.write(notebook, path)
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[REPO_ROOT])
    parser.add_argument("--timeout", type=int, default=900, help="seconds allowed per cell")
    args = parser.parse_args(argv)

    notebooks = find_notebooks(args.paths)
    if not notebooks:
        print("no notebooks found", file=sys.stderr)
        return 1
    total = time.perf_counter()
    for index, path in enumerate(notebooks, 1):
        name = path.relative_to(REPO_ROOT)
        print(f"[{index}/{len(notebooks)}] {name} ...", flush=True)
        try:
            elapsed = execute_in_place(path, args.timeout)
        except Exception as error:  # report which notebook broke, then stop
            print(f"FAILED: {name}\n{error}", file=sys.stderr)
            return 1
        print(f"    done in {elapsed:.1f} s; figures in {name.parent}/images/", flush=True)
    print(f"all {len(notebooks)} notebook(s) executed in {time.perf_counter() - total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
