"""Eager JAX calls run as one compiled program per argument signature (``backends/jax.py``,
``whole_call``): few compilations on a first call, the same values and gradients as the
op-by-op generic path, value checks read once and still explained, and the op-by-op path
wherever a call cannot be compiled whole."""
from __future__ import annotations

import logging

import numpy as np
import pytest

import losses
from losses import backends

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
from losses.backends import jax as jax_backend  # noqa: E402


class _Compiles(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.names = []

    def emit(self, record):
        msg = record.getMessage()
        if msg.startswith("Finished XLA compilation of "):
            self.names.append(msg[len("Finished XLA compilation of "):].split(" in ")[0])


def _count_compiles(fn):
    handler = _Compiles()
    logger = logging.getLogger("jax")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        with jax.log_compiles(True):
            out = fn()
            jax.block_until_ready(out)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    return out, handler.names


def _inputs(n, c, seed):
    rng = np.random.default_rng(seed)
    x = jnp.asarray(rng.normal(size=(n, c)).astype(np.float32))
    t = jnp.asarray(rng.integers(0, c, size=n).astype(np.int32))
    return x, t


def test_first_eager_call_compiles_one_program_per_direction():
    # a shape no other test uses: nothing is cached yet
    x, t = _inputs(37, 11, 0)
    (value, grad), names = _count_compiles(
        lambda: jax.value_and_grad(lambda z: losses.cross_entropy(z, t, label_smoothing=0.1))(x))
    programs = [n for n in names if "cross_entropy" in n]
    # forward (with the residuals) and backward: two programs of the loss, where the op-by-op
    # path compiles each of its few dozen primitives
    assert len(programs) == 2, names
    assert len(names) <= 4, names
    with backends.generic_paths():  # the op-by-op reference
        (v0, g0), names0 = _count_compiles(
            lambda: jax.value_and_grad(lambda z: losses.cross_entropy(z, t, label_smoothing=0.1))(x))
    assert len(names0) > 10, names0
    np.testing.assert_allclose(float(value), float(v0), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(grad), np.asarray(g0), rtol=1e-5, atol=1e-7)


def test_keyword_arguments_run_as_one_program_too():
    # ``loss(input=x, target=t)``: no positional argument; the call still runs as one program
    x, t = _inputs(41, 13, 1)
    y = jax.block_until_ready(jax.nn.sigmoid(t.astype(jnp.float32)[:, None] * x))
    value, names = _count_compiles(lambda: losses.binary_cross_entropy_with_logits(reduction="mean", input=x,
                                                                                   target=y))
    assert names == ["jit(binary_cross_entropy_with_logits)"], names
    x64 = np.asarray(x, dtype=np.float64)
    y64 = 1.0 / (1.0 + np.exp(-np.asarray(t, dtype=np.float64)[:, None] * x64))
    want = np.mean(np.logaddexp(0.0, x64) - y64 * x64)  # softplus(x) - y x, float64
    np.testing.assert_allclose(float(value), want, rtol=1e-5)


def _f64(shape, seed, low=-2.0, high=2.0):
    return jnp.asarray(np.random.default_rng(seed).uniform(low, high, size=shape))


@pytest.mark.parametrize("name, call", [
    ("cross_entropy", lambda: losses.cross_entropy(_f64((6, 4), 1), jnp.asarray([0, 1, 2, 3, -100, 1]),
                                                   weight=_f64((4,), 2, 0.5, 2.0))),
    ("binary_cross_entropy", lambda: losses.binary_cross_entropy(_f64((5, 3), 3, 0.05, 0.95),
                                                                 _f64((5, 3), 4, 0.0, 1.0), reduction="none")),
    ("huber_loss", lambda: losses.huber_loss(_f64((4, 5), 5), _f64((4, 5), 6), delta=0.7)),
    ("dice_loss", lambda: losses.dice_loss(_f64((2, 3, 4, 4), 7), jnp.asarray(
        np.random.default_rng(8).integers(0, 3, size=(2, 4, 4))))),
    ("generalized_box_iou_loss", lambda: losses.generalized_box_iou_loss(
        jnp.asarray([[0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 3.0, 4.0]]),
        jnp.asarray([[0.5, 0.5, 2.5, 2.0], [0.0, 1.0, 2.0, 3.0]]))),
    pytest.param("ctc_loss", lambda: losses.ctc_loss(jax.nn.log_softmax(_f64((6, 2, 4), 9), axis=-1),
                                         jnp.asarray([[1, 2], [3, 3]]), jnp.asarray([6, 5]), jnp.asarray([2, 2])),
                 marks=pytest.mark.slow),
    ("clip_loss", lambda: losses.clip_loss(_f64((5, 3), 10), _f64((5, 3), 11))),
])
def test_whole_program_equals_the_op_by_op_path(name, call):
    got = call()  # the test session runs with jax_enable_x64 (conftest): float64 arrays
    with backends.generic_paths():
        want = call()
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-12, atol=1e-14, err_msg=name)


