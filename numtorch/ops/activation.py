"""Activation primitives: softmax, log_softmax, leaky_relu, elu (selu, celu), gelu, silu,
softplus, hardtanh; ``erf_array`` is the error function that exact GELU needs."""
from __future__ import annotations

import math

from ..autograd.function import Context, Function

xp = Context.xp

# ---- erf without scipy ----------------------------------------------------------------------
# FreeBSD msun s_erf.c (Sun Microsystems, 1993; as in musl): rational approximations on
# |x| < 0.84375, [0.84375, 1.25), [1.25, 1/0.35), [1/0.35, 6); erf = +-1 beyond. Error < 1 ulp.
_PP = (1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02,
       -5.77027029648944159157e-03, -2.37630166566501626084e-05)
_QQ = (1.0, 3.97917223959155352819e-01, 6.50222499887672944485e-02, 5.08130628187576562776e-03,
       1.32494738004321644526e-04, -3.96022827877536812320e-06)
_ERX = 8.45062911510467529297e-01
_PA = (-2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01,
       3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02,
       -2.16637559486879084300e-03)
_QA = (1.0, 1.06420880400844228286e-01, 5.40397917702171048937e-01, 7.18286544141962662868e-02,
       1.26171219808761642112e-01, 1.36370839120290507362e-02, 1.19844998467991074170e-02)
_RA = (-9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e+01,
       -6.23753324503260060396e+01, -1.62396669462573470355e+02, -1.84605092906711035994e+02,
       -8.12874355063065934246e+01, -9.81432934416914548592e+00)
_SA = (1.0, 1.96512716674392571292e+01, 1.37657754143519042600e+02, 4.34565877475229228821e+02,
       6.45387271733267880336e+02, 4.29008140027567833386e+02, 1.08635005541779435134e+02,
       6.57024977031928170135e+00, -6.04244152148580987438e-02)
_RB = (-9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e+01,
       -1.60636384855821916062e+02, -6.37566443368389627722e+02, -1.02509513161107724954e+03,
       -4.83519191608651397019e+02)
_SB = (1.0, 3.03380607434824582924e+01, 3.25792512996573918826e+02, 1.53672958608443695994e+03,
       3.19985821950859553908e+03, 2.55305040643316442583e+03, 4.74528541206955367215e+02,
       -2.24409524465858183362e+01)


def _horner(z, coefs):
    r = coefs[-1]
    for c in coefs[-2::-1]:
        r = r * z + c
    return r


def erf_array(x):
    """erf of a float array, accurate to float64 rounding (float32/16 inputs round back)."""
    a = xp.abs(x.astype(xp.float64))
    out = xp.empty_like(a)
    small = a < 0.84375
    z = a[small]
    zz = z * z
    out[small] = z + z * (_horner(zz, _PP) / _horner(zz, _QQ))
    mid = (a >= 0.84375) & (a < 1.25)
    s = a[mid] - 1.0
    out[mid] = _ERX + _horner(s, _PA) / _horner(s, _QA)
    big = (a >= 1.25) & (a < 6.0)
    z = a[big]
    s = 1.0 / (z * z)
    near = z < 1 / 0.35
    rs = xp.where(near, _horner(s, _RA) / _horner(s, _SA), _horner(s, _RB) / _horner(s, _SB))
    # NOTE: exp(-x*x) split through a truncated z keeps the product exact (as msun does)
    zt = (z.view(xp.uint64) & xp.uint64(0xFFFFFFFF00000000)).view(xp.float64)
    out[big] = 1.0 - xp.exp(-zt * zt - 0.5625) * xp.exp((zt - z) * (zt + z) + rs) / z
    out[a >= 6.0] = 1.0
    nan = xp.isnan(a)
    if nan.any():
        out[nan] = xp.nan
    return xp.copysign(out, x).astype(x.dtype, copy=False)


# ---- softmax family ---------------------------------------------------------------------------
class Softmax(Function):
    """y = exp(x - max) / sum(exp(x - max)) along ``dim``; dx = y * (gy - sum(gy * y))."""

    @staticmethod
    def forward(ctx: Context, x, dim):
        ctx.dim = dim
        if x.size == 0:
            ctx.save_for_backward(x)
            return x.copy()
        y = x - x.max(axis=dim, keepdims=True)
        xp.exp(y, out=y)
        y /= y.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, gy):
        (y,) = ctx.saved_tensors
        gx = gy * y
        gx -= y * gx.sum(axis=ctx.dim, keepdims=True)
        return gx, None


class LogSoftmax(Function):
    """y = x - max - log(sum(exp(x - max))) along ``dim``; dx = gy - exp(y) * sum(gy)."""

    @staticmethod
    def forward(ctx: Context, x, dim):
        ctx.dim = dim
        if x.size == 0:
            ctx.save_for_backward(x)
            return x.copy()
        y = x - x.max(axis=dim, keepdims=True)
        y -= xp.log(xp.exp(y).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, gy):
        (y,) = ctx.saved_tensors
        return gy - xp.exp(y) * gy.sum(axis=ctx.dim, keepdims=True), None


# ---- piecewise and smooth activations ---------------------------------------------------------
class LeakyRelu(Function):
    """y = x if x > 0 else slope * x; NOTE: at 0 the gradient is ``slope``, as in PyTorch.
    Only the mask x > 0 is saved, so the in-place form may overwrite x."""

    @staticmethod
    def forward(ctx: Context, x, slope):
        pos = x > 0
        ctx.save_for_backward(pos)
        ctx.slope = slope
        return xp.where(pos, x, x * x.dtype.type(slope))

    @staticmethod
    def backward(ctx: Context, gy):
        (pos,) = ctx.saved_tensors
        return xp.where(pos, gy, gy * gy.dtype.type(ctx.slope)), None


