"""Checkers for the exercises of ``adversarial_defences.ipynb`` (``check("defences-1", answer)``).

Each checker runs the reader's answer on cases of its own: random points around random images
of other sizes (values at 0 and 1 included), small non-linear networks, budgets the notebook
never shows, and the committed models on the committed sample photos (never the held-out test
photos). The reference is computed here, with ``cats_dogs`` or a closed form. Where an answer
is wrong, the checker runs the typical mistakes itself and names the one the answer matches.
"""

from __future__ import annotations

import cats_dogs
import numpy as np
import tensorflow as tf
from adversarial_cats_dogs_exercises import ToyNet, _logits_of, _sample_photos
from cats_dogs import ONE_COUNT

from gdtf.exercises import Hint, as_array, call, call_differentiating, exercise


def _random_images(rng, shape):
    images = rng.uniform(0.0, 1.0, size=shape).astype(np.float32)
    images[:, 0, 0, :] = 0.0  # values at the edges of [0, 1]
    images[:, 1, 1, :] = 1.0
    return images


def _per_image(epsilon, rank=4):
    return np.reshape(np.asarray(epsilon, np.float32), (-1,) + (1,) * (rank - 1))


def _outside_box_or_ball(what, got, images, epsilon):
    if got.min() < -1e-6 or got.max() > 1 + 1e-6:
        raise Hint(f"{what}: values outside [0, 1]: the result must also stay a valid image")
    distance = np.abs(got - images) - _per_image(epsilon)
    if np.max(distance) > 1e-6:
        image = int(np.argmax(np.max(distance.reshape(len(images), -1), axis=1)))
        raise Hint(
            f"{what}: image {image} moved further than its own epsilon from the original; the "
            "ball is centred on the original images, with each image's budget"
        )


def _broadcast_hint(what):
    return (
        f"{what}: epsilon has shape (n,), one budget per image, and broadcasts against the "
        "LAST axis of an (n, H, W, C) tensor: give it shape (n, 1, 1, 1) first"
    )


def _matches(got, expected) -> bool:
    return bool(np.mean(np.isclose(got, expected, atol=1e-6)) > 0.999)


# ---------------------------------------------------------------- defences-1: the projection


def _call_per_image(answer, what, *args, shape, differentiating=False):
    """The answer's result as an array; a broadcasting error of epsilon gets its own hint."""
    run = call_differentiating if differentiating else call
    kwargs = {"inputs": "the start and the images"} if differentiating else {}
    try:
        result = run(answer, *args, **kwargs)
    except Hint as hint:
        if "ncompatible shapes" in str(hint) or "broadcast" in str(hint):
            raise Hint(_broadcast_hint(what)) from None
        raise
    if result is not None and hasattr(result, "shape") and tuple(result.shape) != shape:
        if len(result.shape) == len(shape) and tuple(result.shape[:-1]) == shape[:-1]:
            raise Hint(_broadcast_hint(what))
    return result


