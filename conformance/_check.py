"""Check your own implementation of a loss against the library's reference.

``check(fn, like="sigmoid_focal_loss", backend="torch", args={"logits": "input"})`` runs the
library's conformance cases for that loss — random inputs, its edge cases (logits at +-1e4,
kinks, ignored targets, empty masks...), NaN and +-inf variants and an empty batch — through
``fn`` in its framework, and compares values and gradients with the library's function at the
dtype's tolerance. A tuple result (the miners' :class:`~losses.metric.Triplets`) is compared
field by field, integer and bool fields exactly and without gradients. The command line is
``python -m losses.conformance check MODULE:FUNCTION --like LOSS``.
"""
from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import json
import math
import sys
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import engine
from .case import Case

__all__ = ["CaseResult", "Report", "check"]

_AUTODIFF = ("torch", "jax")


@dataclass
class CaseResult:
    """The outcome of one case: ``status`` is ``"pass"``, ``"fail"`` or ``"skip"``."""

    case: str
    status: str
    message: str = ""
    max_rel_error: float | None = None
    where: str | None = None
    #: what was compared: "value" (a tuple result: each field's name, e.g. "anchor"), then
    #: "gradient wrt <their name>" per differentiable argument
    compared: list = field(default_factory=list)
    inputs: dict | None = field(default=None, repr=False)
    kwargs: dict = field(default_factory=dict)
    call: dict = field(default_factory=dict, repr=False)  # their argument names -> ours
    their_kwargs: dict = field(default_factory=dict, repr=False)

    def to_json(self) -> dict:
        return {"case": self.case, "status": self.status, "message": self.message,
                "max_rel_error": self.max_rel_error, "where": self.where, "compared": list(self.compared),
                "kwargs": _jsonable(self.kwargs)}


@dataclass
class Report:
    """All cases of a check; ``ok`` is True when no case failed and at least one ran."""

    function: str
    like: str
    backend: str
    results: list
    module: str | None = None
    qualname: str | None = None

    @property
    def ok(self) -> bool:
        ran = [r for r in self.results if r.status != "skip"]
        return bool(ran) and all(r.status == "pass" for r in ran)

    @property
    def failures(self) -> list:
        return [r for r in self.results if r.status == "fail"]

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        width = max([len(r.case) for r in self.results] + [4])
        lines = [f"{self.function} against losses.{self.like} on {self.backend}:"]
        for r in self.results:
            err = "" if r.max_rel_error is None else f"  max rel. error {r.max_rel_error:.3g}"
            at = f" ({r.where})" if r.where else ""
            msg = f"  {r.message}" if r.status != "pass" and r.message else ""
            lines.append(f"  {r.status.upper():4}  {r.case:<{width}}{err}{at}{msg}")
        n = {s: sum(r.status == s for r in self.results) for s in ("pass", "fail", "skip")}
        lines.append(f"{n['pass']} passed, {n['fail']} failed, {n['skip']} skipped: "
                     + ("OK" if self.ok else "FAILED"))
        if self.failures:
            lines += ["", "Reproduce the first failure:", "", self.reproduce()]
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {"function": self.function, "like": self.like, "backend": self.backend, "ok": self.ok,
                "cases": [r.to_json() for r in self.results]}

    def reproduce(self) -> str:
        """A self-contained Python snippet that reruns the first failing case (inputs as
        literals) with your function and the library's, and prints both."""
        if not self.failures:
            return "# every case passed"
        r = self.failures[0]
        conv = {"numpy": ("import numpy as np", "np.asarray"), "torch": ("import torch", "torch.tensor"),
                "jax": ("import jax\njax.config.update('jax_enable_x64', True)\nimport jax.numpy as jnp",
                        "jnp.asarray")}[self.backend]
        lines = ["import numpy as np", conv[0], "import losses"]
        if self.module and self.module != "__main__" and "<locals>" not in (self.qualname or ""):
            lines.append(f"from {self.module} import {self.qualname} as their_loss")
        else:
            lines.append(f"their_loss = ...  # your {self.function} (defined in {self.module})")
        lines.append("")
        lines.append("inputs = {")
        for k, v in (r.inputs or {}).items():
            lines.append(f"    {k!r}: {_literal(v)},")
        lines.append("}")
        lines.append(f"kwargs = {_literal(r.kwargs)}")
        lines.append(f"x = {{k: {conv[1]}(v) if isinstance(v, np.ndarray) else v for k, v in inputs.items()}}")
        theirs = ", ".join([f"{t}=x[{o!r}]" for t, o in r.call.items()]
                           + [f"{k}={_literal(v)}" for k, v in r.their_kwargs.items()])
        lines.append(f"ours = losses.{self.like}(**x, **kwargs)")
        lines.append(f"theirs = their_loss({theirs})")
        lines.append("print('ours  ', ours)")
        lines.append("print('theirs', theirs)")
        return "\n".join(lines)


