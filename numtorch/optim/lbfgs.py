"""L-BFGS: limited-memory BFGS with an optional strong-Wolfe line search.

The algorithm is PyTorch 2.13's ``torch.optim.LBFGS`` (itself after minFunc and Torch7's
``optim.lbfgs``), step for step: the same two-loop recursion, first step, line search, stopping
tests and state entries. Scalars (directional derivatives, ``ro``, ``H_diag``, ``t``) stay
NumPy scalars of the parameters' dtype, so that with NumPy's weak Python scalars (NEP 50) they
round as torch's 0-d tensors do; Python numbers stay Python numbers where torch's do.
"""
from __future__ import annotations

from .. import backend
from ..autograd import grad_mode
from ..tensor import Tensor
from ._common import _check_tensor_lr, _scalar, _use_grad
from .optimizer import Optimizer

__all__ = ["LBFGS"]

xp = backend.xp
_grad_state = grad_mode.state


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """Minimizer of the cubic through ``(x1, f1)``, ``(x2, f2)`` with slopes ``g1``, ``g2``,
    clamped to ``bounds`` (default: between ``x1`` and ``x2``); the bounds' midpoint when the
    cubic has no minimum. After Torch7's ``polyinterp.lua``.
    """
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    # d1 = g1 + g2 - 3 (f1 - f2) / (x1 - x2),  d2 = sqrt(d1^2 - g1 g2); with x2 the farther
    # point, min_pos = x2 - (x2 - x1) (g2 + d2 - d1) / (g2 - g1 + 2 d2)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = xp.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                  max_ls=25):
    """Line search for a step ``t`` along ``d`` that satisfies the strong Wolfe conditions.

    ``obj_func(x, t, d)`` returns the loss (float) and flat gradient at ``x + t d``; ``f``, ``g``
    and ``gtd`` are the loss, gradient and directional derivative at ``t = 0``. Brackets an
    interval by cubic extrapolation, then zooms into it by safeguarded cubic interpolation
    (After Torch7's ``lswolfe.lua``). Returns ``(f_new, g_new, t, func_evals)``.
    """
    d_norm = xp.abs(d).max()
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = g_new.dot(d)

    # bracketing phase: grow t until an interval is known to hold a Wolfe point
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        # extrapolate, with the new step in [t + 0.01 (t - t_prev), 10 t]
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        t_prev, t = t, _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                                          bounds=(min_step, max_step))
        f_prev, g_prev, gtd_prev = f_new, g_new, gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1

    if ls_iter == max_ls:          # out of evaluations: bracket [0, t]
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom phase: shrink the bracket until a point satisfies the conditions
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0],
                               bracket[1], bracket_f[1], bracket_gtd[1])
        # NOTE: as torch, a trial point within 10% of the bracket's length from an end is
        # moved to that distance when the previous trial also was, or when it lies outside
        hi, lo = max(bracket), min(bracket)
        eps = 0.1 * (hi - lo)
        if min(hi - t, t - lo) < eps:
            if insuf_progress or t >= hi or t <= lo:
                t = hi - eps if abs(t - hi) < abs(t - lo) else lo + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False

        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1

        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            # no sufficient decrease, or not below the low end: t becomes the high end
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new, gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                # the old low end becomes the high end
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new, gtd_new

    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


def _box(v):
    """An array or NumPy scalar as a Tensor (0-d for scalars); other values unchanged."""
    return Tensor._make(xp.asarray(v)) if hasattr(v, "dtype") else v


def _unbox(v):
    """A state Tensor as its array (a 0-d one as a NumPy scalar); other values unchanged."""
    if isinstance(v, Tensor):
        a = v._data
        return a[()] if a.ndim == 0 else a
    return v


def _call(closure):
    """``closure()`` with gradient recording on."""
    prev = _grad_state.enabled
    _grad_state.enabled = True
    try:
        return closure()
    finally:
        _grad_state.enabled = prev


