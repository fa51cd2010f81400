"""linear_cross_entropy: values and gradients against torch 2.13's F.linear_cross_entropy (both
paths) and an independent float64 NumPy formula, the custom gradients against autodiff of the
plain chunked body, what the backward pass keeps, bfloat16, edge cases and errors."""
from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

import losses as L
from losses.backends import generic_paths

RNG = np.random.default_rng(20241201)
N, D, V = 9, 4, 11


def _torch():
    return pytest.importorskip("torch")


def _inputs(n=N, d=D, v=V, ignore=True):
    x, w, b = RNG.normal(size=(n, d)), RNG.normal(size=(v, d)), RNG.normal(size=(v,))
    t = RNG.integers(0, v, size=(n,))
    if ignore:
        t[::4] = -100
    return x, w, b, t, RNG.uniform(0.3, 2.0, size=(v,))


def _numpy_lce(x, w, b, t, cw, eps=0.0, reduction="mean", ignore_index=-100):
    """The cross-entropy of the logits x W^T + b written out in float64 (torch's definition)."""
    z = x @ w.T + (0 if b is None else b)
    v = z.shape[-1]
    cw = np.ones(v) if cw is None else cw
    lse = np.log(np.exp(z - z.max(-1, keepdims=True)).sum(-1)) + z.max(-1)
    keep = t != ignore_index
    ts = np.where(keep, t, 0)
    nll = lse - np.take_along_axis(z, ts[..., None], -1)[..., 0]
    smooth = (lse * cw.sum() - z @ cw) / v
    loss = np.where(keep, (1 - eps) * cw[ts] * nll + eps * smooth, 0.0)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / np.where(keep, cw[ts], 0.0).sum()


@pytest.mark.parametrize("chunk_size", [None, 2, (4, 3)])
@pytest.mark.parametrize("kw", [{}, {"label_smoothing": 0.15}, {"reduction": "none"},
                                {"reduction": "sum", "label_smoothing": 0.3}])
def test_against_torch_reference_path(kw, chunk_size):
    torch = _torch()
    F = torch.nn.functional
    x, w, b, t, cw = _inputs()
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ours = L.linear_cross_entropy(xt, wt, torch.tensor(t), linear_bias=bt, weight=torch.tensor(cw),
                                  chunk_size=chunk_size, **kw)
    ref = F.linear_cross_entropy(xt, wt, torch.tensor(t), linear_bias=bt, weight=torch.tensor(cw), **kw)
    np.testing.assert_allclose(ours.detach().numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.detach().numpy(), _numpy_lce(x, w, b, t, cw, kw.get("label_smoothing", 0.0),
                                                                 kw.get("reduction", "mean")), rtol=1e-12)
    g = torch.tensor(RNG.uniform(0.5, 1.5, size=ours.shape))
    mine = torch.autograd.grad((ours * g).sum(), [xt, wt, bt])
    theirs = torch.autograd.grad((ref * g).sum(), [xt, wt, bt])
    for a, c in zip(mine, theirs):
        np.testing.assert_allclose(a.numpy(), c.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_against_torch_chunked_path(reduction):
    torch = _torch()
    F = torch.nn.functional
    x, w, _, t, cw = _inputs(n=33, v=50)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    ours = L.linear_cross_entropy(xt, wt, torch.tensor(t), weight=torch.tensor(cw), reduction=reduction,
                                  chunk_size=(8, 16))
    ref = F.linear_cross_entropy(xt, wt, torch.tensor(t), weight=torch.tensor(cw), reduction=reduction,
                                 options=torch.nn.LinearCrossEntropyOptions())
    np.testing.assert_allclose(ours.detach().numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    mine = torch.autograd.grad(ours.sum(), [xt, wt])
    theirs = torch.autograd.grad(ref.sum(), [xt, wt])
    for a, c in zip(mine, theirs):
        np.testing.assert_allclose(a.numpy(), c.numpy(), rtol=1e-9, atol=1e-12)


def test_sequence_input_matches_flattened_torch():
    torch = _torch()
    F = torch.nn.functional
    x, w, b = RNG.normal(size=(2, 5, D)), RNG.normal(size=(V, D)), RNG.normal(size=(V,))
    t = RNG.integers(0, V, size=(2, 5))
    t[:, -1] = -100
    out = L.linear_cross_entropy(torch.tensor(x), torch.tensor(w), torch.tensor(t), linear_bias=torch.tensor(b),
                                 reduction="none", chunk_size=3)
    ref = F.linear_cross_entropy(torch.tensor(x.reshape(-1, D)), torch.tensor(w), torch.tensor(t.reshape(-1)),
                                 linear_bias=torch.tensor(b), reduction="none")
    assert tuple(out.shape) == (2, 5)
    np.testing.assert_allclose(out.numpy().reshape(-1), ref.numpy(), rtol=1e-12, atol=1e-12)


def _generic_vs_native_torch(kw):
    torch = _torch()
    x, w, b, t, cw = _inputs()
    grads = []
    for generic in (False, True):
        args = [torch.tensor(a, requires_grad=True) for a in (x, w, b, cw)]
        with generic_paths() if generic else _null():
            out = L.linear_cross_entropy(args[0], args[1], torch.tensor(t), linear_bias=args[2], weight=args[3], **kw)
        g = torch.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)))
        grads.append(torch.autograd.grad((out * g).sum(), args))
    return grads


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("kw", [{"label_smoothing": 0.2, "chunk_size": (4, 5)},
                                {"reduction": "none", "label_smoothing": 0.1, "chunk_size": (2, 4)}])
