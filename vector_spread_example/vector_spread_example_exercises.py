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


# Tiny angles, the middle, and nearly opposite vectors (radians).
_HARD_ANGLES = np.array([1e-5, 1e-3, 0.3, np.pi / 2, 2.5, np.pi - 1e-3, np.pi - 1e-5])


@exercise("spread-1", "the angle between unit vectors, accurate near 0° and 180°", time_limit_s=30)
def _(answer):
    rng = np.random.default_rng(2101)
    cases = [_pairs_at(_HARD_ANGLES, 3, rng)]
    # A batch of shape (2, 5) in 6-D: random pairs, to check the leading axes are kept.
    u6, v6 = (tf.constant(_unit(rng, (2, 5, 6)), tf.float32) for _ in range(2))
    cases.append((u6, v6))
    for u, v in cases:
        expected = _reference_angle(u, v)
        got = as_array(call(answer, u, v), "your angle", shape=expected.shape)
        if np.allclose(got, np.degrees(expected), rtol=1e-3, atol=1e-3):
            raise Hint("the angles are in degrees: return radians")
        if np.allclose(got, expected / 2, rtol=1e-3, atol=1e-6):
            raise Hint("every angle is half what it should be: a factor of 2 is missing")
        if np.allclose(got, np.pi - expected, rtol=1e-3, atol=1e-6):
            raise Hint("you return 180° minus the angle: identical vectors must read 0")
        # Judged against the distance to the nearer end, 0 or π: a tiny angle or its
        # complement must come out right to 1e-4 of itself (and float32's 1e-6 rad).
        error = np.abs(got - expected)
        gap = np.minimum(expected, np.pi - expected)
        bad = error > 1e-6 + 1e-4 * gap
        if bad.any():
            where = np.unravel_index(np.argmax(np.where(bad, error / (1e-6 + gap), 0)), bad.shape)
            message = f"got {got[where]:.9g} rad for a pair {expected[where]:.9g} rad apart"
            near_end = gap[where] < 0.01
            if near_end:
                raise Hint(
                    f"wrong near 0° or 180°: {message}. In float32 a dot product cannot "
                    "tell such angles apart: work from the vectors, not their dot product"
                )
            raise Hint(f"wrong: {message}")
    # The tape: along the sphere, the angle's gradient has length 1 at every angle but 0.
    u, v = _pairs_at(np.array([1e-3, 1.0, np.pi - 1e-3]), 3, rng)
    with tf.GradientTape() as tape:
        tape.watch(v)
        total = tf.reduce_sum(call(answer, u, v))
    gradient = tape.gradient(total, v)
    if gradient is None:
        raise Hint(
            "the tape gave no gradient (None): write the angle with TensorFlow ops "
            "(tf.norm, tf.atan2, ...), not NumPy, so that the tape can see it"
        )
    along = as_array(spread.tangential(gradient, v), "the gradient of your angle", shape=v.shape)
    lengths = np.linalg.norm(along, axis=-1)
    if not np.allclose(lengths, 1.0, rtol=0.02):
        raise Hint(
            f"the values are right but the gradient along the sphere has lengths {lengths.round(3)}"
            " at 0.06°, 57° and 179.94°; it should be 1 at every angle above zero"
        )
    return (
        "radians from 1e-5 rad to π − 1e-5 rad in 3-D, each within 1e-6 rad + 1e-4 of its "
        "distance to 0 or π, and a batch of shape (2, 5) in 6-D; the tape's gradient along "
        "the sphere has length 1 near 0°, at 57° and near 180°"
    )


