"""The machinery of the clipping experiment (gradient_tape_basics/clipping.py) and its plot.

The experiment itself (the tape, the clipping, the counts over four seeds) runs in
tape_in_training_loops.ipynb under nbval and the stress mode; these tests check the parts it
relies on: the data, the model, the schedule and the loop that stops at the first non-finite loss.
"""

import matplotlib

matplotlib.use("Agg")

import clipping
import numpy as np
import pytest
from basics_plots import plot_clipping_losses


def test_noisy_sine_is_fixed_by_its_seed():
    x, y = clipping.noisy_sine(3)
    x_again, y_again = clipping.noisy_sine(3)
    x_other, _ = clipping.noisy_sine(4)
    assert x.shape == y.shape == (256, 1) and x.dtype == np.float32
    np.testing.assert_array_equal(x, x_again)
    np.testing.assert_array_equal(y, y_again)
    assert not np.array_equal(x, x_other)
    assert np.abs(x).max() <= 3 and (y - np.sin(2 * x)).std() == pytest.approx(0.1, rel=0.2)


def test_make_regressor_is_fixed_by_its_seed():
    first, second, other = (clipping.make_regressor(seed) for seed in (5, 5, 6))
    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first.get_weights()[0], other.get_weights()[0])


def test_the_schedule_barely_decays_before_the_divergence_line():
    schedule = clipping.learning_rate_schedule(clipping.LEARNING_RATE)
    assert float(schedule(0)) == pytest.approx(clipping.LEARNING_RATE)
    assert float(schedule(clipping.DIVERGES_BEFORE)) > 0.9 * clipping.LEARNING_RATE
    assert float(schedule(clipping.STEPS)) == pytest.approx(0.0, abs=1e-7)


def test_the_control_learning_rates_are_smaller():
    assert clipping.CONTROL_LEARNING_RATES
    assert all(rate < clipping.LEARNING_RATE for rate in clipping.CONTROL_LEARNING_RATES)


def fake_step_factory(losses, seen):
    def make_step(model, optimizer):
        seen.append((model, optimizer))
        values = iter(losses)
        return lambda: (next(values), 10.0)  # (loss, gradient norm)

    return make_step


def test_run_stops_at_the_first_loss_that_is_not_finite():
    seen = []
    make_step = fake_step_factory([3.0, 2.0, np.inf, 1.0], seen)
    losses, norms = clipping.run(make_step, seed=0, learning_rate=0.1, steps=4)
    np.testing.assert_array_equal(losses, [3.0, 2.0])
    np.testing.assert_array_equal(norms, [10.0, 10.0])
    model, optimizer = seen[0]
    assert optimizer.momentum == clipping.MOMENTUM
    assert float(optimizer.learning_rate) == pytest.approx(0.1)  # the schedule's start


def test_run_returns_every_loss_of_a_run_that_survives():
    losses, _ = clipping.run(fake_step_factory([3.0, 2.0, 1.0], []), seed=0, learning_rate=0.1, steps=3)
    np.testing.assert_array_equal(losses, [3.0, 2.0, 1.0])


def test_run_rejects_a_run_without_steps():
    with pytest.raises(ValueError, match="steps must be at least 1"):
        clipping.run(fake_step_factory([], []), seed=0, learning_rate=0.1, steps=0)


def test_the_plot_notes_where_a_run_blew_up():
    blown_up = np.array([0.5, 10.0, 5e3, 1e6])
    survived = np.linspace(0.5, 0.01, 20)
    fig = plot_clipping_losses({"bold": blown_up, "clipped": survived}, 20, 10, "title")
    notes = [text.get_text() for text in fig.axes[0].texts]
    assert notes == ["above 10³ from step 2, not finite at step 4"]
    assert [line.get_label() for line in fig.axes[0].get_lines()][:2] == ["bold", "clipped"]