def test_custom_gradient_matches_autodiff_of_the_body_torch(kw):
    native, generic = _generic_vs_native_torch(kw)
    for a, c in zip(native, generic):  # class weights included
        np.testing.assert_allclose(a.numpy(), c.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_custom_gradient_matches_autodiff_of_the_body_jax(reduction):
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    x, w, b, t, cw = _inputs()
    args = [jnp.asarray(a) for a in (x, w, b, cw)]
    tj = jnp.asarray(t)

    def f(x, w, b, cw):
        out = L.linear_cross_entropy(x, w, tj, linear_bias=b, weight=cw, reduction=reduction,
                                     label_smoothing=0.1, chunk_size=(4, 5))
        return jnp.sum(out * jnp.linspace(0.5, 1.5, out.size).reshape(out.shape))

    native = jax.jit(jax.grad(f, argnums=(0, 1, 2, 3)))(*args)
    with generic_paths():  # the namespace is chosen while tracing
        generic = jax.jit(jax.grad(f, argnums=(0, 1, 2, 3)))(*args)
    for a, c in zip(native, generic):
        np.testing.assert_allclose(np.asarray(a), np.asarray(c), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_backward_keeps_no_logits(reduction):
    """What autograd keeps for the backward pass: nothing of the N x V logits' size."""
    torch = _torch()
    n, v = 64, 300
    x = torch.randn(n, D, requires_grad=True)
    w = torch.randn(v, D, requires_grad=True)
    t = torch.randint(0, v, (n,))
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda s: saved.append(s.numel()) or s, lambda s: s):
        out = L.linear_cross_entropy(x, w, t, reduction=reduction, chunk_size=(16, 100))
    out.sum().backward()
    assert saved, "the custom gradient saved nothing"
    assert max(saved) <= v * D < n * v
    ref_saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda s: ref_saved.append(s.numel()) or s, lambda s: s):
        torch.nn.functional.cross_entropy(x @ w.T, t)
    assert max(ref_saved) == n * v  # the plain formula keeps the logits


