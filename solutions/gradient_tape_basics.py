"""Solutions to the exercises of ``gradient_tape_basics/gradient_tape_basics.ipynb``.

For each exercise: a model answer, then typical wrong answers with the mistake each stands for.
``tests/test_solutions.py`` proves that the notebook's checkers accept the first and reject each
of the others with a hint that names the mistake.
"""

from gdtf import import_tensorflow_quietly
from gdtf.exercises import Solution, Wrong

tf = import_tensorflow_quietly()


# --- tape-1: division for the hand tape ------------------------------------------------------
def div(self, a, b):
    """Record a / b on the hand tape: d(a/b)/da = 1/b and d(a/b)/db = -a/b²."""
    vjps = [
        lambda g: g / b.value,  # one VJP per input, in the order of the inputs
        lambda g: -g * a.value / b.value**2,  # a / b falls as b grows (a, b > 0)
    ]
    return self._op("div", a.value / b.value, [a, b], vjps)


def div_wrong_sign(self, a, b):
    vjps = [lambda g: g / b.value, lambda g: g * a.value / b.value**2]
    return self._op("div", a.value / b.value, [a, b], vjps)


def div_without_upstream(self, a, b):
    vjps = [lambda g: 1 / b.value, lambda g: -a.value / b.value**2]
    return self._op("div", a.value / b.value, [a, b], vjps)


def div_swapped(self, a, b):
    vjps = [lambda g: -g * a.value / b.value**2, lambda g: g / b.value]
    return self._op("div", a.value / b.value, [a, b], vjps)


def div_forgets_a(self, a, b):
    vjps = [lambda g: g / b.value, lambda g: -g / b.value**2]
    return self._op("div", a.value / b.value, [a, b], vjps)


# --- tape-2: the gradient of a gradient penalty ---------------------------------------------
def penalty_gradient(function, x):
    """∇ₓ‖∇f(x)‖²: the outer tape records the inner tape's walk back (notebook section 7)."""
    with tf.GradientTape() as outer:
        outer.watch(x)  # x is a tensor, not a Variable: both tapes must watch it
        with tf.GradientTape() as inner:
            inner.watch(x)
            value = function(x)
        gradient = inner.gradient(value, x)  # inside the outer block, so it is recorded
        penalty = tf.reduce_sum(gradient**2)
    return outer.gradient(penalty, x)  # = 2·H·∇f


def penalty_gradient_outside(function, x):
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            value = function(x)
    gradient = inner.gradient(value, x)  # wrong: after the outer block, not recorded
    penalty = tf.reduce_sum(gradient**2)
    return outer.gradient(penalty, x)


def penalty_gradient_half(function, x):
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            value = function(x)
        gradient = inner.gradient(value, x)
    return outer.gradient(gradient, x, output_gradients=gradient)  # H·∇f: the 2 is missing


def penalty_gradient_of_norm(function, x):
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            value = function(x)
        penalty = tf.norm(inner.gradient(value, x))  # the norm, not its square
    return outer.gradient(penalty, x)


def penalty_gradient_inner_unwatched(function, x):
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:  # x is not watched here: inner.gradient is None
            value = function(x)
        penalty = tf.reduce_sum(inner.gradient(value, x) ** 2)
    return outer.gradient(penalty, x)


# --- tape-3: unit rows, with a gradient that is finite at a zero row ----------------------
def unit_rows(v):
    """Each row divided by its norm, 0 for a zero row, gradient 0 there (case 12's double where)."""
    squares = tf.reduce_sum(v**2, axis=-1, keepdims=True)
    nonzero = squares > 0
    safe_squares = tf.where(nonzero, squares, 1.0)  # the branch not picked never divides by 0
    return tf.where(nonzero, v / tf.sqrt(safe_squares), 0.0)


def unit_rows_one_where(v):
    norms = tf.norm(v, axis=-1, keepdims=True)  # 0 at a zero row: v / norms is 0/0 there
    return tf.where(norms > 0, v / norms, 0.0)  # right values, NaN gradient at a zero row


def unit_rows_l2_normalize(v):
    return tf.math.l2_normalize(v, axis=-1)  # divides by 1e-6 at a zero row: gradient 1e6


