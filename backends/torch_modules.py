"""``torch.nn.Module`` classes of the public losses, built by ``frontdoor.py`` (``losses.nn``).

One class per loss, generated from the function's signature:

- the constructor takes the function's hyper-parameters as keywords (same names, same
  defaults; required ones stay required);
- array hyper-parameters (``weight``, ``pos_weight``, ``ce_weight``...) are persistent
  buffers: ``.to(device/dtype)``, ``state_dict()`` / ``load_state_dict()`` and ``deepcopy``
  carry them. Lists and NumPy arrays are converted with ``torch.as_tensor``. A keyword that
  takes an array *or* a number (``ArrayT | float``) is a buffer when an array is given and a
  plain attribute when a number is given; ``None`` is registered as an empty buffer slot;
- a callable that is an ``nn.Module`` (``feature_extractor``) becomes a submodule;
- ``forward`` takes the array arguments positionally in the function's order; keyword-only
  arrays that are data of one batch (``ppo_clip_loss(old_log_prob=)``) are ``forward``
  keywords, and an array hyper-parameter given to ``forward`` (``weight=``) replaces the
  module's for that call.
"""
from __future__ import annotations

import types

import torch
from torch import nn

from . import frontdoor

MODULE = "losses.nn"


def _as_buffer(cls_name: str, p: frontdoor.Param, value):
    """The tensor of an array hyper-parameter, or None for a plain attribute / empty slot."""
    if value is None or isinstance(value, torch.Tensor):
        return value
    expected = "an array, a number or None" if p.kind == "array_or_number" else "an array or None"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if p.kind == "array_or_number":
            return None
        raise TypeError(f"{cls_name}: {p.name} must be {expected}, got {type(value).__name__}")
    if isinstance(value, (bool, str)):
        raise TypeError(f"{cls_name}: {p.name} must be {expected}, got {type(value).__name__}")
    try:
        return torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(f"{cls_name}: {p.name} must be {expected}, got {type(value).__name__}") from err


class FrontDoorModule(nn.Module):
    """Base of the generated loss modules (see ``losses.nn``)."""

    function = None       # the wrapped public function
    hyperparameters: tuple[str, ...] = ()   # the constructor's keywords, in the function's order
    _spec: frontdoor.Spec

    def __init__(self, **kwargs):
        super().__init__()
        cls = type(self)
        spec = cls._spec
        values = frontdoor.bind_settings(spec, cls.__name__, spec.settings, kwargs)
        for p in spec.buffers:
            value = values[p.name]
            tensor = _as_buffer(cls.__name__, p, value)
            if tensor is not None or value is None:
                self.register_buffer(p.name, tensor, persistent=True)
            else:
                setattr(self, p.name, value)
        for p in spec.hyper:
            setattr(self, p.name, values[p.name])  # an nn.Module (feature_extractor) is a submodule

    def forward(self, *args, **kwargs):
        spec = type(self)._spec
        names = type(self)._array_names
        if len(args) > len(names) or len(args) < type(self)._n_required:
            raise TypeError(f"{type(self).__name__}.forward takes the arrays ({', '.join(names)}) "
                            f"positionally, got {len(args)} argument(s)")
        extra = set(kwargs) - set(type(self)._call_names)
        if extra:
            raise TypeError(f"{type(self).__name__}.forward got unexpected keyword argument(s) "
                            f"{', '.join(sorted(extra))}; it takes {', '.join(type(self)._call_names) or 'none'}")
        call = dict(zip(names, args))
        for name in type(self).hyperparameters:
            call[name] = kwargs[name] if name in kwargs else getattr(self, name)
        for p in spec.per_call:
            if p.name in kwargs:
                call[p.name] = kwargs[p.name]
        return spec.function(**call)

    def extra_repr(self) -> str:
        parts = []
        for p in type(self)._spec.settings:
            value = getattr(self, p.name)
            if isinstance(value, torch.Tensor):
                parts.append(f"{p.name}=<tensor of shape {tuple(value.shape)}, {value.dtype}>")
            elif isinstance(value, nn.Module):
                continue  # a submodule is listed by nn.Module's repr
            elif p.required or not _same(value, p.default):
                parts.append(f"{p.name}={value!r}")
        return ", ".join(parts)


def _same(a, b) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:
        return a is b


def _docstring(spec: frontdoor.Spec, name: str) -> str:
    fn = spec.name
    arrays = ", ".join(p.name if p.required else f"{p.name}=None" for p in spec.arrays)
    per_call = "".join(f", {p.name}=None" for p in spec.per_call)
    buffers = ", ".join(p.name for p in spec.buffers) or "none"
    return (f"``torch.nn.Module`` of :func:`losses.{fn}`: ``{name}(**hyper_parameters)({arrays}{per_call})``.\n\n"
            f"The constructor takes the keywords of ``losses.{fn}`` (same names and defaults):\n"
            f"{', '.join(p.name for p in spec.settings) or 'none'}. Array hyper-parameters (registered "
            f"buffers): {buffers}.\nSee ``losses.{fn}`` for the formula, the shapes and the errors.\n")


def _own_forward(qualname: str):
    """``FrontDoorModule.forward`` with a code object of its own: ``torch.compile`` caches
    graphs per code object (8 by default), so classes sharing one ``forward`` would exhaust
    that cache after eight losses in a process."""
    fn = FrontDoorModule.forward
    code = fn.__code__
    code = code.replace(co_qualname=qualname) if hasattr(code, "co_qualname") else code.replace()
    out = types.FunctionType(code, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
    out.__qualname__, out.__doc__, out.__module__ = qualname, fn.__doc__, MODULE
    return out


def build(spec: frontdoor.Spec) -> type:
    """The generated ``nn.Module`` class of one loss."""
    name = spec.torch_name
    settings = tuple(p.name for p in spec.settings)
    cls = type(name, (FrontDoorModule,), {
        "forward": _own_forward(f"{name}.forward"),
        "__module__": MODULE,
        "__qualname__": name,
        "__doc__": _docstring(spec, name),
        "function": staticmethod(spec.function),
        "hyperparameters": settings,
        "_spec": spec,
        "_array_names": tuple(p.name for p in spec.arrays),
        "_n_required": sum(p.required for p in spec.arrays),
        "_call_names": tuple(p.name for p in spec.per_call + spec.buffers),
    })
    cls.__signature__ = frontdoor.signature(spec, spec.settings)
    return cls


def classes() -> dict[str, type]:
    """``{class name: class}`` of every public loss, in ``losses.__all__`` order."""
    return {spec.torch_name: build(spec) for spec in frontdoor.specs("torch")}
