"""Train the cats-vs-dogs victim classifier, then fine-tune copies with FGSM and PGD adversarial training.

A one-off: the notebook only loads the committed results. Examples::

    python adversarial_example/train_classifier.py --data-dir ../shared/cats_vs_dogs_128
    python adversarial_example/train_classifier.py          # tensorflow-datasets, downloads once

``--data-dir`` must hold ``train/`` and ``test/``, each with ``cat/`` and ``dog/`` images. Without
it, tensorflow-datasets ``cats_vs_dogs`` is used (``pip install -r
adversarial_example/requirements-train.txt``; it downloads about 800 MB once), split 85/15 into
train and test by a fixed seed.

Writes ``models/victim_cnn.keras``, ``models/victim_cnn_fgsm.keras``, ``models/victim_cnn_pgd.keras``
and the ``classifier``, ``fgsm_classifier`` and ``pgd_classifier`` entries of ``models/metrics.json``
(other entries are kept). Both attacks come from ``cats_dogs`` (the logit margin; with two classes
its sign steps are the cross-entropy's wherever neither gradient underflows).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf
from cats_dogs import (
    CLASS_NAMES,
    MODEL_DIR,
    MODEL_FILES,
    ONE_COUNT,
    build_classifier,
    load_classifier,
    load_image_folder,
    load_tfds_splits,
    logit_model,
    pgd_attack,
    pgd_steps,
    sign_step,
    split_indices,
    to_unit,
    update_metrics,
)


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, help="folder with train/{cat,dog} and test/{cat,dog}")
    parser.add_argument("--epochs", type=int, default=24)
    parser.add_argument("--robust-epochs", type=int, default=3, help="FGSM fine-tuning epochs (0: skip)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--width", type=int, default=24, help="filters in the first convolution")
    parser.add_argument("--val-fraction", type=float, default=0.05, help="of train, for progress output")
    parser.add_argument("--max-budget", type=int, default=8, help="largest FGSM step in 1/255 counts")
    parser.add_argument("--pgd-epochs", type=int, default=8, help="PGD fine-tuning epochs (0: skip)")
    parser.add_argument("--pgd-epsilon", type=float, default=4, help="PGD training budget, in 1/255 counts")
    parser.add_argument("--pgd-steps", type=int, default=5, help="PGD steps per training batch")
    parser.add_argument(
        "--pgd-ramp-epochs", type=int, default=3, help="epochs over which epsilon grows to its full size"
    )
    parser.add_argument(
        "--reuse-victim",
        action="store_true",
        help="load the committed victim instead of training it (and skip FGSM fine-tuning)",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out-dir", type=Path, default=MODEL_DIR)
    return parser.parse_args()


def split_validation(images, labels, fraction, seed):
    validation, train = split_indices(len(labels), fraction, seed)
    return (images[train], labels[train]), (images[validation], labels[validation])


def augmenter(seed):
    # Photos stay photos: mirror, small shifts, turns and zooms. Kept out of the saved model so
    # the notebook's attack sees exactly the network that classifies.
    return keras.Sequential(
        [
            keras.layers.RandomFlip("horizontal", seed=seed),
            keras.layers.RandomTranslation(0.1, 0.1, fill_mode="reflect", seed=seed + 1),
            keras.layers.RandomRotation(0.05, fill_mode="reflect", seed=seed + 2),
            keras.layers.RandomZoom(0.1, fill_mode="reflect", seed=seed + 3),
        ],
        name="augment",
    )


def make_dataset(images, labels, batch_size, seed=None, augment=None):
    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    if seed is not None:
        dataset = dataset.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    # to_unit's scaling, inside the input pipeline
    dataset = dataset.batch(batch_size).map(lambda x, y: (tf.cast(x, tf.float32) * ONE_COUNT, y))
    if augment is not None:
        dataset = dataset.map(lambda x, y: (tf.clip_by_value(augment(x, training=True), 0.0, 1.0), y))
    return dataset.prefetch(tf.data.AUTOTUNE)


def evaluate(model, images, labels, batch_size=256):
    probabilities = model.predict(make_dataset(images, labels, batch_size), verbose=0)
    predicted = probabilities.argmax(axis=1)
    per_class = {name: float(np.mean(predicted[labels == k] == k)) for k, name in enumerate(CLASS_NAMES)}
    return float(np.mean(predicted == labels)), per_class


def fine_tuning_setup(model, peak_rate, epochs, train, args):
    """Adam with a cosine-decaying rate over all steps, built for the model's weights, and the loss."""
    steps = epochs * int(np.ceil(len(train[1]) / args.batch_size))
    optimizer = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(peak_rate, steps))
    optimizer.build(model.trainable_variables)
    return optimizer, keras.losses.SparseCategoricalCrossentropy()


