"""Robust accuracy and attack success rates of the committed classifiers, written into metrics.json.

    python adversarial_example/evaluate_attacks.py --data-dir ../shared/cats_vs_dogs_128

Every model is attacked on every test photo with a budget of 1..8 counts (1/255 per pixel and
channel) by three attacks, weakest to strongest:

* FGSM (Goodfellow et al. 2015): one gradient, one jump of ``budget`` counts along its sign;
* iterative (Kurakin et al. 2017): ``budget`` steps of exactly one count in the sign of the
  gradient (the notebook's attack), re-computing the gradient after each step;
* PGD (Madry et al. 2018): from a random point of the budget's L-inf ball, 20 signed steps of
  2.5 * budget / 20, projected back into the ball after each; 3 restarts.

**Robust accuracy** at a budget is the fraction of *all* test photos still classified correctly
after the attack (a photo misclassified to begin with counts as an error). The **success rate**
is the fraction of the correctly classified photos whose prediction flips; its denominator is
recorded. An adversarial image found for a smaller budget also lies within every larger budget,
so PGD at a budget only attacks the photos that survived the budget below it.

A **transfer** attack makes PGD perturbations on the undefended classifier and feeds them to
each model: a defence that only hides its gradients (gradient masking, Athalye et al. 2018)
falls to it.

Only numbers are written (``robust_accuracy`` and ``attack_success`` in ``models/metrics.json``);
no image is saved. Without ``--data-dir`` the tensorflow-datasets test split of
``train_classifier.py`` is used.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf
from cats_dogs import (
    CLASS_NAMES,
    ONE_COUNT,
    fgsm_attack,
    load_classifier,
    load_image_folder,
    load_tfds_splits,
    pgd_attack,
    sign_attack,
)

HERE = Path(__file__).resolve().parent
MODELS = {
    "classifier": "victim_cnn.keras",
    "robust_classifier": "victim_cnn_robust.keras",
    "pgd_classifier": "victim_cnn_pgd.keras",
}
PGD_STEPS, PGD_RESTARTS = 20, 3
TRANSFER_BUDGETS = (2, 4, 8)


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, help="folder with test/{cat,dog}")
    parser.add_argument("--model-dir", type=Path, default=HERE / "models")
    parser.add_argument("--max-budget", type=int, default=8, help="largest budget, in counts of 1/255")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--seed", type=int, default=42, help="only for the tensorflow-datasets split")
    parser.add_argument("--every", type=int, default=1, help="use every n-th test photo (a quick look)")
    return parser.parse_args()


def batches(indices, batch_size):
    for start in range(0, len(indices), batch_size):
        yield indices[start : start + batch_size]


def as_float(images, index):
    return tf.constant(images[index], tf.float32) / 255.0


def predict(model, images):
    return np.argmax(model.predict_on_batch(images), axis=1)


def predict_all(model, images, batch_size):
    """Predicted classes of a float image array, in batches."""
    return np.concatenate(
        [predict(model, tf.constant(images[i : i + batch_size])) for i in range(0, len(images), batch_size)]
    )


def single_step_and_iterative(model, images, labels, correct, budgets, batch_size):
    """Which photos FGSM and the iterative attack leave correct, per budget: two ``(budgets, n)`` masks."""
    fgsm = np.zeros((len(budgets), len(labels)), bool)
    iterative = np.zeros_like(fgsm)
    for index in batches(np.flatnonzero(correct), batch_size):
        batch, target = as_float(images, index), 1 - labels[index]
        steps = sign_attack(model, batch, target, steps=max(budgets))
        jumps = fgsm_attack(model, batch, target, [b * ONE_COUNT for b in budgets])
        for k, budget in enumerate(budgets):
            for attacked, survived in ((steps[budget - 1], iterative), (jumps[k], fgsm)):
                assert np.abs(attacked - batch).max() <= budget * ONE_COUNT + 1e-6
                survived[k, index] = predict(model, attacked) == labels[index]
    return fgsm, iterative


def pgd_survivors(model, images, labels, correct, budgets, batch_size):
    """Which photos PGD (3 restarts) leaves correct, per budget: a ``(budgets, n)`` mask."""
    robust = np.zeros((len(budgets), len(labels)), bool)
    alive = correct.copy()
    for k, budget in enumerate(budgets):
        for restart in range(PGD_RESTARTS):
            for index in batches(np.flatnonzero(alive), batch_size):
                seed = 1_000_000 * budget + 1000 * restart + int(index[0])
                batch = as_float(images, index)
                attacked = pgd_attack(model, batch, labels[index], budget * ONE_COUNT, PGD_STEPS, seed=seed)
                assert np.abs(attacked - batch).max() <= budget * ONE_COUNT + 1e-6
                alive[index] &= predict(model, attacked) == labels[index]
        robust[k] = alive
    return robust


def transfer_examples(source, images, labels, batch_size):
    """PGD images made on ``source`` for each transfer budget (one restart)."""
    made = {}
    for budget in TRANSFER_BUDGETS:
        parts = []
        for index in batches(np.arange(len(labels)), batch_size):
            parts.append(
                pgd_attack(
                    source,
                    as_float(images, index),
                    labels[index],
                    budget * ONE_COUNT,
                    PGD_STEPS,
                    seed=budget * 7919 + int(index[0]),
                ).numpy()
            )
        made[budget] = np.concatenate(parts)
    return made


def rounded(values):
    return [round(float(v), 4) for v in values]


def main():
    args = parse_args()
    if args.data_dir:
        images, labels = load_image_folder(args.data_dir / "test")
        data = f"folder {args.data_dir.name}/test"
    else:
        images, labels = load_tfds_splits(args.seed)[1]
        data = "tensorflow-datasets cats_vs_dogs, test split of train_classifier.py"
    images, labels = images[:: args.every], labels[:: args.every]
    budgets = list(range(1, args.max_budget + 1))
    robust_accuracy = {
        "budgets_in_counts": budgets,
        "data": data,
        "test_images": int(len(labels)),
        "definition": "fraction of all test photos classified correctly after the attack",
        "pgd": f"{PGD_STEPS} steps of 2.5 * budget / {PGD_STEPS}, random start, {PGD_RESTARTS} restarts",
        "transfer": {
            "budgets_in_counts": list(TRANSFER_BUDGETS),
            "made_on": "classifier",
            "attack": f"PGD, {PGD_STEPS} steps from a random start, 1 restart",
        },
    }
    success = {
        "budgets_in_counts": budgets,
        "data": data,
        "test_images": int(len(labels)),
        "success_rate": "fraction of correctly classified test photos whose predicted class flips",
    }
    metrics_path = args.model_dir / "metrics.json"
    transfer = None
    for key, file in MODELS.items():
        path = args.model_dir / file
        if not path.exists():
            print(f"skipping {key}: {path} not found")
            continue
        model, start = load_classifier(path), time.time()
        correct = np.zeros(len(labels), bool)
        for index in batches(np.arange(len(labels)), args.batch_size):
            correct[index] = predict(model, as_float(images, index)) == labels[index]
        fgsm, iterative = single_step_and_iterative(model, images, labels, correct, budgets, args.batch_size)
        pgd = pgd_survivors(model, images, labels, correct, budgets, args.batch_size)
        if key == "classifier":
            transfer = transfer_examples(model, images, labels, args.batch_size)
        entry = {
            "clean": round(float(correct.mean()), 4),
            "fgsm": rounded(fgsm.mean(axis=1)),
            "iterative": rounded(iterative.mean(axis=1)),
            "pgd": rounded(pgd.mean(axis=1)),
            "pgd_per_class": {
                name: rounded(pgd[:, labels == k].mean(axis=1)) for k, name in enumerate(CLASS_NAMES)
            },
        }
        if transfer is not None:
            entry["transfer"] = [
                round(float(np.mean(predict_all(model, transfer[b], args.batch_size) == labels)), 4)
                for b in TRANSFER_BUDGETS
            ]
        entry["seconds"] = round(time.time() - start)
        robust_accuracy[key] = entry
        attacked = int(correct.sum())
        success[key] = {
            "attacked_images": attacked,
            **{
                name: rounded(1 - mask[:, correct].sum(axis=1) / attacked)
                for name, mask in (("iterative", iterative), ("fgsm", fgsm), ("pgd", pgd))
            },
        }
        print(f"{key}: clean accuracy {correct.mean():.1%} ({attacked} photos), {entry['seconds']} s")
        print("  robust accuracy at budget " + " ".join(f"{b:>6}" for b in budgets))
        for name in ("fgsm", "iterative", "pgd"):
            print(f"  {name:26}" + " ".join(f"{x:6.1%}" for x in entry[name]))
        if "transfer" in entry:
            print(f"  transfer from the classifier at {TRANSFER_BUDGETS}: {entry['transfer']}")
    metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
    metrics["robust_accuracy"] = robust_accuracy
    metrics["attack_success"] = success
    metrics_path.write_text(json.dumps(metrics, indent=2) + "\n")
    print(f"wrote robust_accuracy and attack_success into {metrics_path}")


if __name__ == "__main__":
    main()
