"""Checkers for the exercises of spherical_codes.ipynb (names ``codes-1`` to ``codes-3``).

Each checker runs the reader's function on cases of its own (other sizes, dimensions and
exponents than the notebook shows, drawn from a fixed generator) and compares with a reference
it computes: ``spread.py``'s functions in float64, a construction, or the tape. The solutions,
with typical wrong answers, are in ``solutions/spherical_codes.py``.
"""

from __future__ import annotations

import numpy as np
import spread
import tensorflow as tf

from gdtf.exercises import Hint, as_array, call, exercise


def _unit(rng, shape):
    vectors = rng.normal(size=shape)
    return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)


def _number(value, what):
    return float(as_array(value, what, shape=()))


def _reference_weights(vectors, exponent):
    """Softmax over pairs i < j of -s log d_ij, in float64 NumPy, both (i, j) and (j, i) filled."""
    count = len(vectors)
    rows, columns = np.triu_indices(count, k=1)
    logits = -exponent * np.log(np.linalg.norm(vectors[rows] - vectors[columns], axis=1))
    shares = np.exp(logits - logits.max())
    shares /= shares.sum()
    weights = np.zeros((count, count))
    weights[rows, columns] = weights[columns, rows] = shares
    return weights


def _octahedron():
    return np.concatenate([np.eye(3), -np.eye(3)])


@exercise("codes-1", "the soft-min's pair weights: which pairs its gradient pushes", time_limit_s=30)
def _(answer):
    rng = np.random.default_rng(2111)
    cases = [(_unit(rng, (6, 3)), s, "6 vectors in 3-D") for s in (1.0, 16.0)]
    cases += [(_unit(rng, (20, 5)), s, "20 vectors in 5-D") for s in (4096.0, 65536.0)]
    cases += [(_octahedron() @ np.linalg.qr(rng.normal(size=(3, 3)))[0], 65536.0, "an octahedron")]
    for vectors, exponent, name in cases:
        count = len(vectors)
        expected = _reference_weights(vectors, exponent)
        case = f"s = {exponent:g} ({name})"
        got = call(answer, tf.constant(vectors), exponent)
        try:
            values = np.asarray(got.numpy() if hasattr(got, "numpy") else got, dtype=np.float64)
        except (TypeError, ValueError):
            values = None
        if values is not None and values.shape == (count, count) and not np.all(np.isfinite(values)):
            if exponent > 16:
                raise Hint(
                    f"NaN or infinity at {case}: d^-s overflows float64 at large s; work with "
                    "-s log d and a softmax, which subtracts the largest before exponentiating"
                )
            raise Hint(f"NaN or infinity at {case}: is a vector paired with itself (distance 0)?")
        got = as_array(got, f"your weights at {case}", shape=(count, count))
        if np.allclose(got, expected, rtol=1e-6, atol=1e-9):
            continue
        if np.abs(np.diag(got)).max() > 1e-9:
            raise Hint(f"the diagonal is not 0 at {case}: a vector paired with itself is no pair")
        if np.allclose(got, expected / 2, rtol=1e-6, atol=1e-9):
            raise Hint(
                f"half the weights at {case}: the softmax ran over every (i, j) and (j, i), so "
                "each pair was counted twice; the weights of the pairs i < j should sum to 1"
            )
        if np.allclose(got, np.triu(expected), rtol=1e-6, atol=1e-9):
            raise Hint(f"only pairs i < j are filled at {case}: the matrix is symmetric, fill (j, i) too")
        if np.allclose(got, _reference_weights(vectors, -exponent), rtol=1e-6, atol=1e-9):
            raise Hint(f"the weight goes to the farthest pairs at {case}: closer pairs must weigh more")
        row, column = (int(i) for i in np.unravel_index(np.argmax(np.abs(got - expected)), got.shape))
        raise Hint(
            f"wrong at {case}: entry ({row}, {column}) is {got[row, column]:.9g}, "
            f"expected {expected[row, column]:.9g}"
        )
    closest = _reference_weights(*cases[3][:2]).max()
    octahedron = _reference_weights(*cases[4][:2])
    edges = octahedron[np.isclose(np.abs(cases[4][0] @ cases[4][0].T), 0, atol=1e-9)]
    if not (len(edges) == 24 and np.allclose(edges, 1 / 12)):
        raise RuntimeError("the checker's octahedron does not have 12 edges at 1/12")
    return (
        "to 1e-6 at s = 1 and 16 (6 vectors in 3-D), 4,096 and 65,536 (20 in 5-D) and on an "
        f"octahedron at s = 65,536; there the closest pair of the 20 vectors holds {closest:.3f} "
        "of the weight, and each of the octahedron's 12 edges 1/12: the soft-min's gradient "
        "pushes the closest pairs only, like loss 1"
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
    # float32 holds an angle near 110° to about 1e-5°; the nearest wrong formula,
    # arccos(-1/N), is still 0.0058° away at N = 100.
    for count, value, simplex in zip(counts, got, reached, strict=True):
        if value < simplex - 1e-4:
            raise Hint(
                f"N = {count}: {value:.6f}° is not a bound, the regular simplex has smallest "
                f"angle {simplex:.6f}°"
            )
        if value > simplex + 1e-4:
            raise Hint(f"N = {count}: {value:.6f}° is a bound, but not the best one: is any step loose?")
    return (
        "for N = 2 to 100: equal, to 1e-4°, to the smallest angle of the regular simplex the "
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
        try:
            raw = call(answer, loss_fn, tf.constant(vectors), tf.constant(direction))
        except Hint as hint:
            if "float" in str(hint) and ("dtype" in str(hint) or "double" in str(hint)):
                raise Hint(f"a dtype mismatch: make t float64, like the vectors ({hint})") from None
            raise
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
