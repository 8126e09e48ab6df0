"""Checkers for the exercises of ``gradient_tape_basics.ipynb`` (``check("tape-1", answer)``).

Each checker runs the reader's answer on cases of its own (other points, shapes and functions
than the notebook's, drawn from a fixed generator), compares with a reference it computes with
``tf.GradientTape`` or a closed form, and names the mistake when it recognises one.
"""

from __future__ import annotations

import inspect
from types import SimpleNamespace

import numpy as np

from gdtf import import_tensorflow_quietly
from gdtf.exercises import Hint, as_array, call, exercise

tf = import_tensorflow_quietly()
from tensorflow.python.util import tf_decorator  # noqa: E402  (after TensorFlow's quiet import)


def _close(actual, expected, tol):
    return bool(np.allclose(actual, expected, rtol=tol, atol=tol))


# --- tape-1: division for the hand tape ---------------------------------------------------


class _Recorder:
    """Stands in for ``HandTape``: keeps what the answer passes to ``_op``."""

    def __init__(self):
        self.calls = []

    def _op(self, kind, value, inputs, vjps):
        output = SimpleNamespace(name=f"v = {kind}", value=float(value))
        self.calls.append((value, inputs, vjps, output))
        return output

    def __getattr__(self, name):  # mul, add, sin, or any other attribute of the hand tape
        raise Hint(
            f"div used self.{name}: this stand-in tape has only _op. Record the division itself, "
            "with one self._op call"
        )


_TAPE_1_TOL = 1e-6  # relative (and absolute near 0): float32 arithmetic passes, a wrong formula not


def _division_vjps_by_tape(a, b, g):
    a, b = tf.constant(a, tf.float64), tf.constant(b, tf.float64)
    with tf.GradientTape() as tape:
        tape.watch([a, b])
        quotient = a / b
    return [float(d) for d in tape.gradient(quotient, [a, b], output_gradients=tf.constant(g, tf.float64))]


@exercise("tape-1", "division for the hand tape: its value and its two VJPs", time_limit_s=10)
def _(div):
    rng = np.random.default_rng(2101)
    cases = [(1.5, -0.5, 2.0)] + [
        (rng.uniform(-3, 3), rng.choice([-1, 1]) * rng.uniform(0.5, 3), rng.uniform(-2, -0.5))
        for _ in range(5)
    ]
    for a, b, g in cases:
        recorder = _Recorder()
        node_a, node_b = SimpleNamespace(name="a", value=a), SimpleNamespace(name="b", value=b)
        returned = call(div, recorder, node_a, node_b)
        if len(recorder.calls) != 1:
            raise Hint(
                f"div recorded {len(recorder.calls)} operations: record exactly one, with "
                "self._op(kind, value, inputs, vjps), as mul does"
            )
        value, inputs, vjps, output = recorder.calls[0]
        if returned is not output:
            raise Hint("return what self._op returns: the new node is the output of the division")
        where = f"a = {a:.3g}, b = {b:.3g}"
        if not _close(float(value), a / b, _TAPE_1_TOL):  # float32 arithmetic is fine
            raise Hint(f"the value at {where} is {float(value):.8g}, expected a / b = {a / b:.8g}")
        if len(inputs) != 2 or inputs[0] is not node_a or inputs[1] is not node_b:
            raise Hint("inputs should be [a, b], in that order: one entry per input, matched by its VJP")
        if len(vjps) != 2:
            raise Hint(f"give one VJP per input: 2, not {len(vjps)}")
        got = [
            float(as_array(call(vjp, g), f"the VJP for {name}")) for vjp, name in zip(vjps, "ab", strict=True)
        ]
        expected = _division_vjps_by_tape(a, b, g)
        if _close(got, expected, _TAPE_1_TOL):
            continue
        if _close(got, expected[::-1], _TAPE_1_TOL):
            raise Hint("the two VJPs are swapped: the first belongs to a, the second to b")
        if _close(got, [e / g for e in expected], _TAPE_1_TOL):
            raise Hint("a VJP maps the upstream gradient g to the input's gradient: multiply by g")
        if _close(got[0], expected[0], _TAPE_1_TOL) and _close(got[1], -expected[1], _TAPE_1_TOL):
            raise Hint("the VJP for b has the wrong sign: does a / b grow or shrink as b grows?")
        if _close(got[0], expected[0], _TAPE_1_TOL) and _close(got[1], -g / b**2, _TAPE_1_TOL):
            raise Hint("the VJP for b is missing a factor: how fast a / b changes with b depends on a too")
        which = 0 if not _close(got[0], expected[0], _TAPE_1_TOL) else 1
        raise Hint(
            f"the VJP for {'ab'[which]} at {where}, g = {g:.3g} gave {got[which]:.8g}, "
            f"expected about {expected[which]:.8g} (tf.GradientTape)"
        )
    return f"value and both VJPs match tf.GradientTape at {len(cases)} points (a, b, g), negative b too"


