"""Checkers for the exercises of ``adversarial_defences.ipynb`` (``check("defences-1", answer)``).

Each checker runs the reader's answer on cases of its own: random points around random images
of other sizes (values at 0 and 1 included), a small non-linear network, counts the notebook
never shows, and the committed models on the committed sample photos (never the held-out test
photos). The reference is computed here, with ``cats_dogs`` or a closed form.
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


def _outside_box_or_ball(what, got, images, epsilon):
    if got.min() < -1e-6 or got.max() > 1 + 1e-6:
        raise Hint(f"{what}: values outside [0, 1]: the result must also stay a valid image")
    if np.max(np.abs(got - images)) > epsilon * (1 + 1e-4):
        raise Hint(
            f"{what}: a value lies {np.max(np.abs(got - images)) / epsilon:.2f} epsilon from the "
            "original; the ball is centred on the original images"
        )


# ---------------------------------------------------------------- defences-1: the projection


@exercise("defences-1", "the projection onto the L-inf ball around the originals and [0, 1]")
def _(answer):
    rng = np.random.default_rng(2111)
    for shape, epsilon in (((4, 6, 5, 3), 4 * ONE_COUNT), ((2, 3, 3, 1), 0.1)):
        images = _random_images(rng, shape)
        # a point after a step: up to 3 epsilon away, possibly outside [0, 1]
        adversarial = (images + rng.uniform(-3, 3, size=shape) * epsilon).astype(np.float32)
        expected = cats_dogs.project(tf.constant(adversarial), tf.constant(images), epsilon).numpy()
        got = as_array(
            call(answer, tf.constant(adversarial), tf.constant(images), epsilon),
            "the projected images",
            shape=shape,
        )
        if np.allclose(got, np.clip(adversarial, -epsilon, epsilon), atol=1e-6):
            raise Hint(
                "that clips the values themselves to [-epsilon, epsilon]; it is their distance "
                "from the original that may not pass epsilon"
            )
        _outside_box_or_ball(f"images of shape {shape}", got, images, epsilon)
        if not np.allclose(got, expected, atol=1e-6):
            raise Hint(
                f"images of shape {shape}: inside the ball and [0, 1], but not the nearest such "
                "point: each value should move only as far as it must"
            )
    return "the nearest point of the ball and [0, 1] for 2 shapes, values at 0 and 1 included"


# ---------------------------------------------------------------- defences-2: Wilson's interval

INTERVAL_CASES = ((129, 300), (0, 300), (1830, 2000), (300, 300), (3, 10))


def _wald(correct, total, z=1.96, n=None):
    share = correct / total
    half = z * np.sqrt(share * (1 - share) / (n or total))
    return max(0.0, share - half), min(1.0, share + half)


@exercise("defences-2", "Wilson's 95% interval for a robust accuracy")
def _(answer):
    for correct, total in INTERVAL_CASES:
        expected = np.array(cats_dogs.binomial_interval(correct, total))
        got = as_array(call(answer, correct, total), f"the interval for {correct} of {total}", shape=(2,))
        if np.allclose(got, expected, atol=1e-4):
            continue
        if np.allclose(got, 100 * expected, atol=1e-2):
            raise Hint("percent: return shares between 0 and 1")
        if np.allclose(got[::-1], expected, atol=1e-4):
            raise Hint("(high, low): return the lower end first")
        if any(np.allclose(got, _wald(correct, total, n=n), atol=1e-4) for n in (total, total - 1)):
            raise Hint(
                f"that is the normal (Wald) interval: at {correct} of {total} it is "
                f"[{got[0]:.3f}, {got[1]:.3f}]; the interval the notebook uses stays honest near 0 and 1"
            )
        if np.allclose(got, cats_dogs.binomial_interval(correct, total, z=1.645), atol=1e-4):
            raise Hint("z = 1.645 is a 90% interval; 95% needs the 97.5% quantile of the normal")
        if total > 1 and np.allclose(
            got, cats_dogs.binomial_interval(correct * (total - 1) / total, total - 1), atol=1e-4
        ):
            raise Hint("n - 1 where the formula has n: a binomial share has no lost degree of freedom")
        raise Hint(
            f"for {correct} of {total} got [{got[0]:.4f}, {got[1]:.4f}], which is not Wilson's interval"
        )
    return f"Wilson's 95% interval for {len(INTERVAL_CASES)} counts, 0 and all-correct included"


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


def _margins_and_l1(logits_of, images, labels):
    with tf.GradientTape() as tape:
        tape.watch(images)
        margin = cats_dogs.logit_margin(logits_of(images, training=False), labels)
    gradient = tape.gradient(margin, images)
    flat = tf.reshape(gradient, [tf.shape(gradient)[0], -1])
    return margin.numpy(), tf.reduce_sum(tf.abs(flat), axis=1).numpy(), tf.norm(flat, axis=1).numpy()


@exercise("defences-3", "the first-order distance to the boundary, in counts", time_limit_s=60)
def _(answer):
    for what, logits_of, images, labels in _distance_cases():
        x, y = tf.constant(images), tf.constant(labels)
        margin, l1, l2 = _margins_and_l1(logits_of, x, y)
        expected = np.abs(margin) / (ONE_COUNT * l1)
        distance = call_differentiating(answer, logits_of, x, y, inputs="images")
        got = as_array(distance, "the distances", shape=(len(labels),))
        if np.allclose(got, expected, rtol=1e-3):
            continue
        if np.allclose(got, margin / (ONE_COUNT * l1), rtol=1e-3):
            raise Hint(
                f"{what}: negative distances for misclassified images: a distance is |m| over the gain"
            )
        if np.allclose(got, expected * ONE_COUNT, rtol=1e-3):
            raise Hint(f"{what}: 255 times too small: the answer is in counts, and one count is 1/255")
        if np.allclose(got, np.abs(margin) / (ONE_COUNT * l2), rtol=1e-3):
            raise Hint(
                f"{what}: that uses the L2 norm of the gradient; a sign step of one count gains "
                "the dual norm of L-inf"
            )
        worst = int(np.argmax(np.abs(got - expected) / expected))
        raise Hint(
            f"{what}: image {worst}: got {got[worst]:.3g} counts, expected about {expected[worst]:.3g}"
        )
    return (
        "|m| / (one count x ||grad m||_1) on 6 images of a small network, and on the sample "
        "photos for the victim and the PGD copy"
    )


# ---------------------------------------------------------------- defences-4: one PGD step


def _pgd_step_reference(logits_of, adversarial, images, labels, epsilon, step_size, at=None):
    point = adversarial if at is None else at
    with tf.GradientTape() as tape:
        tape.watch(point)
        margin = cats_dogs.logit_margin(logits_of(point, training=False), labels)
    step = step_size * tf.sign(tape.gradient(margin, point))
    return cats_dogs.project(adversarial - step, images, epsilon).numpy()


@exercise("defences-4", "one step of PGD: a sign step at the current point, then the projection")
def _(answer):
    rng = np.random.default_rng(2114)
    shape = (8, 5, 3)
    toy = ToyNet(shape, seed=2114)
    epsilon, step_size = 4 * ONE_COUNT, 1.5 * ONE_COUNT
    images = _random_images(rng, (6, *shape))
    labels = rng.integers(0, 2, size=6).astype(np.int32)
    start = np.clip(images + rng.uniform(-1, 1, size=images.shape) * epsilon, 0, 1).astype(np.float32)
    adversarial, x, y = tf.constant(start), tf.constant(images), tf.constant(labels)
    expected = _pgd_step_reference(toy, adversarial, x, y, epsilon, step_size)
    got = as_array(
        call(answer, toy, adversarial, x, y, epsilon, step_size), "the new point", shape=images.shape
    )
    if np.allclose(got, expected, atol=1e-6):
        return "one projected sign step at a random point of the ball, for 6 images of a small network"
    _outside_box_or_ball("6 images of a small network", got, images, epsilon)
    at_original = _pgd_step_reference(toy, adversarial, x, y, epsilon, step_size, at=x)
    if np.mean(np.isclose(got, at_original, atol=1e-6)) > 0.999:
        raise Hint("the gradient was taken at the original images; PGD takes it at the current point")
    up = _pgd_step_reference(toy, adversarial, x, y, epsilon, -step_size)
    if np.mean(np.isclose(got, up, atol=1e-6)) > 0.99:
        raise Hint("the step goes the wrong way: it raises the margin of the true label")
    raise Hint(
        f"only {np.mean(np.isclose(got, expected, atol=1e-6)):.1%} of the values match a sign step "
        "of step_size down the logit margin, projected into the ball and [0, 1]"
    )
