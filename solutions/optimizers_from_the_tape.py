"""Model answers to the exercises of simple_height_vs_weight/optimizers_from_the_tape.ipynb.

Read these after trying: each exercise has a correct answer and the typical wrong ones its
checker recognises (``tests/test_solutions.py`` proves every checker against them).
"""

from __future__ import annotations

import numpy as np

from gdtf import import_tensorflow_quietly
from gdtf.exercises import Solution, Wrong

tf = import_tensorflow_quietly()


def _line_mse(slope, intercept, x, y):  # the notebooks' loss (regression.line_mse), written out
    return tf.reduce_mean((slope * x + intercept - y) ** 2)


# optimizers-1: Adamax (Kingma and Ba, 2014, section 7.1) replaces Adam's root mean square by an
# exponentially decayed maximum of |g|. The mean m still starts at 0, so it keeps Adam's bias
# correction for m: divide by 1 − β1^t. u needs none: a maximum is not pulled towards its start.
def adamax(learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    mean, largest, t = tf.Variable(tf.zeros(2)), tf.Variable(tf.zeros(2)), tf.Variable(0.0)

    def step(theta, gradient):
        t.assign_add(1.0)
        mean.assign_add((gradient - mean) * (1 - beta_1))
        largest.assign(tf.maximum(beta_2 * largest, tf.abs(gradient)))  # size, whatever the sign
        theta.assign_sub(learning_rate * mean / ((1 - beta_1**t) * (largest + epsilon)))

    return step


def adamax_uncorrected(learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    mean, largest = tf.Variable(tf.zeros(2)), tf.Variable(tf.zeros(2))

    def step(theta, gradient):
        mean.assign_add((gradient - mean) * (1 - beta_1))
        largest.assign(tf.maximum(beta_2 * largest, tf.abs(gradient)))
        theta.assign_sub(learning_rate * mean / (largest + epsilon))  # m's bias towards 0 left in

    return step


def adamax_signed(learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    mean, largest, t = tf.Variable(tf.zeros(2)), tf.Variable(tf.zeros(2)), tf.Variable(0.0)

    def step(theta, gradient):
        t.assign_add(1.0)
        mean.assign_add((gradient - mean) * (1 - beta_1))
        largest.assign(tf.maximum(beta_2 * largest, gradient))  # a negative gradient never counts
        theta.assign_sub(learning_rate * mean / ((1 - beta_1**t) * (largest + epsilon)))

    return step


def adamax_default_betas(learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    return adamax(learning_rate)  # the β1 and β2 passed in are ignored


# optimizers-2: from m = s = 0, one update gives m = (1 − β1) g and s = (1 − β2) g². Bias
# correction divides them by 1 − β1 and 1 − β2: the step is −η g/|g|, length η whatever g. Without
# it the step is −η (1 − β1)/√(1 − β2) · g/|g|: about 3.2 η at the defaults. ε is negligible here.
def adam_first_step(gradient, learning_rate, beta_1, beta_2, bias_correction):
    mean, mean_square = (1 - beta_1) * gradient, (1 - beta_2) * gradient**2
    if bias_correction:
        mean, mean_square = mean / (1 - beta_1), mean_square / (1 - beta_2)
    return -learning_rate * mean / (np.sqrt(mean_square) + 1e-7)


def adam_first_step_always_corrected(gradient, learning_rate, beta_1, beta_2, bias_correction):
    return -learning_rate * np.sign(gradient)  # the flag ignored


def adam_first_step_no_root(gradient, learning_rate, beta_1, beta_2, bias_correction):
    mean, mean_square = (1 - beta_1) * gradient, (1 - beta_2) * gradient**2
    if bias_correction:
        mean, mean_square = mean / (1 - beta_1), mean_square / (1 - beta_2)
    return -learning_rate * mean / (mean_square + 1e-7)  # divided by s, not by √s


def adam_first_step_mean_corrected_only(gradient, learning_rate, beta_1, beta_2, bias_correction):
    mean, mean_square = (1 - beta_1) * gradient, (1 - beta_2) * gradient**2
    if bias_correction:
        mean = mean / (1 - beta_1)  # m corrected, s left biased towards 0
    return -learning_rate * mean / (np.sqrt(mean_square) + 1e-7)


def adam_first_step_betas_swapped(gradient, learning_rate, beta_1, beta_2, bias_correction):
    return adam_first_step(gradient, learning_rate, beta_2, beta_1, bias_correction)


# optimizers-3: draw batch_size indices with the generator passed in (a new draw at every call),
# gather the SAME indices from x and y, and let the tape differentiate the batch's mean loss.
# Every point is equally likely, so the average over many calls is the full-batch gradient.
def minibatch_gradient(theta, x, y, batch_size, generator):
    indices = generator.uniform([batch_size], maxval=tf.shape(x)[0], dtype=tf.int32)
    with tf.GradientTape() as tape:
        loss = _line_mse(theta[0], theta[1], tf.gather(x, indices), tf.gather(y, indices))
    return tape.gradient(loss, theta)


def _gradient_on(theta, x, y, x_indices, y_indices):
    with tf.GradientTape() as tape:
        loss = _line_mse(theta[0], theta[1], tf.gather(x, x_indices), tf.gather(y, y_indices))
    return tape.gradient(loss, theta)


def minibatch_gradient_reseeded(theta, x, y, batch_size, generator):
    generator = tf.random.Generator.from_seed(7)  # a fresh generator each call: the same batch
    indices = generator.uniform([batch_size], maxval=tf.shape(x)[0], dtype=tf.int32)
    return _gradient_on(theta, x, y, indices, indices)


def minibatch_gradient_summed(theta, x, y, batch_size, generator):
    indices = generator.uniform([batch_size], maxval=tf.shape(x)[0], dtype=tf.int32)
    with tf.GradientTape() as tape:
        errors = theta[0] * tf.gather(x, indices) + theta[1] - tf.gather(y, indices)
        loss = tf.reduce_sum(errors**2)  # a sum over the batch
    return tape.gradient(loss, theta)


def minibatch_gradient_unpaired(theta, x, y, batch_size, generator):
    x_indices = generator.uniform([batch_size], maxval=tf.shape(x)[0], dtype=tf.int32)
    y_indices = generator.uniform([batch_size], maxval=tf.shape(y)[0], dtype=tf.int32)  # other points
    return _gradient_on(theta, x, y, x_indices, y_indices)


def minibatch_gradient_last_never(theta, x, y, batch_size, generator):
    indices = generator.uniform([batch_size], maxval=tf.shape(x)[0] - 1, dtype=tf.int32)  # maxval n − 1
    return _gradient_on(theta, x, y, indices, indices)


def minibatch_gradient_first_half(theta, x, y, batch_size, generator):
    indices = generator.uniform([batch_size], maxval=tf.shape(x)[0] // 2, dtype=tf.int32)  # half the data
    return _gradient_on(theta, x, y, indices, indices)


def minibatch_gradient_window(theta, x, y, batch_size, generator):
    start = generator.uniform([], maxval=tf.shape(x)[0] - batch_size + 1, dtype=tf.int32)
    indices = tf.range(start, start + batch_size)  # neighbours: the ends are drawn less often
    return _gradient_on(theta, x, y, indices, indices)


def minibatch_gradient_one_point(theta, x, y, batch_size, generator):
    indices = generator.uniform([1], maxval=tf.shape(x)[0], dtype=tf.int32)  # batch_size ignored
    return _gradient_on(theta, x, y, indices, indices)


def minibatch_gradient_global_random(theta, x, y, batch_size, generator):
    indices = tf.random.uniform([batch_size], maxval=tf.shape(x)[0], dtype=tf.int32)  # not the generator
    return _gradient_on(theta, x, y, indices, indices)


# optimizers-4: keep a step count k in a tf.Variable, starting at 0 (Keras's schedules see the
# optimizer's iterations before the step), and scale the rate by decay_rate^(k / decay_steps).
def rmsprop_decayed(learning_rate, decay_rate=0.8, decay_steps=10, rho=0.9, epsilon=1e-7):
    mean_square, k = tf.Variable(tf.zeros(2)), tf.Variable(0.0)

    def step(theta, gradient):
        rate = learning_rate * decay_rate ** (k / decay_steps)  # k = 0: the full rate first
        mean_square.assign(rho * mean_square + (1 - rho) * gradient**2)
        theta.assign_sub(rate * gradient / tf.sqrt(mean_square + epsilon))
        k.assign_add(1.0)

    return step


def rmsprop_decayed_from_one(learning_rate, decay_rate=0.8, decay_steps=10, rho=0.9, epsilon=1e-7):
    mean_square, k = tf.Variable(tf.zeros(2)), tf.Variable(0.0)

    def step(theta, gradient):
        k.assign_add(1.0)  # counted before the step: the first step is already decayed
        rate = learning_rate * decay_rate ** (k / decay_steps)
        mean_square.assign(rho * mean_square + (1 - rho) * gradient**2)
        theta.assign_sub(rate * gradient / tf.sqrt(mean_square + epsilon))

    return step


def rmsprop_decayed_per_step(learning_rate, decay_rate=0.8, decay_steps=10, rho=0.9, epsilon=1e-7):
    mean_square, k = tf.Variable(tf.zeros(2)), tf.Variable(0.0)

    def step(theta, gradient):
        rate = learning_rate * decay_rate**k  # decay_steps forgotten
        mean_square.assign(rho * mean_square + (1 - rho) * gradient**2)
        theta.assign_sub(rate * gradient / tf.sqrt(mean_square + epsilon))
        k.assign_add(1.0)

    return step


def rmsprop_decayed_never(learning_rate, decay_rate=0.8, decay_steps=10, rho=0.9, epsilon=1e-7):
    mean_square = tf.Variable(tf.zeros(2))

    def step(theta, gradient):  # section 2's rmsprop: the schedule's arguments are accepted, not used
        mean_square.assign(rho * mean_square + (1 - rho) * gradient**2)
        theta.assign_sub(learning_rate * gradient / tf.sqrt(mean_square + epsilon))

    return step


def rmsprop_decayed_staircase(learning_rate, decay_rate=0.8, decay_steps=10, rho=0.9, epsilon=1e-7):
    mean_square, k = tf.Variable(tf.zeros(2)), tf.Variable(0.0)

    def step(theta, gradient):
        rate = learning_rate * decay_rate ** tf.floor(k / decay_steps)  # whole periods only
        mean_square.assign(rho * mean_square + (1 - rho) * gradient**2)
        theta.assign_sub(rate * gradient / tf.sqrt(mean_square + epsilon))
        k.assign_add(1.0)

    return step


def rmsprop_decayed_epsilon_outside(learning_rate, decay_rate=0.8, decay_steps=10, rho=0.9, epsilon=1e-7):
    mean_square, k = tf.Variable(tf.zeros(2)), tf.Variable(0.0)

    def step(theta, gradient):
        rate = learning_rate * decay_rate ** (k / decay_steps)
        mean_square.assign(rho * mean_square + (1 - rho) * gradient**2)
        theta.assign_sub(rate * gradient / (tf.sqrt(mean_square) + epsilon))  # √s + ε, Adam's form
        k.assign_add(1.0)

    return step


def rmsprop_decayed_default_rho(learning_rate, decay_rate=0.8, decay_steps=10, rho=0.9, epsilon=1e-7):
    return rmsprop_decayed(learning_rate, decay_rate, decay_steps)  # rho passed in, not passed on


def rmsprop_decayed_python_count(learning_rate, decay_rate=0.8, decay_steps=10, rho=0.9, epsilon=1e-7):
    mean_square, count = tf.Variable(tf.zeros(2)), [0]  # a Python number: frozen in a compiled loop

    def step(theta, gradient):
        rate = learning_rate * decay_rate ** (count[0] / decay_steps)
        mean_square.assign(rho * mean_square + (1 - rho) * gradient**2)
        theta.assign_sub(rate * gradient / tf.sqrt(mean_square + epsilon))
        count[0] += 1

    return step


SOLUTIONS = {
    "optimizers-1": Solution(
        adamax,
        wrong=(
            Wrong(adamax_uncorrected, "bias", "m's bias correction forgotten"),
            Wrong(adamax_signed, "negative gradient", "max(β2 u, g) instead of max(β2 u, |g|)"),
            Wrong(adamax_default_betas, "default β1 and β2", "the β1 and β2 arguments ignored"),
        ),
    ),
    "optimizers-2": Solution(
        adam_first_step,
        wrong=(
            Wrong(adam_first_step_always_corrected, "but bias_correction is False", "the flag ignored"),
            Wrong(adam_first_step_no_root, "square root", "divided by s + ε instead of √s + ε"),
            Wrong(adam_first_step_mean_corrected_only, "both moments", "only m bias-corrected"),
            Wrong(adam_first_step_betas_swapped, "swapped", "β1 and β2 exchanged"),
        ),
    ),
    "optimizers-3": Solution(
        minibatch_gradient,
        wrong=(
            Wrong(
                minibatch_gradient_reseeded,
                "same gradient",
                "a new generator from a fixed seed at every call",
            ),
            Wrong(minibatch_gradient_summed, "not its sum", "the batch's squared errors summed"),
            Wrong(minibatch_gradient_unpaired, "same indices", "x and y gathered with different indices"),
            Wrong(minibatch_gradient_last_never, "last point is never drawn", "maxval n − 1"),
            Wrong(minibatch_gradient_first_half, "far more often", "indices from the first half only"),
            Wrong(minibatch_gradient_window, "neighbouring points", "a random run of consecutive points"),
            Wrong(minibatch_gradient_one_point, "uses 1 point", "one point per call, batch_size ignored"),
            Wrong(minibatch_gradient_global_random, "generator passed in", "tf.random.uniform"),
        ),
    ),
    "optimizers-4": Solution(
        rmsprop_decayed,
        wrong=(
            Wrong(rmsprop_decayed_from_one, "counts steps from 0", "the step counted before the first step"),
            Wrong(rmsprop_decayed_per_step, "decays too fast", "decay_rate applied at every step"),
            Wrong(rmsprop_decayed_never, "does not decay", "the schedule's arguments ignored"),
            Wrong(rmsprop_decayed_staircase, "continuous", "floor(k / decay_steps): a staircase"),
            Wrong(rmsprop_decayed_epsilon_outside, "inside the root", "√s + ε instead of √(s + ε)"),
            Wrong(rmsprop_decayed_default_rho, "default setting", "rho not passed on"),
            Wrong(rmsprop_decayed_python_count, "compiled loop", "the step count in a Python list"),
        ),
    ),
}
