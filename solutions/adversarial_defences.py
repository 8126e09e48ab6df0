"""Solutions to the exercises of ``adversarial_example/adversarial_defences.ipynb``.

Each entry holds a model answer and the typical wrong answers its checker must catch, with
words its hint must contain (``tests/test_solutions.py`` proves every one). Try the exercise first.
"""

from __future__ import annotations

import sys
from pathlib import Path

import tensorflow as tf

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "adversarial_example"))
from cats_dogs import ONE_COUNT, logit_margin  # noqa: E402

from gdtf.exercises import Solution, Wrong  # noqa: E402

# ---------------------------------------------------------------- defences-1: the projection


def project(adversarial, images, epsilon):
    """The nearest point of each image's L-inf ball (its own epsilon) that is an image."""
    epsilon = tf.reshape(epsilon, [-1, 1, 1, 1])  # (n,) -> (n, 1, 1, 1): one budget per image
    # per value, the allowed range is the intersection of [x - eps, x + eps] and [0, 1]
    low = tf.maximum(images - epsilon, 0.0)
    high = tf.minimum(images + epsilon, 1.0)
    return tf.clip_by_value(adversarial, low, high)


def project_values(adversarial, images, epsilon):
    epsilon = tf.reshape(epsilon, [-1, 1, 1, 1])
    return tf.clip_by_value(adversarial, -epsilon, epsilon)  # the values, not the change


def project_change(adversarial, images, epsilon):
    epsilon = tf.reshape(epsilon, [-1, 1, 1, 1])
    return tf.clip_by_value(adversarial - images, -epsilon, epsilon)  # delta, not the point


def project_ball_only(adversarial, images, epsilon):
    epsilon = tf.reshape(epsilon, [-1, 1, 1, 1])
    return images + tf.clip_by_value(adversarial - images, -epsilon, epsilon)  # forgets [0, 1]


def project_box_only(adversarial, images, epsilon):
    return tf.clip_by_value(adversarial, 0.0, 1.0)  # forgets the budget


def project_epsilon_unshaped(adversarial, images, epsilon):
    # (n,) broadcasts against the channels: with n == C it runs, and is wrong
    return tf.clip_by_value(adversarial, tf.maximum(images - epsilon, 0.0), tf.minimum(images + epsilon, 1.0))


# ------------------------------------------------- defences-2: one adversarial-training gradient


def _cross_entropy(net, images, labels):
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, net(images)))


def adversarial_training_gradient(net, attack, images, labels):
    """The gradient, with respect to the weights, of train_classifier.pgd_fine_tune's loss:
    the first half of the batch clean, the second half attacked, mean cross-entropy."""
    half = len(labels) // 2
    # the attack runs with the weights held fixed (Danskin: the maximiser is a constant)
    attacked = attack(images[half:], labels[half:])
    mixed = tf.concat([images[:half], attacked], axis=0)
    with tf.GradientTape() as tape:  # variables are watched: no tape.watch needed
        loss = _cross_entropy(net, mixed, labels)
    return tape.gradient(loss, net.trainable_variables)


def gradient_through_the_attack(net, attack, images, labels):
    """Also correct: with the attack inside the tape, the gradient also follows the attacked
    point's dependence on the weights; PGD's point depends on them only through sign(), whose
    derivative is 0, so the gradient is the same (Danskin's, exactly)."""
    half = len(labels) // 2
    with tf.GradientTape() as tape:
        mixed = tf.concat([images[:half], attack(images[half:], labels[half:])], axis=0)
        loss = _cross_entropy(net, mixed, labels)
    return tape.gradient(loss, net.trainable_variables)


def gradient_at_clean_images(net, attack, images, labels):
    with tf.GradientTape() as tape:
        loss = _cross_entropy(net, images, labels)  # no attack at all
    return tape.gradient(loss, net.trainable_variables)


def gradient_all_attacked(net, attack, images, labels):
    attacked = attack(images, labels)  # Madry's objective, not the notebook's 50/50 mix
    with tf.GradientTape() as tape:
        loss = _cross_entropy(net, attacked, labels)
    return tape.gradient(loss, net.trainable_variables)


def gradient_of_the_margin(net, attack, images, labels):
    half = len(labels) // 2
    mixed = tf.concat([images[:half], attack(images[half:], labels[half:])], axis=0)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(logit_margin(net(mixed), labels))  # the attack's objective
    return tape.gradient(loss, net.trainable_variables)


