"""The gradient-clipping experiment of gradient_tape_basics.ipynb, in one place.

The notebook shows this code (with ``gdtf.show_code``) where it teaches it, and runs it for one
seed. ``tests/test_clipping.py`` runs the very same code for several seeds, so the lesson is
checked beyond the one run the notebook shows, under whichever oneDNN setting the tests run in.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

LEARNING_RATE = 0.3  # too bold for this network: without clipping, SGD blows up
MOMENTUM = 0.9
CLIP_NORM = 1.0
STEPS = 300
CLIPPING = ("none", "per-tensor norm", "global norm")

# The lesson's claims, with margin. Over initial-weight seeds 0 to 9 and both oneDNN settings,
# every unclipped run's loss stopped being finite between steps 19 and 25, and every clipped
# run ended between 0.010 and 0.061 (global norm: at most 0.029). The first loss is 0.46 or more.
DIVERGES_BEFORE = 50
TRAINED_BELOW = 0.1


def mse(predictions, targets):
    """Mean squared error, the one regression loss of the notebook."""
    return tf.reduce_mean(tf.square(predictions - targets))


def noisy_sine(count=256, seed=0):
    """``count`` points of sin(2x) on [-3, 3] plus Gaussian noise of standard deviation 0.1."""
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


def clip_gradients(grads, clipping, clip_norm=CLIP_NORM):
    if clipping == "global norm":  # one factor for all tensors: the direction is kept
        grads, _ = tf.clip_by_global_norm(grads, clip_norm)
    elif clipping == "per-tensor norm":  # one factor per tensor: the direction bends
        grads = [tf.clip_by_norm(g, clip_norm) for g in grads]
    return grads


def make_train_step(model, optimizer, x, y, clipping):
    @tf.function
    def train_step():
        with tf.GradientTape() as tape:
            loss = mse(model(x), y)
        grads = tape.gradient(loss, model.trainable_variables)
        grads = clip_gradients(grads, clipping)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    return train_step


def learning_rate_schedule(steps=STEPS):
    """From LEARNING_RATE down to 0 along half a cosine, so that runs that survive settle at the end."""
    return keras.optimizers.schedules.CosineDecay(LEARNING_RATE, decay_steps=steps)


def train(clipping, x, y, seed, steps=STEPS):
    """The loss before each step, up to the first loss that is not finite."""
    model = make_regressor(seed)
    optimizer = keras.optimizers.SGD(learning_rate_schedule(steps), momentum=MOMENTUM)
    train_step = make_train_step(model, optimizer, x, y, clipping)
    losses = []
    for _ in range(steps):
        loss = float(train_step())
        if not np.isfinite(loss):
            break
        losses.append(loss)
    return np.array(losses)


def diverged_early(losses):
    """Did the loss stop being finite before step DIVERGES_BEFORE?"""
    return len(losses) < DIVERGES_BEFORE


def trained(losses, steps=STEPS):
    """Did the run finish all its steps, with a final loss below TRAINED_BELOW?"""
    return len(losses) == steps and losses[-1] < TRAINED_BELOW