@exercise("defences-1", "the projection onto each image's own L-inf ball and [0, 1]")
def _(answer):
    rng = np.random.default_rng(2111)
    # 3 images of 3 channels first: there an unreshaped epsilon broadcasts silently
    for shape, budgets in (((3, 6, 5, 3), (4, 0, 8)), ((2, 3, 3, 1), (25.5, 1))):
        images = _random_images(rng, shape)
        epsilon = np.array(budgets, np.float32) * ONE_COUNT
        # a point after a step: up to 3 budgets (at least 2 counts) away, possibly outside [0, 1]
        reach = np.maximum(_per_image(epsilon), 2 * ONE_COUNT)
        adversarial = (images + rng.uniform(-3, 3, size=shape) * reach).astype(np.float32)
        what = f"images of shape {shape}, budgets {list(budgets)} counts"
        x, a, e = tf.constant(images), tf.constant(adversarial), tf.constant(epsilon)
        expected = cats_dogs.project(a, x, e).numpy()
        result = _call_per_image(answer, what, a, x, e, shape=shape)
        got = as_array(result, "the projected images", shape=shape)
        if np.allclose(got, expected, atol=1e-6):
            continue
        change = np.clip(adversarial - images, -_per_image(epsilon), _per_image(epsilon))
        if np.allclose(got, change, atol=1e-6):
            raise Hint(f"{what}: that is the change delta; return the projected point itself")
        if np.allclose(got, np.clip(adversarial, -_per_image(epsilon), _per_image(epsilon)), atol=1e-6):
            raise Hint(
                f"{what}: that clips the values themselves to [-epsilon, epsilon]; it is their "
                "distance from the original that may not pass epsilon"
            )
        on_channels = np.clip(adversarial, np.maximum(images - epsilon, 0), np.minimum(images + epsilon, 1))
        if np.allclose(got, on_channels, atol=1e-6):
            raise Hint(_broadcast_hint(what) + " (here it gave each colour channel a budget)")
        inside = (got > 1e-6) & (got < 1 - 1e-6)
        if np.mean(inside) > 0.5 and np.allclose(got * 255, np.round(got * 255), atol=1e-3):
            raise Hint(f"{what}: the result is on the 8-bit grid: leave rounding out of the projection")
        _outside_box_or_ball(what, got, images, epsilon)
        raise Hint(
            f"{what}: inside each ball and [0, 1], but not the nearest such point: each value "
            "should move only as far as it must"
        )
    return (
        "the nearest point of each image's ball and [0, 1], for budgets of 0 to 25.5 counts, "
        "3 images of 3 channels and 2 of 1, values at 0 and 1 included"
    )


# ------------------------------------------------- defences-2: one adversarial-training gradient


class TrainableToyNet(tf.Module):
    """ToyNet with its weights in ``tf.Variable``s: ``net(images)`` -> (n, 2) logits."""

    def __init__(self, shape, seed: int):
        super().__init__()
        frozen = ToyNet(shape, seed)
        self.hidden = tf.Variable(frozen.hidden, name="hidden")
        self.out = tf.Variable(frozen.out, name="out")

    def __call__(self, images, training=False):
        flat = tf.reshape(tf.convert_to_tensor(images, tf.float32), [tf.shape(images)[0], -1])
        return tf.tanh(flat @ self.hidden) @ self.out


def _toy_attack(net, epsilon, steps=3):
    """PGD on the logit margin from the images themselves (no random start, so the same
    image gets the same attack in any batch), weights held fixed: section 2's steps."""

    def attack(images, labels):
        images = tf.convert_to_tensor(images, tf.float32)
        labels = tf.convert_to_tensor(labels, tf.int32)
        point = images
        for _ in range(steps):
            with tf.GradientTape() as tape:
                tape.watch(point)
                margin = cats_dogs.logit_margin(net(point), labels)
            step = 2.5 * epsilon / steps * tf.sign(tape.gradient(margin, point))
            point = cats_dogs.project(point - step, images, epsilon)
        return point

    return attack


def _training_gradient(net, images, labels, loss_of=None, reduce=tf.reduce_mean):
    loss_of = loss_of or (lambda z, y: tf.nn.sparse_softmax_cross_entropy_with_logits(y, z))
    with tf.GradientTape() as tape:
        loss = reduce(loss_of(net(images), labels))
    return [g.numpy() for g in tape.gradient(loss, net.trainable_variables)]


def _gradient_with_attack_inside_the_tape(net, attack, images, labels):
    """The gradient that also follows the attacked point's dependence on the weights."""
    half = len(labels) // 2
    with tf.GradientTape() as tape:
        mixed = tf.concat([images[:half], attack(images[half:], labels[half:])], axis=0)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, net(mixed)))
    return [g.numpy() for g in tape.gradient(loss, net.trainable_variables)]


def _same(got, expected, rtol=1e-4) -> bool:
    scale = max(float(np.max(np.abs(e))) for e in expected)
    return all(np.allclose(g, e, rtol=rtol, atol=1e-6 * scale) for g, e in zip(got, expected, strict=True))


