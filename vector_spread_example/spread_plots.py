"""Plotting helpers for vector_spread_example.ipynb: matplotlib boilerplate only.

The GradientTape loops stay in the notebook; these functions take NumPy arrays.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection

from gdtf import save_gif

SPOKE_COLOR = "tab:blue"
TARGET_COLOR = "tab:green"


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


def plot_min_angle(ax, min_angles, target=None, label=None, **style):
    """Smallest nearest-neighbour angle (degrees) against iteration."""
    (line,) = ax.plot(np.arange(len(min_angles)), min_angles, label=label, **style)
    if target is not None:
        ax.axhline(target, color=TARGET_COLOR, ls="--", lw=1)
    ax.set(xlabel="iteration", ylabel="smallest angle between neighbours (°)")
    return line


def spokes_gif(frames, min_angles, record_every, title, name, target=None, max_bytes=2_000_000):
    """Animate recorded spokes beside the min-angle curve drawn up to the current iteration."""
    fig, (wheel, curve) = plt.subplots(1, 2, figsize=(9, 4.2), gridspec_kw={"width_ratios": [1, 1.3]})
    spokes = draw_spokes(wheel, frames[0])
    label = wheel.text(0.0, -1.25, "", ha="center", va="top", fontsize=11)
    wheel.set_ylim(-1.4, 1.1)
    plot_min_angle(curve, min_angles, target=target, color="0.85")
    (progress,) = curve.plot([], [], color=SPOKE_COLOR, lw=2)
    curve.set_ylim(0, (target or max(min_angles)) * 1.15)
    fig.suptitle(title)
    fig.text(0.99, 0.01, f"every {record_every}th iteration shown", ha="right", fontsize=8, color="0.4")
    fig.tight_layout()

    def update(frame):
        iteration = frame * record_every
        spokes.set_segments(spoke_segments(frames[frame]))
        label.set_text(f"iteration {iteration}: smallest angle {min_angles[iteration]:.1f}°")
        progress.set_data(np.arange(iteration + 1), min_angles[: iteration + 1])
        return [spokes, label, progress]

    return save_gif(fig, update, len(frames), name, fps=15, max_bytes=max_bytes)