def descend(model, optimizer, loss_fn, images, labels):
    """One gradient step on ``images``, the model in training mode (batch statistics, dropout)."""
    with tf.GradientTape() as tape:
        loss = loss_fn(labels, model(images, training=True))
    optimizer.apply_gradients(
        zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables, strict=True)
    )
    return loss


def fgsm_fine_tune(model, train, val, args):
    """FGSM adversarial training: half of every batch is replaced by its FGSM version.

    Each attacked image gets its own budget, 1..max_budget counts (Kurakin et al. 2017). FGSM
    from the clean image, without a random start, is the setting of catastrophic overfitting
    (Wong et al. 2020); the defences notebook finds its symptom.
    """
    optimizer, loss_fn = fine_tuning_setup(model, args.learning_rate / 10, args.robust_epochs, train, args)
    logits_of = logit_model(model)

    @tf.function
    def train_step(images, labels):
        half = tf.shape(images)[0] // 2
        clean, to_attack = images[:half], images[half:]
        budget = tf.random.uniform([tf.shape(to_attack)[0]], 1, args.max_budget + 1, tf.int32)
        attacked = sign_step(logits_of, to_attack, labels[half:], tf.cast(budget, tf.float32) * ONE_COUNT)
        mixed = tf.concat([clean, tf.stop_gradient(attacked)], axis=0)
        return descend(model, optimizer, loss_fn, mixed, labels)

    augment = augmenter(args.seed + 100)
    for epoch in range(args.robust_epochs):
        start, losses = time.time(), []
        for images, labels in make_dataset(*train, args.batch_size, seed=args.seed + epoch, augment=augment):
            losses.append(float(train_step(images, labels)))
        val_accuracy, _ = evaluate(model, *val)
        print(
            f"robust epoch {epoch + 1}/{args.robust_epochs}: loss {np.mean(losses):.4f}, "
            f"clean val accuracy {val_accuracy:.4f} ({time.time() - start:.0f} s)",
            flush=True,
        )


def robust_accuracy(model, images, labels, epsilon, steps, batch_size=100):
    """Fraction of ``images`` still classified correctly under PGD (one random start)."""
    logits_of, correct = logit_model(model), 0
    for first in range(0, len(labels), batch_size):
        batch = tf.constant(to_unit(images[first : first + batch_size]))
        batch_labels = labels[first : first + batch_size]
        adversarial = pgd_attack(logits_of, batch, batch_labels, epsilon, steps=steps, seed=first)
        correct += int(np.sum(np.argmax(logits_of(adversarial), axis=1) == batch_labels))
    return correct / len(labels)


