"""Checkers for the exercises of ``adversarial_cats_dogs.ipynb`` (``check("attack-1", answer)``).

Each checker runs the reader's answer on cases of its own: random logits and labels, a small
non-linear network on images of another size, and the committed models on the committed sample
photos (never the held-out test photos). The reference is computed here, with ``cats_dogs``
(the notebook's own attack) or a closed form. Where an answer is wrong, the checker runs the
typical mistakes itself and names the one the answer matches; otherwise it says which way the
answer is off, never the reference's numbers.
"""

from __future__ import annotations

import functools

import cats_dogs
import numpy as np
import tensorflow as tf
from cats_dogs import CLASS_NAMES, ONE_COUNT

from gdtf.exercises import Hint, as_array, call, call_differentiating, exercise


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


def _margin_and_gradient(logits_of, images, labels, margin_of=cats_dogs.logit_margin):
    """``cats_dogs.margin_gradient`` run eagerly: a checker's cases have many shapes and
    models, and retracing its compiled gradient for each would only warn."""
    with tf.GradientTape() as tape:
        tape.watch(images)
        margin = margin_of(logits_of(images, training=False), labels)
    return margin, tape.gradient(margin, images)


def _reference_step(logits_of, images, labels, epsilon):
    """The notebook's sign step (``cats_dogs.sign_step``), run eagerly."""
    _, gradient = _margin_and_gradient(logits_of, images, labels)
    return tf.clip_by_value(images - epsilon * tf.sign(gradient), 0.0, 1.0)


@functools.cache
def _logits_of(key: str):
    model = cats_dogs.load_classifier(cats_dogs.MODEL_DIR / cats_dogs.MODEL_FILES[key])
    return cats_dogs.logit_model(model)


def _counts(epsilon: float) -> str:
    return f"{epsilon / ONE_COUNT:.3g} counts"


def _numbers(values) -> str:
    return "[" + ", ".join(f"{value:.3g}" for value in values) + "]"


def _close(got, expected, rtol=1e-3) -> bool:
    return bool(np.allclose(got, expected, rtol=rtol, atol=1e-6))


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
        probabilities = tf.nn.softmax(tf.constant(logits))
        if np.allclose(got, cats_dogs.logit_margin(probabilities, tf.constant(labels)).numpy(), atol=1e-5):
            raise Hint("those are probabilities: the margin is of the logits, before the softmax")
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
            f"wrong for image {wrong} of a batch of {size}: logits {_numbers(logits[wrong])}, "
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


def _step_hint(what, answer, logits_of, x, y, epsilon, got, expected) -> str:
    """Why ``got`` (in [0, 1], not the reference) differs from one sign step: the first that fits."""
    images = x.numpy()
    inside = (images > epsilon) & (images < 1 - epsilon)  # no clip either way
    moved = ((got - images) / epsilon)[inside]  # in units of epsilon
    size = np.abs(moved)
    if epsilon != ONE_COUNT and np.mean(np.isclose(size, ONE_COUNT / epsilon, atol=1e-3)) > 0.9:
        return (
            f"{what}: every value moved one count, not epsilon ({_counts(epsilon)} here): "
            "step by the epsilon the function is given"
        )
    reference = np.round((expected - images) / epsilon)[inside]
    if np.mean(np.isclose(moved, -reference, atol=1e-3)) > 0.99:
        return (
            f"{what}: the step goes the wrong way: it raises the margin of the true label; "
            "the attack wants it lower"
        )
    if np.mean(np.isclose(size, 1.0, atol=1e-3)) < 0.5:
        on_the_grid = np.isclose(got * 255, np.round(got * 255), atol=1e-3)
        if np.mean(on_the_grid) > 0.99 and np.mean(np.isclose(images * 255, np.round(images * 255))) < 0.5:
            return (
                f"{what}: the result is on the 8-bit grid, the images given are not: move each "
                "value by exactly epsilon and leave rounding out"
            )
        typical = float(np.median(size))
        if typical > 1e-3 and np.mean(np.isclose(size, typical, rtol=1e-3)) > 0.9:
            return f"{what}: every value moved {typical:.3g} epsilon: a sign step moves each by epsilon"
        return (
            f"{what}: the values moved by different amounts, not each by epsilon: step along the sign "
            "of the gradient, not the gradient itself (steepest ascent under an L-inf budget)"
        )
    largest = float(np.max(np.abs(got - images))) / epsilon
    if largest > 1 + 1e-4:
        return f"{what}: a value moved {largest:.3g} epsilon; no value may move more than epsilon"
    again = as_array(call(answer, logits_of, x, y, epsilon), "the result", shape=images.shape)
    if not np.array_equal(again, got):
        return (
            f"{what}: two calls on the same images gave different steps: did you pass training=False? "
            "Dropout makes each call random"
        )
    agree = np.mean(np.isclose(got, expected, atol=1e-6))
    return f"{what}: only {agree:.1%} of the values match one sign step down the logit margin"


