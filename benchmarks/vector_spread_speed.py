"""Speed and memory of the vector-spread force loss (vector_spread_example/spread.py).

    python benchmarks/vector_spread_speed.py                  # all measurements
    python benchmarks/vector_spread_speed.py --sizes 100 1000 # only these N in 32-D

1. The article-style gradient step (Python double loop over pairs, eager), the vectorised one
   (Gram-matrix tensor operations) still eager, and the vectorised one in ``tf.function``
   (traced before timing), side by side at N = 20 in 2-D: one change at a time. Target: the
   compiled vectorised step at least 1000x faster than the loop.
2. One full descent step (tape, gradient, tangential projection, clipping, re-normalisation)
   at N = 100, 1000 and 4000 in 32-D. Targets on a 2-core CPU: N = 1000 at most 50 ms,
   N = 4000 under 2 s, with O(N^2) rather than O(N^2 * D) memory. Beside it, the floor: one
   Coulomb-energy gradient through a single Gram matmul and one rsqrt pass (backward included),
   and each step (energy and force loss) as a ratio to it, measured in the same run. Goals:
   the energy step within 1.5x the floor, the force step within 3x, at N = 1000 and 4000.

3. Thomson at scale (``--thomson 100 200``): the energy descended in 3-D from 4 random starts
   (float64, constant rate 0.25/N, 6,000 steps, stopped early once the largest tangential force
   is below 1e-7), against the best known energy; the largest tangential force says how far
   from converged the best start is, the relative gap how far from the best known minimum.

Each size runs in its own child process, so its peak resident memory is its own; the
child that runs N = 10 gives the baseline (Python + TensorFlow). Run on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DIMS = 32
ENERGY_GOAL, FORCE_GOAL = 1.5, 3.0  # a step's time over the floor's (issue 16)


def _setup():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.path.insert(0, str(REPO_ROOT / "vector_spread_example"))
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    return tf


def median_seconds(function, repeats, warmup=1):
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def loop_vs_vectorised(count=20, dims=2):
    """One change at a time: the double loop -> vectorised -> tf.function (N = 20, 2-D)."""
    tf = _setup()
    from spread import force_loss, force_loss_loops, random_unit_vectors, tangential_gradient

    vectors = random_unit_vectors(count, dims, seed=0)
    compiled = tf.function(lambda v: tangential_gradient(force_loss, v))
    steps = {  # name: (step, repeats); the warm-up call traces the tf.function before the clock starts
        "loop_s": (lambda: tangential_gradient(force_loss_loops, vectors), 3),
        "vectorised_eager_s": (lambda: tangential_gradient(force_loss, vectors), 100),
        "vectorised_s": (lambda: compiled(vectors)[1].numpy(), 500),
    }
    result = {"N": count, "D": dims}
    for name, (step, repeats) in steps.items():
        result[name] = median_seconds(step, repeats=repeats, warmup=1)
    return result


def descent_step(count, dims=DIMS):
    """Time one descent step of the force loss and of the energy at N = ``count``, and the floor.

    Runs in a child process, so it reports its own peak memory. The floor is the least a step
    could cost: the tape's gradient of the Coulomb energy written as plainly as possible, one Gram
    matmul and one rsqrt pass (its backward pass included), in a tf.function. The steps are the
    notebooks' own (spread.compiled_gradient and projected_step, as spread_vectors runs them).
    The three are timed in turns, several rounds, so that a busy spell on a shared machine hits
    all of them; each ratio is the median over rounds of step / floor within a round.
    """
    tf = _setup()
    import numpy as np
    from spread import (
        compiled_gradient,
        coulomb_energy,
        force_loss,
        projected_step,
        random_unit_vectors,
    )

    start = random_unit_vectors(count, dims, seed=0)
    vectors = tf.Variable(start)

    def plain_energy_gradient(points):
        with tf.GradientTape() as tape:
            tape.watch(points)
            gram = tf.matmul(points, points, transpose_b=True)
            energy = 0.5 * tf.reduce_sum(tf.math.rsqrt(tf.maximum(2.0 - 2.0 * gram, 1e-12)))
        return tape.gradient(energy, points)

    floor = tf.function(plain_energy_gradient)
    # The same floor compiled by XLA too, as the steps are: shown beside, for honesty.
    floor_xla = tf.function(plain_energy_gradient, jit_compile=True)

    def descent(loss_fn):
        @tf.function
        def step(rate):  # what spread_vectors runs at every iteration
            loss, gradient = compiled_gradient(loss_fn)(vectors.read_value())
            projected_step(vectors, gradient, rate)
            return loss

        return lambda: step(tf.constant(1e-6)).numpy()

    timed = {
        "floor_s": lambda: floor(start).numpy(),
        "floor_xla_s": lambda: floor_xla(start).numpy(),
        "energy_step_s": descent(coulomb_energy),
        "force_step_s": descent(force_loss),
    }
    rounds, repeats = (7, 5) if count <= 1000 else (5, 2)
    measured = {name: [] for name in timed}
    for _ in range(rounds):
        for name, function in timed.items():
            measured[name].append(median_seconds(function, repeats=repeats, warmup=1))
    result = {"N": count, "D": dims}
    result.update({name: float(np.median(times)) for name, times in measured.items()})
    for name in ("energy_step_s", "force_step_s", "floor_xla_s"):
        ratios = np.array(measured[name]) / np.array(measured["floor_s"])
        result[name.removesuffix("_s") + "_ratio"] = float(np.median(ratios))
    result["step_s"] = result["force_step_s"]
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


# Best known Thomson energies: the Cambridge Cluster Database (Wales and Ulker 2006) for N = 100;
# N = 200 as Wikipedia's "Thomson problem" table gives it.
PUBLISHED_THOMSON = {100: 4448.350634331, 200: 18438.842717530}
# The best of the starts must come this close to the best known energy (relative), or the script
# exits with status 1: a claim about where descent lands, so it is checked, not only printed.
THOMSON_GAP_LIMIT = 1e-5


def thomson_at_scale(count, starts=4, iterations=6000):
    """The energy descended from ``starts`` random starts at once, against the best known value."""
    tf = _setup()
    import numpy as np
    from spread import coulomb_energy, largest_tangential_force, random_starts, spread_vectors

    batch = random_starts(count, 3, range(starts), tf.float64)
    rate = 0.25 / count  # the notebooks' 1/N oscillates from N = 200 on
    settings = {"learning_rate": rate, "final_rate": rate, "clip": False, "tolerance": 1e-7}
    clock = time.perf_counter()
    run = spread_vectors(coulomb_energy, batch, iterations=iterations, **settings)
    seconds = time.perf_counter() - clock
    energies = coulomb_energy(tf.constant(run.vectors)).numpy()
    best = int(np.argmin(energies))
    return {
        "N": count,
        "starts": starts,
        "steps": run.iterations,
        "seconds": seconds,
        "relative_gap": float(energies[best] / PUBLISHED_THOMSON[count] - 1),
        "largest_force": float(largest_tangential_force(coulomb_energy, run.vectors[best])),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_child(count, flag="--child"):
    output = subprocess.run(
        [sys.executable, __file__, flag, str(count)], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="*", default=[100, 1000, 4000])
    parser.add_argument("--skip-loop", action="store_true", help="skip the slow double-loop comparison")
    parser.add_argument("--thomson", type=int, nargs="*", default=[], choices=sorted(PUBLISHED_THOMSON))
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-thomson", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(descent_step(args.child)))
        return
    if args.child_thomson is not None:
        print(json.dumps(thomson_at_scale(args.child_thomson)))
        return

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}")
    if not args.skip_loop:
        result = loop_vs_vectorised()
        speed_up = result["loop_s"] / result["vectorised_s"]
        print(f"\nforce-loss gradient step, N = {result['N']}, {result['D']}-D (median):")
        print(f"  Python double loop, eager : {result['loop_s'] * 1e3:10.1f} ms")
        print(f"  vectorised, eager         : {result['vectorised_eager_s'] * 1e3:10.3f} ms")
        print(f"  vectorised, tf.function   : {result['vectorised_s'] * 1e3:10.3f} ms")
        verdict = "meets" if speed_up >= 1000 else "MISSES"
        print(f"  speed-up                  : {speed_up:10.0f}x  ({verdict} the 1000x target)")

    baseline = run_child(10)["peak_rss_mib"]
    print(
        f"\none descent step in {DIMS}-D (median; memory above the {baseline:.0f} MiB TensorFlow baseline):"
    )
    print(f"  {'N':>5} {'step':>10} {'peak extra':>11} {'N^2 float32':>12} {'N^2*D float32':>14}  target")
    targets = {1000: 0.050, 4000: 2.0}
    floors = []
    for count in args.sizes:
        result = run_child(count)
        target = targets.get(count)
        verdict = (
            ""
            if target is None
            else f"<= {target * 1e3:.0f} ms: {'met' if result['step_s'] <= target else 'MISSED'}"
        )
        print(
            f"  {count:>5} {result['step_s'] * 1e3:>8.1f} ms {result['peak_rss_mib'] - baseline:>7.0f} MiB"
            f" {count**2 * 4 / 2**20:>8.0f} MiB {count**2 * DIMS * 4 / 2**20:>10.0f} MiB  {verdict}"
        )
        floors.append(result)

    print(f"\nthe steps against the floor in {DIMS}-D (one Coulomb gradient: a Gram matmul, an rsqrt pass;")
    print("medians over rounds of the ratio measured in the same round):")
    print(f"  {'N':>5} {'floor':>9} {'energy step':>12} {'ratio':>6} {'force step':>11} {'ratio':>6}  goals")
    xla_floors = []
    for result in floors:
        if result["N"] < 1000:
            continue
        energy, force = result["energy_step_ratio"], result["force_step_ratio"]
        goals = f"energy <= {ENERGY_GOAL}x: {'met' if energy <= ENERGY_GOAL else 'MISSED'}, "
        goals += f"force <= {FORCE_GOAL}x: {'met' if force <= FORCE_GOAL else 'MISSED'}"
        print(
            f"  {result['N']:>5} {result['floor_s'] * 1e3:>6.1f} ms {result['energy_step_s'] * 1e3:>9.1f} ms"
            f" {energy:>5.2f}x {result['force_step_s'] * 1e3:>8.1f} ms {force:>5.2f}x  {goals}"
        )
        xla_floors.append(f"N = {result['N']}: {result['floor_xla_ratio']:.2f}x")
    if xla_floors:
        print("  (the steps' gradients are XLA-compiled, the floor is not; the floor compiled by XLA")
        print(f"  takes, in the floor's units: {', '.join(xla_floors)})")

    if args.thomson:
        print("\nThomson in 3-D, 4 starts at once (peak memory of the whole process, TensorFlow included):")
        header = ("N", "steps", "time", "vs best known", "largest force", "peak RSS")
        print("  {:>5} {:>6} {:>8} {:>14} {:>14} {:>11}  within {:.0e}".format(*header, THOMSON_GAP_LIMIT))
        missed = []
        for count in args.thomson:
            result = run_child(count, "--child-thomson")
            reached = 0 <= result["relative_gap"] <= THOMSON_GAP_LIMIT  # below best known: a bad table
            print(
                f"  {count:>5} {result['steps']:>6} {result['seconds']:>6.1f} s"
                f" {result['relative_gap']:>+14.1e} {result['largest_force']:>14.1e}"
                f" {result['peak_rss_mib']:>7.0f} MiB  {'yes' if reached else 'NO'}"
            )
            missed += [] if reached else [count]
        if missed:
            sys.exit(f"Thomson: N = {missed} ended further than {THOMSON_GAP_LIMIT:.0e} from the best known")


if __name__ == "__main__":
    main()
