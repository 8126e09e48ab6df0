"""Checkers for the exercises of vector_spread_example.ipynb (names ``spread-1`` to ``spread-4``).

Each checker runs the reader's function on cases of its own (other dimensions, batch shapes and
configurations than the notebook shows, drawn from a fixed generator) and compares with a
reference it computes: ``spread.py``'s own functions in float64, or the tape. The solutions, with
typical wrong answers, are in ``solutions/vector_spread_example.py``.
"""

from __future__ import annotations

import numpy as np
import spread
import tensorflow as tf

from gdtf.exercises import Hint, as_array, call, exercise


def _unit(rng, shape):
    vectors = rng.normal(size=shape)
    return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)


def _rotation(rng, dims):
    return np.linalg.qr(rng.normal(size=(dims, dims)))[0]


def _pairs_at(angles, dims, rng):
    """Unit vectors u, v (float32) at the given angles (radians), each pair turned at random."""
    u = np.zeros((len(angles), dims))
    v = np.zeros((len(angles), dims))
    u[:, 0] = 1.0
    v[:, 0], v[:, 1] = np.cos(angles), np.sin(angles)
    turns = np.stack([_rotation(rng, dims) for _ in angles])
    turn = lambda x: np.einsum("kij,kj->ki", turns, x)  # noqa: E731
    return tf.constant(turn(u), tf.float32), tf.constant(turn(v), tf.float32)


def _reference_angle(u, v):
    """The stable angle of spread.py in float64, from the very float32 vectors given."""
    return spread.stable_angle(tf.cast(u, tf.float64), tf.cast(v, tf.float64)).numpy()


# Middle angles first (a plain "wrong"), then the ends, 0 and π (radians).
_MIDDLE_ANGLES = np.array([0.3, np.pi / 2, 2.5])
_NEAR_ZERO = np.array([1e-5, 1e-3])
_NEAR_PI = np.pi - _NEAR_ZERO


def _worst(got, expected, bad):
    """'got X rad for a pair Y rad apart' for the worst of the pairs marked bad."""
    gap = np.minimum(expected, np.pi - expected)
    where = np.unravel_index(np.argmax(np.where(bad, np.abs(got - expected) / (1e-6 + gap), 0)), bad.shape)
    return f"got {got[where]:.9g} rad for a pair {expected[where]:.9g} rad apart"


def _misses(got, expected):
    # Judged against the distance to the nearer end, 0 or π: a tiny angle or its
    # complement must come out right to 1e-4 of itself (and float32's 1e-6 rad).
    gap = np.minimum(expected, np.pi - expected)
    return np.abs(got - expected) > 1e-6 + 1e-4 * gap


