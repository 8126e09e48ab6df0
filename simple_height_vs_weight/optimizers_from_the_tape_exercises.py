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
from regression import least_squares, run_descent, stays_close

from gdtf import import_tensorflow_quietly, load_height_weight
from gdtf.exercises import Hint, as_array, call, exercise, name_the_mistake

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
        # A mistake is named only when the whole run matches it: the gradients are fixed, so an
        # answer that makes exactly this mistake follows it to the end (a prefix is not enough).
        mistakes = [
            (_close(got, -expected, 1e-4), "the steps go uphill: check the sign of the update"),
            (
                _close(got, variants["uncorrected"], 1e-4),
                "the first steps are too short: m starts at 0, and Adamax corrects that bias as Adam does",
            ),
            (
                _close(got, variants["signed"], 1e-4),
                "u should hold the size of the gradient: a negative gradient must count as large",
            ),
            (
                _close(got, variants["adam"], 1e-4),
                "that is Adam's root mean square; Adamax divides by a decayed maximum of |g|",
            ),
            (
                bool(kwargs) and _close(got, _adamax_numpy(gradients, learning_rate, 0.9, 0.999), 1e-4),
                "these are the default β1 and β2: use the ones passed to adamax",
            ),
        ]
        name_the_mistake(mistakes, where)
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


def _first_step_moments(gradient, beta_1, beta_2, correct_mean, correct_square):
    """m and s after one update from zero, each divided by its bias correction if asked."""
    mean, mean_square = (1 - beta_1) * gradient, (1 - beta_2) * gradient**2
    return mean / (1 - beta_1 if correct_mean else 1), mean_square / (1 - beta_2 if correct_square else 1)


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

        both, neither, mean_only, square_only = (  # (m, s) after one update, corrected or not
            _first_step_moments(gradient, beta_1, beta_2, *flags)
            for flags in [(True, True), (False, False), (True, False), (False, True)]
        )
        unrooted = [  # −η m/(s + ε) and −η m/s: s not under the root, corrected or not
            -learning_rate * mean / (mean_square + eps)
            for mean, mean_square in (both, neither)
            for eps in (EPSILON, 0.0)
        ]
        half_corrected = [  # only one of m and s divided by its correction
            -learning_rate * mean / (np.sqrt(mean_square) + EPSILON)
            for mean, mean_square in (mean_only, square_only)
        ]
        mistakes = [
            (_close(got, -expected, 1e-3), "the step goes uphill: Adam moves against the gradient"),
            (
                _close(got, other, 1e-3),
                f"the step {'without' if correction else 'with'} it, but bias_correction is {correction}",
            ),
            (
                any(_close(got, candidate, 1e-3) for candidate in unrooted),
                "divided by s itself: the mean square enters the step under a square root, m/√s",
            ),
            (
                correction and any(_close(got, candidate, 1e-3) for candidate in half_corrected),
                "bias correction divides both moments, m by 1 − β1 and s by 1 − β2 (at t = 1), not one",
            ),
            (
                _close(got, -np.sign(gradient) * learning_rate * (1 - beta_2) / np.sqrt(1 - beta_1), 1e-3),
                "β1 and β2 swapped: β1 is the mean's memory, β2 the mean square's",
            ),
            (
                _close(got, -learning_rate * gradient, 1e-3)
                or _close(got, -learning_rate * (1 - beta_1) * gradient, 1e-3),
                "your step grows with the gradient: Adam divides the mean by the root of the mean square",
            ),
        ]
        name_the_mistake(mistakes, where)
        raise Hint(f"wrong {where}: got {np.round(got, 4)} for the gradient {np.round(gradient, 2)}")
    return (
        "5 settings, 3 gradients of mixed sign and size each: Keras's Adam and Adam without bias correction"
    )


# ---------------------------------------------------------------------------------------------
# optimizers-3: a mini-batch gradient from the tape


CALLS, BATCH, POINTS = 300, 4, 10
BASE = BATCH + 1  # a point drawn at most BATCH times in a batch: one base-5 digit per point
SIGNS = np.array([(-1.0) ** i for i in range(POINTS)])  # x: ±1, so x and y are paired or not
POWERS = np.array([float(BASE**i) for i in range(POINTS)])  # y_i = −5^i: each point's gradient unique
# At θ = 0 a batch's intercept gradient is (2/B) Σ 5^i over the indices drawn: read in base 5, it says
# which points were drawn and how often. Its sums stay below 2^24, exact in float32 whatever the order.
CHI_SQUARE_LIMIT = 40.0  # on POINTS − 1 = 9 degrees of freedom a fair sampler exceeds it with p ≈ 1e-5


