"""Checkers for the exercises of ``adversarial_cats_dogs.ipynb`` (``check("attack-1", answer)``).

Each checker runs the reader's answer on cases of its own: random logits and labels, a small
non-linear network on images of another size, random gradients of several shapes, and the
committed models on the committed sample photos (never the held-out test photos). The reference
is computed here, with ``cats_dogs`` (the notebook's own attack) or a closed form.
"""

from __future__ import annotations

import functools

import cats_dogs
import numpy as np
import tensorflow as tf
from cats_dogs import CLASS_NAMES, ONE_COUNT

from gdtf.exercises import Hint, as_array, call, exercise


class ToyNet:
    """A small non-linear two-class network on ``shape`` images: z = tanh(x W) V.

    Its gradient changes from point to point (unlike a linear model's), it takes any image
    size, and it is called like the notebook's ``logits_of``: ``toy(images, training=False)``.
    """

    def __init__(self, shape, seed: int):
        rng = np.random.default_rng(seed)
        inputs = int(np.prod(shape))
        self.hidden = tf.constant(rng.normal(size=(inputs, 6)) / np.sqrt(inputs) * 8, tf.float32)
        self.out = tf.constant(rng.normal(size=(6, 2)), tf.float32)

    def __call__(self, images, training=False):
        flat = tf.reshape(tf.convert_to_tensor(images, tf.float32), [tf.shape(images)[0], -1])
        return tf.tanh(flat @ self.hidden) @ self.out


@functools.cache
def _sample_photos():
    paths = sorted((cats_dogs.HERE / "sample_imgs").glob("*.png"))
    labels = [CLASS_NAMES.index("cat" if p.stem.startswith("cat") else "dog") for p in paths]
    return np.stack([cats_dogs.load_image(p) for p in paths]), np.array(labels, np.int32)


def _reference_step(logits_of, images, labels, epsilon):
    """The notebook's sign step (``cats_dogs.sign_step``), run eagerly: a checker's cases have
    many shapes and models, and retracing its compiled gradient for each would only warn."""
    with tf.GradientTape() as tape:
        tape.watch(images)
        margin = cats_dogs.logit_margin(logits_of(images, training=False), labels)
    return tf.clip_by_value(images - epsilon * tf.sign(tape.gradient(margin, images)), 0.0, 1.0)


@functools.cache
def _logits_of(key: str):
    model = cats_dogs.load_classifier(cats_dogs.MODEL_DIR / cats_dogs.MODEL_FILES[key])
    return cats_dogs.logit_model(model)


# ---------------------------------------------------------------- attack-1: the logit margin


@exercise("attack-1", "the logit margin z_label - z_other of a batch", time_limit_s=20)
def _(answer):
    rng = np.random.default_rng(2101)
    cases = 0
    for size in (7, 1, 12):
        logits = rng.normal(scale=3.0, size=(size, 2)).astype(np.float32)
        labels = rng.integers(0, 2, size=size).astype(np.int32)
        labels[:2] = (0, 1)[:size]  # both classes in each batch; the single image is a cat
        expected = cats_dogs.logit_margin(tf.constant(logits), tf.constant(labels)).numpy()
        got = as_array(call(answer, tf.constant(logits), tf.constant(labels)), "the margin", shape=(size,))
        if np.allclose(got, expected, atol=1e-5):
            cases += 1
            continue
        if np.allclose(got, -expected, atol=1e-5):
            raise Hint("the sign is flipped: m must be positive where the network picks the label")
        if np.allclose(np.abs(got), np.abs(expected), atol=1e-5):
            dog_minus_cat = logits[:, 1] - logits[:, 0]
            if np.allclose(got, dog_minus_cat, atol=1e-5) or np.allclose(got, -dog_minus_cat, atol=1e-5):
                raise Hint(
                    "the same difference for every image: the sign of m depends on each image's "
                    "own label (which logit is z_label, which is z_other)"
                )
            raise Hint("right size, wrong sign for some images: check which logit is z_label")
        wrong = int(np.argmax(np.abs(got - expected)))
        raise Hint(
            f"wrong for image {wrong} of a batch of {size}: logits {logits[wrong].round(2).tolist()}, "
            f"label {labels[wrong]}, got {got[wrong]:.3f}"
        )
    return f"z_label - z_other on {cases} random batches (1, 7 and 12 images, both labels)"


