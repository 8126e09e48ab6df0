"""Solutions to the exercises of vector_spread_example/spherical_codes.ipynb.

For each exercise: a model answer, then typical wrong answers with the mistake each stands for.
tests/test_solutions.py proves that every checker accepts the first and explains the others.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from gdtf.exercises import Solution, Wrong

# --- codes-1: the soft-min's pair weights -----------------------------------------------


def pair_weights(vectors, exponent):
    # d/d(d_ij) of (1/s) log sum_{k<l} d_kl^-s is -p_ij / d_ij with p_ij = d_ij^-s / sum d^-s:
    # a softmax over pairs of -s log d. tf.nn.softmax subtracts the largest logit before
    # exponentiating, so it stays finite at s = 65,536 where d^-s overflows.
    cosines = tf.matmul(vectors, vectors, transpose_b=True)
    squared = 2.0 - 2.0 * cosines  # |u - v|^2 for unit vectors
    # No vector with itself: distance infinity gives logit -inf, weight 0.
    squared = tf.linalg.set_diag(squared, tf.fill(tf.shape(squared)[:1], tf.constant(np.inf, squared.dtype)))
    logits = -exponent * 0.5 * tf.math.log(squared)
    # Over all N x N entries each pair appears twice, as (i, j) and (j, i): the softmax
    # gives each p_ij / 2, so double it.
    weights = tf.nn.softmax(tf.reshape(logits, [-1]))
    return 2.0 * tf.reshape(weights, tf.shape(cosines))


def pair_weights_overflowing(vectors, exponent):
    # Wrong: d^-s formed directly; at s = 4,096 it overflows float64, and inf / inf = NaN.
    cosines = tf.matmul(vectors, vectors, transpose_b=True)
    distances = tf.sqrt(tf.maximum(2.0 - 2.0 * cosines, 0.0))
    terms = tf.linalg.set_diag(distances ** (-exponent), tf.zeros(tf.shape(cosines)[:1], cosines.dtype))
    return terms / tf.reduce_sum(tf.linalg.band_part(terms, 0, -1))


def pair_weights_halved(vectors, exponent):
    # Wrong: a softmax over every ordered pair, each pair counted twice.
    return pair_weights(vectors, exponent) / 2.0


def pair_weights_upper(vectors, exponent):
    # Wrong: the pairs i < j only; the matrix of weights is symmetric.
    return tf.linalg.band_part(pair_weights(vectors, exponent), 0, -1)


def pair_weights_farthest(vectors, exponent):
    # Wrong: the sign of the logits, +s log d, weighs the farthest pairs most.
    cosines = tf.matmul(vectors, vectors, transpose_b=True)
    log_distances = 0.5 * tf.math.log(tf.maximum(2.0 - 2.0 * cosines, 1e-300))
    itself = tf.eye(vectors.shape[0], dtype=tf.bool)
    logits = tf.where(itself, tf.constant(-np.inf, cosines.dtype), exponent * log_distances)
    return 2.0 * tf.reshape(tf.nn.softmax(tf.reshape(logits, [-1])), tf.shape(cosines))


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


def along_sphere_float32_t(loss_fn, vectors, direction):
    # Wrong: t in float32 (tf.constant(0.0)) cannot multiply the float64 direction.
    t = tf.constant(0.0)
    with tf.GradientTape() as outer:
        outer.watch(t)
        with tf.GradientTape() as inner:
            inner.watch(t)
            moved = vectors + t * direction
            loss = loss_fn(moved / tf.norm(moved, axis=-1, keepdims=True))
        slope = inner.gradient(loss, t)
    return outer.gradient(slope, t)


SOLUTIONS = {
    "codes-1": Solution(
        pair_weights,
        wrong=(
            Wrong(pair_weights_overflowing, "overflows", "d^-s formed directly"),
            Wrong(pair_weights_halved, "counted twice", "softmax over ordered pairs"),
            Wrong(pair_weights_upper, "fill (j, i) too", "upper triangle only"),
            Wrong(pair_weights_farthest, "farthest pairs", "the logits' sign"),
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
            Wrong(along_sphere_float32_t, "make t float64", "t in float32"),
        ),
    ),
}