# --- tape-2: the gradient of a gradient penalty ---------------------------------------------


def _penalty_gradient_by_hessian(function, x):
    """2·H·∇f, with H from a Jacobian of the gradient: another route than the answer's."""
    with tf.GradientTape(persistent=True) as outer:  # persistent: a jacobian without pfor
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            value = function(x)
        gradient = inner.gradient(value, x)
    hessian = outer.jacobian(gradient, x, experimental_use_pfor=False)  # n ≤ 6: no retracing warnings
    return 2 * tf.linalg.matvec(hessian, gradient).numpy(), gradient.numpy()


@exercise("tape-2", "the gradient of a gradient penalty, with nested tapes", time_limit_s=20)
def _(penalty_gradient):
    rng = np.random.default_rng(2102)
    matrix = tf.constant(rng.normal(size=(4, 4)))
    functions = [  # (name, function, number of inputs)
        (
            "½xᵀAx + Σx³",
            lambda x: 0.5 * tf.tensordot(x, tf.linalg.matvec(matrix, x), 1) + tf.reduce_sum(x**3),
            4,
        ),
        ("Σ sin(x)·x²", lambda x: tf.reduce_sum(tf.sin(x) * x**2), 6),
        ("logsumexp(x)", tf.reduce_logsumexp, 5),
    ]
    for name, function, size in functions:
        x = tf.constant(rng.normal(size=size))
        try:
            answer = call(penalty_gradient, function, x)
        except Hint as hint:
            if "NoneType" in str(hint):
                raise Hint(
                    "an operation got None (inner.gradient returned None?): x is a tensor, not a "
                    "Variable, so watch x in the inner tape too"
                ) from None
            raise
        if answer is None:
            raise Hint(
                "the result is None: the outer tape recorded no path to x. Watch x in both tapes, "
                "and call inner.gradient inside the outer tape's with block"
            )
        got = as_array(answer, "the result", shape=(size,))
        expected, gradient = _penalty_gradient_by_hessian(function, x)
        tol = 1e-6 * (1 + np.abs(expected).max())
        if _close(got, expected, tol):
            continue
        if _close(got, expected / 2, tol):
            raise Hint(f"on {name}: off by a factor of 2: the derivative of ‖g‖² is 2·g·(dg/dx)")
        if _close(got, gradient, tol):
            raise Hint(f"on {name}: that is ∇f itself; differentiate the penalty ‖∇f‖² with a second tape")
        if _close(got, expected / (2 * np.linalg.norm(gradient)), tol):
            raise Hint(f"on {name}: that is the gradient of ‖∇f‖, the norm; the penalty is its square")
        worst = int(np.abs(got - expected).argmax())
        raise Hint(
            f"on {name}, component {worst}: got {got[worst]:.4g}, expected about {expected[worst]:.4g}"
        )
    return f"matches 2·H·∇f (H from tape.jacobian) on {len(functions)} functions at random float64 points"


# --- tape-3: unit rows, with a gradient that is finite at a zero row ----------------------


@exercise("tape-3", "unit rows v/‖v‖: 0 at a zero row, with a gradient there of 0, not NaN", time_limit_s=10)
def _(unit_rows):
    rng = np.random.default_rng(2103)
    batches = []
    for rows, columns, zero_rows in ((5, 3, [1, 3]), (4, 7, [0]), (3, 1, [2])):
        values = rng.normal(size=(rows, columns)).astype("float32")
        values[zero_rows] = 0.0
        upstream = rng.normal(size=(rows, columns)).astype("float32")  # a random weighting
        batches.append((values, upstream, zero_rows))
    for values, upstream, zero_rows in batches:
        v = tf.constant(values)
        what = f"unit_rows of a {values.shape[0]}×{values.shape[1]} batch"
        with tf.GradientTape() as tape:
            tape.watch(v)
            rows = call(unit_rows, v)
            weighted = tf.reduce_sum(upstream * rows) if tf.is_tensor(rows) else None
        got = as_array(rows, what, shape=values.shape)
        norms = np.linalg.norm(values, axis=1, keepdims=True)
        expected = np.divide(values, norms, out=np.zeros_like(values), where=norms > 0)
        if not _close(got, expected, 1e-5):
            row = int(np.abs(got - expected).max(axis=1).argmax())
            kind = "zero row" if row in zero_rows else "row"
            raise Hint(f"{kind} {row} is {np.round(got[row], 4)}, expected {np.round(expected[row], 4)}")
        gradient = tape.gradient(weighted, v) if weighted is not None else None
        if gradient is None:
            raise Hint("the tape found no path to v: build the rows from TensorFlow operations on v")
        gradient = gradient.numpy()
        if np.isnan(gradient[zero_rows]).any():
            raise Hint(
                "the gradient at a zero row is NaN: the branch where does not pick still divides "
                "by 0, and its zero upstream gradient times 0/0 is NaN. Keep 0 out of that "
                "branch's input too (case 12)"
            )
        largest = float(np.abs(gradient[zero_rows]).max())
        if largest > 1e-3:
            raise Hint(
                f"the gradient at a zero row reaches {largest:.3g}, expected 0: an epsilon in the "
                "norm makes a tiny row's direction explode instead"
            )
        nonzero = [row for row in range(len(values)) if row not in zero_rows]
        unit, w = expected[nonzero], upstream[nonzero]  # d(v/‖v‖)ᵀw = (w - u·(uᵀw)) / ‖v‖
        reference = (w - unit * np.sum(unit * w, axis=1, keepdims=True)) / norms[nonzero]
        if not _close(gradient[nonzero], reference, 1e-4):
            raise Hint("the gradient at a non-zero row is wrong: differentiate through the norm too")
    return "values and gradients right on 3 batches (1 to 7 columns), zero rows included: no NaN"