# ---------------------------------------------------------------- attack-2: one sign step


def _step_cases():
    rng = np.random.default_rng(2102)
    shape = (9, 7, 3)  # not the notebook's 128 x 128: the answer must not assume a size
    toy = ToyNet(shape, seed=2102)
    images = rng.uniform(0.0, 1.0, size=(6, *shape)).astype(np.float32)
    images[:, 0, 0, :] = 0.0  # values at the edges of [0, 1], where the clip matters
    images[:, 1, 1, :] = 1.0
    labels = np.array([0, 1, 0, 1, 1, 0], np.int32)
    yield "a small non-linear network on 6 random 9x7 images", toy, images, labels, 3 * ONE_COUNT
    photos, photo_labels = _sample_photos()
    yield "the victim on the two sample photos", _logits_of("classifier"), photos, photo_labels, ONE_COUNT


@exercise("attack-2", "one sign step of epsilon down the logit margin, inside [0, 1]", time_limit_s=60)
def _(answer):
    for what, logits_of, images, labels, epsilon in _step_cases():
        x, y = tf.constant(images), tf.constant(labels)
        try:
            stepped = call(answer, logits_of, x, y, epsilon)
        except Hint as hint:
            if "None" in str(hint):
                raise Hint(
                    "the gradient came back None: the tape only watches variables, and images "
                    "are a constant tensor (tape.watch)"
                ) from None
            raise
        got = as_array(stepped, "the stepped images", shape=images.shape)
        expected = _reference_step(logits_of, x, y, epsilon).numpy()
        moved = (got - images) / epsilon
        if got.min() < -1e-6 or got.max() > 1 + 1e-6:
            raise Hint(f"{what}: values outside [0, 1]; an image's values must stay in the box (clip)")
        if np.max(np.abs(got - images)) > epsilon * (1 + 1e-4):
            raise Hint(
                f"{what}: a value moved {np.max(np.abs(got - images)) / epsilon:.2f} epsilon; "
                "no value may move more than epsilon"
            )
        inside = (images > epsilon) & (images < 1 - epsilon)  # no clip either way
        reference = np.round((expected - images) / epsilon)
        agree = np.mean(np.isclose(got, expected, atol=1e-6))
        if agree > 0.999:
            continue
        if np.mean(np.isclose(moved[inside], -reference[inside], atol=1e-3)) > 0.99:
            raise Hint(
                f"{what}: the step goes the wrong way: it raises the margin of the true label; "
                "the attack wants it lower"
            )
        whole_steps = np.isclose(np.abs(moved[inside]), 1.0, atol=1e-3)
        if np.mean(whole_steps) < 0.5:
            raise Hint(
                f"{what}: most values moved less than epsilon: step along the sign of the gradient, "
                "not the gradient itself (steepest ascent under an L-inf budget)"
            )
        raise Hint(f"{what}: only {agree:.1%} of the values match one sign step down the logit margin")
    return (
        "matches the notebook's sign step on 6 random 9x7 images of a small non-linear network "
        "(values at 0 and 1 included) and on the two sample photos against the victim"
    )


# ---------------------------------------------------------------- attack-3: the first-order gain


