"""The linear-regression notebooks' loop, scoring and theory, and exact pins of its iteration counts.

The notebook states its counts as claims with room ("about 11", asserted within a margin); these
tests pin the exact values, measured with Keras's optimizers (the notebook asserts that its
hand-written rules match them), so any change in the loop, the data or TensorFlow shows up here.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

from gdtf import import_tensorflow_quietly, load_height_weight

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "simple_height_vs_weight"))
tf = import_tensorflow_quietly()  # before Keras: oneDNN off unless TF_ENABLE_ONEDNN_OPTS is set

import keras  # noqa: E402
from regression import (  # noqa: E402
    CLOSE,
    claim,
    final_excess,
    first_close,
    gradient_descent,
    grid_search,
    heavy_ball_rate,
    least_squares,
    line_mse,
    mse_hessian,
    race_rate,
    run_descent,
    stays_close,
)

HEIGHTS, WEIGHTS = load_height_weight()
CENTRED = HEIGHTS - HEIGHTS.mean()
RACE_START = (-5.0, 150.0)
RUN_1_START = (0.0, -150.0)


def _exact():
    design = np.column_stack([HEIGHTS.astype(np.float64), np.ones(len(HEIGHTS))])
    solution, *_ = np.linalg.lstsq(design, WEIGHTS.astype(np.float64), rcond=None)
    return solution, float(np.mean((design @ solution - WEIGHTS) ** 2))


(EXACT_SLOPE, EXACT_INTERCEPT), MIN_MSE = _exact()


def history_with_losses(losses):
    losses = np.asarray(losses, float)
    return np.column_stack([np.zeros_like(losses), np.zeros_like(losses), losses])


def test_first_and_stays_close():
    inside, outside = 1 + CLOSE / 2, 1 + 2 * CLOSE
    history = history_with_losses([3, outside, inside, outside, inside, inside])
    assert first_close(history, 1.0) == 2
    assert stays_close(history, 1.0) == 4
    assert stays_close(history_with_losses([inside, inside]), 1.0) == 0
    assert stays_close(history_with_losses([inside, outside]), 1.0) is None
    assert first_close(history_with_losses([3, 3]), 1.0) is None
    assert final_excess(history_with_losses([1.5]), 1.0) == pytest.approx(0.5)
    assert final_excess(history_with_losses([0.999]), 1.0) == 0.0  # rounding below the minimum


def test_race_rate_picks_the_smallest_rate_within_two_iterations():
    near, far = 1.0, 5.0
    fast = history_with_losses([far] * 4 + [near] * 6)  # stays close from 4
    faster = history_with_losses([far] * 3 + [near] * 7)  # from 3
    never = history_with_losses([far] * 10)
    assert race_rate({0.1: never, 0.3: fast, 1.0: faster, 3.0: None}, near) == 0.3
    ending = {0.1: history_with_losses([9, 8]), 0.3: history_with_losses([9, 7]), 1.0: None}
    assert race_rate(ending, near) == 0.3  # nobody stays close: the one that ends nearest
    with pytest.raises(ValueError, match="every rate of the grid diverged"):
        race_rate({0.1: None}, near)


def test_mse_hessian_matches_the_tape():
    theta = tf.Variable([1.0, -2.0], dtype=tf.float64)
    x, y = tf.constant(HEIGHTS, tf.float64), tf.constant(WEIGHTS, tf.float64)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            loss = line_mse(theta[0], theta[1], x, y)
        gradient = inner.gradient(loss, theta)
    np.testing.assert_allclose(outer.jacobian(gradient, theta).numpy(), mse_hessian(HEIGHTS), rtol=1e-10)
    np.testing.assert_allclose(
        mse_hessian((HEIGHTS - HEIGHTS.mean()) / HEIGHTS.std()), 2 * np.eye(2), atol=1e-5
    )


def test_heavy_ball_rate_theory():
    curvatures = (2.0, 19.3)
    # β = 0 is plain descent: the worse of |1 − ηλ|.
    assert heavy_ball_rate(0.1, 0.0, curvatures) == pytest.approx(max(abs(1 - 0.1 * c) for c in curvatures))
    # Complex roots: their product is β, so the factor is √β.
    assert heavy_ball_rate(0.03, 0.9, curvatures) == pytest.approx(0.9**0.5)
    assert heavy_ball_rate(0.3, 0.9, curvatures) > 1  # past 2(1+β)/λmax = 0.197
    kappa = curvatures[1] / curvatures[0]
    beta = ((kappa**0.5 - 1) / (kappa**0.5 + 1)) ** 2
    rate = 4 / (curvatures[0] ** 0.5 + curvatures[1] ** 0.5) ** 2
    assert heavy_ball_rate(rate, beta, curvatures) == pytest.approx(beta**0.5, rel=1e-6)


def test_claim_raises_with_the_statement():
    with pytest.raises(AssertionError, match="claim failed: two is one"):
        claim(2 == 1, "two is one")


def test_run_descent_rejects_a_diverging_rate_naming_the_iteration():
    with pytest.raises(FloatingPointError, match="iteration 56: loss became infinite"):
        run_descent(HEIGHTS, WEIGHTS, RUN_1_START, 500, lambda theta, g: theta.assign_sub(3e-4 * g))


def test_grid_search_records_divergence_as_none():
    results = grid_search(
        lambda lr: run_descent(CENTRED, WEIGHTS, RACE_START, 50, keras.optimizers.SGD(lr)), [0.1, 0.3]
    )
    assert results[0.1] is not None and results[0.3] is None


def centred_run(optimizer, iterations=200):
    return run_descent(CENTRED, WEIGHTS, RACE_START, iterations, optimizer)


MIN_MSE_CENTRED = MIN_MSE  # centring changes the parameters, not the lines: the same minimum
CENTRED_CURVATURES = np.diag(mse_hessian(CENTRED))  # slope 19.3, weight at mean height 2


@pytest.mark.parametrize(
    ("name", "make", "expected"),
    [
        ("SGD 0.1", lambda: keras.optimizers.SGD(0.1), 49),
        ("SGD at 2/(λmax+λmin)", lambda: keras.optimizers.SGD(2 / CENTRED_CURVATURES.sum()), 20),
        ("momentum 0.9 at 0.03", lambda: keras.optimizers.SGD(0.03, momentum=0.9), 68),
        ("momentum 0.26 at 0.1", lambda: keras.optimizers.SGD(0.1, momentum=0.26), 11),
        ("Nesterov 0.9 at 0.03", lambda: keras.optimizers.SGD(0.03, momentum=0.9, nesterov=True), 42),
        ("Adagrad 30", lambda: keras.optimizers.Adagrad(30.0), 5),
        ("Adagrad 3000", lambda: keras.optimizers.Adagrad(3000.0), 3),
        ("RMSprop 0.3", lambda: keras.optimizers.RMSprop(0.3), 156),
        ("Adam 1", lambda: keras.optimizers.Adam(1.0), 64),
        ("Adam 2", lambda: keras.optimizers.Adam(2.0), 75),
        ("Adam 2, beta_1 0", lambda: keras.optimizers.Adam(2.0, beta_1=0.0), 46),
    ],
)
def test_race_counts_are_pinned(name, make, expected):
    assert stays_close(centred_run(make()), MIN_MSE_CENTRED) == expected, name


def test_rmsprop_at_rate_2_gets_close_first_and_never_stays():
    history = centred_run(keras.optimizers.RMSprop(2.0), iterations=150)
    assert first_close(history, MIN_MSE) == 27
    assert stays_close(history, MIN_MSE) is None
    assert final_excess(history, MIN_MSE) == pytest.approx(0.110, abs=0.002)
    assert first_close(centred_run(keras.optimizers.Adam(2.0), iterations=150), MIN_MSE) == 56


def test_raw_heights_per_parameter_scaling_is_slow_not_stuck():
    """Section 7 of optimizers_from_the_tape.ipynb: excess above the minimum after 3,000 and 6,000 steps."""
    diagonal = np.diag(mse_hessian(HEIGHTS)).astype(np.float32)
    racers = {
        "Adam 1": keras.optimizers.Adam(1.0),
        "RMSprop 0.01": keras.optimizers.RMSprop(0.01),
        "Adagrad 10": keras.optimizers.Adagrad(10.0),
        "momentum 0.995 at 3e-4": keras.optimizers.SGD(3e-4, momentum=0.995),
        "diag(H)^-1 at 0.9": lambda theta, gradient: theta.assign_sub(0.9 * gradient / diagonal),
    }
    excess = {}
    for name, step in racers.items():
        history = run_descent(HEIGHTS, WEIGHTS, RUN_1_START, 6000, step)
        excess[name] = history[[3000, 6000], 2] / MIN_MSE - 1
    assert excess["Adam 1"][0] == pytest.approx(0.036, abs=0.001)
    assert excess["Adam 1"][1] < 0.001
    assert excess["RMSprop 0.01"][0] == pytest.approx(0.091, abs=0.001)
    assert excess["Adagrad 10"][0] == pytest.approx(0.091, abs=0.001)
    assert excess["momentum 0.995 at 3e-4"][0] == pytest.approx(0.025, abs=0.001)
    assert excess["diag(H)^-1 at 0.9"][0] == pytest.approx(0.0055, abs=0.0002)
    assert min(excess["RMSprop 0.01"][1], excess["Adagrad 10"][1]) > 0.05


def test_least_squares_matches_the_closed_form():
    slope, intercept, min_mse = least_squares(HEIGHTS, WEIGHTS)
    assert (slope, intercept) == pytest.approx((EXACT_SLOPE, EXACT_INTERCEPT), rel=1e-12)
    assert min_mse == pytest.approx(MIN_MSE, rel=1e-12)


def test_gradient_descent_step_subtracts_rate_times_gradient():
    theta = tf.Variable([1.0, 2.0])
    gradient_descent(0.5)(theta, tf.constant([2.0, -4.0]))
    np.testing.assert_allclose(theta.numpy(), [0.0, 4.0])


def test_race_animation_takes_any_number_of_styled_racers():
    import matplotlib

    matplotlib.use("Agg")
    import regression_plots

    steps = np.arange(11.0)
    histories = {f"racer {k}": np.column_stack([steps + k, steps, 100 + steps]) for k in range(8)}
    styles = {name: ("tab:blue", "-", "o") for name in histories}
    fig, update, frames = regression_plots.race_animation(
        lambda s, b: (s - 5.0) ** 2 + (b - 5.0) ** 2,
        histories,
        styles,
        (5.0, 5.0),
        99.0,
        "eight",
        range(11),
        "b",
    )
    assert frames == 11 and len(update(10)) == 4 * 8 + 1
    with pytest.raises(ValueError, match="no style for"):
        regression_plots.race_animation(
            lambda s, b: s + b, histories, {}, (5.0, 5.0), 99.0, "none", range(11), "b"
        )
    matplotlib.pyplot.close("all")
