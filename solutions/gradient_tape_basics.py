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


# --- tape-3: a norm whose gradient is finite at zero ----------------------------------------
def safe_norm(v):
    """Each row's Euclidean norm; the gradient at a zero row is 0 (the double where of case 12)."""
    squares = tf.reduce_sum(v**2, axis=-1)
    nonzero = squares > 0
    safe_squares = tf.where(nonzero, squares, 1.0)  # the square root never sees 0
    return tf.where(nonzero, tf.sqrt(safe_squares), 0.0)


def norm_by_tf(v):
    return tf.norm(v, axis=-1)  # NaN gradient at a zero row


def norm_large_epsilon(v):
    return tf.sqrt(tf.reduce_sum(v**2, axis=-1) + 1e-4)  # finite, but 0.01 at a zero row


def norm_keepdims(v):
    squares = tf.reduce_sum(v**2, axis=-1, keepdims=True)  # shape (n, 1), not (n,)
    nonzero = squares > 0
    return tf.where(nonzero, tf.sqrt(tf.where(nonzero, squares, 1.0)), 0.0)


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
        ),
    ),
    "tape-3": Solution(
        safe_norm,
        wrong=(
            Wrong(norm_by_tf, "zero row is NaN", "tf.norm: NaN gradient at 0"),
            Wrong(norm_large_epsilon, "zero row", "an epsilon large enough to change the value"),
            Wrong(norm_keepdims, "shape", "keepdims=True: (n, 1) instead of (n,)"),
        ),
    ),
    "tape-4": Solution(
        log_sigmoid,
        wrong=(
            Wrong(log_sigmoid_naive, "x = -1000", "log(sigmoid(x)): -inf where σ underflows"),
            Wrong(log_sigmoid_stable_formula_only, "kink", "the tape's gradient of max and abs at 0"),
            Wrong(log_sigmoid_mirrored, "mirrored", "σ(x) instead of σ(-x)"),
            Wrong(log_sigmoid_without_upstream, "upstream", "the backward ignores the upstream gradient"),
        ),
    ),
}