def pgd_fine_tune(model, train, val, args):
    """PGD adversarial fine-tuning (Madry et al. 2018), in the mixed form of Goodfellow et al. 2015.

    Half of every batch is replaced by its PGD version (random start, ``pgd_steps`` steps of
    2.5 * epsilon / steps, labels kept), so the loss is half clean and half adversarial; the
    clean half keeps the clean accuracy from collapsing. Epsilon grows linearly from one count to
    ``pgd_epsilon`` over the first ``pgd_ramp_epochs`` epochs, a curriculum. (An earlier run that
    attacked every image at the full budget from the first step, at twice the learning rate,
    drifted towards a constant guess: training loss near log 2 and 67% clean validation accuracy
    after 4 epochs.) Returns the per-epoch
    validation history and keeps the weights of the epoch with the best validation PGD-10
    accuracy at the full budget, which guards against robust overfitting (Rice et al. 2020).
    """
    full_budget = args.pgd_epsilon * ONE_COUNT
    optimizer, loss_fn = fine_tuning_setup(model, args.learning_rate / 10, args.pgd_epochs, train, args)
    logits_of = logit_model(model)

    @tf.function
    def train_step(images, labels, epsilon):
        half = tf.shape(images)[0] // 2
        to_attack, attack_labels = images[half:], labels[half:]
        noise = tf.random.uniform(tf.shape(to_attack), -epsilon, epsilon)
        random_start = tf.clip_by_value(to_attack + noise, 0.0, 1.0)
        step_size = 2.5 * epsilon / args.pgd_steps
        attacked, _ = pgd_steps(
            logits_of, to_attack, attack_labels, random_start, epsilon, step_size, args.pgd_steps
        )
        mixed = tf.concat([images[:half], tf.stop_gradient(attacked)], axis=0)
        return descend(model, optimizer, loss_fn, mixed, labels)

    augment = augmenter(args.seed + 200)
    best_weights, best_robust, history = model.get_weights(), -1.0, []
    for epoch in range(args.pgd_epochs):
        ramp = min(1.0, (epoch + 1) / max(args.pgd_ramp_epochs, 1))
        epsilon = ONE_COUNT + ramp * (full_budget - ONE_COUNT)
        started, losses = time.time(), []
        for images, labels in make_dataset(*train, args.batch_size, seed=args.seed + epoch, augment=augment):
            losses.append(float(train_step(images, labels, tf.constant(epsilon, tf.float32))))
        clean, _ = evaluate(model, *val)
        val_pgd10 = robust_accuracy(model, *val, full_budget, steps=10)
        history.append(
            {
                "epoch": epoch + 1,
                "epsilon_counts": round(epsilon * 255, 2),
                "val_clean": round(clean, 4),
                "val_pgd10": round(val_pgd10, 4),
            }
        )
        print(
            f"PGD epoch {epoch + 1}/{args.pgd_epochs} (epsilon {epsilon * 255:.2f}/255): loss "
            f"{np.mean(losses):.4f}, validation clean {clean:.4f}, PGD-10 at {args.pgd_epsilon:g}/255 "
            f"{val_pgd10:.4f} ({time.time() - started:.0f} s)",
            flush=True,
        )
        if val_pgd10 > best_robust:
            best_weights, best_robust = model.get_weights(), val_pgd10
    model.set_weights(best_weights)
    return history


def save_for_inference(model, path):
    """Save architecture and weights only: the optimizer's state would triple the file for nothing."""
    # from_config, not clone_model: a clone of a compiled model is compiled too, optimizer and all.
    inference_copy = keras.Model.from_config(model.get_config())
    inference_copy.set_weights(model.get_weights())
    inference_copy.save(path)


def save_and_record(
    model, key, file, seconds, epochs, args, test, data_source, train_size, val_size, **extra
):
    """Measure test accuracy, save the model, and write its entry of metrics.json."""
    accuracy, per_class = evaluate(model, *test)
    print(f"{key}: test accuracy {accuracy:.4f} {per_class}", flush=True)
    save_for_inference(model, args.out_dir / file)
    entry = {
        "file": file,
        "test_accuracy": round(accuracy, 4),
        "per_class_accuracy": {k: round(v, 4) for k, v in per_class.items()},
        "epochs": epochs,
        "seed": args.seed,
        "data": data_source,
        "train_images": int(train_size),
        "validation_images": int(val_size),
        "test_images": int(len(test[1])),
        "parameters": int(model.count_params()),
        "training_seconds": round(seconds),
        **extra,
    }
    update_metrics({key: entry}, args.out_dir / "metrics.json")