@exercise("attack-2", "one sign step of epsilon down the logit margin, inside [0, 1]", time_limit_s=30)
def _(answer):
    for what, logits_of, images, labels, epsilon in _step_cases():
        x, y = tf.constant(images), tf.constant(labels)
        stepped = call_differentiating(answer, logits_of, x, y, epsilon, inputs="images")
        got = as_array(stepped, "the result", shape=images.shape)
        if got.min() < -1e-6 or got.max() > 1 + 1e-6:
            raise Hint(f"{what}: values outside [0, 1]; an image's values must stay in the box (clip)")
        expected = _reference_step(logits_of, x, y, epsilon).numpy()
        if np.mean(np.isclose(got, expected, atol=1e-6)) <= 0.999:
            raise Hint(_step_hint(what, answer, logits_of, x, y, epsilon, got, expected))
    return (
        "matches the notebook's sign step on 6 random 9x7 images of a small non-linear network "
        "(values at 0 and 1 included) and on the two sample photos against the victim"
    )


# ---------------------------------------------------------------- attack-3: the linearity test


def _probability_margin(logits, labels):
    return cats_dogs.logit_margin(tf.nn.softmax(logits), labels)


def _ratio_parts(logits_of, images, labels, epsilon, margin_of=cats_dogs.logit_margin):
    """Section 4's measurement for a batch: per image, the margin's actual change after one
    sign step and the gradient before it, and the step taken, each flattened per image."""
    margin, gradient = _margin_and_gradient(logits_of, images, labels, margin_of)
    stepped = tf.clip_by_value(images - epsilon * tf.sign(gradient), 0.0, 1.0)
    actual = (margin_of(logits_of(stepped, training=False), labels) - margin).numpy()
    count = images.shape[0]
    per_image = lambda t: tf.reshape(t, [count, -1]).numpy().astype(np.float64)  # noqa: E731
    return actual, per_image(gradient), per_image(stepped - images), stepped


def _reference_ratios(logits_of, images, labels, epsilon):
    """Actual change / first-order prediction, the prediction as section 4 computes it (grad m
    . delta, the step taken) and as section 2 states it (-epsilon ||grad m||_1): they differ
    only where the clip stops a value short of epsilon."""
    actual, gradient, step, _ = _ratio_parts(logits_of, images, labels, epsilon)
    along_the_step = actual / np.sum(gradient * step, axis=1)
    l1 = actual / (-epsilon * np.sum(np.abs(gradient), axis=1))
    return along_the_step, l1


def _ratio_mistakes(logits_of, images, labels, epsilon):
    """Typical wrong ratios, each with its hint (none gives the answer away)."""
    actual, gradient, step, stepped = _ratio_parts(logits_of, images, labels, epsilon)
    l1 = -epsilon * np.sum(np.abs(gradient), axis=1)
    yield (
        actual / (-epsilon * np.linalg.norm(gradient, axis=1)),
        (
            "that is the L2 norm of the gradient: the sign step moves every value by the full "
            "epsilon, so what does g·δ add up to?"
        ),
    )
    probability = _ratio_parts(logits_of, images, labels, epsilon, _probability_margin)
    for ratio in (
        probability[0] / np.sum(probability[1] * probability[2], axis=1),
        probability[0] / (-epsilon * np.sum(np.abs(probability[1]), axis=1)),
        probability[0] / l1,
    ):
        yield ratio, "those are probabilities: the margin is of the logits (what logits_of returns)"
    _, gradient_after = _margin_and_gradient(logits_of, stepped, labels)
    gradient_after = tf.reshape(gradient_after, [len(actual), -1]).numpy().astype(np.float64)
    along_the_step_after = np.sum(gradient_after * step, axis=1)
    for prediction in (along_the_step_after, -epsilon * np.sum(np.abs(gradient_after), axis=1)):
        yield (
            actual / prediction,
            (
                "the prediction uses the gradient at the stepped images: a first-order prediction "
                "takes the gradient where the step starts"
            ),
        )


