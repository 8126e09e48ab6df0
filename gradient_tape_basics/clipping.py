"""The machinery of the clipping experiment in tape_in_training_loops.ipynb.

The notebook holds the tape code (the loss, the training step, the clipping) and shows this
module with ``gdtf.show_code``: the data, the model, the learning-rate schedule and the loop
that runs a step until the loss stops being finite. ``tests/test_clipping.py`` tests it.
"""

from __future__ import annotations

import keras
import numpy as np

LEARNING_RATE = 0.3  # too bold for this network: without clipping, SGD blows up
# Unclipped controls: a third of LEARNING_RATE, and two bolder rates. On the seeds checked, 0.1
# survived every seed and 0.12 and 0.15 all but about one in seven.
CONTROL_LEARNING_RATES = (0.1, 0.12, 0.15)
MOMENTUM = 0.9
CLIP_NORM = 1.0
STEPS = 300
# Over initial-weight seeds 0 to 5 and both oneDNN settings, every unclipped run at
# LEARNING_RATE stopped being finite between steps 19 and 25: the claim's line is far later.
DIVERGES_BEFORE = 50


def noisy_sine(seed, count=256):
    """``count`` points of sin(2x) on [-3, 3] plus Gaussian noise (standard deviation 0.1)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3, 3, size=(count, 1)).astype("float32")
    y = (np.sin(2 * x) + 0.1 * rng.normal(size=x.shape)).astype("float32")
    return x, y


def make_regressor(seed):
    """A 1-32-32-1 tanh network whose initial weights are fixed by ``seed``."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((1,)),
            keras.layers.Dense(32, activation="tanh"),
            keras.layers.Dense(32, activation="tanh"),
            keras.layers.Dense(1),
        ]
    )


def learning_rate_schedule(learning_rate, steps=STEPS):
    """From ``learning_rate`` down to 0 along half a cosine: runs that survive settle."""
    return keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps)


def run(make_step, seed, learning_rate, steps=STEPS):
    """Train a fresh regressor with SGD and momentum; return losses and gradient norms.

    ``make_step(model, optimizer)`` returns a function that takes one step and returns
    the loss and the gradient's global norm before any clipping. The run stops at the
    first loss that is not finite, so a short result means the run blew up. Returns two
    arrays: the loss and the gradient norm of each step before that.
    """
    if steps < 1:
        raise ValueError(f"run(): steps must be at least 1, got {steps}")
    model = make_regressor(seed)
    schedule = learning_rate_schedule(learning_rate, steps)
    optimizer = keras.optimizers.SGD(schedule, momentum=MOMENTUM)
    step = make_step(model, optimizer)
    losses, norms = [], []
    for _ in range(steps):
        loss, norm = (float(value) for value in step())
        if not np.isfinite(loss):
            break
        losses.append(loss)
        norms.append(norm)
    return np.array(losses), np.array(norms)