def _literal(v) -> str:
    if isinstance(v, np.ndarray):
        body = np.array2string(v, separator=", ", threshold=sys.maxsize, floatmode="unique",
                               max_line_width=100).replace("nan", "np.nan").replace("inf", "np.inf")
        return f"np.array({body}, dtype=np.{v.dtype})"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k!r}: {_literal(x)}" for k, x in v.items()) + "}"
    if isinstance(v, float) and not math.isfinite(v):
        return f"float({str(v)!r})"
    return repr(v)


def _jsonable(d):
    return {k: (v if isinstance(v, (int, float, str, bool, type(None))) else repr(v)) for k, v in d.items()}


def _infer_backend(fn) -> str:
    names = getattr(fn, "__globals__", {})
    roots = {getattr(v, "__name__", "").split(".")[0] for v in names.values() if inspect.ismodule(v)}
    for b in ("torch", "jax"):
        if b in roots:
            return b
    return "numpy"


class _Setting:
    """Which of the library's cases a user's function supports, and how to call it."""

    def __init__(self, fn, like: Callable, args: dict, kwargs: dict):
        self.fn = fn
        self.ours_of = dict(args)  # theirs -> ours
        self.theirs_of = {o: t for t, o in args.items()}
        sig = inspect.signature(fn)
        self.params = set(sig.parameters)
        self.var_kw = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
        self.fixed = {self.ours_of.get(k, k): v for k, v in kwargs.items()}  # ours -> value
        # passed to the function where it takes them; otherwise they only state its setting
        self.fixed_theirs = {k: v for k, v in kwargs.items() if self.var_kw or k in self.params}
        self.defaults = {k: p.default for k, p in inspect.signature(like).parameters.items()
                         if p.default is not inspect.Parameter.empty}

    def theirs(self, ours_name: str) -> str:
        return self.theirs_of.get(ours_name, ours_name)

    def accepts(self, ours_name: str) -> bool:
        return self.var_kw or self.theirs(ours_name) in self.params

    def plan(self, case: Case, arrays: dict):
        """``(call kwargs builder, reason to skip or None)``: arrays are passed under the
        user's names; each hyper-parameter of the case is passed when the user's function
        takes it, else it must equal what the function is fixed to (``kwargs``, else the
        library's default)."""
        for k in arrays:
            if not self.accepts(k):
                return None, f"needs argument {k!r} (map it with args={{'yours': {k!r}}})"
        passthrough = {}
        for k in sorted(set(case.kwargs) | set(self.fixed)):
            value = case.kwargs.get(k, self.defaults.get(k))
            if k in self.fixed:
                if not _same(self.fixed[k], value):
                    return None, f"case has {k}={value!r}, your function is fixed to {self.fixed[k]!r}"
            elif self.accepts(k):
                passthrough[self.theirs(k)] = value
            elif not _same(value, self.defaults.get(k)):
                return None, f"case has {k}={value!r}; your function takes no {k!r} (pass kwargs or args to map it)"
        return passthrough, None


