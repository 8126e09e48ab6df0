"""Image loading, the victim classifier and the pixel attacks for the adversarial notebook.

Shared by ``adversarial_cats_dogs.ipynb``, ``train_classifier.py``, ``evaluate_attacks.py``
and the unit tests, so every one of them loads images and attacks the model the same way.
Pixels are float32 in [0, 1]; one 8-bit "count" is 1/255.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image, UnidentifiedImageError

CLASS_NAMES = ("cat", "dog")
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


def load_image(path, size: int = IMAGE_SIZE) -> np.ndarray:
    """Read an image file as a ``(size, size, 3)`` float32 array with values in [0, 1]."""
    return read_image_uint8(path, size).astype(np.float32) / 255.0


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
    order = np.random.default_rng(seed).permutation(len(labels))
    cut = int(round((1 - test_fraction) * len(labels)))
    return (images[order[:cut]], labels[order[:cut]]), (images[order[cut:]], labels[order[cut:]])


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


def sign_attack(model, images, target_class, steps: int, step_size: float = ONE_COUNT):
    """Move every pixel ``step_size`` per step in the sign of d(p_target - p_other)/d(pixel).

    ``images`` is a batch ``(n, H, W, 3)`` in [0, 1]; ``target_class`` a class index or one per
    image. Returns the images after each step, shape ``(steps, n, H, W, 3)``. The total change per
    pixel is at most ``steps * step_size`` and pixels stay in [0, 1].
    """
    images = tf.convert_to_tensor(images, tf.float32)
    sign = _target_sign(target_class, tf.shape(images)[0])
    history = []
    for _ in range(steps):
        images = tf.clip_by_value(images + step_size * _margin_gradient_sign(model, images, sign), 0.0, 1.0)
        history.append(images)
    return tf.stack(history)


def fgsm_attack(model, images, target_class, budgets):
    """Single-step FGSM: one gradient, then one jump of each size in ``budgets`` along its sign.

    Returns ``(len(budgets), n, H, W, 3)``.
    """
    images = tf.convert_to_tensor(images, tf.float32)
    direction = _margin_gradient_sign(model, images, _target_sign(target_class, tf.shape(images)[0]))
    return tf.stack([tf.clip_by_value(images + budget * direction, 0.0, 1.0) for budget in budgets])


def pgd_attack(
    model,
    images,
    labels,
    epsilon,
    steps: int = 20,
    step_size: float | None = None,
    restarts: int = 1,
    random_start: bool = True,
    seed: int = 0,
):
    """Untargeted L-inf PGD (Madry et al. 2018): maximise the cross-entropy of the true label.

    Each restart starts from a uniformly random point of the ball of radius ``epsilon`` around
    ``images`` (or from ``images`` itself when ``random_start`` is false), takes ``steps`` signed
    steps of ``step_size`` (default ``2.5 * epsilon / steps``, Madry's choice) and projects back
    into the ball and into [0, 1] after each. Of the restarts, each image keeps the first that is
    misclassified, else the one with the highest loss. Returns the adversarial batch.
    ``epsilon`` is one budget for the batch or one per image.
    """
    images = tf.convert_to_tensor(images, tf.float32)
    labels = tf.convert_to_tensor(labels, tf.int32)
    epsilon = tf.convert_to_tensor(epsilon, tf.float32)
    if epsilon.shape.rank:  # one budget per image
        epsilon = tf.reshape(epsilon, [-1, 1, 1, 1])
    step_size = 2.5 * epsilon / steps if step_size is None else tf.convert_to_tensor(step_size, tf.float32)
    generator = tf.random.Generator.from_seed(seed)
    best, best_loss, fooled = images, tf.fill(tf.shape(labels), -np.inf), tf.zeros_like(labels, tf.bool)
    for _ in range(restarts):
        noise = generator.uniform(tf.shape(images), -1.0, 1.0) * epsilon if random_start else 0.0
        adversarial = tf.clip_by_value(images + noise, 0.0, 1.0)
        adversarial, loss, wrong = pgd_steps(model, images, labels, adversarial, epsilon, step_size, steps)
        # Keep a restart's result where it is the first to fool the model, or beats the best loss so far.
        take = tf.logical_and(tf.logical_not(fooled), tf.logical_or(wrong, loss > best_loss))
        best = tf.where(take[:, None, None, None], adversarial, best)
        best_loss = tf.where(take, loss, best_loss)
        fooled = tf.logical_or(fooled, wrong)
    return best


@tf.function(reduce_retracing=True)
def pgd_steps(model, images, labels, adversarial, epsilon, step_size, steps):
    for _ in tf.range(steps):
        adversarial = tf.clip_by_value(
            adversarial + step_size * tf.sign(_loss_gradient(model, adversarial, labels)),
            tf.maximum(images - epsilon, 0.0),
            tf.minimum(images + epsilon, 1.0),
        )
    probabilities = model(adversarial, training=False)
    loss = _cross_entropy(labels, probabilities)
    return adversarial, loss, tf.argmax(probabilities, axis=1, output_type=tf.int32) != labels


def _loss_gradient(model, images, labels):
    with tf.GradientTape() as tape:
        tape.watch(images)
        # Keras takes the cross-entropy from the softmax's logits, so it does not saturate
        # when the model is sure of itself (a probability of exactly 1.0 has no gradient).
        loss = _cross_entropy(labels, model(images, training=False))
    return tape.gradient(loss, images)


def _cross_entropy(labels, probabilities):
    import keras

    return keras.losses.sparse_categorical_crossentropy(labels, probabilities)


def _target_sign(target_class, count):
    # p_cat - p_dog times +1 pushes towards "cat" (class 0), times -1 towards "dog" (class 1).
    target = tf.broadcast_to(tf.cast(target_class, tf.float32), [count])
    return 1.0 - 2.0 * target


@tf.function(reduce_retracing=True)
def _margin_gradient_sign(model, images, sign):
    with tf.GradientTape() as tape:
        tape.watch(images)
        probabilities = model(images, training=False)
        margin = sign * (probabilities[:, 0] - probabilities[:, 1])
    return tf.sign(tape.gradient(margin, images))
