"""Checkers for the exercises of spherical_codes.ipynb (names ``codes-1`` to ``codes-3``).

Each checker runs the reader's function on cases of its own (other sizes, dimensions and
exponents than the notebook shows, drawn from a fixed generator) and compares with a reference
it computes: ``spread.py``'s functions in float64, a construction, or the tape. The solutions,
with typical wrong answers, are in ``solutions/spherical_codes.py``.
"""

from __future__ import annotations

import math

import numpy as np
import spread
import tensorflow as tf

from gdtf.exercises import Hint, as_array, call, exercise


def _unit(rng, shape):
    vectors = rng.normal(size=shape)
    return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)


def _number(value, what):
    return float(as_array(value, what, shape=()))


@exercise("codes-1", "the log Riesz energy, a soft-min that stays finite", time_limit_s=30)
def _(answer):
    rng = np.random.default_rng(2111)
    cases = [(_unit(rng, (6, 3)), s) for s in (1.0, 16.0)]
    cases += [(_unit(rng, (20, 5)), s) for s in (4096.0, 65536.0)]
    for vectors, exponent in cases:
        points = tf.constant(vectors)
        # spread.log_riesz_energy sums over ordered pairs, each pair twice: log(2)/s more.
        log_energy = spread.log_riesz_energy(points, exponent).numpy().item()
        expected = log_energy - math.log(2) / exponent
        case = f"s = {exponent:g} ({len(vectors)} vectors in {vectors.shape[1]}-D)"
        raw = call(answer, points, exponent)
        try:
            value = float(np.asarray(raw.numpy() if hasattr(raw, "numpy") else raw, np.float64))
        except (TypeError, ValueError):
            value = _number(raw, "your energy")  # raises the right hint
        if not math.isfinite(value):
            if exponent == 1:
                raise Hint(f"not finite at {case}: is a vector paired with itself (distance 0)?")
            raise Hint(
                f"not finite at {case}: 1/d^s overflows float64 at large s; sum in logs"
                " (log-sum-exp) so that no term is ever formed"
            )
        if abs(value - expected - math.log(2) / exponent) < 1e-9 * max(1, abs(expected)):
            raise Hint(f"too large by log(2)/s at {case}: each pair counted twice")
        if abs(value - expected) > 1e-9 * max(1, abs(expected)):
            raise Hint(f"wrong at {case}: got {value:.9g}")
    # The soft-min's sandwich at the largest s: -log d_min <= value <= that + log(pairs)/s.
    vectors, exponent = cases[-1]
    least = -math.log(2 * math.sin(math.radians(spread.smallest_angle(vectors)) / 2))
    if not least - 1e-9 <= value <= least + math.log(190) / exponent + 1e-9:
        raise Hint(f"at s = {exponent:g} the value is not within log(190)/s of -log d_min")
    return (
        "to 1e-9 relative at s = 1 and 16 (6 vectors in 3-D) and 4,096 and 65,536 (20 in 5-D); "
        f"at s = 65,536 it is within log(190)/s = {math.log(190) / 65536:.1e} of −log d_min = "
        f"{least:.4f}: the soft-min"
    )


def _simplex_angle(count: int) -> float:
    """The smallest angle (degrees) of the regular simplex: count unit vectors in R^count,
    the standard basis centred on its mean, measured with spread.smallest_angle."""
    centred = np.eye(count) - 1.0 / count
    return spread.smallest_angle(centred / np.linalg.norm(centred, axis=1, keepdims=True))


