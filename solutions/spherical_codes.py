"""Solutions to the exercises of vector_spread_example/spherical_codes.ipynb.

For each exercise: a model answer, then typical wrong answers with the mistake each stands for.
tests/test_solutions.py proves that every checker accepts the first and explains the others.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from gdtf.exercises import Solution, Wrong

# --- codes-1: the log Riesz energy, a soft-min that stays finite ---------------------------


def log_riesz(vectors, exponent):
    # (1/s) log sum_{i<j} d_ij^-s = (1/s) logsumexp over pairs of (-s log d_ij): the
    # terms d^-s are never formed, so nothing overflows even at s = 65,536.
    cosines = tf.matmul(vectors, vectors, transpose_b=True)
    count = vectors.shape[0]
    rows, columns = np.triu_indices(count, k=1)  # each pair once, no vector with itself
    pairs = tf.gather_nd(cosines, np.stack([rows, columns], axis=1))
    log_distances = 0.5 * tf.math.log(2.0 - 2.0 * pairs)  # |u - v|^2 = 2 - 2 u.v
    return tf.reduce_logsumexp(-exponent * log_distances) / exponent


def log_riesz_overflowing(vectors, exponent):
    # Wrong: sums d^-s directly; at s = 65,536 the terms overflow float64 to infinity.
    cosines = tf.matmul(vectors, vectors, transpose_b=True)
    rows, columns = np.triu_indices(vectors.shape[0], k=1)
    distances = tf.sqrt(2.0 - 2.0 * tf.gather_nd(cosines, np.stack([rows, columns], axis=1)))
    return tf.math.log(tf.reduce_sum(distances ** (-exponent))) / exponent


def log_riesz_ordered_pairs(vectors, exponent):
    # Wrong: sums over i != j, every pair twice: log(2)/s too large (the same minimisers,
    # but not the quantity asked for).
    cosines = tf.matmul(vectors, vectors, transpose_b=True)
    off = ~np.eye(vectors.shape[0], dtype=bool)
    log_distances = 0.5 * tf.math.log(2.0 - 2.0 * tf.boolean_mask(cosines, off))
    return tf.reduce_logsumexp(-exponent * log_distances) / exponent


def log_riesz_with_self_pairs(vectors, exponent):
    # Wrong: the diagonal, each vector with itself at distance 0, gives log(0) = -inf.
    cosines = tf.matmul(vectors, vectors, transpose_b=True)
    log_distances = 0.5 * tf.math.log(tf.maximum(2.0 - 2.0 * cosines, 0.0))
    return tf.reduce_logsumexp(-exponent * log_distances) / exponent


# --- codes-2: the simplex bound ------------------------------------------------------------


def simplex_bound(count):
    # 0 <= |v_1 + ... + v_N|^2 = N + sum over the N(N - 1) ordered pairs of v_i.v_j
    #                           <= N + N(N - 1) c, c the largest cosine of two of them.
    # So c >= -1/(N - 1): the smallest angle is at most arccos(-1/(N - 1)), with equality
    # when all cosines are equal and the vectors sum to 0: the regular simplex.
    return float(np.degrees(np.arccos(-1.0 / (count - 1))))


def simplex_bound_one_too_many(count):
    # Wrong: counts N others per vector (N^2 pairs, the diagonal included).
    return float(np.degrees(np.arccos(-1.0 / count)))


def simplex_bound_in_radians(count):
    # Wrong: the unit.
    return float(np.arccos(-1.0 / (count - 1)))


def rankin_everywhere(count):
    # Wrong: Rankin's 90° holds for N > D + 1 vectors in D dimensions; with the dimension
    # free, N vectors can always sit in N - 1 dimensions as a simplex.
    return 180.0 if count == 2 else 120.0 if count == 3 else 90.0


# --- codes-3: the second derivative along the sphere ----------------------------------------


def along_sphere(loss_fn, vectors, direction):
    # The curve the descent step follows: t -> normalise(v + t w), one scalar t.
    t = tf.constant(0.0, vectors.dtype)
    with tf.GradientTape() as outer:
        outer.watch(t)
        with tf.GradientTape() as inner:
            inner.watch(t)
            moved = vectors + t * direction
            loss = loss_fn(moved / tf.norm(moved, axis=-1, keepdims=True))
        slope = inner.gradient(loss, t)  # recorded by the outer tape: it is watching t
    return outer.gradient(slope, t)


def along_straight_line(loss_fn, vectors, direction):
    # Wrong: t -> v + t w leaves the sphere; misses the term -sum |w_i|^2 (g_i . v_i).
    t = tf.constant(0.0, vectors.dtype)
    with tf.GradientTape() as outer:
        outer.watch(t)
        with tf.GradientTape() as inner:
            inner.watch(t)
            loss = loss_fn(vectors + t * direction)
        slope = inner.gradient(loss, t)
    return outer.gradient(slope, t)


def first_derivative_only(loss_fn, vectors, direction):
    # Wrong: one tape gives the slope along the curve, not its curvature.
    t = tf.constant(0.0, vectors.dtype)
    with tf.GradientTape() as tape:
        tape.watch(t)
        moved = vectors + t * direction
        loss = loss_fn(moved / tf.norm(moved, axis=-1, keepdims=True))
    return tape.gradient(loss, t)


SOLUTIONS = {
    "codes-1": Solution(
        log_riesz,
        wrong=(
            Wrong(log_riesz_overflowing, "overflows", "1/d^s formed and summed directly"),
            Wrong(log_riesz_ordered_pairs, "counted twice", "every pair summed twice"),
            Wrong(log_riesz_with_self_pairs, "itself", "the diagonal (distance 0) included"),
        ),
    ),
    "codes-2": Solution(
        simplex_bound,
        wrong=(
            Wrong(simplex_bound_one_too_many, "N - 1 others", "N others per vector"),
            Wrong(simplex_bound_in_radians, "radians", "radians instead of degrees"),
            Wrong(rankin_everywhere, "Rankin", "a bound for fixed dimension"),
        ),
    ),
    "codes-3": Solution(
        along_sphere,
        wrong=(
            Wrong(along_straight_line, "leaves the sphere", "a straight line, not the sphere"),
            Wrong(first_derivative_only, "first derivative", "one tape, not two"),
        ),
    ),
}
