"""The one generator behind the framework front doors (``losses.nn``, ``losses.keras``).

It reads a public function's signature and annotations and decides, once for every framework:

- the **array arguments**: the positional parameters annotated with an array type, in the
  function's order (``forward(input, target)``, ``forward(anchor, positive, negative)``);
- the **per-call arrays**: keyword-only arrays that are data of one batch, not a setting
  (``distillation_loss(target=)``, ``actor_critic_loss(advantages=)``,
  ``ppo_clip_loss(old_log_prob=)``): a module's ``forward`` takes them as keywords;
- the **array hyper-parameters**: the other keyword-only parameters annotated with an array
  type (``weight``, ``pos_weight``, ``ce_weight``, ``lambda_``...). ``kind`` says whether a
  number is accepted too (``ArrayT | float``);
- the **callables** (``feature_extractor``, ``distance_function``) and the **scalar
  hyper-parameters** (everything else: numbers, flags, ``Literal`` choices, ``reduction``);
- the class **names**: torch's module name where torch has the loss, otherwise the function's
  name in CamelCase ending in ``Loss`` (``DiceLoss``, ``NTXentLoss``); Keras's style for Keras
  (``CrossEntropy``, ``Dice``, ``MSE``: no ``Loss`` suffix, as ``keras.losses.Huber``);
- whether a Keras loss exists: two required array arguments, one of them the target
  (``target``, ``labels``, ``boxes2``, ``distance_maps``: Keras's ``y_true``), a per-sample form
  (``reduction="none"``) and no callable argument (a Keras config must be serialisable).

No framework is imported here; ``torch_modules.py`` and ``keras_losses.py`` build the classes.
"""
from __future__ import annotations

import collections.abc
import importlib
import inspect
import types
import typing
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

#: torch's module name of each loss torch has (the generated class takes this name)
TORCH_NAMES = {
    "mse_loss": "MSELoss",
    "l1_loss": "L1Loss",
    "huber_loss": "HuberLoss",
    "smooth_l1_loss": "SmoothL1Loss",
    "binary_cross_entropy": "BCELoss",
    "binary_cross_entropy_with_logits": "BCEWithLogitsLoss",
    "cross_entropy": "CrossEntropyLoss",
    "nll_loss": "NLLLoss",
    "kl_div": "KLDivLoss",
    "gaussian_nll_loss": "GaussianNLLLoss",
    "poisson_nll_loss": "PoissonNLLLoss",
    "hinge_embedding_loss": "HingeEmbeddingLoss",
    "soft_margin_loss": "SoftMarginLoss",
    "multilabel_soft_margin_loss": "MultiLabelSoftMarginLoss",
    "multi_margin_loss": "MultiMarginLoss",
    "multilabel_margin_loss": "MultiLabelMarginLoss",
    "margin_ranking_loss": "MarginRankingLoss",
    "cosine_embedding_loss": "CosineEmbeddingLoss",
    "triplet_margin_loss": "TripletMarginLoss",
    "triplet_margin_with_distance_loss": "TripletMarginWithDistanceLoss",
    "ctc_loss": "CTCLoss",
}

#: words of function names written in capitals (or their usual spelling) in class names
ACRONYMS = {
    "mse": "MSE", "nll": "NLL", "kl": "KL", "ce": "CE", "nt": "NT", "xent": "Xent", "nce": "NCE",
    "info": "Info", "iou": "IoU", "vae": "VAE", "gan": "GAN", "td": "TD",
    "ppo": "PPO", "f1": "F1", "l1": "L1", "ctc": "CTC", "mcc": "MCC", "dt": "DT",
    "multilabel": "MultiLabel", "gradnorm": "GradNorm", "sac": "SAC", "sarsa": "SARSA", "vtrace": "VTrace",
    "arcface": "ArcFace", "cosface": "CosFace", "sphereface": "SphereFace", "nca": "NCA",
}