def _drawn_counts(gradient, batch_size):
    """How often each point was drawn, if ``gradient`` is the mean gradient of ``batch_size`` of them."""
    total = gradient[1] * batch_size / 2  # Σ 5^i over the batch
    whole = round(total)
    if whole < 0 or abs(total - whole) > 1e-3:
        return None
    digits = [(whole // BASE**i) % BASE for i in range(POINTS)]
    if whole >= BASE**POINTS or sum(digits) != batch_size:
        return None
    return np.array(digits)


def _minibatch_samples(answer, generator, calls):
    x = tf.constant(SIGNS, tf.float32)
    y = tf.constant(-POWERS, tf.float32)
    theta = tf.Variable([0.0, 0.0])
    return np.array(
        [
            as_array(call(answer, theta, x, y, BATCH, generator), "your gradient", shape=(2,))
            for _ in range(calls)
        ]
    )


def _batch_hint(samples):
    """The hint for gradients that are not each the mean gradient of BATCH paired points."""
    if all(_drawn_counts(-g, BATCH) is not None for g in samples):
        return "the sign is wrong: the gradient points uphill"
    if all(_drawn_counts(g / BATCH, BATCH) is not None for g in samples):
        return f"{BATCH} times too large: the loss of a batch is its mean, not its sum"
    for size in range(1, BATCH):
        if all(_drawn_counts(g, size) is not None for g in samples):
            return f"each call uses {size} point{'s' if size > 1 else ''}, not batch_size = {BATCH}"
    bad = next(g for g in samples if _drawn_counts(g, BATCH) is None)
    return (
        f"on points whose gradients are all different, your gradient {np.round(bad, 3)} is not the "
        f"gradient of line_mse on any {BATCH} of them: gather x and y with the same indices and "
        "take the tape's gradient of their mean loss"
    )


@exercise("optimizers-3", "a mini-batch gradient: the tape on a random batch, unbiased", time_limit_s=30)
def _(answer):
    samples = _minibatch_samples(answer, tf.random.Generator.from_seed(2113), CALLS)
    if np.ptp(samples, axis=0).max() == 0:
        full = np.array([2 * np.mean(POWERS * SIGNS), 2 * np.mean(POWERS)])
        if _close(samples[0], full, 1e-6):
            raise Hint(f"every call returns the full-batch gradient: use only batch_size = {BATCH} points")
        raise Hint("every call returns the same gradient: draw new indices from the generator at each call")
    counts = [_drawn_counts(g, BATCH) for g in samples]
    if any(c is None for c in counts):
        raise Hint(_batch_hint(samples))
    for repeats in range(BATCH, 1, -1):  # a batch of 1 point reads as that point drawn 4 times
        if BATCH % repeats == 0 and all(np.all(c % repeats == 0) for c in counts):
            size = BATCH // repeats
            raise Hint(f"each call uses {size} point{'s' if size > 1 else ''}, not batch_size = {BATCH}")
    for gradient, drawn in zip(samples, counts, strict=True):
        paired_slope = 2 * np.sum(drawn * POWERS * SIGNS) / BATCH  # each y_i with its own x_i
        if not _close(gradient[0], paired_slope, 1e-5):
            raise Hint("x and y must be gathered with the same indices, a point's x with its y")
    frequencies = np.sum(counts, axis=0)
    expected = CALLS * BATCH / POINTS
    chi_square = float(np.sum((frequencies - expected) ** 2 / expected))
    if chi_square > CHI_SQUARE_LIMIT:
        windows = all(np.all(np.diff(np.flatnonzero(c)) == 1) and c.max() == 1 for c in counts)
        if frequencies[-1] == 0 and frequencies[:-1].min() > 0:
            hint = "the last point is never drawn: maxval is exclusive, so pass the number of points"
        elif windows:
            hint = (
                "each batch is a window of neighbouring points: the points at the ends are drawn less often"
            )
        else:
            hint = "some points are drawn far more often than others"
        raise Hint(
            f"{hint} (over {CALLS} calls of {BATCH}, point by point: {frequencies.tolist()}; "
            f"every point should be drawn about {expected:.0f} times)"
        )
    again = _minibatch_samples(answer, tf.random.Generator.from_seed(2113), 10)
    if not np.array_equal(again, samples[:10]):
        raise Hint(
            "two generators from the same seed gave different batches: draw the indices with the "
            "generator passed in (generator.uniform), not tf.random or NumPy"
        )
    return (
        f"on {POINTS} points whose gradients identify them, each of {CALLS} calls is the gradient of "
        f"exactly {BATCH} points, each x with its y; every point is drawn about equally often "
        f"(χ² {chi_square:.1f}, {POINTS - 1} degrees of freedom), and a generator from the same seed "
        "repeats the batches"
    )


# ---------------------------------------------------------------------------------------------
# optimizers-4: RMSprop with a decaying learning rate


def _rmsprop_numpy(gradients, learning_rate, decay_rate, decay_steps, rho, variant="keras"):
    """Positions after each step of RMSprop at rate η·decay_rate^(k/decay_steps), k = 0, 1, …

    ``variant`` names a typical mistake instead: "constant", "late" (k from 1), "per step"
    (decay_rate^k), "staircase" (decay_rate^floor(k/decay_steps)), "ε outside" (√s + ε).
    """
    theta, mean_square, positions = np.zeros(gradients.shape[1]), 0.0, []
    for k, gradient in enumerate(gradients):
        exponent = {
            "constant": 0.0,
            "late": (k + 1) / decay_steps,
            "per step": k,
            "staircase": k // decay_steps,
        }.get(variant, k / decay_steps)
        rate = learning_rate * decay_rate**exponent
        mean_square = rho * mean_square + (1 - rho) * gradient**2
        if variant == "ε outside":
            theta = theta - rate * gradient / (np.sqrt(mean_square) + EPSILON)
        else:
            theta = theta - rate * gradient / np.sqrt(mean_square + EPSILON)
        positions.append(theta)
    return np.array(positions)


def _decayed_keras(learning_rate, decay_rate, decay_steps, rho):
    schedule = keras.optimizers.schedules.ExponentialDecay(learning_rate, decay_steps, decay_rate)
    return keras.optimizers.RMSprop(schedule, rho=rho)


def _columns_close(got, expected, rtol):
    return all(_close(got[:, j], expected[:, j], rtol) for j in range(expected.shape[1]))


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
        first = int(np.flatnonzero(differs.any(axis=1))[0]) + 1

        # A mistake is named only when the whole run matches it: the gradients are fixed, so an
        # answer that makes exactly this mistake follows it to the end (a prefix is not enough:
        # a staircase matches a constant rate for its first decay_steps steps).
        def like(variant, got=got, rate=learning_rate, decay=(decay_rate, decay_steps, rho)):
            return _close(got, _rmsprop_numpy(gradients, rate, *decay, variant), 1e-4)

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
                like("staircase"),
                "the rate drops in stairs: Keras's schedule is continuous, k / decay_steps, not "
                "floor(k / decay_steps)",
            ),
            (like("ε outside"), "ε goes inside the root, √(s + ε), as in rmsprop above"),
            (
                bool(kwargs)
                and any(
                    _close(got, _rmsprop_numpy(gradients, learning_rate, *mixed), 1e-4)
                    for mixed in [(0.8, 10, 0.9), (decay_rate, decay_steps, 0.9), (0.8, 10, rho)]
                ),
                "a default setting used: use the decay_rate, decay_steps and rho passed in",
            ),
        ]
        name_the_mistake(mistakes, where)
        raise Hint(f"differs from Keras's RMSprop with ExponentialDecay from step {first} {where}")
    # Section 3's run (the notebook's data, centred heights, rate 2) with the decay, in the compiled loop.
    heights, weights = load_height_weight()
    centred = heights - heights.mean()
    *_, min_mse = least_squares(heights, weights)
    start, iterations = (-5.0, 150.0), 150
    history = call(lambda: run_descent(centred, weights, start, iterations, answer(2.0)))
    keras_run = run_descent(centred, weights, start, iterations, _decayed_keras(2.0, 0.8, 10, 0.9))
    if not _columns_close(history[:, :2], keras_run[:, :2], 1e-4):
        raise Hint(
            "matches Keras step by step, not in run_descent's compiled loop: keep the state in "
            "tf.Variables, the step count too (a Python number is frozen when the loop is compiled)"
        )
    settled = stays_close(history, min_mse)
    outcome = (
        f"stays within 1% from iteration {settled}" if settled is not None else "does not stay within 1%"
    )
    return (
        f"matches Keras's RMSprop with ExponentialDecay at two settings and in section 3's compiled run "
        f"(η 2, ×0.8 every 10 steps), which {outcome}"
    )
