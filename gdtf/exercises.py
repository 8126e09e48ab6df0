"""Exercises that check themselves: ``check("regression-2", answer)`` in the cell below an exercise.

A checker runs the reader's answer on cases of its own (including ones the notebook never shows)
and prints either ``✓`` with what it verified, or ``✗`` with a specific hint that does not give
the answer away. It never shows its own traceback: an answer that raises, returns None, the wrong
shape, dtype or type, NaN, or runs past the time limit gets one clear line. The committed cells
hold a stub (``...`` or a function whose body is ``...`` / raises ``NotImplementedError``); on a stub
the checker prints "not attempted yet" and does nothing else, so notebooks run top to bottom.

Each notebook's checkers live in the module beside it and register with :func:`exercise`::

    @exercise("regression-1", "the gradient of the MSE, written by hand")
    def _(answer):
        got = call(answer, slope=2.0, intercept=1.0)   # runs the reader's code, hints on errors
        ...
        if wrong_sign:
            raise Hint("the slope's gradient has the wrong sign: which way does the loss grow?")
        return "matches the tape on 3 random lines"

``solutions/<notebook stem>.py`` holds, for each exercise, a correct answer and typical wrong ones
(:class:`Solution`, :class:`Wrong`); ``tests/test_solutions.py`` proves every checker accepts the first
and rejects each of the others with its intended hint.
"""

from __future__ import annotations

import ast
import inspect
import signal
import textwrap
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

DEFAULT_TIME_LIMIT_S = 20.0


class Hint(Exception):
    """Raised by a checker: the answer is wrong, and the message says what to look at."""


@dataclass(frozen=True)
class Exercise:
    name: str
    summary: str
    checker: Callable[[object], str]
    time_limit_s: float


@dataclass(frozen=True)
class Verdict:
    """What :func:`check` concluded; printed in the notebook, inspected by the tests."""

    exercise: str
    status: str  # "passed", "hint" or "not attempted"
    message: str

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def __str__(self) -> str:
        mark = {"passed": "✓", "hint": "✗", "not attempted": "·"}[self.status]
        return f"{mark} {self.exercise}: {self.message}"

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython shows the line, not the dataclass
        printer.text(str(self))


EXERCISES: dict[str, Exercise] = {}


@dataclass(frozen=True)
class Wrong:
    """A typical wrong answer, and words the checker's hint must contain for it."""

    answer: object
    hint: str  # a substring of the expected hint, e.g. "factor of 2"
    mistake: str  # the mistake it stands for, in words, for readers of solutions/


@dataclass(frozen=True)
class Solution:
    """A correct answer to one exercise and the typical wrong ones its checker must catch."""

    correct: object
    wrong: tuple[Wrong, ...]

    def __post_init__(self) -> None:
        if not self.wrong:
            raise ValueError("a Solution needs at least one typical wrong answer")


def exercise(name: str, summary: str, time_limit_s: float = DEFAULT_TIME_LIMIT_S):
    """Register the decorated function as the checker of exercise ``name``."""

    def register(checker: Callable[[object], str]) -> Callable[[object], str]:
        if name in EXERCISES and EXERCISES[name].checker.__qualname__ != checker.__qualname__:
            raise ValueError(f"exercise {name!r} is registered twice")
        EXERCISES[name] = Exercise(name, summary, checker, time_limit_s)
        return checker

    return register


def is_stub(answer: object) -> bool:
    """True for ``...``, ``None`` left in place, and a ``def`` whose body is only a docstring,
    ``...``, ``pass`` or ``raise NotImplementedError``."""
    if answer is ... or answer is None:
        return True
    if not inspect.isfunction(answer) or answer.__name__ == "<lambda>":
        return False
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(answer)))
    except (OSError, TypeError, SyntaxError):
        return False
    function = tree.body[0] if tree.body else None
    if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
        return False
    return all(_is_placeholder(statement) for statement in function.body)


def _is_placeholder(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.Pass):
        return True
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
        return statement.value.value is ... or isinstance(statement.value.value, str)
    if isinstance(statement, ast.Raise) and statement.exc is not None:
        raised = statement.exc.func if isinstance(statement.exc, ast.Call) else statement.exc
        return isinstance(raised, ast.Name) and raised.id == "NotImplementedError"
    return False


class _TimeLimit(Exception):
    pass


