"""Losses for spreading unit vectors on a sphere, shared by the notebook and the benchmarks.

Every function takes an (N, D) tensor of unit vectors. The vectorised ones
work through the N x N Gram matrix of dot products, never an N x N x D array
of pairwise differences, so memory grows as N^2, not N^2 * D.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

# acos has an infinite derivative at +-1 (two vectors exactly parallel, or a
# vector compared with itself): clipping the cosine keeps every gradient finite.
COSINE_LIMIT = 1.0 - 1e-6


def normalise(vectors):
    """Project each row back onto the unit sphere."""
    return vectors / tf.norm(vectors, axis=-1, keepdims=True)


def random_unit_vectors(count: int, dims: int, seed: int, dtype=tf.float32) -> tf.Tensor:
    """``count`` random directions, uniform on the sphere (normalised Gaussians)."""
    rng = np.random.default_rng(seed)
    return normalise(tf.constant(rng.normal(size=(count, dims)), dtype))


def evenly_spaced(count: int, offset: float = 0.0) -> np.ndarray:
    """``count`` unit vectors in 2-D at equal angles: the spread state we hope to reach."""
    angles = offset + 2 * np.pi * np.arange(count) / count
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


def pairwise_cosines(vectors):
    """Gram matrix of dot products with the diagonal set to -1, so it never counts as a neighbour."""
    gram = tf.matmul(vectors, vectors, transpose_b=True)
    return tf.linalg.set_diag(gram, -tf.ones(tf.shape(gram)[0], gram.dtype))


def nearest_angles(vectors):
    """Angle (radians) from each vector to its nearest neighbour."""
    closest = tf.reduce_max(pairwise_cosines(vectors), axis=1)
    return tf.acos(tf.clip_by_value(closest, -COSINE_LIMIT, COSINE_LIMIT))


def min_angle_loss(vectors):
    """Loss 1: minus the smallest pairwise angle (minimising it maximises that angle)."""
    return -tf.reduce_min(nearest_angles(vectors))


# The original repository maximises 0.7 * smallest angle - 0.3 * sum of squared deviations.
# Divided by 0.7 (which only rescales the step), the sum's weight is 0.3 / 0.7 = 3/7.
ARTICLE_SPREAD_WEIGHT = 0.3 / 0.7


def min_angle_variance_loss(vectors, weight: float = ARTICLE_SPREAD_WEIGHT):
    """Loss 2, the original code's loss divided by 0.7: minus the smallest angle, plus ``weight``
    times the sum of squared deviations of the nearest-neighbour angles from their mean (radians
    squared).

    The sum is N times the variance, so for 20 vectors the weight 3/7 weighs the variance by 8.6.
    """
    angles = nearest_angles(vectors)
    spread_of_angles = tf.reduce_sum(tf.square(angles - tf.reduce_mean(angles)))
    return -tf.reduce_min(angles) + weight * spread_of_angles


def squared_distances(vectors):
    """All pairwise squared distances from the Gram matrix: |v_i|^2 + |v_j|^2 - 2 v_i.v_j.

    Using the actual norms (not 1) keeps close pairs accurate even when the
    vectors are only unit length to float precision.
    """
    gram = tf.matmul(vectors, vectors, transpose_b=True)
    norms = tf.linalg.diag_part(gram)
    return tf.maximum(norms[:, None] + norms[None, :] - 2.0 * gram, 1e-12)


def net_forces(vectors):
    """Net repulsive force on each vector, every other one pushing with strength 1/d^2.

    F_i = sum_j (v_i - v_j) / d_ij^3 = v_i * sum_j w_ij - (W V)_i with
    w_ij = d_ij^-3, and the distances come from the Gram matrix: no N x N x D
    array of differences is ever formed.
    """
    squared = squared_distances(vectors)
    weights = tf.linalg.set_diag(squared**-1.5, tf.zeros(tf.shape(squared)[0], squared.dtype))
    return vectors * tf.reduce_sum(weights, axis=1, keepdims=True) - tf.matmul(weights, vectors)


def tangential(forces, vectors):
    """Remove the radial part of each force: only the part along the sphere can move a unit vector."""
    return forces - tf.reduce_sum(forces * vectors, axis=1, keepdims=True) * vectors


def tangential_gradient(loss_fn, vectors):
    """The loss, and its gradient with the radial part removed (the part that can move the vectors)."""
    with tf.GradientTape() as tape:
        tape.watch(vectors)  # a constant tensor needs this; a tf.Variable is watched anyway
        loss = loss_fn(vectors)
    return loss, tangential(tape.gradient(loss, vectors), vectors)


def projected_step(vectors: tf.Variable, gradient, rate, clip: bool = True):
    """One step down ``gradient``, then back onto the sphere (projected gradient descent).

    Clipping each vector's gradient to length 1 caps its step at ``rate`` radians, however hard
    a near-collision pushes.
    """
    if clip:
        gradient = tf.clip_by_norm(gradient, 1.0, axes=[1])
    vectors.assign(normalise(vectors - rate * gradient))


def force_loss(vectors):
    """Loss 3: the sum of the magnitudes of the net tangential forces (zero at equilibrium)."""
    forces = tangential(net_forces(vectors), vectors)
    # sqrt(|F|^2 + eps) instead of |F|: the norm's gradient F/|F| is 0/0 = NaN at equilibrium.
    return tf.reduce_sum(tf.sqrt(tf.reduce_sum(forces**2, axis=1) + 1e-12))


def force_loss_loops(vectors):
    """Loss 3 as the original article's Python double loop over pairs, eager, with one fix.

    The article summed the pair forces with ``tf.reduce_sum`` and no axis, which adds every
    component into one number; here they are summed per component, into the net force.
    Kept to teach and to benchmark against: every pair costs several small TensorFlow calls.
    """
    count = vectors.shape[0]
    total = tf.zeros((), vectors.dtype)
    for i in range(count):
        force = tf.zeros_like(vectors[i])
        for j in range(count):
            if i != j:
                difference = vectors[i] - vectors[j]
                force += difference / tf.norm(difference) ** 3
        force -= tf.reduce_sum(force * vectors[i]) * vectors[i]
        total += tf.norm(force)
    return total


def coulomb_energy(vectors):
    """Loss 4: the Thomson problem's energy, sum over pairs of 1/d. Its negative gradient is the force."""
    squared = squared_distances(vectors)
    upper = tf.linalg.band_part(tf.ones_like(squared), 0, -1) - tf.eye(
        tf.shape(squared)[0], dtype=squared.dtype
    )
    return tf.reduce_sum(upper * tf.math.rsqrt(squared))