def test_bfloat16_torch_and_jax_accumulate_in_float32():
    torch = _torch()
    jax = pytest.importorskip("jax")
    x, w, b, t, _ = _inputs(n=40, d=16, v=70)
    x, w = x.astype(np.float32), w.astype(np.float32)
    xb, wb = torch.tensor(x).bfloat16().requires_grad_(), torch.tensor(w).bfloat16().requires_grad_()
    out = L.linear_cross_entropy(xb, wb, torch.tensor(t), chunk_size=(16, 32))
    assert out.dtype == torch.bfloat16
    gx, gw = torch.autograd.grad(out, [xb, wb])
    assert gx.dtype == gw.dtype == torch.bfloat16
    # float32 on the bfloat16-rounded inputs: only the final rounding differs
    x32, w32 = xb.detach().float().requires_grad_(), wb.detach().float().requires_grad_()
    ref = torch.nn.functional.cross_entropy(x32 @ w32.T, torch.tensor(t))
    rx, rw = torch.autograd.grad(ref, [x32, w32])
    tol = 2 ** -7
    assert abs(float(out.detach()) - float(ref.detach())) <= tol * abs(float(ref.detach()))
    np.testing.assert_allclose(gx.float().numpy(), rx.numpy(), rtol=tol, atol=tol * float(rx.abs().max()))
    np.testing.assert_allclose(gw.float().numpy(), rw.numpy(), rtol=tol, atol=tol * float(rw.abs().max()))
    jnp = jax.numpy
    xj, wj = jnp.asarray(x, dtype=jnp.bfloat16), jnp.asarray(w, dtype=jnp.bfloat16)
    fj = jax.jit(jax.value_and_grad(lambda a, c: L.linear_cross_entropy(a, c, jnp.asarray(t), chunk_size=(16, 32)),
                                    argnums=(0, 1)))
    vj, (gxj, gwj) = fj(xj, wj)
    assert vj.dtype == gxj.dtype == gwj.dtype == jnp.bfloat16
    assert abs(float(vj) - float(ref.detach())) <= tol * abs(float(ref.detach()))
    np.testing.assert_allclose(np.asarray(gxj, dtype=np.float32), rx.numpy(), rtol=tol,
                               atol=tol * float(rx.abs().max()))


def test_all_ignored_mean_is_nan_with_zero_gradient():
    torch = _torch()
    x, w, b, _, _ = _inputs()
    xt = torch.tensor(x, requires_grad=True)
    out = L.linear_cross_entropy(xt, torch.tensor(w), torch.full((N,), -100))
    assert math.isnan(float(out))
    (g,) = torch.autograd.grad(out, [xt])
    assert torch.equal(g, torch.zeros_like(g))
    assert float(L.linear_cross_entropy(x, w, np.full((N,), -100), reduction="sum")) == 0.0


@pytest.mark.parametrize("reduction, want", [("mean", math.nan), ("sum", 0.0)])
def test_empty_batch(reduction, want):
    torch = _torch()
    x = torch.zeros((0, D), dtype=torch.float64, requires_grad=True)
    w = torch.randn(V, D, dtype=torch.float64, requires_grad=True)
    out = L.linear_cross_entropy(x, w, torch.zeros((0,), dtype=torch.int64), reduction=reduction)
    assert (math.isnan(float(out)) if math.isnan(want) else float(out) == want)
    if reduction == "sum":
        gx, gw = torch.autograd.grad(out, [x, w])
        assert gx.shape == (0, D) and torch.equal(gw, torch.zeros_like(gw))
    none = L.linear_cross_entropy(np.zeros((0, D)), np.ones((V, D)), np.zeros((0,), np.int64), reduction="none")
    assert none.shape == (0,)


def test_nan_input_row_and_ignored_rows():
    x, w, b, t, _ = _inputs(ignore=False)
    t[3] = -100
    x[1, 0] = np.nan
    x[3, 2] = np.nan  # an ignored row: silenced
    out = L.linear_cross_entropy(x, w, t, linear_bias=b, reduction="none", chunk_size=(2, 4))
    assert np.isnan(out[1]) and out[3] == 0.0
    assert np.isfinite(np.delete(out, 1)).all()
    assert np.isnan(L.linear_cross_entropy(x, w, t, linear_bias=b))
    w[5, 1] = np.nan  # a weight row every row reads
    assert np.isnan(L.linear_cross_entropy(x, w, t, reduction="none")[[0, 2, 4]]).all()