def _ratio_cases():
    rng = np.random.default_rng(2103)
    shape = (9, 7, 3)
    toy = ToyNet(shape, seed=2103)
    images = rng.uniform(0.0, 1.0, size=(5, *shape)).astype(np.float32)
    images[:, 0, 0, :] = 0.0  # where the clip stops a value short of epsilon
    images[:, 1, 1, :] = 1.0
    labels = np.array([0, 1, 0, 1, 1], np.int32)
    for counts in (2, 8):
        yield "a small non-linear network on 5 random 9x7 images", toy, images, labels, counts * ONE_COUNT
    photos, photo_labels = _sample_photos()
    yield "the victim on the two sample photos", _logits_of("classifier"), photos, photo_labels, ONE_COUNT


def _ratio_hint(what, epsilon, logits_of, x, y, got, references) -> str:
    """Why the ratios ``got`` differ from section 4's (``references``: the two accepted forms)."""
    where = f"{what}, epsilon = {_counts(epsilon)}"
    fits = lambda expected: any(_close(got, e) for e in expected)  # noqa: E731
    if np.any(got < 0):
        return (
            f"{where}: negative or mixed signs, got {_numbers(got)}: the step lowers the margin, "
            "so the actual change and its prediction have the same sign (both changes, negative, "
            "or both drops, positive)"
        )
    if np.all(np.abs(got) < 1e-6):
        return f"{where}: every ratio is 0: is the margin measured again after the step?"
    if fits([1 / r for r in references]):
        return f"{where}: upside down: the actual change goes on top, the prediction below"
    if fits([epsilon * r for r in references]):
        return f"{where}: the prediction is missing epsilon: the step moves each value by epsilon"
    for ratio, hint in _ratio_mistakes(logits_of, x, y, epsilon):
        if _close(got, ratio):
            return f"{where}: {hint}"
    values = int(np.prod(x.shape[1:]))
    if fits([r * values for r in references]):
        return f"{where}: a mean over the {values:,} values: the first-order change is a sum of every term"
    for reference in references:
        scale = np.median(got / reference)
        if _close(got / reference, scale):
            return (
                f"{where}: every ratio is {scale:.3g} times section 4's: check the scale of the "
                f"prediction (epsilon is {epsilon:.3g} in image units, {_counts(epsilon)})"
            )
    return (
        f"{where}: got ratios {_numbers(got)}, not the actual change of the logit margin over "
        "its first-order prediction"
    )


@exercise("attack-3", "the linearity test: actual over predicted change of the margin", time_limit_s=30)
def _(answer):
    shown = []
    for what, logits_of, images, labels, epsilon in _ratio_cases():
        x, y = tf.constant(images), tf.constant(labels)
        got = call(answer, logits_of, x, y, epsilon)
        if got is not None and np.ndim(got) == 0:
            raise Hint(f"{what}: one number for {len(labels)} images: return one ratio per image")
        got = as_array(got, "the result", shape=(len(labels),))
        along_the_step, l1 = _reference_ratios(logits_of, x, y, epsilon)
        each_matches = np.isclose(got, along_the_step, rtol=1e-3, atol=1e-6) | np.isclose(
            got, l1, rtol=1e-3, atol=1e-6
        )
        if not np.all(each_matches):
            raise Hint(_ratio_hint(what, epsilon, logits_of, x, y, got, (along_the_step, l1)))
        shown.append(got)
    return (
        "matches section 4's actual / predicted change of the logit margin on 5 random 9x7 images "
        "of a small non-linear network (2 and 8 counts, values at 0 and 1 included) and on the two "
        f"sample photos against the victim at one count ({', '.join(f'{r:.2f}' for r in shown[-1])})"
    )


# ---------------------------------------------------------------- attack-4: the fewest counts

MOST_COUNTS = 8  # the largest max_counts a probe uses; the reference steps no further
# (model, photo index in the sorted sample_imgs, max_counts): answers 1, 4, 0, 4 = max_counts
# (caught only by checking after the last step), None. The FGSM-trained copy's dog (4 fresh
# steps, 7 counts along the clean photo's gradient) comes before the PGD copy's at 4, where an
# answer that keeps the first gradient also gets None and would read as a missed last step.
PROBES = (
    ("classifier", 0, 8),
    ("fgsm_classifier", 1, 8),
    ("pgd_classifier", 0, 8),  # the PGD copy calls the clean cat a dog
    ("pgd_classifier", 1, 4),  # flipped by the fourth and last step allowed
    ("pgd_classifier", 1, 3),  # not flipped within 3 counts
)


def _probe(key: str, photo: int):
    """The model's logits, and the photo and its label as a batch of one."""
    photos, labels = _sample_photos()
    return _logits_of(key), tf.constant(photos[photo : photo + 1]), labels[photo : photo + 1]