#: names no rule gives (CLIP is the model's name; "clip" elsewhere is clipping: PPOClipLoss)
SPECIAL_NAMES = {"clip_loss": "CLIPLoss"}

#: keyword-only arrays that are data of one call, not settings (a module's forward keywords)
PER_CALL = {
    "distillation_loss": ("target",),
    "actor_critic_loss": ("advantages",),
    "ppo_clip_loss": ("old_log_prob",),
}

#: parameter names that are Keras's ``y_true`` (docs/vocabulary.md: what the input is compared with)
Y_TRUE_NAMES = ("target", "labels", "boxes2", "distance_maps")

#: losses whose default settings have no per-sample form (their ``reduction="none"`` is per class
#: or a single number): no Keras loss (tests/test_keras.py checks both directions)
KERAS_NO_PER_SAMPLE = {
    "soft_f1_loss": "the F1 score is a batch statistic: reduction='none' gives one loss per class",
    "lovasz_softmax_loss": "per_image=False (the default) gives one number for the batch",
}

#: hyper-parameters a Keras loss does not take: Keras's own ``reduction`` replaces them
#: (the loss is computed with ``reduction="none"``, where ``mean_over`` has no effect)
KERAS_DROPPED = ("reduction", "mean_over")

REQUIRED = inspect.Parameter.empty


@dataclass(frozen=True)
class Param:
    """One parameter of a public function, as the front doors see it."""

    name: str
    kind: str            # "array", "array_or_number", "callable" or "scalar"
    default: Any         # REQUIRED when the parameter has no default
    annotation: Any

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True)
class Spec:
    """How a public loss function becomes a class."""

    function: Callable[..., Any]
    arrays: tuple[Param, ...]       # forward's positional arguments, in order
    per_call: tuple[Param, ...]     # forward's keyword arrays
    buffers: tuple[Param, ...]      # array hyper-parameters
    hyper: tuple[Param, ...]        # scalar hyper-parameters and callables, in signature order
    torch_name: str
    keras_name: str
    keras_pair: tuple[str, str] | None  # (y_true, y_pred) parameter names, None: no Keras loss

    @property
    def name(self) -> str:
        return self.function.__name__

    @property
    def settings(self) -> tuple[Param, ...]:
        """The constructor's keywords, in the function's order."""
        order = list(inspect.signature(self.function).parameters)
        return tuple(sorted(self.buffers + self.hyper, key=lambda p: order.index(p.name)))

    @property
    def keras_settings(self) -> tuple[Param, ...]:
        return tuple(p for p in self.settings if p.name not in KERAS_DROPPED)


def _union_args(annotation) -> tuple:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return typing.get_args(annotation)
    return (annotation,)


def _is_array_type(t) -> bool:
    from .._typing import Array, ArrayT  # the package's own types (losses/_typing.py)

    return t is ArrayT or t is Array


def _kind(annotation) -> str:
    members = _union_args(annotation)
    if any(typing.get_origin(m) is collections.abc.Callable or m is collections.abc.Callable for m in members):
        return "callable"
    if any(_is_array_type(m) for m in members):
        numbers = [m for m in members if m in (int, float)]
        return "array_or_number" if numbers else "array"
    return "scalar"


def class_words(name: str) -> list[str]:
    """The CamelCase words of a function name (``nt_xent_loss`` -> ``NT Xent Loss``)."""
    return [ACRONYMS.get(w, w[:1].upper() + w[1:]) for w in name.split("_") if w]


def torch_name(name: str) -> str:
    if name in TORCH_NAMES or name in SPECIAL_NAMES:
        return TORCH_NAMES.get(name) or SPECIAL_NAMES[name]
    words = class_words(name)
    return "".join(words) + ("" if words[-1] == "Loss" else "Loss")


def keras_name(name: str) -> str:
    words = class_words(name)
    if len(words) > 1 and words[-1] == "Loss":
        words = words[:-1]
    return "".join(words)


def is_loss(function) -> bool:
    """A public function is a loss (gets classes) when it has a ``reduction`` keyword."""
    return callable(function) and "reduction" in inspect.signature(function).parameters