def test_value_checks_are_read_once_and_explained():
    x, _ = _inputs(4, 3, 1)
    good = jnp.asarray([0, 1, 2, 1])
    bad = jnp.asarray([0, 1, 2, 5])
    losses.cross_entropy(x, good)
    with pytest.raises(ValueError, match=r"target must hold class indices in \[0, 2\] \(or ignore_index=-100\), got out-of-range values between 5 and 5"):
        losses.cross_entropy(x, bad)  # same signature as the good call: the compiled program's flag
    with pytest.raises(ValueError, match=r"input must hold probabilities in \[0, 1\]"):
        losses.binary_cross_entropy(jnp.asarray([0.5, 1.5]), jnp.asarray([0.0, 1.0]))
    with losses.value_checks(False):  # another program, without the checks: JAX's NaN
        assert np.isnan(float(losses.cross_entropy(x, bad, reduction="sum")))


def test_value_checks_of_other_arguments_run_in_the_whole_program():
    # cumulative_link_loss checks its cut-points are ordered: traced into the program too
    eta, y = jnp.asarray([0.1, 0.5, -0.3]), jnp.asarray([0, 1, 2])
    for theta in ([-1.0, 2.0, 1.0], [-1.0, np.inf, 1.0]):
        with pytest.raises(ValueError, match="cutpoints must be non-decreasing"):
            losses.cumulative_link_loss(eta, y, jnp.asarray(theta))
        with pytest.raises(ValueError, match="cutpoints must be non-decreasing"):
            losses.cumulative_link_loss(input=eta, target=y, cutpoints=jnp.asarray(theta))
    value = losses.cumulative_link_loss(eta, y, jnp.asarray([-1.0, 0.0, 1.0]), reduction="sum")
    def sig(v):  # P(y = k) = sigma(theta_k - eta) - sigma(theta_{k-1} - eta)
        return 1.0 / (1.0 + np.exp(-v))

    theta = np.array([-np.inf, -1.0, 0.0, 1.0, np.inf])
    e = np.array([0.1, 0.5, -0.3])
    want = -np.sum(np.log(sig(theta[[1, 2, 3]] - e) - sig(theta[[0, 1, 2]] - e)))
    np.testing.assert_allclose(float(value), want, rtol=1e-5)


def test_nan_stays_nan():
    x = jnp.asarray([[0.0, np.nan, 1.0], [1.0, 2.0, 3.0]], dtype=jnp.float32)
    assert np.isnan(float(losses.cross_entropy(x, jnp.asarray([0, 1]))))
    assert np.isnan(float(losses.mse_loss(x, jnp.zeros_like(x))))


def test_calls_that_cannot_be_compiled_whole_run_op_by_op(monkeypatch):
    monkeypatch.setattr(jax_backend, "_WHOLE", {})
    calls = []

    # a callable argument is not part of a program's signature: op by op
    @losses._validate.entry
    def applies(x, f):
        calls.append("applies")
        return f(x)

    x = jnp.asarray([1.0, -1.0, 2.0])
    np.testing.assert_allclose(np.asarray(applies(x, jnp.abs)), [1.0, 1.0, 2.0])
    assert not jax_backend._WHOLE

    # a value-dependent Python step (reading a count): the failed trace is remembered and the
    # function keeps working op by op
    @losses._validate.entry
    def reads_a_value(x):
        calls.append("reads")
        return x * int(jnp.sum(x > 0))

    for _ in range(2):
        np.testing.assert_allclose(np.asarray(reads_a_value(x)), [2.0, -2.0, 4.0])
    (programs,) = jax_backend._WHOLE.values()
    assert list(programs.values()) == [None]
    assert calls == ["applies"] + ["reads"] * 3  # one failed trace, then op by op twice


def test_signatures_per_function_are_bounded(monkeypatch):
    monkeypatch.setattr(jax_backend, "_WHOLE", {})
    monkeypatch.setattr(jax_backend, "_WHOLE_LIMIT", 2)
    d = np.asarray([0.5, 2.0])
    deltas = (0.25, 0.5, 1.0, 1.5)
    got = [float(losses.huber_loss(jnp.asarray(d), jnp.zeros(2), delta=k)) for k in deltas]
    want = [np.mean(np.where(np.abs(d) <= k, 0.5 * d * d, k * (np.abs(d) - 0.5 * k))) for k in deltas]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    (programs,) = jax_backend._WHOLE.values()
    assert len(programs) == 2  # the last two deltas ran op by op


def test_inside_jit_vmap_and_grad():
    x, t = _inputs(6, 4, 2)
    eager = losses.cross_entropy(x, t, reduction="none")
    np.testing.assert_allclose(np.asarray(jax.jit(lambda z: losses.cross_entropy(z, t, reduction="none"))(x)),
                               np.asarray(eager), rtol=1e-6)
    per_row = jax.vmap(lambda z, s: losses.cross_entropy(z, s))(x, t)
    np.testing.assert_allclose(np.asarray(per_row), np.asarray(eager), rtol=1e-6)
    g = jax.grad(lambda z: losses.cross_entropy(z, t, reduction="sum"))(x)
    np.testing.assert_allclose(np.asarray(g), np.asarray(jax.nn.softmax(x) - jax.nn.one_hot(t, 4)), atol=1e-6)
