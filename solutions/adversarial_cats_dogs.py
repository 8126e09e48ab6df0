"""Solutions to the exercises of ``adversarial_example/adversarial_cats_dogs.ipynb``.

Each entry holds a model answer and the typical wrong answers its checker must catch, with
words its hint must contain (``tests/test_solutions.py`` proves every one). Try the exercise first.
"""

from __future__ import annotations

import sys
from pathlib import Path

import tensorflow as tf

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "adversarial_example"))
from cats_dogs import ONE_COUNT  # noqa: E402

from gdtf.exercises import Solution, Wrong  # noqa: E402

# ---------------------------------------------------------------- attack-1: the logit margin


def logit_margin(logits, labels):
    """z_label - z_other per image: positive where the network picks ``label``."""
    labels = tf.convert_to_tensor(labels, tf.int32)
    # batch_dims=1 picks, for each row, the column its own label names
    chosen = tf.gather(logits, labels, axis=1, batch_dims=1)
    other = tf.gather(logits, 1 - labels, axis=1, batch_dims=1)
    return chosen - other


def margin_other_minus_label(logits, labels):
    return -logit_margin(logits, labels)


def margin_dog_minus_cat(logits, labels):
    return logits[:, 1] - logits[:, 0]  # ignores the labels


def margin_of_probabilities(logits, labels):
    return logit_margin(tf.nn.softmax(logits), labels)  # p_label - p_other: saturates


# ---------------------------------------------------------------- attack-2: one sign step


def sign_step(logits_of, images, labels, epsilon):
    """Every value moves epsilon down the logit margin of the true label, then back into [0, 1]."""
    with tf.GradientTape() as tape:
        tape.watch(images)  # images are a constant: without watch the gradient is None
        margin = logit_margin(logits_of(images, training=False), labels)
    gradient = tape.gradient(margin, images)
    # the sign, not the gradient: every value moves the whole budget (steepest ascent under L-inf)
    return tf.clip_by_value(images - epsilon * tf.sign(gradient), 0.0, 1.0)


def step_without_clip(logits_of, images, labels, epsilon):
    with tf.GradientTape() as tape:
        tape.watch(images)
        margin = logit_margin(logits_of(images, training=False), labels)
    return images - epsilon * tf.sign(tape.gradient(margin, images))


def step_up_the_margin(logits_of, images, labels, epsilon):
    with tf.GradientTape() as tape:
        tape.watch(images)
        margin = logit_margin(logits_of(images, training=False), labels)
    return tf.clip_by_value(images + epsilon * tf.sign(tape.gradient(margin, images)), 0.0, 1.0)


def step_along_the_gradient(logits_of, images, labels, epsilon):
    with tf.GradientTape() as tape:
        tape.watch(images)
        margin = logit_margin(logits_of(images, training=False), labels)
    gradient = tape.gradient(margin, images)
    scale = tf.reduce_max(tf.abs(gradient))
    return tf.clip_by_value(images - epsilon * gradient / scale, 0.0, 1.0)


def step_along_the_raw_gradient(logits_of, images, labels, epsilon):
    with tf.GradientTape() as tape:
        tape.watch(images)
        margin = logit_margin(logits_of(images, training=False), labels)
    return tf.clip_by_value(images - epsilon * tape.gradient(margin, images), 0.0, 1.0)


def step_of_one_count(logits_of, images, labels, epsilon):
    with tf.GradientTape() as tape:
        tape.watch(images)
        margin = logit_margin(logits_of(images, training=False), labels)
    # the notebook's step size, whatever epsilon the caller asks for
    return tf.clip_by_value(images - ONE_COUNT * tf.sign(tape.gradient(margin, images)), 0.0, 1.0)


def step_in_training_mode(logits_of, images, labels, epsilon):
    with tf.GradientTape() as tape:
        tape.watch(images)
        margin = logit_margin(logits_of(images, training=True), labels)  # dropout on
    return tf.clip_by_value(images - epsilon * tf.sign(tape.gradient(margin, images)), 0.0, 1.0)


def step_without_watch(logits_of, images, labels, epsilon):
    with tf.GradientTape() as tape:
        margin = logit_margin(logits_of(images, training=False), labels)
    return tf.clip_by_value(images - epsilon * tf.sign(tape.gradient(margin, images)), 0.0, 1.0)


# ---------------------------------------------------------------- attack-3: the linearity test


