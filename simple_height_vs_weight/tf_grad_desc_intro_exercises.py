"""Checkers of the exercises of tf_grad_desc_intro.ipynb (``check("intro-1", answer)``).

Each checker runs the reader's answer on data, design matrices and losses of its own (drawn
from a fixed ``np.random.default_rng`` here: checkers are not notebook claims), compares it with
a reference it computes (the tape, an eigendecomposition, a simulated descent) and, on a wrong
answer, names the mistake when it recognises one. Model answers and the typical wrong answers
each hint is proven against are in ``solutions/tf_grad_desc_intro.py``.
"""

from __future__ import annotations

import numpy as np
from regression import line_mse

from gdtf import import_tensorflow_quietly
from gdtf.exercises import Hint, as_array, call, exercise, name_the_mistake

tf = import_tensorflow_quietly()


def _close(got, expected, rtol):
    """Equal within ``rtol`` of the largest entry of ``expected`` (entries may be near 0)."""
    expected = np.asarray(expected, np.float64)
    return np.allclose(got, expected, rtol=rtol, atol=rtol * np.abs(expected).max())


def _ratio(got, expected, factor, rtol=1e-3):
    """True when ``got`` is ``factor`` times ``expected``."""
    return _close(got, factor * np.asarray(expected, np.float64), rtol)


def _line_data(rng, n, mean, spread):
    """n points around a line with a random slope: x far from 0 unless ``mean`` is 0."""
    x = rng.normal(mean, spread, n)
    y = rng.normal(2.0, 1.0) * x + rng.normal(0.0, 10.0) + rng.normal(0.0, 3.0, n)
    return x, y


# ---------------------------------------------------------------------------------------------
# intro-1: the MSE's gradient by hand


def _tape_gradient(slope, intercept, x, y):
    theta = tf.Variable([slope, intercept], dtype=tf.float64)
    with tf.GradientTape() as tape:
        loss = line_mse(theta[0], theta[1], tf.constant(x), tf.constant(y))
    return tape.gradient(loss, theta).numpy()


@exercise("intro-1", "the gradient of the MSE over (slope, intercept), by hand", time_limit_s=10)
def _(answer):
    rng = np.random.default_rng(2101)
    cases = [(7, 65.0, 4.0), (40, -3.0, 0.5), (150, 1.5, 2.0)]  # (points, mean of x, spread of x)
    for n, mean, spread in cases:
        x, y = _line_data(rng, n, mean, spread)
        slope, intercept = rng.normal(0.0, 3.0), rng.normal(0.0, 20.0)
        got = as_array(call(answer, slope, intercept, x, y), "your gradient", shape=(2,))
        expected = _tape_gradient(slope, intercept, x, y)
        if _close(got, expected, 1e-4):
            continue
        where = f"at slope {slope:.2f}, intercept {intercept:.2f} on {n} points with x around {mean:g}"
        mistakes = [
            (_ratio(got, expected, -1.0), "the sign is wrong: which way does the loss grow?"),
            (_ratio(got, expected, 0.5), "off by a factor of 2: the derivative of e² is not e"),
            (_ratio(got, expected, 2.0), "twice too large: the 2 that e² brings down counts once"),
            (
                _ratio(got, expected, n / (n - 1)),
                f"divided by n − 1 = {n - 1}: the loss is a mean over all n = {n} points",
            ),
            (
                _ratio(got, expected, n) or _ratio(got, expected, n / 2),
                f"{n} times too large: the loss is a mean over the points, not a sum",
            ),
            (_close(got, expected[::-1], 1e-4), "slope and intercept are swapped: return them in that order"),
            (
                _close(got[1], expected[1], 1e-4) and _close(got[0], expected[1], 1e-4),
                "the slope's component lacks the chain rule's factor: ∂(slope·x)/∂slope is not 1",
            ),
        ]
        name_the_mistake(mistakes, f"({where})")
        raise Hint(f"wrong {where}: got {np.round(got, 3)}, the tape gives {np.round(expected, 3)}")
    return "matches the tape on 3 data sets of 7, 40 and 150 points the notebook never shows"


# ---------------------------------------------------------------------------------------------
# intro-2: the largest stable learning rate of a design matrix


def _hessian(features, with_ones=True):
    """The MSE's Hessian 2/n X̃ᵀX̃ over (weights, intercept), X̃ = [features, 1]."""
    design = np.hstack([features, np.ones((len(features), 1))]) if with_ones else features
    return 2 * design.T @ design / len(features)


def _diverges(features, rate, rng, steps=300):
    """Plain descent on a quadratic with this Hessian from a random error: does the error grow?"""
    hessian = _hessian(features)
    error = rng.normal(size=len(hessian))
    start = np.linalg.norm(error)
    for _ in range(steps):
        error = error - rate * hessian @ error
    return np.linalg.norm(error) > start