def unit_rows_without_where(v):
    return v / tf.norm(v, axis=-1, keepdims=True)  # NaN values at a zero row


def unit_rows_norm_constant(v):
    squares = tf.reduce_sum(v**2, axis=-1, keepdims=True)
    nonzero = squares > 0
    norms = tf.stop_gradient(tf.sqrt(tf.where(nonzero, squares, 1.0)))  # the norm as a constant
    return tf.where(nonzero, v / norms, 0.0)


# --- tape-4: log σ(x) with a custom gradient ------------------------------------------------
@tf.custom_gradient
def log_sigmoid(x):
    """log σ(x) = -softplus(-x), stable for every x, with the exact gradient σ(-x)."""
    value = -(tf.maximum(-x, 0.0) + tf.math.log1p(tf.exp(-tf.abs(x))))  # exponentiates x ≤ 0 only

    def backward(upstream):
        return upstream * tf.sigmoid(-x)  # d/dx log σ(x) = 1 - σ(x) = σ(-x), at most 1

    return value, backward


def log_sigmoid_naive(x):
    return tf.math.log(tf.sigmoid(x))  # σ(-1000) = 0 in float32: log gives -inf


def log_sigmoid_stable_formula_only(x):
    # the right values, but the tape's kink conventions give the gradient 1 at x = 0, not 0.5
    return -(tf.maximum(-x, 0.0) + tf.math.log1p(tf.exp(-tf.abs(x))))


@tf.custom_gradient
def log_sigmoid_mirrored(x):
    def backward(upstream):
        return upstream * tf.sigmoid(x)  # σ(x): the derivative of log σ(-x), not of log σ(x)

    return log_sigmoid_stable_formula_only(x), backward


@tf.custom_gradient
def log_sigmoid_without_upstream(x):
    def backward(upstream):
        return tf.sigmoid(-x)  # the local derivative only: the chain rule is broken

    return log_sigmoid_stable_formula_only(x), backward


def log_sigmoid_builtin(x):
    return tf.math.log_sigmoid(x)  # right, but TensorFlow's gradient, not a custom one


SOLUTIONS = {
    "tape-1": Solution(
        div,
        wrong=(
            Wrong(div_wrong_sign, "wrong sign", "d(a/b)/db = +a/b²"),
            Wrong(div_without_upstream, "multiply by g", "the local derivative, not times g"),
            Wrong(div_swapped, "swapped", "the VJPs in the order b, a"),
            Wrong(div_forgets_a, "depends on a", "d(a/b)/db = -1/b²"),
        ),
    ),
    "tape-2": Solution(
        penalty_gradient,
        wrong=(
            Wrong(penalty_gradient_outside, "inside the outer", "inner.gradient after the outer block"),
            Wrong(penalty_gradient_half, "factor of 2", "H·∇f instead of 2·H·∇f"),
            Wrong(penalty_gradient_of_norm, "its square", "the gradient of ‖∇f‖ instead of ‖∇f‖²"),
            Wrong(penalty_gradient_inner_unwatched, "watch x in the inner", "only the outer tape watches x"),
        ),
    ),
    "tape-3": Solution(
        unit_rows,
        wrong=(
            Wrong(unit_rows_one_where, "zero row is NaN", "one where: the branch not picked is 0/0"),
            Wrong(unit_rows_l2_normalize, "expected 0", "tf.math.l2_normalize: 1/sqrt(1e-12) at 0"),
            Wrong(unit_rows_without_where, "NaN", "no where at all: 0/0 at a zero row"),
            Wrong(unit_rows_norm_constant, "through the norm", "stop_gradient on the norm"),
        ),
    ),
    "tape-4": Solution(
        log_sigmoid,
        wrong=(
            Wrong(log_sigmoid_naive, "x = -1000", "log(sigmoid(x)): -inf where σ underflows"),
            Wrong(log_sigmoid_stable_formula_only, "kink", "the tape's gradient of max and abs at 0"),
            Wrong(log_sigmoid_mirrored, "mirrored", "σ(x) instead of σ(-x)"),
            Wrong(log_sigmoid_without_upstream, "upstream", "the backward ignores the upstream gradient"),
            Wrong(log_sigmoid_builtin, "custom_gradient", "tf.math.log_sigmoid, no custom gradient"),
        ),
    ),
}
