"""losses.nn: the generated torch.nn.Module classes against their functions."""
from __future__ import annotations

import copy
import importlib
import inspect
import pickle
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import losses  # noqa: E402
import losses.nn as lnn  # noqa: E402
from losses.backends import frontdoor  # noqa: E402
from losses.conformance import engine  # noqa: E402
from losses.conformance.cases import all_cases  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SPECS = {s.name: s for s in frontdoor.specs("torch")}
NON_LOSSES = ("class_weights", "pos_weight_from_counts", "smooth_labels", "value_checks", "pairwise_distance",
              "cosine_similarity", "signed_distance_map", "boundary_distance_map", "n_step_returns", "lambda_returns",
              "vtrace_returns", "general_off_policy_returns", "general_off_policy_returns_from_action_values",
              "dynamic_weight_average", "renormalize_task_weights", "curriculum_weights", "self_paced_weights",
              "ordinal_targets", "path_length_mean_update", "batch_hard_mining", "semi_hard_mining")
CASES = [c for c in all_cases() if c.loss_name in SPECS and (c.backends is None or "torch" in c.backends)]


def split(spec, values: dict):
    """A case's arguments -> (constructor keywords, forward positionals, forward keywords)."""
    positional = [p.name for p in spec.arrays]
    per_call = {p.name for p in spec.per_call}
    ctor, call_kw = {}, {}
    for k, v in values.items():
        if k in per_call:
            call_kw[k] = v
        elif k not in positional:
            ctor[k] = v
    given = [i for i, n in enumerate(positional) if n in values]
    args = [values.get(n) for n in positional[: max(given) + 1]] if given else []
    return ctor, args, call_kw


def test_every_public_loss_has_a_module_and_nothing_else_does():
    names = [n for n in losses.__all__ if n not in NON_LOSSES]
    assert [s.name for s in frontdoor.specs("torch")] == names
    assert lnn.__all__[1:] == [SPECS[n].torch_name for n in names]
    for n in names:
        cls = getattr(lnn, SPECS[n].torch_name)
        assert cls.function is getattr(losses, n)
        assert cls.__module__ == "losses.nn" and cls.__qualname__ == cls.__name__
        assert issubclass(cls, torch.nn.Module)
        assert cls.__name__ in dir(lnn)
    assert len(set(lnn.__all__)) == len(lnn.__all__)


def test_names_follow_torch_and_accept_torchs_keywords():
    expected = {"sigmoid_focal_loss": "SigmoidFocalLoss", "dice_loss": "DiceLoss", "nt_xent_loss": "NTXentLoss",
                "info_nce_loss": "InfoNCELoss", "clip_loss": "CLIPLoss", "ppo_clip_loss": "PPOClipLoss",
                "dice_ce_loss": "DiceCELoss", "box_iou_loss": "BoxIoULoss", "vae_loss": "VAELoss",
                "mean_absolute_percentage_error": "MeanAbsolutePercentageErrorLoss",
                "multilabel_soft_margin_loss": "MultiLabelSoftMarginLoss", "gradnorm_loss": "GradNormLoss"}
    for fn, name in expected.items():
        assert SPECS[fn].torch_name == name
    for name in frontdoor.TORCH_NAMES.values():
        torch_cls = getattr(torch.nn, name)  # a real torch module name
        theirs = inspect.signature(torch_cls.__init__).parameters
        ours = inspect.signature(getattr(lnn, name)).parameters
        for kw, p in theirs.items():
            if kw in ("self", "size_average", "reduce"):
                continue
            assert kw in ours, f"{name} lacks torch's keyword {kw}"
            assert ours[kw].default == p.default or (ours[kw].default is None and p.default is None), (name, kw)