@exercise("attack-3", "the first-order drop of the margin, epsilon times the L1 norm", time_limit_s=20)
def _(answer):
    rng = np.random.default_rng(2103)
    for shape, epsilon in (((3, 5, 4, 3), 2 * ONE_COUNT), ((1, 128, 128, 3), ONE_COUNT), ((4, 2, 2, 1), 0.1)):
        gradient = rng.normal(scale=0.02, size=shape).astype(np.float32)
        expected = epsilon * np.abs(gradient).reshape(shape[0], -1).sum(axis=1)
        got = call(answer, tf.constant(gradient), epsilon)
        if np.ndim(got) == 0 and shape[0] > 1:
            if np.isclose(float(got), expected.sum(), rtol=1e-3):
                raise Hint("one number for the whole batch: sum over each image's own values")
            raise Hint(f"one number for {shape[0]} images: return one drop per image")
        got = as_array(got, "the predicted drop", shape=(shape[0],))
        if np.allclose(got, expected, rtol=1e-3):
            continue
        if np.allclose(got, -expected, rtol=1e-3):
            raise Hint("negative: return the drop, epsilon * (a norm of the gradient), as a positive number")
        l2 = epsilon * np.sqrt((gradient.reshape(shape[0], -1) ** 2).sum(axis=1))
        if np.allclose(got, l2, rtol=1e-3):
            raise Hint(
                "that is the L2 norm: the sign step moves every value by epsilon, so the gain "
                "is the dual norm of L-inf"
            )
        if np.allclose(got, expected / gradient[0].size, rtol=1e-3):
            raise Hint("a mean over the values: the first-order change is a sum of every term")
        if np.allclose(got, expected / epsilon, rtol=1e-3):
            raise Hint("epsilon is missing: the step moves each value by epsilon")
        raise Hint(f"for gradients of shape {shape} and epsilon {epsilon:.4f}, got {got.round(4).tolist()}")
    return "epsilon * ||gradient||_1 per image for 3 shapes and budgets, 128x128 included"


# ---------------------------------------------------------------- attack-4: the fewest counts


# (model, photo index in the sorted sample_imgs, max_counts): chosen so that the answers differ
PROBES = (
    ("classifier", 0, 8),
    ("classifier", 1, 8),
    ("fgsm_classifier", 1, 8),
    ("pgd_classifier", 0, 8),  # the PGD copy calls the clean cat a dog
    ("pgd_classifier", 1, 8),
    ("pgd_classifier", 1, 3),  # not flipped within 3 counts
)


def _reference_counts(key, max_counts):
    """Per sample photo, the steps of one count after which ``key`` is wrong (0 = before any)."""
    photos, labels = _sample_photos()
    logits_of = _logits_of(key)
    images, margins = tf.constant(photos), []
    for step in range(max_counts + 1):
        if step:
            images = _reference_step(logits_of, images, labels, ONE_COUNT)
        margins.append(cats_dogs.logit_margin(logits_of(images, training=False), labels).numpy())
    margins = np.array(margins).T  # (photo, steps + 1): the clean photo, then after each step
    return [int(np.argmax(row <= 0)) if np.any(row <= 0) else None for row in margins], margins


@exercise("attack-4", "the fewest one-count steps that flip a photo", time_limit_s=90)
def _(answer):
    photos, labels = _sample_photos()
    seen = []
    for key, photo, max_counts in PROBES:
        counts, margins = _reference_counts(key, max_counts)
        expected = counts[photo]
        name = f"{cats_dogs.DISPLAY_NAMES[key]}, {CLASS_NAMES[labels[photo]]} photo, max_counts={max_counts}"
        got = call(answer, _logits_of(key), tf.constant(photos[photo]), int(labels[photo]), max_counts)
        if got is not None and not isinstance(got, int | np.integer):
            raise Hint(f"{name}: expected a whole number of counts or None, got {type(got).__name__}")
        if got == expected:
            seen.append("none" if expected is None else str(expected))
            continue
        if expected == 0 and got is not None:
            raise Hint(f"{name}: the model is wrong about this photo before any step: check 0 counts first")
        if expected is None:
            raise Hint(f"{name}: no flip within {max_counts} counts, so the answer is None, got {got}")
        if got is None or got > max_counts:
            raise Hint(f"{name}: never flipped: is each step going down the margin of the true label?")
        if got == expected + 1:
            raise Hint(f"{name}: one count too many: after k steps of one count the budget is k")
        raise Hint(f"{name}: got {got}; the margin after each step was {margins[photo].round(2).tolist()}")
    return (
        f"{len(PROBES)} probes of the three committed models on the sample photos "
        f"(answers {', '.join(seen)}), the notebook's sign steps counted the same way"
    )
