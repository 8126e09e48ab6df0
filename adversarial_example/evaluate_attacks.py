"""Robust accuracy of the committed classifiers, and the checks that it is not gradient masking.

Two one-off measurements on the held-out test photos, each writing its own entries of
``models/metrics.json`` (numbers only; no image is saved)::

    python adversarial_example/evaluate_attacks.py --data-dir ../shared/cats_vs_dogs_128
    python adversarial_example/evaluate_attacks.py --data-dir ../shared/cats_vs_dogs_128 --checklist

**Full test set** (default; about 50 minutes on two cores): every model, every budget of 1..8
counts (1/255 per value), three attacks, weakest to strongest:

* FGSM (Goodfellow et al. 2015): one gradient, one jump of ``budget`` counts along its sign;
* iterative (Kurakin et al. 2017): ``budget`` sign steps of one count, a new gradient each time;
* PGD (Madry et al. 2018): from a random point of the ball, 20 sign steps of 2.5 * budget / 20,
  projected back after each; 3 restarts. An image broken at a smaller budget lies inside every
  larger ball, so PGD at a budget only attacks the photos that survived the budget below.

**Robust accuracy** is the share of *all* test photos still classified correctly after the
attack; each comes with Wilson's 95% interval. The **success rate** is the share of the
correctly classified photos whose prediction flips.

**Checklist** (``--checklist``; 44 minutes on two cores shared with other work): the signs of
gradient masking listed by Athalye et al. (2018) and Carlini et al. (2019), measured on a seeded
random subset of the test photos, each model at its *matched budget*: the smallest budget at
which full-set FGSM leaves at most 40% of the photos correct, so that the three models are
compared at about the same height of their curves. Also: PGD's convergence in steps and restarts,
robust accuracy on training photos, the linearity test (first-order predicted against actual
change of the logit margin), the size of the clean logit margins and Square's positive control
(the victim at its matched budget on the first 100 photos, where PGD breaks most).
Every attack now uses the logit margin (``cats_dogs``). The committed ``robust_accuracy`` and
``attack_success`` numbers were measured before that change (FGSM and iterative on
p_target - p_other, PGD on the cross-entropy; their ``objective`` says so); the checklist was
measured on the logit margin.
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
    CLASS_NAMES,
    METRICS_JSON,
    MODEL_DIR,
    MODEL_FILES,
    ONE_COUNT,
    binomial_interval,
    load_classifier,
    load_image_folder,
    load_tfds_splits,
    logit_margin,
    logit_model,
    margin_gradient,
    pgd_attack,
    random_fgsm,
    read_metrics,
    sign_step,
    split_indices,
    to_unit,
    update_metrics,
)

PGD_STEPS, PGD_RESTARTS = 20, 3
TRANSFER_BUDGETS = (2, 4, 8)
MATCHED_FGSM_ACCURACY = 0.40
# Transfer checks: each model attacked with PGD images made on another, more robust-looking one.
SURROGATES = {
    "classifier": "pgd_classifier",
    "fgsm_classifier": "pgd_classifier",
    "pgd_classifier": "fgsm_classifier",
}
UNBOUNDED_BUDGET = 32
SQUARE_QUERIES = 300
CONTROL_PHOTOS = 100  # Square's positive control: the first photos of the checklist subset
CONVERGENCE_STEPS = (5, 10, 20, 40)
CONVERGENCE_RESTARTS = 3
LINEARITY_BUDGETS = (1, 4)


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data-dir", type=Path, help="folder with test/{cat,dog} (and train/ for --checklist)"
    )
    parser.add_argument("--model-dir", type=Path, default=MODEL_DIR)
    parser.add_argument("--metrics", type=Path, default=METRICS_JSON, help="the metrics.json to update")
    parser.add_argument("--max-budget", type=int, default=8, help="largest budget, in counts of 1/255")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--seed", type=int, default=42, help="the tensorflow-datasets split and the subset")
    parser.add_argument("--every", type=int, default=1, help="use every n-th test photo (a quick look)")
    parser.add_argument("--checklist", action="store_true", help="the masking checklist on a subset")
    parser.add_argument("--subset", type=int, default=300, help="test photos in the checklist subset")
    parser.add_argument(
        "--parts", default="core,linearity,convergence,square,square_control", help="checklist parts to run"
    )
    return parser.parse_args()


# ---------------------------------------------------------------- small helpers


def batches(count, batch_size):
    for start in range(0, count, batch_size):
        yield np.arange(start, min(start + batch_size, count))


def predicted_correct(logits_of, images, labels, batch_size=100):
    """Whether each image (float, [0, 1]) is classified as its label, in batches."""
    correct = np.zeros(len(labels), bool)
    for index in batches(len(labels), batch_size):
        margin = logit_margin(logits_of(tf.constant(images[index]), training=False), labels[index])
        correct[index] = margin.numpy() > 0
    return correct


def attack_in_batches(attack, logits_of, images, labels, batch_size, mask=None, seed=None, **options):
    """``attack(logits_of, batch, labels, **options)`` on the images where ``mask`` holds.

    The others are returned unchanged. With ``seed``, each batch gets ``seed + its first index``.
    """
    out = np.array(images, np.float32, copy=True)
    chosen = np.flatnonzero(np.ones(len(labels), bool) if mask is None else mask)
    for start in range(0, len(chosen), batch_size):
        index = chosen[start : start + batch_size]
        seeded = {} if seed is None else {"seed": seed + int(index[0])}
        out[index] = attack(logits_of, tf.constant(images[index]), labels[index], **options, **seeded).numpy()
    return out


def share(mask):
    """A robust accuracy with its count and Wilson 95% interval, as stored in metrics.json."""
    correct, total = int(np.sum(mask)), int(np.size(mask))
    low, high = binomial_interval(correct, total)
    return {
        "accuracy": round(correct / total, 4),
        "correct": correct,
        "of": total,
        "interval95": [round(low, 4), round(high, 4)],
    }


def intervals(accuracies, total):
    """Wilson intervals for a curve of accuracies measured on ``total`` photos."""
    return [[round(v, 4) for v in binomial_interval(round(a * total), total)] for a in accuracies]


def rounded(values):
    return [round(float(v), 4) for v in values]


def load_models(model_dir):
    return {key: logit_model(load_classifier(model_dir / file)) for key, file in MODEL_FILES.items()}


# ---------------------------------------------------------------- the full test set


def full_test_set(args, images, labels, data):
    """FGSM, iterative and PGD at every budget, all photos: robust_accuracy and attack_success."""
    budgets = list(range(1, args.max_budget + 1))
    robust = {
        "budgets_in_counts": budgets,
        "data": data,
        "test_images": int(len(labels)),
        "definition": "fraction of all test photos classified correctly after the attack",
        "pgd": f"{PGD_STEPS} steps of 2.5 * budget / {PGD_STEPS}, random start, {PGD_RESTARTS} restarts",
        "threat_model": "continuous L-inf ball: PGD's points are off the 8-bit grid",
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
    models, transfer = load_models(args.model_dir), {}
    for key, logits_of in models.items():
        start = time.time()
        correct = predicted_correct(logits_of, images, labels, args.batch_size)
        fgsm, iterative, pgd = (np.zeros((len(budgets), len(labels)), bool) for _ in range(3))
        batch = {"batch_size": args.batch_size}
        for k, budget in enumerate(budgets):
            jumped = attack_in_batches(
                sign_step, logits_of, images, labels, mask=correct, step=budget * ONE_COUNT, **batch
            )
            fgsm[k] = correct & predicted_correct(logits_of, jumped, labels)
        # the iterative attack: one more step of one count per budget, from the last
        stepped = images
        for k in range(len(budgets)):
            stepped = attack_in_batches(
                sign_step, logits_of, stepped, labels, mask=correct, step=ONE_COUNT, **batch
            )
            iterative[k] = correct & predicted_correct(logits_of, stepped, labels)
        alive = correct.copy()
        for k, budget in enumerate(budgets):
            for restart in range(PGD_RESTARTS):
                attacked = attack_in_batches(
                    pgd_attack,
                    logits_of,
                    images,
                    labels,
                    mask=alive,
                    seed=1_000_000 * budget + 1000 * restart,
                    epsilon=budget * ONE_COUNT,
                    steps=PGD_STEPS,
                    **batch,
                )
                alive &= predicted_correct(logits_of, attacked, labels)
            pgd[k] = alive
        if key == "classifier":
            transfer = {
                b: attack_in_batches(
                    pgd_attack,
                    logits_of,
                    images,
                    labels,
                    seed=b * 7919,
                    epsilon=b * ONE_COUNT,
                    steps=PGD_STEPS,
                    **batch,
                )
                for b in TRANSFER_BUDGETS
            }
        entry = {"clean": round(float(correct.mean()), 4)}
        for name, mask in (("fgsm", fgsm), ("iterative", iterative), ("pgd", pgd)):
            entry[name] = rounded(mask.mean(axis=1))
            entry[f"{name}_interval95"] = intervals(entry[name], len(labels))
        entry["pgd_per_class"] = {
            name: rounded(pgd[:, labels == c].mean(axis=1)) for c, name in enumerate(CLASS_NAMES)
        }
        entry["transfer"] = [
            round(float(np.mean(predicted_correct(logits_of, transfer[b], labels))), 4)
            for b in TRANSFER_BUDGETS
        ]
        entry["seconds"] = round(time.time() - start)
        robust[key] = entry
        attacked = int(correct.sum())
        success[key] = {
            "attacked_images": attacked,
            **{
                name: rounded(1 - mask[:, correct].sum(axis=1) / attacked)
                for name, mask in (("iterative", iterative), ("fgsm", fgsm), ("pgd", pgd))
            },
        }
        print(f"{key}: clean {correct.mean():.1%}, PGD {entry['pgd']}, {entry['seconds']} s", flush=True)
    update({"robust_accuracy": robust, "attack_success": success}, args)


def add_intervals(robust):
    """Wilson intervals for every curve of a full-set robust_accuracy entry (a migration step)."""
    for key in MODEL_FILES:
        for name in ("fgsm", "iterative", "pgd"):
            robust[key][f"{name}_interval95"] = intervals(robust[key][name], robust["test_images"])
    return robust


def update(entries, args):
    update_metrics(entries, args.metrics)
    print(f"wrote {', '.join(entries)} into {args.metrics}", flush=True)


# ---------------------------------------------------------------- the checklist


def matched_budgets(robust):
    """Per model, the smallest budget at which full-set FGSM leaves at most 40% correct."""
    return {
        key: next(
            b
            for b, a in zip(robust["budgets_in_counts"], robust[key]["fgsm"], strict=True)
            if a <= MATCHED_FGSM_ACCURACY
        )
        for key in MODEL_FILES
    }


def square_attack(logits_of, images, labels, epsilon, queries, seed):
    """Square attack, L-inf (Andriushchenko et al. 2020): gradient-free random search.

    Starts from vertical stripes of +-epsilon; each query redraws one random square of the image
    at +-epsilon per channel and keeps it where the logit margin drops. The square shrinks on the
    paper's schedule. Stops, per image, once the model is fooled. Returns the images.
    """
    rng = np.random.default_rng(seed)
    n, height, width, channels = images.shape
    stripes = rng.choice([-epsilon, epsilon], size=(n, 1, width, channels)).astype(np.float32)
    best = np.clip(images + stripes, 0.0, 1.0)
    best_margin = logit_margin(logits_of(tf.constant(best), training=False), labels).numpy()
    for query in range(queries):
        active = np.flatnonzero(best_margin > 0)
        if not active.size:
            break
        fraction = 0.05 / 2 ** sum(query >= q for q in (10, 50, 200, 500))
        side = max(int(round(np.sqrt(fraction * height * width))), 1)
        candidate = best[active].copy()
        for row, i in enumerate(active):
            top, left = rng.integers(0, height - side + 1), rng.integers(0, width - side + 1)
            signs = rng.choice([-epsilon, epsilon], size=(1, 1, channels))
            window = np.s_[top : top + side, left : left + side]
            candidate[row][window] = np.clip(images[i][window] + signs, 0.0, 1.0)
        margin = logit_margin(logits_of(tf.constant(candidate), training=False), labels[active]).numpy()
        better = margin < best_margin[active]
        best[active[better]], best_margin[active[better]] = candidate[better], margin[better]
    return best


def checklist_core(args, models, images, labels, budgets):
    """One-step vs iterative, R+FGSM, white-box vs transfer, unbounded budget: per model, at its budget."""
    rows = {}
    for key, logits_of in models.items():
        epsilon = budgets[key] * ONE_COUNT
        correct = predicted_correct(logits_of, images, labels)

        def survivors(attack, mask=correct, logits_of=logits_of, **options):
            attacked = attack_in_batches(
                attack, logits_of, images, labels, args.batch_size, mask=mask, **options
            )
            return mask & predicted_correct(logits_of, attacked, labels)

        fgsm = survivors(sign_step, step=epsilon)
        r_fgsm = survivors(random_fgsm, seed=11, epsilon=epsilon)
        pgd = survivors(pgd_attack, seed=23, epsilon=epsilon, steps=PGD_STEPS)
        first_100 = np.arange(len(labels)) < 100
        unbounded = survivors(
            pgd_attack, mask=correct & first_100, seed=37, epsilon=UNBOUNDED_BUDGET * ONE_COUNT, steps=10
        )
        rows[key] = {
            "budget_in_counts": budgets[key],
            "clean": share(correct),
            "fgsm": share(fgsm),
            "r_fgsm": share(r_fgsm),
            "pgd20": share(pgd),
            "pgd_survivors": np.flatnonzero(pgd).tolist(),
            f"pgd10_at_{UNBOUNDED_BUDGET}_counts_first_100": share(unbounded[first_100]),
        }
        print(key, {k: v["accuracy"] for k, v in rows[key].items() if isinstance(v, dict)}, flush=True)
    for key, logits_of in models.items():
        source = SURROGATES[key]
        made = attack_in_batches(
            pgd_attack,
            models[source],
            images,
            labels,
            args.batch_size,
            seed=51,
            epsilon=budgets[key] * ONE_COUNT,
            steps=PGD_STEPS,
        )
        rows[key]["transfer"] = share(predicted_correct(logits_of, made, labels))
        rows[key]["transfer_from"] = source
        print(key, "transfer from", source, rows[key]["transfer"]["accuracy"], flush=True)
    return rows


def linearity(models, images, labels, count=100):
    """First-order predicted (gradient . step) against actual change of the logit margin, FGSM step."""
    out = {}
    x, y = tf.constant(images[:count]), tf.constant(labels[:count])
    for key, logits_of in models.items():
        margin, gradient = margin_gradient(logits_of, x, y)
        out[key] = {}
        for budget in LINEARITY_BUDGETS:
            stepped = sign_step(logits_of, x, y, budget * ONE_COUNT)
            predicted = tf.reduce_sum(gradient * (stepped - x), axis=[1, 2, 3])
            actual = logit_margin(logits_of(stepped, training=False), y) - margin
            out[key][str(budget)] = {
                "predicted": [round(float(v), 3) for v in predicted.numpy()],
                "actual": [round(float(v), 3) for v in actual.numpy()],
            }
    return out


def clean_margins(models, images, labels):
    """Size of the clean logit margin on every test photo: how sure each model is."""
    out = {}
    for key, logits_of in models.items():
        margins = np.concatenate(
            [
                logit_margin(logits_of(tf.constant(to_unit(images[i])), training=False), labels[i]).numpy()
                for i in batches(len(labels), 200)
            ]
        )
        size = np.abs(margins)
        out[key] = {
            "median_abs": round(float(np.median(size)), 3),
            "p99_abs": round(float(np.percentile(size, 99)), 3),
            "max_abs": round(float(size.max()), 3),
            "photos": int(len(labels)),
        }
    return out


def convergence(args, logits_of, images, labels, epsilon):
    """Robust accuracy of PGD-k (one restart) for several k, and PGD-20 with 1..R restarts."""
    correct = predicted_correct(logits_of, images, labels)
    by_steps = {}
    for steps in CONVERGENCE_STEPS:
        attacked = attack_in_batches(
            pgd_attack,
            logits_of,
            images,
            labels,
            args.batch_size,
            correct,
            seed=101,
            epsilon=epsilon,
            steps=steps,
        )
        by_steps[str(steps)] = share(correct & predicted_correct(logits_of, attacked, labels))
        print("  steps", steps, by_steps[str(steps)]["accuracy"], flush=True)
    alive, by_restarts = correct.copy(), []
    for restart in range(CONVERGENCE_RESTARTS):
        attacked = attack_in_batches(
            pgd_attack,
            logits_of,
            images,
            labels,
            args.batch_size,
            alive,
            seed=1009 * (restart + 1),
            epsilon=epsilon,
            steps=PGD_STEPS,
        )
        alive &= predicted_correct(logits_of, attacked, labels)
        by_restarts.append(share(alive))
    return {"by_steps": by_steps, "by_restarts_pgd20": by_restarts}


def checklist(args):
    metrics = read_metrics(args.metrics)
    budgets = matched_budgets(metrics["robust_accuracy"])
    test_images, test_labels = load_image_folder(args.data_dir / "test")
    chosen = np.sort(np.random.default_rng(args.seed).choice(len(test_labels), args.subset, replace=False))
    images, labels = to_unit(test_images[chosen]), test_labels[chosen]
    models = load_models(args.model_dir)
    parts = args.parts.split(",")
    about = {
        "data": f"folder {args.data_dir.name}/test",
        "subset": int(args.subset),
        "subset_rule": f"numpy default_rng({args.seed}).choice(2000, {args.subset}, replace=False)",
        "matched_budgets_in_counts": budgets,
        "matched_rule": f"smallest budget at which full-set FGSM leaves at most {MATCHED_FGSM_ACCURACY:.0%}",
        "objective": "logit margin z_label - z_other",
        "pgd": f"{PGD_STEPS} steps of 2.5 * budget / {PGD_STEPS}, random start, 1 restart",
        "square": f"Square attack (L-inf), {SQUARE_QUERIES} queries, on the photos PGD left correct",
        "unbounded": f"PGD-10 at {UNBOUNDED_BUDGET} counts on the first 100 photos of the subset",
    }
    result = dict(metrics.get("checklist", {}), **about)
    start = time.time()
    if "core" in parts:
        result["rows"] = checklist_core(args, models, images, labels, budgets)
        update({"checklist": result}, args)
    if "linearity" in parts:
        result["linearity"] = {
            "budgets_in_counts": list(LINEARITY_BUDGETS),
            "photos": 100,
            "models": linearity(models, images, labels),
        }
        result["clean_logit_margins"] = clean_margins(models, test_images, test_labels)
        update({"checklist": result}, args)
    if "convergence" in parts:
        conv = convergence(args, models["pgd_classifier"], images, labels, 4 * ONE_COUNT)
        train_images, train_labels = load_image_folder(args.data_dir / "train")
        _, trained_on = split_indices(len(train_labels), 0.05, args.seed)  # train_classifier's split
        picked = np.sort(np.random.default_rng(args.seed + 1).choice(trained_on, args.subset, replace=False))
        conv["train_photos_pgd20"] = convergence_train(
            args, models["pgd_classifier"], to_unit(train_images[picked]), train_labels[picked]
        )
        result["convergence_pgd_classifier_4_counts"] = conv
        update({"checklist": result}, args)
    if "square" in parts and "rows" in result:
        for key, logits_of in models.items():
            survivors = np.asarray(result["rows"][key]["pgd_survivors"], int)
            epsilon = result["rows"][key]["budget_in_counts"] * ONE_COUNT
            broken = 0
            if survivors.size:
                found = square_attack(
                    logits_of, images[survivors], labels[survivors], epsilon, SQUARE_QUERIES, seed=7
                )
                broken = int(np.sum(~predicted_correct(logits_of, found, labels[survivors])))
            result["rows"][key]["square_on_pgd_survivors"] = {
                "attacked": int(survivors.size),
                "broken": broken,
            }
            print(key, "square broke", broken, "of", survivors.size, flush=True)
        update({"checklist": result}, args)
    if "square_control" in parts:
        result["square_positive_control"] = square_positive_control(
            models["classifier"], images[:CONTROL_PHOTOS], labels[:CONTROL_PHOTOS], budgets["classifier"]
        )
        update({"checklist": result}, args)
    print(f"checklist done in {time.time() - start:.0f} s", flush=True)


def square_positive_control(logits_of, images, labels, budget):
    """Square's positive control: the undefended victim at its matched budget, where PGD breaks most.

    Square (same queries and seed as on the PGD survivors) and PGD-20 from the clean photos,
    on the first photos of the subset: if Square breaks few of what PGD breaks, its "broke none"
    on the defended copies' survivors says little.
    """
    epsilon = budget * ONE_COUNT
    correct = predicted_correct(logits_of, images, labels)
    pgd = attack_in_batches(pgd_attack, logits_of, images, labels, 100, correct, seed=23, epsilon=epsilon)
    pgd_broken = correct & ~predicted_correct(logits_of, pgd, labels)
    found = square_attack(logits_of, images[correct], labels[correct], epsilon, SQUARE_QUERIES, seed=7)
    square_broken = np.zeros_like(correct)
    square_broken[correct] = ~predicted_correct(logits_of, found, labels[correct])
    control = {
        "model": "classifier",
        "budget_in_counts": int(budget),
        "photos": int(len(labels)),
        "attacked": int(correct.sum()),
        "pgd20_broken": int(pgd_broken.sum()),
        "square_broken": int(square_broken.sum()),
        "square_broken_of_pgd_broken": int((square_broken & pgd_broken).sum()),
        "queries": SQUARE_QUERIES,
    }
    print("square positive control", control, flush=True)
    return control


def convergence_train(args, logits_of, images, labels):
    correct = predicted_correct(logits_of, images, labels)
    attacked = attack_in_batches(
        pgd_attack,
        logits_of,
        images,
        labels,
        args.batch_size,
        correct,
        seed=101,
        epsilon=4 * ONE_COUNT,
        steps=PGD_STEPS,
    )
    return {"clean": share(correct), "pgd20": share(correct & predicted_correct(logits_of, attacked, labels))}


def main():
    args = parse_args()
    if args.checklist:
        if not args.data_dir:
            raise SystemExit("--checklist needs --data-dir (the test and train photos)")
        checklist(args)
        return
    if args.data_dir:
        images, labels = load_image_folder(args.data_dir / "test")
        data = f"folder {args.data_dir.name}/test"
    else:
        images, labels = load_tfds_splits(args.seed)[1]
        data = "tensorflow-datasets cats_vs_dogs, test split of train_classifier.py"
    full_test_set(args, to_unit(images[:: args.every]), labels[:: args.every], data)


if __name__ == "__main__":
    main()