@exercise("spread-1", "the angle between unit vectors, accurate near 0° and 180°", time_limit_s=30)
def _(answer):
    rng = np.random.default_rng(2101)
    # A batch of shape (2, 5) in 6-D: random pairs, to check the leading axes are kept.
    u6, v6 = (tf.constant(_unit(rng, (2, 5, 6)), tf.float32) for _ in range(2))
    cases = {
        "middle": [_pairs_at(_MIDDLE_ANGLES, 3, rng), (u6, v6)],
        "zero": [_pairs_at(_NEAR_ZERO, 3, rng)],
        "pi": [_pairs_at(_NEAR_PI, 3, rng)],
    }
    results = {}
    for where, pairs in cases.items():
        for u, v in pairs:
            expected = _reference_angle(u, v)
            got = as_array(call(answer, u, v), "your angle", shape=expected.shape)
            results.setdefault(where, []).append((got, expected))
    everything = [pair for pairs in results.values() for pair in pairs]
    got_all = np.concatenate([got.ravel() for got, _ in everything])
    expected_all = np.concatenate([expected.ravel() for _, expected in everything])
    if np.allclose(got_all, np.degrees(expected_all), rtol=1e-3, atol=1e-3):
        raise Hint("the angles are in degrees: return radians")
    if np.allclose(got_all, expected_all / 2, rtol=1e-3, atol=1e-6):
        raise Hint("every angle is half what it should be: a factor of 2 is missing")
    if np.allclose(got_all, np.pi - expected_all, rtol=1e-3, atol=1e-6):
        raise Hint("you return 180° minus the angle: identical vectors must read 0")
    for got, expected in results["middle"]:
        bad = _misses(got, expected)
        if bad.any():
            raise Hint(
                f"wrong at middle angles (neither near 0° nor near 180°): {_worst(got, expected, bad)}"
            )
    ((got, expected),) = results["zero"]
    bad = _misses(got, expected)
    if bad.any():
        raise Hint(
            f"wrong near 0°: {_worst(got, expected, bad)}. In float32 a dot product of "
            "nearly equal unit vectors rounds to 1 and cannot tell such angles apart"
        )
    ((got, expected),) = results["pi"]
    bad = _misses(got, expected)
    if bad.any():
        raise Hint(
            f"wrong near 180°: {_worst(got, expected, bad)}. For nearly opposite vectors "
            "u·v ≈ −1 and |u − v| ≈ 2 cannot tell such angles apart: compute from a "
            "quantity that is small there"
        )
    # The tape: along the sphere, the angle's gradient has length 1 at every angle but 0,
    # and it must stay finite at an exact collision, u = v, where the angle is 0.
    u, v = _pairs_at(np.array([1e-3, 1.0, np.pi - 1e-3, 0.0]), 3, rng)
    v = tf.concat([v[:3], u[3:]], axis=0)  # the last pair: exactly equal vectors
    with tf.GradientTape() as tape:
        tape.watch(v)
        total = tf.reduce_sum(call(answer, u, v))
    gradient = tape.gradient(total, v)
    if gradient is None:
        raise Hint(
            "the tape gave no gradient (None): write the angle with TensorFlow ops "
            "(tf.norm, tf.atan2, ...), not NumPy, and return the tensor itself (no "
            ".numpy(), no tf.stop_gradient), so that the tape can see it"
        )
    raw = np.asarray(gradient)
    if not np.all(np.isfinite(raw[:3])):
        raise Hint("the gradient holds NaN or infinity at angles between 0.06° and 179.94°")
    if not np.all(np.isfinite(raw[3])):
        raise Hint(
            "the gradient is NaN or infinite at an exact collision (u = v): the derivative "
            "of √x at 0, like that of acos at 1, is infinite, and ∞·0 = NaN; keep a length's "
            "square away from 0 (add a tiny number before the square root)"
        )
    along = as_array(spread.tangential(gradient[:3], v[:3]), "the gradient of your angle", shape=(3, 3))
    lengths = np.linalg.norm(along, axis=-1)
    if not np.allclose(lengths, 1.0, rtol=0.02):
        raise Hint(
            f"the values are right but the gradient along the sphere has lengths {lengths.round(3)}"
            " at 0.06°, 57° and 179.94°; it should be 1 at every angle above zero"
        )
    return (
        "radians from 1e-5 rad to π − 1e-5 rad in 3-D, each within 1e-6 rad + 1e-4 of its "
        "distance to 0 or π, and a batch of shape (2, 5) in 6-D; the tape's gradient along "
        "the sphere has length 1 near 0°, at 57° and near 180°, and is finite at u = v"
    )


def _configurations(rng):
    """Batches with known smallest angles: random, a wheel, a close pair, and two whose
    cosines are all negative (a regular tetrahedron, three vectors at 120°)."""
    wheel = spread.evenly_spaced(12, offset=0.1)[None]  # 30° apart
    close = _unit(rng, (2, 9, 4))
    close[:, 3] = np.cos(0.04) * close[:, 5] + np.sin(0.04) * _unit(rng, (2, 4))
    close /= np.linalg.norm(close, axis=-1, keepdims=True)  # one pair a few degrees apart
    tetrahedron = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]) / np.sqrt(3)
    tetrahedra = np.stack([tetrahedron @ _rotation(rng, 3) for _ in range(2)])  # 109.47°
    thirds = np.stack([spread.evenly_spaced(3, offset=offset) for offset in (0.2, 1.1)])
    return [_unit(rng, (3, 7, 3)), _unit(rng, (2, 40, 32)), wheel, close, tetrahedra, thirds]