@lru_cache(maxsize=None)
def spec(function) -> Spec:
    """The front-door description of one public loss function."""
    hints = typing.get_type_hints(function)
    arrays, per_call, buffers, hyper = [], [], [], []
    data_names = PER_CALL.get(function.__name__, ())
    for p in inspect.signature(function).parameters.values():
        param = Param(p.name, _kind(hints.get(p.name, Any)), p.default, hints.get(p.name, Any))
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise TypeError(f"{function.__name__}: *{p.name} cannot become a class argument")
        positional = p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        if param.kind in ("array", "array_or_number"):
            if positional:
                arrays.append(param)
            elif p.name in data_names:
                per_call.append(param)
            else:
                buffers.append(param)
        else:
            hyper.append(param)  # a positional callable (feature_extractor) is a setting too
    names = [p.name for p in arrays]
    required = [p.name for p in arrays if p.required]
    pair = None
    reduction = hints.get("reduction")
    per_sample = reduction is not None and "none" in typing.get_args(reduction)
    if (len(required) == 2 and len(names) == 2 and per_sample and not per_call
            and function.__name__ not in KERAS_NO_PER_SAMPLE
            and not any(p.kind == "callable" for p in hyper)):
        y_true = [n for n in names if n in Y_TRUE_NAMES]
        if len(y_true) == 1:
            pair = (y_true[0], next(n for n in names if n != y_true[0]))
    return Spec(function, tuple(arrays), tuple(per_call), tuple(buffers), tuple(hyper),
                torch_name(function.__name__), keras_name(function.__name__), pair)


def public_losses() -> tuple[Callable[..., Any], ...]:
    """The public loss functions, in ``losses.__all__`` order."""
    package = importlib.import_module("..", __package__)  # losses

    return tuple(getattr(package, n) for n in package.__all__ if is_loss(getattr(package, n)))


def specs(framework: str) -> tuple[Spec, ...]:
    """The specs of the classes of ``framework`` (``"torch"`` or ``"keras"``)."""
    out = tuple(spec(f) for f in public_losses())
    if framework == "keras":
        return tuple(s for s in out if s.keras_pair is not None)
    if framework == "torch":
        return out
    raise ValueError(f"framework must be 'torch' or 'keras', got {framework!r}")


def class_name(s: Spec, framework: str) -> str:
    return s.keras_name if framework == "keras" else s.torch_name


def bind_settings(s: Spec, cls_name: str, settings, kwargs: dict) -> dict:
    """Constructor keywords -> ``{name: value}`` of every setting (defaults filled in).

    Raises ``TypeError`` naming the class and the argument for unknown or missing keywords.
    """
    known = {p.name: p for p in settings}
    unknown = sorted(set(kwargs) - set(known))
    if unknown:
        raise TypeError(f"{cls_name}() got unexpected keyword argument(s) {', '.join(unknown)}; "
                        f"it takes {', '.join(known) or 'none'}")
    out = {}
    for name, p in known.items():
        if name in kwargs:
            out[name] = kwargs[name]
        elif p.required:
            raise TypeError(f"{cls_name}() missing required keyword argument {name!r}")
        else:
            out[name] = p.default
    return out


def signature(s: Spec, settings, extra: tuple = ()) -> inspect.Signature:
    """The constructor's signature shown by ``help()`` and editors (keywords only)."""
    params = [inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=p.default,
                                annotation=p.annotation) for p in settings]
    params += [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=d) for n, d in extra]
    return inspect.Signature(params)


def summary(framework: str) -> list[tuple[str, str]]:
    """``(class name, function name)`` of every generated class of ``framework``."""
    return [(class_name(s, framework), s.name) for s in specs(framework)]


DOCS_HEADING = "## Classes (PyTorch modules, Keras losses)"


