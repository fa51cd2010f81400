"""PyTorch front door: a ``torch.nn.Module`` class for every public loss.

``losses.nn.CrossEntropyLoss(label_smoothing=0.1)(logits, labels)`` computes
``losses.cross_entropy(logits, labels, label_smoothing=0.1)``. Class names follow torch where
torch has the module (``CrossEntropyLoss``, ``BCEWithLogitsLoss``, ``CTCLoss``...), otherwise
the function's name in CamelCase (``DiceLoss``, ``SigmoidFocalLoss``, ``NTXentLoss``). Every
class is generated from its function (``backends/torch_modules.py``); ``cls.function`` is the
wrapped function and ``cls.hyperparameters`` lists the constructor's keywords.

Importing this module imports torch (``pip install "losses[torch]"``).
"""
from __future__ import annotations

try:
    from .backends.torch_modules import FrontDoorModule
    from .backends.torch_modules import classes as _classes
except ImportError as _err:
    if (_err.name or "").split(".")[0] != "torch":
        raise
    raise ImportError("losses.nn needs PyTorch: pip install 'losses[torch]'") from _err

_CLASSES = _classes()
globals().update(_CLASSES)

__all__ = ["FrontDoorModule", *_CLASSES]
