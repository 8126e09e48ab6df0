"""Plotting helpers for tf_grad_desc_intro.ipynb.

Only matplotlib boilerplate lives here; the GradientTape loops stay in the
notebook. Every function takes plain NumPy arrays.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

POINT_STYLE = {"s": 14, "alpha": 0.6, "color": "tab:gray", "edgecolors": "none"}


def mse_grid(heights, weights, slopes, intercepts):
    """MSE of every (slope, intercept) pair on a grid, vectorised: shape (len(intercepts), len(slopes))."""
    slope_grid, intercept_grid = np.meshgrid(slopes, intercepts)
    # Expand (a*h + b - w)^2 with the data's moments instead of looping over points.
    h, w = np.asarray(heights, np.float64), np.asarray(weights, np.float64)
    mean_h, mean_w, mean_hh, mean_ww, mean_hw = (
        h.mean(),
        w.mean(),
        (h * h).mean(),
        (w * w).mean(),
        (h * w).mean(),
    )
    return (
        slope_grid**2 * mean_hh
        + intercept_grid**2
        + mean_ww
        + 2 * slope_grid * intercept_grid * mean_h
        - 2 * slope_grid * mean_hw
        - 2 * intercept_grid * mean_w
    )


def draw_line(ax, slope, intercept, x_range, **style):
    xs = np.array(x_range)
    return ax.plot(xs, slope * xs + intercept, **style)[0]


def fit_animation(heights, weights, history, min_loss, title, x_offset=0.0, frames=60):
    """Scatter with the current line (left) and loss per iteration (right), for ``gdtf.save_gif``.

    ``history`` is an (iterations, 3) array of [slope, intercept, loss]; the
    model is ``weight = slope * (height - x_offset) + intercept``. About
    ``frames`` evenly spaced iterations are drawn (log-spaced, because most of
    the action is early).
    """
    iterations = len(history)
    shown = np.unique(np.geomspace(1, iterations, frames).astype(int)) - 1
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

    steps = np.arange(1, iterations + 1)
    ax_loss.axhline(min_loss, color="tab:green", ls="--", label=f"minimum MSE = {min_loss:.1f}")
    ax_loss.plot(steps, history[:, 2], color="tab:blue", alpha=0.25)
    (trace,) = ax_loss.plot([], [], color="tab:blue", lw=2, label="MSE")
    (marker,) = ax_loss.plot([], [], "o", color="tab:blue")
    ax_loss.set(xscale="log", yscale="log", xlabel="iteration", ylabel="MSE (lbs²)")
    ax_loss.legend(loc="upper right")
    fig.tight_layout()

    def update(frame):
        i = shown[frame]
        slope, intercept, loss = history[i]
        xs = np.array(x_range)
        line.set_data(xs, slope * (xs - x_offset) + intercept)
        label.set_text(
            f"iter      {i + 1:>6}\nslope     {slope:6.2f}\nintercept {intercept:6.1f}\nMSE       {loss:6.1f}"
        )
        trace.set_data(steps[: i + 1], history[: i + 1, 2])
        marker.set_data([steps[i]], [history[i, 2]])
        return line, label, trace, marker

    return fig, update, len(shown)


def loss_contours(ax, heights, weights, slopes, intercepts, levels=25):
    """Filled log-spaced contours of the MSE over a (slope, intercept) grid."""
    grid = mse_grid(heights, weights, slopes, intercepts)
    log_levels = np.geomspace(grid.min() * 1.0001, grid.max(), levels)
    ax.contourf(slopes, intercepts, grid, levels=log_levels, cmap="viridis", norm="log")
    ax.contour(slopes, intercepts, grid, levels=log_levels, colors="white", linewidths=0.3, alpha=0.6)
    return grid


def race_animation(heights_centred, weights, paths, optimum, title, frames=None):
    """Every optimizer's path on one contour plot, all moving together, for ``gdtf.save_gif``.

    ``paths`` maps an optimizer's name to its (iterations, 2) array of
    [slope, intercept] points; the loss is that of ``weight = slope * h_c + b``.
    """
    everything = np.concatenate([np.asarray(p) for p in paths.values()])
    pad = np.array([2.0, 15.0])
    low = np.minimum(everything.min(axis=0), optimum) - pad
    high = np.maximum(everything.max(axis=0), optimum) + pad
    slopes = np.linspace(low[0], high[0], 200)
    intercepts = np.linspace(low[1], high[1], 200)

    fig, ax = plt.subplots(figsize=(10, 6))
    loss_contours(ax, heights_centred, weights, slopes, intercepts)
    ax.plot(*optimum, marker="*", color="white", markersize=16, markeredgecolor="black", zorder=5)
    colors = plt.cm.tab10(np.arange(len(paths)))
    lines, heads = [], []
    for name, color in zip(paths, colors, strict=True):
        lines.append(ax.plot([], [], color=color, lw=1.8, label=name)[0])
        heads.append(ax.plot([], [], "o", color=color, markeredgecolor="black")[0])
    ax.set(xlabel="slope (lbs per inch)", ylabel="intercept: weight at average height (lbs)", title=title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
    counter = ax.text(0.02, 0.97, "", transform=ax.transAxes, va="top", color="white", family="monospace")
    fig.tight_layout()
    iterations = min(len(p) for p in paths.values())
    frames = frames or iterations

    def update(frame):
        for line, head, path in zip(lines, heads, paths.values(), strict=True):
            line.set_data(path[: frame + 1, 0], path[: frame + 1, 1])
            head.set_data([path[frame, 0]], [path[frame, 1]])
        counter.set_text(f"iteration {frame + 1}")
        return [*lines, *heads, counter]

    return fig, update, frames