@exercise("spread-2", "the smallest angle of each configuration from one Gram matrix", time_limit_s=30)
def _(answer):
    rng = np.random.default_rng(2102)
    for vectors in _configurations(rng):
        batch = tf.constant(vectors, tf.float32)
        expected = spread.smallest_angle(vectors)  # degrees, float64, the stable way
        raw = call(answer, batch)
        try:
            values = np.asarray(raw.numpy() if hasattr(raw, "numpy") else raw, dtype=np.float64)
        except (TypeError, ValueError):
            values = None
        if values is not None and values.shape == expected.shape:
            if np.isnan(values).any() or np.all(values < 1e-2):
                raise Hint(
                    "0° or NaN: the Gram matrix's diagonal holds each vector with itself "
                    "(cosine 1): keep it out of the search"
                )
        got = as_array(raw, "your smallest angles", shape=expected.shape)
        if np.allclose(got, expected, atol=1e-3):
            continue
        if np.allclose(got, np.radians(expected), rtol=1e-3):
            raise Hint("the angles are in radians: return degrees")
        largest = np.degrees(np.arccos(np.min(vectors @ np.swapaxes(vectors, 1, 2), axis=(1, 2))))
        if np.allclose(got, largest, atol=1e-2):
            raise Hint("that is the largest angle of each configuration, not the smallest")
        if np.allclose(got, np.minimum(expected, 90.0), atol=1e-2):
            raise Hint(
                f"90° where the smallest angle is {expected.max():.2f}° "
                f"({vectors.shape[1]} vectors in {vectors.shape[2]}-D): 0 is not below every "
                "cosine, spread-out vectors can have all cosines negative: remove the diagonal "
                "(or put a value below -1 there), do not set it to 0"
            )
        worst = int(np.argmax(np.abs(got - expected)))
        raise Hint(
            f"configuration {worst} of a batch of {len(expected)} ({vectors.shape[1]} vectors "
            f"in {vectors.shape[2]}-D): got {got[worst]:.3f}°, expected {expected[worst]:.3f}°"
        )
    return (
        "to 0.001° on batches of random vectors in 3-D and 32-D, a 12-spoke wheel (30°), "
        "4-D configurations with one pair a few degrees apart, regular tetrahedra (109.47°) "
        "and three vectors at 120°"
    )


def _riesz_energy(vectors, exponent):
    """The checker's reference: sum over pairs i < j of 1/d^s, from the Gram matrix."""
    squared = spread.squared_distances(vectors)
    upper = tf.linalg.band_part(tf.ones_like(squared), 0, -1) - tf.eye(squared.shape[-1], dtype=squared.dtype)
    return tf.reduce_sum(upper * squared ** (-exponent / 2))


def _entry(got, expected):
    """The worst entry, as plain ints, with both values to 9 digits and the relative error."""
    row, column = (int(i) for i in np.unravel_index(np.argmax(np.abs(got - expected)), got.shape))
    a, b = got[row, column], expected[row, column]
    relative = abs(a - b) / max(abs(b), 1e-300)
    message = f"entry ({row}, {column}) is {a:.9g}, expected {b:.9g} (relative error {relative:.1e})"
    if relative < 1e-4:
        message += ": float32 rounding? keep float64 throughout"
    return message


@exercise("spread-3", "the Riesz s-energy's gradient, derived by hand", time_limit_s=30)
def _(answer):
    rng = np.random.default_rng(2103)
    for count, dims, exponent in ((5, 3, 1.0), (9, 4, 2.0), (7, 2, 6.0)):
        vectors = tf.constant(_unit(rng, (count, dims)))
        with tf.GradientTape() as tape:
            tape.watch(vectors)
            energy = _riesz_energy(vectors, exponent)
        expected = tape.gradient(energy, vectors).numpy()
        got = as_array(call(answer, vectors, exponent), "your gradient", shape=expected.shape)
        if np.allclose(got, expected, rtol=1e-6, atol=1e-9):
            continue
        case = f"at s = {exponent:g} ({count} vectors in {dims}-D)"
        if np.allclose(got, -expected, rtol=1e-6):
            raise Hint(f"the sign is flipped {case}: the energy grows as two vectors come closer")
        if np.allclose(got, 2 * expected, rtol=1e-6):
            raise Hint(f"a factor of 2 too large {case}: is each pair counted from both ends?")
        if exponent != 1 and np.allclose(got, expected / exponent, rtol=1e-6):
            raise Hint(f"too small by the factor s {case}: the power rule brings s down")
        if np.allclose(got, spread.tangential(expected, vectors).numpy(), rtol=1e-6, atol=1e-9):
            raise Hint(
                f"only the tangential part {case}: the exercise asks for the plain gradient in "
                "R^D (the descent loop removes the radial part itself)"
            )
        difference = tf.constant(got - expected)
        if np.allclose(
            spread.tangential(difference, vectors).numpy(), 0, atol=1e-9 * (1 + np.abs(expected).max())
        ):
            raise Hint(
                f"your gradient differs {case} by a part along each vector only: did you use "
                "|u − v|² = 2 − 2u·v, which holds only on the sphere? The gradient in R^D "
                "needs |u|² + |v|² − 2u·v"
            )
        raise Hint(f"wrong {case}: {_entry(got, expected)}")
    return "matches the tape's gradient to 1e-6 at s = 1, 2 and 6, in 2-D, 3-D and 4-D"


