"""Checkers for the exercises of ``tape_in_training_loops.ipynb`` (``check("loops-1", answer)``).

Each checker runs the reader's answer on cases of its own (other shapes, thresholds, models,
bandits than the notebook's, drawn from fixed generators), compares with a reference it computes
(TensorFlow's own function, ``model.losses`` through the tape, a closed form) and names the
mistake when it recognises one.
"""

from __future__ import annotations

import ast
import inspect
import textwrap

import numpy as np

from gdtf import import_tensorflow_quietly
from gdtf.exercises import Hint, as_array, call, exercise

tf = import_tensorflow_quietly()
import keras  # noqa: E402  (after TensorFlow's quiet import)


def _close(actual, expected, tol):
    return bool(np.allclose(actual, expected, rtol=tol, atol=tol))


def _flat(tensors):
    return np.concatenate([np.ravel(np.asarray(t)) for t in tensors])


# --- loops-1: global-norm clipping by hand --------------------------------------------------


def _calls_attribute(function, name):
    """True if ``function``'s source reads an attribute ``name`` (e.g. ``tf.clip_by_global_norm``)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return False
    return any(isinstance(node, ast.Attribute) and node.attr == name for node in ast.walk(tree))


@exercise("loops-1", "global-norm clipping written by hand", time_limit_s=10)
def _(clip_by_global_norm):
    if _calls_attribute(clip_by_global_norm, "clip_by_global_norm"):
        raise Hint("write it without tf.clip_by_global_norm: one factor from the joint norm, by hand")
    rng = np.random.default_rng(2111)
    cases = []
    for shapes, scale, clip_norm in (
        ([(3, 2), (4,), ()], 2.0, 1.0),  # well over the threshold
        ([(5,), (2, 2)], 0.1, 1.0),  # under it: nothing changes
        ([(8,), (1,), (3, 3)], 1.5, 2.5),  # one large tensor among small ones
        ([(2, 3)], 3.0, 0.5),  # a single tensor
    ):
        grads = [tf.constant(scale * rng.normal(size=shape), tf.float32) for shape in shapes]
        grads[-1] = grads[-1] * 0.05 if len(grads) > 1 else grads[-1]  # a small tensor
        cases.append((grads, clip_norm))
    for grads, clip_norm in cases:
        result = call(clip_by_global_norm, list(grads), clip_norm)
        if not isinstance(result, list | tuple):
            raise Hint(f"return a list (or tuple) of tensors, not a {type(result).__name__}")
        if len(result) != len(grads):
            raise Hint(
                f"return a list with one clipped tensor per gradient ({len(grads)} here); "
                "tf.clip_by_global_norm also returns the norm, your function should not"
            )
        got = [as_array(g, f"clipped tensor {i}", shape=tuple(grads[i].shape)) for i, g in enumerate(result)]
        expected, _ = tf.clip_by_global_norm(grads, clip_norm)
        if _close(_flat(got), _flat(expected), 1e-5):
            continue
        norm = float(tf.linalg.global_norm(grads))
        per_tensor = [tf.clip_by_norm(g, clip_norm) for g in grads]
        if _close(_flat(got), _flat(per_tensor), 1e-5):
            raise Hint("that clips per tensor: global-norm clipping rescales all tensors by one factor")
        if norm <= clip_norm:
            raise Hint(
                f"the joint norm {norm:.3f} is below the threshold {clip_norm}: "
                "the gradients must come back unchanged"
            )
        squares = norm**2
        if _close(_flat(got), _flat(grads) * clip_norm / squares, 1e-5):
            raise Hint("the joint norm is the square root of the sum of squares")
        got_norm = float(np.linalg.norm(_flat(got)))
        raise Hint(
            f"with joint norm {norm:.3f} and threshold {clip_norm}, the result's joint norm is "
            f"{got_norm:.3f}, expected {clip_norm} in the same direction"
        )
    return f"matches tf.clip_by_global_norm on {len(cases)} nests of 1 to 3 tensors, above and below c"


# --- loops-2: the loss with model.losses --------------------------------------------------


def _regularised_model(seed, activity):
    keras.utils.set_random_seed(seed)
    first = keras.layers.Dense(
        4,
        activation="tanh",
        kernel_regularizer=keras.regularizers.L2(0.05),
        bias_regularizer=keras.regularizers.L1(0.02),
        activity_regularizer=keras.regularizers.L2(0.01) if activity else None,
    )
    last = keras.layers.Dense(1, kernel_regularizer=keras.regularizers.L2(0.1))
    return keras.Sequential([keras.Input((3,)), first, last])


def _loss_and_gradients(loss_function, model, x, y):
    with tf.GradientTape() as tape:
        loss = loss_function(model, x, y)
    if loss is None:
        return None, None
    if not tf.is_tensor(loss):
        raise Hint(f"the loss should be a scalar tensor, got {type(loss).__name__}")
    return loss, tape.gradient(loss, model.trainable_variables)


def _reference_loss(model, x, y):
    return tf.reduce_mean(tf.square(model(x) - y)) + tf.add_n(model.losses)


@exercise("loops-2", "the loss of a custom step, model.losses included", time_limit_s=20)
def _(regularised_loss):
    rng = np.random.default_rng(2112)
    x = tf.constant(rng.normal(size=(16, 3)), tf.float32)
    y = tf.constant(rng.normal(size=(16, 1)), tf.float32)
    for seed, activity in ((21, True), (22, False)):
        model = _regularised_model(seed, activity)
        model.layers[0].bias.assign(rng.normal(size=4).astype("float32"))  # L1 on a non-zero bias
        loss, grads = _loss_and_gradients(lambda m, a, b: call(regularised_loss, m, a, b), model, x, y)
        value = float(as_array(loss, "the loss", shape=()))
        _, expected_grads = _loss_and_gradients(_reference_loss, model, x, y)
        expected = float(_reference_loss(model, x, y))
        plain = float(tf.reduce_mean(tf.square(model(x) - y)))
        first, last = model.layers
        weight_penalties = float(
            0.05 * tf.reduce_sum(first.kernel**2)
            + 0.02 * tf.reduce_sum(tf.abs(first.bias))
            + 0.1 * tf.reduce_sum(last.kernel**2)
        )
        if not _close(value, expected, 1e-5):
            if _close(value, plain, 1e-5):
                raise Hint("that is the plain loss: the regularizers' penalties in model.losses are left out")
            if activity and _close(value, plain + weight_penalties, 1e-5):
                raise Hint(
                    "the activity penalty is missing: read model.losses after calling the model, "
                    "whose call computes it"
                )
            if any(_close(value, plain + float(p), 1e-5) for p in model.losses):
                raise Hint("only one penalty is added: model.losses holds one per regularizer, add them all")
            if _close(value - (expected - plain), len(x) * plain, 1e-4):
                raise Hint("the mean squared error is a mean over the examples, not a sum")
            raise Hint(f"the loss is {value:.5g}, expected {expected:.5g}")
        for variable, got, want in zip(model.trainable_variables, grads, expected_grads, strict=True):
            if got is None:
                raise Hint(f"the gradient for {variable.path} is None: compute the loss inside the tape")
            if not _close(got.numpy(), want.numpy(), 1e-5):
                raise Hint(
                    f"the value is right but the gradient for {variable.path} is not: keep every "
                    "term a tensor on the tape, no float(), .numpy() or tf.stop_gradient"
                )
    return "value and gradients match fit()'s loss on 2 models (L2 and L1 penalties, an activity penalty)"


# --- loops-3: REINFORCE for a Gaussian policy ----------------------------------------------


def _estimates_by_formula(mean, actions, rewards, std):
    """ĝ = mean over a batch of (r_i - b_i)·(a_i - μ)/σ², b_i the mean of the other pulls."""
    actions, rewards = actions.numpy().astype(np.float64), rewards.numpy().astype(np.float64)
    batch_size = actions.shape[1]
    baseline = (rewards.sum(axis=1, keepdims=True) - rewards) / (batch_size - 1)
    scores = (actions - float(mean)) / std**2  # d/dμ log N(a; μ, σ²)
    return np.mean((rewards - baseline) * scores, axis=1), rewards, scores


@exercise("loops-3", "REINFORCE for a Gaussian policy, leave-one-out baseline", time_limit_s=20)
def _(reinforce_estimates):
    rng = np.random.default_rng(2113)
    target, std = 2.0, 0.5  # reward -(a - 2)²: J(μ) = -(μ - 2)² - σ², dJ/dμ = -2(μ - 2)
    for mean, batches, batch_size in ((0.5, 2_000, 6), (3.0, 50, 2)):
        actions = rng.normal(mean, std, size=(batches, batch_size))
        rewards = -((actions - target) ** 2) + 0.1 * rng.normal(size=actions.shape)
        given = [tf.constant(v, tf.float32) for v in (mean, actions, rewards)]
        answer = call(reinforce_estimates, *given, std)
        got = as_array(answer, "the result", shape=(batches,))
        expected, r, scores = _estimates_by_formula(*given, std)
        tol = 1e-4 * (1 + np.abs(expected).max())
        if _close(got, expected, tol):
            continue
        if _close(got, -expected, tol):
            raise Hint("the sign is flipped: that is the gradient of the loss; return the estimate of dJ/dμ")
        if _close(got, np.mean((r - r.mean(axis=1, keepdims=True)) * scores, axis=1), tol):
            raise Hint("that baseline is the batch mean, which includes the pull's own reward")
        if _close(got, np.mean(r * scores, axis=1), tol):
            raise Hint("that is the estimate without a baseline: subtract the other pulls' mean reward")
        if _close(got, batch_size * expected, tol):
            raise Hint("ĝ is the mean over the B pulls of a batch, not their sum")
        if _close(got, std**2 * expected, tol):
            raise Hint("the score is missing a factor: differentiate the whole log-density with respect to μ")
        raise Hint(f"μ = {mean}, batch 0 ({batch_size} pulls): got {got[0]:.4g}, expected {expected[0]:.4g}")
    return "matches (r − b)(a − μ)/σ² on 2,000 batches of 6 pulls and 50 batches of 2"


# --- loops-4: a tf.function that traces once --------------------------------------------------


def _plain_errors(scaled_sum, length):
    """``scaled_sum`` with TensorFlow's multi-line tracing errors cut to the line that says why."""

    def run(values, factor):
        try:
            return scaled_sum(values, factor)
        except Exception as error:
            text = str(error)
            if "Binding inputs to tf.function failed" in text:
                raise Hint(
                    f"{length} values (and the factor) do not fit the declared input_signature: a "
                    "TensorSpec's shape [None] accepts any length, a dtype must match"
                ) from None
            lines = [line.strip() for line in text.splitlines() if line.strip()]
            if lines and lines[0] == "in user code:":  # the reason is the last line
                kind = type(error).__name__
                reason = lines[-1].removeprefix(f"{kind}: ")
                raise Hint(f"your function raised {kind}: {reason[:200]}") from None
            raise

    return run