def docs_section(functions) -> str:
    """The family page's section naming the generated classes, one line per loss.

    ``functions``: the family's public functions; the text is empty when none is a loss.
    """
    rows = []
    for f in functions:
        if not is_loss(f):
            continue
        s = spec(f)
        keras_cls = f"`losses.keras.{s.keras_name}`" if s.keras_pair else "none"
        rows.append(f"| `{s.name}` | `losses.nn.{s.torch_name}` | {keras_cls} |")
    if not rows:
        return ""
    return "\n".join([
        DOCS_HEADING, "",
        "Generated from the functions (README: \"Use from PyTorch modules\", \"Use from Keras\"); "
        "the constructors take the functions' keywords.", "",
        "| function | `torch.nn.Module` | `keras.losses.Loss` |", "|---|---|---|", *rows, ""])


# ----------------------------------------------------------------------- editor stubs ----
def _render(annotation, array: str) -> str:
    """An annotation as stub text, arrays written as ``array`` (``Tensor`` / ``Any``)."""
    if _is_array_type(annotation):
        return array
    if annotation is type(None) or annotation is None:
        return "None"
    if annotation is Any:
        return "Any"
    if isinstance(annotation, type):
        return annotation.__name__
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        out = []
        for a in args:
            text = _render(a, array)
            if text not in out:
                out.append(text)
        return " | ".join(out)
    if origin is typing.Literal:
        return f"Literal[{', '.join(repr(a) for a in args)}]"
    if origin is collections.abc.Callable:
        return "Callable[..., Any]"
    if origin is collections.abc.Sequence:
        return f"Sequence[{_render(args[0], array)}]"
    return "Any"


def _default(p: Param) -> str:
    if p.required:
        return ""
    d = p.default
    return f" = {d!r}" if d is None or isinstance(d, (bool, int, float, str)) else " = ..."


def stub(framework: str) -> str:
    """The text of ``losses/nn.pyi`` (``"torch"``) or ``losses/keras.pyi`` (``"keras"``)."""
    array = "Tensor" if framework == "torch" else "Any"
    base = "FrontDoorModule" if framework == "torch" else "FrontDoorLoss"
    lines = [
        f'"""Editor stub of losses.{"nn" if framework == "torch" else "keras"}: written by '
        f'backends/frontdoor.py (stub({framework!r})); a test checks it is current."""',
        "from collections.abc import Callable, Sequence",
        "from typing import Any, Literal",
        "",
    ]
    if framework == "torch":
        lines += ["from torch import Tensor, nn", "", f"class {base}(nn.Module):"]
    else:
        lines += ["import keras", "", f"class {base}(keras.losses.Loss):"]
    lines += ["    function: Callable[..., Any]", "    hyperparameters: tuple[str, ...]", ""]
    for s in specs(framework):
        name = class_name(s, framework)
        settings = s.settings if framework == "torch" else s.keras_settings
        params = [f"{p.name}: {_render(p.annotation, array)}{_default(p)}" for p in settings]
        if framework == "keras":
            params += ["reduction: str | None = 'sum_over_batch_size'", "name: str | None = None",
                       "dtype: Any = None"]
        lines += [f"class {name}({base}):",
                  f"    def __init__(self{', *, ' if params else ''}{', '.join(params)}) -> None: ..."]
        if framework == "torch":
            args = [f"{p.name}: {_render(p.annotation, array)}{_default(p)}" for p in s.arrays]
            kw = [f"{p.name}: {_render(p.annotation, array)} = ..." for p in s.per_call + s.buffers]
            sig = ", ".join(["self", *args, *(["*", *kw] if kw else [])])
            lines += [f"    def forward({sig}) -> Tensor: ...",
                      f"    def __call__({sig}) -> Tensor: ..."]
        lines.append("")
    lines += [f"__all__ = [{', '.join(repr(n) for n in [base] + [class_name(s, framework) for s in specs(framework)])}]", ""]
    if not any("Sequence[" in line for line in lines):
        lines[1] = "from collections.abc import Callable"
    else:
        lines[1] = "from collections.abc import Callable, Sequence"
    return "\n".join(lines)
