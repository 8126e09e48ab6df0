"""Wall time and peak memory of each notebook, executed top to bottom in a fresh kernel.

    python benchmarks/notebook_times.py                 # every notebook
    python benchmarks/notebook_times.py gradient_tape_basics

Figures are written to a temporary folder (the committed ones stay untouched).
Each notebook runs in its own child process, so the peak resident memory of
its kernel can be read exactly from ``RUSAGE_CHILDREN`` once the kernel exits.
Run it on an otherwise idle machine; numbers from a busy one are upper bounds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tools"))
from run_notebooks import find_notebooks  # noqa: E402


def measure_one(path: Path) -> dict:
    """Execute one notebook (in this process) and report its time and its kernel's peak memory."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    peak_mib = peak / 1024 if sys.platform != "darwin" else peak / 2**20  # KiB on Linux, bytes on macOS
    return {"seconds": elapsed, "peak_mib": peak_mib}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[REPO_ROOT])
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # internal: measure in a child process
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure_one(args.one.resolve())))
        return 0

    machine = platform.processor() or platform.machine()
    print(f"{machine}, {os.cpu_count()} CPU(s), Python {platform.python_version()}")
    print(f"{'notebook':58}{'wall time':>11}{'peak memory':>14}")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    with tempfile.TemporaryDirectory(prefix="gdtf-bench-") as outputs:
        env["GDTF_OUTPUT_DIR"] = outputs
        for path in find_notebooks(args.paths):
            child = subprocess.run(
                [sys.executable, __file__, "--one", str(path)], env=env, capture_output=True, encoding="utf-8"
            )
            name = str(path.relative_to(REPO_ROOT))
            if child.returncode != 0:
                print(f"{name:58}  FAILED\n{child.stderr[-2000:]}")
                return 1
            result = json.loads(child.stdout.strip().splitlines()[-1])
            print(f"{name:58}{result['seconds']:>9.1f} s{result['peak_mib']:>10.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
