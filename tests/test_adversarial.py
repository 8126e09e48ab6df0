"""The adversarial example's image loader, attacks, and committed classifiers."""

import json
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from cats_dogs import (
    IMAGE_SIZE,
    ONE_COUNT,
    ImageLoadError,
    fgsm_attack,
    load_classifier,
    load_image,
    load_image_folder,
    pgd_attack,
    read_image_uint8,
    sign_attack,
)
from PIL import Image

EXAMPLE_DIR = Path(__file__).resolve().parents[1] / "adversarial_example"
MODEL_DIR = EXAMPLE_DIR / "models"
SHARED_PHOTOS = EXAMPLE_DIR.parents[1] / "shared" / "cats_vs_dogs_128"


# ---------------------------------------------------------------- image loader


@pytest.mark.parametrize(
    ("mode", "size", "suffix"),
    [
        ("L", (50, 80), ".png"),
        ("RGBA", (300, 200), ".png"),
        ("P", (128, 128), ".png"),
        ("RGB", (640, 480), ".jpg"),
    ],
)
def test_any_mode_and_size_becomes_rgb_128(tmp_path, mode, size, suffix):
    path = tmp_path / f"image{suffix}"
    Image.new(mode, size, color=200 if mode in ("L", "P") else (10, 20, 30, 255)[: len(mode)]).save(path)
    image = load_image(path)
    assert image.shape == (IMAGE_SIZE, IMAGE_SIZE, 3)
    assert image.dtype == np.float32
    assert 0.0 <= image.min() <= image.max() <= 1.0