def _designs(rng):
    heights_like = rng.normal(66.0, 3.5, (90, 1))
    correlated = rng.normal(size=(60, 2)) @ np.array([[1.0, 0.8], [0.0, 0.6]]) + [1.0, -0.5]
    mixed = np.column_stack([rng.normal(0, 0.3, 25), rng.normal(4.0, 2.0, 25), rng.uniform(0, 1, 25)])
    return [heights_like, correlated, mixed]


@exercise("intro-2", "the largest stable learning rate of plain descent, from the Hessian", time_limit_s=10)
def _(answer):
    rng = np.random.default_rng(2102)
    answers = []
    for features in _designs(rng):
        n, p = features.shape
        got = float(as_array(call(answer, features), "your learning rate", shape=()))
        answers.append((features, got))
        curvatures = np.linalg.eigvalsh(_hessian(features))
        expected = 2 / curvatures[-1]
        if abs(got / expected - 1) < 1e-3:
            continue
        where = f"for a design of {n} rows and {p} feature{'s' if p > 1 else ''}"
        no_ones = 2 / np.linalg.eigvalsh(_hessian(features, with_ones=False))[-1]
        mistakes = [
            (got <= 0, "a learning rate is positive"),
            (
                abs(got * curvatures[-1] - 1) < 1e-3,
                "that is where the steep factor 1 − ηλmax is 0; it reaches −1 only at a larger rate",
            ),
            (
                abs(got / expected - 2) < 2e-3,
                "twice the limit: does your Hessian keep the 2 that e² brings down?",
            ),
            (abs(got / expected * n - 1) < 1e-3, f"{n} times too small: the loss is a mean, so H has a 1/n"),
            (
                abs(got * curvatures[0] / 2 - 1) < 1e-3,
                "that is the flattest direction's limit; the steepest one diverges first",
            ),
            (abs(got / no_ones - 1) < 1e-3, "the intercept is a parameter too: give X a column of ones"),
        ]
        name_the_mistake(mistakes, f"({where})")
        side = (
            "past the limit: descent diverges"
            if got > expected
            else "below the limit: a larger rate still converges"
        )
        raise Hint(f"{side} {where} (got {got:.3g})")
    for features, got in answers:  # your limit seen in runs: converges just below, diverges just above
        if _diverges(features, 0.99 * got, rng) or not _diverges(features, 1.01 * got, rng):
            raise Hint(f"close to 2/λmax, but descent does not change course at your rate {got:.4g}")
    return (
        "2/λmax on 3 design matrices (1-3 features, 25-90 rows); 300 steps of descent at 0.99× your "
        "rate converge, at 1.01× they diverge"
    )


# ---------------------------------------------------------------------------------------------
# intro-3: how long the stall lasts


def _simulated_iterations(x, rate, fraction):
    """Iterations of plain descent until the excess along the flattest direction falls by ``fraction``."""
    hessian = 2 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])
    curvatures, vectors = np.linalg.eigh(hessian)
    error, excess_0 = vectors[:, 0].copy(), curvatures[0] / 2  # excess = ½ eᵀHe along it
    for k in range(1, 100_000):
        error -= rate * hessian @ error
        if 0.5 * error @ hessian @ error <= fraction * excess_0:
            return k
    raise RuntimeError("simulation did not finish")


def _counts_as(got, iterations):
    """True when ``got`` is ``iterations`` within 1%, or that count rounded up to a whole step."""
    rounded_up = float(got).is_integer() and -1e-6 < got - iterations < 1
    return abs(got / iterations - 1) < 0.01 or rounded_up


@exercise("intro-3", "iterations the stall lasts, from 1 − ηλmin", time_limit_s=10)
def _(answer):
    rng = np.random.default_rng(2103)
    x_fast = rng.normal(0.0, 1.0, 50)
    x_fast = (x_fast - x_fast.mean()) / x_fast.std()  # standardised: λ = 2 both ways
    cases = [  # (x, learning rate, fraction); the first is slow, the others fast
        (rng.normal(64.0, 4.0, 120), 5e-5, 0.1),
        (x_fast, 0.1, 0.01),
        (rng.normal(2.0, 1.0, 30), 0.04, 0.2),
    ]
    for x, rate, fraction in cases:
        got = float(as_array(call(answer, x, rate, fraction), "your number of iterations", shape=()))
        curvatures = np.linalg.eigvalsh(2 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]]))
        expected = np.log(fraction) / (2 * np.log(1 - rate * curvatures[0]))
        if _counts_as(got, expected):
            continue
        where = f"at η = {rate:g} for x around {round(float(np.mean(x)))}, excess × {fraction:g}"
        approximated = np.log(fraction) / (-2 * rate * curvatures[0])
        steep = np.log(fraction) / (2 * np.log(abs(1 - rate * curvatures[1])))
        mistakes = [
            (got <= 0, "the count is positive: check the sign of the logarithms"),
            (
                float(got).is_integer() and 0 < expected - got < 1,
                f"rounded down: after {got:.0f} iterations the excess has not yet shrunk that much; "
                "round up, or return the count unrounded",
            ),
            (
                _counts_as(got, 2 * expected),
                "twice too many: the excess MSE is quadratic in the error: it shrinks by the factor squared",
            ),
            (
                _counts_as(got, steep),
                "that is the steep direction, gone in a few steps; the stall is along the flattest",
            ),
            (
                _counts_as(got, approximated),
                "close when ηλ is small, off when not: use the exact factor per step, not its first order",
            ),
        ]
        name_the_mistake(mistakes, f"({where})")
        raise Hint(f"wrong {where}: got {got:.4g}, off by {got / expected - 1:+.0%}")
    simulated = [_simulated_iterations(x, rate, fraction) for x, rate, fraction in cases[1:]]
    for (x, rate, fraction), count in zip(cases[1:], simulated, strict=True):
        predicted = float(call(answer, x, rate, fraction))
        if not predicted <= count < predicted + 1:  # a run needs the next whole iteration
            raise Hint(
                f"a simulated run at η = {rate:g} needs {count} iterations, you predict {predicted:.2f}"
            )
    return (
        f"3 cases at rates from {cases[0][1]:g} to {cases[1][1]:g}; the two fast ones agree with "
        f"simulated runs ({simulated[0]} and {simulated[1]} iterations)"
    )


