"""Image loading, the victim classifier and the pixel attacks for the adversarial notebook.

Shared by ``adversarial_cats_dogs.ipynb``, ``train_classifier.py``, ``evaluate_attacks.py``
and the unit tests, so every one of them loads images and attacks the model the same way.
Pixels are float32 in [0, 1]; one 8-bit "count" is 1/255.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image, UnidentifiedImageError

CLASS_NAMES = ("cat", "dog")
HERE = Path(__file__).resolve().parent
MODEL_DIR = HERE / "models"
METRICS_JSON = MODEL_DIR / "metrics.json"
# metrics.json key -> model file, and key -> the name the notebooks print.
MODEL_FILES = {
    "classifier": "victim_cnn.keras",
    "fgsm_classifier": "victim_cnn_fgsm.keras",
    "pgd_classifier": "victim_cnn_pgd.keras",
}
DISPLAY_NAMES = {
    "classifier": "victim",
    "fgsm_classifier": "FGSM-trained copy",
    "pgd_classifier": "PGD-trained copy",
}
IMAGE_SIZE = 128
ONE_COUNT = 1.0 / 255.0
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")


class ImageLoadError(ValueError):
    """An image file exists but cannot be decoded."""


def to_rgb_square(image: Image.Image, size: int = IMAGE_SIZE) -> Image.Image:
    """Any mode, any size -> RGB ``size`` x ``size``: composite alpha on white, centre-crop, resize."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    image = image.convert("RGB")
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    image = image.crop((left, top, left + side, top + side))
    if side != size:
        image = image.resize((size, size), Image.Resampling.LANCZOS)
    return image


