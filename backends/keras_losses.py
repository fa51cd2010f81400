"""``keras.losses.Loss`` classes of the public losses, built by ``frontdoor.py`` (``losses.keras``).

One class per loss with a per-sample form (``frontdoor.Spec.keras_pair``):

- ``loss(y_true, y_pred, sample_weight=None)``: ``y_true`` is the function's target argument
  (``target``, ``labels``, ``boxes2``, ``distance_maps``), ``y_pred`` the other one;
- ``call`` computes the function with ``reduction="none"`` and averages over every axis but
  the first, so Keras's reduction receives one loss per sample, as Keras's own losses do
  (``keras.losses.MeanSquaredError`` averages over the last axis); a setting without a
  per-sample form (``batch=True``, ``per_image=False``) is a ``ValueError``;
- Keras's ``reduction`` (default ``"sum_over_batch_size"``), ``name`` and ``dtype``; the
  function's hyper-parameters are keywords, except ``reduction`` and ``mean_over``, which
  Keras's reduction replaces; array hyper-parameters (class weights) are given as lists or
  arrays and kept as nested lists in the config;
- ``y_pred`` and floating ``y_true`` are converted to the loss's dtype as Keras does; an
  integer or boolean ``y_true`` (class indices, labels) keeps its dtype (Keras would make it
  float);
- ``get_config()`` / ``from_config()`` round trip, registered for ``keras.saving`` under the
  package name ``losses``.

Runs on Keras's JAX and PyTorch backends (the arrays reach the function as JAX arrays or
torch tensors). Keras's TensorFlow backend is not supported: the functions have no
TensorFlow backend.
"""
from __future__ import annotations

import keras
import numpy as np

from . import frontdoor
from ._core import namespace

if keras.backend.backend() not in ("jax", "torch"):
    raise ImportError(f"losses.keras runs on Keras's JAX and PyTorch backends, not {keras.backend.backend()!r}: "
                      "set KERAS_BACKEND=jax (or torch) before the first import of keras", name="keras")

MODULE = "losses.keras"
PACKAGE = "losses"

try:  # Keras 3's own reduction (masks, sample weights, the reduction names)
    from keras.src.losses.loss import reduce_weighted_values as _reduce
except ImportError:  # pragma: no cover - a Keras without the module: same rule, no masks
    _reduce = None


def _to_config(value):
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return np.asarray(keras.ops.convert_to_numpy(value)).tolist()
    return list(value) if isinstance(value, tuple) else value


class FrontDoorLoss(keras.losses.Loss):
    """Base of the generated Keras losses (see ``losses.keras``)."""

    function = None
    hyperparameters: tuple[str, ...] = ()
    _spec: frontdoor.Spec

    def __init__(self, *, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        cls = type(self)
        spec = cls._spec
        values = frontdoor.bind_settings(spec, cls.__name__, spec.keras_settings, kwargs)
        for p in spec.buffers:
            value = values.get(p.name)
            if p.name not in values or value is None:
                continue
            if isinstance(value, (bool, str)) or (p.kind == "array" and isinstance(value, (int, float))):
                expected = "an array, a number or None" if p.kind == "array_or_number" else "an array or None"
                raise TypeError(f"{cls.__name__}: {p.name} must be {expected}, got {type(value).__name__}")
            if not isinstance(value, (int, float)):
                values[p.name] = np.asarray(keras.ops.convert_to_numpy(value) if hasattr(value, "shape")
                                            else value).tolist()
        self._settings = values
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def __call__(self, y_true, y_pred, sample_weight=None):
        if _reduce is None:  # pragma: no cover
            return super().__call__(y_true, y_pred, sample_weight)
        in_mask = keras.backend.get_keras_mask(y_pred) if hasattr(keras.backend, "get_keras_mask") else None
        with keras.name_scope(self.name):
            y_pred = keras.ops.convert_to_tensor(y_pred, dtype=self.dtype)
            y_true = keras.ops.convert_to_tensor(y_true)
            if "float" in keras.backend.standardize_dtype(y_true.dtype):
                y_true = keras.ops.cast(y_true, self.dtype)
            values = self.call(y_true, y_pred)
            return _reduce(values, sample_weight=sample_weight, mask=in_mask,
                           reduction=self.reduction, dtype=self.dtype)

    def call(self, y_true, y_pred):
        spec = type(self)._spec
        target, pred = spec.keras_pair
        kwargs = {}
        for p in spec.keras_settings:
            value = self._settings[p.name]
            if p in spec.buffers and isinstance(value, list):
                value = keras.ops.convert_to_tensor(value, dtype=self.dtype)
            kwargs[p.name] = value
        out = spec.function(**{target: y_true, pred: y_pred}, **kwargs, reduction="none")
        if out.ndim == 0 or y_pred.ndim == 0 or out.shape[0] != y_pred.shape[0]:
            batch = f"the batch of {y_pred.shape[0]}" if y_pred.ndim else f"a batch ({pred} is 0-d)"
            raise ValueError(
                f"{type(self).__name__}: with these settings losses.{spec.name}(reduction='none') gives "
                f"shape {tuple(out.shape)}, not one loss per sample of {batch} "
                "(a batch-level setting such as batch=True or per_image=False has no Keras form)")
        if out.ndim > 1:  # the array API's mean (keras.ops.mean accumulates float64 in float32 on JAX)
            out = namespace(out).mean(out, axis=tuple(range(1, out.ndim)))
        return out

    def get_config(self):
        config = super().get_config()
        config["dtype"] = self.dtype
        config.update({k: _to_config(v) for k, v in self._settings.items()})
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _docstring(spec: frontdoor.Spec, name: str) -> str:
    target, pred = spec.keras_pair
    return (f"``keras.losses.Loss`` of :func:`losses.{spec.name}`: ``{name}(**hyper_parameters)(y_true, y_pred)``"
            f" with ``y_true`` = ``{target}``, ``y_pred`` = ``{pred}``.\n\n"
            f"Keywords: {', '.join(p.name for p in spec.keras_settings) or 'none'}, and Keras's "
            "``reduction``, ``name``, ``dtype``. See ``losses.keras`` for the reduction rule and "
            f"``losses.{spec.name}`` for the formula.\n")


def build(spec: frontdoor.Spec) -> type:
    """The generated, ``keras.saving``-registered Loss class of one loss."""
    name = spec.keras_name
    cls = type(name, (FrontDoorLoss,), {
        "__module__": MODULE,
        "__qualname__": name,
        "__doc__": _docstring(spec, name),
        "function": staticmethod(spec.function),
        "hyperparameters": tuple(p.name for p in spec.keras_settings),
        "_spec": spec,
    })
    cls.__signature__ = frontdoor.signature(spec, spec.keras_settings,
                                            (("reduction", "sum_over_batch_size"), ("name", None), ("dtype", None)))
    return keras.saving.register_keras_serializable(package=PACKAGE, name=name)(cls)


def classes() -> dict[str, type]:
    """``{class name: class}`` of every public loss with a per-sample form."""
    return {spec.keras_name: build(spec) for spec in frontdoor.specs("keras")}