def _same(a, b) -> bool:
    try:
        return bool(a == b) and type(a) is type(b) or (isinstance(a, (int, float)) and isinstance(b, (int, float)) and a == b)
    except Exception:  # noqa: BLE001 - arrays etc.
        return a is b


def _rel_error(got, want, nonfinite_alike=False, first_above=None):
    """Largest ``|got - want| / max(1, |want|)`` and its index; NaN matches NaN and inf the
    same inf (``nonfinite_alike``: any non-finite value matches any other). With
    ``first_above``, the index is that of the first error above it, when there is one."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    both = (np.isnan(got) & np.isnan(want)) | (np.isinf(got) & np.isinf(want) & (np.sign(got) == np.sign(want)))
    if nonfinite_alike:
        both = both | (~np.isfinite(got) & ~np.isfinite(want))
    with np.errstate(invalid="ignore"):
        diff = np.where(both, 0.0, np.abs(got - want))
    err = diff / np.maximum(1.0, np.abs(np.where(np.isfinite(want), want, 0.0)))
    err = np.where(both, 0.0, np.where(np.isfinite(err), err, np.inf))
    if err.size == 0:
        return 0.0, None
    flat = err.reshape(-1)
    above = np.flatnonzero(flat > first_above) if first_above is not None else ()
    i = int(above[0]) if len(above) else int(np.argmax(flat))
    return float(np.max(flat)), (np.unravel_index(i, err.shape) if err.ndim else ())


def _describe(out) -> str:
    """What a result is, for messages: ``Triplets(anchor, positive, negative, valid)``, a
    tuple of 3 arrays, one array."""
    if isinstance(out, tuple):
        n = f"a tuple of {len(out)} array{'s' if len(out) != 1 else ''}"
        fields = getattr(out, "_fields", None)
        return f"{type(out).__name__}({', '.join(fields)}), {n}" if fields else n
    return "one array"


def _field_names(want) -> tuple:
    """The names of a result's fields in messages: a namedtuple's, ``field 0``... of a plain
    tuple, ``value`` for one array."""
    if not isinstance(want, tuple):
        return ("value",)
    return tuple(getattr(want, "_fields", None) or (f"field {i}" for i in range(len(want))))


def _their_fields(ad, got, want, like_name: str) -> tuple:
    """The user's result as host arrays, one per field of the library's result ``want``.

    A plain tuple stands for a namedtuple (fields by position). Raises TypeError or
    ValueError naming what was expected when the structure differs."""
    expected = f"losses.{like_name} returns {_describe(want)}"
    if isinstance(want, tuple) and not isinstance(got, tuple):
        raise TypeError(f"your function returned {type(got).__name__}, not a tuple; {expected}")
    if not isinstance(want, tuple) and isinstance(got, tuple):
        raise TypeError(f"your function returned {_describe(got)}; {expected}")
    if isinstance(want, tuple) and len(got) != len(want):
        raise ValueError(f"your function returned {_describe(got)}; {expected}")
    fields = got if isinstance(got, tuple) else (got,)
    out = []
    for name, f in zip(_field_names(want), fields):
        try:
            out.append(engine._fields(ad, f)[0])
        except Exception as e:  # noqa: BLE001 - not an array of the backend
            what = "your function's result" if name == "value" else f"field {name!r} of your result"
            raise TypeError(f"{what} is a {type(f).__name__}, not a {ad.name} array ({e}); {expected}") from None
    return tuple(out)


def _variants(case: Case):
    """(label, numpy inputs or None) of a case: its own inputs, its NaN/+-inf variants, and an
    empty batch for cases whose n is a batch size."""
    yield case.id, engine._inputs(case)
    for arg in engine._float_arg_names(case):
        site = engine._poison_site(case, arg)
        if site is None:
            continue
        for kind, value in engine._POISON.items():
            yield f"{case.id}~{arg}={kind}", engine._poisoned(case, arg, value, site[0])
    if case.dynamic:
        try:
            yield f"{case.id}~empty", case.gen(np.random.default_rng(engine._seed(case)), 0)
        except Exception:  # noqa: BLE001 - this case makes no empty batch
            pass


def check(fn: Callable, like: str | Callable, *, backend: str | None = None, args: dict | None = None,
          kwargs: dict | None = None, dtype: str = "float64", edges: bool = True,
          gradients: bool = True, cases: list | None = None) -> Report:
    """Run the library's cases for ``like`` through ``fn`` and compare with the reference.

    A tuple result (e.g. :class:`~losses.metric.Triplets` of :func:`~losses.batch_hard_mining`)
    is compared field by field: ``fn`` must return a tuple of as many arrays (a plain tuple
    or any namedtuple, in the library's field order), each of the reference's shape;
    integer and bool fields (indices, masks) must be of the same kind and equal exactly,
    floating ones agree at the tolerance. ``CaseResult.where`` and the message name the
    field and the index of the first mismatch (of the largest error for a floating field).
    Gradients are compared for a single floating result only. A result of the wrong
    structure (not a tuple, the wrong number of fields, a field that is not an array of
    ``backend``) fails the case with the ``TypeError`` / ``ValueError`` that says what was
    expected. Under the +-inf variants a differing integer/bool result is reported as
    skipped, not failed (which index a non-finite intermediate value selects depends on
    whether it comes out inf or NaN), as a floating result then only has to be non-finite
    where the reference's is.

    Args:
        fn: your implementation, taking arrays of ``backend``.
        like: the library's loss it implements (``"sigmoid_focal_loss"`` or the function).
        backend: ``"torch"``, ``"jax"`` or ``"numpy"`` (None: guessed from the modules
            ``fn``'s module imports; NumPy has no gradients).
        args: your argument names -> the library's (``{"logits": "input", "labels":
            "target"}``), for arrays and hyper-parameters alike; unlisted names are the same.
        kwargs: your function's fixed setting (by your names), e.g. ``{"alpha": 0.25}`` or
            ``{"reduction": "none"}``: passed to it where it takes the keyword, else only
            stating what it computes. A case runs only when its setting equals your
            function's; a hyper-parameter your function neither takes nor fixes is assumed at
            the library's default.
        dtype: floating dtype of the inputs (tolerances scale with its epsilon).
        edges: also run the NaN/+-inf variants and the empty batch of each case.
        gradients: compare gradients (torch autograd, ``jax.grad``) wrt the case's
            differentiable arguments.
        cases: restrict to these case names (e.g. ``["random", "logits_1e4"]``).

    Returns:
        A :class:`Report`: ``.ok``, ``.results`` (one :class:`CaseResult` per case and
        variant), ``.reproduce()`` for the first failure, ``str(report)`` a table.
    """
    losses = importlib.import_module(__package__.rpartition(".")[0])  # the package, wherever it lives
    engine.setup()
    like_name = like if isinstance(like, str) else like.__name__
    if like_name not in losses.__all__:
        raise ValueError(f"like must name a public function of losses, got {like_name!r}")
    like_fn = getattr(losses, like_name)
    backend = backend or _infer_backend(fn)
    if backend not in ("numpy", "torch", "jax"):
        raise ValueError(f"backend must be 'numpy', 'torch' or 'jax', got {backend!r}")
    ad = engine.harness(backend)
    setting = _Setting(fn, like_fn, args or {}, kwargs or {})
    from .cases import all_cases

    chosen = [c for c in all_cases() if c.loss_name == like_name and (cases is None or c.name in cases)]
    results = []
    for case in chosen:
        for label, arrays in (_variants(case) if edges else [(case.id, engine._inputs(case))]):
            results.append(_run_one(case, label, arrays, setting, ad, dtype, gradients and label == case.id))
    return Report(function=getattr(fn, "__qualname__", repr(fn)), like=like_name, backend=backend,
                  results=results, module=getattr(fn, "__module__", None), qualname=getattr(fn, "__qualname__", None))


def _run_one(case: Case, label: str, arrays: dict, setting: _Setting, ad, dtype: str, gradients: bool):
    passthrough, skip = setting.plan(case, arrays)
    kwargs = dict(case.kwargs)
    if skip:
        return CaseResult(label, "skip", skip, kwargs=kwargs)
    call_names = {setting.theirs(k): k for k in arrays}
    result = CaseResult(label, "pass", kwargs=kwargs, inputs=arrays, call=call_names,
                        their_kwargs={**passthrough, **setting.fixed_theirs})
    native = engine._native_args(ad, arrays, dtype, None)

    def theirs(**ours_arrays):
        return setting.fn(**{setting.theirs(k): v for k, v in ours_arrays.items()}, **passthrough,
                          **setting.fixed_theirs)

    def ours(**ours_arrays):
        return case.loss(**ours_arrays, **case.kwargs)

    try:
        want_out = ours(**native)
    except (ValueError, TypeError) as e:
        try:
            theirs(**native)
        except Exception:  # noqa: BLE001 - both refuse the input: agreement
            result.message = f"both refuse it ({type(e).__name__}: {e})"
            return result
        result.status, result.message = "fail", f"the library refuses this input ({e}); yours returned a value"
        return result
    try:
        got_out = theirs(**native)
    except Exception as e:  # noqa: BLE001 - reported
        result.status, result.message = "fail", f"your function raised {type(e).__name__}: {e}"
        return result
    want_fields = engine._fields(ad, want_out)
    try:
        got_fields = _their_fields(ad, got_out, want_out, case.loss_name)
    except (TypeError, ValueError) as e:
        result.status, result.message = "fail", f"{type(e).__name__}: {e}"
        return result
    # +-inf inputs: a non-finite result must be non-finite (NaN or inf) as the reference's
    nonfinite_alike = "inf" in label.rpartition("~")[2]
    for name, got_f, want_f in zip(_field_names(want_out), got_fields, want_fields):
        # integer and bool fields (indices, masks) exactly, floating ones at the tolerance
        exact = engine._kind(want_f) != "f"
        if exact and engine._kind(got_f) != engine._kind(want_f):
            result.status = "fail"
            result.message = (f"{name} has dtype {got_f.dtype}, the reference {want_f.dtype} "
                              "(integer and bool results are compared exactly, of the same kind)")
            return result
        if got_f.shape != want_f.shape:
            result.status = "fail"
            result.message = f"{name} has shape {got_f.shape}, the reference {want_f.shape}"
            if not isinstance(want_out, tuple):
                result.message += f" (reduction {case.kwargs.get('reduction', 'default')!r})"
            return result
        tol = engine._tol(case, dtype, exact=exact)
        err, where = _rel_error(got_f, want_f, nonfinite_alike=nonfinite_alike and not exact,
                                first_above=tol if exact else None)
        result.compared.append(name)
        at = f"{name} at index {tuple(int(i) for i in where)}" if where is not None else name
        failed = err > tol
        # an index or a mask has no relative error: only its first mismatch is located
        if failed or (not exact and (result.max_rel_error is None or err > result.max_rel_error)):
            result.where = at
        if not exact:
            result.max_rel_error = max(err, result.max_rel_error or 0.0)
        if failed:
            result.status = "fail"
            flat = np.ravel_multi_index(where, got_f.shape) if where is not None and got_f.ndim else 0
            g, w = got_f.reshape(-1)[flat].item(), want_f.reshape(-1)[flat].item()
            result.message = f"{name}: got {g!r}, want {w!r}"
            if exact:
                result.message += f" ({int(np.sum(got_f != want_f))} of {want_f.size} elements differ)"
            if exact and nonfinite_alike:
                # the float rule above, for indices: which index a non-finite intermediate
                # value (a distance...) selects depends on whether it is inf or NaN
                result.status = "skip"
                result.message = (f"not counted, +-inf input: {result.message}; an integer/bool result then "
                                  "depends on whether intermediate values come out inf or NaN")
            return result
    # gradients of one floating result only: indices and masks have none
    want_a = want_fields[0]
    differentiable = not isinstance(want_out, tuple) and engine._kind(want_a) == "f"
    tol = engine._tol(case, dtype, exact=False)
    if gradients and differentiable and ad.has_autodiff and case.diff:
        names = list(native)
        argnums = [names.index(k) for k in case.diff if k in names]
        v = engine._cotangent(case, want_a.shape)

        def scal(f):
            return lambda *a: ad.scalarize(f(**dict(zip(names, a))), v)

        try:
            _, g_theirs = ad.value_and_grad(scal(theirs), [native[k] for k in names], argnums)
        except Exception as e:  # noqa: BLE001
            result.status, result.message = "fail", f"gradient of your function raised {type(e).__name__}: {e}"
            return result
        _, g_ours = ad.value_and_grad(scal(ours), [native[k] for k in names], argnums)
        for k, a, b in zip([names[i] for i in argnums], g_theirs, g_ours):
            e2, w2 = _rel_error(ad.to_numpy(a), ad.to_numpy(b))
            result.compared.append(f"gradient wrt {setting.theirs(k)}")
            if e2 > (result.max_rel_error or 0.0):
                result.max_rel_error = e2
                result.where = f"gradient wrt {setting.theirs(k)} at index {tuple(int(i) for i in w2)}" if w2 is not None else f"gradient wrt {setting.theirs(k)}"
            if e2 > tol:
                ga, gb = ad.to_numpy(a), ad.to_numpy(b)
                flat = np.ravel_multi_index(w2, ga.shape) if w2 is not None and ga.ndim else 0
                result.status = "fail"
                result.message = (f"gradient wrt {setting.theirs(k)}: got {float(ga.reshape(-1)[flat])!r}, "
                                  f"want {float(gb.reshape(-1)[flat])!r}")
                return result
    return result


# --------------------------------------------------------------------------------- CLI ----
def _value(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m losses.conformance check",
        description="Check your implementation of a loss against the library's cases.")
    p.add_argument("target", metavar="MODULE:FUNCTION", help="your function, e.g. mypkg.losses:focal_loss")
    p.add_argument("--like", required=True, help="the library's loss it implements, e.g. sigmoid_focal_loss")
    p.add_argument("--backend", choices=("numpy", "torch", "jax"), help="your function's framework")
    p.add_argument("--arg", action="append", default=[], metavar="THEIRS=OURS",
                   help="map one of your argument names to the library's (repeatable)")
    p.add_argument("--kw", action="append", default=[], metavar="NAME=VALUE",
                   help="a keyword your function is always called with (repeatable)")
    p.add_argument("--reduction", help="the reduction your function computes (same as --kw reduction=...)")
    p.add_argument("--case", action="append", help="only these case names (repeatable)")
    p.add_argument("--dtype", default="float64")
    p.add_argument("--no-edges", action="store_true", help="skip the NaN/inf/empty variants")
    p.add_argument("--json", metavar="PATH", help="write the report as JSON")
    a = p.parse_args(argv)
    module_name, _, qual = a.target.partition(":")
    if not qual:
        p.error("give the function as MODULE:FUNCTION")
    sys.path.insert(0, "")
    obj = importlib.import_module(module_name)
    for part in qual.split("."):
        obj = getattr(obj, part)
    args = dict(item.split("=", 1) for item in a.arg)
    kwargs = {k: _value(v) for k, v in (item.split("=", 1) for item in a.kw)}
    if a.reduction:
        kwargs[setting_name(args, "reduction")] = a.reduction
    report = check(obj, a.like, backend=a.backend, args=args, kwargs=kwargs, dtype=a.dtype,
                   edges=not a.no_edges, cases=a.case)
    print(report)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(report.to_json(), fh, indent=1)
    return 0 if report.ok else 1


def setting_name(args: dict, ours: str) -> str:
    """The user's name for one of the library's arguments."""
    return next((t for t, o in args.items() if o == ours), ours)