def gradient_of_the_summed_loss(net, attack, images, labels):
    half = len(labels) // 2
    mixed = tf.concat([images[:half], attack(images[half:], labels[half:])], axis=0)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, net(mixed)))
    return tape.gradient(loss, net.trainable_variables)


# ---------------------------------------------------------------- defences-3: distance in counts


def _margin_and_gradient(logits_of, images, labels, watch=True):
    with tf.GradientTape() as tape:
        if watch:
            tape.watch(images)  # a constant tensor: without watch the gradient is None
        margin = logit_margin(logits_of(images, training=False), labels)
    return margin, tape.gradient(margin, images)


def first_order_distance(logits_of, images, labels):
    """|m| over the first-order drop of one sign step of one count, per image, in counts."""
    margin, gradient = _margin_and_gradient(logits_of, images, labels)
    gain_per_count = ONE_COUNT * tf.reduce_sum(tf.abs(gradient), axis=[1, 2, 3])  # eps ||g||_1
    return tf.abs(margin) / gain_per_count


def distance_signed(logits_of, images, labels):
    margin, gradient = _margin_and_gradient(logits_of, images, labels)
    return margin / (ONE_COUNT * tf.reduce_sum(tf.abs(gradient), axis=[1, 2, 3]))


def distance_in_unit_values(logits_of, images, labels):
    margin, gradient = _margin_and_gradient(logits_of, images, labels)
    return tf.abs(margin) / tf.reduce_sum(tf.abs(gradient), axis=[1, 2, 3])


def distance_with_l2_norm(logits_of, images, labels):
    margin, gradient = _margin_and_gradient(logits_of, images, labels)
    return tf.abs(margin) / (ONE_COUNT * tf.norm(tf.reshape(gradient, [len(margin), -1]), axis=1))


def distance_with_mean(logits_of, images, labels):
    margin, gradient = _margin_and_gradient(logits_of, images, labels)
    return tf.abs(margin) / (ONE_COUNT * tf.reduce_mean(tf.abs(gradient), axis=[1, 2, 3]))


def distance_with_batch_norm(logits_of, images, labels):
    margin, gradient = _margin_and_gradient(logits_of, images, labels)
    return tf.abs(margin) / (ONE_COUNT * tf.reduce_sum(tf.abs(gradient)))  # one sum for all


def distance_of_cross_entropy(logits_of, images, labels):
    with tf.GradientTape() as tape:
        tape.watch(images)
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits_of(images, training=False))
    gradient = tape.gradient(loss, images)
    return tf.abs(loss) / (ONE_COUNT * tf.reduce_sum(tf.abs(gradient), axis=[1, 2, 3]))


def distance_without_watch(logits_of, images, labels):
    margin, gradient = _margin_and_gradient(logits_of, images, labels, watch=False)
    return tf.abs(margin) / (ONE_COUNT * tf.reduce_sum(tf.abs(gradient), axis=[1, 2, 3]))


# ------------------------------------------------- defences-4: a random start and one PGD step


def pgd_first_step(logits_of, images, labels, epsilon, step_size, noise, watch=True):
    """A random point of each image's ball, then one sign step down the margin, projected."""
    budget = tf.reshape(epsilon, [-1, 1, 1, 1])
    start = tf.clip_by_value(images + noise * budget, 0.0, 1.0)  # a point of the ball and [0, 1]
    with tf.GradientTape() as tape:
        if watch:
            tape.watch(start)
        margin = logit_margin(logits_of(start, training=False), labels)
    stepped = start - step_size * tf.sign(tape.gradient(margin, start))
    return project(stepped, images, epsilon)  # the ball is centred on the originals


def _step(logits_of, point, labels):
    _, gradient = _margin_and_gradient(logits_of, point, labels)
    return tf.sign(gradient)


def _start(images, epsilon, noise):
    return tf.clip_by_value(images + noise * tf.reshape(epsilon, [-1, 1, 1, 1]), 0.0, 1.0)


def first_step_on_predicted_labels(logits_of, images, labels, epsilon, step_size, noise):
    start = _start(images, epsilon, noise)
    predicted = tf.argmax(logits_of(start, training=False), axis=1, output_type=tf.int32)
    return project(start - step_size * _step(logits_of, start, predicted), images, epsilon)


def first_step_without_watch(logits_of, images, labels, epsilon, step_size, noise):
    return pgd_first_step(logits_of, images, labels, epsilon, step_size, noise, watch=False)