def test_values_are_exactly_8_bit_counts(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, size=(IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "noise.png")
    np.testing.assert_array_equal(load_image(tmp_path / "noise.png") * 255, pixels.astype(np.float32))


def test_transparent_pixels_are_composited_on_white(tmp_path):
    Image.new("RGBA", (IMAGE_SIZE, IMAGE_SIZE), (0, 0, 0, 0)).save(tmp_path / "clear.png")
    np.testing.assert_array_equal(read_image_uint8(tmp_path / "clear.png"), 255)


def test_non_square_images_are_centre_cropped(tmp_path):
    wide = np.zeros((100, 300, 3), np.uint8)
    wide[:, 100:200] = 255  # only the centre third is white
    Image.fromarray(wide).save(tmp_path / "wide.png")
    assert read_image_uint8(tmp_path / "wide.png").min() >= 250


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.png"):
        load_image(tmp_path / "nowhere.png")


@pytest.mark.parametrize("content", [b"", b"definitely not an image", b"\x89PNG\r\n\x1a\n truncated"])
def test_unreadable_file_is_named(tmp_path, content):
    path = tmp_path / "broken.png"
    path.write_bytes(content)
    with pytest.raises(ImageLoadError, match="broken.png"):
        load_image(path)


def test_folder_loader_labels_and_errors(tmp_path):
    for name, shade in (("cat", 0), ("dog", 255)):
        (tmp_path / "test" / name).mkdir(parents=True)
        for index in range(2):
            Image.new("RGB", (64, 64), (shade,) * 3).save(tmp_path / "test" / name / f"{index}.jpg")
    images, labels = load_image_folder(tmp_path / "test")
    assert images.shape == (4, IMAGE_SIZE, IMAGE_SIZE, 3) and images.dtype == np.uint8
    np.testing.assert_array_equal(labels, [0, 0, 1, 1])
    assert images[0].max() < 10 and images[-1].min() > 245
    with pytest.raises(FileNotFoundError, match="folder of cat images"):
        load_image_folder(tmp_path / "train")


# ---------------------------------------------------------------- attacks


def linear_toy_model(weights):
    """p_cat - p_dog = tanh(w . x): its input gradient has the sign of w everywhere."""
    shape = weights.shape
    flat = weights.reshape(-1, 1).astype(np.float32)
    model = keras.Sequential(
        [keras.Input(shape), keras.layers.Flatten(), keras.layers.Dense(2, use_bias=False)]
    )
    model.layers[-1].set_weights([np.concatenate([flat, -flat], axis=1)])
    return keras.Sequential([model, keras.layers.Softmax()])


@pytest.fixture
def toy():
    rng = np.random.default_rng(1)
    weights = rng.normal(size=(6, 6, 3))
    images = rng.integers(0, 256, size=(5, 6, 6, 3)).astype(np.float32) / 255
    images[:, 0, 0, :] = 0.0  # some pixels start at the edges of [0, 1]
    images[:, 1, 1, :] = 1.0
    return linear_toy_model(weights), weights, images


@pytest.mark.parametrize(("target", "direction"), [(0, 1.0), (1, -1.0)])
def test_sign_attack_moves_each_pixel_one_count_along_the_known_gradient(toy, target, direction):
    model, weights, images = toy
    steps = sign_attack(model, images, target, steps=3).numpy()
    assert steps.shape == (3, *images.shape)
    expected_first = np.clip(images + direction * np.sign(weights) * ONE_COUNT, 0, 1)
    np.testing.assert_allclose(steps[0], expected_first, atol=1e-6)
    for k, attacked in enumerate(steps, start=1):
        assert np.abs(attacked - images).max() <= k * ONE_COUNT + 1e-6  # budget respected
        assert attacked.min() >= 0.0 and attacked.max() <= 1.0  # still an image


def test_sign_attack_raises_the_target_probability(toy):
    model, _, images = toy
    before = model(images).numpy()
    after = model(sign_attack(model, images, [1, 0, 1, 0, 1], steps=2)[-1]).numpy()
    targets = np.array([1, 0, 1, 0, 1])
    assert np.all(after[np.arange(5), targets] > before[np.arange(5), targets])


def test_fgsm_jumps_the_whole_budget_in_one_direction(toy):
    model, weights, images = toy
    jumps = fgsm_attack(model, images, 0, [ONE_COUNT, 4 * ONE_COUNT]).numpy()
    np.testing.assert_allclose(jumps[1], np.clip(images + 4 * ONE_COUNT * np.sign(weights), 0, 1), atol=1e-6)
    assert np.abs(jumps[0] - images).max() <= ONE_COUNT + 1e-6
    assert jumps.min() >= 0.0 and jumps.max() <= 1.0


@pytest.mark.parametrize("random_start", [False, True])
def test_pgd_stays_in_the_ball_and_in_range(toy, random_start):
    model, _, images = toy
    epsilon = 3 * ONE_COUNT
    labels = [0, 1, 0, 1, 0]
    attacked = pgd_attack(
        model, images, labels, epsilon, steps=4, restarts=2, random_start=random_start
    ).numpy()
    assert np.abs(attacked - images).max() <= epsilon + 1e-6
    assert attacked.min() >= 0.0 and attacked.max() <= 1.0


def test_pgd_without_random_start_is_the_iterative_attack(toy):
    """Two classes: raising the loss of the true class is pushing towards the other one, with the
    same gradient sign, so PGD from the clean image with one-count steps never does less."""
    model, _, images = toy
    labels = np.array([0, 1, 0, 1, 0])
    pgd = pgd_attack(model, images, labels, 4 * ONE_COUNT, steps=4, step_size=ONE_COUNT, random_start=False)
    iterative = sign_attack(model, images, 1 - labels, steps=4)[-1]
    np.testing.assert_allclose(pgd.numpy(), iterative.numpy(), atol=1e-6)


def test_pgd_from_a_random_start_reaches_the_corner_of_the_ball(toy):
    """On the linear toy the best point of the L-inf ball is its corner against the true class;
    ten steps of 2.5 epsilon / 10 reach it from any random start."""
    model, weights, images = toy
    epsilon = 4 * ONE_COUNT
    labels = np.array([0, 1, 0, 1, 0])
    attacked = pgd_attack(model, images, labels, epsilon, steps=10, restarts=3, seed=5).numpy()
    towards_other = np.where(labels == 0, -1.0, 1.0)[:, None, None, None] * np.sign(weights)
    np.testing.assert_allclose(attacked, np.clip(images + epsilon * towards_other, 0, 1), atol=1e-6)


def test_pgd_takes_one_budget_per_image(toy):
    model, weights, images = toy
    budgets = np.array([1, 2, 3, 4, 5]) * ONE_COUNT
    labels = np.array([0, 1, 0, 1, 0])
    attacked = pgd_attack(model, images, labels, budgets, steps=10).numpy()
    towards_other = np.where(labels == 0, -1.0, 1.0)[:, None, None, None] * np.sign(weights)
    expected = np.clip(images + budgets[:, None, None, None] * towards_other, 0, 1)
    np.testing.assert_allclose(attacked, expected, atol=1e-6)


def test_pgd_random_start_is_deterministic_for_a_seed(toy):
    model, _, images = toy

    def attack(seed):  # a step too small to reach the corner, so the random start shows
        return pgd_attack(
            model, images, [0] * 5, 2 * ONE_COUNT, steps=1, step_size=0.1 * ONE_COUNT, seed=seed
        )

    np.testing.assert_array_equal(attack(3).numpy(), attack(3).numpy())
    assert not np.array_equal(attack(3).numpy(), attack(4).numpy())


# ---------------------------------------------------------------- committed classifiers


@pytest.mark.parametrize("name", ["victim_cnn.keras", "victim_cnn_robust.keras", "victim_cnn_pgd.keras"])
def test_committed_model_is_small_and_loads_in_safe_mode(name):
    path = MODEL_DIR / name
    assert path.stat().st_size <= 20 * 2**20
    model = load_classifier(path)
    assert model.input_shape == (None, IMAGE_SIZE, IMAGE_SIZE, 3)
    probabilities = model(np.full((1, IMAGE_SIZE, IMAGE_SIZE, 3), 0.5, np.float32)).numpy()
    np.testing.assert_allclose(probabilities.sum(), 1.0, rtol=1e-5)


def test_load_classifier_names_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.keras"):
        load_classifier(tmp_path / "absent.keras")


def test_metrics_json_records_accuracy_and_curves():
    metrics = json.loads((MODEL_DIR / "metrics.json").read_text())
    assert metrics["classifier"]["test_accuracy"] >= 0.85
    assert metrics["classifier"]["test_images"] == 2000
    curves = metrics["attack_success"]
    assert curves["budgets_in_counts"] == list(range(1, 9))
    for key in ("classifier", "robust_classifier", "pgd_classifier"):
        for method in ("iterative", "fgsm", "pgd"):
            assert len(curves[key][method]) == 8
            assert all(0.0 <= rate <= 1.0 for rate in curves[key][method])


@pytest.mark.parametrize("key", ["classifier", "robust_classifier", "pgd_classifier"])
def test_metrics_json_records_robust_accuracy(key):
    metrics = json.loads((MODEL_DIR / "metrics.json").read_text())
    robust = metrics["robust_accuracy"]
    assert robust["test_images"] == 2000 and robust["budgets_in_counts"] == list(range(1, 9))
    entry = robust[key]
    assert entry["clean"] == pytest.approx(metrics[key]["test_accuracy"], abs=1e-4)
    for attack in ("fgsm", "iterative", "pgd"):
        assert len(entry[attack]) == 8 and all(0.0 <= a <= entry["clean"] for a in entry[attack])
    # PGD only attacks the photos that survived the budget below, so its curve cannot rise.
    assert all(np.diff(entry["pgd"]) <= 0)
    assert set(entry["pgd_per_class"]) == {"cat", "dog"}
    assert len(entry["transfer"]) == len(robust["transfer"]["budgets_in_counts"])


@pytest.mark.skipif(
    not SHARED_PHOTOS.is_dir(), reason="needs ../shared/cats_vs_dogs_128 (developer machines only)"
)
def test_committed_classifier_accuracy_on_shared_test_photos():
    """Re-measure the committed victim on every 10th held-out photo (200 photos)."""
    images, labels = load_image_folder(SHARED_PHOTOS / "test")
    images, labels = images[::10], labels[::10]
    model = load_classifier(MODEL_DIR / "victim_cnn.keras")
    predicted = np.argmax(model(tf.constant(images, tf.float32) / 255.0, training=False), axis=1)
    assert np.mean(predicted == labels) >= 0.8


# ---------------------------------------------------------------- plot helpers


def test_percent_never_rounds_a_probability_to_certainty():
    from adversarial_plots import percent

    assert percent(0.99994) == ">99.9%" and percent(0.9995) == ">99.9%"
    assert percent(0.9994) == "99.9%" and percent(0.643) == "64.3%"
    assert percent(0.00004) == "<0.1%" and percent(0.0005) == "0.1%"


def test_amplified_change_is_grey_at_zero_and_saturates_at_four_counts():
    from adversarial_plots import amplified_change

    original = np.full((2, 2, 3), 0.5, np.float32)
    shown = amplified_change(original + np.array([0, 1, -1], np.float32) * 4 * ONE_COUNT, original)
    np.testing.assert_allclose(shown[..., 0], 0.5)
    np.testing.assert_array_equal(shown[..., 1], 1.0)
    np.testing.assert_array_equal(shown[..., 2], 0.0)


def test_attack_animation_holds_the_first_and_last_steps():
    import matplotlib.pyplot as plt
    from adversarial_plots import attack_animation

    steps = np.linspace(0, 4 * ONE_COUNT, 5, dtype=np.float32)[:, None, None, None] + np.zeros((5, 4, 4, 3))
    probabilities = np.tile([[0.9, 0.1]], (5, 1))
    fig, update, frames = attack_animation([steps], [probabilities], ["toy"], hold=3)
    assert frames == 3 + 3 + 3  # the original 3 times, steps 1..3 once each, step 4 three times
    texts = []
    for frame in range(frames):
        update(frame)
        texts.append(fig.texts[-1].get_text())
    plt.close(fig)
    assert texts[:3] == ["original"] * 3
    assert len(set(texts[-3:])) == 1 and texts[-1].startswith("after step 4")