def _per_image(values):
    """(n, H, W, 3) -> (n, H * W * 3): one row of values per image."""
    return tf.reshape(values, [tf.shape(values)[0], -1])


def linearity_ratio(logits_of, images, labels, epsilon):
    """Per image, the margin's actual change after one sign step over its first-order prediction."""
    with tf.GradientTape() as tape:
        tape.watch(images)
        margin = logit_margin(logits_of(images, training=False), labels)
    gradient = tape.gradient(margin, images)
    stepped = tf.clip_by_value(images - epsilon * tf.sign(gradient), 0.0, 1.0)
    actual = logit_margin(logits_of(stepped, training=False), labels) - margin
    # g . delta with delta = -epsilon sign(g): every value adds -epsilon |g_i| (section 4 sums
    # gradient * (stepped - images), which differs only where the clip stops a value; both pass)
    predicted = -epsilon * tf.reduce_sum(tf.abs(_per_image(gradient)), axis=1)
    return actual / predicted


def _margin_and_step(logits_of, images, labels, epsilon, margin_of=logit_margin):
    with tf.GradientTape() as tape:
        tape.watch(images)
        margin = margin_of(logits_of(images, training=False), labels)
    gradient = tape.gradient(margin, images)
    return margin, gradient, tf.clip_by_value(images - epsilon * tf.sign(gradient), 0.0, 1.0)


def ratio_with_l2_norm(logits_of, images, labels, epsilon):
    margin, gradient, stepped = _margin_and_step(logits_of, images, labels, epsilon)
    actual = logit_margin(logits_of(stepped, training=False), labels) - margin
    return actual / (-epsilon * tf.norm(_per_image(gradient), axis=1))


def ratio_without_epsilon(logits_of, images, labels, epsilon):
    margin, gradient, stepped = _margin_and_step(logits_of, images, labels, epsilon)
    actual = logit_margin(logits_of(stepped, training=False), labels) - margin
    return actual / -tf.reduce_sum(tf.abs(_per_image(gradient)), axis=1)


def change_over_drop(logits_of, images, labels, epsilon):
    margin, gradient, stepped = _margin_and_step(logits_of, images, labels, epsilon)
    actual = logit_margin(logits_of(stepped, training=False), labels) - margin  # negative
    return actual / (epsilon * tf.reduce_sum(tf.abs(_per_image(gradient)), axis=1))  # positive


def ratio_of_probabilities(logits_of, images, labels, epsilon):
    def probability_margin(logits, labels):
        return logit_margin(tf.nn.softmax(logits), labels)

    margin, gradient, stepped = _margin_and_step(logits_of, images, labels, epsilon, probability_margin)
    actual = probability_margin(logits_of(stepped, training=False), labels) - margin
    return actual / (-epsilon * tf.reduce_sum(tf.abs(_per_image(gradient)), axis=1))


def ratio_from_the_gradient_after(logits_of, images, labels, epsilon):
    margin, _, stepped = _margin_and_step(logits_of, images, labels, epsilon)
    margin_after, gradient_after, _ = _margin_and_step(logits_of, stepped, labels, epsilon)
    return (margin_after - margin) / (-epsilon * tf.reduce_sum(tf.abs(_per_image(gradient_after)), axis=1))


def ratio_not_returned(logits_of, images, labels, epsilon):
    margin, gradient, stepped = _margin_and_step(logits_of, images, labels, epsilon)
    actual = logit_margin(logits_of(stepped, training=False), labels) - margin
    ratio = actual / (-epsilon * tf.reduce_sum(tf.abs(_per_image(gradient)), axis=1))  # noqa: F841


# ---------------------------------------------------------------- attack-4: the fewest counts


def fewest_counts(logits_of, image, label, max_counts):
    """The fewest steps of one count after which the model is wrong; 0 if it is wrong already."""
    images, labels = image[tf.newaxis], tf.constant([label])
    for counts in range(max_counts + 1):
        if logit_margin(logits_of(images, training=False), labels)[0] <= 0:
            return counts  # checked before each step, so a photo wrong at the start gives 0
        images = sign_step(logits_of, images, labels, ONE_COUNT)
    return None


def counts_from_one(logits_of, image, label, max_counts):
    images, labels = image[tf.newaxis], tf.constant([label])
    for counts in range(1, max_counts + 1):  # never looks at the clean photo
        images = sign_step(logits_of, images, labels, ONE_COUNT)
        if logit_margin(logits_of(images, training=False), labels)[0] <= 0:
            return counts
    return None


