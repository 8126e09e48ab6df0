"""Forward vs reverse mode, and two Hessian-vector products (gradient_tape_basics.ipynb, section 8).

    python benchmarks/jacobian_modes_speed.py             # best of 3 timed runs
    python benchmarks/jacobian_modes_speed.py --repeats 5

1. The notebook's Jacobians, one pass at a time in eager mode: y = tanh(Wx) for a *wide*
   function (200 inputs, 4 outputs) and a *tall* one (4 inputs, 200 outputs), built row by
   row with tf.GradientTape (one VJP per output) and column by column with
   tf.autodiff.ForwardAccumulator (one JVP per input). Printed: passes, time, time per pass.
2. H·v on a two-layer function of 1,000 inputs inside tf.function, by double backward (two
   nested tapes) and by forward over backward (a ForwardAccumulator around a tape), each
   averaged over 20 calls after the trace.

What to expect: the pass counts decide which mode wins (reverse for wide, forward for tall),
but one eager forward pass costs several reverse passes. ForwardAccumulator computes most
operations' JVP by transposing their VJP, and forwardprop.py's _jvp_dispatch runs that
helper (_jvp_helper) as a traced function for every operation, even when the user's code is
eager: each operation pays a function call on top of its kernel. On a shared 2-core x86-64
machine (pinned environment, oneDNN off), one run measured a forward pass at about 3.5
reverse passes (an earlier run, inside the notebook, about 4), and double backward was the
faster H·v route in both runs (1.6 against 9.5 ms, and 2.6 against 2.8 ms). Timings are
facts about a machine; run it on an idle one.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
SHAPES = {"wide": (200, 4), "tall": (4, 200)}  # (inputs n, outputs m), as in the notebook
HVP_INPUTS, HVP_CALLS = 1000, 20


def _setup():
    sys.path.insert(0, str(REPO_ROOT))
    from gdtf import import_tensorflow_quietly

    return import_tensorflow_quietly()


def jacobian_by_rows(tf, function, x, outputs):  # reverse mode: one VJP per output
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = function(x)
    return tf.stack([tape.gradient(y, x, output_gradients=u) for u in tf.eye(outputs)])


def jacobian_by_columns(tf, function, x, inputs):  # forward mode: one JVP per input
    columns = []
    for v in tf.eye(inputs):
        with tf.autodiff.ForwardAccumulator(x, v) as accumulator:
            y = function(x)
        columns.append(accumulator.jvp(y))
    return tf.stack(columns, axis=1)


def best_time(call, repeats):
    call()  # warm-up: an op's first call (and a trace) pays one-off costs
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def time_jacobians(tf, repeats):
    rng = np.random.default_rng(1)
    per_pass = {}
    for shape, (n, m) in SHAPES.items():
        weights = tf.constant(rng.normal(size=(m, n)) / np.sqrt(n), dtype=tf.float32)
        x = tf.constant(rng.normal(size=n), dtype=tf.float32)

        def function(x, w=weights):
            return tf.tanh(tf.linalg.matvec(w, x))

        expected = (1 - np.tanh(weights.numpy() @ x.numpy()) ** 2)[:, None] * weights.numpy()
        ways = [("reverse", jacobian_by_rows, m), ("forward", jacobian_by_columns, n)]
        for mode, build, passes in ways:
            np.testing.assert_allclose(build(tf, function, x, passes), expected, rtol=1e-5, atol=1e-5)
            seconds = best_time(lambda b=build, p=passes, x=x: b(tf, function, x, p), repeats)
            per_pass.setdefault(mode, []).append(seconds / passes)
            print(
                f"{shape} {SHAPES[shape]}, {mode:7} mode: {passes:3} passes, {seconds * 1e3:7.1f} ms,"
                f" {seconds / passes * 1e3:5.2f} ms per pass"
            )
    ratio = np.mean(per_pass["forward"]) / np.mean(per_pass["reverse"])
    print(f"one forward pass costs about {ratio:.1f} reverse passes (mean over both shapes)")


def hvp_double_backward(tf, function, x, v):
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            f = function(x)
        gradient_dot_v = tf.reduce_sum(inner.gradient(f, x) * v)
    return outer.gradient(gradient_dot_v, x)


def hvp_forward_over_backward(tf, function, x, v):
    with tf.autodiff.ForwardAccumulator(primals=x, tangents=v) as accumulator:
        with tf.GradientTape() as tape:
            tape.watch(x)
            f = function(x)
        gradient = tape.gradient(f, x)
    return accumulator.jvp(gradient)


def time_hvps(tf, repeats):
    rng = np.random.default_rng(2)
    n = HVP_INPUTS
    weights = tf.constant(rng.normal(size=(n, n)) / np.sqrt(n), dtype=tf.float32)
    x, v = (tf.constant(rng.normal(size=n), dtype=tf.float32) for _ in range(2))

    def two_layers(x):
        hidden = tf.tanh(tf.linalg.matvec(weights, x))
        return tf.reduce_sum(tf.tanh(tf.linalg.matvec(weights, hidden)))

    results = {}
    for route in (hvp_double_backward, hvp_forward_over_backward):
        graph_route = tf.function(lambda x, v, route=route: route(tf, two_layers, x, v))

        def calls(graph_route=graph_route):
            for _ in range(HVP_CALLS):
                graph_route(x, v).numpy()  # .numpy() waits for the result

        seconds = best_time(calls, repeats) / HVP_CALLS
        results[route.__name__[4:]] = graph_route(x, v).numpy(), seconds
    (first, _), (second, _) = results.values()
    np.testing.assert_allclose(first, second, rtol=1e-4, atol=1e-4)
    for name, (_, seconds) in results.items():
        print(f"H·v, {name:21} {seconds * 1e3:6.2f} ms per call (n = {n}, inside tf.function)")
    print("the two H·v routes agree to 1e-4")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per measurement (best kept)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    tf = _setup()
    machine = platform.processor() or platform.machine()
    print(f"{machine}, {os.cpu_count()} CPUs, TensorFlow {tf.__version__},")
    print(f"TF_ENABLE_ONEDNN_OPTS={os.environ.get('TF_ENABLE_ONEDNN_OPTS', '0 (gdtf default)')}")
    time_jacobians(tf, args.repeats)
    time_hvps(tf, args.repeats)


if __name__ == "__main__":
    main()
