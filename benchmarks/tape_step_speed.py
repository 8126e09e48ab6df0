"""Eager vs tf.function vs tf.function + XLA for one training step (tape_in_training_loops.ipynb).

    python benchmarks/tape_step_speed.py             # small and large model
    python benchmarks/tape_step_speed.py --repeats 5 # more repeats, best kept

The same step (forward pass, tape, gradient, SGD update) runs in the three modes on a small
model (batch 512, 64 features, 128 hidden units) and a large one (2048, 256, 512), from the
same data and initial weights. The first call traces (and compiles, with XLA) and is not
timed; each mode's time per step is the best of ``--repeats`` timed runs, and the losses of
the three modes are checked to agree to 1e-4.

What to expect: Python's overhead is paid per operation, whatever the operation's size, so
tf.function helps the small step most. Whether XLA's fusion pays off depends on the model and
the CPU. In one run on a shared 2-core x86-64 machine (pinned environment, oneDNN off), XLA was
about 3x faster than plain tf.function on the small model and about 7x slower on the large one;
a reviewer's run on another 2-core machine found it 1.8x faster on the small model and about
equal on the large one. Run it on an idle machine: the ratios are facts about a machine, not
claims of the notebook.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SIZES = {"small": (512, 64, 128), "large": (2048, 256, 512)}  # batch, input features, hidden units
TIMED_STEPS = {"small": 100, "large": 20}
MODES = ("eager", "tf.function", "tf.function + XLA")


def _setup():
    sys.path.insert(0, str(REPO_ROOT))
    from gdtf import import_tensorflow_quietly

    return import_tensorflow_quietly()


def make_problem(tf, size):
    import keras

    batch, features, hidden = SIZES[size]
    keras.utils.set_random_seed(3)  # the same data and initial weights for every mode
    x, y = tf.random.normal([batch, features]), tf.random.normal([batch, 1])
    layers = [keras.Input((features,)), keras.layers.Dense(hidden, activation="relu"), keras.layers.Dense(1)]
    return keras.Sequential(layers), keras.optimizers.SGD(0.01), x, y


def time_mode(tf, size, mode, repeats):
    model, optimizer, x, y = make_problem(tf, size)

    def train_step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x) - y))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    step = train_step if mode == "eager" else tf.function(train_step, jit_compile=mode.endswith("XLA"))
    start = time.perf_counter()
    losses = [float(step())]  # traces (and compiles): timed apart
    first_call = time.perf_counter() - start
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        losses += [float(step()) for _ in range(TIMED_STEPS[size])]  # float() waits for the result
        best = min(best, (time.perf_counter() - start) / TIMED_STEPS[size])
    return first_call, best, losses


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per mode (best kept)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    tf = _setup()
    machine = platform.processor() or platform.machine()
    print(f"{machine}, {os.cpu_count()} CPUs, TensorFlow {tf.__version__},")
    print(f"TF_ENABLE_ONEDNN_OPTS={os.environ.get('TF_ENABLE_ONEDNN_OPTS', '0 (gdtf default)')}")
    for size in SIZES:
        results = {mode: time_mode(tf, size, mode, args.repeats) for mode in MODES}
        reference = results["eager"][2]
        for mode, (first_call, per_step, losses) in results.items():
            gap = max(abs(a - b) / max(abs(b), 1e-6) for a, b in zip(losses, reference, strict=True))
            if gap > 1e-4:
                raise SystemExit(f"{size} model, {mode}: losses differ from eager by {gap:.1e} (over 1e-4)")
            speed_up = results["eager"][1] / per_step
            print(
                f"{size:5} model, {mode:18} {per_step * 1e3:7.2f} ms per step (x{speed_up:4.1f} vs eager),"
                f" first call {first_call:5.2f} s"
            )
    print("losses of the three modes agree to 1e-4 at every step")


if __name__ == "__main__":
    main()
