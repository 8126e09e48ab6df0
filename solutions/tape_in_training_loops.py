"""Solutions to the exercises of ``gradient_tape_basics/tape_in_training_loops.ipynb``.

For each exercise: a model answer, then typical wrong answers with the mistake each stands for.
``tests/test_solutions.py`` proves that the notebook's checkers accept the first and reject each
of the others with a hint that names the mistake.
"""

import numpy as np

from gdtf import import_tensorflow_quietly
from gdtf.exercises import Solution, Wrong

tf = import_tensorflow_quietly()


# --- loops-1: global-norm clipping by hand --------------------------------------------------
def clip_by_global_norm(grads, clip_norm):
    """Rescale all tensors by one factor so that their joint norm is at most clip_norm."""
    joint_norm = tf.sqrt(sum(tf.reduce_sum(g**2) for g in grads))  # as if one long vector
    factor = clip_norm / tf.maximum(joint_norm, clip_norm)  # 1 below the threshold
    return [g * factor for g in grads]  # one factor for all: the direction is kept


def clip_per_tensor(grads, clip_norm):
    return [tf.clip_by_norm(g, clip_norm) for g in grads]  # each tensor on its own


def clip_always(grads, clip_norm):
    joint_norm = tf.sqrt(sum(tf.reduce_sum(g**2) for g in grads))
    return [g * clip_norm / joint_norm for g in grads]  # also stretches small gradients


def clip_without_square_root(grads, clip_norm):
    squares = sum(tf.reduce_sum(g**2) for g in grads)  # the squared norm, used as the norm
    return [g * clip_norm / tf.maximum(squares, clip_norm) for g in grads]


def clip_as_map(grads, clip_norm):
    joint_norm = tf.sqrt(sum(tf.reduce_sum(g**2) for g in grads))
    factor = clip_norm / tf.maximum(joint_norm, clip_norm)
    return map(lambda g: g * factor, grads)  # an iterator, not a list


def clip_by_the_builtin(grads, clip_norm):
    return tf.clip_by_global_norm(grads, clip_norm)[0]  # right, but not written by hand


# --- loops-2: the loss with model.losses --------------------------------------------------
def regularised_loss(model, x, y):
    """What a custom step must minimise to train what fit() trains."""
    predictions = model(x)  # first: the call computes activity penalties
    penalties = sum(model.losses)  # one per regularizer, read after the call (0 if none)
    return tf.reduce_mean(tf.square(predictions - y)) + penalties


def loss_without_penalties(model, x, y):
    return tf.reduce_mean(tf.square(model(x) - y))  # the regularizers are silently off


def loss_penalties_read_first(model, x, y):
    penalties = sum(model.losses)  # before the call: the activity penalty is not there yet
    return tf.reduce_mean(tf.square(model(x) - y)) + penalties


def loss_summed(model, x, y):
    predictions = model(x)
    return tf.reduce_sum(tf.square(predictions - y)) + sum(model.losses)


def loss_penalties_stopped(model, x, y):
    predictions = model(x)
    penalties = tf.stop_gradient(sum(model.losses))  # the right value, but a constant to the tape
    return tf.reduce_mean(tf.square(predictions - y)) + penalties


# --- loops-3: REINFORCE for a Gaussian policy ----------------------------------------------
def _log_density(means, actions, std):
    """log N(a; μ, σ²), one μ per row, up to a constant that does not depend on μ."""
    return -((actions - means[:, None]) ** 2) / (2 * std**2)


def reinforce_estimates(mean, actions, rewards, std):
    """One REINFORCE estimate of dJ/dμ per batch (row); each pull's baseline: the others' mean."""
    batches, batch_size = actions.shape
    others = tf.reduce_sum(rewards, axis=1, keepdims=True) - rewards
    baseline = others / (batch_size - 1)  # leaves the pull's own reward out: unbiased
    copies = tf.Variable(tf.fill([batches], mean))  # one μ per batch, as in section 3
    with tf.GradientTape() as tape:
        log_probs = _log_density(copies, actions, std)  # the actions are data, not on the tape
        objective = tf.reduce_sum(tf.reduce_mean((rewards - baseline) * log_probs, axis=1))
    return tape.gradient(objective, copies)  # entry b: batch b's estimate (ascent direction)


def reinforce_batch_mean(mean, actions, rewards, std):
    batches, _ = actions.shape
    baseline = tf.reduce_mean(rewards, axis=1, keepdims=True)  # includes r_i: biased
    copies = tf.Variable(tf.fill([batches], mean))
    with tf.GradientTape() as tape:
        log_probs = _log_density(copies, actions, std)
        objective = tf.reduce_sum(tf.reduce_mean((rewards - baseline) * log_probs, axis=1))
    return tape.gradient(objective, copies)