# ---------------------------------------------------------------------------------------------
# intro-4: one Newton step from nested tapes


def _newton_reference(loss_fn, theta):
    variable = tf.Variable(theta, dtype=tf.float64)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            loss = loss_fn(variable)
        gradient = inner.gradient(loss, variable)
    hessian = outer.jacobian(gradient, variable)
    return gradient.numpy(), hessian.numpy()


def _newton_losses(rng):
    design = np.column_stack([rng.normal(5.0, 2.0, 40), rng.normal(size=40), np.ones(40)])
    targets = design @ [1.5, -2.0, 0.5] + rng.normal(0.0, 0.3, 40)
    a_design, b_targets = tf.constant(design), tf.constant(targets)

    def least_squares(theta):  # a quadratic: one step lands on the minimum
        return tf.reduce_mean((tf.linalg.matvec(a_design, theta) - b_targets) ** 2)

    mixing = tf.constant(rng.normal(size=(6, 2)))
    shifts = tf.constant(rng.normal(size=6))

    def smooth(theta):  # not a quadratic: the step is θ − H⁻¹∇L, and H has off-diagonal terms
        return tf.reduce_sum(
            tf.math.softplus(tf.linalg.matvec(mixing, theta) - shifts)
        ) + 0.3 * tf.reduce_sum(theta**2)

    minimum, *_ = np.linalg.lstsq(design, targets, rcond=None)
    return [
        ("a 3-parameter least-squares loss", least_squares, rng.normal(0.0, 3.0, 3), minimum),
        ("a 2-parameter softplus loss", smooth, np.array([0.7, -1.2]), None),
    ]


@exercise("intro-4", "one Newton step with the gradient and Hessian from nested tapes", time_limit_s=20)
def _(answer):
    rng = np.random.default_rng(2104)
    for name, loss_fn, theta, minimum in _newton_losses(rng):
        gradient, hessian = _newton_reference(loss_fn, theta)
        expected = theta - np.linalg.solve(hessian, gradient)
        if minimum is not None and not _close(expected, minimum, 1e-6):  # before the answer is run
            raise Hint("internal error of this checker, not your answer: its Newton step missed the minimum")
        try:
            result = call(answer, loss_fn, theta.copy())
        except Hint as hint:
            if "None" in str(hint):
                raise Hint(
                    f"{hint} (a gradient or Hessian of None: both tapes must watch theta, and the inner "
                    "gradient must be computed inside the outer tape's with block)"
                ) from None
            raise
        got = as_array(result, "your new theta", shape=theta.shape)
        if _close(got, expected, 1e-6):
            continue
        where = f"on {name}"
        mistakes = [
            (
                _close(got, theta + np.linalg.solve(hessian, gradient), 1e-6),
                "the step goes uphill: check its sign",
            ),
            (
                _close(got, theta - gradient, 1e-6),
                "a plain gradient step: Newton's step is shaped by the curvature",
            ),
            (
                _close(got, theta - gradient / hessian.sum(axis=1), 1e-6),
                "your Hessian is a vector: tape.gradient of a vector differentiates its sum; "
                "you need every entry of ∂g_i/∂θ_j",
            ),
            (
                _close(got, theta - gradient / np.diag(hessian), 1e-6),
                "only the Hessian's diagonal was used: the off-diagonal curvature matters too",
            ),
        ]
        name_the_mistake(mistakes, f"({where})")
        raise Hint(f"wrong {where}: got {np.round(got, 4)}, a Newton step gives {np.round(expected, 4)}")
    return (
        "lands on the minimum of a 3-parameter least-squares loss in one step and matches the Newton "
        "step of a non-quadratic softplus loss"
    )
