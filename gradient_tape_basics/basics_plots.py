"""Plotting helpers for tape_in_training_loops.ipynb: matplotlib boilerplate only.

The GradientTape code stays in the notebooks; these functions take NumPy arrays and return
figures or saved files.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from gdtf import GIF_BUDGET_BYTES, save_gif


def plot_clipping_losses(runs, steps, diverges_before, title, bottom=5e-3, top=1e3):
    """Loss per step on a log scale, one line per ``label: losses`` run, with the line of the claim.

    A run that blew up leaves through the top of the axes. A note, placed right of the
    ``diverges_before`` line so that the line does not cross it, says from which step its loss is
    above the axes and at which step it stopped being finite.
    """
    fig, ax = plt.subplots(figsize=(8, 3.5))
    for label, losses in runs.items():
        (line,) = ax.plot(losses, label=label)
        if len(losses) < steps:
            above = np.flatnonzero(losses > top)
            if len(above):
                first = int(above[0])
                stays = bool(np.all(losses[first:] > top))
                when = f"above 10³ from step {first}" if stays else f"first above 10³ at step {first}"
            else:
                first, when = len(losses) - 1, "below 10³ to the end"
            ax.annotate(
                f"{when}, not finite at step {len(losses)}",
                xy=(first, top),
                xytext=(diverges_before + 0.04 * steps, top / 20),
                color=line.get_color(),
                fontsize=8,
                va="center",
                arrowprops={"arrowstyle": "->", "color": line.get_color(), "relpos": (0, 0.5)},
            )
    ax.axvline(
        diverges_before,
        color="0.6",
        ls=":",
        lw=1,
        label=f"step {diverges_before} (diverged: not finite before it)",
    )
    ax.set(yscale="log", ylim=(bottom, top), xlim=(0, steps), xlabel="step", ylabel="MSE (log scale)")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return fig


def bandit_gif(
    probabilities,
    arm_means,
    name,
    every_step_until=40,
    stride=5,
    fps=10,
    hold_seconds=2,
    max_bytes=GIF_BUDGET_BYTES,
):
    """Animate a bandit policy: bar chart of the current probabilities beside their history.

    The first ``every_step_until`` steps, where most happens, get a frame each. Later steps get one
    frame every ``stride`` steps, and the final frame is repeated for ``hold_seconds``.
    """
    probabilities = np.asarray(probabilities)
    arms = probabilities.shape[1]
    last = len(probabilities) - 1
    shown = np.concatenate(
        [
            np.arange(every_step_until),
            np.arange(every_step_until, last, stride),
            np.full(hold_seconds * fps, last),
        ]
    )
    fig, (ax_bars, ax_lines) = plt.subplots(1, 2, figsize=(10, 3.6))
    colors = plt.cm.tab10(np.arange(arms))
    bars = ax_bars.bar(range(arms), probabilities[0], color=colors)
    ax_bars.set(
        ylim=(0, 1),
        xticks=range(arms),
        xticklabels=[f"arm {i}\nmean {m:.1f}" for i, m in enumerate(arm_means)],
        ylabel="probability",
    )
    lines = [ax_lines.plot([], [], color=c, label=f"arm {i}")[0] for i, c in enumerate(colors)]
    ax_lines.set(xlim=(0, len(probabilities) - 1), ylim=(0, 1), xlabel="training step", ylabel="probability")
    ax_lines.legend(loc="center right", fontsize=8)
    title = fig.suptitle("")
    fig.tight_layout()

    def update(frame):
        step = shown[frame]
        for bar, p in zip(bars, probabilities[step], strict=True):
            bar.set_height(p)
        for line, arm in zip(lines, probabilities.T, strict=True):
            line.set_data(np.arange(step + 1), arm[: step + 1])
        title.set_text(f"REINFORCE on a {arms}-armed bandit: step {step}")
        return [*bars, *lines, title]

    return save_gif(fig, update, len(shown), name, fps=fps, max_bytes=max_bytes)