def degrees(radians) -> np.ndarray:
    return np.asarray(radians) * 180.0 / math.pi


# --- The Tammes problem: the largest possible smallest angle ---------------------------------------
# The Thomson problem above (least energy) and the Tammes problem (largest smallest angle) have
# different answers for most N (N = 7 to 11 and 24, for example). These functions reach the Tammes
# optimum by descending Riesz energies, sum of 1/d^s, with s raised in stages, from several random
# starts at once.

TAMMES_MAX_EXPONENT = 2.0**16


def smallest_angle(vectors) -> float:
    """The smallest angle (degrees) between any two of the vectors: the Tammes problem's score.

    It only measures (no gradient), so the cosine is clipped to [-1, 1], not to COSINE_LIMIT:
    two opposite vectors read 180°.
    """
    largest_cosine = float(tf.reduce_max(pairwise_cosines(tf.convert_to_tensor(vectors))))
    return float(degrees(math.acos(min(max(largest_cosine, -1.0), 1.0))))


def log_riesz_energy(vectors, exponent):
    """log(sum over pairs of 1/d^s) / s for unit vectors of shape (..., N, D), s = ``exponent``.

    s = 1 gives log(2E), E the Thomson energy (coulomb_energy), so the minimum is the same.
    As s grows, the closest pair's term dominates the sum and the value tends to
    -log(smallest distance): its minimum becomes the Tammes configuration. Summing in logs
    (logsumexp) keeps it finite where 1/d^s would overflow (d = 0.7, s = 65536: over 10^10151).
    Each pair is counted twice (i, j and j, i): that adds log(2)/s and moves no minimum.
    A leading batch axis holds several configurations. ``exponent`` broadcasts against the
    (..., 1, 1) result, so each configuration may have its own s.
    """
    cosines = tf.matmul(vectors, vectors, transpose_b=True)
    # |u - v|^2 = 2 - 2 u.v for unit vectors. The floor is for the diagonal (u with itself), where it is ~0.
    log_distances = 0.5 * tf.math.log(tf.maximum(2.0 - 2.0 * cosines, 1e-12))
    log_terms = -exponent * log_distances
    no_self_pairs = tf.fill(tf.shape(log_terms)[:-1], tf.constant(-np.inf, log_terms.dtype))
    log_terms = tf.linalg.set_diag(log_terms, no_self_pairs)  # exp(-inf) = 0
    return tf.reduce_logsumexp(log_terms, axis=[-2, -1], keepdims=True) / exponent


