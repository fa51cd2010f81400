"""Sequence targets (seq2seq teacher forcing) with cross_entropy: no reshape needed.

Two layouts, both compared with ``torch.nn.functional.cross_entropy`` on float64 inputs
(values and gradients to 1e-12):

* torch's ``(N, C, L)`` logits with ``(N, L)`` targets (class axis 1, the default);
* decoder output ``(B, L, V)`` with ``(B, L)`` targets via ``axis=-1`` (torch needs a
  ``permute(0, 2, 1)`` or a ``reshape(-1, V)``).

Padding positions hold ``ignore_index`` and are excluded from the mean's denominator.
"""
import numpy as np
import pytest

import losses as L

torch = pytest.importorskip("torch")
F = torch.nn.functional

PAD = -100


def _batch(rng, b=4, length=6, v=7, pad=PAD):
    logits = rng.normal(size=(b, length, v)) * 2
    tokens = rng.integers(0, v, size=(b, length))
    lengths = np.array([6, 3, 1, 5])[:b]
    tokens[np.arange(length)[None, :] >= lengths[:, None]] = pad  # right padding
    return logits, tokens


def _grad(out, x):
    return torch.autograd.grad(out, x)[0].numpy()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_blv_axis_last_matches_torch_permuted_and_reshaped(reduction):
    logits, tokens = _batch(np.random.default_rng(0))
    a = torch.tensor(logits, requires_grad=True)
    b = torch.tensor(logits, requires_grad=True)
    t = torch.tensor(tokens)
    ours = L.cross_entropy(a, t, axis=-1, ignore_index=PAD, reduction=reduction)
    theirs = F.cross_entropy(b.permute(0, 2, 1), t, ignore_index=PAD, reduction=reduction)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
    v = torch.tensor(np.random.default_rng(1).uniform(0.5, 1.5, size=tuple(ours.shape)))
    g_ours = _grad((ours * v).sum(), a)
    np.testing.assert_allclose(g_ours, _grad((theirs * v).sum(), b), rtol=1e-12, atol=1e-12)
    if reduction != "none":
        c = torch.tensor(logits, requires_grad=True)
        flat = F.cross_entropy(c.reshape(-1, logits.shape[-1]), t.reshape(-1), ignore_index=PAD, reduction=reduction)
        np.testing.assert_allclose(ours.item(), flat.item(), rtol=1e-12)
        np.testing.assert_allclose(g_ours / v.numpy(), _grad(flat, c), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_ncl_layout_matches_torch(reduction):
    logits, tokens = _batch(np.random.default_rng(2))
    ncl = np.moveaxis(logits, -1, 1)  # (N, C, L)
    a = torch.tensor(ncl, requires_grad=True)
    b = torch.tensor(ncl, requires_grad=True)
    t = torch.tensor(tokens)
    ours = L.cross_entropy(a, t, ignore_index=PAD, reduction=reduction)
    theirs = F.cross_entropy(b, t, ignore_index=PAD, reduction=reduction)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
    v = torch.tensor(np.random.default_rng(3).uniform(0.5, 1.5, size=tuple(ours.shape)))
    np.testing.assert_allclose(_grad((ours * v).sum(), a), _grad((theirs * v).sum(), b), rtol=1e-12, atol=1e-12)


def test_mean_divides_by_real_tokens_only():
    logits, tokens = _batch(np.random.default_rng(4))
    keep = tokens != PAD
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    nll = -np.take_along_axis(logp, np.where(keep, tokens, 0)[..., None], -1)[..., 0]
    want = nll[keep].sum() / keep.sum()  # per-token mean over real tokens (torch's rule)
    np.testing.assert_allclose(L.cross_entropy(logits, tokens, axis=-1, ignore_index=PAD), want, rtol=1e-13)
    none = L.cross_entropy(logits, tokens, axis=-1, ignore_index=PAD, reduction="none")
    np.testing.assert_array_equal(none[~keep], 0.0)


def test_custom_pad_id_weights_and_label_smoothing():
    rng = np.random.default_rng(5)
    logits, tokens = _batch(rng, pad=0)  # pad token id 0 (a valid class id)
    w = rng.uniform(0.5, 2.0, size=(7,))
    a = torch.tensor(logits, requires_grad=True)
    b = torch.tensor(logits, requires_grad=True)
    t, wt = torch.tensor(tokens), torch.tensor(w)
    ours = L.cross_entropy(a, t, axis=-1, ignore_index=0, weight=wt, label_smoothing=0.1)
    theirs = F.cross_entropy(b.permute(0, 2, 1), t, ignore_index=0, weight=wt, label_smoothing=0.1)
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)
    np.testing.assert_allclose(_grad(ours, a), _grad(theirs, b), rtol=1e-12, atol=1e-12)


def test_all_padding_is_nan_with_zero_gradient():
    logits = torch.randn(2, 3, 5, dtype=torch.float64, requires_grad=True)
    t = torch.full((2, 3), PAD)
    out = L.cross_entropy(logits, t, axis=-1, ignore_index=PAD)
    assert torch.isnan(out) and torch.isnan(F.cross_entropy(logits.permute(0, 2, 1), t, ignore_index=PAD))
    g = torch.autograd.grad(out, logits)[0]
    assert torch.equal(g, torch.zeros_like(g))


def test_out_of_range_token_raises_but_padding_is_fine():
    logits = np.zeros((1, 3, 4))
    with pytest.raises(ValueError, match=r"class indices in \[0, 3\] \(or ignore_index=-100\)"):
        L.cross_entropy(logits, np.array([[1, 4, PAD]]), axis=-1)
    with pytest.raises(ValueError, match=r"target must have shape \(1, 3\)"):
        L.cross_entropy(logits, np.array([[1, 2]]), axis=-1)


def test_jax_jit_sequence_loss():
    jax = pytest.importorskip("jax")
    logits, tokens = _batch(np.random.default_rng(6))
    f = jax.jit(jax.value_and_grad(lambda z, t: L.cross_entropy(z, t, axis=-1, ignore_index=PAD)))
    val, g = f(jax.numpy.asarray(logits), jax.numpy.asarray(tokens))
    a = torch.tensor(logits, requires_grad=True)
    ref = F.cross_entropy(a.permute(0, 2, 1), torch.tensor(tokens), ignore_index=PAD)
    np.testing.assert_allclose(float(val), ref.item(), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(g), _grad(ref, a), rtol=1e-12, atol=1e-12)