class LBFGS(Optimizer):
    """Implements the L-BFGS algorithm.

    Each ``step(closure)`` runs up to ``max_iter`` quasi-Newton iterations: the direction is
    ``-H g``, with ``H`` the inverse Hessian estimate built by the two-loop recursion from the
    last ``history_size`` curvature pairs; the step length is ``lr`` (``min(1, 1/|g|_1) * lr``
    on the very first iteration), or is found by a strong-Wolfe line search.

    Args:
        params (iterable): parameters to optimize (a single parameter group).
        lr (float, Tensor): learning rate. Default: ``1``
        max_iter (int): maximal number of iterations per optimization step. Default: ``20``
        max_eval (int): maximal number of function evaluations per optimization step.
            Default: ``max_iter * 5 // 4``
        tolerance_grad (float): termination tolerance on first-order optimality (the largest
            absolute gradient entry). Default: ``1e-7``
        tolerance_change (float): termination tolerance on changes of the loss and of the
            parameters. Default: ``1e-9``
        history_size (int): update history size. Default: ``100``
        line_search_fn (str): ``'strong_wolfe'`` or ``None``. Default: ``None``

    State (kept under the first parameter, as torch does): ``func_evals``, ``n_iter``, ``d``,
    ``t``, ``old_dirs``, ``old_stps``, ``ro``, ``H_diag``, ``prev_flat_grad``, ``prev_loss``,
    ``al``.

    Differs from torch: complex and sparse parameters are not supported.
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None) -> None:
        _check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    # ---- flat views of the parameters -------------------------------------------------------
    def _gather_flat_grad(self):
        """All gradients as one new 1-d array (zeros for parameters without one)."""
        return xp.concatenate([
            xp.zeros(p._data.size, dtype=p._data.dtype) if p.grad is None
            else p.grad._data.reshape(-1) for p in self._params])

    def _add_grad(self, step_size, update) -> None:
        """``p += step_size * update`` for the slices of the flat ``update``, in place."""
        offset = 0
        ws = self._ws
        for p in self._params:
            a = p._data
            n = a.size
            a += xp.multiply(update[offset:offset + n].reshape(a.shape), step_size,
                             out=ws.get(a))
            p._vc[0] += 1
            offset += n

    def _clone_param(self) -> list:
        return [p._data.copy() for p in self._params]

    def _set_param(self, params_data) -> None:
        for p, x in zip(self._params, params_data):
            xp.copyto(p._data, x)
            p._vc[0] += 1

    def _directional_evaluate(self, closure, x, t, d):
        """Loss and flat gradient at ``x + t d``; the parameters are restored to ``x``."""
        self._add_grad(t, d)
        loss = float(_call(closure))
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    @_use_grad
    def step(self, closure):
        """Perform a single optimization step (up to ``max_iter`` L-BFGS iterations).

        Args:
            closure (Callable): a closure that re-evaluates the model (zeroing the gradients,
                computing the loss and calling ``backward``) and returns the loss; it is
                called with gradients enabled.

        Returns:
            the loss returned by the first call of ``closure``.
        """
        if len(self.param_groups) != 1:
            raise AssertionError(f"Expected exactly one param_group, but got "
                                 f"{len(self.param_groups)}")
        group = self.param_groups[0]
        lr = _scalar(group["lr"])
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]

        # NOTE: the state is global, but kept under the first parameter (as torch does), so
        # that load_state_dict casts it to the parameters' dtype
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = _call(closure)
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if xp.abs(flat_grad).max() <= tolerance_grad:
            return orig_loss
        opt_cond = False

        d, t = _unbox(state.get("d")), _unbox(state.get("t"))
        old_dirs, old_stps, ro = (None if state.get(k) is None else
                                  [_unbox(v) for v in state[k]]
                                  for k in ("old_dirs", "old_stps", "ro"))
        H_diag = _unbox(state.get("H_diag"))
        prev_flat_grad = _unbox(state.get("prev_flat_grad"))
        prev_loss = state.get("prev_loss")
        al = None if "al" not in state else [_unbox(v) for v in state["al"]]
        tmp = None

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # ---- descent direction -----------------------------------------------------------
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1
            else:
                # update the memory with the curvature pair (s, y), if it has ys > 0
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = y.dot(s)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / y.dot(y)          # scale of the initial inverse Hessian

                # two-loop recursion: d = -H g
                num_old = len(old_dirs)
                if al is None:
                    state["al"] = [None] * history_size
                    al = [None] * history_size
                if tmp is None:
                    tmp = xp.empty_like(flat_grad)
                q = -flat_grad
                for i in range(num_old - 1, -1, -1):
                    al[i] = old_stps[i].dot(q) * ro[i]
                    q -= xp.multiply(old_dirs[i], al[i], out=tmp)
                q *= H_diag
                d = r = q
                for i in range(num_old):
                    be_i = old_dirs[i].dot(r) * ro[i]
                    r += xp.multiply(old_stps[i], al[i] - be_i, out=tmp)

            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.copy()
            else:
                prev_flat_grad[...] = flat_grad
            prev_loss = loss

            # ---- step length -----------------------------------------------------------------
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / xp.abs(flat_grad).sum()) * lr
            else:
                t = lr
            gtd = flat_grad.dot(d)                  # directional derivative
            if gtd > -tolerance_change:
                break

            ls_func_evals = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x_init = self._clone_param()

                def obj_func(x, t, d):
                    return self._directional_evaluate(closure, x, t, d)

                # NOTE: as torch, the search uses its own tolerance_change (1e-9)
                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    obj_func, x_init, t, d, loss, flat_grad, gtd,
                    max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = xp.abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)
                if n_iter != max_iter:
                    # the last iteration's loss is not re-evaluated (useless when stochastic)
                    loss = float(_call(closure))
                    flat_grad = self._gather_flat_grad()
                    opt_cond = xp.abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            # ---- stopping tests --------------------------------------------------------------
            if n_iter == max_iter:
                break
            if current_evals >= max_eval:
                break
            if opt_cond:
                break
            if xp.abs(d * t).max() <= tolerance_change:        # lack of progress
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        state["d"] = _box(d)
        state["t"] = _box(t)
        state["old_dirs"] = None if old_dirs is None else [_box(v) for v in old_dirs]
        state["old_stps"] = None if old_stps is None else [_box(v) for v in old_stps]
        state["ro"] = None if ro is None else [_box(v) for v in ro]
        state["H_diag"] = _box(H_diag)
        state["prev_flat_grad"] = _box(prev_flat_grad)
        state["prev_loss"] = prev_loss
        if al is not None:
            state["al"][:] = [_box(v) for v in al]
        return orig_loss