def _adversarial_training_mistakes(net, attack, images, labels):
    half = len(labels) // 2
    attacked = attack(images[half:], labels[half:]).numpy()
    mixed = np.concatenate([images[:half], attacked])
    yield (
        _training_gradient(net, images, labels),
        (
            "that is the gradient at the clean images: attack the second half first, then take the "
            "gradient of the loss at the attacked images"
        ),
    )
    everything = attack(images, labels).numpy()
    yield (
        _training_gradient(net, everything, labels),
        (
            "every image attacked: the notebook's training keeps the first half of the batch clean "
            "and replaces the second half by its attack (50/50)"
        ),
    )
    swapped = np.concatenate([attack(images[:half], labels[:half]).numpy(), images[half:]])
    yield _training_gradient(net, swapped, labels), "the first half attacked: attack the second half"
    yield (
        _training_gradient(net, mixed, labels, reduce=tf.reduce_sum),
        ("a sum over the batch: the training loss is the mean cross-entropy"),
    )
    yield (
        _training_gradient(net, mixed, labels, loss_of=cats_dogs.logit_margin),
        ("the logit margin is what the attack descends; the weights descend the cross-entropy"),
    )
    yield (
        _training_gradient(net, mixed, labels, loss_of=lambda z, y: -cats_dogs.logit_margin(z, y)),
        "the logit margin is what the attack descends; the weights descend the cross-entropy",
    )


@exercise("defences-2", "one adversarial-training gradient: attack, then differentiate", time_limit_s=30)
def _(answer):
    rng = np.random.default_rng(2112)
    shape = (7, 6, 3)
    net = TrainableToyNet(shape, seed=2112)
    images = _random_images(rng, (8, *shape))
    labels = np.array([0, 1, 1, 0, 1, 0, 0, 1], np.int32)
    attack = _toy_attack(net, 6 * ONE_COUNT)
    x, y = tf.constant(images), tf.constant(labels)
    before = [v.numpy().copy() for v in net.trainable_variables]
    gradients = call(answer, net, attack, x, y)
    if any(not np.array_equal(v.numpy(), b) for v, b in zip(net.trainable_variables, before, strict=True)):
        raise Hint("the weights changed: return the gradient, do not apply it")
    variables = net.trainable_variables
    if isinstance(gradients, list | tuple) and any(isinstance(g, list | tuple) for g in gradients):
        raise Hint("a nested list: return only the gradients, one per variable, not the loss too")
    if not isinstance(gradients, list | tuple) or len(gradients) != len(variables):
        raise Hint(
            f"expected a list of {len(variables)} gradients, one per variable in "
            "net.trainable_variables (tape.gradient(loss, net.trainable_variables))"
        )
    got = [
        as_array(g, f"the gradient for {v.name.split(':')[0]}", shape=tuple(v.shape))
        for g, v in zip(gradients, variables, strict=True)
    ]
    half = len(labels) // 2
    mixed = np.concatenate([images[:half], attack(x[half:], y[half:]).numpy()])
    expected = _training_gradient(net, mixed, labels)
    if _same(got, expected):
        inside = _gradient_with_attack_inside_the_tape(net, attack, x, y)
        same = " (the attack inside the tape gives the same: sign() has derivative 0)"
        return (
            "the gradient of the mean cross-entropy on a half-clean, half-attacked batch, for "
            "both weight matrices of a small network" + (same if _same(inside, expected) else "")
        )
    for mistake, hint in _adversarial_training_mistakes(net, attack, images, labels):
        if _same(got, mistake):
            raise Hint(hint)
    raise Hint(
        "not the gradient of the mean cross-entropy over the batch, first half clean and second "
        "half attacked, with respect to net.trainable_variables"
    )


# ---------------------------------------------------------------- defences-3: distance in counts