def _configurations(rng):
    """Batches with known smallest angles: random, a wheel, a close pair."""
    wheel = spread.evenly_spaced(12, offset=0.1)[None]  # 30° apart
    close = _unit(rng, (2, 9, 4))
    close[:, 3] = np.cos(0.04) * close[:, 5] + np.sin(0.04) * _unit(rng, (2, 4))
    close /= np.linalg.norm(close, axis=-1, keepdims=True)  # one pair a few degrees apart
    return [_unit(rng, (3, 7, 3)), _unit(rng, (2, 40, 32)), wheel, close]


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
        if np.allclose(got, np.radians(expected), rtol=1e-3):
            raise Hint("the angles are in radians: return degrees")
        largest = np.degrees(np.arccos(np.min(vectors @ np.swapaxes(vectors, 1, 2), axis=(1, 2))))
        if np.allclose(got, largest, atol=1e-2):
            raise Hint("that is the largest angle of each configuration, not the smallest")
        if not np.allclose(got, expected, atol=1e-3):
            worst = int(np.argmax(np.abs(got - expected)))
            raise Hint(
                f"configuration {worst} of a batch of {len(expected)} ({vectors.shape[1]} vectors "
                f"in {vectors.shape[2]}-D): got {got[worst]:.3f}°, expected {expected[worst]:.3f}°"
            )
    return (
        "to 0.001° on batches of random vectors in 3-D and 32-D, a 12-spoke wheel (30°) "
        "and 4-D configurations with one pair a few degrees apart"
    )


def _riesz_energy(vectors, exponent):
    """The checker's reference: sum over pairs i < j of 1/d^s, from the Gram matrix."""
    squared = spread.squared_distances(vectors)
    upper = tf.linalg.band_part(tf.ones_like(squared), 0, -1) - tf.eye(squared.shape[-1], dtype=squared.dtype)
    return tf.reduce_sum(upper * squared ** (-exponent / 2))


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
        worst = np.unravel_index(np.argmax(np.abs(got - expected)), got.shape)
        raise Hint(f"wrong {case}: entry {worst} is {got[worst]:.4g}, the tape says {expected[worst]:.4g}")
    return "matches the tape's gradient to 1e-6 at s = 1, 2 and 6, in 2-D, 3-D and 4-D"


def _linear_loss(weights):
    return lambda vectors: tf.reduce_sum(weights * vectors)


def _quadratic_loss(matrix):
    return lambda vectors: tf.reduce_sum(vectors * tf.matmul(vectors, matrix))


@exercise("spread-4", "the tangential (Riemannian) gradient from the tape", time_limit_s=30)
def _(answer):
    rng = np.random.default_rng(2104)
    losses = {
        "a linear loss": _linear_loss(tf.constant(rng.normal(size=(6, 4)))),
        "a quadratic loss": _quadratic_loss(tf.constant(rng.normal(size=(4, 4)))),
        "the Coulomb energy": spread.coulomb_energy,
    }
    for name, loss_fn in losses.items():
        vectors = tf.constant(_unit(rng, (6, 4)))  # a constant: the tape must be told to watch it
        with tf.GradientTape() as tape:
            tape.watch(vectors)
            loss = loss_fn(vectors)
        full = tape.gradient(loss, vectors)
        expected = spread.tangential(full, vectors).numpy()
        got = call(answer, loss_fn, vectors)
        if got is None:
            raise Hint(
                f"None for {name}: the tape records operations on a tf.constant only if it "
                "was asked to watch it"
            )
        got = as_array(got, "your gradient", shape=expected.shape)
        if np.allclose(got, expected, rtol=1e-6, atol=1e-9):
            continue
        radial = np.sum(got * vectors.numpy(), axis=-1)
        full_radial = np.sum(full.numpy() * vectors.numpy(), axis=-1)
        if np.allclose(got, full.numpy(), rtol=1e-6):
            raise Hint(
                f"for {name}, your gradient still has its radial part (along each vector): "
                "that part only changes the vectors' lengths, and the sphere fixes them"
            )
        if np.allclose(radial, 2 * full_radial, rtol=1e-6, atol=1e-9):
            raise Hint(f"for {name} the radial part doubled instead of vanishing: check the sign")
        if np.allclose(got, -expected, rtol=1e-6):
            raise Hint(f"for {name} the sign is flipped: the gradient, not the descent direction")
        worst = np.unravel_index(np.argmax(np.abs(got - expected)), got.shape)
        raise Hint(f"wrong for {name}: entry {worst} is {got[worst]:.4g}, expected {expected[worst]:.4g}")
    return (
        "for a linear loss, a quadratic loss and the Coulomb energy on constant tensors in 4-D: "
        "the tape's gradient with each vector's radial part removed, to 1e-6"
    )