@exercise("codes-2", "the simplex bound: the largest smallest angle in any dimension")
def _(answer):
    counts = [2, 3, 4, 5, 7, 12, 33, 100]
    got = np.array([_number(call(answer, count), f"your bound for N = {count}") for count in counts])
    reached = np.array([_simplex_angle(count) for count in counts])
    if np.allclose(got, np.radians(reached), rtol=1e-6):
        raise Hint("the bounds are in radians: return degrees")
    if np.allclose(got[2:], 90.0):
        raise Hint(
            "90° is Rankin's bound for N > D + 1 in D dimensions; here the dimension is free, "
            "so the bound must depend on N alone"
        )
    one_too_many = np.degrees(np.arccos(-1 / np.array(counts, float)))
    if np.allclose(got, one_too_many, rtol=1e-6):
        raise Hint("close, but each vector has N - 1 others: recount the pairs in |Σ v|²")
    for count, value, simplex in zip(counts, got, reached, strict=True):
        if value < simplex - 1e-6:
            raise Hint(
                f"N = {count}: {value:.4f}° is not a bound, the regular simplex has smallest "
                f"angle {simplex:.4f}°"
            )
        if value > simplex + 1e-6:
            raise Hint(f"N = {count}: {value:.4f}° is a bound, but not the best one: is any step loose?")
    return (
        "for N = 2 to 100: equal, to 1e-6°, to the smallest angle of the regular simplex the "
        "checker builds, so the bound is attained and cannot be improved"
    )


def _curve_reference(loss_fn, vectors, direction):
    """d²/dt² loss(normalise(v + t w)) at 0, from the Hessian: w·Hw − Σ|w_i|² (g_i·v_i)."""
    points = tf.constant(vectors)
    with tf.GradientTape() as outer:
        outer.watch(points)
        with tf.GradientTape() as inner:
            inner.watch(points)
            loss = loss_fn(points)
        gradient = inner.gradient(loss, points)
    size = vectors.size
    zero = tf.UnconnectedGradients.ZERO  # a linear loss's gradient does not depend on v
    jacobian = outer.jacobian(gradient, points, unconnected_gradients=zero)
    hessian = tf.reshape(jacobian, (size, size)).numpy()
    flat = direction.ravel()
    euclidean = float(flat @ hessian @ flat)
    sphere = -float(np.sum(np.sum(direction**2, axis=1) * np.sum(gradient.numpy() * vectors, axis=1)))
    slope = float(np.sum(gradient.numpy() * direction))
    return euclidean + sphere, euclidean, slope


@exercise("codes-3", "the second derivative along the sphere, by nested tapes", time_limit_s=60)
def _(answer):
    rng = np.random.default_rng(2113)
    weights = tf.constant(rng.normal(size=(5, 3)))
    cases = {
        "the Coulomb energy (7 vectors, 3-D)": (spread.coulomb_energy, (7, 3)),
        "a linear loss (5 vectors, 3-D)": (lambda v: tf.reduce_sum(weights * v), (5, 3)),
        "the log Riesz energy at s = 8 (6 vectors, 4-D)": (
            lambda v: tf.reduce_sum(spread.log_riesz_energy(v, 8.0)),
            (6, 4),
        ),
    }
    for name, (loss_fn, shape) in cases.items():
        vectors = _unit(rng, shape)
        direction = rng.normal(size=shape)
        direction -= np.sum(direction * vectors, axis=1, keepdims=True) * vectors  # tangent
        expected, euclidean, slope = _curve_reference(loss_fn, vectors, direction)
        raw = call(answer, loss_fn, tf.constant(vectors), tf.constant(direction))
        if raw is None:
            raise Hint(
                f"None for {name}: the outer tape saw no path from t to the slope. Does it "
                "watch t, and does your path stay on the sphere (on a straight line a linear "
                "loss has a constant slope)?"
            )
        got = _number(raw, f"your second derivative for {name}")
        tolerance = 1e-4 * max(1.0, abs(expected))
        if abs(got - expected) <= tolerance:
            continue
        if abs(got - euclidean) <= tolerance:
            raise Hint(
                f"for {name} you followed a straight line v + t·w, which leaves the sphere: "
                "the loss must be evaluated on the curve that the descent step follows"
            )
        if abs(got - slope) <= tolerance:
            raise Hint(f"for {name} that is the first derivative along the curve, not the second")
        raise Hint(f"wrong for {name}: got {got:.6g}, expected {expected:.6g}")
    return (
        "to 1e-4 relative for the Coulomb energy in 3-D, a linear loss (all its curvature from "
        "the sphere) and the log Riesz energy at s = 8 in 4-D, in random tangent directions"
    )
