"""Checkers of the exercises of optimizers_from_the_tape.ipynb (``check("optimizers-1", answer)``).

Each checker runs the reader's answer on gradients, data and settings of its own (drawn from a
fixed ``np.random.default_rng`` or ``tf.random.Generator`` here: checkers are not notebook
claims), compares it with a reference it computes (Keras's optimizer, the update rule in
NumPy, the tape on all the data) and, on a wrong answer, names the mistake when it recognises
one. Model answers and the typical wrong answers each hint is proven against are in
``solutions/optimizers_from_the_tape.py``.
"""

from __future__ import annotations

import numpy as np
from regression import least_squares, line_mse, run_descent, stays_close

from gdtf import import_tensorflow_quietly, load_height_weight
from gdtf.exercises import Hint, as_array, call, exercise

tf = import_tensorflow_quietly()
import keras  # noqa: E402  (after the quiet TensorFlow import)

EPSILON = 1e-7  # Keras's default for Adam and Adamax


def _close(got, expected, rtol):
    """Equal within ``rtol`` of the largest entry of ``expected`` (entries may be near 0)."""
    expected = np.asarray(expected, np.float64)
    return bool(np.allclose(got, expected, rtol=rtol, atol=rtol * np.abs(expected).max()))


# ---------------------------------------------------------------------------------------------
# optimizers-1: Adamax by hand, matched to Keras


def _adamax_numpy(gradients, learning_rate, beta_1, beta_2, variant="keras"):
    """Positions after each step of Adamax (or of a typical mistake) from θ = 0, in float64."""
    theta, mean, largest = np.zeros(gradients.shape[1]), 0.0, 0.0
    positions = []
    for t, gradient in enumerate(gradients, start=1):
        mean = mean + (gradient - mean) * (1 - beta_1)
        if variant == "adam":  # a mean square, rooted, with Adam's bias correction
            largest = largest + (gradient**2 - largest) * (1 - beta_2)
            rate = learning_rate * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
            theta = theta - rate * mean / (np.sqrt(largest) + EPSILON)
        else:  # Keras: θ ← θ − η m / ((1 − β1^t)(u + ε))
            size = gradient if variant == "signed" else np.abs(gradient)
            largest = np.maximum(beta_2 * largest, size)
            correction = 1.0 if variant == "uncorrected" else 1 - beta_1**t
            theta = theta - learning_rate * mean / (correction * (largest + EPSILON))
        positions.append(theta)
    return np.array(positions)


def _keras_positions(optimizer, gradients):
    variable = tf.Variable(tf.zeros(gradients.shape[1]))
    optimizer.build([variable])
    positions = []
    for gradient in gradients:
        optimizer.apply_gradients([(tf.constant(gradient, tf.float32), variable)])
        positions.append(variable.numpy().copy())
    return np.array(positions)


def _reader_positions(answer, gradients, *args, **kwargs):
    step = call(answer, *args, **kwargs)
    if not callable(step):
        raise Hint(
            f"adamax(...) should return a step function step(theta, gradient), got {type(step).__name__}"
        )
    theta = tf.Variable(tf.zeros(gradients.shape[1]))
    positions = []
    for t, gradient in enumerate(gradients, start=1):
        call(step, theta, tf.constant(gradient, tf.float32))
        positions.append(as_array(theta, f"theta after step {t}", shape=(gradients.shape[1],)))
    return np.array(positions)