def test_hyperparameters_listed_with_the_functions_defaults():
    for s in SPECS.values():
        cls = getattr(lnn, s.torch_name)
        sig = inspect.signature(s.function).parameters
        assert cls.hyperparameters == tuple(n for n in sig if n not in {p.name for p in s.arrays + s.per_call})
        for name, p in inspect.signature(cls).parameters.items():
            assert p.kind is p.KEYWORD_ONLY and p.default is sig[name].default


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_module_equals_function_on_the_cases(case):
    """Values and gradients of the module and of the function on every case, torch float64."""
    engine.setup()
    spec = SPECS[case.loss_name]
    ad = engine.harness("torch")

    def run(through_module: bool):
        arrays = engine._native_args(ad, engine._inputs(case), "float64", None)
        for k in case.diff:
            arrays[k] = arrays[k].detach().requires_grad_(True)
        if through_module:
            ctor, args, call_kw = split(spec, {**arrays, **case.kwargs})
            out = getattr(lnn, spec.torch_name)(**ctor)(*args, **call_kw)
        else:
            out = case.loss(**arrays, **case.kwargs)
        v = torch.as_tensor(engine._cotangent(case, tuple(out.shape)), dtype=out.dtype)
        wrt = [arrays[k] for k in case.diff]
        grads = torch.autograd.grad((out * v).sum(), wrt, allow_unused=True) if wrt else ()
        return out.detach(), grads

    out, grads = run(True)
    want, want_grads = run(False)
    torch.testing.assert_close(out, want, rtol=0, atol=0, equal_nan=True)
    for k, g, w in zip(case.diff, grads, want_grads):
        if w is None:
            assert g is None, k
        else:
            torch.testing.assert_close(g, w, rtol=0, atol=0, equal_nan=True, msg=f"gradient wrt {k}")