def _distance_cases():
    rng = np.random.default_rng(2113)
    shape = (9, 7, 3)
    toy = ToyNet(shape, seed=2113)
    images = _random_images(rng, (6, *shape))
    predicted = np.argmax(toy(images).numpy(), axis=1)
    labels = np.where(np.arange(6) < 4, predicted, 1 - predicted).astype(np.int32)  # two wrong
    yield "a small network on 6 random 9x7 images, two of them misclassified", toy, images, labels
    photos, photo_labels = _sample_photos()
    for key in ("classifier", "pgd_classifier"):
        yield (
            f"the {cats_dogs.DISPLAY_NAMES[key]} on the sample photos",
            _logits_of(key),
            photos,
            photo_labels,
        )


def _value_and_gradient(logits_of, images, labels, value_of):
    with tf.GradientTape() as tape:
        tape.watch(images)
        value = value_of(logits_of(images, training=False), labels)
    gradient = tape.gradient(value, images)
    return value.numpy(), tf.reshape(gradient, [tf.shape(gradient)[0], -1]).numpy().astype(np.float64)


def _cross_entropy(logits, labels):
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)


def _probability_margin(logits, labels):
    return cats_dogs.logit_margin(tf.nn.softmax(logits), labels)


def _distance_mistakes(logits_of, x, y, margin, flat):
    """Typical wrong distances, each with its hint."""
    l1 = np.sum(np.abs(flat), axis=1)
    yield (
        margin / (ONE_COUNT * l1),
        "negative distances for misclassified images: a distance is |m| over the gain",
    )
    yield np.abs(margin) / l1, "255 times too small: the answer is in counts, and one count is 1/255"
    yield (
        np.abs(margin) * ONE_COUNT / l1,
        "one count multiplies the gradient's norm (the drop it buys), not the margin",
    )
    yield (
        np.abs(margin) / (ONE_COUNT * np.linalg.norm(flat, axis=1)),
        "that uses the L2 norm of the gradient; a sign step of one count gains the dual norm of L-inf",
    )
    yield (
        np.abs(margin) / (ONE_COUNT * np.mean(np.abs(flat), axis=1)),
        "a mean, not a sum: a one-count step moves every value, and each adds its |gradient|",
    )
    yield (
        np.abs(margin) / (ONE_COUNT * np.sum(np.abs(flat))),
        "one ||g||_1 for the whole batch: per image, sum over H, W and C only",
    )
    yield (
        np.abs(margin) / (ONE_COUNT * np.max(np.abs(flat), axis=1)),
        "that uses the largest |gradient|; a sign step of one count gains the sum of them all",
    )
    for value_of, hint in (
        (_cross_entropy, "that differentiates the cross-entropy; the distance is of the logit margin m"),
        (
            _probability_margin,
            "those are probabilities: the margin is of the logits (what logits_of returns)",
        ),
    ):
        value, other = _value_and_gradient(logits_of, x, y, value_of)
        yield np.abs(value) / (ONE_COUNT * np.sum(np.abs(other), axis=1)), hint


@exercise("defences-3", "the first-order distance to the boundary, in counts", time_limit_s=60)
def _(answer):
    for what, logits_of, images, labels in _distance_cases():
        x, y = tf.constant(images), tf.constant(labels)
        margin, flat = _value_and_gradient(logits_of, x, y, cats_dogs.logit_margin)
        expected = np.abs(margin) / (ONE_COUNT * np.sum(np.abs(flat), axis=1))
        distance = call_differentiating(answer, logits_of, x, y, inputs="images")
        got = as_array(distance, "the distances", shape=(len(labels),))
        if np.allclose(got, expected, rtol=1e-3):
            continue
        for mistake, hint in _distance_mistakes(logits_of, x, y, margin, flat):
            if np.allclose(got, mistake, rtol=1e-3):
                raise Hint(f"{what}: {hint}")
        worst = int(np.argmax(np.abs(got - expected) / expected))
        side = "larger" if got[worst] > expected[worst] else "smaller"
        raise Hint(
            f"{what}: image {worst}: {side} than |m| over the first-order drop of one sign step of one count"
        )
    return (
        "|m| / (one count x ||grad m||_1) on 6 images of a small network, and on the sample "
        "photos for the victim and the PGD copy"
    )


# ------------------------------------------------- defences-4: a random start and one PGD step


