"""Plotting helpers for tf_grad_desc_intro.ipynb.

Only matplotlib boilerplate lives here. The GradientTape loops and the loss stay in the
notebook: every function that draws the loss takes it as an argument, so the loss is
defined once, in the notebook. Everything else is plain NumPy.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

POINT_STYLE = {"s": 14, "alpha": 0.6, "color": "tab:gray", "edgecolors": "none"}
# A float32 loss near 96 lbs² is rounded to about 1e-5 lbs², so smaller excesses are noise.
# They are drawn at this floor instead of dropping off the log axis.
EXCESS_FLOOR = 1e-3


def draw_line(ax, slope, intercept, x_range, **style):
    xs = np.array(x_range)
    return ax.plot(xs, slope * xs + intercept, **style)[0]


def loss_grid(loss, slopes, intercepts):
    """``loss(slope, intercept)`` at every grid point, shape (len(intercepts), len(slopes)).

    ``loss`` is called once per intercept with a column of slopes, shape (len(slopes), 1),
    and must return one value per slope (the notebook's ``line_mse`` with the data bound does).
    """
    column = np.asarray(slopes, np.float64)[:, None]
    return np.stack([np.asarray(loss(column, intercept)).reshape(-1) for intercept in intercepts])


def loss_contours(ax, loss, slopes, intercepts, levels=25):
    """Filled log-spaced contours of ``loss`` over a (slope, intercept) grid."""
    grid = loss_grid(loss, slopes, intercepts)
    log_levels = np.geomspace(grid.min() * 1.0001, grid.max(), levels)
    ax.contourf(slopes, intercepts, grid, levels=log_levels, cmap="viridis", norm="log")
    ax.contour(slopes, intercepts, grid, levels=log_levels, colors="white", linewidths=0.3, alpha=0.6)
    return grid


def fit_animation(
    heights,
    weights,
    history,
    min_loss,
    title,
    shown,
    intercept_label="intercept",
    x_offset=0.0,
    iteration_scale="symlog",
):
    """Scatter with the current line (left) and the excess loss per iteration (right), for ``gdtf.save_gif``.

    ``history`` is an (iterations + 1, 3) array: row i holds [slope, intercept, loss] after i steps.
    The model is ``weight = slope * (height - x_offset) + intercept``. One frame is drawn per entry of
    ``shown`` (row indices, repeats allowed to hold a frame). The right panel plots the loss minus
    ``min_loss`` on a log axis, so a loss stuck a few percent above the minimum stays visible.
    """
    shown = np.asarray(shown)
    fig, (ax_fit, ax_loss) = plt.subplots(1, 2, figsize=(10, 3.8))
    fig.suptitle(title)
    ax_fit.scatter(heights, weights, **POINT_STYLE)
    x_range = (heights.min() - 1, heights.max() + 1)
    line = draw_line(ax_fit, 0.0, 0.0, x_range, color="tab:blue", lw=2)
    ax_fit.set(
        xlim=x_range,
        ylim=(weights.min() - 30, weights.max() + 30),
        xlabel="height (in)",
        ylabel="weight (lbs)",
    )
    label = ax_fit.text(0.03, 0.95, "", transform=ax_fit.transAxes, va="top", family="monospace")

    iterations = np.arange(len(history))
    excess = np.maximum(history[:, 2] - min_loss, EXCESS_FLOOR)
    ax_loss.axhline(0.01 * min_loss, color="tab:green", ls="--", label="1% of the minimum MSE")
    ax_loss.plot(iterations, excess, color="tab:blue", alpha=0.25)
    (trace,) = ax_loss.plot([], [], color="tab:blue", lw=2, label="MSE − minimum")
    (marker,) = ax_loss.plot([], [], "o", color="tab:blue")
    if iteration_scale == "symlog":
        ax_loss.set_xscale("symlog", linthresh=1)  # iteration 0 (the start) stays on the axis
    ax_loss.set(
        xlim=(0, iterations[-1] * 1.05),
        ylim=(min(excess.min(), 0.01 * min_loss) / 5, excess.max() * 3),
        yscale="log",
        xlabel="iteration",
        ylabel="MSE − minimum (lbs²)",
    )
    ax_loss.legend(loc="upper right")
    fig.tight_layout()

    def update(frame):
        i = shown[frame]
        slope, intercept, loss = history[i]
        xs = np.array(x_range)
        line.set_data(xs, slope * (xs - x_offset) + intercept)
        label.set_text(
            f"{'iteration':13}{i:>7}\n{'slope':13}{slope:7.2f}\n"
            f"{intercept_label:13}{intercept:7.1f}\n{'MSE − min':13}{loss - min_loss:7.2f}"
        )
        trace.set_data(iterations[: i + 1], excess[: i + 1])
        marker.set_data([i], [excess[i]])
        return line, label, trace, marker

    return fig, update, len(shown)


def race_animation(loss, paths, optimum, title, shown, ylabel):
    """Every optimizer's path on one contour plot of ``loss``, all moving together, for ``gdtf.save_gif``.

    ``paths`` maps a label to an (iterations + 1, 2) array of [slope, intercept] after each step.
    One frame is drawn per entry of ``shown`` (row indices). Each trail includes every iteration
    up to the frame's, and the plotted area holds every point of every path, so skipped frames
    hide nothing.
    """
    everything = np.concatenate([np.asarray(p) for p in paths.values()])
    low = np.minimum(everything.min(axis=0), optimum)
    high = np.maximum(everything.max(axis=0), optimum)
    pad = 0.05 * (high - low)
    slopes = np.linspace(low[0] - pad[0], high[0] + pad[0], 200)
    intercepts = np.linspace(low[1] - pad[1], high[1] + pad[1], 200)

    fig, ax = plt.subplots(figsize=(10, 6))
    loss_contours(ax, loss, slopes, intercepts)
    ax.plot(*optimum, marker="*", color="white", markersize=16, markeredgecolor="black", zorder=5)
    colors = plt.cm.tab10(np.arange(len(paths)))
    lines, heads = [], []
    for name, color in zip(paths, colors, strict=True):
        lines.append(ax.plot([], [], color=color, lw=1.8, label=name)[0])
        heads.append(ax.plot([], [], "o", color=color, markeredgecolor="black")[0])
    ax.set(xlabel="slope (lbs per inch)", ylabel=ylabel, title=title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
    counter = ax.text(0.02, 0.97, "", transform=ax.transAxes, va="top", color="white", family="monospace")
    fig.tight_layout()

    def update(frame):
        i = shown[frame]
        for line, head, path in zip(lines, heads, paths.values(), strict=True):
            line.set_data(path[: i + 1, 0], path[: i + 1, 1])
            head.set_data([path[i, 0]], [path[i, 1]])
        counter.set_text(f"iteration {i}")
        return [*lines, *heads, counter]

    return fig, update, len(shown)
