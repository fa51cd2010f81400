"""The cross-backend conformance suite: ``python -m losses.conformance``.

Cases live in :mod:`losses.conformance.cases` (one module per family of :mod:`losses`); the
engine (:mod:`losses.conformance.engine`) turns them into checks over every installed backend,
device, dtype and transform.

``check(fn, like=...)`` runs the same cases through your own implementation of a loss and
reports where it disagrees (:mod:`losses.conformance._check`).
"""
from ._check import CaseResult, Report, check

__all__ = ["CaseResult", "Report", "check"]
