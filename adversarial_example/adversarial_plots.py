"""Plotting helpers for adversarial_cats_dogs.ipynb: matplotlib boilerplate only.

The GradientTape attack stays in the notebook. These functions take NumPy arrays:
images (H, W, 3) in [0, 1] and probabilities (p_cat, p_dog).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from cats_dogs import CLASS_NAMES

CAT_COLOR, DOG_COLOR = "tab:red", "tab:blue"
CHANGE_GAIN = 32  # changes are shown × 32: 4 counts × 32 = 128 of 255, from mid-grey to the end of the range


def percent(probability):
    """A probability as a percentage, without rounding 0.99994 up to a misleading "100.0%"."""
    if probability >= 0.9995:
        return ">99.9%"
    if probability < 0.0005:
        return "<0.1%"
    return f"{probability:.1%}"


def draw_confidence_bar(ax, probabilities):
    """One horizontal bar: the cat share in red from the left, the dog share in blue to the right."""
    p_cat = float(probabilities[0])
    cat_bar = ax.barh(0, p_cat, color=CAT_COLOR, height=1.0)[0]
    dog_bar = ax.barh(0, 1 - p_cat, left=p_cat, color=DOG_COLOR, height=1.0)[0]
    cat_text = ax.text(0.02, 0, "", va="center", ha="left", color="white", fontsize=9, fontweight="bold")
    dog_text = ax.text(0.98, 0, "", va="center", ha="right", color="white", fontsize=9, fontweight="bold")
    ax.set(xlim=(0, 1), ylim=(-0.5, 0.5), xticks=[], yticks=[])
    artists = [cat_bar, dog_bar, cat_text, dog_text]
    update_confidence_bar(artists, probabilities)
    return artists


def update_confidence_bar(artists, probabilities):
    cat_bar, dog_bar, cat_text, dog_text = artists
    p_cat = float(probabilities[0])
    cat_bar.set_width(p_cat)
    dog_bar.set_x(p_cat)
    dog_bar.set_width(1 - p_cat)
    p_dog = float(probabilities[1])
    cat_text.set_text(f"cat {percent(p_cat)}" if p_cat >= 0.3 else "")
    dog_text.set_text(f"dog {percent(p_dog)}" if p_cat <= 0.7 else "")
    return artists


def image_with_confidence(fig, spec, image, probabilities, title=None):
    """An image above its confidence bar, in one cell of a GridSpec."""
    inner = spec.subgridspec(2, 1, height_ratios=[12, 1], hspace=0.05)
    image_ax, bar_ax = fig.add_subplot(inner[0]), fig.add_subplot(inner[1])
    shown = image_ax.imshow(np.asarray(image), interpolation="nearest")
    image_ax.set(xticks=[], yticks=[])
    if title:
        image_ax.set_title(title, fontsize=10)
    return shown, draw_confidence_bar(bar_ax, probabilities)


def image_row(images, probabilities, titles, suptitle=None, size=2.4):
    """Images side by side, each with its confidence bar."""
    fig = plt.figure(figsize=(size * len(images), size * 1.25))
    grid = fig.add_gridspec(1, len(images), wspace=0.08)
    for spec, image, probs, title in zip(grid, images, probabilities, titles, strict=True):
        image_with_confidence(fig, spec, image, probs, title)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def readable_text_color(rgb):
    """Black or white, whichever contrasts more with a background colour (WCAG relative luminance)."""
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb[:3]]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    # Contrast with black is (L + 0.05) / 0.05, with white 1.05 / (L + 0.05): equal at L = 0.179.
    return "black" if luminance > 0.179 else "white"


def annotated_counts(ax, counts, title, cmap, vmin, vmax, signed=False):
    """A small patch of 8-bit values as a heatmap with each value written in its cell."""
    colormap, norm = plt.get_cmap(cmap), plt.Normalize(vmin, vmax)
    ax.imshow(counts, cmap=colormap, norm=norm)
    for (row, col), value in np.ndenumerate(counts):
        text = f"{value:+d}" if signed and value else f"{value:d}"
        color = readable_text_color(colormap(norm(value)))
        ax.text(col, row, text, ha="center", va="center", fontsize=7, color=color)
    ax.set(xticks=[], yticks=[], title=title)


def success_curves(ax, budgets, curves, title):
    """Attack success rate (%) against budget for several named curves: {label: (rates, style)}."""
    for label, (rates, style) in curves.items():
        ax.plot(budgets, 100 * np.asarray(rates), label=label, **style)
    ax.set(
        xlabel="budget (counts of 1/255 per pixel and channel)", ylabel="attack success rate (%)", title=title
    )
    ax.set(xticks=budgets, ylim=(0, 102))
    ax.grid(alpha=0.3)
    ax.legend()


def amplified_change(image, original):
    """The change from ``original`` × CHANGE_GAIN, around mid-grey (0.5 = no change), clipped to [0, 1]."""
    return np.clip(0.5 + CHANGE_GAIN * (np.asarray(image) - np.asarray(original)), 0, 1)


def magnified_crops(original, attacked, region, scale=8):
    """A region of the original and of the attacked image, and the change × 32, each value a block."""
    rows, cols = np.asarray(original)[region].shape[:2]
    width, height = cols * scale / 100, rows * scale / 100  # inches at 100 dpi: ``scale`` pixels per value
    fig, axes = plt.subplots(1, 3, figsize=(3.2 * width, height + 0.65))
    fig.subplots_adjust(left=0, right=1, bottom=0, top=height / (height + 0.65), wspace=0.1)
    panels = (
        (original[region], "original"),
        (attacked[region], "attacked (4 steps)"),
        (amplified_change(attacked, original)[region], f"change × {CHANGE_GAIN}"),
    )
    for ax, (pixels, title) in zip(axes, panels, strict=True):
        ax.imshow(pixels, interpolation="nearest")
        ax.set(xticks=[], yticks=[], title=title)
    fig.suptitle(f"{rows}×{cols} values, each drawn as a block of {scale}×{scale} pixels")
    return fig


def predicted_name(probabilities):
    return CLASS_NAMES[int(np.argmax(probabilities))]


def attack_animation(attacks, all_probabilities, labels, hold=1):
    """One column per attack: the image, its change from the original × 32, the confidence bar.

    ``attacks`` holds one ``(steps + 1, H, W, 3)`` array per column, ``all_probabilities`` the
    matching ``(steps + 1, 2)`` arrays. The first and last steps are shown for ``hold`` frames each
    (``gdtf.save_gif`` takes one frame rate). Returns ``(fig, update, frames)`` for ``save_gif``.
    """
    last = len(attacks[0]) - 1
    sequence = [0] * hold + list(range(1, last)) + [last] * hold
    fig, axes = plt.subplots(
        3,
        len(attacks),
        figsize=(3.2 * len(attacks), 7.2),
        gridspec_kw={"height_ratios": [10, 10, 1]},
        squeeze=False,  # a (3, columns) array even for one column
    )
    columns = []
    for column, (images, label) in enumerate(zip(attacks, labels, strict=True)):
        image_ax, change_ax, bar_ax = axes[:, column]
        shown = image_ax.imshow(images[0])
        change = change_ax.imshow(np.full_like(images[0], 0.5))
        image_ax.set_title(label)
        change_ax.set_title(f"change × {CHANGE_GAIN}", fontsize=9)
        for ax in (image_ax, change_ax):
            ax.set(xticks=[], yticks=[])
        columns.append((images, shown, change, draw_confidence_bar(bar_ax, all_probabilities[column][0])))
    step_text = fig.text(0.5, 0.01, "", ha="center", fontsize=11)
    fig.tight_layout(rect=(0, 0.04, 1, 1))

    def update(frame):
        step = sequence[frame]
        changed = [step_text]
        step_text.set_text("original" if step == 0 else f"after step {step} (at most {step}/255 per value)")
        for column, (images, shown, change, bar) in enumerate(columns):
            shown.set_data(images[step])
            change.set_data(amplified_change(images[step], images[0]))
            changed += [shown, change, *update_confidence_bar(bar, all_probabilities[column][step])]
        return changed

    return fig, update, len(sequence)


ATTACK_STYLES = {
    "fgsm": ("FGSM (one step)", {"marker": "s", "ls": "--", "color": "tab:orange"}),
    "iterative": ("iterative (one count per step)", {"marker": "o", "color": "tab:purple"}),
    "pgd": ("PGD-20, 3 restarts per budget, cumulative", {"marker": "^", "color": "black"}),
}


def robust_accuracy_panels(robust, models, training_budgets=None):
    """One panel per model: accuracy on all test photos against the attack budget, per attack.

    ``training_budgets`` maps a model to the budget it was trained for, marked by a dotted line.
    """
    budgets = [0, *robust["budgets_in_counts"]]
    fig, axes = plt.subplots(1, len(models), figsize=(4.2 * len(models), 3.8), sharey=True)
    for ax, (key, title) in zip(axes, models.items(), strict=True):
        entry = robust[key]
        for attack, (label, style) in ATTACK_STYLES.items():
            ax.plot(budgets, [entry["clean"], *entry[attack]], label=label, **style)
        if key in (training_budgets or {}):
            ax.axvline(training_budgets[key], color="grey", lw=0.8, ls=":")
        ax.axhline(0.5, color="grey", lw=0.8)
        ax.set(title=title, xlabel="budget (counts of 1/255)", xticks=budgets, ylim=(0, 1))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"accuracy on all {robust['test_images']:,} test photos")
    axes[0].yaxis.set_major_formatter(plt.FuncFormatter(lambda y, _: f"{y:.0%}"))
    axes[-1].legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return fig


def saliency_grid(images, gradients_by_model, titles):
    """Each photo (rows) next to the size of each model's input gradient (columns), per pixel."""
    columns = 1 + len(gradients_by_model)
    fig, axes = plt.subplots(len(images), columns, figsize=(2.6 * columns, 2.6 * len(images)))
    for row, image in enumerate(images):
        axes[row, 0].imshow(image)
        for column, (name, gradients) in enumerate(gradients_by_model.items(), start=1):
            magnitude = np.abs(gradients[row]).sum(axis=-1)
            axes[row, column].imshow(magnitude / np.percentile(magnitude, 99), cmap="gray", vmin=0, vmax=1)
            if row == 0:
                axes[row, column].set_title(name, fontsize=10)
        axes[row, 0].set_title(titles[row], fontsize=10)
    for ax in axes.flat:
        ax.set(xticks=[], yticks=[])
    fig.tight_layout()
    return fig