def test_buffers_move_save_load_copy_and_pickle():
    w = torch.tensor([1.0, 2.0, 0.5])
    m = lnn.CrossEntropyLoss(weight=w, label_smoothing=0.1, ignore_index=2)
    assert [n for n, _ in m.named_buffers()] == ["weight"]
    assert m.to(torch.float64).weight.dtype == torch.float64
    assert torch.equal(m.weight, w.double())
    state = m.state_dict()
    assert list(state) == ["weight"]
    fresh = lnn.CrossEntropyLoss(weight=torch.ones(3, dtype=torch.float64), label_smoothing=0.1, ignore_index=2)
    fresh.load_state_dict(state)
    assert torch.equal(fresh.weight, w.double())
    x = torch.randn(6, 3, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 1, 0, 1])
    want = losses.cross_entropy(x, y, weight=w.double(), label_smoothing=0.1, ignore_index=2)
    for other in (fresh, copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert type(other) is lnn.CrossEntropyLoss
        assert other.label_smoothing == 0.1 and other.ignore_index == 2
        torch.testing.assert_close(other(x, y), want, rtol=0, atol=0)
    # a number where the function takes a number: a plain attribute, no buffer
    b = lnn.BCEWithLogitsLoss(pos_weight=3.0)
    assert dict(b.named_buffers()) == {} and b.pos_weight == 3.0
    b = lnn.BCEWithLogitsLoss(pos_weight=[3.0, 1.0])  # a list: a tensor buffer
    assert torch.equal(b.state_dict()["pos_weight"], torch.tensor([3.0, 1.0]))
    # None: an empty buffer slot; state_dict carries only tensors
    assert lnn.CrossEntropyLoss().state_dict() == {}


def test_per_call_arrays_and_weight_override():
    rng = np.random.default_rng(0)
    x, t = torch.tensor(rng.normal(size=(5, 4))), torch.tensor(rng.normal(size=(5, 4)))
    w = torch.tensor(rng.uniform(size=(5, 1)))
    m = lnn.MSELoss(weight=2.0)
    torch.testing.assert_close(m(x, t), losses.mse_loss(x, t, weight=2.0), rtol=0, atol=0)
    torch.testing.assert_close(m(x, t, weight=w), losses.mse_loss(x, t, weight=w), rtol=0, atol=0)
    lp, old, adv = (torch.tensor(rng.normal(size=6)) for _ in range(3))
    ppo = lnn.PPOClipLoss(clip_range=0.1)
    torch.testing.assert_close(ppo(lp, adv, old_log_prob=old),
                               losses.ppo_clip_loss(lp, adv, old_log_prob=old, clip_range=0.1), rtol=0, atol=0)


def test_repr_and_errors():
    assert repr(lnn.CrossEntropyLoss()) == "CrossEntropyLoss()"
    assert repr(lnn.HuberLoss(delta=2.0, reduction="sum")) == "HuberLoss(delta=2.0, reduction='sum')"
    assert repr(lnn.CrossEntropyLoss(weight=torch.ones(3))) == \
        "CrossEntropyLoss(weight=<tensor of shape (3,), torch.float32>)"
    assert repr(lnn.SuperLoss(tau=1.5)) == "SuperLoss(tau=1.5)"
    with pytest.raises(TypeError, match="label_smothing"):
        lnn.CrossEntropyLoss(label_smothing=0.1)
    with pytest.raises(TypeError, match="missing required keyword argument 'tau'"):
        lnn.SuperLoss()
    with pytest.raises(TypeError, match="weight must be an array or None, got float"):
        lnn.CrossEntropyLoss(weight=1.0)
    with pytest.raises(TypeError, match=r"positionally, got 1"):
        lnn.MSELoss()(torch.zeros(3))
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        lnn.MSELoss()(torch.zeros(3), torch.zeros(3), target=torch.zeros(3))
    with pytest.raises(ValueError, match="reduction"):  # the function's own check
        lnn.MSELoss(reduction="avg")(torch.zeros(3), torch.zeros(3))


def test_submodule_callable_moves_with_the_module():
    feat = torch.nn.Linear(4, 3)
    m = lnn.PerceptualLoss(feature_extractor=feat)
    assert dict(m.named_children()) == {"feature_extractor": feat}
    m.to(torch.float64)
    assert feat.weight.dtype == torch.float64
    x, t = torch.randn(2, 4, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64)
    torch.testing.assert_close(m(x, t), losses.perceptual_loss(x, t, feat), rtol=0, atol=0)


def test_inside_a_model_and_by_dotted_path():
    class Net(torch.nn.Module):
        def __init__(self, criterion):
            super().__init__()
            self.body = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
            self.criterion = criterion

        def forward(self, x, y):
            return self.criterion(self.body(x), y)

    # what Hydra's instantiate does with {"_target_": "losses.nn.BCEWithLogitsLoss", "pos_weight": [...]}
    target, kwargs = "losses.nn.BCEWithLogitsLoss", {"pos_weight": [2.0, 0.5], "reduction": "sum"}
    module_name, _, cls_name = target.rpartition(".")
    criterion = getattr(importlib.import_module(module_name), cls_name)(**kwargs)
    assert type(criterion) is lnn.BCEWithLogitsLoss
    net = Net(criterion).to(torch.float64)
    assert net.criterion.pos_weight.dtype == torch.float64
    assert "criterion.pos_weight" in net.state_dict()
    x, y = torch.randn(5, 3, dtype=torch.float64), torch.rand(5, 2, dtype=torch.float64)
    want = losses.binary_cross_entropy_with_logits(net.body(x), y, pos_weight=torch.tensor([2.0, 0.5]).double(),
                                                   reduction="sum")
    torch.testing.assert_close(net(x, y), want, rtol=0, atol=0)
    # a twin of torch's own module on the same inputs
    theirs = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.0, 0.5]).double(), reduction="sum")
    torch.testing.assert_close(net(x, y), theirs(net.body(x), y), rtol=1e-12, atol=1e-12)


