"""The cross-backend conformance suite: ``python -m losses.conformance``.

Cases live in :mod:`losses.conformance.cases` (one module per family of :mod:`losses`); the
engine (:mod:`losses.conformance.engine`) turns them into checks over every installed backend,
device, dtype and transform.
"""