def first_step_from_the_images(logits_of, images, labels, epsilon, step_size, noise):
    start = _start(images, epsilon, noise)
    return project(images - step_size * _step(logits_of, start, labels), images, epsilon)


def first_step_gradient_at_images(logits_of, images, labels, epsilon, step_size, noise):
    start = _start(images, epsilon, noise)
    return project(start - step_size * _step(logits_of, images, labels), images, epsilon)


def first_step_of_epsilon(logits_of, images, labels, epsilon, step_size, noise):
    start, budget = _start(images, epsilon, noise), tf.reshape(epsilon, [-1, 1, 1, 1])
    return project(start - budget * _step(logits_of, start, labels), images, epsilon)


def first_step_unclipped_start(logits_of, images, labels, epsilon, step_size, noise):
    start = images + noise * tf.reshape(epsilon, [-1, 1, 1, 1])  # may leave [0, 1]
    return project(start - step_size * _step(logits_of, start, labels), images, epsilon)


def first_step_along_the_gradient(logits_of, images, labels, epsilon, step_size, noise):
    start = _start(images, epsilon, noise)
    _, gradient = _margin_and_gradient(logits_of, start, labels)
    return project(start - step_size * gradient, images, epsilon)  # no sign


def first_step_up(logits_of, images, labels, epsilon, step_size, noise):
    start = _start(images, epsilon, noise)
    return project(start + step_size * _step(logits_of, start, labels), images, epsilon)


def first_step_around_the_start(logits_of, images, labels, epsilon, step_size, noise):
    start = _start(images, epsilon, noise)
    return project(start - step_size * _step(logits_of, start, labels), start, epsilon)


SOLUTIONS = {
    "defences-1": Solution(
        project,
        wrong=(
            Wrong(project_values, "distance from the original", "clips the values to [-eps, eps]"),
            Wrong(project_change, "the change delta", "returns delta, not the point"),
            Wrong(project_ball_only, "outside [0, 1]", "forgets the [0, 1] box"),
            Wrong(project_box_only, "further than its own epsilon", "forgets the budget"),
            Wrong(project_epsilon_unshaped, "shape (n, 1, 1, 1)", "epsilon broadcast over channels"),
        ),
    ),
    "defences-2": Solution(
        adversarial_training_gradient,
        wrong=(
            Wrong(gradient_at_clean_images, "gradient at the clean images", "no attack"),
            Wrong(gradient_all_attacked, "first half of the batch clean", "Madry's all-attacked loss"),
            Wrong(gradient_of_the_margin, "descend the cross-entropy", "the attack's objective"),
            Wrong(gradient_of_the_summed_loss, "mean cross-entropy", "sum over the batch"),
        ),
    ),
    "defences-3": Solution(
        first_order_distance,
        wrong=(
            Wrong(distance_signed, "negative distances", "m, not |m|"),
            Wrong(distance_in_unit_values, "in counts", "in [0, 1] units, not counts"),
            Wrong(distance_with_l2_norm, "L2 norm", "||g||_2 instead of ||g||_1"),
            Wrong(distance_with_mean, "a mean, not a sum", "reduce_mean instead of reduce_sum"),
            Wrong(distance_with_batch_norm, "per image", "one ||g||_1 over the whole batch"),
            Wrong(distance_of_cross_entropy, "cross-entropy", "the loss, not the margin"),
            Wrong(distance_without_watch, "tape.watch", "the constant images were not watched"),
        ),
    ),
    "defences-4": Solution(
        pgd_first_step,
        wrong=(
            Wrong(first_step_on_predicted_labels, "predicted labels", "ignores the true labels"),
            Wrong(first_step_without_watch, "tape.watch", "the start, a constant, was not watched"),
            Wrong(first_step_from_the_images, "PGD moves the current point", "steps from the original"),
            Wrong(first_step_gradient_at_images, "at the current point", "gradient at the original"),
            Wrong(first_step_of_epsilon, "step_size", "a step of the whole budget"),
            Wrong(first_step_unclipped_start, "clip it to [0, 1]", "the start leaves [0, 1]"),
            Wrong(first_step_along_the_gradient, "along its sign", "the gradient, not its sign"),
            Wrong(first_step_up, "wrong way", "raises the margin"),
            Wrong(first_step_around_the_start, "centred on the original", "projects around the start"),
        ),
    ),
}
