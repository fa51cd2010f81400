"""Keras front door: a ``keras.losses.Loss`` class for every public loss with a per-sample form.

``model.compile(loss=losses.keras.CrossEntropy(label_smoothing=0.1))`` trains with
``losses.cross_entropy``. Class names are the function's name in CamelCase without a trailing
``Loss``, Keras's style (``CrossEntropy``, ``Huber``, ``Dice``, ``SigmoidFocal``, ``MSE``).
Keras's ``y_true`` is the function's target (``target``, ``labels``, ``boxes2``,
``distance_maps``), ``y_pred`` its other array; Keras's ``reduction`` and ``sample_weight``
apply to the per-sample losses (the function's ``reduction="none"`` averaged over every axis
but the batch). The classes are registered for ``keras.saving``: import ``losses.keras``
before ``keras.saving.load_model``. ``cls.function`` is the wrapped function.

Keras 3 with the JAX or PyTorch backend (``KERAS_BACKEND=jax`` or ``torch`` before the first
``import keras``); the TensorFlow backend is not supported. ``pip install "losses[keras]"``.
"""
from __future__ import annotations

try:
    from .backends.keras_losses import FrontDoorLoss
    from .backends.keras_losses import classes as _classes
except ImportError as _err:
    if (_err.name or "").split(".")[0] not in ("keras", "tensorflow"):
        raise
    raise ImportError("losses.keras needs Keras 3 with the JAX or PyTorch backend: "
                      "pip install 'losses[keras]' and set KERAS_BACKEND=jax (or torch) "
                      "before the first import of keras") from _err

_CLASSES = _classes()
globals().update(_CLASSES)

__all__ = ["FrontDoorLoss", *_CLASSES]
