"""Run every notebook under nbval in configurations that stand in for other machines (``make stress``).

TensorFlow's CPU results differ in the last bits between machines (oneDNN on or off, Eigen's
blocking by cache size, OpenBLAS kernels by instruction set, thread counts). A claim about where a
descent lands must survive that. One machine cannot become another, but it can move what those
differences move: the seeds (``GDTF_SEED_SHIFT``), the order of reductions (one thread per op)
and the kernels (both oneDNN settings). Every assert and every compared output must hold in each.

    python tools/stress.py                          # every configuration, every notebook + unit tests
    python tools/stress.py --config shift1-onednn1  # one configuration (repeatable)
    python tools/stress.py vector_spread_example    # only the notebooks under a path
    python tools/stress.py --list                   # the configurations

Prints one progress line per run and, at the end, a table: configuration x notebook -> passed or
FAILED, with seconds. Exit status 1 if anything failed; the failing run's last lines are printed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from gdtf.stress import SEED_SHIFT_ENV_VAR, THREADS_ENV_VAR, StressSettingError, check_settings  # noqa: E402
from tools.run_notebooks import find_notebooks  # noqa: E402

UNIT_TESTS = "unit tests"


@dataclass(frozen=True)
class Configuration:
    name: str
    seed_shift: int
    onednn: int
    threads: int | None  # None: TensorFlow's default (one per core)

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env["TF_ENABLE_ONEDNN_OPTS"] = str(self.onednn)
        env[SEED_SHIFT_ENV_VAR] = str(self.seed_shift)
        env.pop(THREADS_ENV_VAR, None)
        if self.threads is not None:
            env[THREADS_ENV_VAR] = str(self.threads)
            # NumPy's BLAS and any OpenMP pool too: every reduction in one order.
            env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = str(self.threads)
        return env

    def describe(self) -> str:
        threads = "1 thread per op" if self.threads == 1 else "default threads"
        return f"seeds +{self.seed_shift}, oneDNN {'on' if self.onednn else 'off'}, {threads}"


# Seed shifts 1, 2, 3; one thread under both oneDNN settings; each oneDNN setting with a shift.
# (Shift 0 under both oneDNN settings is `make test`, which CI runs too.)
CONFIGURATIONS = {
    c.name: c
    for c in (
        Configuration("shift1-onednn0", 1, 0, None),
        Configuration("shift2-onednn1", 2, 1, None),
        Configuration("shift3-onednn0-1thread", 3, 0, 1),
        Configuration("shift0-onednn1-1thread", 0, 1, 1),
    )
}


def run_one(target: str, configuration: Configuration, log_dir: Path) -> tuple[bool, float, Path]:
    """``pytest`` on one notebook (or the unit tests) under one configuration."""
    log = log_dir / f"{configuration.name}--{target.replace('/', '_').replace(' ', '_')}.log"
    start = time.perf_counter()
    with open(log, "w", encoding="utf-8") as out:
        completed = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", target],
            cwd=REPO_ROOT,
            env=configuration.environment(),
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    return completed.returncode == 0, time.perf_counter() - start, log


def table(results: dict[tuple[str, str], tuple[bool, float]], configurations, targets) -> str:
    width = max(len(t) for t in targets)
    header = f"{'':{width}}  " + "  ".join(f"{c.name:>24}" for c in configurations)
    lines = [header]
    for target in targets:
        cells = []
        for c in configurations:
            if (c.name, target) not in results:
                cells.append(f"{'not run':>24}")
                continue
            passed, seconds = results[c.name, target]
            cells.append(f"{('passed' if passed else 'FAILED') + f' {seconds:5.0f} s':>24}")
        lines.append(f"{target:{width}}  " + "  ".join(cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[REPO_ROOT], help="notebooks or folders")
    parser.add_argument("--config", action="append", choices=sorted(CONFIGURATIONS), help="repeatable")
    parser.add_argument("--no-unit-tests", action="store_true", help="notebooks only")
    parser.add_argument("--list", action="store_true", help="print the configurations and stop")
    args = parser.parse_args(argv)
    try:
        check_settings()
    except StressSettingError as error:
        print(error, file=sys.stderr)
        return 2
    if args.list:
        for c in CONFIGURATIONS.values():
            print(f"{c.name:24} {c.describe()}")
        return 0

    configurations = [CONFIGURATIONS[name] for name in args.config or CONFIGURATIONS]
    try:
        notebooks = find_notebooks(args.paths)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    targets = [str(path.relative_to(REPO_ROOT)) for path in notebooks]
    if not args.no_unit_tests:
        targets.append(UNIT_TESTS)
    if not notebooks and args.no_unit_tests:
        print("nothing to run", file=sys.stderr)
        return 2

    log_dir = Path(os.environ.get("TMPDIR", "/tmp")) / f"gdtf-stress-{os.getpid()}"
    log_dir.mkdir(parents=True, exist_ok=True)
    results, failures = {}, []
    runs, started = len(configurations) * len(targets), time.perf_counter()
    print(f"stress: {len(configurations)} configuration(s) x {len(targets)} target(s); logs in {log_dir}")
    count = 0
    for configuration in configurations:
        for target in targets:
            count += 1
            print(f"[{count}/{runs}] {configuration.name}: {target} ...", end=" ", flush=True)
            pytest_target = "tests" if target == UNIT_TESTS else target
            passed, seconds, log = run_one(pytest_target, configuration, log_dir)
            results[configuration.name, target] = (passed, seconds)
            print(f"{'passed' if passed else 'FAILED'} in {seconds:.0f} s", flush=True)
            if not passed:
                failures.append((configuration, target, log))

    print(f"\nstress table ({time.perf_counter() - started:.0f} s in all)")
    for c in configurations:
        print(f"  {c.name}: {c.describe()}")
    print(table(results, configurations, targets))
    for configuration, target, log in failures:
        tail = log.read_text(encoding="utf-8").splitlines()[-40:]
        print(f"\n==> FAILED {configuration.name}: {target} (full log: {log})\n" + "\n".join(tail))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