def test_twenty_training_steps_match_the_functions():
    """A small segmentation-ish model trained 20 steps with the modules and with the functions."""
    torch.manual_seed(0)
    x = torch.randn(16, 6)
    y_multi = (torch.rand(16, 3) > 0.6).double()
    y_class = torch.randint(0, 3, (16,))
    base = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)).double()
    nets = [copy.deepcopy(base), copy.deepcopy(base)]
    opts = [torch.optim.SGD(n.parameters(), lr=0.5, momentum=0.9) for n in nets]
    focal, dice = lnn.SigmoidFocalLoss(alpha=0.3, gamma=1.5), lnn.DiceLoss(smooth=1.0)
    history = []
    for _ in range(20):
        values = []
        for i, (net, opt) in enumerate(zip(nets, opts)):
            opt.zero_grad()
            z = net(x.double())
            if i == 0:
                loss = focal(z, y_multi) + dice(z, y_class)
            else:
                loss = (losses.sigmoid_focal_loss(z, y_multi, alpha=0.3, gamma=1.5)
                        + losses.dice_loss(z, y_class, smooth=1.0))
            loss.backward()
            opt.step()
            values.append(loss.detach())
        torch.testing.assert_close(values[0], values[1], rtol=0, atol=0)
        history.append(float(values[0]))
        for p, q in zip(*(n.parameters() for n in nets)):
            torch.testing.assert_close(p, q, rtol=0, atol=0)
    assert history[-1] < history[0]  # it trains


@pytest.mark.parametrize("backend", ["eager", pytest.param("aot_eager", marks=pytest.mark.slow)])
def test_compiled_fullgraph(backend):
    """One graph for a module with a buffer (dynamo's "eager" backend: the capture without
    the compile; the slow tier differentiates through the captured graph)."""
    m = lnn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 0.5]), label_smoothing=0.1)
    x, y = torch.randn(8, 3, requires_grad=True), torch.randint(0, 3, (8,))
    compiled = torch.compile(m, fullgraph=True, backend=backend)
    got = compiled(x, y)
    torch.testing.assert_close(got, m(x, y), rtol=1e-6, atol=1e-6)
    (g,) = torch.autograd.grad(got, x)
    (w,) = torch.autograd.grad(m(x, y), x)
    torch.testing.assert_close(g, w, rtol=1e-6, atol=1e-6)


def test_each_class_compiles_on_its_own():
    """torch.compile caches graphs per code object (8 by default): each class has its own
    forward, so compiling many losses in one process does not exhaust one shared cache."""
    codes = {id(getattr(lnn, s.torch_name).forward.__code__) for s in SPECS.values()}
    assert len(codes) == len(SPECS)
    assert lnn.DiceLoss.forward.__qualname__ == "DiceLoss.forward"


@pytest.mark.slow
@pytest.mark.parametrize("case", [c for c in CASES if c.name == "random" or c is next(
    d for d in CASES if d.loss_name == c.loss_name)], ids=lambda c: c.id)
def test_every_module_compiles_fullgraph(case):
    engine.setup()
    spec = SPECS[case.loss_name]
    arrays = engine._native_args(engine.harness("torch"), engine._inputs(case), "float64", None)
    ctor, args, call_kw = split(spec, {**arrays, **case.kwargs})
    module = getattr(lnn, spec.torch_name)(**ctor)
    with losses.value_checks(False):
        got = torch.compile(module, fullgraph=True)(*args, **call_kw)
    torch.testing.assert_close(got, module(*args, **call_kw), rtol=1e-9, atol=1e-9, equal_nan=True)


@pytest.mark.parametrize("framework,path", [("torch", "losses/nn.pyi"), ("keras", "losses/keras.pyi")])
def test_editor_stubs_are_current(framework, path):
    """The stubs are the generator's text (regenerate: python -c "from losses.backends import
    frontdoor; open('losses/nn.pyi', 'w').write(frontdoor.stub('torch'))", same for keras)."""
    assert (ROOT / path).read_text() == frontdoor.stub(framework)
    text = frontdoor.stub(framework)
    for s in frontdoor.specs(framework):
        assert f"class {frontdoor.class_name(s, framework)}(" in text


def test_family_pages_list_the_classes():
    for family, names in losses.FAMILIES.items():
        section = frontdoor.docs_section([getattr(losses, n) for n in names])
        page = (ROOT / "docs" / f"{family}.md").read_text()
        if not section:
            assert frontdoor.DOCS_HEADING not in page, family
            continue
        assert page.endswith(section), f"docs/{family}.md: its last section is not the generated class list"
        for n in names:
            if n in SPECS:
                assert f"| `{n}` | `losses.nn.{SPECS[n].torch_name}` |" in section
