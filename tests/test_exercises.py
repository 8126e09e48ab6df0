"""The exercise checker framework (gdtf.exercises): every way an answer can go wrong gets one line."""

from __future__ import annotations

import time

import numpy as np
import pytest

from gdtf.exercises import (
    Hint,
    as_array,
    call,
    call_differentiating,
    check,
    exercise,
    is_stub,
    judge,
    name_the_mistake,
)


@exercise("test-square", "the derivative of x**2, vectorised", time_limit_s=1.0)
def _(answer):
    x = np.array([-2.0, 0.5, 3.0])
    got = as_array(call(answer, x), "your derivative", shape=x.shape)
    if np.allclose(got, x):
        raise Hint("off by a factor of 2: the power comes down as a factor")
    if not np.allclose(got, 2 * x):
        raise Hint("not 2x at x = -2, 0.5, 3")
    return "2x at three points, one negative"


def stub(x): ...


def stub_raising(x):
    """Docstrings do not count as an attempt."""
    raise NotImplementedError


def right(x):
    return 2 * x


@pytest.mark.parametrize("answer", [..., None, stub, stub_raising])
def test_stubs_are_not_attempted_and_do_not_raise(answer, capsys):
    assert judge("test-square", answer).status == "not attempted"
    assert check("test-square", answer) is None  # the cell shows the printed line once
    assert capsys.readouterr().out.startswith("· test-square: not attempted yet")


def test_a_right_answer_passes_and_says_what_was_verified(capsys):
    assert judge("test-square", right).passed
    check("test-square", right)
    assert capsys.readouterr().out == "✓ test-square: 2x at three points, one negative\n"


def test_a_specific_mistake_gets_its_hint():
    verdict = judge("test-square", lambda x: x)
    assert verdict.status == "hint" and "factor of 2" in verdict.message


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda x: 1 / 0, "your function raised ZeroDivisionError: division by zero"),
        (lambda x: None, "your derivative is None"),
        (lambda x: 2 * x[:2], "has shape (2,), expected (3,)"),
        (lambda x: x * np.nan, "holds NaN or infinity"),
        (lambda x: "2x", "should be numbers, got str"),
        (lambda: 0, "your function was called as f(ndarray)"),
        (42, "expected a function, got int"),
    ],
)
def test_bad_answers_get_one_clear_line_never_a_traceback(answer, hint, capsys):
    verdict = judge("test-square", answer)
    assert verdict.status == "hint" and hint in verdict.message, verdict.message
    check("test-square", answer)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "Traceback" not in out


def test_an_answer_past_the_time_limit_is_stopped():
    def slow(x):
        time.sleep(5)
        return 2 * x

    start = time.perf_counter()
    verdict = judge("test-square", slow)
    assert verdict.status == "hint" and "stopped after 1 s" in verdict.message
    assert time.perf_counter() - start < 3


def test_an_unknown_exercise_names_the_known_ones():
    verdict = judge("test-nope", right)
    assert verdict.status == "hint" and "test-square" in verdict.message


def test_is_stub_sees_real_bodies():
    assert not is_stub(right) and not is_stub(np.zeros(3)) and not is_stub(0.5)


def test_a_none_inside_a_differentiating_answer_points_at_tape_watch():
    def unwatched(x):
        return None * x  # what a None gradient from an unwatched constant runs into

    with pytest.raises(Hint, match="tape only watches variables, and the images are a constant tensor"):
        call_differentiating(unwatched, np.ones(3), inputs="the images")
    with pytest.raises(Hint, match="ZeroDivisionError"):  # other errors keep their own hint
        call_differentiating(lambda x: 1 / 0, np.ones(3))


def test_name_the_mistake_raises_the_first_recognised_hint_only():
    name_the_mistake([(False, "not this")])  # nothing recognised: no hint
    with pytest.raises(Hint, match=r"^second \(at x = 1\)$"):
        name_the_mistake([(False, "first"), (True, "second"), (True, "third")], "(at x = 1)")