def reinforce_of_the_loss(mean, actions, rewards, std):
    return -reinforce_estimates(mean, actions, rewards, std)  # the loss's gradient: descent


def reinforce_summed(mean, actions, rewards, std):
    return actions.shape[1] * reinforce_estimates(mean, actions, rewards, std)  # sum, not mean


def reinforce_without_variance(mean, actions, rewards, std):
    return std**2 * reinforce_estimates(mean, actions, rewards, std)  # (a - μ), not (a - μ)/σ²


# --- loops-4: a tf.function that traces once --------------------------------------------------
def make_scaled_sum():
    """A tf.function with one declared signature: any length of values, a float32 factor."""
    signature = [tf.TensorSpec([None], tf.float32), tf.TensorSpec([], tf.float32)]

    @tf.function(input_signature=signature)  # Python floats are converted, not retraced
    def scaled_sum(values, factor):
        return tf.reduce_sum(values) * factor

    return scaled_sum


def make_scaled_sum_plain():
    @tf.function  # traces per length and per Python float
    def scaled_sum(values, factor):
        return tf.reduce_sum(values) * factor

    return scaled_sum


def make_scaled_sum_reduce_retracing():
    @tf.function(reduce_retracing=True)  # shapes generalise, Python floats still retrace
    def scaled_sum(values, factor):
        return tf.reduce_sum(values) * factor

    return scaled_sum


def make_scaled_sum_eager():
    def scaled_sum(values, factor):  # not a tf.function at all
        return tf.reduce_sum(values) * factor

    return scaled_sum


def make_scaled_sum_numpy():
    signature = [tf.TensorSpec([None], tf.float32), tf.TensorSpec([], tf.float32)]

    @tf.function(input_signature=signature)
    def scaled_sum(values, factor):
        return np.sum(values) * factor  # NumPy cannot see a symbolic tensor while tracing

    return scaled_sum


def make_scaled_sum_fixed_length():
    signature = [tf.TensorSpec([3], tf.float32), tf.TensorSpec([], tf.float32)]  # length 3 only

    @tf.function(input_signature=signature)
    def scaled_sum(values, factor):
        return tf.reduce_sum(values) * factor

    return scaled_sum


SOLUTIONS = {
    "loops-1": Solution(
        clip_by_global_norm,
        wrong=(
            Wrong(clip_per_tensor, "per tensor", "tf.clip_by_norm on each tensor"),
            Wrong(clip_always, "unchanged", "rescaling to the threshold even below it"),
            Wrong(clip_without_square_root, "square root", "the squared norm used as the norm"),
            Wrong(clip_as_map, "return a list", "map(...): an iterator, not a list"),
            Wrong(clip_by_the_builtin, "without tf.clip_by_global_norm", "the built-in itself"),
        ),
    ),
    "loops-2": Solution(
        regularised_loss,
        wrong=(
            Wrong(loss_without_penalties, "model.losses are left out", "the penalties forgotten"),
            Wrong(loss_penalties_read_first, "after calling the model", "model.losses read before the call"),
            Wrong(loss_summed, "not a sum", "a summed instead of a mean squared error"),
            Wrong(loss_penalties_stopped, "no float()", "the penalties behind tf.stop_gradient"),
        ),
    ),
    "loops-3": Solution(
        reinforce_estimates,
        wrong=(
            Wrong(reinforce_batch_mean, "own reward", "the batch mean as the baseline"),
            Wrong(reinforce_of_the_loss, "sign", "the gradient of the loss, not of J"),
            Wrong(reinforce_summed, "not their sum", "summed over the pulls instead of averaged"),
            Wrong(reinforce_without_variance, "missing a factor", "the score (a - μ) without 1/σ²"),
        ),
    ),
    "loops-4": Solution(
        make_scaled_sum,
        wrong=(
            Wrong(make_scaled_sum_plain, "input_signature", "a plain tf.function"),
            Wrong(make_scaled_sum_reduce_retracing, "Python float", "reduce_retracing: floats still retrace"),
            Wrong(make_scaled_sum_eager, "return a tf.function", "a plain Python function"),
            Wrong(make_scaled_sum_numpy, "symbolic tf.Tensor", "np.sum while tracing"),
            Wrong(make_scaled_sum_fixed_length, "accepts any length", "TensorSpec([3]): one length only"),
        ),
    ),
}
