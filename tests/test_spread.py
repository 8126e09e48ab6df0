"""The vector-spread losses: vectorised forms against the article's loops and against geometry."""

import math

import numpy as np
import pytest
import tensorflow as tf
from spread import (
    COSINE_LIMIT,
    coulomb_energy,
    evenly_spaced,
    force_loss,
    force_loss_loops,
    min_angle_loss,
    min_angle_variance_loss,
    nearest_angles,
    net_forces,
    projected_step,
    random_unit_vectors,
    squared_distances,
    tangential,
    tangential_gradient,
)


def test_random_unit_vectors_are_unit_length_and_seeded():
    vectors = random_unit_vectors(50, 7, seed=3)
    np.testing.assert_allclose(tf.norm(vectors, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(vectors, random_unit_vectors(50, 7, seed=3))
    assert not np.array_equal(vectors, random_unit_vectors(50, 7, seed=4))


def test_nearest_angles_of_evenly_spaced_spokes():
    np.testing.assert_allclose(nearest_angles(tf.constant(evenly_spaced(20))), 2 * math.pi / 20, rtol=1e-9)


def test_min_angle_loss_ignores_the_diagonal_and_stays_finite_for_duplicates():
    vectors = tf.Variable(tf.constant([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))
    with tf.GradientTape() as tape:
        loss = min_angle_loss(vectors)
    assert -float(loss) == pytest.approx(math.acos(COSINE_LIMIT), rel=0.02)  # float32 rounding
    assert np.all(np.isfinite(tape.gradient(loss, vectors)))


def test_squared_distances_match_direct_differences():
    vectors = random_unit_vectors(9, 4, seed=1, dtype=tf.float64)
    direct = np.sum((vectors.numpy()[:, None, :] - vectors.numpy()[None, :, :]) ** 2, axis=-1)
    np.fill_diagonal(direct, 1e-12)  # the function floors the diagonal instead of returning 0
    np.testing.assert_allclose(squared_distances(vectors), direct, atol=1e-12)


def test_vectorised_force_loss_equals_the_double_loop():
    vectors = random_unit_vectors(12, 3, seed=5, dtype=tf.float64)
    np.testing.assert_allclose(force_loss(vectors), force_loss_loops(vectors), rtol=1e-9)


def test_force_is_minus_the_energy_gradient():
    vectors = tf.Variable(random_unit_vectors(15, 3, seed=6, dtype=tf.float64))
    with tf.GradientTape() as tape:
        energy = coulomb_energy(vectors)
    np.testing.assert_allclose(-tape.gradient(energy, vectors), net_forces(vectors), rtol=1e-10, atol=1e-12)


def test_no_tangential_force_at_evenly_spaced_spokes():
    spokes = tf.constant(evenly_spaced(8))
    forces = tangential(net_forces(spokes), spokes)
    np.testing.assert_allclose(forces, 0.0, atol=1e-12)
    assert float(force_loss(spokes)) < 1e-5  # only the sqrt(eps) smoothing remains


def test_coulomb_energy_of_a_tetrahedron():
    tetrahedron = tf.constant([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], tf.float64) / math.sqrt(3)
    assert float(coulomb_energy(tetrahedron)) == pytest.approx(6 / math.sqrt(8 / 3), rel=1e-12)


def test_min_angle_variance_loss_is_the_original_loss_divided_by_its_angle_weight():
    vectors = random_unit_vectors(20, 2, seed=2, dtype=tf.float64)
    angles = nearest_angles(vectors).numpy()
    sum_of_squares = np.sum((angles - angles.mean()) ** 2)
    original = 0.7 * angles.min() - 0.3 * sum_of_squares  # maximised in the original repository
    assert float(min_angle_variance_loss(vectors)) == pytest.approx(-original / 0.7, rel=1e-12)
    # weight w on the sum of squares is w * N times the variance: 0.05 * 20 = 1 for N = 20
    assert float(min_angle_variance_loss(vectors, weight=0.05)) == pytest.approx(
        -angles.min() + np.var(angles), rel=1e-12
    )


def test_spread_term_vanishes_when_evenly_spaced():
    spokes = tf.constant(evenly_spaced(20))
    assert float(min_angle_variance_loss(spokes)) == pytest.approx(-2 * math.pi / 20, rel=1e-9)


def test_tangential_gradient_returns_the_loss_and_a_tangential_gradient():
    vectors = random_unit_vectors(10, 3, seed=7, dtype=tf.float64)  # a constant tensor: must be watched
    loss, gradient = tangential_gradient(coulomb_energy, vectors)
    assert float(loss) == pytest.approx(float(coulomb_energy(vectors)), rel=1e-12)
    np.testing.assert_allclose(np.sum(gradient * vectors, axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(gradient, -tangential(net_forces(vectors), vectors), rtol=1e-9, atol=1e-12)


def test_projected_step_stays_on_the_sphere_and_caps_each_turn():
    vectors = tf.Variable(random_unit_vectors(10, 3, seed=8, dtype=tf.float64))
    before = vectors.numpy()
    _, gradient = tangential_gradient(coulomb_energy, vectors)
    rate = 0.05
    projected_step(vectors, 1e6 * gradient, rate)  # a huge push: clipping must hold each turn to `rate`
    np.testing.assert_allclose(np.linalg.norm(vectors.numpy(), axis=1), 1.0, rtol=1e-12)
    turns = np.arccos(np.clip(np.sum(before * vectors.numpy(), axis=1), -1, 1))
    assert np.all(turns <= rate + 1e-12) and np.all(turns > 0.9 * np.arctan(rate))


def test_an_exact_duplicate_is_nan_in_the_loop_and_feels_no_force_vectorised():
    vectors = random_unit_vectors(20, 2, seed=0)
    duplicated = tf.tensor_scatter_nd_update(vectors, [[1]], vectors[:1])
    assert np.isnan(float(force_loss_loops(duplicated)))  # (v_i - v_j) / d^3 = 0 / 0
    np.testing.assert_array_equal(net_forces(duplicated)[:2], 0.0)
    _, gradient = tangential_gradient(force_loss, duplicated)
    assert np.all(np.isfinite(gradient))
    np.testing.assert_array_equal(gradient[0], gradient[1])  # the copies move as one


def test_coulomb_energy_of_an_octahedron():
    octahedron = tf.constant(np.vstack([np.eye(3), -np.eye(3)]))
    # 12 neighbouring pairs at distance sqrt(2), 3 opposite pairs at distance 2
    assert float(coulomb_energy(octahedron)) == pytest.approx(12 / math.sqrt(2) + 3 / 2, rel=1e-12)
