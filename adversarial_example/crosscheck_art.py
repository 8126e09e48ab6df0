"""Cross-check of the hand-written PGD (``cats_dogs.pgd_attack``) against a maintained library's.

An optional, one-off measurement, not a dependency of the project: the Adversarial Robustness
Toolbox (ART) is installed in a throwaway virtual environment that also sees this project's
packages (TensorFlow and Keras as pinned)::

    python -m venv /tmp/artvenv
    .venv/bin/python -c "import site; print(site.getsitepackages()[0])" \\
        > "$(/tmp/artvenv/bin/python -c 'import site; print(site.getsitepackages()[0])')/project.pth"
    /tmp/artvenv/bin/pip install adversarial-robustness-toolbox==1.20.1
    /tmp/artvenv/bin/python adversarial_example/crosscheck_art.py --data-dir ../shared/cats_vs_dogs_128

On the first 100 photos of the checklist subset, the victim at 2 counts and the PGD copy at 4:
our PGD-20 (logit margin, one random start) and ART's ``ProjectedGradientDescent`` (cross-entropy
on the logits, the same 20 steps of 2.5 * budget / 20 from one random start, two NumPy seeds).
Writes ``pgd_library_crosscheck`` into ``models/metrics.json`` (numbers only).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf
from cats_dogs import (
    METRICS_JSON,
    MODEL_DIR,
    MODEL_FILES,
    ONE_COUNT,
    load_classifier,
    load_image_folder,
    logit_model,
    pgd_attack,
    to_unit,
    update_metrics,
)
from evaluate_attacks import CONTROL_PHOTOS, PGD_STEPS, predicted_correct

BUDGETS = {"classifier": 2, "pgd_classifier": 4}  # the victim's matched budget; the copy's training one
ART_SEEDS = (0, 1)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, required=True, help="folder with test/{cat,dog}")
    parser.add_argument("--metrics", type=Path, default=METRICS_JSON)
    parser.add_argument("--seed", type=int, default=42, help="the checklist subset's seed")
    args = parser.parse_args()
    import art
    from art.attacks.evasion import ProjectedGradientDescent
    from art.estimators.classification import TensorFlowV2Classifier

    images, labels = load_image_folder(args.data_dir / "test")
    chosen = np.sort(np.random.default_rng(args.seed).choice(len(labels), 300, replace=False))[
        :CONTROL_PHOTOS
    ]
    x, y = to_unit(images[chosen]), labels[chosen]
    result = {
        "library": f"adversarial-robustness-toolbox {art.__version__}",
        "photos": CONTROL_PHOTOS,
        "subset": f"first {CONTROL_PHOTOS} of numpy "
        f"default_rng({args.seed}).choice(2000, 300, replace=False)",
        "ours": f"cats_dogs.pgd_attack, logit margin, {PGD_STEPS} steps, 1 random start, seed 101",
        "art": f"ProjectedGradientDescent, cross-entropy on the logits, {PGD_STEPS} steps, 1 random start",
    }
    for key, budget in BUDGETS.items():
        logits_of = logit_model(load_classifier(MODEL_DIR / MODEL_FILES[key]))
        epsilon = budget * ONE_COUNT
        correct = predicted_correct(logits_of, x, y)
        start = time.time()
        ours = pgd_attack(logits_of, tf.constant(x), y, epsilon, steps=PGD_STEPS, seed=101).numpy()
        ours_correct = correct & predicted_correct(logits_of, ours, y)
        classifier = TensorFlowV2Classifier(
            model=logits_of,
            nb_classes=2,
            input_shape=x.shape[1:],
            loss_object=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            clip_values=(0.0, 1.0),
        )
        runs = []
        for seed in ART_SEEDS:
            # ART draws its random start from NumPy's global generator
            np.random.seed(seed)  # noqa: NPY002
            attack = ProjectedGradientDescent(
                classifier,
                norm=np.inf,
                eps=epsilon,
                eps_step=2.5 * epsilon / PGD_STEPS,
                max_iter=PGD_STEPS,
                num_random_init=1,
                batch_size=100,
                verbose=False,
            )
            found = attack.generate(x=x, y=y).astype(np.float32)
            art_correct = correct & predicted_correct(logits_of, found, y)
            runs.append(
                {
                    "numpy_seed": seed,
                    "correct": int(art_correct.sum()),
                    "same_photos_correct_as_ours": int((art_correct & ours_correct).sum()),
                    "largest_change_counts": round(float(np.abs(found - x).max() / ONE_COUNT), 4),
                }
            )
        result[key] = {
            "budget_in_counts": budget,
            "clean_correct": int(correct.sum()),
            "ours_correct": int(ours_correct.sum()),
            "art_runs": runs,
            "seconds": round(time.time() - start),
        }
        print(key, result[key], flush=True)
    update_metrics({"pgd_library_crosscheck": result}, args.metrics)
    print(f"wrote pgd_library_crosscheck into {args.metrics}", flush=True)


if __name__ == "__main__":
    main()
