"""Plotting helpers for the vector-spread notebooks: matplotlib boilerplate only.

The tape code is in spread.py, shown in the notebooks with show_code; these functions
take NumPy arrays.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection

from gdtf import GIF_BUDGET_BYTES, save_gif

SPOKE_COLOR = "tab:blue"
TARGET_COLOR = "tab:green"
HIGHLIGHT_COLOR = "tab:red"


def spoke_segments(vectors):
    """One segment from the origin to each 2-D unit vector."""
    vectors = np.asarray(vectors)
    return np.stack([np.zeros_like(vectors), vectors], axis=1)


def draw_spokes(ax, vectors, color=SPOKE_COLOR, title=None):
    """Unit vectors as spokes of a wheel, with the unit circle for reference."""
    ax.add_patch(plt.Circle((0, 0), 1.0, fill=False, color="0.8", lw=1))
    spokes = LineCollection(spoke_segments(vectors), colors=color, linewidths=2)
    ax.add_collection(spokes)
    ax.set(xlim=(-1.1, 1.1), ylim=(-1.1, 1.1), aspect="equal", xticks=[], yticks=[])
    if title:
        ax.set_title(title)
    return spokes


def mark_pair(ax, vectors, pair, text, color=HIGHLIGHT_COLOR):
    """Redraw two spokes in ``color`` and label them with ``text`` just outside the wheel."""
    pair_vectors = np.asarray(vectors)[list(pair)]
    ax.add_collection(LineCollection(spoke_segments(pair_vectors), colors=color, linewidths=2.5, zorder=3))
    tip = pair_vectors.mean(axis=0)
    tip = tip / np.linalg.norm(tip)
    ax.annotate(
        text,
        xy=0.97 * tip,
        xytext=(0.55 * tip[0], 1.0 * tip[1] - 0.12),
        color=color,
        fontsize=11,
        ha="center",
        va="top",
        arrowprops={"arrowstyle": "->", "color": color, "lw": 1},
        bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
    )


def plot_min_angle(ax, min_angles, target=None, label=None, **style):
    """Smallest nearest-neighbour angle (degrees) against iteration."""
    (line,) = ax.plot(np.arange(len(min_angles)), min_angles, label=label, **style)
    if target is not None:
        ax.axhline(target, color=TARGET_COLOR, ls="--", lw=1)
    ax.set(xlabel="iteration", ylabel="smallest angle between neighbours (°)")
    return line


def spokes_gif(
    frames,
    frame_iterations,
    min_angles,
    title,
    name,
    target=None,
    fps=10,
    hold_seconds=1.0,
    max_bytes=GIF_BUDGET_BYTES,
):
    """Animate recorded spokes beside the min-angle curve drawn up to the current iteration.

    ``frames[k]`` is the state at iteration ``frame_iterations[k]``. The curve's iteration axis is
    symmetric-logarithmic, like the snapshot schedule, and the last frame is held ``hold_seconds``.
    """
    fig, (wheel, curve) = plt.subplots(1, 2, figsize=(9, 4.2), gridspec_kw={"width_ratios": [1, 1.3]})
    spokes = draw_spokes(wheel, frames[0])
    label = wheel.text(0.0, -1.25, "", ha="center", va="top", fontsize=10)
    wheel.set_ylim(-1.4, 1.1)
    plot_min_angle(curve, min_angles, target=target, color="0.85")
    (progress,) = curve.plot([], [], color=SPOKE_COLOR, lw=2)
    curve.set_xscale("symlog", linthresh=10)
    curve.set_xlim(0, len(min_angles) - 1)
    curve.set_ylim(0, (target or max(min_angles)) * 1.15)
    fig.suptitle(title)
    fig.text(
        0.99,
        0.01,
        f"{len(frames)} snapshots at iterations {', '.join(map(str, frame_iterations[:5]))}, ... (geometric)",
        ha="right",
        fontsize=8,
        color="0.4",
    )
    fig.tight_layout(rect=(0, 0.03, 1, 1))  # room for the note at the bottom

    def update(frame):
        iteration = frame_iterations[frame]
        spokes.set_segments(spoke_segments(frames[frame]))
        label.set_text(f"iteration {iteration}: smallest angle {min_angles[iteration]:.1f}°")
        progress.set_data(np.arange(iteration + 1), min_angles[: iteration + 1])
        return [spokes, label, progress]

    # Repeating the last frame holds the final state on screen before the GIF loops.
    shown = list(range(len(frames))) + [len(frames) - 1] * round(hold_seconds * fps)
    return save_gif(fig, lambda k: update(shown[k]), len(shown), name, fps=fps, max_bytes=max_bytes)


def plot_exponent_climb(ax, exponents, angles, published, energy_angle, title):
    """Smallest angle (degrees) after each stage of the exponent schedule, against s on a log axis."""
    ax.plot(exponents, angles, "o-", color=SPOKE_COLOR, ms=4, label="after each stage")
    ax.axhline(published, color=TARGET_COLOR, ls="--", lw=1, label=f"published optimum {published:.2f}°")
    ax.axhline(energy_angle, color="0.5", ls=":", lw=1.5, label=f"energy minimum {energy_angle:.2f}°")
    ax.set_xscale("log", base=2)
    ax.set(xlabel="exponent s", ylabel="smallest angle (°)", title=title)
    ax.legend(loc="lower right")
