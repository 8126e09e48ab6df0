"""Spreading unit vectors on a sphere: losses, the descent loop and the Tammes search.

Shared by both vector-spread notebooks, the unit tests and the benchmarks. Every
loss takes unit vectors of shape (..., N, D) (a leading batch axis holds several
configurations) and returns one value per configuration, shape (...). The
vectorised losses work through the N x N Gram matrix of dot products, never an
N x N x D array of pairwise differences, so memory grows as N^2, not N^2 * D.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from gdtf import check_finite
from gdtf import seed as shifted_seed


def claim(text: str, holds) -> None:
    """State a result in words: print it with a tick if it holds, else raise."""
    if not bool(np.all(holds)):
        raise AssertionError(f"no longer true: {text}")
    print("✓", text)


def normalise(vectors):
    """Project each vector (last axis) back onto the unit sphere."""
    return vectors / tf.norm(vectors, axis=-1, keepdims=True)


def random_unit_vectors(count: int, dims: int, seed: int, dtype=tf.float32):
    """``count`` random directions, uniform on the sphere (normalised Gaussians).

    The caller passes the seed as ``gdtf.seed(n)`` so that the stress mode can move it.
    """
    rng = np.random.default_rng(seed)
    return normalise(tf.constant(rng.normal(size=(count, dims)), dtype))


def random_starts(count: int, dims: int, seeds, dtype=tf.float32) -> tf.Tensor:
    """One random start per seed, stacked: shape (len(seeds), count, dims)."""
    return tf.stack([random_unit_vectors(count, dims, each, dtype) for each in seeds])


def evenly_spaced(count: int, offset: float = 0.0) -> np.ndarray:
    """``count`` unit vectors in 2-D at equal angles: the state we hope to reach."""
    angles = offset + 2 * np.pi * np.arange(count) / count
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


def pairwise_cosines(vectors):
    """Gram matrix of dot products with -2, below any cosine, on the diagonal."""
    gram = tf.matmul(vectors, vectors, transpose_b=True)
    return tf.linalg.set_diag(gram, -2 * tf.ones(tf.shape(gram)[:-1], gram.dtype))


def _length(differences):
    # The tiny floor makes the gradient 0, not 0/0 = NaN, at an exact collision only:
    # it is below the square of any difference that float32 unit vectors can hold.
    tiny = np.finfo(differences.dtype.as_numpy_dtype).tiny
    return tf.sqrt(tf.reduce_sum(tf.square(differences), axis=-1) + tiny)


def stable_angle(u, v):
    """Angle (radians) between unit vectors (last axis): 2 atan2(|u - v|, |u + v|).

    Accurate down to exact collisions, where acos(u.v) cannot resolve angles below
    about 0.02° in float32 and its derivative blows up. The gradient along the
    sphere has length 1 (tested down to 0.0001°) and stays finite at u = v.
    """
    return 2.0 * tf.atan2(_length(u - v), _length(u + v))


def nearest_angles(vectors):
    """Angle (radians) from each vector to its nearest neighbour, shape (..., N).

    The Gram matrix picks each neighbour (no gradient flows through that choice);
    the angle is then computed the stable way from the two vectors themselves.
    """
    # One read of a tf.Variable: gathering from the variable itself gives no gradient.
    vectors = tf.convert_to_tensor(vectors)
    neighbours = tf.argmax(pairwise_cosines(tf.stop_gradient(vectors)), axis=-1)
    nearest = tf.gather(vectors, neighbours, batch_dims=len(vectors.shape) - 2)
    return stable_angle(vectors, nearest)


def min_angle_loss(vectors):
    """Loss 1: minus the smallest pairwise angle; minimising it is the max-min."""
    return -tf.reduce_min(nearest_angles(vectors), axis=-1)


# The original repository maximises 0.7 * smallest angle - 0.3 * sum of squared
# deviations. Divided by 0.7 the sum's weight is 0.3 / 0.7 = 3/7.
ARTICLE_SPREAD_WEIGHT = 0.3 / 0.7


def min_angle_variance_loss(vectors, weight: float = ARTICLE_SPREAD_WEIGHT):
    """Loss 2, the original code's loss divided by 0.7: minus the smallest angle, plus
    ``weight`` times the sum of squared deviations of the nearest-neighbour angles from
    their mean (radians squared). The sum is N times the variance.
    """
    angles = nearest_angles(vectors)
    deviations = angles - tf.reduce_mean(angles, axis=-1, keepdims=True)
    spread_of_angles = tf.reduce_sum(tf.square(deviations), axis=-1)
    return -tf.reduce_min(angles, axis=-1) + weight * spread_of_angles


def squared_distances(vectors):
    """All pairwise squared distances from the Gram matrix: |a|^2 + |b|^2 - 2 a.b.

    Using the actual norms (not 1) keeps close pairs accurate even when the vectors
    are only unit length to float precision. The diagonal is floored at 1e-12.
    """
    gram = tf.matmul(vectors, vectors, transpose_b=True)
    norms = tf.linalg.diag_part(gram)
    return tf.maximum(norms[..., :, None] + norms[..., None, :] - 2.0 * gram, 1e-12)


def inverse_distances(vectors):
    """All pairwise 1/d from one Gram matrix and one rsqrt pass, 0 on the diagonal.

    The diagonal is set to infinity before the rsqrt, whose 1/sqrt(inf) is 0: no
    self-pair counts, and no gradient flows through it.
    """
    squared = squared_distances(vectors)
    infinity = tf.fill(tf.shape(squared)[:-1], tf.constant(np.inf, squared.dtype))
    return tf.math.rsqrt(tf.linalg.set_diag(squared, infinity))


def net_forces(vectors):
    """Net repulsive force on each vector, every other one pushing with strength 1/d^2.

    F_i = sum_j (v_i - v_j) / d_ij^3 = v_i * sum_j w_ij - (W V)_i with w_ij = d_ij^-3:
    no N x N x D array of differences is ever formed.
    """
    inverse = inverse_distances(vectors)
    weights = inverse * inverse * inverse  # three multiplies: far cheaper than a power
    pull = tf.reduce_sum(weights, axis=-1, keepdims=True)
    return vectors * pull - tf.matmul(weights, vectors)


def tangential(forces, vectors):
    """Remove the radial part: only the part along the sphere moves a unit vector."""
    radial = tf.reduce_sum(forces * vectors, axis=-1, keepdims=True)
    return forces - radial * vectors


def tangential_gradient(loss_fn, vectors):
    """The loss, and its gradient with the radial part removed."""
    with tf.GradientTape() as tape:
        # A constant tensor needs watching; a tf.Variable is watched anyway.
        tape.watch(vectors)
        loss = loss_fn(vectors)
    # For a batch, tape.gradient differentiates the sum of the losses: each one depends
    # on its own configuration only, so one call serves the whole batch.
    return loss, tangential(tape.gradient(loss, vectors), vectors)


@functools.cache
def compiled_gradient(loss_fn):
    """tangential_gradient of ``loss_fn`` as one XLA-compiled function (jit_compile).

    XLA fuses each chain of elementwise passes over the N x N matrices into one loop
    around the matrix products, which roughly halves a step at N = 1000 and more.
    The descent loop calls it at every step; one compilation per loss and shape.
    """
    return tf.function(functools.partial(tangential_gradient, loss_fn), jit_compile=True)


def projected_step(vectors: tf.Variable, gradient, rate, clip: bool = True):
    """One step down ``gradient``, then back onto the sphere (a retraction).

    Clipping each vector's gradient to length 1 caps its step at length ``rate``, so
    its turn at arctan(rate) radians, however hard a near-collision pushes.
    """
    if clip:
        gradient = tf.clip_by_norm(gradient, 1.0, axes=[-1])
    vectors.assign(normalise(vectors - rate * gradient))


def force_loss(vectors):
    """Loss 3: the sum of the net tangential forces' lengths (zero at equilibrium)."""
    forces = tangential(net_forces(vectors), vectors)
    # sqrt(|F|^2 + eps), not |F|: the norm's gradient F/|F| is 0/0 = NaN at equilibrium.
    return tf.reduce_sum(tf.sqrt(tf.reduce_sum(forces**2, axis=-1) + 1e-12), axis=-1)