@functools.cache
def _reference_margins(key: str, photo: int) -> tuple[float, ...]:
    """The photo's margin before any step, then after each one-count step, up to the first
    that is <= 0 or ``MOST_COUNTS`` steps: cached, shared by the probes of one photo."""
    logits_of, image, label = _probe(key, photo)
    margins = [float(cats_dogs.logit_margin(logits_of(image, training=False), label)[0])]
    while margins[-1] > 0 and len(margins) <= MOST_COUNTS:
        image = _reference_step(logits_of, image, label, ONE_COUNT)
        margins.append(float(cats_dogs.logit_margin(logits_of(image, training=False), label)[0]))
    return tuple(margins)


def _first_flip(margins, max_counts):
    return next((step for step, margin in enumerate(margins[: max_counts + 1]) if margin <= 0), None)


def _counts_along_the_first_gradient(key: str, photo: int, max_counts: int):
    """What an answer gets that takes one gradient at the clean photo and walks n counts along
    its sign (an FGSM step of n counts, not n fresh steps)."""
    logits_of, image, label = _probe(key, photo)
    _, gradient = _margin_and_gradient(logits_of, image, label)
    for counts in range(max_counts + 1):
        stepped = tf.clip_by_value(image - counts * ONE_COUNT * tf.sign(gradient), 0.0, 1.0)
        if cats_dogs.logit_margin(logits_of(stepped, training=False), label)[0] <= 0:
            return counts
    return None


# A second case where walking along the clean photo's gradient (5 counts) and fresh steps (4)
# differ, to tell that mistake from others that happen to give the same count on one probe.
CONFIRM_FIRST_GRADIENT = ("pgd_classifier", 1, 8)


def _walks_the_first_gradient(answer) -> bool:
    key, photo, max_counts = CONFIRM_FIRST_GRADIENT
    logits_of, image, label = _probe(key, photo)
    got = call(answer, logits_of, image[0], int(label[0]), max_counts)
    walked = _counts_along_the_first_gradient(key, photo, max_counts)
    return walked != _first_flip(_reference_margins(key, photo), max_counts) and got == walked


def _counts_hint(answer, name, key, photo, max_counts, got, expected) -> str:
    """Why ``got`` steps differ from the reference's ``expected``: direction only, no margins."""
    if expected == 0:
        return f"{name}: the model is wrong about this photo before any step: check 0 counts first"
    if expected is None:
        return f"{name}: no flip within {max_counts} counts, so the answer is None, got {got}"
    if got is None and expected == max_counts:
        return (
            f"{name}: got None, but the last step allowed ({max_counts}) flips it: is the margin "
            "checked after the last step too?"
        )
    if got is None or got > max_counts:
        return f"{name}: never flipped: is each step going down the margin of the true label?"
    if got == _counts_along_the_first_gradient(key, photo, max_counts) and _walks_the_first_gradient(answer):
        return (
            f"{name}: got {got}, as steps along the clean photo's gradient give: take a fresh "
            "gradient at the current image before each step"
        )
    if got == expected + 1:
        return f"{name}: one count too many: after k steps of one count the budget is k"
    if got > expected:
        return (
            f"{name}: got {got}: the reference flips sooner; is a margin <= 0 counted as flipped, "
            "and does each step take a fresh gradient at the current image and move every value "
            "exactly one count?"
        )
    return (
        f"{name}: got {got}: the reference flips later; does each step move every value exactly "
        "one count, from a fresh gradient at the current image?"
    )


@exercise("attack-4", "the fewest one-count steps that flip a photo", time_limit_s=45)
def _(answer):
    photos, labels = _sample_photos()
    seen = []
    for key, photo, max_counts in PROBES:
        expected = _first_flip(_reference_margins(key, photo), max_counts)
        name = f"{cats_dogs.DISPLAY_NAMES[key]}, {CLASS_NAMES[labels[photo]]} photo, max_counts={max_counts}"
        got = call(answer, _logits_of(key), tf.constant(photos[photo]), int(labels[photo]), max_counts)
        if got is not None and not isinstance(got, int | np.integer):
            raise Hint(f"{name}: expected a whole number of counts or None, got {type(got).__name__}")
        if got != expected:
            raise Hint(_counts_hint(answer, name, key, photo, max_counts, got, expected))
        seen.append("None" if expected is None else str(expected))
    return (
        f"{len(PROBES)} probes of the three committed models on the sample photos "
        f"(answers {', '.join(seen)}), the notebook's sign steps counted the same way"
    )
