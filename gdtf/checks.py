"""Guards for descent loops: stop at the first NaN or infinity and say where."""

from __future__ import annotations

import numpy as np


def check_finite(iteration: int, **values) -> None:
    """Raise ``FloatingPointError`` if any named value holds a NaN or an infinity.

    Call it once per iteration with the loss and the gradients, e.g.
    ``check_finite(step, loss=loss, grad_slope=grads[0])``: a diverging run then
    stops at the iteration where it broke, naming the culprit, instead of
    silently filling the plots with NaN.
    """
    for name, value in values.items():
        if value is None:
            raise FloatingPointError(
                f"iteration {iteration}: {name} is None (the tape saw no path from the loss to it)"
            )
        array = np.asarray(value)
        if not np.all(np.isfinite(array)):
            kind = "NaN" if np.isnan(array).any() else "infinite"
            raise FloatingPointError(
                f"iteration {iteration}: {name} became {kind}; lower the learning rate "
                "or check the loss for a division by zero or the log of zero"
            )


def check_finite_history(history, columns: tuple[str, ...]) -> None:
    """Raise ``FloatingPointError`` at the first row of ``history`` holding a NaN or an infinity.

    For loops compiled whole with ``tf.function``, which record one row per
    iteration (columns named by ``columns``) and are checked once at the end.
    """
    history = np.asarray(history)
    bad_rows = np.flatnonzero(~np.isfinite(history).all(axis=1))
    if len(bad_rows):
        iteration = int(bad_rows[0])
        check_finite(iteration, **dict(zip(columns, history[iteration], strict=True)))