# --- tape-4: log σ(x) with a custom gradient ------------------------------------------------


def _has_custom_gradient(function):
    """True if ``function`` is decorated with tf.custom_gradient, or its source uses it."""
    decorators, _ = tf_decorator.unwrap(function)
    if any(d.decorator_name == "custom_gradient" for d in decorators):
        return True
    try:
        return "custom_gradient" in inspect.getsource(function)  # e.g. a wrapper of one
    except (OSError, TypeError):
        return False


@exercise("tape-4", "log σ(x) with a custom gradient, checked by finite differences", time_limit_s=20)
def _(log_sigmoid):
    extreme = tf.constant([-1000.0, -100.0, -20.0, -1.0, 0.0, 1.0, 20.0, 100.0, 1000.0])
    with tf.GradientTape() as tape:
        tape.watch(extreme)
        values = call(log_sigmoid, extreme)
        weighted = 3.0 * values if tf.is_tensor(values) else None
    if tf.is_tensor(values) and values.shape == extreme.shape:
        finite = np.isfinite(values.numpy())
        if not finite.all():
            point = float(extreme[int((~finite).argmax())])
            raise Hint(f"the value at x = {point:g} is not finite: exponentiate only numbers ≤ 0")
    array = as_array(values, "log_sigmoid(x) in float32", shape=(9,))
    expected = tf.math.log_sigmoid(extreme).numpy()
    if not _close(array, expected, 1e-5):
        point = int(np.abs(array - expected).argmax())
        got, want = array[point], expected[point]
        raise Hint(f"the value at x = {extreme[point]:g} is {got:.6g}, expected {want:.6g}")
    gradient = tape.gradient(weighted, extreme) if weighted is not None else None
    if gradient is None:
        raise Hint("the tape found no path to x: use TensorFlow operations (and tf.custom_gradient)")
    gradient = gradient.numpy() / 3.0  # the upstream gradient was 3 everywhere
    slope = tf.sigmoid(-extreme).numpy()
    if np.isnan(gradient).any():
        point = float(extreme[int(np.isnan(gradient).argmax())])
        raise Hint(f"the gradient is NaN at x = {point:g}: 0 times infinity somewhere in the backward pass")
    if _close(gradient, slope / 3.0, 1e-5):
        raise Hint("the backward function ignores the upstream gradient: multiply by it")
    if _close(gradient, tf.sigmoid(extreme).numpy(), 1e-5):
        raise Hint(
            "the gradient is mirrored: log σ(x) is steepest where x is very negative, flat where it is large"
        )
    if not _close(gradient, slope, 1e-5):
        point = int(np.abs(gradient - slope).argmax())
        at = float(extreme[point])
        if at == 0.0:
            raise Hint(
                f"the gradient at x = 0 is {gradient[point]:g}, expected 0.5: the kink conventions of "
                "max and abs (case 13) decide it; a custom gradient does not depend on them"
            )
        raise Hint(f"the gradient at x = {at:g} is {gradient[point]:.6g}, expected {slope[point]:.6g}")
    if not _has_custom_gradient(log_sigmoid):
        raise Hint(
            "right values and slopes, but TensorFlow's own gradient: the exercise is to write the "
            "value and the backward yourself, under @tf.custom_gradient"
        )
    points = tf.constant([-30.0, -3.0, -0.7, 0.0, 0.4, 2.5, 30.0], tf.float64)
    by_tape, by_differences = call(tf.test.compute_gradient, log_sigmoid, [points], delta=1e-5)
    gap = float(np.abs(by_tape[0] - by_differences[0]).max())
    if not gap < 1e-7:
        raise Hint(f"in float64, tape and finite differences differ by {gap:.1e} (want < 1e-7)")
    return (
        "value and gradient right and finite in float32 from x = -1000 to 1000 (0 included); "
        f"tf.test.compute_gradient in float64 agrees to {gap:.0e}"
    )
