"""Plotting helpers for the two adversarial notebooks: matplotlib boilerplate only.

The tape code is in the notebooks or in ``cats_dogs.py``, shown there with ``show_code``.
These functions take NumPy arrays: images (H, W, 3) in [0, 1] and probabilities (p_cat, p_dog).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

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


def amplified_change(image, original):
    """The change from ``original`` × CHANGE_GAIN, around mid-grey (0.5 = no change), clipped to [0, 1]."""
    return np.clip(0.5 + CHANGE_GAIN * (np.asarray(image) - np.asarray(original)), 0, 1)


def counts_patch_figure(original, attacked, top, left, size=8, channel=0):
    """The attacked image with a marked patch, and that patch's 8-bit values before and after."""
    patch = np.s_[top : top + size, left : left + size, channel]
    before = np.rint(np.asarray(original)[patch] * 255).astype(int)
    after = np.rint(np.asarray(attacked)[patch] * 255).astype(int)
    fig, axes = plt.subplots(1, 4, figsize=(15, 4), gridspec_kw={"width_ratios": [0.8, 1, 1, 1]})
    axes[0].imshow(attacked)
    outline = plt.Rectangle((left - 0.5, top - 0.5), size, size, fill=False, color="yellow", lw=2)
    axes[0].add_patch(outline)
    axes[0].set(xticks=[], yticks=[], title="attacked image")
    channel_name = ("red", "green", "blue")[channel]
    annotated_counts(axes[1], before, f"original {channel_name} values", "Reds", 0, 255)
    annotated_counts(axes[2], after, f"attacked {channel_name} values", "Reds", 0, 255)
    annotated_counts(axes[3], after - before, "difference (counts)", "coolwarm", -4, 4, signed=True)
    return fig


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


def robust_accuracy_panels(robust, names, training_budgets=None):
    """One panel per model: accuracy on all test photos against the budget, per attack.

    Shaded bands are the Wilson 95% intervals stored beside each curve. ``names`` maps a
    metrics key to its display name; ``training_budgets`` maps a key to the budget it was
    trained for, marked by a dotted line.
    """
    budgets = [0, *robust["budgets_in_counts"]]
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.9), sharey=True)
    for ax, (key, title) in zip(axes, names.items(), strict=True):
        entry = robust[key]
        for attack, (label, style) in ATTACK_STYLES.items():
            ax.plot(budgets, [entry["clean"], *entry[attack]], label=label, **style)
            low, high = np.array(entry[f"{attack}_interval95"]).T
            ax.fill_between(budgets[1:], low, high, color=style["color"], alpha=0.2, lw=0)
        if key in (training_budgets or {}):
            ax.axvline(training_budgets[key], color="grey", lw=0.8, ls=":", label="training budget")
        ax.axhline(0.5, color="grey", lw=0.8)
        ax.text(budgets[-1], 0.51, "constant answer: 50%", ha="right", va="bottom", fontsize=8, color="grey")
        ax.set(title=title, xlabel="budget (counts of 1/255)", xticks=budgets, ylim=(0, 1))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"accuracy on all {robust['test_images']:,} test photos")
    axes[0].yaxis.set_major_formatter(plt.FuncFormatter(lambda y, _: f"{y:.0%}"))
    handles, labels = axes[-1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def linearity_scatter(linearity, names):
    """Predicted (first-order) against actual drop of the logit margin, log-log, one panel per budget."""
    budgets = linearity["budgets_in_counts"]
    fig, axes = plt.subplots(1, len(budgets), figsize=(5 * len(budgets), 4.4), sharex=True, sharey=True)
    for ax, budget in zip(axes, budgets, strict=True):
        for (key, name), marker in zip(names.items(), "o^s", strict=True):
            points = linearity["models"][key][str(budget)]
            # both changes are drops of the margin: plot their sizes
            ax.scatter(
                -np.array(points["predicted"]),
                -np.array(points["actual"]),
                s=12,
                marker=marker,
                alpha=0.6,
                label=name,
            )
        ax.plot([0.03, 100], [0.03, 100], color="grey", lw=0.8, label="actual = predicted")
        ax.set(
            xscale="log",
            yscale="log",
            title=f"one FGSM step of {budget} count{'s' * (budget != 1)}",
            xlabel="predicted drop of the logit margin, −∇m · δ",
            ylabel="actual drop of the logit margin",
        )
        ax.grid(alpha=0.3, which="both")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- text tables


def share_cell(result):
    """A measured share with its Wilson 95% interval, as metrics.json stores it: '43% [38%, 49%]'."""
    low, high = result["interval95"]
    return f"{result['accuracy']:.0%} [{low:.0%}, {high:.0%}]"


CHECKLIST_ROWS = (
    ("no attack", "clean"),
    ("FGSM (one step)", "fgsm"),
    ("R+FGSM (random, then one)", "r_fgsm"),
    ("PGD-20 (white box)", "pgd20"),
    ("transfer (PGD on another)", "transfer"),
    ("PGD-10 at 32 counts (100)", "pgd10_at_32_counts_first_100"),
)


def checklist_table(checklist, names):
    """The masking checklist of metrics.json as text: one row per sign, one column per model."""
    rows = checklist["rows"]
    budgets = ", ".join(f"{names[k]} {b}" for k, b in checklist["matched_budgets_in_counts"].items())
    lines = [
        f"{checklist['subset']} test photos; each model at its matched budget (counts): {budgets}",
        f"{'accuracy under':28}" + "".join(f"{names[k]:>20}" for k in rows),
    ]
    for label, field in CHECKLIST_ROWS:
        lines.append(f"{label:28}" + "".join(f"{share_cell(rows[k][field]):>20}" for k in rows))
    square = {k: rows[k]["square_on_pgd_survivors"] for k in rows}
    lines.append(
        f"{'Square: PGD survivors broken':28}"
        + "".join(f"{square[k]['broken']:>13} of {square[k]['attacked']:>3}" for k in rows)
    )
    lines.append(f"Square: {checklist['square']}; unbounded: {checklist['unbounded']}")
    return "\n".join(lines)