@exercise("optimizers-1", "Adamax written as a step rule, matched to Keras", time_limit_s=30)
def _(answer):
    rng = np.random.default_rng(2111)
    # Gradients of both signs and two sizes, 1 and 0.01: a rule must not depend on their scale.
    gradients = rng.normal(size=(30, 2)) * [1.0, 0.01] + [0.3, -0.002]
    settings = [((0.5,), {}, (0.9, 0.999)), ((0.02,), {"beta_1": 0.8, "beta_2": 0.99}, (0.8, 0.99))]
    for args, kwargs, (beta_1, beta_2) in settings:
        learning_rate = args[0]
        got = _reader_positions(answer, gradients, *args, **kwargs)
        optimizer = keras.optimizers.Adamax(learning_rate, beta_1=beta_1, beta_2=beta_2)
        expected = _keras_positions(optimizer, gradients)
        if _close(got, expected, 1e-4):
            continue
        where = f"(η {learning_rate:g}, β1 {beta_1:g}, β2 {beta_2:g})"
        variants = {
            v: _adamax_numpy(gradients, learning_rate, beta_1, beta_2, v)
            for v in ("uncorrected", "signed", "adam")
        }
        differs = ~np.isclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
        first = int(np.flatnonzero(differs.any(axis=1))[0])
        upto = first + 1  # after a wrong step the paths part ways: compare up to the first one
        mistakes = [
            (_close(got, -expected, 1e-4), "the steps go uphill: check the sign of the update"),
            (
                _close(got[:upto], variants["uncorrected"][:upto], 1e-4),
                "the first steps are too short: m starts at 0, and Adamax corrects that bias as Adam does",
            ),
            (
                _close(got[:upto], variants["signed"][:upto], 1e-4),
                "u should hold the size of the gradient: a negative gradient must count as large",
            ),
            (
                _close(got[:upto], variants["adam"][:upto], 1e-4),
                "that is Adam's root mean square; Adamax divides by a decayed maximum of |g|",
            ),
            (
                bool(kwargs)
                and _close(got[:upto], _adamax_numpy(gradients, learning_rate, 0.9, 0.999)[:upto], 1e-4),
                "these are the default β1 and β2: use the ones passed to adamax",
            ),
        ]
        for recognised, hint in mistakes:
            if recognised:
                raise Hint(f"{hint} {where}")
        raise Hint(
            f"differs from Keras's Adamax from step {first + 1} {where}: got {np.round(got[first], 5)}, "
            f"expected {np.round(expected[first], 5)}"
        )
    # The same rule inside the compiled GradientTape loop, on a line fit of the checker's own.
    x = rng.normal(0.0, 2.0, 40).astype(np.float32)
    y = (1.7 * x + 3.0 + rng.normal(0.0, 0.5, 40)).astype(np.float32)
    ours = call(lambda: run_descent(x, y, (-1.0, 0.0), 60, answer(0.3)))
    theirs = run_descent(x, y, (-1.0, 0.0), 60, keras.optimizers.Adamax(0.3))
    if not _close(ours, theirs, 1e-4):
        raise Hint(
            "matches Keras step by step, not in run_descent's compiled loop: keep the state in tf.Variables"
        )
    return (
        "matches Keras's Adamax on 30 steps of mixed-sign gradients at two settings, and in the compiled loop"
    )


# ---------------------------------------------------------------------------------------------
# optimizers-2: Adam's first step, with and without bias correction


def _keras_adam_first_step(gradient, learning_rate, beta_1, beta_2):
    optimizer = keras.optimizers.Adam(learning_rate, beta_1=beta_1, beta_2=beta_2)
    return _keras_positions(optimizer, np.array([gradient]))[0]


def _uncorrected_first_step(gradient, learning_rate, beta_1, beta_2):
    mean, mean_square = (1 - beta_1) * gradient, (1 - beta_2) * gradient**2  # from zero, one update
    return -learning_rate * mean / (np.sqrt(mean_square) + EPSILON)


