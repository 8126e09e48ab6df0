"""Model answers to the exercises of simple_height_vs_weight/tf_grad_desc_intro.ipynb.

Read these after trying: each exercise has a correct answer and the typical wrong ones its
checker recognises (``tests/test_solutions.py`` proves every checker against them).
"""

from __future__ import annotations

import numpy as np

from gdtf import import_tensorflow_quietly
from gdtf.exercises import Solution, Wrong

tf = import_tensorflow_quietly()


# intro-1: with e_i = slope·x_i + intercept − y_i, L = mean(e²), so
#   ∂L/∂slope = mean(2 e_i · x_i)   (the chain rule: ∂e_i/∂slope = x_i)
#   ∂L/∂intercept = mean(2 e_i)     (∂e_i/∂intercept = 1)
def mse_gradient(slope, intercept, x, y):
    errors = slope * x + intercept - y
    return np.array([2 * np.mean(errors * x), 2 * np.mean(errors)])


def mse_gradient_without_the_2(slope, intercept, x, y):
    errors = slope * x + intercept - y
    return np.array([np.mean(errors * x), np.mean(errors)])


def mse_gradient_summed(slope, intercept, x, y):
    errors = slope * x + intercept - y
    return np.array([2 * np.sum(errors * x), 2 * np.sum(errors)])


def mse_gradient_doubled(slope, intercept, x, y):
    errors = slope * x + intercept - y
    return np.array([4 * np.mean(errors * x), 4 * np.mean(errors)])  # the 2 of e² taken twice


def mse_gradient_n_minus_1(slope, intercept, x, y):
    errors = slope * x + intercept - y
    return 2 * np.array([np.sum(errors * x), np.sum(errors)]) / (len(x) - 1)  # a sample variance's n − 1


def mse_gradient_no_chain_rule(slope, intercept, x, y):
    errors = slope * x + intercept - y
    return np.array([2 * np.mean(errors), 2 * np.mean(errors)])


def mse_gradient_wrong_sign(slope, intercept, x, y):
    errors = y - (slope * x + intercept)  # target − prediction, then the chain rule's −1 forgotten
    return np.array([2 * np.mean(errors * x), 2 * np.mean(errors)])


# intro-2: L(θ) = (1/n)|X̃θ − y|² with X̃ = [features, 1], so H = (2/n) X̃ᵀX̃ everywhere. Each step
# multiplies the error along an eigenvector by 1 − ηλ, and the steepest direction leaves
# |1 − ηλ| < 1 first, when η passes 2/λmax.
def largest_stable_rate(features):
    design = np.column_stack([features, np.ones(len(features))])
    hessian = 2 * design.T @ design / len(features)
    return 2 / np.linalg.eigvalsh(hessian).max()


def rate_where_steep_factor_is_zero(features):
    design = np.column_stack([features, np.ones(len(features))])
    return 1 / np.linalg.eigvalsh(2 * design.T @ design / len(features)).max()


def rate_from_summed_loss(features):
    design = np.column_stack([features, np.ones(len(features))])
    return 2 / np.linalg.eigvalsh(2 * design.T @ design).max()  # the Hessian of a sum, not a mean


def rate_without_intercept(features):
    features = np.asarray(features)
    return 2 / np.linalg.eigvalsh(2 * features.T @ features / len(features)).max()


def rate_from_flattest(features):
    design = np.column_stack([features, np.ones(len(features))])
    return 2 / np.linalg.eigvalsh(2 * design.T @ design / len(features)).min()  # the flat direction


# intro-3: along the flattest eigenvector the error shrinks by (1 − ηλmin) per step and the excess
# MSE, ½λe², by its square. So k steps multiply the excess by (1 − ηλmin)^(2k): solve for k. Exact
# for any η below the limit; k rounded up (the whole iterations a run needs) is accepted too.
def stall_iterations(x, learning_rate, fraction):
    hessian = 2 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])
    flattest = np.linalg.eigvalsh(hessian)[0]
    return np.log(fraction) / (2 * np.log(1 - learning_rate * flattest))


def stall_iterations_of_the_error(x, learning_rate, fraction):
    flattest = np.linalg.eigvalsh(2 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]]))[0]
    return np.log(fraction) / np.log(1 - learning_rate * flattest)  # the error's factor, not squared


def stall_iterations_truncated(x, learning_rate, fraction):
    return int(stall_iterations(x, learning_rate, fraction))  # int() rounds down: one step short


def stall_iterations_first_order(x, learning_rate, fraction):
    flattest = np.linalg.eigvalsh(2 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]]))[0]
    return np.log(fraction) / (-2 * learning_rate * flattest)  # ln(1 − ηλ) ≈ −ηλ: only for small ηλ


def stall_iterations_steep(x, learning_rate, fraction):
    steepest = np.linalg.eigvalsh(2 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]]))[-1]
    return np.log(fraction) / (2 * np.log(abs(1 - learning_rate * steepest)))


