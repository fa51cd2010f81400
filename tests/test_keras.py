"""losses.keras: the generated Keras losses against their functions, in real Keras 3 training.

In-process on Keras's JAX backend (when keras is not yet imported with another backend); the
PyTorch backend runs the training, saving and weighting tests of this file in a subprocess.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BACKEND = os.environ.get("LOSSES_TEST_KERAS_BACKEND", "jax")
if "keras" not in sys.modules:
    os.environ["KERAS_BACKEND"] = BACKEND
pytest.importorskip(BACKEND)
keras = pytest.importorskip("keras")
if keras.backend.backend() != BACKEND:
    pytest.skip(f"keras is already imported with the {keras.backend.backend()} backend", allow_module_level=True)

import losses  # noqa: E402
import losses.keras as lk  # noqa: E402
from losses.backends import frontdoor  # noqa: E402
from losses.conformance import engine  # noqa: E402
from losses.conformance.cases import all_cases  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SPECS = {s.name: s for s in frontdoor.specs("keras")}
CASES = [c for c in all_cases() if c.loss_name in SPECS and (c.backends is None or "jax" in c.backends)]


def keras_args(spec, arrays: dict, kwargs: dict):
    """A case's arguments -> (constructor keywords, y_true, y_pred)."""
    target, pred = spec.keras_pair
    ctor = {k: v for k, v in {**arrays, **kwargs}.items()
            if k not in (target, pred) and k not in frontdoor.KERAS_DROPPED}
    return ctor, arrays[target], arrays[pred]


def per_sample(out: np.ndarray) -> np.ndarray:
    """Independent statement of the rule: the mean over every axis but the batch."""
    out = np.asarray(out, dtype=np.float64)
    return out.reshape(out.shape[0], -1).mean(axis=1) if out.ndim > 1 else out


def test_classes_names_and_registration():
    names = [s.name for s in frontdoor.specs("torch") if s.keras_pair is not None]
    assert lk.__all__[1:] == [SPECS[n].keras_name for n in names]
    assert {"CrossEntropy", "MSE", "Huber", "Dice", "SigmoidFocal", "BinaryCrossEntropyWithLogits",
            "BatchHardTriplet", "GeneralizedBoxIoU"} <= set(lk.__all__)
    for n in names:
        cls = getattr(lk, SPECS[n].keras_name)
        assert cls.function is getattr(losses, n)
        assert issubclass(cls, keras.losses.Loss) and cls.__module__ == "losses.keras"
        assert keras.saving.get_registered_object(f"losses>{cls.__name__}") is cls
        loss = cls(**({"tau": 1.0} if n == "super_loss" else {}))
        again = cls.from_config(loss.get_config())
        assert again.get_config() == loss.get_config()
    # not generated: no (y_true, y_pred) pair, a callable, or no per-sample form
    for n in ("ctc_loss", "triplet_margin_loss", "perceptual_loss", "nt_xent_loss", "dice_ce_loss",
              "soft_f1_loss", "lovasz_softmax_loss", "gaussian_nll_loss"):
        assert n not in SPECS


def test_excluded_losses_really_have_no_per_sample_form():
    by_loss = {}
    for c in all_cases():
        by_loss.setdefault(c.loss_name, c)
    for name in frontdoor.KERAS_NO_PER_SAMPLE:
        case = by_loss[name]
        arrays = engine._inputs(case)
        kwargs = {k: v for k, v in case.kwargs.items() if k != "reduction"}
        out = np.asarray(case.loss(**arrays, **kwargs, reduction="none"))
        assert out.ndim == 0 or out.shape[0] != arrays["input"].shape[0], name


FIRST = [c for i, c in enumerate(CASES) if all(d.loss_name != c.loss_name for d in CASES[:i])]
#: losses whose first case the JAX backend checks by default (each is a jax.jit compile); the
#: PyTorch-backend subprocess checks the first case of every loss eagerly; the slow tier all cases
JAX_DEFAULT = ("cross_entropy", "mse_loss", "dice_loss", "batch_hard_triplet_loss")


