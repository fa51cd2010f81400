"""Plots of each element-wise loss and its gradient, for the docs pages.

    pip install -c .ci/constraints.txt -e ".[docs]"   # matplotlib + torch
    python docs/make_plots.py                          # writes docs/img/*.png

Each curve is the library's own function evaluated on torch float64 tensors; the gradient
comes from torch autograd (the conformance suite proves it equals JAX's and NumPy finite
differences), so the plots show exactly what the code computes, kinks included.
"""
from __future__ import annotations

import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

import losses as L  # noqa: E402

OUT = pathlib.Path(__file__).parent / "img"
X = torch.linspace(-4, 4, 801, dtype=torch.float64)


def _zeros():
    return torch.zeros_like(X)


def _ones():
    return torch.ones_like(X)


def _two_class(fn):
    # logit margin m: logits [m, 0], target class 0
    def f(m):
        return fn(torch.stack([m, torch.zeros_like(m)], dim=1), torch.zeros(m.shape[0], dtype=torch.int64))

    return f


FIGURES = {
    "regression": ("residual x - y", [
        ("mse_loss", lambda x: L.mse_loss(x, _zeros(), reduction="none")),
        ("l1_loss", lambda x: L.l1_loss(x, _zeros(), reduction="none")),
        ("huber_loss(delta=1)", lambda x: L.huber_loss(x, _zeros(), delta=1.0, reduction="none")),
        ("smooth_l1_loss(beta=0.5)", lambda x: L.smooth_l1_loss(x, _zeros(), beta=0.5, reduction="none")),
        ("log_cosh_loss", lambda x: L.log_cosh_loss(x, _zeros(), reduction="none")),
        ("quantile_loss(q=0.8)", lambda x: L.quantile_loss(x, _zeros(), q=0.8, reduction="none")),
    ]),
    "classification": ("logit (margin) of the true class", [
        ("binary_cross_entropy_with_logits, y=1", lambda z: L.binary_cross_entropy_with_logits(z, _ones(), reduction="none")),
        ("sigmoid_focal_loss(gamma=2), y=1", lambda z: L.sigmoid_focal_loss(z, _ones(), reduction="none")),
        ("sigmoid_focal_loss(gamma=0.5), y=1", lambda z: L.sigmoid_focal_loss(z, _ones(), gamma=0.5, reduction="none")),
        ("cross_entropy, 2 classes", _two_class(lambda z, t: L.cross_entropy(z, t, reduction="none"))),
        ("cross_entropy(label_smoothing=0.2)", _two_class(lambda z, t: L.cross_entropy(z, t, label_smoothing=0.2, reduction="none"))),
        ("softmax_focal_loss(gamma=2)", _two_class(lambda z, t: L.softmax_focal_loss(z, t, reduction="none"))),
    ]),
}


def _margin_figure():
    items = []
    if hasattr(L, "hinge_loss"):
        items.append(("hinge_loss, y=+1", lambda s: L.hinge_loss(s, _ones(), reduction="none")))
    if hasattr(L, "squared_hinge_loss"):
        items.append(("squared_hinge_loss, y=+1", lambda s: L.squared_hinge_loss(s, _ones(), reduction="none")))
    if hasattr(L, "soft_margin_loss"):
        items.append(("soft_margin_loss, y=+1", lambda s: L.soft_margin_loss(s, _ones(), reduction="none")))
    return ("score", items)


def plot(name, xlabel, items):
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    for label, fn in items:
        x = X.clone().requires_grad_(True)
        y = fn(x)
        (g,) = torch.autograd.grad(y.sum(), x)
        a.plot(X, y.detach(), label=label)
        b.plot(X, g, label=label)
    a.set_title("loss")
    b.set_title("gradient")
    for ax in (a, b):
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    a.legend(fontsize=7)
    fig.tight_layout()
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{name}.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def main():
    figures = dict(FIGURES)
    figures["margin"] = _margin_figure()
    for name, (xlabel, items) in figures.items():
        if items:
            print(plot(name, xlabel, items))


if __name__ == "__main__":
    main()
