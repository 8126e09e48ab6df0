"""Solutions to the exercises of ``adversarial_example/adversarial_defences.ipynb``.

Each entry holds a model answer and the typical wrong answers its checker must catch, with
words its hint must contain (``tests/test_solutions.py`` proves every one). Try the exercise first.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import tensorflow as tf

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "adversarial_example"))
from cats_dogs import ONE_COUNT, logit_margin  # noqa: E402

from gdtf.exercises import Solution, Wrong  # noqa: E402

# ---------------------------------------------------------------- defences-1: the projection


def project(adversarial, images, epsilon):
    """The nearest point of the L-inf ball of radius epsilon around ``images`` that is an image."""
    # per value, the allowed range is the intersection of [x - eps, x + eps] and [0, 1]
    low = tf.maximum(images - epsilon, 0.0)
    high = tf.minimum(images + epsilon, 1.0)
    return tf.clip_by_value(adversarial, low, high)


def project_values(adversarial, images, epsilon):
    return tf.clip_by_value(adversarial, -epsilon, epsilon)  # the values, not the change


def project_ball_only(adversarial, images, epsilon):
    return images + tf.clip_by_value(adversarial - images, -epsilon, epsilon)  # forgets [0, 1]


def project_box_only(adversarial, images, epsilon):
    return tf.clip_by_value(adversarial, 0.0, 1.0)  # forgets the budget


# ---------------------------------------------------------------- defences-2: Wilson's interval


def wilson_interval(correct, total, z=1.96):
    """Wilson's 95% score interval for ``correct`` successes out of ``total``."""
    share = correct / total
    centre = (share + z**2 / (2 * total)) / (1 + z**2 / total)
    half = z * np.sqrt(share * (1 - share) / total + z**2 / (4 * total**2)) / (1 + z**2 / total)
    # the ends are exact at 0 and at total (where rounding could leave a hair of a gap)
    low = 0.0 if correct == 0 else max(0.0, centre - half)
    high = 1.0 if correct == total else min(1.0, centre + half)
    return low, high


def normal_interval(correct, total):
    share = correct / total
    half = 1.96 * np.sqrt(share * (1 - share) / total)  # zero width at 0 of n
    return max(0.0, share - half), min(1.0, share + half)


def wilson_at_90_percent(correct, total):
    return wilson_interval(correct, total, z=1.645)


def wilson_in_percent(correct, total):
    low, high = wilson_interval(correct, total)
    return 100 * low, 100 * high


# ---------------------------------------------------------------- defences-3: distance in counts


def first_order_distance(logits_of, images, labels):
    """|m| over the first-order drop of one sign step of one count, per image, in counts."""
    with tf.GradientTape() as tape:
        tape.watch(images)  # a constant tensor: without watch the gradient is None
        margin = logit_margin(logits_of(images, training=False), labels)
    gradient = tape.gradient(margin, images)
    gain_per_count = ONE_COUNT * tf.reduce_sum(tf.abs(gradient), axis=[1, 2, 3])  # eps ||g||_1
    return tf.abs(margin) / gain_per_count


def distance_signed(logits_of, images, labels):
    with tf.GradientTape() as tape:
        tape.watch(images)
        margin = logit_margin(logits_of(images, training=False), labels)
    gradient = tape.gradient(margin, images)
    return margin / (ONE_COUNT * tf.reduce_sum(tf.abs(gradient), axis=[1, 2, 3]))


def distance_in_unit_values(logits_of, images, labels):
    with tf.GradientTape() as tape:
        tape.watch(images)
        margin = logit_margin(logits_of(images, training=False), labels)
    gradient = tape.gradient(margin, images)
    return tf.abs(margin) / tf.reduce_sum(tf.abs(gradient), axis=[1, 2, 3])


def distance_with_l2_norm(logits_of, images, labels):
    with tf.GradientTape() as tape:
        tape.watch(images)
        margin = logit_margin(logits_of(images, training=False), labels)
    gradient = tape.gradient(margin, images)
    return tf.abs(margin) / (ONE_COUNT * tf.norm(tf.reshape(gradient, [len(margin), -1]), axis=1))


def distance_without_watch(logits_of, images, labels):
    with tf.GradientTape() as tape:
        margin = logit_margin(logits_of(images, training=False), labels)
    gradient = tape.gradient(margin, images)
    return tf.abs(margin) / (ONE_COUNT * tf.reduce_sum(tf.abs(gradient), axis=[1, 2, 3]))


# ---------------------------------------------------------------- defences-4: one PGD step


def _gradient_at(logits_of, point, labels):
    with tf.GradientTape() as tape:
        tape.watch(point)
        margin = logit_margin(logits_of(point, training=False), labels)
    return tape.gradient(margin, point)


def pgd_step(logits_of, adversarial, images, labels, epsilon, step_size):
    """A sign step down the margin at the current point, then back into the ball and [0, 1]."""
    stepped = adversarial - step_size * tf.sign(_gradient_at(logits_of, adversarial, labels))
    return project(stepped, images, epsilon)  # the ball is centred on the originals


def pgd_step_gradient_at_original(logits_of, adversarial, images, labels, epsilon, step_size):
    stepped = adversarial - step_size * tf.sign(_gradient_at(logits_of, images, labels))
    return project(stepped, images, epsilon)


def pgd_step_projected_around_itself(logits_of, adversarial, images, labels, epsilon, step_size):
    stepped = adversarial - step_size * tf.sign(_gradient_at(logits_of, adversarial, labels))
    return project(stepped, adversarial, epsilon)  # the ball moves with the point


def pgd_step_up(logits_of, adversarial, images, labels, epsilon, step_size):
    stepped = adversarial + step_size * tf.sign(_gradient_at(logits_of, adversarial, labels))
    return project(stepped, images, epsilon)


SOLUTIONS = {
    "defences-1": Solution(
        project,
        wrong=(
            Wrong(project_values, "distance from the original", "clips the values to [-eps, eps]"),
            Wrong(project_ball_only, "outside [0, 1]", "forgets the [0, 1] box"),
            Wrong(project_box_only, "centred on the original", "forgets the budget"),
        ),
    ),
    "defences-2": Solution(
        wilson_interval,
        wrong=(
            Wrong(normal_interval, "normal (Wald) interval", "p +- 1.96 sqrt(p(1-p)/n)"),
            Wrong(wilson_at_90_percent, "90% interval", "z = 1.645"),
            Wrong(wilson_in_percent, "percent", "percentages, not shares"),
        ),
    ),
    "defences-3": Solution(
        first_order_distance,
        wrong=(
            Wrong(distance_signed, "negative distances", "m, not |m|"),
            Wrong(distance_in_unit_values, "in counts", "in [0, 1] units, not counts"),
            Wrong(distance_with_l2_norm, "L2 norm", "||g||_2 instead of ||g||_1"),
            Wrong(distance_without_watch, "tape.watch", "the constant images were not watched"),
        ),
    ),
    "defences-4": Solution(
        pgd_step,
        wrong=(
            Wrong(pgd_step_gradient_at_original, "at the current point", "gradient at the original"),
            Wrong(pgd_step_projected_around_itself, "centred on the original", "projects around itself"),
            Wrong(pgd_step_up, "wrong way", "raises the margin"),
        ),
    ),
}