def _case_param(case):
    default = case in FIRST and (case.loss_name in JAX_DEFAULT or BACKEND != "jax")
    return case if default else pytest.param(case, marks=pytest.mark.slow)


def run(fn, *args):
    """``fn(*args)``: under ``jax.jit`` on the JAX backend (eager JAX compiles every primitive)."""
    if BACKEND == "jax":
        import jax

        return jax.jit(fn)(*args)
    return fn(*args)


def _grad_mean(loss, t, p):
    """The gradient of the loss's value wrt ``p`` on the backend."""
    if BACKEND == "jax":
        import jax

        return jax.grad(lambda q: loss(t, q))(p)
    import torch

    p = p.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(loss(t, p), p)
    return g


def _native(a):
    return keras.ops.convert_to_tensor(a) if isinstance(a, np.ndarray) else a


@pytest.mark.parametrize("case", [_case_param(c) for c in CASES], ids=lambda c: c.id)
def test_loss_equals_function_on_the_cases(case):
    """Per-sample values (reduction=None), sum_over_batch_size and its gradient wrt y_pred
    against the function on NumPy (values) and torch autograd (gradients)."""
    torch = pytest.importorskip("torch")
    spec = SPECS[case.loss_name]
    arrays = engine._inputs(case)
    ctor, y_true, y_pred = keras_args(spec, arrays, case.kwargs)
    kwargs = {k: v for k, v in case.kwargs.items() if k != "reduction"}
    cls = getattr(lk, spec.keras_name)
    out = np.asarray(case.loss(**arrays, **kwargs, reduction="none"))
    if out.ndim == 0 or y_pred.ndim == 0 or out.shape[0] != y_pred.shape[0]:
        with pytest.raises(ValueError, match="not one loss per sample"):
            cls(**ctor, dtype="float64")(y_true, y_pred)
        return
    want = per_sample(out)
    loss_none, loss_mean = cls(**ctor, reduction=None, dtype="float64"), cls(**ctor, dtype="float64")
    floating = np.issubdtype(y_pred.dtype, np.floating) and want.size

    def values(t, p):
        return loss_none(t, p), loss_mean(t, p), (_grad_mean(loss_mean, t, p) if floating else None)

    got, mean, grad = run(values, _native(y_true), _native(y_pred))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(got), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(float(mean), want.mean() if want.size else 0.0, rtol=1e-6, atol=1e-12)
    if not floating:
        return
    ta = {k: torch.as_tensor(v) if isinstance(v, np.ndarray) else v for k, v in arrays.items()}
    p = ta[spec.keras_pair[1]].requires_grad_(True)
    o = case.loss(**ta, **kwargs, reduction="none")
    (o.reshape(o.shape[0], -1).mean(1) if o.ndim > 1 else o).mean().backward()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(grad), p.grad.numpy(), rtol=1e-6, atol=1e-12,
                               equal_nan=True)


def test_per_sample_rule_matches_keras_own_losses():
    """Keras's own losses on the same inputs: the same per-sample values and reduction."""
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(6, 4)).astype("float32")
    labels = rng.integers(0, 4, size=6).astype("int32")
    pred, true = rng.normal(size=(6, 3)).astype("float32"), rng.normal(size=(6, 3)).astype("float32")
    sw = rng.uniform(0.2, 2.0, size=6).astype("float32")
    pairs = [
        (lk.CrossEntropy, {}, lambda r: keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=r),
         labels, logits),
        (lk.MSE, {}, lambda r: keras.losses.MeanSquaredError(reduction=r), true, pred),
        (lk.Huber, {"delta": 0.7}, lambda r: keras.losses.Huber(delta=0.7, reduction=r), true, pred),
    ]
    combos = (("sum_over_batch_size", False), ("sum_over_batch_size", True), ("sum", True),
              ("mean_with_sample_weight", True), (None, True))
    for ours_cls, kw, theirs, t, p in pairs:
        ours = [ours_cls(reduction=red, **kw) for red, _ in combos]
        their = [theirs(red) for red, _ in combos]

        def both(t, p, w):
            return [(a(t, p, sample_weight=w if weighted else None), b(t, p, sample_weight=w if weighted else None))
                    for a, b, (_, weighted) in zip(ours, their, combos)]

        for (a, b), (red, _) in zip(run(both, t, p, sw), combos):
            np.testing.assert_allclose(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b),
                                       rtol=2e-6, atol=1e-6, err_msg=f"{ours_cls.__name__} {red}")


