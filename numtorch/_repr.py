"""PyTorch's tensor printing (a port of ``torch/_tensor_str.py`` for real dtypes)."""
from __future__ import annotations

import contextlib
import math

from . import backend
from .backend import dtypes as _dt

_np = backend.xp


class _Options:
    precision = 4
    threshold = 1000
    edgeitems = 3
    linewidth = 80
    sci_mode = None


PRINT_OPTS = _Options()


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None) -> None:
    """Set printing options as ``torch.set_printoptions`` does.

    Args:
        precision: digits after the decimal point (default 4)
        threshold: element count above which the tensor is summarised with "..." (default 1000)
        edgeitems: items shown at the start and end of each summarised dimension (default 3)
        linewidth: characters per line (default 80)
        profile: "default", "short" or "full" presets
        sci_mode: force (True) or forbid (False) scientific notation; None chooses automatically
    """
    presets = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80),
               "full": (4, math.inf, 3, 80)}
    if profile is not None and profile in presets:
        (PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems,
         PRINT_OPTS.linewidth) = presets[profile]
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict:
    """The current printing options as a dict."""
    return {k: getattr(PRINT_OPTS, k) for k in
            ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")}


@contextlib.contextmanager
def printoptions(**kwargs):
    """Context manager that sets printing options temporarily."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """Chooses integer, fixed or scientific notation and the column width for a whole tensor."""

    def __init__(self, a) -> None:
        self.floating = a.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        prec = PRINT_OPTS.precision
        if not self.floating:
            if a.size:
                self.max_width = max(len(str(v)) for v in a.reshape(-1).tolist())
        else:
            flat = a.reshape(-1).astype(_np.float64)
            vals = flat[_np.isfinite(flat) & (flat != 0)]
            if vals.size:
                absv = _np.abs(vals)
                mn, mx = float(absv.min()), float(absv.max())
                self.int_mode = bool((vals == _np.ceil(vals)).all())
                sci = PRINT_OPTS.sci_mode
                self.sci_mode = (mx / mn > 1000.0 or mx > 1.0e8 or mn < 1.0e-4) if sci is None \
                    else sci
                values = vals.tolist()
                if self.sci_mode:
                    self.max_width = max(len(f"{v:.{prec}e}") for v in values)
                elif self.int_mode:
                    self.max_width = max(len(f"{v:.0f}") + 1 for v in values)
                else:
                    self.max_width = max(len(f"{v:.{prec}f}") for v in values)

    def format(self, value) -> str:
        prec = PRINT_OPTS.precision
        if self.floating:
            if self.sci_mode:
                s = f"{value:{self.max_width}.{prec}e}"
            elif self.int_mode:
                s = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    s += "."
            else:
                s = f"{value:.{prec}f}"
        else:
            s = f"{value}"
        return (self.max_width - len(s)) * " " + s


def _summarized(a):
    """The elements that are printed when the tensor is summarised (for the formatter)."""
    ed = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        return _np.concatenate((a[:ed], a[-ed:])) if a.shape[0] > 2 * ed else a
    if not ed:
        return _np.empty((0,) * a.ndim, a.dtype)
    rows = list(range(ed)) + list(range(a.shape[0] - ed, a.shape[0])) \
        if a.shape[0] > 2 * ed else range(a.shape[0])
    return _np.stack([_summarized(a[i]) for i in rows])


def _vector_str(a, indent, summarize, fmt):
    element_length = fmt.max_width + 2
    per_line = max(1, int(math.floor((PRINT_OPTS.linewidth - indent) / element_length)))
    ed = PRINT_OPTS.edgeitems
    if summarize and not ed:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * ed:
        data = ([fmt.format(v) for v in a[:ed].tolist()] + [" ..."] +
                [fmt.format(v) for v in a[-ed:].tolist()])
    else:
        data = [fmt.format(v) for v in a.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str(a, indent, summarize, fmt):
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, fmt)
    ed = PRINT_OPTS.edgeitems
    if summarize and a.shape[0] > 2 * ed:
        slices = ([_tensor_str(a[i], indent + 1, summarize, fmt) for i in range(ed)] + ["..."] +
                  [_tensor_str(a[i], indent + 1, summarize, fmt)
                   for i in range(a.shape[0] - ed, a.shape[0])])
    else:
        slices = [_tensor_str(a[i], indent + 1, summarize, fmt) for i in range(a.shape[0])]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _add_suffixes(text, suffixes, indent):
    parts = [text]
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def tensor_repr(t) -> str:
    """``repr(tensor)`` exactly as PyTorch prints it (with ``numtorch.`` for ``torch.``)."""
    a = backend.to_host(t._data)
    prefix = "tensor("
    indent = len(prefix)
    d = _dt.from_np(a.dtype)
    suffixes = []
    if a.size == 0:
        if a.ndim != 1:
            suffixes.append(f"size={tuple(a.shape)}")
        if d is not _dt.get_default_dtype():
            suffixes.append(f"dtype={d!r}")
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={tuple(a.shape)}")
        if d not in (_dt.get_default_dtype(), _dt.int64, _dt.bool_):
            suffixes.append(f"dtype={d!r}")
        if a.dtype == _np.float16:
            a = a.astype(_np.float32)
        summarize = a.size > PRINT_OPTS.threshold
        fmt = _Formatter(_summarized(a) if summarize else a)
        body = _tensor_str(a, indent, summarize, fmt)
    if t._node is not None:
        suffixes.append(f"grad_fn=<{t._node.name()}>")
    elif t._rg:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)
