"""The loss, the descent loop and the scoring of the two linear-regression notebooks.

`tf_grad_desc_intro.ipynb` and `optimizers_from_the_tape.ipynb` share one loss, one exact
answer and one GradientTape loop, defined once here and shown with ``gdtf.show_code`` where they
are taught. The tests in ``tests/test_regression.py`` import the same functions.
"""

from __future__ import annotations

import numpy as np

from gdtf import check_finite_history, import_tensorflow_quietly

tf = import_tensorflow_quietly()
# Every run compiles its own loop on purpose (its own variables and update rule): no retracing hints.
tf.get_logger().setLevel("ERROR")

CLOSE = 0.01  # "close to the minimum": an MSE at most 1% above it


def mean_squared_error(predictions, targets):
    """The loss of every fit in both notebooks, averaged over the last axis. Tensors or NumPy arrays."""
    return tf.reduce_mean((predictions - targets) ** 2, axis=-1)


def line_mse(slope, intercept, x, y):
    """Mean squared error of the line y ≈ slope * x + intercept."""
    return mean_squared_error(slope * x + intercept, y)


def mse_hessian(x):
    """Hessian of line_mse over (slope, intercept): 2/n XᵀX with X = [x, 1], the same at every point."""
    columns = np.column_stack([x, np.ones_like(x)]).astype(np.float64)
    return 2 * columns.T @ columns / len(x)


def least_squares(x, y):
    """The exact minimum of line_mse in float64: (slope, intercept, minimum MSE)."""
    design = np.column_stack([x, np.ones_like(x)]).astype(np.float64)
    targets = np.asarray(y, np.float64)
    (slope, intercept), *_ = np.linalg.lstsq(design, targets, rcond=None)
    return float(slope), float(intercept), float(np.mean((design @ [slope, intercept] - targets) ** 2))


def gradient_descent(learning_rate):
    """The plain update θ ← θ − η ∇L, as a ``step`` for run_descent."""
    return lambda theta, gradient: theta.assign_sub(learning_rate * gradient)


def run_descent(x, y, start, iterations, step):
    """Minimise line_mse(slope, intercept, x, y) from ``start`` = (slope, intercept).

    ``step(theta, gradient)`` updates the variable ``theta`` = [slope, intercept] in place: a rule
    written by hand, or a Keras optimizer (then its ``apply_gradients`` is the step).
    Returns an (iterations + 1, 3) array: row i holds the slope, the intercept and the loss after
    i steps. Raises ``FloatingPointError`` naming the first iteration that is not finite.
    """
    theta = tf.Variable(start, dtype=tf.float32)
    x, y = tf.constant(x, tf.float32), tf.constant(y, tf.float32)
    if hasattr(step, "apply_gradients"):  # a Keras optimizer
        optimizer = step
        optimizer.build([theta])  # its state, created now: no new variables inside a graph loop

        def step(theta, gradient):
            optimizer.apply_gradients([(gradient, theta)])

    @tf.function
    def descend():
        history = tf.TensorArray(tf.float32, size=iterations + 1)
        for i in tf.range(iterations):
            with tf.GradientTape() as tape:
                loss = line_mse(theta[0], theta[1], x, y)
            gradient = tape.gradient(loss, theta)
            history = history.write(i, tf.concat([theta, [loss]], axis=0))
            step(theta, gradient)
        last_loss = line_mse(theta[0], theta[1], x, y)
        return history.write(iterations, tf.concat([theta, [last_loss]], axis=0)).stack()

    history = descend().numpy()
    check_finite_history(history, columns=("slope", "intercept", "loss"))
    return history


def first_close(history, min_loss):
    """First iteration whose loss is within CLOSE (relative) of ``min_loss``, or None."""
    close = np.flatnonzero(history[:, 2] <= (1 + CLOSE) * min_loss)
    return int(close[0]) if len(close) else None


