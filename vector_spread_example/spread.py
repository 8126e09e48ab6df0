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


def min_angle_variance_loss(vectors, weight: float = 1.0):
    """Loss 2: minus the smallest angle, plus the variance of the nearest-neighbour angles."""
    angles = nearest_angles(vectors)
    return -tf.reduce_min(angles) + weight * tf.math.reduce_variance(angles)


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


def force_loss(vectors):
    """Loss 3: the sum of the magnitudes of the net tangential forces (zero at equilibrium)."""
    forces = tangential(net_forces(vectors), vectors)
    # sqrt(|F|^2 + eps) instead of |F|: the norm's gradient F/|F| is 0/0 = NaN at equilibrium.
    return tf.reduce_sum(tf.sqrt(tf.reduce_sum(forces**2, axis=1) + 1e-12))


def force_loss_loops(vectors):
    """Loss 3 written as in the original article: a Python double loop over pairs, eager.

    Kept to teach and to benchmark against; every pair costs several small
    TensorFlow calls from Python.
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