@tf.function(reduce_retracing=True)
def riesz_descent(vectors, exponent, rate, steps):
    """``steps`` projected gradient steps down log_riesz_energy, for a batch of configurations."""
    for _ in tf.range(steps):
        with tf.GradientTape() as tape:
            tape.watch(vectors)
            energies = log_riesz_energy(normalise(vectors), exponent)
        # Differentiating through normalise() removes the radial part of the gradient. Each
        # configuration's energy depends on its own vectors only, so one tape serves the batch.
        gradient = tape.gradient(energies, vectors)
        vectors = normalise(vectors - rate * gradient)
    return vectors


def tammes_stages(
    count: int,
    dims: int = 3,
    *,
    starts: int = 12,
    first_exponents=(4, 8, 16),
    max_exponent: float = TAMMES_MAX_EXPONENT,
    steps: int = 500,
    rate: float = 0.25,
    seed: int = 0,
):
    """Descend log_riesz_energy from ``starts`` random starts at once, doubling s at each stage.

    Start k is random_unit_vectors(count, dims, seed + k) and begins at
    s = first_exponents[k % len(first_exponents)]. Beginning at s = 1 would pass through the
    Thomson minimum, and from there N = 10 ends in a worse arrangement. Every stage runs
    ``steps`` steps from where the last one ended, then doubles s, up to ``max_exponent``. The
    step size, rate * count / s, shrinks as the energy grows steeper with s. Yields
    ``(exponents, vectors)`` after each stage, of shapes (starts,) and (starts, count, dims).
    """
    vectors = tf.stack([random_unit_vectors(count, dims, seed + k, tf.float64) for k in range(starts)])
    first = np.resize(np.asarray(first_exponents, dtype=np.float64), starts)[:, None, None]
    stages = max(math.ceil(math.log2(max_exponent / first.min())), 0) + 1
    for stage in range(stages):
        exponent = np.minimum(first * 2.0**stage, max_exponent)
        step_size = rate * count / exponent
        vectors = riesz_descent(vectors, tf.constant(exponent), tf.constant(step_size), tf.constant(steps))
        yield exponent[:, 0, 0], vectors


def _check_whole_number(name: str, value, minimum: int):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def tammes_spread(count: int, dims: int = 3, **settings) -> np.ndarray:
    """``count`` unit vectors in ``dims`` dimensions whose smallest pairwise angle is as large as we
    can make it, as a (count, dims) float64 array.

    Runs tammes_stages (``settings`` are its keyword arguments) and keeps the start whose smallest
    angle ends largest. Deterministic: the seeds are fixed. With the defaults, N = 2 to 12, 14 and
    24 in 3-D end within 0.001° of the published Tammes angles. N = 13 does not: it stops at 56.48°,
    the optimum is 57.14°. In 32-D, ``rate=8`` with fewer starts and stages does better, and faster:
    see benchmarks/tammes_speed.py.
    """
    _check_whole_number("count", count, 2)
    _check_whole_number("dims", dims, 2)
    for name in ("starts", "steps"):
        if name in settings:
            _check_whole_number(name, settings[name], 1)
    *_, (_, vectors) = tammes_stages(count, dims, **settings)  # run every stage, keep the last
    angles = [smallest_angle(configuration) for configuration in vectors]
    return vectors[int(np.argmax(angles))].numpy()


def best_random_smallest_angle(count: int, dims: int, draws: int, seed: int = 1, chunk: int = 500) -> float:
    """The largest smallest angle (degrees) among ``draws`` independent random draws: a bar to clear."""
    rng = np.random.default_rng(seed)
    largest_cosines = []
    for done in range(0, draws, chunk):
        vectors = rng.normal(size=(min(chunk, draws - done), count, dims))
        vectors /= np.linalg.norm(vectors, axis=-1, keepdims=True)
        cosines = vectors @ np.swapaxes(vectors, 1, 2)
        cosines[:, np.arange(count), np.arange(count)] = -1.0  # a vector is not its own neighbour
        largest_cosines.append(cosines.max(axis=(1, 2)))
    return float(degrees(math.acos(np.concatenate(largest_cosines).min())))
