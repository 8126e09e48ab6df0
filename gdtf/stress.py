"""The knobs of the stress mode, read in one place: a seed shift and a thread count.

A claim about where a descent lands must hold on every CPU, not only on the one
that ran it. ``make stress`` stands in for other machines by re-running every
notebook with

- every seed shifted by ``GDTF_SEED_SHIFT`` (an integer from 0 to 1000; unset
  means 0): random starts, initial weights, noise draws and attack restarts move,
  committed data files and models do not;
- ``GDTF_INTRA_OP_THREADS`` threads inside each TensorFlow op (unset: TensorFlow
  decides), so reductions run in another order;
- both oneDNN settings (``TF_ENABLE_ONEDNN_OPTS``).

Notebooks and their modules never write a seed as a bare number: they write
``seed(0)``, ``seed(7)``, and this module adds the shift.
"""

from __future__ import annotations

import os

SEED_SHIFT_ENV_VAR = "GDTF_SEED_SHIFT"
THREADS_ENV_VAR = "GDTF_INTRA_OP_THREADS"
MAX_SEED_SHIFT = 1000
MAX_THREADS = 1024


class StressSettingError(ValueError):
    """An environment variable of the stress mode holds a value it cannot use."""


def _read_int(name: str, low: int, high: int, default: int | None) -> int | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise StressSettingError(f"{name}={raw!r} is not allowed: use a whole number from {low} to {high}")
    return value


def seed_shift() -> int:
    """The shift added to every seed: ``GDTF_SEED_SHIFT``, 0 when unset."""
    return _read_int(SEED_SHIFT_ENV_VAR, 0, MAX_SEED_SHIFT, 0)


def intra_op_threads() -> int | None:
    """TensorFlow's threads per op from ``GDTF_INTRA_OP_THREADS``; None when unset (TensorFlow decides)."""
    return _read_int(THREADS_ENV_VAR, 1, MAX_THREADS, None)


def seed(base: int) -> int:
    """The seed a notebook means by ``base``, moved by the stress mode's shift.

    >>> seed(0)  # with GDTF_SEED_SHIFT unset
    0
    """
    if not isinstance(base, int) or isinstance(base, bool) or base < 0:
        raise TypeError(f"seed() takes a non-negative int, got {base!r}")
    return base + seed_shift()


def check_settings() -> None:
    """Raise :class:`StressSettingError` (one line, naming the variable) if a knob is set wrong."""
    seed_shift()
    intra_op_threads()