def main():
    args = parse_args()
    keras.utils.set_random_seed(args.seed)
    tf.config.experimental.enable_op_determinism()
    args.out_dir.mkdir(parents=True, exist_ok=True)

    start = time.time()
    if args.data_dir:
        train_all = load_image_folder(args.data_dir / "train")
        test = load_image_folder(args.data_dir / "test")
        data_source = f"folder {args.data_dir.name}"
    else:
        train_all, test = load_tfds_splits(args.seed)
        data_source = "tensorflow-datasets cats_vs_dogs (85/15 split)"
    train, val = split_validation(*train_all, args.val_fraction, args.seed)
    print(
        f"loaded {len(train[1])} train, {len(val[1])} validation, {len(test[1])} test images "
        f"in {time.time() - start:.0f} s",
        flush=True,
    )

    context = dict(
        args=args, test=test, data_source=data_source, train_size=len(train[1]), val_size=len(val[1])
    )
    if args.reuse_victim:
        model = load_classifier(args.out_dir / MODEL_FILES["classifier"])
    else:
        model = train_victim(args, train, val, context)
        if args.robust_epochs:
            fgsm_fine_tune_and_save(model, train, val, args, context)
    if args.pgd_epochs:
        pgd = keras.models.clone_model(model)
        pgd.set_weights(model.get_weights())
        start = time.time()
        history = pgd_fine_tune(pgd, train, val, args)
        ramp = [round(h["epsilon_counts"], 2) for h in history[: args.pgd_ramp_epochs]]
        method = (
            "PGD adversarial fine-tuning of the classifier (Madry et al. 2018): half of each batch "
            f"attacked, epsilon {ramp} counts in the first {args.pgd_ramp_epochs} epochs, then "
            f"{args.pgd_epsilon:g}/255, {args.pgd_steps} steps of 2.5 * epsilon / steps from a "
            "random start; weights of the epoch with the best validation PGD-10 accuracy"
        )
        save_and_record(
            pgd,
            "pgd_classifier",
            MODEL_FILES["pgd_classifier"],
            time.time() - start,
            args.pgd_epochs,
            method=method,
            validation_history=history,
            **context,
        )


def train_victim(args, train, val, context):
    model = build_classifier(args.width)
    steps_per_epoch = int(np.ceil(len(train[1]) / args.batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(args.learning_rate, args.epochs * steps_per_epoch)
    model.compile(keras.optimizers.Adam(schedule), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary(print_fn=lambda line, **_: print(line, flush=True))
    start = time.time()
    model.fit(
        make_dataset(*train, args.batch_size, seed=args.seed, augment=augmenter(args.seed)),
        validation_data=make_dataset(*val, 256),
        epochs=args.epochs,
        shuffle=False,  # the dataset reshuffles itself, seeded
        verbose=2,
    )
    save_and_record(
        model, "classifier", MODEL_FILES["classifier"], time.time() - start, args.epochs, **context
    )
    return model


def fgsm_fine_tune_and_save(model, train, val, args, context):
    fgsm_copy = keras.models.clone_model(model)
    fgsm_copy.set_weights(model.get_weights())
    start = time.time()
    fgsm_fine_tune(fgsm_copy, train, val, args)
    method = (
        "FGSM adversarial fine-tuning of the classifier: half of each batch attacked with "
        f"a random budget of 1..{args.max_budget}/255"
    )
    save_and_record(
        fgsm_copy,
        "fgsm_classifier",
        MODEL_FILES["fgsm_classifier"],
        time.time() - start,
        args.robust_epochs,
        method=method,
        **context,
    )


if __name__ == "__main__":
    main()