def _first_step_reference(logits_of, images, labels, epsilon, step_size, noise, **mistake):
    """The random start and one projected sign step; ``mistake`` switches in a typical error."""
    budget = _per_image(epsilon)
    start = images + (noise if mistake.get("unscaled") else noise * budget)
    if not mistake.get("unclipped"):
        start = np.clip(start, 0.0, 1.0)
    if mistake.get("no_start"):
        start = images
    at = images if mistake.get("gradient_at_images") else start
    step_labels = mistake.get("step_labels", labels)
    _, gradient = _value_and_gradient(
        logits_of, tf.constant(at), tf.constant(step_labels), cats_dogs.logit_margin
    )
    direction = (gradient if mistake.get("raw") else np.sign(gradient)).reshape(images.shape)
    size = _per_image(epsilon) if mistake.get("epsilon_step") else step_size
    origin = images if mistake.get("from_images") else start
    moved = origin + mistake.get("sign", -1) * size * direction
    return np.clip(moved, np.maximum(images - budget, 0.0), np.minimum(images + budget, 1.0))


FIRST_STEP_MISTAKES = (
    ({"sign": 1}, "the step goes the wrong way: it raises the margin of the true labels"),
    ({"step_labels": "predicted"}, "that steps down the margin of the predicted labels; use the true labels"),
    (
        {"gradient_at_images": True},
        "the gradient was taken at the original images; PGD takes it at the current point, the random start",
    ),
    ({"from_images": True}, "the step starts from the original images; PGD moves the current point"),
    ({"no_start": True}, "no random start: first move each value by epsilon times its noise"),
    (
        {"unscaled": True},
        "the random start is images + epsilon x noise: the noise is in units of each image's budget",
    ),
    ({"unclipped": True}, "the random start left [0, 1]: clip it to [0, 1] before the step"),
    ({"raw": True}, "a step along the gradient itself: PGD moves each value step_size along its sign"),
    ({"epsilon_step": True}, "a step of epsilon: PGD's steps are step_size, smaller than the budget"),
)


@exercise("defences-4", "PGD's random start and first step, each image with its own budget")
def _(answer):
    rng = np.random.default_rng(2114)
    shape = (8, 5, 3)
    toy = ToyNet(shape, seed=2114)
    images = _random_images(rng, (6, *shape))
    predicted = np.argmax(toy(images).numpy(), axis=1)
    labels = np.where(np.arange(6) < 4, predicted, 1 - predicted).astype(np.int32)  # two wrong
    epsilon = np.array([4, 4, 6, 2, 4, 8], np.float32) * ONE_COUNT
    step_size = 1.5 * ONE_COUNT
    noise = rng.uniform(-1, 1, size=images.shape).astype(np.float32)
    what = "6 images of a small network, two of them misclassified"
    arguments = (toy, *map(tf.constant, (images, labels, epsilon)), step_size, tf.constant(noise))
    result = _call_per_image(answer, what, *arguments, shape=images.shape, differentiating=True)
    got = as_array(result, "the new point", shape=images.shape)
    expected = _first_step_reference(toy, images, labels, epsilon, step_size, noise)
    if _matches(got, expected):
        return (
            "the random start and one projected sign step for 6 images of a small network, "
            "budgets of 2 to 8 counts, two images misclassified"
        )
    _outside_box_or_ball(what, got, images, epsilon)
    start = np.clip(images + noise * _per_image(epsilon), 0.0, 1.0)
    predicted_at_start = np.argmax(toy(start).numpy(), axis=1).astype(np.int32)
    for mistake, hint in FIRST_STEP_MISTAKES:
        if mistake.get("step_labels") == "predicted":
            mistake = {"step_labels": predicted_at_start}
        if _matches(got, _first_step_reference(toy, images, labels, epsilon, step_size, noise, **mistake)):
            raise Hint(hint)
    raise Hint(
        f"only {np.mean(np.isclose(got, expected, atol=1e-6)):.1%} of the values match: clip "
        "images + epsilon x noise to [0, 1], take one sign step of step_size down the logit "
        "margin there, and project into each image's ball and [0, 1]"
    )