@contextmanager
def _time_limit(seconds: float):
    """Interrupt the answer after ``seconds`` where the platform allows (Unix, main thread)."""
    can_interrupt = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not can_interrupt:
        yield
        return

    def interrupt(signum, frame):
        raise _TimeLimit

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def call(function: object, *args, **kwargs):
    """Run the reader's function; turn what can go wrong in it into one-line hints."""
    if not callable(function):
        raise Hint(f"expected a function, got {type(function).__name__}: define it with def")
    try:
        return function(*args, **kwargs)
    except (Hint, _TimeLimit):
        raise
    except TypeError as error:
        if "argument" in str(error):
            raise Hint(
                f"your function was called as f({_signature(args, kwargs)}) and said: {error}"
            ) from None
        raise Hint(f"your function raised TypeError: {_one_line(error)}") from None
    except Exception as error:  # the reader's own error, shown in one line
        raise Hint(f"your function raised {type(error).__name__}: {_one_line(error)}") from None


def call_differentiating(function: object, *args, inputs: str = "the inputs", **kwargs):
    """:func:`call` for an answer that differentiates with respect to ``inputs``: a ``None`` met inside
    it most often means a gradient came back ``None`` because a constant tensor was not watched."""
    try:
        return call(function, *args, **kwargs)
    except Hint as hint:
        if "None" in str(hint):
            raise Hint(
                f"the gradient came back None: the tape only watches variables, and {inputs} "
                "are a constant tensor (tape.watch)"
            ) from None
        raise


def name_the_mistake(mistakes, where: str = "") -> None:
    """Raise the hint of the first recognised mistake: ``mistakes`` holds ``(recognised, hint)``
    pairs, checked in order; ``where`` (the case, in words) is added to the hint."""
    for recognised, hint in mistakes:
        if recognised:
            raise Hint(f"{hint} {where}".rstrip())


def as_array(value: object, what: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """``value`` as a float64 array, or a hint naming ``what`` was None, not numeric, shaped wrong or NaN."""
    if value is None:
        raise Hint(f"{what} is None: did the function forget to return it (or did the tape see no path)?")
    try:
        array = np.asarray(value.numpy() if hasattr(value, "numpy") else value, dtype=np.float64)
    except (TypeError, ValueError):
        raise Hint(f"{what} should be numbers, got {type(value).__name__}") from None
    if shape is not None and array.shape != tuple(shape):
        raise Hint(f"{what} has shape {array.shape}, expected {tuple(shape)}")
    if not np.all(np.isfinite(array)):
        raise Hint(f"{what} holds NaN or infinity: look for a log of 0, a division by 0 or a step too large")
    return array


def judge(name: str, answer: object) -> Verdict:
    """The verdict on the reader's ``answer`` to exercise ``name``, without printing it. Never raises."""
    if name not in EXERCISES:
        known = ", ".join(sorted(EXERCISES)) or "none registered: import the notebook's module first"
        return Verdict(name, "hint", f"no exercise of that name (known: {known})")
    if is_stub(answer):
        return Verdict(name, "not attempted", "not attempted yet: replace the stub above and run both cells")
    return _run(EXERCISES[name], answer)


def check(name: str, answer: object) -> None:
    """Print the verdict on the reader's ``answer`` to exercise ``name`` in one line. Never raises.

    Returns nothing, so a notebook cell shows the line once (a returned value would be shown again).
    """
    print(judge(name, answer))


def _run(entry: Exercise, answer: object) -> Verdict:
    start = time.perf_counter()
    try:
        with _time_limit(entry.time_limit_s):
            message = entry.checker(answer)
    except Hint as hint:
        return Verdict(entry.name, "hint", str(hint))
    except _TimeLimit:
        # The interrupt lands between Python bytecodes: a long TensorFlow kernel finishes first,
        # so say how long it really took.
        elapsed = max(time.perf_counter() - start, entry.time_limit_s)
        return Verdict(
            entry.name,
            "hint",
            f"stopped after {elapsed:.0f} s (limit {entry.time_limit_s:.0f} s): the answer should take "
            "seconds",
        )
    except Exception as error:  # outside call(): e.g. the answer is a value of the wrong kind
        return Verdict(
            entry.name, "hint", f"could not use the answer: {type(error).__name__}: {_one_line(error)}"
        )
    elapsed = time.perf_counter() - start
    if elapsed > entry.time_limit_s:  # where the platform could not interrupt it
        return Verdict(entry.name, "hint", f"took {elapsed:.0f} s: the answer should take seconds")
    return Verdict(entry.name, "passed", message)


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else "(no message)")[:200]


def _signature(args, kwargs) -> str:
    parts = [type(a).__name__ for a in args] + [f"{k}=..." for k in kwargs]
    return ", ".join(parts)