def test_extreme_logits_online_lse_and_ignore_index_none():
    # logits of ~1e4 in one vocabulary chunk, the others far below: the online shift keeps them
    x = np.array([[1.0, 0.0], [0.0, 1.0]])
    w = np.array([[-1e4, 0.0], [3.0, -2e3], [1e4, 1.0], [0.0, 1e4]])
    t = np.array([1, 3])
    want = _numpy_lce(x, w, None, t, None, reduction="none")
    got = L.linear_cross_entropy(x, w, t, reduction="none", chunk_size=(1, 1), ignore_index=None)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert np.isfinite(want).all()


def test_docstring_example_runs():
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner()
    # the namespace of the docstring contract (tests/test_docstrings.py)
    for test in finder.find(L.linear_cross_entropy, "linear_cross_entropy", globs={"losses": L, "np": np}):
        runner.run(test)
    assert runner.tries >= 1 and runner.failures == 0


@pytest.mark.parametrize("args, kw, err, match", [
    ((np.ones((3, 4)), np.ones((5, 3)), np.zeros(3, np.int64)), {}, ValueError, r"linear_weight must have the shape \(V, 4\)"),
    ((np.ones((3, 4)), np.ones(5), np.zeros(3, np.int64)), {}, ValueError, "linear_weight"),
    ((np.ones((3, 4)), np.ones((5, 4)), np.zeros(3, np.int64)), {"linear_bias": np.ones(4)}, ValueError,
     r"linear_bias must have the shape \(5,\)"),
    ((np.ones((3, 4)), np.ones((5, 4)), np.zeros(2, np.int64)), {}, ValueError, r"target must have shape \(3,\)"),
    ((np.ones((3, 4)), np.ones((5, 4)), np.zeros(3)), {}, TypeError, "class indices"),
    ((np.ones((3, 4)), np.ones((5, 4)), np.zeros(3, np.int64)), {"weight": np.ones(4)}, ValueError,
     r"weight must be a 1-D array of one weight per class, shape \(5,\)"),
    ((np.ones((3, 4)), np.ones((5, 4)), np.array([0, 5, 1])), {}, ValueError, r"target must hold class indices in \[0, 4\]"),
    ((np.ones((3, 4)), np.ones((5, 4)), np.zeros(3, np.int64)), {"chunk_size": 0}, ValueError, "chunk_size"),
    ((np.ones((3, 4)), np.ones((5, 4)), np.zeros(3, np.int64)), {"chunk_size": (2, 3, 4)}, ValueError, "chunk_size"),
    ((np.ones((3, 4)), np.ones((5, 4)), np.zeros(3, np.int64)), {"label_smoothing": 1.5}, ValueError, "label_smoothing"),
    ((np.ones((3, 4)), np.ones((5, 4)), np.zeros(3, np.int64)), {"ignore_index": 1.0}, TypeError, "ignore_index"),
    ((np.ones((3, 4)), np.ones((5, 4)), np.zeros(3, np.int64)), {"reduction": "batchmean"}, ValueError, "reduction"),
    ((np.ones((3, 4), np.int64), np.ones((5, 4)), np.zeros(3, np.int64)), {}, TypeError, "input"),
    ((np.ones((3, 4)), np.ones((5, 4), np.int64), np.zeros(3, np.int64)), {}, TypeError, "linear_weight"),
])
def test_errors(args, kw, err, match):
    with pytest.raises(err, match=match):
        L.linear_cross_entropy(*args, **kw)


def test_errors_share_cross_entropy_messages():
    z, t = np.ones((3, 5)), np.array([0, 7, 1])
    with pytest.raises(ValueError) as ce:
        L.cross_entropy(z, t)
    with pytest.raises(ValueError) as lce:
        L.linear_cross_entropy(np.ones((3, 4)), np.ones((5, 4)), t)
    assert str(ce.value) == str(lce.value)


def test_second_backward_is_refused():
    """The "mean"/"sum" gradients are computed in the forward pass and scaled in place by the
    backward pass: a second backward through the same call would scale them twice."""
    torch = _torch()
    x, w, _, t, _ = _inputs()
    xt = torch.tensor(x, requires_grad=True)
    out = L.linear_cross_entropy(xt, torch.tensor(w), torch.tensor(t), chunk_size=4)  # the chunked path
    (g1,) = torch.autograd.grad(out, [xt], retain_graph=True)
    ref = torch.autograd.grad(torch.nn.functional.cross_entropy(xt @ torch.tensor(w).T, torch.tensor(t)), [xt])[0]
    np.testing.assert_allclose(g1.numpy(), ref.numpy(), rtol=1e-12, atol=1e-14)
    with pytest.raises(RuntimeError, match="second backward"):
        torch.autograd.grad(out, [xt])


