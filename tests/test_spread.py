"""The vector-spread losses: vectorised forms against the article's loops and against geometry."""

import math

import numpy as np
import pytest
import tensorflow as tf
from spread import (
    claim,
    compiled_gradient,
    coulomb_energy,
    evenly_spaced,
    force_loss,
    force_loss_loops,
    inverse_distances,
    min_angle_loss,
    min_angle_variance_loss,
    nearest_angles,
    net_forces,
    projected_step,
    random_starts,
    random_unit_vectors,
    rotation_modes,
    spread_vectors,
    squared_distances,
    stable_angle,
    tangent_basis,
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
    assert abs(float(loss)) < 1e-12  # an exact duplicate reads 0°, not 0.08°
    assert np.all(np.isfinite(tape.gradient(loss, vectors)))


@pytest.mark.parametrize("degrees_apart", [1e-4, 1e-3, 0.01, 0.1, 1.0, 90.0, 179.0])
def test_stable_angle_is_accurate_in_float32_with_a_unit_gradient(degrees_apart):
    theta = math.radians(degrees_apart)
    u = tf.constant([[1.0, 0.0]])
    v = tf.Variable([[math.cos(theta), math.sin(theta)]], dtype=tf.float32)
    with tf.GradientTape() as tape:
        angle = stable_angle(u, v)
    assert float(angle[0]) == pytest.approx(theta, rel=1e-4)
    # d(angle)/dv is the unit tangent at v: length 1, however small the angle.
    assert float(tf.norm(tape.gradient(angle, v))) == pytest.approx(1.0, rel=1e-4)


def test_stable_angle_has_a_finite_gradient_at_an_exact_collision():
    u = tf.constant([[0.6, 0.8]])
    v = tf.Variable(u)
    with tf.GradientTape() as tape:
        angle = stable_angle(u, v)
    assert float(angle[0]) == pytest.approx(0.0, abs=1e-6)
    assert np.all(np.isfinite(tape.gradient(angle, v).numpy()))  # acos's is NaN here


def test_acos_of_the_float32_dot_product_cannot_see_angles_below_a_fiftieth_of_a_degree():
    theta = math.radians(0.01)
    dot = tf.reduce_sum(tf.constant([1.0, 0.0]) * tf.constant([math.cos(theta), math.sin(theta)]))
    assert float(tf.acos(dot)) == 0.0  # what the stable angle replaces


def test_nearest_angles_of_a_batch_match_one_at_a_time():
    batch = random_starts(7, 3, [4, 5, 6], tf.float64)
    together = nearest_angles(batch)
    for k in range(3):
        np.testing.assert_allclose(together[k], nearest_angles(batch[k]), rtol=1e-12)


def test_a_batched_descent_matches_separate_runs():
    batch = random_starts(8, 2, [1, 2], tf.float64)
    together = spread_vectors(min_angle_loss, batch, iterations=50, learning_rate=[0.01, 0.1])
    for k, rate in enumerate([0.01, 0.1]):
        alone = spread_vectors(min_angle_loss, batch[k], iterations=50, learning_rate=rate)
        np.testing.assert_allclose(together.vectors[k], alone.vectors, atol=1e-12)
        np.testing.assert_allclose(together.min_angles[:, k], alone.min_angles, atol=1e-9)


def test_the_tolerance_stops_a_converged_descent_early():
    start = random_unit_vectors(6, 3, seed=3, dtype=tf.float64)
    run = spread_vectors(
        coulomb_energy,
        start,
        iterations=5000,
        learning_rate=1 / 6,
        final_rate=1 / 6,
        clip=False,
        tolerance=1e-9,
    )
    assert run.iterations < 5000 and len(run.losses) == run.iterations + 1
    assert run.frame_iterations[-1] == run.iterations
    _, gradient = tangential_gradient(coulomb_energy, tf.constant(run.vectors))
    assert np.linalg.norm(gradient, axis=1).max() < 1e-9


def test_the_guard_names_the_iteration_and_keeps_the_last_finite_state():
    start = random_unit_vectors(5, 2, seed=0)

    def loss_with_a_log_of_zero(vectors):
        return -tf.math.log(tf.reduce_min(nearest_angles(vectors), axis=-1) * 0.0)

    with pytest.raises(FloatingPointError, match="^iteration 0: loss became infinite") as error:
        spread_vectors(loss_with_a_log_of_zero, start, iterations=3)
    np.testing.assert_array_equal(error.value.last_finite_vectors, start)


def test_spread_vectors_rejects_a_bad_iteration_count():
    with pytest.raises(ValueError, match="^iterations must be an integer"):
        spread_vectors(min_angle_loss, random_unit_vectors(4, 2, seed=0), iterations=0)


def test_claim_prints_a_true_result_and_raises_on_a_false_one(capsys):
    claim("two is even", 2 % 2 == 0)
    assert capsys.readouterr().out == "✓ two is even\n"
    with pytest.raises(AssertionError, match="no longer true: three is even"):
        claim("three is even", 3 % 2 == 0)


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


@pytest.mark.parametrize("loss_fn", [coulomb_energy, force_loss, min_angle_loss])
def test_the_xla_compiled_gradient_matches_the_plain_tape(loss_fn):
    batch = random_starts(12, 4, [5, 6], tf.float64)
    loss, gradient = compiled_gradient(loss_fn)(batch)
    plain_loss, plain_gradient = tangential_gradient(loss_fn, batch)
    np.testing.assert_allclose(loss, plain_loss, rtol=1e-10)
    np.testing.assert_allclose(gradient, plain_gradient, rtol=1e-8, atol=1e-10)


def test_inverse_distances_are_zero_on_the_diagonal_and_one_over_d_elsewhere():
    vectors = random_unit_vectors(6, 3, seed=4, dtype=tf.float64).numpy()
    direct = np.linalg.norm(vectors[:, None] - vectors[None, :], axis=-1)
    expected = np.divide(1.0, direct, out=np.zeros_like(direct), where=~np.eye(6, dtype=bool))
    np.testing.assert_allclose(inverse_distances(tf.constant(vectors)), expected, rtol=1e-10)


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


def test_tangent_basis_is_orthonormal_and_perpendicular_to_each_vector():
    vectors = random_unit_vectors(5, 3, seed=9, dtype=tf.float64).numpy()
    basis = tangent_basis(vectors)
    assert basis.shape == (15, 10)
    np.testing.assert_allclose(basis.T @ basis, np.eye(10), atol=1e-12)
    radial = np.zeros((5, 15))
    for i, vector in enumerate(vectors):
        radial[i, 3 * i : 3 * i + 3] = vector
    np.testing.assert_allclose(radial @ basis, 0.0, atol=1e-12)


def test_rotation_modes_are_tangent_and_leave_the_energy_unchanged():
    vectors = random_unit_vectors(6, 3, seed=10, dtype=tf.float64).numpy()
    modes = rotation_modes(vectors)
    assert modes.shape == (3, 18)
    np.testing.assert_allclose(np.sum(modes.reshape(3, 6, 3) * vectors, axis=-1), 0.0, atol=1e-12)
    energy = float(coulomb_energy(tf.constant(vectors)))
    for mode in modes:  # a small turn about each axis: the energy moves only to second order
        turned = vectors + 1e-6 * mode.reshape(6, 3)
        turned /= np.linalg.norm(turned, axis=1, keepdims=True)
        assert float(coulomb_energy(tf.constant(turned))) == pytest.approx(energy, rel=1e-10)