# intro-4: the inner tape gives the gradient; the outer tape, recording while it was computed,
# gives its Jacobian, the Hessian. Solve H d = ∇L rather than invert H.
def newton_update(loss_fn, theta):
    theta = tf.Variable(theta)  # a Variable: both tapes watch it
    with tf.GradientTape() as outer_tape:
        with tf.GradientTape() as inner_tape:
            loss = loss_fn(theta)
        gradient = inner_tape.gradient(loss, theta)
    hessian = outer_tape.jacobian(gradient, theta)
    return theta - tf.linalg.solve(hessian, gradient[:, None])[:, 0]


def newton_update_uphill(loss_fn, theta):
    theta = tf.Variable(theta)
    with tf.GradientTape() as outer_tape:
        with tf.GradientTape() as inner_tape:
            loss = loss_fn(theta)
        gradient = inner_tape.gradient(loss, theta)
    hessian = outer_tape.jacobian(gradient, theta)
    return theta + tf.linalg.solve(hessian, gradient[:, None])[:, 0]


def newton_update_hessian_by_gradient(loss_fn, theta):
    theta = tf.Variable(theta)
    with tf.GradientTape() as outer_tape:
        with tf.GradientTape() as inner_tape:
            loss = loss_fn(theta)
        gradient = inner_tape.gradient(loss, theta)
    row_sums = outer_tape.gradient(gradient, theta)  # the gradient of sum(gradient): H's row sums
    return theta - gradient / row_sums


def newton_update_gradient_outside(loss_fn, theta):
    theta = tf.Variable(theta)
    with tf.GradientTape() as outer_tape:
        with tf.GradientTape() as inner_tape:
            loss = loss_fn(theta)
    gradient = inner_tape.gradient(loss, theta)  # after the outer block: the outer tape never saw it
    hessian = outer_tape.jacobian(gradient, theta)
    return theta - tf.linalg.solve(hessian, gradient[:, None])[:, 0]


def newton_update_unwatched(loss_fn, theta):
    theta = tf.constant(theta)  # a constant: no tape watches it, so the gradient is None
    with tf.GradientTape() as outer_tape:
        with tf.GradientTape() as inner_tape:
            loss = loss_fn(theta)
        gradient = inner_tape.gradient(loss, theta)
    hessian = outer_tape.jacobian(gradient, theta)
    return theta - tf.linalg.solve(hessian, gradient[:, None])[:, 0]


SOLUTIONS = {
    "intro-1": Solution(
        mse_gradient,
        wrong=(
            Wrong(mse_gradient_without_the_2, "factor of 2", "the derivative of e² taken as e"),
            Wrong(mse_gradient_summed, "not a sum", "summed over the points instead of averaged"),
            Wrong(mse_gradient_doubled, "counts once", "4·mean(e·x): the factor 2 applied twice"),
            Wrong(mse_gradient_n_minus_1, "n − 1", "divided by n − 1 instead of n"),
            Wrong(mse_gradient_no_chain_rule, "chain rule", "the slope's component without the factor x"),
            Wrong(mse_gradient_wrong_sign, "sign", "the error written as target − prediction"),
        ),
    ),
    "intro-2": Solution(
        largest_stable_rate,
        wrong=(
            Wrong(rate_where_steep_factor_is_zero, "1 − ηλmax is 0", "1/λmax instead of 2/λmax"),
            Wrong(rate_from_summed_loss, "1/n", "the Hessian of the summed squares"),
            Wrong(rate_without_intercept, "column of ones", "the intercept left out of the Hessian"),
            Wrong(rate_from_flattest, "flattest direction", "2/λmin instead of 2/λmax"),
        ),
    ),
    "intro-3": Solution(
        stall_iterations,
        wrong=(
            Wrong(
                stall_iterations_of_the_error,
                "quadratic in the error",
                "the error's factor, not the excess's",
            ),
            Wrong(stall_iterations_first_order, "first order", "ln(1 − ηλ) replaced by −ηλ"),
            Wrong(stall_iterations_truncated, "rounded down", "int(k): the count rounded down"),
            Wrong(stall_iterations_steep, "flattest", "the steepest curvature instead of the flattest"),
        ),
    ),
    "intro-4": Solution(
        newton_update,
        wrong=(
            Wrong(newton_update_uphill, "uphill", "θ + H⁻¹∇L"),
            Wrong(
                newton_update_hessian_by_gradient,
                "differentiates its sum",
                "tape.gradient instead of jacobian",
            ),
            Wrong(
                newton_update_unwatched, "both tapes must watch", "theta a constant the tapes do not watch"
            ),
            Wrong(
                newton_update_gradient_outside,
                "inside the outer tape's with block",
                "the inner gradient computed after the outer tape closed",
            ),
        ),
    ),
}