def read_image_uint8(path, size: int = IMAGE_SIZE) -> np.ndarray:
    """Read an image file as a ``(size, size, 3)`` uint8 array, with errors that name the file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image file not found: {path}")
    try:
        with Image.open(path) as image:
            image.load()
            return np.asarray(to_rgb_square(image, size), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ImageLoadError(f"{path}: not a readable image ({error})") from error


def to_unit(pixels) -> np.ndarray:
    """8-bit counts (uint8, any shape) -> float32 in [0, 1]: the one place a count becomes 1/255."""
    return np.asarray(pixels, dtype=np.float32) / 255.0


def load_image(path, size: int = IMAGE_SIZE) -> np.ndarray:
    """Read an image file as a ``(size, size, 3)`` float32 array with values in [0, 1]."""
    return to_unit(read_image_uint8(path, size))


def load_image_folder(split_dir, size: int = IMAGE_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """Load ``split_dir/cat/*`` and ``split_dir/dog/*`` as uint8 images and 0/1 labels, sorted by name."""
    split_dir = Path(split_dir)
    images, labels = [], []
    for label, name in enumerate(CLASS_NAMES):
        class_dir = split_dir / name
        if not class_dir.is_dir():
            raise FileNotFoundError(f"expected a folder of {name} images at {class_dir}")
        files = sorted(p for p in class_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise FileNotFoundError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {class_dir}")
        images.extend(read_image_uint8(p, size) for p in files)
        labels.extend([label] * len(files))
    return np.stack(images), np.asarray(labels, dtype=np.int32)


def load_tfds_splits(seed: int = 42, test_fraction: float = 0.15):
    """tensorflow-datasets ``cats_vs_dogs`` (one split upstream), cut into train/test by a fixed seed.

    Downloads on first use; needs ``pip install -r adversarial_example/requirements-train.txt``.
    """
    try:
        import tensorflow_datasets as tfds
    except ImportError as error:
        raise SystemExit(
            "tensorflow-datasets is not installed: pip install -r adversarial_example/requirements-train.txt,"
            " or pass --data-dir"
        ) from error
    images, labels = [], []
    for image, label in tfds.as_numpy(tfds.load("cats_vs_dogs", split="train", as_supervised=True)):
        images.append(np.asarray(to_rgb_square(Image.fromarray(image), IMAGE_SIZE)))
        labels.append(int(label))  # tfds: 0 = cat, 1 = dog, as CLASS_NAMES
    images, labels = np.stack(images), np.asarray(labels, np.int32)
    train, test = split_indices(len(labels), 1 - test_fraction, seed)
    return (images[train], labels[train]), (images[test], labels[test])


def split_indices(count: int, first_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded permutation of ``range(count)`` cut in two: the first ``first_fraction``, the rest.

    The one split of the project: tensorflow-datasets' train/test and train/validation both use it.
    """
    order = np.random.default_rng(seed).permutation(count)
    cut = int(round(first_fraction * count))
    return order[:cut], order[cut:]


def build_classifier(width: int = 24, name: str = "cats_vs_dogs_cnn"):
    """Kaggle-style CNN: conv blocks with batch norm, pooling and dropout, dense head, 2-way softmax.

    A strided 5x5 first convolution and a pooling layer bring 128x128 down to 32x32 at once,
    which keeps an epoch on two CPU cores to about two minutes.
    """
    import keras
    from keras import layers

    inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3), name="pixels")
    x = layers.Conv2D(width, 5, strides=2, padding="same", use_bias=False)(inputs)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    x = layers.MaxPooling2D()(x)
    for filters in (2 * width, 4 * width, 8 * width):
        for _ in range(2):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
            x = layers.ReLU()(layers.BatchNormalization()(x))
        x = layers.MaxPooling2D()(x)
        x = layers.Dropout(0.2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(256, use_bias=False)(x)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(len(CLASS_NAMES), activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=name)


def load_classifier(path):
    """Load a saved classifier in Keras' safe mode (no arbitrary code is deserialised)."""
    import keras

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    return keras.models.load_model(path, compile=False, safe_mode=True)


def predicted_name(probabilities) -> str:
    """The class a row of probabilities (or logits) picks."""
    return CLASS_NAMES[int(np.argmax(probabilities))]


def claim(text: str, holds) -> None:
    """State a result in words: print it with a tick, or raise naming it when it no longer holds."""
    if not bool(holds):
        raise AssertionError(f"no longer true: {text}")
    print("✓", text)


def read_metrics(path=METRICS_JSON) -> dict:
    """The measured figures committed beside the models."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def update_metrics(entries: dict, path=METRICS_JSON) -> None:
    """Write ``entries`` into metrics.json, keeping every other entry: its one writer."""
    path = Path(path)
    metrics = json.loads(path.read_text()) if path.exists() else {}
    metrics.update(entries)
    path.write_text(json.dumps(metrics, indent=2) + "\n")


def binomial_interval(successes, trials, z: float = 1.96) -> tuple[float, float]:
    """Wilson's 95% interval for a proportion: honest near 0 and 1, where the normal one is not."""
    if trials <= 0:
        raise ValueError(f"binomial_interval needs at least one trial, got {trials}")
    share = successes / trials
    centre = (share + z**2 / (2 * trials)) / (1 + z**2 / trials)
    half = z * np.sqrt(share * (1 - share) / trials + z**2 / (4 * trials**2)) / (1 + z**2 / trials)
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return float(low), float(high)


# ---------------------------------------------------------------- the attacks
#
# One objective, the logit margin m = z_label - z_other (positive: classified as ``label``).
# Its input gradient has no softmax factor, so it cannot underflow the way the gradients of
# p_label - p_other and of the cross-entropy do (the attack notebook shows both going to zero).
# With two classes the three share the sign of their gradients wherever none has underflowed,
# so every sign attack below takes the same steps it would take on the cross-entropy.


class LogitModel:
    """The classifier without its softmax: ``logits_of(images)`` returns z, not probabilities.

    It shares every weight with ``model`` (the convolutions and the last layer's kernel and
    bias), so it stays right while ``model`` trains. Called like a Keras model.
    """

    def __init__(self, model):
        import keras

        self.head = model.get_layer("probabilities")
        self.features = keras.Model(model.input, self.head.input)
        self.name = f"{model.name}_logits"

    def __call__(self, images, training=False):
        features = self.features(images, training=training)
        return tf.matmul(features, self.head.kernel) + self.head.bias


def logit_model(model) -> LogitModel:
    """The same network with the softmax left off (weights shared): see :class:`LogitModel`."""
    return LogitModel(model)


def logit_margin(logits, labels):
    """z_label - z_other per image, for two classes: positive where ``label`` wins."""
    labels = tf.convert_to_tensor(labels, tf.int32)
    chosen = tf.gather(logits, labels, axis=1, batch_dims=1)
    other = tf.gather(logits, 1 - labels, axis=1, batch_dims=1)
    return chosen - other


@tf.function(reduce_retracing=True)
def margin_gradient(logits_of, images, labels):
    """The logit margin and its gradient with respect to every input value, from one tape."""
    with tf.GradientTape() as tape:
        tape.watch(images)
        margin = logit_margin(logits_of(images, training=False), labels)
    return margin, tape.gradient(margin, images)


def sign_step(logits_of, images, labels, step):
    """FGSM's step: every value moves ``step`` against the sign of the margin's gradient.

    One call with ``step`` = epsilon is FGSM (Goodfellow et al. 2015); ``step`` is one budget or
    one per image. Values stay in [0, 1]. ``labels`` is the class to move *away* from.
    """
    images = tf.convert_to_tensor(images, tf.float32)
    _, gradient = margin_gradient(logits_of, images, tf.convert_to_tensor(labels, tf.int32))
    return tf.clip_by_value(images - _per_image(step) * tf.sign(gradient), 0.0, 1.0)


def sign_attack(logits_of, images, labels, steps: int, step_size: float = ONE_COUNT):
    """The iterative attack: ``steps`` sign steps of ``step_size``, each from a new gradient.

    Returns the images after each step, ``(steps, n, H, W, 3)``. With one count per step no
    value moves more than ``steps`` counts and every value stays on the 8-bit grid.
    """
    history = [tf.convert_to_tensor(images, tf.float32)]
    for _ in range(steps):
        history.append(sign_step(logits_of, history[-1], labels, step_size))
    return tf.stack(history[1:])


def project(adversarial, images, epsilon):
    """Back into the L-inf ball of radius ``epsilon`` around ``images``, and into [0, 1]."""
    epsilon = _per_image(epsilon)
    return tf.clip_by_value(adversarial, tf.maximum(images - epsilon, 0.0), tf.minimum(images + epsilon, 1.0))


def random_fgsm(logits_of, images, labels, epsilon, seed: int):
    """R+FGSM (Tramer et al. 2018): a random step of epsilon/2 in each value, then FGSM with
    the other half of the budget. Stronger than FGSM only where the loss is curved at the photo."""
    images = tf.convert_to_tensor(images, tf.float32)
    random_signs = tf.sign(tf.random.Generator.from_seed(seed).normal(tf.shape(images)))
    start = tf.clip_by_value(images + _per_image(epsilon) / 2 * random_signs, 0.0, 1.0)
    return project(sign_step(logits_of, start, labels, _per_image(epsilon) / 2), images, epsilon)


def pgd_attack(
    logits_of,
    images,
    labels,
    epsilon,
    steps: int = 20,
    step_size=None,
    restarts: int = 1,
    random_start: bool = True,
    seed: int = 0,
):
    """Untargeted L-inf PGD (Madry et al. 2018) on the logit margin of the true ``labels``.

    Each restart starts from a uniformly random point of the ball of radius ``epsilon`` (or
    from ``images`` when ``random_start`` is false), takes ``steps`` sign steps of ``step_size``
    (default ``2.5 * epsilon / steps``, the rule of thumb of the MadryLab ``robustness``
    library) and projects back into the ball and [0, 1] after each. Each image keeps the first
    restart that fools the model, else the one with the lowest margin. ``epsilon`` is one
    budget or one per image. The result is off the 8-bit grid: a continuous-ball attack.
    """
    images = tf.convert_to_tensor(images, tf.float32)
    labels = tf.convert_to_tensor(labels, tf.int32)
    epsilon = _per_image(epsilon)
    step_size = 2.5 * epsilon / steps if step_size is None else _per_image(step_size)
    generator = tf.random.Generator.from_seed(seed)
    best, best_margin = images, tf.fill(tf.shape(labels), np.inf)
    for _ in range(restarts):
        noise = generator.uniform(tf.shape(images), -1.0, 1.0) * epsilon if random_start else 0.0
        adversarial = tf.clip_by_value(images + noise, 0.0, 1.0)
        adversarial, margin = pgd_steps(
            logits_of, images, labels, adversarial, epsilon, step_size, tf.constant(steps)
        )
        # Keep a restart's result where no earlier one fooled the model and this one did better.
        take = tf.logical_and(best_margin >= 0, margin < best_margin)
        best = tf.where(take[:, None, None, None], adversarial, best)
        best_margin = tf.where(take, margin, best_margin)
    return best


@tf.function(reduce_retracing=True)
def pgd_steps(logits_of, images, labels, adversarial, epsilon, step_size, steps):
    """``steps`` projected sign steps; returns the last point and its logit margin."""
    for _ in tf.range(steps):
        _, gradient = margin_gradient(logits_of, adversarial, labels)
        adversarial = project(adversarial - step_size * tf.sign(gradient), images, epsilon)
    return adversarial, logit_margin(logits_of(adversarial, training=False), labels)


def _per_image(value):
    # One number for the batch, or one per image broadcast over (H, W, 3).
    value = tf.convert_to_tensor(value, tf.float32)
    return tf.reshape(value, [-1, 1, 1, 1]) if value.shape.rank else value
