"""Execute every notebook of the repository top to bottom, in place (``make run``).

Each notebook runs in a fresh kernel with its own folder as the working
directory, so it regenerates the figures and GIFs in its ``images/`` folder;
the executed notebook (outputs, execution counts 1..n) is written back.

    python tools/run_notebooks.py                      # all notebooks
    python tools/run_notebooks.py vector_spread_example  # only those under a path

On success it prints only progress: the notebook, a cell counter and seconds.
On failure it names the notebook, the cell and the error, and leaves that
notebook's committed file untouched. A notebook that ran but wrote to stderr
(a warning, log noise) is saved, reported with the offending cells, and makes
the command fail: committed notebooks carry no stderr output.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

REPO_ROOT = Path(__file__).resolve().parents[1]


def find_notebooks(paths: list[Path]) -> list[Path]:
    """All ``*.ipynb`` under the given paths, skipping hidden folders (.venv, checkpoints)."""
    found = []
    for base in paths:
        base = base.resolve()
        if not base.exists():
            raise FileNotFoundError(f"no such notebook or folder: {base}")
        candidates = [base] if base.suffix == ".ipynb" else base.rglob("*.ipynb")
        for path in candidates:
            relative = path.resolve().relative_to(REPO_ROOT)
            if not any(part.startswith(".") for part in relative.parts):
                found.append(path.resolve())
    return sorted(set(found))


class Progress:
    """A one-line cell counter: rewritten in place on a terminal, printed once per notebook otherwise."""

    def __init__(self, name: str, cells: int):
        self.name, self.cells, self.start = name, cells, time.perf_counter()
        self.interactive = sys.stdout.isatty()
        self.current = None

    def update(self, index: int) -> None:
        self.current = index
        if self.interactive:
            elapsed = time.perf_counter() - self.start
            print(f"\r  {self.name}: cell {index + 1}/{self.cells}, {elapsed:.0f} s ", end="", flush=True)

    def done(self) -> float:
        elapsed = time.perf_counter() - self.start
        prefix = "\r" if self.interactive else ""
        print(f"{prefix}  {self.name}: {self.cells} cells in {elapsed:.1f} s" + " " * 10, flush=True)
        return elapsed


def stderr_outputs(notebook) -> list[tuple[int, str]]:
    """``(cell index, text)`` of every stderr stream output."""
    return [
        (index, output.get("text", ""))
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream" and output.get("name") == "stderr"
    ]


def pinned_kernelspec() -> dict[str, str]:
    """The kernelspec JupyterLab writes into a notebook it opens with this environment's kernel.

    A notebook that carries exactly this is not marked modified when opened (JupyterLab copies
    the running kernel's spec into the metadata and autosave would rewrite the file).
    """
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("python3")
    return {"display_name": spec.display_name, "language": spec.language, "name": "python3"}


def execute_in_place(path: Path, timeout: int) -> list[tuple[int, str]]:
    """Run the notebook and write it back; return its stderr outputs (empty when clean)."""
    notebook = nbformat.read(path, as_version=4)
    progress = Progress(str(path.relative_to(REPO_ROOT)), len(notebook.cells))
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,  # no per-cell timestamps: diffs show only real changes
        coalesce_streams=True,  # one stdout block per cell, however the kernel chunked it
        # The kernel's own start-up warnings (e.g. "running over TCP without encryption")
        # go to this terminal, not into the notebook: keep them out of the progress output.
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
        on_cell_start=lambda cell, cell_index: progress.update(cell_index),
    )
    try:
        client.execute()
    except CellExecutionError as error:
        error.cell_index = progress.current
        raise
    progress.done()
    notebook.metadata["kernelspec"] = pinned_kernelspec()
    nbformat.validate(notebook)
    nbformat.write(notebook, path)
    return stderr_outputs(notebook)


def describe_failure(error: CellExecutionError) -> str:
    """The failing cell's error name, message and the last lines of its traceback."""
    lines = str(error).strip().splitlines()
    return "\n".join(lines[-15:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[REPO_ROOT])
    parser.add_argument("--timeout", type=int, default=900, help="seconds allowed per cell")
    args = parser.parse_args(argv)
    logging.getLogger("traitlets").setLevel(logging.ERROR)

    try:
        notebooks = find_notebooks(args.paths)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    if not notebooks:
        print("no notebooks found under " + ", ".join(map(str, args.paths)), file=sys.stderr)
        return 1
    total, noisy = time.perf_counter(), []
    for index, path in enumerate(notebooks, 1):
        name = path.relative_to(REPO_ROOT)
        print(f"[{index}/{len(notebooks)}] {name}", flush=True)
        try:
            stderr = execute_in_place(path, args.timeout)
        except CellExecutionError as error:
            cell = getattr(error, "cell_index", None)
            print(file=sys.stderr)
            where = f", cell {cell}" if cell is not None else ""
            print(f"FAILED: {name}{where} (file left as it was)\n{describe_failure(error)}", file=sys.stderr)
            return 1
        except Exception as error:  # kernel died, timeout, unreadable notebook
            print(f"\nFAILED: {name}: {type(error).__name__}: {error}", file=sys.stderr)
            return 1
        for cell, text in stderr:
            noisy.append(f"{name}, cell {cell}: {text.strip()[:500]}")
    if noisy:
        print("stderr output in executed notebooks (saved, but must be fixed):", file=sys.stderr)
        print("\n".join(noisy), file=sys.stderr)
        return 1
    print(f"all {len(notebooks)} notebook(s) executed in {time.perf_counter() - total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