def force_loss_loops(vectors):
    """Loss 3 as the original article's Python double loop over pairs, eager, one fix.

    The article summed the pair forces with ``tf.reduce_sum`` and no axis, which adds
    every component into one number; here they are summed per component. Kept to teach
    and to benchmark against: every pair costs several small TensorFlow calls.
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
    """Loss 4: the Thomson energy, the sum over pairs of 1/d. -gradient = force."""
    # Every pair appears twice in the symmetric matrix: half the sum counts each once,
    # with no mask to build.
    return 0.5 * tf.reduce_sum(inverse_distances(vectors), axis=[-2, -1])


# Least Thomson energies (sum over pairs of 1/d) on the unit sphere in 3-D, 9 decimals:
# the Cambridge Cluster Database's Thomson table (Wales and Ulker, PRB 74, 212101, 2006).
# Proven minima for N <= 6 and N = 12; the best known for the others.
THOMSON_ENERGIES = {
    4: 3.674234614,
    5: 6.474691495,
    6: 9.985281374,
    7: 14.452977414,
    8: 19.675287861,
    9: 25.759986531,
    10: 32.716949460,
    11: 40.596450510,
    12: 49.165253058,
    13: 58.853230612,
    24: 223.347074052,
    32: 412.261274651,
}


def degrees(radians) -> np.ndarray:
    return np.asarray(radians) * 180.0 / math.pi


def smallest_angle(vectors) -> float | np.ndarray:
    """The smallest angle (degrees) between any two of the vectors: the Tammes score.

    One float for an (N, D) array, one per configuration for (..., N, D). Computed
    in float64 the stable way, so a collapsed pair reads 0°, not 0.02°.
    """
    vectors = tf.cast(tf.convert_to_tensor(vectors), tf.float64)
    angles = degrees(tf.reduce_min(nearest_angles(vectors), axis=-1).numpy())
    return float(angles) if angles.ndim == 0 else angles


def largest_tangential_force(loss_fn, vectors) -> float | np.ndarray:
    """The length of the largest per-vector tangential gradient (Riemannian gradient).

    Zero at every critical point: this, not a match of the loss, says a run converged.
    """
    vectors = tf.convert_to_tensor(vectors)
    _, gradient = tangential_gradient(loss_fn, vectors)
    largest = tf.reduce_max(tf.norm(gradient, axis=-1), axis=-1).numpy()
    return float(largest) if largest.ndim == 0 else largest


# --- The descent loop ---------------------------------------------------------------


class SpreadRun(NamedTuple):
    """One run of spread_vectors; batched runs add a batch axis after the iterations."""

    vectors: np.ndarray  # final state, shape of the start
    losses: np.ndarray  # at the start and after every step: (iterations + 1, ...)
    min_angles: np.ndarray  # smallest angle (degrees) at the same points
    frames: np.ndarray  # snapshots of the vectors; the last one is the final state
    frame_iterations: np.ndarray  # the iteration of each snapshot
    iterations: int  # steps taken (fewer than asked when the tolerance stopped the run)


def snapshot_schedule(iterations: int, snapshots: int) -> np.ndarray:
    """Iteration 0, then about ``snapshots`` iterations spaced evenly on a log scale."""
    spaced = np.geomspace(1, iterations, snapshots) if snapshots else []
    return np.unique(np.concatenate([[0], np.round(spaced), [iterations]])).astype(int)


def _smallest(vectors):
    return tf.reduce_min(nearest_angles(vectors), axis=-1)


def _rate_shape(rate, vectors):
    """A rate per configuration, shaped (..., 1, 1) to broadcast against the vectors."""
    rate = tf.cast(rate, vectors.dtype)
    return tf.reshape(rate, tf.concat([tf.shape(rate), [1, 1]], 0))


def descend(loss_fn, vectors, iterations, rates, tolerance, is_snapshot, clip):
    """``iterations`` steps down ``loss_fn``, recording the history as it goes.

    The rate decays exponentially from ``rates[0]`` to ``rates[1]`` (each may hold
    one value per configuration). Stops early once every vector's tangential
    gradient is shorter than ``tolerance``, and at the first NaN or infinity, leaving
    ``vectors`` at the last finite state. spread_vectors compiles it once per loss
    and shape and passes the settings as tensors: new settings trace no new graph.
    """
    dtype = vectors.dtype
    losses = tf.TensorArray(dtype, size=iterations + 1)
    min_angles = tf.TensorArray(dtype, size=iterations + 1)
    shape = vectors.shape
    frames = tf.TensorArray(dtype, size=0, dynamic_size=True, element_shape=shape)
    failed_at, bad_loss = tf.constant(-1), tf.zeros_like(loss_fn(vectors))
    bad_gradient = tf.zeros_like(vectors)
    start_rate = _rate_shape(rates[0], vectors)
    decay = _rate_shape(rates[1], vectors) / start_rate
    taken = iterations
    for i in tf.range(iterations):
        loss, gradient = compiled_gradient(loss_fn)(vectors.read_value())
        finite = tf.reduce_all(tf.math.is_finite(loss))
        if not (finite and tf.reduce_all(tf.math.is_finite(gradient))):
            failed_at, bad_loss, bad_gradient = i, loss, gradient
            break
        if tf.reduce_max(tf.norm(gradient, axis=-1)) < tolerance:
            taken = i
            break
        losses = losses.write(i, loss)
        min_angles = min_angles.write(i, _smallest(vectors))
        if is_snapshot[i]:
            frames = frames.write(frames.size(), vectors)
        fraction = tf.cast(i, dtype) / tf.cast(iterations, dtype)
        projected_step(vectors, gradient, start_rate * decay**fraction, clip)
    losses = losses.write(taken, loss_fn(vectors))
    min_angles = min_angles.write(taken, _smallest(vectors))
    frames = frames.write(frames.size(), vectors)
    return (
        failed_at,
        bad_loss,
        bad_gradient,
        taken,
        losses.stack()[: taken + 1],
        min_angles.stack()[: taken + 1],
        frames.stack(),
    )


_COMPILED = {}


def spread_vectors(
    loss_fn,
    start,
    iterations: int = 2000,
    learning_rate=0.01,
    final_rate=1e-5,
    clip: bool = True,
    snapshots: int = 0,
    tolerance: float = 0.0,
) -> SpreadRun:
    """Riemannian gradient descent of ``loss_fn`` over unit vectors from ``start``.

    ``start`` is (N, D) or a batch (..., N, D); ``learning_rate`` and ``final_rate``
    are numbers or one per configuration. Raises FloatingPointError (naming the
    iteration, with the last finite state as ``error.last_finite_vectors``) if the
    loss or the gradient stops being finite.
    """
    start = tf.convert_to_tensor(start)
    key = (loss_fn, clip, tuple(start.shape), start.dtype)
    if key not in _COMPILED:
        # One graph per loss and shape (a tf.Variable's shape is fixed in its graph);
        # new settings and new starts of that shape reuse it.
        loop = functools.partial(descend, loss_fn, clip=clip)
        _COMPILED[key] = tf.function(loop)
    _check_whole_number("iterations", iterations, 1)
    vectors = tf.Variable(start)
    frame_iterations = snapshot_schedule(iterations, snapshots)
    is_snapshot = tf.constant(np.isin(np.arange(iterations), frame_iterations))
    batch = tuple(vectors.shape[:-2])
    rates = np.stack(np.broadcast_arrays(learning_rate, final_rate, np.zeros(batch)))
    rates = tf.constant(rates[:2], vectors.dtype)
    tolerance = tf.constant(tolerance, vectors.dtype)
    steps = tf.constant(iterations)
    outcome = _COMPILED[key](vectors, steps, rates, tolerance, is_snapshot)
    failed_at, bad_loss, bad_gradient, taken, losses, min_angles, frames = outcome
    if failed_at >= 0:
        try:
            check_finite(int(failed_at), loss=bad_loss, gradient=bad_gradient)
        except FloatingPointError as error:
            error.last_finite_vectors = vectors.numpy()
            raise
    taken = int(taken)
    return SpreadRun(
        vectors.numpy(),
        losses.numpy(),
        degrees(min_angles.numpy()),
        frames.numpy(),
        np.append(frame_iterations[frame_iterations < taken], taken),
        taken,
    )


# --- The max-min problem (Tammes): a soft-min by Riesz energies, raised in stages ----
# The Thomson problem (least energy) and the Tammes problem (largest smallest angle)
# have different answers for most N. These functions reach the Tammes optimum by
# descending log Riesz energies, (1/s) log sum 1/d^s, with s raised in stages
# (continuation), from several random starts at once.

TAMMES_MAX_EXPONENT = 2.0**16
# No vector turns by more than this (radians) in one step: at small s a close pair
# would otherwise jump across the circle in 2-D and can land on another vector.
MAX_TURN = 0.1


def log_riesz_energy(vectors, exponent):
    """log(sum over pairs of 1/d^s) / s for unit vectors (..., N, D), s = ``exponent``.

    s = 1 gives log(2E), E the Thomson energy (coulomb_energy), so the minimum is the
    same. As s grows the closest pair dominates and the value tends to -log(smallest
    distance): a soft-min whose minimiser becomes the Tammes configuration. Summing in
    logs (logsumexp) keeps it finite where 1/d^s would overflow (d = 0.7, s = 65536:
    over 10^10151). Each pair is counted twice, which adds log(2)/s and moves no
    minimum. ``exponent`` broadcasts against the (..., 1, 1) result.
    """
    cosines = tf.matmul(vectors, vectors, transpose_b=True)
    # |u - v|^2 = 2 - 2 u.v for unit vectors; the floor is for the diagonal (u with u).
    log_distances = 0.5 * tf.math.log(tf.maximum(2.0 - 2.0 * cosines, 1e-12))
    log_terms = -exponent * log_distances
    minus_infinity = tf.constant(-np.inf, log_terms.dtype)
    no_self_pairs = tf.fill(tf.shape(log_terms)[:-1], minus_infinity)
    log_terms = tf.linalg.set_diag(log_terms, no_self_pairs)  # exp(-inf) = 0
    return tf.reduce_logsumexp(log_terms, axis=[-2, -1], keepdims=True) / exponent


@tf.function(reduce_retracing=True)
def riesz_descent(vectors, exponent, rate, steps):
    """``steps`` projected gradient steps down log_riesz_energy, for a batch."""
    for _ in tf.range(steps):
        with tf.GradientTape() as tape:
            tape.watch(vectors)
            energies = log_riesz_energy(normalise(vectors), exponent)
        # Differentiating through normalise() removes the radial part of the gradient.
        gradient = tape.gradient(energies, vectors)
        step = tf.clip_by_norm(rate * gradient, MAX_TURN, axes=[-1])
        vectors = normalise(vectors - step)
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
    seed: int | None = None,
):
    """Descend log_riesz_energy from ``starts`` random starts at once, doubling s.

    Start k is random_unit_vectors(count, dims, seed + k), seed defaulting to
    gdtf.seed(0), and begins at s = first_exponents[k % len(first_exponents)]. Every
    stage runs ``steps`` steps from where the last one ended, then doubles s, up to
    ``max_exponent``. The step size, rate * count / s, shrinks as the energy grows
    steeper with s; no vector turns more than MAX_TURN per step. Yields
    ``(exponents, vectors)`` after each stage: shapes (starts,), (starts, count, dims).
    """
    seed = shifted_seed(0) if seed is None else seed
    vectors = random_starts(count, dims, [seed + k for k in range(starts)], tf.float64)
    first = np.resize(np.asarray(first_exponents, np.float64), starts)[:, None, None]
    stages = max(math.ceil(math.log2(max_exponent / first.min())), 0) + 1
    for stage in range(stages):
        exponent = np.minimum(first * 2.0**stage, max_exponent)
        step_size = rate * count / exponent
        settings = [tf.constant(value) for value in (exponent, step_size, steps)]
        vectors = riesz_descent(vectors, *settings)
        yield exponent[:, 0, 0], vectors


def _check_whole_number(name: str, value, minimum: int):
    whole = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not whole or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def tammes_spread(count: int, dims: int = 3, **settings) -> np.ndarray:
    """``count`` unit vectors in ``dims`` dimensions whose smallest pairwise angle is as
    large as we can make it, as a (count, dims) float64 array.

    Runs tammes_stages (``settings`` are its keyword arguments) and keeps the start
    whose smallest angle ends largest. A heuristic without a guarantee: for N = 13 in
    3-D none or almost none of 12 starts reach the optimum (57.14°), so the best
    of 12 reaches it only on a lucky draw.
    """
    _check_whole_number("count", count, 2)
    _check_whole_number("dims", dims, 2)
    for name in ("starts", "steps"):
        if name in settings:
            _check_whole_number(name, settings[name], 1)
    # Run every stage, keep the last.
    *_, (_, vectors) = tammes_stages(count, dims, **settings)
    return vectors[int(np.argmax(smallest_angle(vectors)))].numpy()


def best_random_smallest_angle(
    count: int, dims: int, draws: int, seed: int | None = None, chunk: int = 500
) -> float:
    """The largest smallest angle (degrees) of ``draws`` random draws: a bar to clear.

    ``seed`` defaults to gdtf.seed(1).
    """
    rng = np.random.default_rng(shifted_seed(1) if seed is None else seed)
    largest_cosines = []
    for done in range(0, draws, chunk):
        vectors = rng.normal(size=(min(chunk, draws - done), count, dims))
        vectors /= np.linalg.norm(vectors, axis=-1, keepdims=True)
        cosines = vectors @ np.swapaxes(vectors, 1, 2)
        cosines[:, np.arange(count), np.arange(count)] = -1.0  # not its own neighbour
        largest_cosines.append(cosines.max(axis=(1, 2)))
    return float(degrees(math.acos(np.concatenate(largest_cosines).min())))


# --- Second-order checks on the product of spheres -----------------------------------


def tangent_basis(vectors) -> np.ndarray:
    """An orthonormal basis of the tangent space at ``vectors`` (N, D), (N*D, N*(D-1)).

    Column block i spans the directions perpendicular to vector i, in vector i's rows.
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    count, dims = vectors.shape
    basis = np.zeros((count * dims, count * (dims - 1)))
    for i, vector in enumerate(vectors):
        # The last D - 1 right singular vectors of a 1 x D matrix span its null space.
        perpendicular = np.linalg.svd(vector[None, :])[2][1:].T
        rows = slice(i * dims, (i + 1) * dims)
        columns = slice(i * (dims - 1), (i + 1) * (dims - 1))
        basis[rows, columns] = perpendicular
    return basis


def rotation_modes(vectors) -> np.ndarray:
    """The D(D-1)/2 infinitesimal rotations of the configuration: (D(D-1)/2, N*D).

    Rotating every vector by the same rotation changes no angle and no energy: these
    directions are flat for every loss built from the angles.
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    dims = vectors.shape[1]
    modes = []
    for a in range(dims):
        for b in range(a + 1, dims):
            generator = np.zeros((dims, dims))
            generator[a, b], generator[b, a] = 1.0, -1.0
            modes.append((vectors @ generator.T).ravel())
    return np.array(modes)
