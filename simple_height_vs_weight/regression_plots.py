"""Plotting helpers for tf_grad_desc_intro.ipynb.

Only matplotlib boilerplate lives here. The loss and the GradientTape loop are in
``regression.py`` (shown in the notebook) and the update rules in the notebook: every
function that draws the loss takes it as an argument. Everything else is plain NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

POINT_STYLE = {"s": 14, "alpha": 0.6, "color": "tab:gray", "edgecolors": "none"}
# The least-squares optimum, drawn the same way in every figure.
OPTIMUM_STYLE = {"marker": "*", "color": "gold", "markersize": 16, "markeredgecolor": "black", "ls": "none"}
BEST_LINE_STYLE = {"color": "0.35", "ls": "--", "lw": 1.5}
# float32 resolves an MSE near 96 lbs² only to about 1e-5 lbs², so smaller excesses are rounding
# noise. The plots floor every excess at this value instead of dropping it off the log axis.
EXCESS_FLOOR = 1e-3
# The 1%-of-the-minimum line, in a style no optimizer of the race uses.
CLOSE_LINE_STYLE = {"color": "black", "ls": ":", "lw": 1.2}


@dataclass(frozen=True)
class FitView:
    """How fit_animation draws one run.

    The model is ``weight = slope * (height - x_offset) + intercept``; ``intercept_label`` names
    the intercept in the frame's text; ``iteration_scale`` is the loss panel's x axis ("symlog"
    or "linear"); with ``show_previous`` the previous iteration's line is drawn faintly, so a line
    hopping between two positions shows both.
    """

    intercept_label: str = "intercept"
    x_offset: float = 0.0
    iteration_scale: str = "symlog"
    show_previous: bool = False


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


def excess_axis(ax, min_loss, top, iterations, iteration_scale="linear", bottom=EXCESS_FLOOR):
    """A log axis for the loss minus its minimum, with the 1%-of-the-minimum line dotted black.

    The axis spans ``bottom`` / 5 to 3 × ``top``: pass the smallest excess a run reaches, so a run
    that stalls far above the floor is not squeezed into the top of an empty axis.
    """
    ax.axhline(0.01 * min_loss, **CLOSE_LINE_STYLE, label="1% of the minimum MSE")
    if iteration_scale == "symlog":
        ax.set_xscale("symlog", linthresh=1)  # iteration 0 (the start) stays on the axis
    ax.set(
        xlim=(0, iterations * 1.05),
        ylim=(min(bottom, 0.01 * min_loss) / 5, top * 3),
        yscale="log",
        xlabel="iteration" + (" (symlog: linear to 1, log beyond)" if iteration_scale == "symlog" else ""),
        ylabel="MSE − minimum (lbs²)",
    )


def fit_animation(
    heights,
    weights,
    history,
    min_loss,
    title,
    shown,
    best_line,
    view=FitView(),
):
    """Scatter with the current line (left) and the excess loss per iteration (right), for ``gdtf.save_gif``.

    ``history`` is an (iterations + 1, 3) array: row i holds [slope, intercept, loss] after i steps.
    ``best_line`` is the least-squares (slope, intercept) in the model of ``view`` (a FitView), drawn
    dashed in every frame. One frame is drawn per entry of ``shown`` (row indices, repeats allowed
    to hold a frame). A line outside the plotted weights gets an arrow saying on which side. The
    right panel plots the loss minus ``min_loss`` on a log axis, so a loss stuck a few percent above
    the minimum stays visible.
    """
    shown = np.asarray(shown)
    x_offset, show_previous = view.x_offset, view.show_previous
    fig, (ax_fit, ax_loss) = plt.subplots(1, 2, figsize=(10, 3.9))
    fig.suptitle(title)
    ax_fit.scatter(heights, weights, **POINT_STYLE)
    x_range = np.array((heights.min() - 1, heights.max() + 1))
    y_range = (weights.min() - 30, weights.max() + 30)
    best = draw_line(ax_fit, best_line[0], best_line[1] - best_line[0] * x_offset, x_range, **BEST_LINE_STYLE)
    previous = ax_fit.plot([], [], color="tab:blue", lw=1, alpha=0.35, label="previous iteration")[0]
    line = ax_fit.plot([], [], color="tab:blue", lw=2, label="this iteration")[0]
    ax_fit.set(xlim=x_range, ylim=y_range, xlabel="height (in)", ylabel="weight (lbs)")
    best.set_label("least squares")
    ax_fit.legend(
        handles=[line, previous, best] if show_previous else [line, best], loc="lower right", fontsize=8
    )
    label = ax_fit.text(0.03, 0.95, "", transform=ax_fit.transAxes, va="top", family="monospace", fontsize=9)
    off_axes = ax_fit.text(
        0.5, 0.5, "", transform=ax_fit.transAxes, ha="center", color="tab:blue", fontweight="bold"
    )

    iterations = np.arange(len(history))
    excess = np.maximum(history[:, 2] - min_loss, EXCESS_FLOOR)
    excess_axis(ax_loss, min_loss, excess.max(), iterations[-1], view.iteration_scale, bottom=excess.min())
    ax_loss.plot(iterations, excess, color="tab:blue", alpha=0.25)
    (trace,) = ax_loss.plot([], [], color="tab:blue", lw=2, label="MSE − minimum")
    (marker,) = ax_loss.plot([], [], "o", color="tab:blue")
    ax_loss.legend(loc="upper right", fontsize=9)
    fig.tight_layout()

    def ys(row):
        return row[0] * (x_range - x_offset) + row[1]

    def update(frame):
        i = shown[frame]
        slope, intercept, loss = history[i]
        line.set_data(x_range, ys(history[i]))
        if show_previous and i > 0:
            previous.set_data(x_range, ys(history[i - 1]))
        else:
            previous.set_data([], [])
        if ys(history[i]).max() < y_range[0]:
            off_axes.set(text="▼ the line is below the plot", x=0.03, y=0.03, ha="left", va="bottom")
        elif ys(history[i]).min() > y_range[1]:
            off_axes.set(text="▲ the line is above the plot", x=0.97, y=0.97, ha="right", va="top")
        else:
            off_axes.set(text="")
        label.set_text(
            f"{'iteration':13}{i:>10}\n{'slope':13}{slope:10.2f}\n"
            f"{view.intercept_label:13}{intercept:10.1f}\n{'MSE − min':13}{loss - min_loss:>10,.2f}"
        )
        trace.set_data(iterations[: i + 1], excess[: i + 1])
        marker.set_data([i], [excess[i]])
        return previous, line, off_axes, label, trace, marker

    return fig, update, len(shown)


def race_animation(loss, histories, styles, optimum, min_loss, title, shown, ylabel):
    """Every optimizer's path on the loss surface (left) and its excess loss (right), for ``gdtf.save_gif``.

    ``histories`` maps a label to an (iterations + 1, 3) array of [slope, intercept, loss] after
    each step. One frame is drawn per entry of ``shown`` (row indices, repeats allowed to hold a
    frame); ``styles`` maps the same labels to (colour, line style, head marker). Each trail includes
    every iteration up to the frame's, and the plotted area holds every point of every path, so
    skipped frames hide nothing. The left panel has equal scales on both axes, so the contours have
    their true shape; the loss panel's iteration axis is symlog, so a run of a few iterations shows.
    """
    missing = set(histories) - set(styles)
    if missing:
        raise ValueError(f"race_animation: no style for {sorted(missing)}")
    paths = {name: np.asarray(h)[:, :2] for name, h in histories.items()}
    everything = np.concatenate(list(paths.values()))
    low = np.minimum(everything.min(axis=0), optimum)
    high = np.maximum(everything.max(axis=0), optimum)
    pad = 0.05 * (high - low).max()
    slopes = np.linspace(low[0] - pad, high[0] + pad, 200)
    intercepts = np.linspace(low[1] - pad, high[1] + pad, 200)
    width_ratio = (slopes[-1] - slopes[0]) / (intercepts[-1] - intercepts[0])

    fig, (ax_path, ax_loss) = plt.subplots(
        1, 2, figsize=(11, 6.2), gridspec_kw={"width_ratios": [1.25 * width_ratio, 1]}
    )
    fig.suptitle(title)
    loss_contours(ax_path, loss, slopes, intercepts)
    ax_path.plot(*optimum, **OPTIMUM_STYLE, zorder=5)
    ax_path.set(xlabel="slope (lbs per inch)", ylabel=ylabel, title="paths (equal scales)")
    ax_path.set_aspect("equal")
    counter = ax_path.text(
        0.04, 0.98, "", transform=ax_path.transAxes, va="top", color="white", family="monospace"
    )

    iterations = np.arange(len(next(iter(histories.values()))))
    excesses = {
        name: np.maximum(np.asarray(h)[:, 2] - min_loss, EXCESS_FLOOR) for name, h in histories.items()
    }
    excess_axis(ax_loss, min_loss, max(e.max() for e in excesses.values()), iterations[-1], "symlog")
    ax_loss.set_title("loss (log scale)")

    artists = []
    for name in histories:
        color, style, head = styles[name]
        trail = ax_path.plot([], [], color=color, ls=style, lw=1.8)[0]
        dot = ax_path.plot([], [], head, color=color, markeredgecolor="black", ms=8)[0]
        trace = ax_loss.plot([], [], color=color, ls=style, lw=1.8, label=name)[0]
        now = ax_loss.plot([], [], head, color=color, markeredgecolor="black", ms=7)[0]
        artists.append((name, trail, dot, trace, now))
    ax_loss.legend(loc="lower left", fontsize=8)
    fig.tight_layout()

    def update(frame):
        i = shown[frame]
        moving = []
        for name, trail, dot, trace, now in artists:
            path, excess = paths[name], excesses[name]
            trail.set_data(path[: i + 1, 0], path[: i + 1, 1])
            dot.set_data([path[i, 0]], [path[i, 1]])
            trace.set_data(iterations[: i + 1], excess[: i + 1])
            now.set_data([i], [excess[i]])
            moving += [trail, dot, trace, now]
        counter.set_text(f"iteration {i}")
        return [*moving, counter]

    return fig, update, len(shown)


def eigen_figure(errors, rates_used, raw_curvatures, standardised_curvature):
    """The (1 − ηλ) figure: errors along the eigendirections (left), |1 − ηλ| against η (right).

    ``errors`` maps a label to (|error| after each step, the predicted factor per step |1 − ηλ|):
    each is drawn solid, with its prediction |error₀|·factor^k dashed. The right panel draws
    |1 − ηλ| for both ``raw_curvatures`` (λmin, λmax) and the standardised one, a vertical line at
    each of ``rates_used`` ({label: η}), and plain descent's stability limit 2/λmax on the raw
    problem (momentum's limits belong to momentum_map).
    """
    floor = 1e-7  # the bottom of the plot; float32 rounding of a slope near 5 is about this size
    colors = ["tab:red", "tab:blue", "tab:gray", "tab:olive", "tab:cyan", "tab:pink"]
    fig, (ax_err, ax_rate) = plt.subplots(1, 2, figsize=(12, 5.6))
    for (label, (measured, factor)), color in zip(errors.items(), colors, strict=False):
        steps = np.arange(len(measured))
        ax_err.plot(
            steps, np.maximum(measured, floor), color=color, lw=2.2, alpha=0.6, label=f"{label}: measured"
        )
        ax_err.plot(
            steps, measured[0] * factor**steps, color=color, lw=1, ls="--", label=f"{label}: |1 − ηλ|^k"
        )
    ax_err.set_xscale("symlog", linthresh=1)
    ax_err.set(
        yscale="log",
        ylim=(floor, 1e3),
        xlabel="iteration k (symlog: linear to 1, log beyond)",
        ylabel="|error| along the eigendirection",
        title="error along each eigendirection: measured and predicted",
    )
    ax_err.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)

    flat, steep = raw_curvatures
    learning_rates = np.geomspace(1e-6, 2, 600)
    curves = {"λmax (raw)": (steep, "tab:red"), "λmin (raw)": (flat, "tab:blue")}
    curves["λ = 2 (standardised)"] = (standardised_curvature, "tab:gray")
    for label, (curvature, color) in curves.items():
        ax_rate.plot(learning_rates, np.abs(1 - learning_rates * curvature), color=color, lw=2.2, label=label)
    ax_rate.axvline(2 / steep, color="black", ls="--", lw=1, label="2/λmax (plain descent's limit)")
    for (label, rate), color in zip(rates_used.items(), ["tab:green", "tab:red", "0.4", "0.4"], strict=False):
        ax_rate.axvline(rate, color=color, ls="-" if rate < 1e-3 else ":", lw=1, label=label)
    ax_rate.axhline(1, color="black", lw=0.6, ls=(0, (1, 3)))
    ax_rate.set(
        xscale="log",
        ylim=(0, 2.5),
        xlabel="learning rate η (log scale)",
        ylabel="|1 − ηλ|: error factor per step",
        title="above 1 the error grows; near 1 it stalls",
    )
    ax_rate.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    fig.tight_layout()
    return fig


def momentum_map(learning_rates, betas, rates, points, edges):
    """Goh-style map of heavy-ball momentum's factor per step over (η, β).

    ``rates`` has shape (len(betas), len(learning_rates)); values ≥ 1 (no convergence) are grey.
    ``points`` maps a label to (η, β, marker); ``edges`` maps a label to (η per β, line style).
    """
    fig, ax = plt.subplots(figsize=(8, 5))
    shown = np.ma.masked_greater_equal(rates, 1.0)
    ax.set_facecolor("0.8")
    mesh = ax.pcolormesh(learning_rates, betas, shown, cmap="viridis_r", vmin=0.45, vmax=1, shading="auto")
    contours = ax.contour(
        learning_rates, betas, rates, levels=[0.6, 0.8, 0.9, 0.95], colors="white", linewidths=0.8
    )
    for text in ax.clabel(contours, fmt="%.2f", fontsize=8):
        text.set(zorder=5, bbox={"facecolor": "black", "alpha": 0.5, "pad": 0.5, "lw": 0})  # over markers
    for label, (edge, style) in edges.items():
        inside = edge <= learning_rates[-1]
        ax.plot(edge[inside], betas[inside], color="black", ls=style, lw=1.5, label=label)
    for label, (rate, beta, marker) in points.items():
        ax.plot(rate, beta, marker, color="white", markeredgecolor="black", ms=9, ls="none", label=label)
    fig.colorbar(mesh, ax=ax, label="factor per step (grey: diverges)")
    ax.set(
        xscale="log",
        xlim=(learning_rates[0], learning_rates[-1]),
        ylim=(betas[0] - 0.03, betas[-1]),  # points at β = 0 stay visible
        xlabel="learning rate η (log scale)",
        ylabel="momentum β",
        title="heavy-ball momentum on the centred problem: error factor per step",
    )
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return fig


def candidate_lines(heights, weights, candidates, loss):
    """One panel per candidate (slope, intercept): the data, the line and its ``loss(slope, intercept)``."""
    fig, axes = plt.subplots(1, len(candidates), figsize=(4 * len(candidates), 3.6), sharey=True)
    x_range = (heights.min() - 1, heights.max() + 1)
    for ax, (slope, intercept) in zip(axes, candidates, strict=True):
        ax.scatter(heights, weights, **POINT_STYLE)
        draw_line(ax, slope, intercept, x_range, color="tab:red", lw=2)
        sign = "−" if intercept < 0 else "+"
        mse = float(loss(slope, intercept))
        ax.set(title=f"w = {slope:g}·h {sign} {abs(intercept):g}\nMSE = {mse:,.0f}", xlabel="height (in)")
    axes[0].set_ylabel("weight (lbs)")
    return fig


def contour_figure(raw_loss, z_loss, raw_paths, z_path, optima, start_z):
    """The loss in the original units (left) and standardised (right), with descent paths.

    ``raw_paths`` maps a label to ((N, 2) path in (slope, intercept), colour); ``z_path`` is the
    standardised run in (a, b); ``optima`` is ((slope, intercept), (a, b)). Dark is low loss (colour
    bar, log scale); the right panel has equal scales and spans the path around the minimum.
    """
    fig, (ax_raw, ax_z) = plt.subplots(1, 2, figsize=(13, 5.6))
    slopes, intercepts = np.linspace(-0.5, 10.5, 300), np.linspace(-420, 40, 300)
    raw_grid = loss_contours(ax_raw, raw_loss, slopes, intercepts)
    for label, (path, color) in raw_paths.items():
        ax_raw.plot(path[:, 0], path[:, 1], "o-", color=color, ms=3, label=label)
    ax_raw.plot(*optima[0], **OPTIMUM_STYLE, label="exact")
    ax_raw.set(
        xlabel="slope α (lbs per inch)", ylabel="intercept β (lbs)", title="original units: a thin valley"
    )
    half_span = 1.1 * np.hypot(*(np.subtract(optima[1], start_z)))
    a_values = np.linspace(optima[1][0] - half_span, optima[1][0] + half_span, 200)
    b_values = np.linspace(optima[1][1] - half_span, optima[1][1] + half_span, 200)
    grid = loss_contours(ax_z, z_loss, a_values, b_values)
    ax_z.plot(z_path[:, 0], z_path[:, 1], "o-", color="white", ms=3, label="standardised")
    ax_z.plot(*optima[1], **OPTIMUM_STYLE, label="exact")
    ax_z.set(xlabel="a (lbs per standard deviation)", ylabel="b (lbs)", title="standardised: a round bowl")
    ax_z.set_aspect("equal")
    for ax in (ax_raw, ax_z):
        ax.legend(loc="upper right", fontsize=8, facecolor="0.7")  # grey: the white path shows
    for ax, values in ((ax_raw, raw_grid), (ax_z, grid)):
        norm = matplotlib.colors.LogNorm(values.min(), values.max())
        fig.colorbar(plt.cm.ScalarMappable(norm, "viridis"), ax=ax, label="MSE (lbs², log scale)")
    fig.tight_layout()
    return fig