class Elu(Function):
    """y = scale * x if x > 0 else scale * alpha * (exp(input_scale * x) - 1).

    ELU is (alpha, 1, 1), SELU (1.6733, 1.0507, 1), CELU (alpha, 1, 1/alpha), as PyTorch's elu
    kernel; the x <= 0 branch's derivative is scale * alpha * input_scale * exp(input_scale * x).
    The derivative itself is saved (not x), so the in-place form may overwrite x.
    """

    @staticmethod
    def forward(ctx: Context, x, alpha, scale, input_scale):
        t = x.dtype.type
        pos = x > 0
        e = xp.minimum(x, 0) * t(input_scale)
        y = xp.where(pos, x * t(scale), xp.expm1(e) * t(alpha * scale))
        xp.exp(e, out=e)
        ctx.save_for_backward(xp.where(pos, t(scale), e * t(alpha * scale * input_scale)))
        return y

    @staticmethod
    def backward(ctx: Context, gy):
        (d,) = ctx.saved_tensors
        return gy * d, None, None, None


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


# Numerical Recipes' erfc (Chebyshev fit): relative error < 1.2e-7 for z >= 0; float32 GELU's
# Phi needs no more, and one formula is several times faster than the branches of erf_array.
_ERFC_NR = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807,
            -1.13520398, 1.48851587, -0.82215223, 0.17087277)


def _phi_fast(x):
    """Standard normal CDF of a float32/16 array to float32 accuracy (float16 computes in
    float32 and rounds back)."""
    if x.dtype.itemsize < 4:
        return _phi_fast(x.astype(xp.float32)).astype(x.dtype)
    t = x.dtype.type
    z = xp.abs(x) * t(_SQRT_HALF)
    tt = 1 / (1 + t(0.5) * z)
    p = tt * t(_ERFC_NR[-1])
    for c in _ERFC_NR[-2:0:-1]:
        p += t(c)
        p *= tt
    p += t(_ERFC_NR[0])
    z *= z
    p -= z
    e = xp.exp(p)
    e *= tt
    e *= t(0.5)  # e = erfc(|x| / sqrt 2) / 2 = Phi(-|x|)
    return xp.where(x >= 0, 1 - e, e)


class Gelu(Function):
    """y = x * Phi(x), exact (erf) or with the tanh approximation.

    exact: y = x/2 (1 + erf(x/sqrt 2)), dy/dx = Phi(x) + x phi(x).
    tanh:  y = x/2 (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3),
           dy/dx = (1 + tanh u)/2 + x/2 (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2).
    """

    @staticmethod
    def forward(ctx: Context, x, approximate):
        t = x.dtype.type
        ctx.approximate = approximate
        if approximate == "tanh":
            th = xp.tanh(t(_SQRT_2_OVER_PI) * (x + t(0.044715) * x * x * x))
            ctx.save_for_backward(x, th)
            return t(0.5) * x * (1 + th)
        if x.dtype == xp.float64:
            cdf = t(0.5) * (1 + erf_array(x * t(_SQRT_HALF)))
        else:  # NOTE: float32 accuracy (< 1e-7 absolute in Phi) with a faster formula
            cdf = _phi_fast(x)
        ctx.save_for_backward(x, cdf)
        return x * cdf

    @staticmethod
    def backward(ctx: Context, gy):
        x, s = ctx.saved_tensors
        t = x.dtype.type
        if ctx.approximate == "tanh":
            inner = t(_SQRT_2_OVER_PI) * (1 + t(3 * 0.044715) * x * x)
            return gy * (t(0.5) * (1 + s) + t(0.5) * x * (1 - s * s) * inner), None
        pdf = xp.exp(t(-0.5) * x * x) * t(_INV_SQRT_2PI)
        return gy * (s + x * pdf), None


class Silu(Function):
    """y = x * s, s = sigmoid(x); dy/dx = s (1 + x (1 - s))."""

    @staticmethod
    def forward(ctx: Context, x):
        s = xp.tanh(x * x.dtype.type(0.5))
        s += 1
        s *= x.dtype.type(0.5)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx: Context, gy):
        x, s = ctx.saved_tensors
        return gy * (s * (1 + x * (1 - s)))


class Softplus(Function):
    """y = log(1 + exp(beta x)) / beta, or x where beta x > threshold; dy/dx = sigmoid(beta x)
    (1 above the threshold)."""

    @staticmethod
    def forward(ctx: Context, x, beta, threshold):
        t = x.dtype.type
        bx = x * t(beta)
        ctx.save_for_backward(bx)
        ctx.threshold = threshold
        y = xp.logaddexp(t(0), bx)
        if beta != 1:
            y /= t(beta)
        return xp.where(bx > threshold, x, y)

    @staticmethod
    def backward(ctx: Context, gy):
        (bx,) = ctx.saved_tensors
        t = bx.dtype.type
        s = xp.tanh(bx * t(0.5))
        s += 1
        s *= t(0.5)
        return xp.where(bx > ctx.threshold, gy, gy * s), None, None


class Hardtanh(Function):
    """y = clamp(x, min_val, max_val); NOTE: the gradient passes only where
    min_val < x < max_val (strictly), as PyTorch's hardtanh_backward. Only that mask is saved."""

    @staticmethod
    def forward(ctx: Context, x, lo, hi):
        ctx.save_for_backward((x > lo) & (x < hi))
        return xp.clip(x, lo, hi).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, gy):
        (inside,) = ctx.saved_tensors
        return gy * inside, None, None
