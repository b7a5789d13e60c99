"""PyTorch-like printing of tensors."""
from __future__ import annotations

from . import backend
from .backend import dtypes as _dt

_np = backend.xp
_opts = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None) -> None:
    """Set printing options as ``torch.set_printoptions`` does."""
    if profile == "default":
        _opts.update(precision=4, threshold=1000, edgeitems=3, linewidth=80)
    elif profile == "full":
        _opts.update(precision=4, threshold=float("inf"), edgeitems=3, linewidth=80)
    for k, v in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                 ("linewidth", linewidth)):
        if v is not None:
            _opts[k] = v
    _opts["sci_mode"] = sci_mode


def _float_formatter(a):
    finite = a[_np.isfinite(a)]
    prec = _opts["precision"]
    if finite.size == 0:
        return lambda v: f"{v}".replace("inf", "inf")
    absf = _np.abs(finite)
    mx, mn = float(absf.max()), float(absf.min())
    ints = bool((finite == _np.round(finite)).all())
    sci = _opts["sci_mode"]
    if sci is None:
        nz = absf[absf > 0]
        sci = mx >= 1e8 or (nz.size and float(nz.min()) < 1e-4) or \
            (nz.size and mx / float(nz.min()) > 1000.0 and not ints)
    if sci:
        return lambda v: _fmt_special(v) or f"{v:.{prec}e}"
    if ints:
        return lambda v: _fmt_special(v) or f"{v:.0f}."
    return lambda v: _fmt_special(v) or f"{v:.{prec}f}"
    _ = mn


def _fmt_special(v):
    if _np.isnan(v):
        return "nan"
    if _np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return None


def _format(a):
    if a.dtype.kind == "f":
        f = _float_formatter(a.astype(_np.float64))
    elif a.dtype.kind == "b":
        def f(v):
            return "True" if v else "False"
    else:
        def f(v):
            return str(int(v))
    summarize = a.size > _opts["threshold"]
    if a.ndim == 0:
        return f(a.item())
    strs = _np.vectorize(lambda v: f(v), otypes=[object])(a) if a.size else a.astype(object)
    width = max((len(s) for s in strs.reshape(-1)), default=0)
    return _nested(strs, width, 1, summarize)


def _nested(s, width, depth, summarize):
    ed = _opts["edgeitems"]
    if s.ndim == 1:
        items = [x.rjust(width) for x in s]
        if summarize and len(items) > 2 * ed:
            items = items[:ed] + ["..."] + items[-ed:]
        per_line = max(1, (_opts["linewidth"] - 7) // (width + 2))
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (depth + 7)).join(lines) + "]"
    rows = [_nested(r, width, depth + 1, summarize) for r in s]
    if summarize and len(rows) > 2 * ed:
        rows = rows[:ed] + ["..."] + rows[-ed:]
    sep = "," + "\n" * (s.ndim - 1) + " " * (depth + 7)
    return "[" + sep.join(rows) + "]"


def tensor_repr(t) -> str:
    a = backend.to_host(t._data)
    body = _format(a)
    extras = []
    if a.size == 0 and a.ndim != 1 or a.size == 0 and False:
        extras.append(f"size={tuple(a.shape)}")
    d = _dt.from_np(a.dtype)
    if d not in (_dt.get_default_dtype(), _dt.int64, _dt.bool_) or (a.size == 0 and d is not
                                                                         _dt.get_default_dtype()):
        extras.append(f"dtype={d!r}")
    if t._node is not None:
        extras.append(f"grad_fn=<{t._node.name()}>")
    elif t._rg:
        extras.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"