def counts_one_too_many(logits_of, image, label, max_counts):
    images, labels = image[tf.newaxis], tf.constant([label])
    for counts in range(1, max_counts + 2):  # counts the photo itself as a step
        if logit_margin(logits_of(images, training=False), labels)[0] <= 0:
            return counts
        images = sign_step(logits_of, images, labels, ONE_COUNT)
    return None


def counts_missing_the_last_step(logits_of, image, label, max_counts):
    images, labels = image[tf.newaxis], tf.constant([label])
    for counts in range(max_counts):  # checks before each step, never after the last
        if logit_margin(logits_of(images, training=False), labels)[0] <= 0:
            return counts
        images = sign_step(logits_of, images, labels, ONE_COUNT)
    return None


def counts_along_the_first_gradient(logits_of, image, label, max_counts):
    images, labels = image[tf.newaxis], tf.constant([label])
    with tf.GradientTape() as tape:
        tape.watch(images)
        margin = logit_margin(logits_of(images, training=False), labels)
    direction = -tf.sign(tape.gradient(margin, images))  # one gradient, at the clean photo
    for counts in range(max_counts + 1):
        stepped = tf.clip_by_value(images + counts * ONE_COUNT * direction, 0.0, 1.0)
        if logit_margin(logits_of(stepped, training=False), labels)[0] <= 0:
            return counts
    return None


def counts_stepping_up(logits_of, image, label, max_counts):
    images, labels = image[tf.newaxis], tf.constant([label])
    for counts in range(max_counts + 1):
        if logit_margin(logits_of(images, training=False), labels)[0] <= 0:
            return counts
        images = step_up_the_margin(logits_of, images, labels, ONE_COUNT)
    return None


def counts_never_none(logits_of, image, label, max_counts):
    found = fewest_counts(logits_of, image, label, 8)  # ignores max_counts
    return found if found is not None else max_counts + 1


SOLUTIONS = {
    "attack-1": Solution(
        logit_margin,
        wrong=(
            Wrong(margin_other_minus_label, "sign is flipped", "z_other - z_label"),
            Wrong(margin_dog_minus_cat, "each image's own label", "z_dog - z_cat whatever the label"),
            Wrong(margin_of_probabilities, "those are probabilities", "p_label - p_other"),
            Wrong(lambda logits, labels: None, "is None", "forgot to return"),
        ),
    ),
    "attack-2": Solution(
        sign_step,
        wrong=(
            Wrong(step_without_clip, "clip", "no clip to [0, 1]"),
            Wrong(step_up_the_margin, "wrong way", "+ instead of -: raises the true label's margin"),
            Wrong(step_along_the_gradient, "sign of the gradient", "the gradient, scaled, not its sign"),
            Wrong(step_along_the_raw_gradient, "different amounts", "epsilon times the raw gradient"),
            Wrong(step_of_one_count, "one count, not epsilon", "ONE_COUNT hard-coded, epsilon ignored"),
            Wrong(step_in_training_mode, "training=False", "training=True: dropout on"),
            Wrong(step_without_watch, "tape.watch", "the constant images were not watched"),
        ),
    ),
    "attack-3": Solution(
        linearity_ratio,
        wrong=(
            Wrong(ratio_with_l2_norm, "what does g·δ add up to", "epsilon * ||g||_2 as the prediction"),
            Wrong(ratio_without_epsilon, "missing epsilon", "||g||_1 as the prediction"),
            Wrong(change_over_drop, "negative or mixed signs", "the change over the drop"),
            Wrong(ratio_of_probabilities, "those are probabilities", "the probability margin"),
            Wrong(ratio_from_the_gradient_after, "gradient at the stepped images", "a stale prediction"),
            Wrong(ratio_not_returned, "is None", "forgot to return"),
        ),
    ),
    "attack-4": Solution(
        fewest_counts,
        wrong=(
            Wrong(counts_from_one, "check 0 counts", "starts counting at 1"),
            Wrong(counts_one_too_many, "one count too many", "off by one"),
            Wrong(
                counts_missing_the_last_step,
                "after the last step",
                "range(max_counts)",
            ),
            Wrong(
                counts_along_the_first_gradient,
                "clean photo's gradient",
                "FGSM of n counts: a stale gradient",
            ),
            Wrong(counts_stepping_up, "never flipped", "steps up the margin"),
            Wrong(counts_never_none, "answer is None", "returns max_counts + 1 instead of None"),
        ),
    ),
}