def test_sample_weight_equals_our_weight():
    """The equalities between Keras's sample_weight and our weight= (README, "Use from Keras")."""
    rng = np.random.default_rng(4)
    n, c, d = 10, 4, 3
    logits, labels = rng.normal(size=(n, c)), rng.integers(0, c, size=n)
    class_w = rng.uniform(0.5, 2.0, size=c)
    sw = class_w[labels]  # per-sample weight of a class-weighted loss
    x, t = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    t01 = (t > 0).astype(float)
    s = rng.uniform(0.1, 3.0, size=n)
    reds = ("sum", "mean_with_sample_weight", "sum_over_batch_size")
    ce = [lk.CrossEntropy(reduction=r, dtype="float64") for r in reds]
    ce_w = lk.CrossEntropy(weight=class_w.tolist(), reduction="sum", dtype="float64")
    mse = [lk.MSE(reduction=r, dtype="float64") for r in reds]
    bce = [lk.BinaryCrossEntropyWithLogits(reduction=r, dtype="float64") for r in reds]

    def keras_side(labels, logits, sw, x, t, t01, s):
        return ([f(labels, logits, sample_weight=sw) for f in ce] + [ce_w(labels, logits)]
                + [f(t, x, sample_weight=s) for f in mse] + [f(t01, x, sample_weight=s) for f in bce])

    got = [float(v) for v in run(keras_side, labels, logits, sw, x, t, t01, s)]
    want = [
        # a class-weighted loss: sample_weight = weight[target]
        losses.cross_entropy(logits, labels, weight=class_w, reduction="sum"),
        losses.cross_entropy(logits, labels, weight=class_w),                        # sum(w l) / sum(w)
        losses.cross_entropy(logits, labels, weight=class_w, mean_over="elements"),  # sum(w l) / N
        # class weights in the constructor: the per-sample losses are weighted already
        losses.cross_entropy(logits, labels, weight=class_w, reduction="sum"),
    ]
    for fn, target in ((losses.mse_loss, t), (losses.binary_cross_entropy_with_logits, t01)):
        # element-wise losses: the sample's weight on each of its d elements
        want += [fn(x, target, weight=s[:, None], reduction="sum") / d,
                 fn(x, target, weight=s[:, None], mean_over="weights"),
                 fn(x, target, weight=s[:, None], mean_over="elements")]
    np.testing.assert_allclose(got, [float(w) for w in want], rtol=1e-6)


def test_integer_labels_keep_their_dtype():
    rng = np.random.default_rng(5)
    logits = rng.normal(size=(7, 5)).astype("float32")
    labels = rng.integers(0, 5, size=7)
    probs = np.eye(5, dtype="float64")[labels]  # float labels stay probabilities (cast to float32)
    loss = lk.CrossEntropy(label_smoothing=0.2, reduction="sum")

    def calls(z, a, b, p):
        return loss(a, z), loss(b, z), loss(p, z)

    got = run(calls, logits, labels.astype("int32"), labels.astype("uint8"), probs)
    want = losses.cross_entropy(logits, labels, label_smoothing=0.2, reduction="sum")
    for g in got[:2]:
        np.testing.assert_allclose(float(g), want, rtol=1e-6)
    np.testing.assert_allclose(float(got[2]), losses.cross_entropy(logits, probs.astype("float32"), label_smoothing=0.2,
                                                                   reduction="sum"), rtol=1e-6)


