"""Solutions to the exercises of vector_spread_example/vector_spread_example.ipynb.

For each exercise: a model answer, then typical wrong answers with the mistake each stands for.
tests/test_solutions.py proves that every checker accepts the first and explains the others.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from gdtf.exercises import Solution, Wrong

# --- spread-1: the angle between unit vectors, accurate near 0° and 180° ------------------


def stable_angles(u, v):
    # |u - v| and |u + v| are the two legs of a right triangle (u - v is perpendicular to
    # u + v for unit vectors) and the angle at its corner is half the angle between u and v.
    # Both lengths come from differences of the vectors themselves, never from a dot product
    # rounded near 1, so they stay accurate for tiny and for nearly opposite pairs.
    return 2.0 * tf.atan2(length(u - v), length(u + v))


def length(differences):
    # The derivative of sqrt at 0 is infinite, and infinity times a zero difference is NaN:
    # at an exact collision (u = v) tf.norm's gradient is NaN. A floor far below any square
    # that float32 unit vectors can hold makes it 0 there and changes no other value.
    tiny = np.finfo(differences.dtype.as_numpy_dtype).tiny
    return tf.sqrt(tf.reduce_sum(tf.square(differences), axis=-1) + tiny)


def stable_angles_unfloored(u, v):
    # Wrong: right values, but tf.norm's gradient is NaN at an exact collision (u = v).
    return 2.0 * tf.atan2(tf.norm(u - v, axis=-1), tf.norm(u + v, axis=-1))


def angles_by_asin(u, v):
    # Wrong near 180°: |u - v| is close to 2 there and asin is flat near 1.
    return 2.0 * tf.asin(tf.clip_by_value(length(u - v) / 2.0, 0.0, 1.0))


def angles_without_axis(u, v):
    # Wrong: tf.norm without axis=-1 takes one norm over the whole batch.
    return 2.0 * tf.atan2(tf.norm(u - v), tf.norm(u + v)) + 0.0 * tf.reduce_sum(u, axis=-1)


def angles_stopped(u, v):
    # Wrong: right values, but stop_gradient hides them from the tape.
    return tf.stop_gradient(stable_angles(u, v))


def angles_by_acos(u, v):
    # Wrong: the dot product of two float32 unit vectors 1e-5 rad apart rounds to exactly 1.
    cosines = tf.clip_by_value(tf.reduce_sum(u * v, axis=-1), -1.0, 1.0)
    return tf.acos(cosines)


def half_angles(u, v):
    # Wrong: atan2 of the two lengths is the half angle.
    return tf.atan2(tf.norm(u - v, axis=-1), tf.norm(u + v, axis=-1))


def angles_in_numpy(u, v):
    # Wrong: right values, but NumPy is invisible to the tape, so there is no gradient.
    u, v = np.asarray(u), np.asarray(v)
    apart = np.linalg.norm(u - v, axis=-1)
    return 2.0 * np.arctan2(apart, np.linalg.norm(u + v, axis=-1))


# --- spread-2: the smallest angle of each configuration from one Gram matrix -------------


def smallest_angles(vectors):
    # One matmul gives every dot product of a configuration: (B, N, N).
    cosines = tf.matmul(vectors, vectors, transpose_b=True)
    # The diagonal is each vector with itself (cosine 1): replace it by -1, below any
    # cosine of two different vectors, so that it is never the largest.
    cosines = tf.linalg.set_diag(cosines, -tf.ones(tf.shape(cosines)[:-1], cosines.dtype))
    # The smallest angle belongs to the largest cosine; clip in case rounding passes 1.
    largest = tf.clip_by_value(tf.reduce_max(cosines, axis=[-2, -1]), -1.0, 1.0)
    return tf.acos(largest) * 180.0 / np.pi


def smallest_angles_with_diagonal(vectors):
    # Wrong: the diagonal's cosine 1 always wins, so every configuration reads 0°.
    cosines = tf.matmul(vectors, vectors, transpose_b=True)
    largest = tf.clip_by_value(tf.reduce_max(cosines, axis=[-2, -1]), -1.0, 1.0)
    return tf.acos(largest) * 180.0 / np.pi


def smallest_angles_diagonal_zeroed(vectors):
    # Wrong: a diagonal set to 0 is not below every cosine. Spread-out vectors can have
    # all cosines negative (a regular tetrahedron: -1/3), and then 0 wins: 90°.
    cosines = tf.matmul(vectors, vectors, transpose_b=True) * (1.0 - tf.eye(vectors.shape[-2]))
    largest = tf.clip_by_value(tf.reduce_max(cosines, axis=[-2, -1]), -1.0, 1.0)
    return tf.acos(largest) * 180.0 / np.pi


def smallest_angles_in_radians(vectors):
    # Wrong: the unit. The notebook reports angles in degrees.
    return smallest_angles(vectors) * np.pi / 180.0


def smallest_over_the_batch(vectors):
    # Wrong: one minimum over the whole batch instead of one per configuration.
    return tf.reduce_min(smallest_angles(vectors))


# --- spread-3: the Riesz s-energy's gradient, derived by hand ----------------------------


def riesz_gradient(vectors, exponent):
    # E = sum over pairs i < j of d_ij^-s, with d_ij^2 = |v_i - v_j|^2. For one pair,
    # d(d^-s)/dv_i = -s d^(-s-2) (v_i - v_j), and v_i sits in the pairs (i, j) for every j:
    #   dE/dv_i = -s sum_j d_ij^(-s-2) (v_i - v_j) = -s (v_i sum_j w_ij - (W V)_i),
    # with w_ij = d_ij^(-s-2) and w_ii = 0: the Gram matrix again, no N x N x D array.
    vectors = tf.convert_to_tensor(vectors)
    gram = tf.matmul(vectors, vectors, transpose_b=True)
    norms = tf.linalg.diag_part(gram)
    squared = norms[:, None] + norms[None, :] - 2.0 * gram
    squared = tf.linalg.set_diag(squared, tf.fill(tf.shape(norms), tf.constant(np.inf, squared.dtype)))
    weights = squared ** (-(exponent + 2) / 2)  # inf^(negative) = 0: no self-pair
    pull = tf.reduce_sum(weights, axis=-1, keepdims=True)
    return -exponent * (vectors * pull - tf.matmul(weights, vectors))


def riesz_gradient_flipped(vectors, exponent):
    # Wrong: the sign. Moving v_i away from v_j lowers the energy, so the gradient points
    # towards the other vectors: the force is minus the gradient.
    return -riesz_gradient(vectors, exponent)


def riesz_gradient_without_s(vectors, exponent):
    # Wrong: the power rule's factor s was dropped (invisible at s = 1).
    return riesz_gradient(vectors, exponent) / exponent


def riesz_gradient_on_the_sphere(vectors, exponent):
    # Wrong: d^2 = 2 - 2 u.v holds only on the sphere; its gradient misses the radial
    # part that |u|^2 + |v|^2 brings: the difference lies along each vector.
    vectors = tf.convert_to_tensor(vectors)
    squared = 2.0 - 2.0 * tf.matmul(vectors, vectors, transpose_b=True)
    squared = tf.linalg.set_diag(squared, tf.fill(tf.shape(vectors)[:1], tf.constant(np.inf, squared.dtype)))
    weights = squared ** (-(exponent + 2) / 2)
    return exponent * tf.matmul(weights, vectors)


def riesz_gradient_both_ends(vectors, exponent):
    # Wrong: each pair differentiated from both ends and added twice.
    return 2.0 * riesz_gradient(vectors, exponent)


# --- spread-4: the tangential gradient, through the normalisation --------------------------


def gradient_through_normalise(loss_fn, vectors):
    with tf.GradientTape() as tape:
        # A tf.constant is not a trainable variable: the tape records it only if watched.
        tape.watch(vectors)
        # loss(v / |v|) does not change when a vector is scaled, so its gradient has no
        # part along the vector: at unit vectors it is the tangential gradient of §2,
        # with the projection done by the chain rule through the normalisation.
        loss = loss_fn(vectors / tf.norm(vectors, axis=-1, keepdims=True))
    return tape.gradient(loss, vectors)


def gradient_unwatched(loss_fn, vectors):
    # Wrong: without tape.watch the tape sees no path from a constant: the gradient is None.
    with tf.GradientTape() as tape:
        loss = loss_fn(vectors / tf.norm(vectors, axis=-1, keepdims=True))
    return tape.gradient(loss, vectors)


def plain_gradient(loss_fn, vectors):
    # Wrong: the gradient of loss(v), radial part included.
    with tf.GradientTape() as tape:
        tape.watch(vectors)
        loss = loss_fn(vectors)
    return tape.gradient(loss, vectors)


def projected_gradient(loss_fn, vectors):
    # Wrong off the sphere: the projection of §2, right only at unit vectors.
    gradient = plain_gradient(loss_fn, vectors)
    unit = vectors / tf.norm(vectors, axis=-1, keepdims=True)
    return gradient - tf.reduce_sum(gradient * unit, axis=-1, keepdims=True) * unit


def normalised_outside_the_tape(loss_fn, vectors):
    # Wrong off the sphere: normalised before the tape, so the chain rule's 1/|v| is lost.
    return gradient_through_normalise(loss_fn, vectors / tf.norm(vectors, axis=-1, keepdims=True))


SOLUTIONS = {
    "spread-1": Solution(
        stable_angles,
        wrong=(
            Wrong(angles_by_acos, "near 0°", "acos of a float32 dot product"),
            Wrong(half_angles, "factor of 2", "atan2 of the two lengths is half the angle"),
            Wrong(angles_in_numpy, "TensorFlow ops", "NumPy: the tape cannot differentiate it"),
            Wrong(angles_stopped, "no tf.stop_gradient", "the tape told to look away"),
            Wrong(stable_angles_unfloored, "exact collision (u = v)", "tf.norm's NaN gradient at 0"),
            Wrong(angles_by_asin, "near 180°", "2 asin(|u - v| / 2): flat near 180°"),
            Wrong(angles_without_axis, "wrong at middle angles", "tf.norm without axis"),
        ),
    ),
    "spread-2": Solution(
        smallest_angles,
        wrong=(
            Wrong(smallest_angles_with_diagonal, "diagonal", "each vector paired with itself"),
            Wrong(smallest_angles_diagonal_zeroed, "all cosines negative", "diagonal set to 0"),
            Wrong(smallest_angles_in_radians, "radians", "radians instead of degrees"),
            Wrong(smallest_over_the_batch, "has shape ()", "one minimum over the whole batch"),
        ),
    ),
    "spread-3": Solution(
        riesz_gradient,
        wrong=(
            Wrong(riesz_gradient_flipped, "sign", "the force (minus the gradient)"),
            Wrong(riesz_gradient_without_s, "factor s", "the power rule's s dropped"),
            Wrong(riesz_gradient_both_ends, "factor of 2", "each pair counted twice"),
            Wrong(riesz_gradient_on_the_sphere, "holds only on the sphere", "d² = 2 − 2u·v"),
        ),
    ),
    "spread-4": Solution(
        gradient_through_normalise,
        wrong=(
            Wrong(gradient_unwatched, "watch", "a constant the tape did not watch"),
            Wrong(plain_gradient, "not of loss_fn(v / |v|)", "the normalisation left out"),
            Wrong(projected_gradient, "you projected", "§2's projection: right at unit length only"),
            Wrong(normalised_outside_the_tape, "wrong length", "normalised before the tape"),
        ),
    ),
}
