"""Attack success rate against budget, for the committed classifiers, written into metrics.json.

    python adversarial_example/evaluate_attacks.py --data-dir ../shared/cats_vs_dogs_128

For every test photo the model classifies correctly, two attacks push it towards the other
class with a budget of 1..8 counts (1/255 per pixel and channel):

* iterative: ``budget`` steps of exactly one count in the sign of the gradient (the notebook's
  attack), re-computing the gradient after each step;
* FGSM: one gradient, one jump of ``budget`` counts along its sign.

The success rate at a budget is the fraction of those photos whose predicted class flipped.
Only numbers are written (the ``attack_success`` entry of ``models/metrics.json``); no image is
saved. Without ``--data-dir`` the tensorflow-datasets test split of ``train_classifier.py`` is used.
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
    ONE_COUNT,
    fgsm_attack,
    load_classifier,
    load_image_folder,
    load_tfds_splits,
    sign_attack,
)

HERE = Path(__file__).resolve().parent
MODELS = {"classifier": "victim_cnn.keras", "robust_classifier": "victim_cnn_robust.keras"}


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, help="folder with test/{cat,dog}")
    parser.add_argument("--model-dir", type=Path, default=HERE / "models")
    parser.add_argument("--max-budget", type=int, default=8, help="largest budget, in counts of 1/255")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--seed", type=int, default=42, help="only for the tensorflow-datasets split")
    return parser.parse_args()


def success_rates(model, images, labels, budgets, batch_size):
    """Iterative and FGSM success rates at each budget, over the correctly classified images."""
    iterative_flipped = np.zeros(len(budgets))
    fgsm_flipped = np.zeros(len(budgets))
    attacked = 0
    for start in range(0, len(labels), batch_size):
        batch = tf.constant(images[start : start + batch_size], tf.float32) / 255.0
        batch_labels = labels[start : start + batch_size]
        correct = np.argmax(model.predict_on_batch(batch), axis=1) == batch_labels
        if not correct.any():
            continue
        batch, target = tf.boolean_mask(batch, correct), 1 - batch_labels[correct]
        attacked += len(target)
        for name, steps, counts in (
            ("iterative", sign_attack(model, batch, target, steps=len(budgets)), iterative_flipped),
            ("fgsm", fgsm_attack(model, batch, target, [b * ONE_COUNT for b in budgets]), fgsm_flipped),
        ):
            for k, adversarial in enumerate(steps):
                assert np.abs(adversarial - batch).max() <= budgets[k] * ONE_COUNT + 1e-6, name
                counts[k] += np.sum(np.argmax(model.predict_on_batch(adversarial), axis=1) == target)
    return attacked, iterative_flipped / attacked, fgsm_flipped / attacked


def main():
    args = parse_args()
    if args.data_dir:
        images, labels = load_image_folder(args.data_dir / "test")
        data = f"folder {args.data_dir.name}/test"
    else:
        images, labels = load_tfds_splits(args.seed)[1]
        data = "tensorflow-datasets cats_vs_dogs, test split of train_classifier.py"
    budgets = list(range(1, args.max_budget + 1))
    results = {
        "budgets_in_counts": budgets,
        "data": data,
        "test_images": int(len(labels)),
        "success_rate": "fraction of correctly classified test photos whose predicted class flips",
    }
    metrics_path = args.model_dir / "metrics.json"
    for key, file in MODELS.items():
        path = args.model_dir / file
        if not path.exists():
            print(f"skipping {key}: {path} not found")
            continue
        start = time.time()
        attacked, iterative, fgsm = success_rates(
            load_classifier(path), images, labels, budgets, args.batch_size
        )
        results[key] = {
            "attacked_images": attacked,
            "iterative": [round(float(x), 4) for x in iterative],
            "fgsm": [round(float(x), 4) for x in fgsm],
        }
        print(f"{key}: {attacked} correctly classified photos attacked in {time.time() - start:.0f} s")
        print("  budget    " + " ".join(f"{b:>6}" for b in budgets))
        print("  iterative " + " ".join(f"{x:6.1%}" for x in iterative))
        print("  FGSM      " + " ".join(f"{x:6.1%}" for x in fgsm))
    metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
    metrics["attack_success"] = results
    metrics_path.write_text(json.dumps(metrics, indent=2) + "\n")
    print(f"wrote attack_success into {metrics_path}")


if __name__ == "__main__":
    main()