def test_settings_without_a_per_sample_form_are_refused():
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(4, 3, 5, 5)).astype("float32"), rng.integers(0, 3, size=(4, 5, 5))
    with pytest.raises(ValueError, match="not one loss per sample"):
        run(lambda y, x: lk.Dice(batch=True)(y, x), y, x)
    with pytest.raises(TypeError, match="mean_over"):
        lk.Dice(mean_over="elements")
    with pytest.raises(TypeError, match="weight must be an array or None"):
        lk.CrossEntropy(weight=2.0)


def _model(n_out):
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(n_out)])


def test_fit_evaluate_save_and_load(tmp_path):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(64, 6)).astype("float32")
    y = rng.integers(0, 3, size=64).astype("int32")
    sw = rng.uniform(0.5, 1.5, size=64).astype("float32")
    class_w = [1.0, 2.0, 0.5]
    model = _model(3)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=lk.CrossEntropy(weight=class_w, label_smoothing=0.1))
    history = model.fit(x, y, sample_weight=sw, epochs=2, batch_size=64, verbose=0).history["loss"]
    assert len(history) == 2 and history[1] < history[0]
    logits = np.asarray(model.predict(x, verbose=0))
    want = losses.cross_entropy(logits, y, weight=np.asarray(class_w, "float32"), label_smoothing=0.1,
                                reduction="none")
    np.testing.assert_allclose(model.evaluate(x, y, sample_weight=sw, batch_size=64, verbose=0),
                               float(np.sum(want * sw) / 64), rtol=1e-5)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded.loss) is lk.CrossEntropy
    assert loaded.loss.get_config() == model.loss.get_config()
    np.testing.assert_allclose(loaded.evaluate(x, y, sample_weight=sw, batch_size=64, verbose=0),
                               model.evaluate(x, y, sample_weight=sw, batch_size=64, verbose=0), rtol=1e-6)
    loaded.fit(x, y, epochs=1, batch_size=64, verbose=0)  # the restored loss trains


@pytest.mark.skipif(BACKEND == "jax", reason="one fit per backend in the default run: the PyTorch-backend run")
def test_fit_with_an_elementwise_loss():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(32, 6)).astype("float32")
    y = (rng.uniform(size=(32, 2)) > 0.5).astype("float32")
    model = _model(2)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=lk.SigmoidFocal(alpha=0.3))
    history = model.fit(x, y, epochs=2, batch_size=32, verbose=0).history["loss"]
    assert history[1] < history[0]
    z = np.asarray(model.predict(x, verbose=0))
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=32, verbose=0),
                               losses.sigmoid_focal_loss(z, y, alpha=0.3), rtol=1e-5)


def _torch_backend_run(*args: str, timeout: float) -> subprocess.CompletedProcess:
    """This file's tests on Keras's PyTorch backend, in a subprocess (bounded time)."""
    pytest.importorskip("torch")
    env = {**os.environ, "LOSSES_TEST_KERAS_BACKEND": "torch", "KERAS_BACKEND": "torch"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:cacheprovider", str(Path(__file__)), *args],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return proc


@pytest.mark.skipif(BACKEND != "jax", reason="runs once, from the JAX-backend run")
def test_pytorch_backend_in_a_subprocess():
    proc = _torch_backend_run("-k", "fit or on_the_cases or sample_weight or integer", timeout=120)
    assert " passed" in proc.stdout and "skipped" not in proc.stdout.splitlines()[-1], proc.stdout[-500:]


@pytest.mark.slow
@pytest.mark.skipif(BACKEND != "jax", reason="runs once, from the JAX-backend run")
def test_pytorch_backend_every_case_in_a_subprocess():
    _torch_backend_run("-m", "slow", "-k", "on_the_cases", timeout=600)