@exercise("loops-4", "a tf.function that traces once for every length and factor", time_limit_s=20)
def _(make_scaled_sum):
    scaled_sum = call(make_scaled_sum)
    if not hasattr(scaled_sum, "experimental_get_tracing_count"):
        raise Hint(f"make_scaled_sum returned a {type(scaled_sum).__name__}: return a tf.function")
    rng = np.random.default_rng(2114)
    lengths_and_factors = [(3, 1.0), (4, 2.0), (5, 0.5), (9, 3.0), (3, 1.5)]
    for step, (length, factor) in enumerate(lengths_and_factors):
        values = rng.normal(size=length).astype("float32")
        given = tf.constant(factor) if step == 4 else factor  # a tensor once, Python floats otherwise
        result = call(_plain_errors(scaled_sum, length), tf.constant(values), given)
        got = float(as_array(result, f"scaled_sum of {length} values", shape=()))
        if not _close(got, values.sum() * factor, 1e-5):
            want = values.sum() * factor
            raise Hint(f"for {length} values and factor {factor}: got {got:.5g}, expected {want:.5g}")
    traces = scaled_sum.experimental_get_tracing_count()
    if traces != 1:
        raise Hint(
            f"{traces} traces for {len(lengths_and_factors)} calls: each new length, and each new Python "
            "float, is a new signature. Declare the one signature it should take (input_signature, "
            "see the tf.function guide)"
        )
    return "right values and 1 trace over 5 calls: lengths 3, 4, 5, 9 and 3, Python floats and a tensor"