@exercise("optimizers-2", "Adam's first step, predicted with and without bias correction", time_limit_s=15)
def _(answer):
    rng = np.random.default_rng(2112)
    cases = [  # (learning rate, β1, β2, bias correction)
        (1.0, 0.9, 0.999, True),
        (1.0, 0.9, 0.999, False),
        (0.05, 0.5, 0.99, False),
        (3.0, 0.0, 0.9, True),
        (0.3, 0.8, 0.9, False),
    ]
    for learning_rate, beta_1, beta_2, correction in cases:
        gradient = rng.choice([-1.0, 1.0], 3) * rng.uniform(0.05, 50.0, 3)
        got = as_array(
            call(answer, gradient.copy(), learning_rate, beta_1, beta_2, correction),
            "your first step",
            shape=(3,),
        )
        if correction:
            expected = _keras_adam_first_step(gradient, learning_rate, beta_1, beta_2)
            other = _uncorrected_first_step(gradient, learning_rate, beta_1, beta_2)
        else:
            expected = _uncorrected_first_step(gradient, learning_rate, beta_1, beta_2)
            other = _keras_adam_first_step(gradient, learning_rate, beta_1, beta_2)
        if _close(got, expected, 1e-3):
            continue
        where = f"(η {learning_rate:g}, β1 {beta_1:g}, β2 {beta_2:g}, bias correction {correction})"
        sign = np.sign(-gradient)
        mistakes = [
            (_close(got, -expected, 1e-3), "the step goes uphill: Adam moves against the gradient"),
            (
                _close(got, other, 1e-3),
                f"the step {'without' if correction else 'with'} it, but bias_correction is {correction}",
            ),
            (
                _close(got, sign * learning_rate * (1 - beta_1) / (1 - beta_2), 1e-3),
                "the mean square enters the step under a square root",
            ),
            (
                _close(got, sign * learning_rate * (1 - beta_2) / np.sqrt(1 - beta_1), 1e-3),
                "β1 and β2 swapped: β1 is the mean's memory, β2 the mean square's",
            ),
            (
                _close(got, -learning_rate * gradient, 1e-3)
                or _close(got, -learning_rate * (1 - beta_1) * gradient, 1e-3),
                "your step grows with the gradient: Adam divides the mean by the root of the mean square",
            ),
        ]
        for recognised, hint in mistakes:
            if recognised:
                raise Hint(f"{hint} {where}")
        raise Hint(f"wrong {where}: got {np.round(got, 4)} for the gradient {np.round(gradient, 2)}")
    return (
        "5 settings, 3 gradients of mixed sign and size each: Keras's Adam and Adam without bias correction"
    )


# ---------------------------------------------------------------------------------------------
# optimizers-3: a mini-batch gradient from the tape


CALLS, BATCH = 300, 4


def _full_gradient(theta, x, y):
    with tf.GradientTape() as tape:
        loss = line_mse(theta[0], theta[1], x, y)
    return tape.gradient(loss, theta).numpy().astype(np.float64)


@exercise("optimizers-3", "a mini-batch gradient: the tape on a random batch, unbiased", time_limit_s=30)
def _(answer):
    rng = np.random.default_rng(2113)
    x64 = rng.normal(0.0, 2.0, 24)
    y64 = 3.0 * x64 + 1.0 + rng.normal(0.0, 1.0, 24)  # strongly correlated: height with weight
    x, y = tf.constant(x64, tf.float32), tf.constant(y64, tf.float32)
    theta = tf.Variable([5.0, -4.0])  # off the optimum (3, 1): a large full-batch gradient
    generator = tf.random.Generator.from_seed(2113)
    samples = np.array(
        [
            as_array(call(answer, theta, x, y, BATCH, generator), "your gradient", shape=(2,))
            for _ in range(CALLS)
        ]
    )
    full = _full_gradient(theta, x, y)
    if np.ptp(samples, axis=0).max() == 0:
        if _close(samples[0], full, 1e-4):
            raise Hint(f"every call returns the full-batch gradient: use only batch_size = {BATCH} points")
        raise Hint("every call returns the same gradient: draw new indices from the generator at each call")
    mean, standard_error = samples.mean(axis=0), samples.std(axis=0) / np.sqrt(CALLS)

    def agrees(expected):  # within 5 standard errors of the average over the calls
        return bool(np.all(np.abs(mean - expected) <= 5 * standard_error + 1e-3 * np.abs(full).max()))

    if agrees(full):
        return (
            f"over {CALLS} calls with batches of {BATCH} of 24 points, the average is the full-batch "
            "gradient (within 5 standard errors), and the calls vary"
        )
    slope, intercept = theta.numpy().astype(np.float64)
    shuffled = np.array(  # x and y drawn with different indices: the pairs are broken
        [2 * (slope * np.mean(x64**2) + intercept * np.mean(x64) - np.mean(x64) * np.mean(y64)), full[1]]
    )
    if agrees(-full):
        raise Hint("the sign is wrong: the gradient points uphill")
    if agrees(BATCH * full):
        raise Hint(f"{BATCH} times too large on average: the loss of a batch is its mean, not its sum")
    if agrees(shuffled):
        raise Hint(
            "biased in the slope: x and y must be gathered with the same indices, a point's x with its y"
        )
    raise Hint(
        f"on average over {CALLS} calls your gradient is {np.round(mean, 2)}, the full batch's is "
        f"{np.round(full, 2)}: a mini-batch gradient should average to it"
    )


# ---------------------------------------------------------------------------------------------
# optimizers-4: RMSprop with a decaying learning rate