def _linear_loss(weights):
    return lambda vectors: tf.reduce_sum(weights * vectors)


def _quadratic_loss(matrix):
    return lambda vectors: tf.reduce_sum(vectors * tf.matmul(vectors, matrix))


def _through_normalise(loss_fn, vectors):
    """The checker's reference: the tape's gradient of loss_fn(v / |v|) at v, float64."""
    with tf.GradientTape() as tape:
        tape.watch(vectors)
        loss = loss_fn(vectors / tf.norm(vectors, axis=-1, keepdims=True))
    return tape.gradient(loss, vectors).numpy()


def _plain_gradient(loss_fn, vectors):
    with tf.GradientTape() as tape:
        tape.watch(vectors)
        loss = loss_fn(vectors)
    return tape.gradient(loss, vectors)


@exercise("spread-4", "the tangential gradient, from the tape through the normalisation", time_limit_s=30)
def _(answer):
    rng = np.random.default_rng(2104)
    losses = {  # the Coulomb energy first: it tells the wrong answers apart
        "the Coulomb energy": spread.coulomb_energy,
        "a linear loss": _linear_loss(tf.constant(rng.normal(size=(6, 4)))),
        "a quadratic loss": _quadratic_loss(tf.constant(rng.normal(size=(4, 4)))),
    }
    for lengths in ("unit", "0.5 to 2"):
        for name, loss_fn in losses.items():
            unit = _unit(rng, (6, 4))
            scale = 1.0 if lengths == "unit" else rng.uniform(0.5, 2.0, size=(6, 1))
            vectors = tf.constant(unit * scale)  # a constant: the tape must be told to watch it
            case = f"{name} at vectors of length {lengths}"
            expected = _through_normalise(loss_fn, vectors)
            if lengths == "unit":  # the claim of the exercise: there it is §2's gradient
                tangential = spread.tangential(_plain_gradient(loss_fn, vectors), vectors).numpy()
                if not np.allclose(expected, tangential, rtol=1e-9, atol=1e-12):
                    raise RuntimeError(f"the checker's reference is not tangential for {case}")
            got = call(answer, loss_fn, vectors)
            if got is None:
                raise Hint(
                    f"None for {case}: the tape records operations on a tf.constant only if "
                    "it was asked to watch it"
                )
            got = as_array(got, "your gradient", shape=expected.shape)
            if np.allclose(got, expected, rtol=1e-6, atol=1e-9):
                continue
            plain = _plain_gradient(loss_fn, vectors)
            if np.allclose(got, plain.numpy(), rtol=1e-6):
                raise Hint(
                    f"for {case}, your gradient has a part along each vector: that is the "
                    "gradient of loss_fn(v), not of loss_fn(v / |v|)"
                )
            if np.allclose(got, -expected, rtol=1e-6):
                raise Hint(f"for {case} the sign is flipped: the gradient, not the descent direction")
            if lengths != "unit":
                projected = spread.tangential(plain, vectors / tf.norm(vectors, axis=-1, keepdims=True))
                if np.allclose(got, projected.numpy(), rtol=1e-6, atol=1e-9):
                    raise Hint(
                        f"for {case} you projected the gradient of loss_fn at v; right at unit "
                        "vectors, but the tape should differentiate loss_fn(v / |v|) itself"
                    )
                at_unit = _through_normalise(loss_fn, vectors / tf.norm(vectors, axis=-1, keepdims=True))
                if np.allclose(got, at_unit, rtol=1e-6, atol=1e-9):
                    raise Hint(
                        f"for {case}: right direction, wrong length; the chain rule through "
                        "v / |v| divides each row by its length |v|: normalise inside the tape"
                    )
            raise Hint(f"wrong for {case}: {_entry(got, expected)}")
    return (
        "the tape's gradient of loss(v / |v|) to 1e-6, for the Coulomb energy, a linear loss "
        "and a quadratic loss, at unit vectors (where it is §2's tangential gradient) and "
        "at vectors of lengths 0.5 to 2, on constant tensors in 4-D"
    )
