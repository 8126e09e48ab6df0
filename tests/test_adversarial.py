"""The adversarial example's image loader, attacks, and committed classifiers."""

import json
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from cats_dogs import (
    IMAGE_SIZE,
    MODEL_FILES,
    ONE_COUNT,
    ImageLoadError,
    binomial_interval,
    build_classifier,
    claim,
    load_classifier,
    load_image,
    load_image_folder,
    logit_margin,
    logit_model,
    pgd_attack,
    random_fgsm,
    read_image_uint8,
    sign_attack,
    sign_step,
    split_indices,
    to_unit,
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


def linear_toy_logits(weights):
    """z = (w . x, -w . x): the logit margin of "cat" is 2 w . x, its gradient 2w everywhere."""
    flat = weights.reshape(-1, 1).astype(np.float32)
    model = keras.Sequential(
        [keras.Input(weights.shape), keras.layers.Flatten(), keras.layers.Dense(2, use_bias=False)]
    )
    model.layers[-1].set_weights([np.concatenate([flat, -flat], axis=1)])
    return model


@pytest.fixture
def toy():
    rng = np.random.default_rng(1)
    weights = rng.normal(size=(6, 6, 3))
    images = rng.integers(0, 256, size=(5, 6, 6, 3)).astype(np.float32) / 255
    images[:, 0, 0, :] = 0.0  # some pixels start at the edges of [0, 1]
    images[:, 1, 1, :] = 1.0
    return linear_toy_logits(weights), weights, images


@pytest.mark.parametrize(("leave", "direction"), [(1, 1.0), (0, -1.0)])
def test_sign_attack_moves_each_pixel_one_count_along_the_known_gradient(toy, leave, direction):
    logits_of, weights, images = toy
    steps = sign_attack(logits_of, images, [leave] * 5, steps=3).numpy()
    assert steps.shape == (3, *images.shape)
    expected_first = np.clip(images + direction * np.sign(weights) * ONE_COUNT, 0, 1)
    np.testing.assert_allclose(steps[0], expected_first, atol=1e-6)
    for k, attacked in enumerate(steps, start=1):
        assert np.abs(attacked - images).max() <= k * ONE_COUNT + 1e-6  # budget respected
        assert attacked.min() >= 0.0 and attacked.max() <= 1.0  # still an image


def test_sign_attack_lowers_the_margin_of_the_class_it_leaves(toy):
    logits_of, _, images = toy
    labels = np.array([1, 0, 1, 0, 1])
    before = logit_margin(logits_of(images), labels).numpy()
    after = logit_margin(logits_of(sign_attack(logits_of, images, labels, steps=2)[-1]), labels)
    assert np.all(after.numpy() < before)


def test_fgsm_is_one_sign_step_of_the_whole_budget(toy):
    logits_of, weights, images = toy
    jumped = sign_step(logits_of, images, [1] * 5, 4 * ONE_COUNT).numpy()
    np.testing.assert_allclose(jumped, np.clip(images + 4 * ONE_COUNT * np.sign(weights), 0, 1), atol=1e-6)
    per_image = sign_step(logits_of, images, [1] * 5, np.arange(1, 6) * ONE_COUNT).numpy()
    for k in range(5):
        assert np.abs(per_image[k] - images[k]).max() == pytest.approx((k + 1) * ONE_COUNT, abs=1e-6)


def test_logit_margin_picks_the_label_against_the_other():
    logits = tf.constant([[2.0, -1.0], [0.5, 3.0]])
    np.testing.assert_allclose(logit_margin(logits, [0, 0]).numpy(), [3.0, -2.5])
    np.testing.assert_allclose(logit_margin(logits, [1, 1]).numpy(), [-3.0, 2.5])


def test_logit_model_shares_the_classifiers_weights():
    model = build_classifier(width=4)
    logits_of = logit_model(model)
    images = np.random.default_rng(2).random((3, IMAGE_SIZE, IMAGE_SIZE, 3)).astype(np.float32)
    np.testing.assert_allclose(tf.nn.softmax(logits_of(images)).numpy(), model(images).numpy(), atol=1e-6)
    head = model.get_layer("probabilities")
    head.bias.assign([5.0, -5.0])  # a change to the classifier shows in the logits
    np.testing.assert_allclose(tf.nn.softmax(logits_of(images)).numpy(), model(images).numpy(), atol=1e-6)


@pytest.mark.parametrize("random_start", [False, True])
def test_pgd_stays_in_the_ball_and_in_range(toy, random_start):
    logits_of, _, images = toy
    epsilon = 3 * ONE_COUNT
    labels = [0, 1, 0, 1, 0]
    attacked = pgd_attack(
        logits_of, images, labels, epsilon, steps=4, restarts=2, random_start=random_start
    ).numpy()
    assert np.abs(attacked - images).max() <= epsilon + 1e-6
    assert attacked.min() >= 0.0 and attacked.max() <= 1.0


def test_pgd_without_random_start_is_the_iterative_attack(toy):
    logits_of, _, images = toy
    labels = np.array([0, 1, 0, 1, 0])
    pgd = pgd_attack(
        logits_of, images, labels, 4 * ONE_COUNT, steps=4, step_size=ONE_COUNT, random_start=False
    )
    iterative = sign_attack(logits_of, images, labels, steps=4)[-1]
    np.testing.assert_allclose(pgd.numpy(), iterative.numpy(), atol=1e-6)


def test_pgd_from_a_random_start_reaches_the_corner_of_the_ball(toy):
    """On the linear toy the best point of the L-inf ball is its corner against the true class;
    ten steps of 2.5 epsilon / 10 reach it from any random start."""
    logits_of, weights, images = toy
    epsilon = 4 * ONE_COUNT
    labels = np.array([0, 1, 0, 1, 0])
    attacked = pgd_attack(logits_of, images, labels, epsilon, steps=10, restarts=3, seed=5).numpy()
    towards_other = np.where(labels == 0, -1.0, 1.0)[:, None, None, None] * np.sign(weights)
    np.testing.assert_allclose(attacked, np.clip(images + epsilon * towards_other, 0, 1), atol=1e-6)


def test_pgd_takes_one_budget_per_image(toy):
    logits_of, weights, images = toy
    budgets = np.array([1, 2, 3, 4, 5]) * ONE_COUNT
    labels = np.array([0, 1, 0, 1, 0])
    attacked = pgd_attack(logits_of, images, labels, budgets, steps=10).numpy()
    towards_other = np.where(labels == 0, -1.0, 1.0)[:, None, None, None] * np.sign(weights)
    expected = np.clip(images + budgets[:, None, None, None] * towards_other, 0, 1)
    np.testing.assert_allclose(attacked, expected, atol=1e-6)


def test_pgd_random_start_is_deterministic_for_a_seed(toy):
    logits_of, _, images = toy

    def attack(seed):  # a step too small to reach the corner, so the random start shows
        return pgd_attack(
            logits_of, images, [0] * 5, 2 * ONE_COUNT, steps=1, step_size=0.1 * ONE_COUNT, seed=seed
        )

    np.testing.assert_array_equal(attack(3).numpy(), attack(3).numpy())
    assert not np.array_equal(attack(3).numpy(), attack(4).numpy())


def test_random_fgsm_stays_in_the_ball_and_ends_on_the_known_side(toy):
    logits_of, weights, images = toy
    epsilon = 4 * ONE_COUNT
    attacked = random_fgsm(logits_of, images, [1] * 5, epsilon, seed=0).numpy()
    assert np.abs(attacked - images).max() <= epsilon + 1e-6
    inside = (images > epsilon) & (images < 1 - epsilon)
    # a random half-budget step, then half the budget along +sign(w): never against it
    assert np.all(((attacked - images) * np.sign(weights))[inside] >= -1e-6)


def test_binomial_interval_covers_the_share_and_stays_in_range():
    low, high = binomial_interval(858, 2000)
    assert low < 0.429 < high and 0.02 < high - low < 0.05
    assert binomial_interval(0, 100)[0] == 0.0 and 0.0 < binomial_interval(0, 100)[1] < 0.05
    assert binomial_interval(100, 100)[1] == 1.0
    with pytest.raises(ValueError, match="at least one trial"):
        binomial_interval(0, 0)


def test_split_indices_is_a_seeded_partition():
    first, rest = split_indices(100, 0.15, seed=42)
    assert len(first) == 15 and sorted([*first, *rest]) == list(range(100))
    np.testing.assert_array_equal(first, split_indices(100, 0.15, seed=42)[0])


def test_claim_prints_a_holding_claim_and_names_a_failing_one(capsys):
    claim("two is more than one", 2 > 1)
    assert capsys.readouterr().out == "✓ two is more than one\n"
    with pytest.raises(AssertionError, match="no longer true: one is more than two"):
        claim("one is more than two", 1 > 2)


# ---------------------------------------------------------------- committed classifiers


@pytest.mark.parametrize("name", list(MODEL_FILES.values()))
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
    metrics = json.loads((MODEL_DIR / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["classifier"]["test_accuracy"] >= 0.85
    assert metrics["classifier"]["test_images"] == 2000
    curves = metrics["attack_success"]
    assert curves["budgets_in_counts"] == list(range(1, 9))
    for key in MODEL_FILES:
        for method in ("iterative", "fgsm", "pgd"):
            assert len(curves[key][method]) == 8
            assert all(0.0 <= rate <= 1.0 for rate in curves[key][method])


@pytest.mark.parametrize("key", list(MODEL_FILES))
def test_metrics_json_records_robust_accuracy(key):
    metrics = json.loads((MODEL_DIR / "metrics.json").read_text(encoding="utf-8"))
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
    for attack in ("fgsm", "iterative", "pgd"):
        for share, (low, high) in zip(entry[attack], entry[f"{attack}_interval95"], strict=True):
            assert low <= share <= high


def test_metrics_json_records_the_checklist_with_intervals():
    checklist = json.loads((MODEL_DIR / "metrics.json").read_text(encoding="utf-8"))["checklist"]
    assert set(checklist["rows"]) == set(MODEL_FILES)
    for row in checklist["rows"].values():
        for field in ("clean", "fgsm", "r_fgsm", "pgd20", "transfer"):
            result = row[field]
            assert result["of"] == checklist["subset"]
            assert result["correct"] == round(result["accuracy"] * result["of"])
            assert result["interval95"][0] <= result["accuracy"] <= result["interval95"][1]
    control = checklist["square_positive_control"]
    assert control["budget_in_counts"] == checklist["matched_budgets_in_counts"][control["model"]]
    assert control["attacked"] <= control["photos"]
    both = control["square_broken_of_pgd_broken"]
    assert both <= min(control["square_broken"], control["pgd20_broken"]) <= control["attacked"]


@pytest.mark.skipif(
    not SHARED_PHOTOS.is_dir(), reason="needs ../shared/cats_vs_dogs_128 (developer machines only)"
)
def test_committed_classifier_accuracy_on_shared_test_photos():
    """Re-measure the committed victim on every 10th held-out photo (200 photos)."""
    images, labels = load_image_folder(SHARED_PHOTOS / "test")
    images, labels = images[::10], labels[::10]
    model = load_classifier(MODEL_DIR / MODEL_FILES["classifier"])
    predicted = np.argmax(model(to_unit(images), training=False), axis=1)
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