def _rmsprop_numpy(gradients, learning_rate, decay_rate, decay_steps, rho, variant="keras"):
    """Positions after each step of RMSprop at rate η·decay_rate^(k/decay_steps), k = 0, 1, …"""
    exponents = {"keras": 0, "late": 1}.get(variant, 0)
    theta, mean_square, positions = np.zeros(gradients.shape[1]), 0.0, []
    for k, gradient in enumerate(gradients):
        if variant == "per step":
            rate = learning_rate * decay_rate**k
        elif variant == "constant":
            rate = learning_rate
        else:
            rate = learning_rate * decay_rate ** ((k + exponents) / decay_steps)
        mean_square = rho * mean_square + (1 - rho) * gradient**2
        theta = theta - rate * gradient / np.sqrt(mean_square + EPSILON)
        positions.append(theta)
    return np.array(positions)


def _decayed_keras(learning_rate, decay_rate, decay_steps, rho):
    schedule = keras.optimizers.schedules.ExponentialDecay(learning_rate, decay_steps, decay_rate)
    return keras.optimizers.RMSprop(schedule, rho=rho)


@exercise("optimizers-4", "RMSprop with an exponentially decaying rate, matched to Keras", time_limit_s=30)
def _(answer):
    rng = np.random.default_rng(2114)
    gradients = rng.normal(size=(40, 2)) * [2.0, 0.05]
    settings = [
        ((1.0,), {}, (0.8, 10, 0.9)),
        ((0.1,), {"decay_rate": 0.5, "decay_steps": 4, "rho": 0.99}, (0.5, 4, 0.99)),
    ]
    for args, kwargs, (decay_rate, decay_steps, rho) in settings:
        learning_rate = args[0]
        step = call(answer, *args, **kwargs)
        if not callable(step):
            raise Hint(f"rmsprop_decayed(...) should return a step function, got {type(step).__name__}")
        theta = tf.Variable(tf.zeros(2))
        got = []
        for k, gradient in enumerate(gradients):
            call(step, theta, tf.constant(gradient, tf.float32))
            got.append(as_array(theta, f"theta after step {k + 1}", shape=(2,)))
        got = np.array(got)
        expected = _keras_positions(_decayed_keras(learning_rate, decay_rate, decay_steps, rho), gradients)
        if _close(got, expected, 1e-4):
            continue
        where = f"(η {learning_rate:g}, ×{decay_rate:g} every {decay_steps} steps, ρ {rho:g})"
        differs = ~np.isclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
        upto = int(np.flatnonzero(differs.any(axis=1))[0]) + 1

        def like(variant, got=got, upto=upto, rate=learning_rate, decay=(decay_rate, decay_steps, rho)):
            return _close(got[:upto], _rmsprop_numpy(gradients, rate, *decay, variant)[:upto], 1e-4)

        mistakes = [
            (like("constant"), "the rate does not decay"),
            (
                like("late"),
                "the first step already has a decayed rate: the schedule counts steps from 0, as Keras does",
            ),
            (
                like("per step"),
                f"the rate decays too fast: decay_rate is the factor per {decay_steps} steps, not per step",
            ),
            (
                bool(kwargs)
                and _close(got[:upto], _rmsprop_numpy(gradients, learning_rate, 0.8, 10, 0.9)[:upto], 1e-4),
                "these are the default settings: use the decay_rate, decay_steps and rho passed in",
            ),
        ]
        for recognised, hint in mistakes:
            if recognised:
                raise Hint(f"{hint} {where}")
        raise Hint(f"differs from Keras's RMSprop with ExponentialDecay from step {upto} {where}")
    # Section 3's run (the notebook's data, centred heights, rate 2) with the decay, in the compiled loop.
    heights, weights = load_height_weight()
    centred = heights - heights.mean()
    *_, min_mse = least_squares(heights, weights)
    history = call(lambda: run_descent(centred, weights, (-5.0, 150.0), 150, answer(2.0)))
    settled = stays_close(history, min_mse)
    outcome = (
        f"stays within 1% from iteration {settled}" if settled is not None else "does not stay within 1%"
    )
    return (
        f"matches Keras's RMSprop with ExponentialDecay at two settings; section 3's run (η 2, ×0.8 "
        f"every 10 steps) {outcome}"
    )