@pytest.mark.parametrize("reduction", ["mean", pytest.param("none", marks=pytest.mark.slow)])
def test_under_vmap_and_per_sample_gradients(reduction):
    """``torch.func.vmap`` / ``jax.vmap`` over a leading batch of sequences, gradients of the
    vmapped call (``.backward()``, ``torch.func.grad``) and per-sequence gradients
    (``vmap(grad)``): values against the float64 formula, gradients against autodiff of the
    plain formula ``cross_entropy(x @ W.T, t)`` (through the library's ``cross_entropy``)."""
    torch = _torch()
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    x, w = RNG.normal(size=(3, 6, D)), RNG.normal(size=(V, D))
    t = RNG.integers(0, V, size=(3, 6))
    t[:, -1] = -100
    want = np.stack([_numpy_lce(x[i], w, None, t[i], None, reduction=reduction) for i in range(3)])
    kw = {"reduction": reduction, "chunk_size": (4, 5)}

    def total(out, xp):  # a weighted sum, so that every output element matters
        shape = want.shape[1:]
        return xp.sum(out * xp.asarray(np.linspace(0.5, 1.5, int(np.prod(shape))).reshape(shape)))

    def ours(xs, ts, W, xp):
        return total(L.linear_cross_entropy(xs, W, ts, **kw), xp)

    def plain(xs, ts, W, xp):
        return total(L.cross_entropy(xp.matmul(xs, W.T) if xp is jnp else xs @ W.T, ts, reduction=reduction), xp)

    tx, tw, tt = torch.tensor(x), torch.tensor(w), torch.tensor(t)
    got = torch.func.vmap(lambda a, b, W: L.linear_cross_entropy(a, W, b, **kw), (0, 0, None))(tx, tt, tw)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-12)

    # gradient of the vmapped sum: .backward() and torch.func.grad
    def batched(f):
        return lambda W, a=tx, b=tt: torch.func.vmap(lambda u, v: f(u, v, W, torch), (0, 0))(a, b).sum()

    ref_w = torch.func.grad(batched(plain))(tw)
    np.testing.assert_allclose(torch.func.grad(batched(ours))(tw).numpy(), ref_w.numpy(), rtol=1e-10, atol=1e-12)
    leaf = tw.clone().requires_grad_()
    batched(ours)(leaf).backward()
    np.testing.assert_allclose(leaf.grad.numpy(), ref_w.numpy(), rtol=1e-10, atol=1e-12)

    # per-sequence gradients of the input
    per = torch.func.vmap(torch.func.grad(lambda a, b: ours(a, b, tw, torch)))(tx, tt)
    ref = torch.func.vmap(torch.func.grad(lambda a, b: plain(a, b, tw, torch)))(tx, tt)
    np.testing.assert_allclose(per.numpy(), ref.numpy(), rtol=1e-10, atol=1e-12)

    # the test session runs JAX with x64 (conftest)
    jx, jw, jt = jnp.asarray(x), jnp.asarray(w), jnp.asarray(t)
    got = jax.vmap(lambda a, b: L.linear_cross_entropy(a, jw, b, **kw))(jx, jt)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-10, atol=1e-12)
    per = jax.jit(jax.vmap(jax.grad(lambda a, b: ours(a, b, jw, jnp))))(jx, jt)
    np.testing.assert_allclose(np.asarray(per), ref.numpy(), rtol=1e-10, atol=1e-12)
    gw = jax.grad(lambda W: jnp.sum(jax.vmap(lambda a, b: ours(a, b, W, jnp))(jx, jt)))(jw)
    np.testing.assert_allclose(np.asarray(gw), ref_w.numpy(), rtol=1e-10, atol=1e-12)