def stays_close(history, min_loss):
    """First iteration from which the loss stays within CLOSE of ``min_loss``; None if it ends outside."""
    outside = np.flatnonzero(history[:, 2] > (1 + CLOSE) * min_loss)
    if len(outside) == 0:
        return 0
    return None if outside[-1] == len(history) - 1 else int(outside[-1]) + 1


def final_excess(history, min_loss):
    """How far the last loss is above ``min_loss``, as a fraction (float32 rounding can dip below 0)."""
    return max(0.0, float(history[-1, 2]) / min_loss - 1)


def shrink_per_step(history, optimum):
    """Factor by which the distance to ``optimum`` shrinks per iteration, fitted where it is in (0.001, 1).

    There a run is past its start and not yet at float32 precision.
    """
    distance = np.hypot(*(history[:, :2] - optimum).T)
    fitted = np.flatnonzero((distance < 1) & (distance > 1e-3))
    if len(fitted) < 3:
        raise ValueError("shrink_per_step: fewer than 3 iterations with a distance in (0.001, 1)")
    return float(np.exp(np.polyfit(fitted, np.log(distance[fitted]), 1)[0]))


def grid_search(run, rates):
    """Run ``run(lr)`` for every rate; returns {lr: history, or None if the run diverged}."""
    results = {}
    for lr in rates:
        try:
            results[lr] = run(lr)
        except FloatingPointError:
            results[lr] = None
    return results


def race_rate(results, min_loss):
    """The rate an optimizer races with, from its grid ``results`` ({lr: history or None}).

    The smallest rate within 2 iterations of the fastest to stay close (one or two iterations are
    no real difference); if no rate stays close, the one that ends nearest the minimum.
    """
    finished = {lr: h for lr, h in results.items() if h is not None}
    if not finished:
        raise ValueError("race_rate: every rate of the grid diverged; add smaller rates")
    settled = {lr: stays_close(h, min_loss) for lr, h in finished.items()}
    settled = {lr: n for lr, n in settled.items() if n is not None}
    if not settled:
        return min(finished, key=lambda lr: finished[lr][-1, 2])
    fastest = min(settled.values())
    return min(lr for lr, n in settled.items() if n <= fastest + 2)


def grid_table(grids, chosen, min_loss, iterations):
    """The grid as text: 'stays close from iteration ...' per rate, the raced rate starred."""
    lines = [f"stays close from iteration ... (— not within {iterations}, × diverged, * raced)"]
    for name, results in grids.items():
        cells = []
        for lr, history in results.items():
            n = None if history is None else stays_close(history, min_loss)
            entry = "×" if history is None else ("—" if n is None else str(n))
            cells.append(f"{lr:g}: {entry}{'*' if lr == chosen[name] else ''}")
        lines.append(f"{name:16}" + "".join(f"{cell:13}" for cell in cells))
    return "\n".join(lines)


def heavy_ball_rate(learning_rate, beta, curvatures):
    """Asymptotic factor per step of heavy-ball momentum on a quadratic with these curvatures.

    Along an eigendirection with curvature λ the error obeys e' = (1 + β − ηλ) e − β e_prev; the
    factor is the root of larger modulus of z² − (1 + β − ηλ) z + β = 0, and the slowest direction sets the
    rate. Broadcasts over ``learning_rate`` and ``beta``; a rate ≥ 1 means no convergence.
    """
    learning_rate, beta = np.broadcast_arrays(np.asarray(learning_rate, float), np.asarray(beta, float))
    rates = []
    for curvature in curvatures:
        trace = 1 + beta - learning_rate * curvature
        root = np.sqrt((trace**2 - 4 * beta).astype(complex))
        rates.append(np.maximum(abs((trace + root) / 2), abs((trace - root) / 2)))
    return np.max(rates, axis=0)


def claim(holds, statement):
    """Print ``statement`` if ``holds``; otherwise raise AssertionError saying which claim failed."""
    if not holds:
        raise AssertionError(f"claim failed: {statement}")
    print(f"✓ {statement}")
