"""Loss functions and loss modules against PyTorch: values, dtypes, shapes, gradients, errors."""
import itertools
import warnings

import numpy as np
import pytest
import torch

import numtorch as nt
from tests.oracle.harness import Case, check_case, gradcheck_case, register

RED = ("mean", "sum", "none")


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """torch's intra-op threads only spin on these tiny inputs (and on a busy 2-core machine)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _F(lib):
    return lib.nn.functional


def _quiet(fn):
    """Run a case with warnings silenced (broadcast / 'mean' warnings are tested separately)."""
    def run(lib, *ts):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(lib, *ts)
    return run


# ---- cross_entropy / nll_loss with class-index targets -------------------------------------------
# (input shape, target shape, classes): batched, K-dim, unbatched, and many classes (C > 32 takes
# the sample-major layout in ops/loss.py)
CLASS_SHAPES = {"2d": ((5, 4), (5,), 4), "kdim": ((2, 4, 3, 2), (2, 3, 2), 4),
                "1d": ((4,), (), 4), "wide": ((6, 40), (6,), 40)}


def _class_make(kind, weighted, ignore, logprob=False):
    xs, ts, c = CLASS_SHAPES[kind]

    def make(rng, dtype):
        x = rng.standard_normal(xs)
        if logprob:
            x = x - np.log(np.exp(x).sum(axis=0 if len(xs) == 1 else 1, keepdims=True))
        t = np.asarray(rng.integers(0, c, ts), dtype=np.int64)
        if ignore == "neg":
            t.flat[0] = -100
        elif ignore == "cls":
            t.flat[-1] = 1
        out = [x.astype(dtype), t]
        if weighted:
            out.append(rng.uniform(0.5, 2.0, c).astype(dtype))
        return out
    return make


def _class_cases(name, loss, with_ls):
    cases = []
    smoothing = (0.0, 0.25) if with_ls else (0.0,)
    for kind, red, weighted, ignore, ls in itertools.product(
            CLASS_SHAPES, RED, (False, True), (None, "neg", "cls"), smoothing):
        if kind == "1d" and ignore:
            continue                      # a 1-d input with its only target ignored is NaN
        kw = dict(reduction=red)
        if ls:
            kw["label_smoothing"] = ls
        if ignore == "cls":
            kw["ignore_index"] = 1
        cname = f"{name}_{kind}_{red}" + "_w" * weighted + (f"_ign{ignore}" if ignore else "") + \
            (f"_ls{ls}" if ls else "")
        cases.append(Case(cname, lambda lib, x, t, *w, kw=kw: loss(lib)(x, t, *w, **kw),
                          make=_class_make(kind, weighted, ignore, logprob=name == "nll"),
                          grad=[True, False] + [False] * weighted))
    return cases


CE_CASES = _class_cases("ce", lambda lib: _F(lib).cross_entropy, with_ls=True)
NLL_CASES = _class_cases("nll", lambda lib: _F(lib).nll_loss, with_ls=False)


# ---- cross_entropy with class-probability targets ------------------------------------------------
def _prob_make(xs, weighted):
    def make(rng, dtype):
        x = rng.standard_normal(xs)
        t = rng.uniform(0.1, 1.0, xs)
        t /= t.sum(axis=0 if len(xs) == 1 else 1, keepdims=True)
        c = xs[0] if len(xs) == 1 else xs[1]
        return [x.astype(dtype), t.astype(dtype)] + \
            ([rng.uniform(0.5, 2.0, c).astype(dtype)] if weighted else [])
    return make


PROB_CASES = [
    Case(f"ce_prob_{len(xs)}d_{red}" + "_w" * w + (f"_ls{ls}" if ls else ""),
         lambda lib, x, t, *wt, kw=dict(reduction=red, label_smoothing=ls):
         _F(lib).cross_entropy(x, t, *wt, **kw), make=_prob_make(xs, w))
    for xs, red, w, ls in itertools.product(((5, 4), (2, 4, 3), (4,)), RED, (False, True),
                                            (0.0, 0.2))]


# ---- binary cross-entropy ------------------------------------------------------------------------
def _bce_make(weight_shape, logits, pos_weight=False):
    def make(rng, dtype):
        x = rng.standard_normal((3, 4)) * 3 if logits else rng.uniform(0.05, 0.95, (3, 4))
        out = [x.astype(dtype), rng.uniform(0, 1, (3, 4)).astype(dtype)]
        if weight_shape is not None:
            out.append(rng.uniform(0.5, 2.0, weight_shape).astype(dtype))
        if pos_weight:
            out.append(rng.uniform(0.5, 3.0, (4,)).astype(dtype))
        return out
    return make


BCE_CASES = [
    Case(f"bce_{red}_w{ws}", lambda lib, x, t, *w, red=red: _F(lib).binary_cross_entropy(
        x, t, *w, reduction=red), make=_bce_make(ws, False), grad=[True, True] + [False] * bool(ws))
    for red, ws in itertools.product(RED, (None, (3, 4), (4,)))]
BCEL_CASES = [
    Case(f"bce_logits_{red}_w{ws}_pw{pw}",
         lambda lib, x, t, *rest, red=red, ws=ws, pw=pw: _F(lib).binary_cross_entropy_with_logits(
             x, t, rest[0] if ws else None, reduction=red, pos_weight=rest[-1] if pw else None),
         make=_bce_make(ws, True, pw), grad=[True, True] + [False] * (bool(ws) + pw))
    for red, ws, pw in itertools.product(RED, (None, (4,)), (False, True))]


# ---- pointwise regression losses and kl_div ------------------------------------------------------
def _pair(shape_x=(3, 4), shape_t=(3, 4), domain_t=None, weight=False, t_dtype=None):
    def make(rng, dtype):
        t = rng.standard_normal(shape_t) if domain_t is None else rng.uniform(*domain_t, shape_t)
        out = [rng.standard_normal(shape_x).astype(dtype), t.astype(t_dtype or dtype)]
        if weight:
            out.append(rng.uniform(0.5, 2.0, shape_x).astype(dtype))
        return out
    return make


POINTWISE = {
    "mse": lambda lib, x, t, **kw: _F(lib).mse_loss(x, t, **kw),
    "l1": lambda lib, x, t, **kw: _F(lib).l1_loss(x, t, **kw),
    "smooth_l1": lambda lib, x, t, **kw: _F(lib).smooth_l1_loss(x, t, beta=0.5, **kw),
    "smooth_l1_beta0": lambda lib, x, t, **kw: _F(lib).smooth_l1_loss(x, t, beta=0.0, **kw),
    "huber": lambda lib, x, t, **kw: _F(lib).huber_loss(x, t, delta=0.7, **kw),
    "huber_delta2": lambda lib, x, t, **kw: _F(lib).huber_loss(x, t, delta=2, **kw),
}
POINT_CASES = [Case(f"{n}_{red}", lambda lib, x, t, f=f, red=red: f(lib, x, t, reduction=red),
                    make=_pair()) for (n, f), red in itertools.product(POINTWISE.items(), RED)]
POINT_CASES += [
    Case(f"{n}_bcast", _quiet(lambda lib, x, t, f=f: f(lib, x, t)), make=_pair(shape_t=(4,)))
    for n, f in POINTWISE.items()]
POINT_CASES += [
    Case(f"{n}_weight_{red}", lambda lib, x, t, w, n=n, red=red: POINTWISE[n](
        lib, x, t, reduction=red, weight=w), make=_pair(weight=True))
    for n, red in itertools.product(("mse", "l1", "huber"), RED)]
POINT_CASES += [
    Case("mse_int_target", lambda lib, x, t: _F(lib).mse_loss(x, t), make=_pair(t_dtype=np.int64),
         grad=[True, False]),
    Case("mse_f64_target", lambda lib, x, t: _F(lib).mse_loss(x, t),
         make=lambda rng, dt: [rng.standard_normal((3, 4)).astype(dt),
                               rng.standard_normal((3, 4))]),
    Case("l1_0d", lambda lib, x, t: _F(lib).l1_loss(x, t), make=_pair((), ())),
    Case("mse_empty", lambda lib, x, t: _F(lib).mse_loss(x, t, reduction="sum"),
         make=_pair((0, 3), (0, 3))),
]
KL_CASES = [
    Case(f"kl_div_{red}_log{lt}", _quiet(lambda lib, x, t, red=red, lt=lt: _F(lib).kl_div(
        x, t, reduction=red, log_target=lt)), make=_pair(domain_t=(-2, 0) if lt else (0.1, 1)))
    for red, lt in itertools.product(RED + ("batchmean",), (False, True))]
KL_CASES.append(Case("kl_div_bcast_none", lambda lib, x, t: _F(lib).kl_div(x, t, reduction="none"),
                     make=_pair(shape_t=(4,), domain_t=(0.1, 1))))


# ---- the optional losses (composites) ------------------------------------------------------------
def _signs(shape):
    return lambda rng, dt: [rng.standard_normal(shape).astype(dt),
                            np.where(rng.random(shape) > 0.5, 1.0, -1.0).astype(dt)]


OTHER_CASES = []
for red in RED:
    OTHER_CASES += [
        Case(f"poisson_{red}", lambda lib, x, t, red=red: _F(lib).poisson_nll_loss(
            x, t, reduction=red), make=_pair(domain_t=(0, 4))),
        Case(f"poisson_full_rate_{red}", lambda lib, x, t, red=red: _F(lib).poisson_nll_loss(
            x.abs() + 0.1, t, log_input=False, full=True, reduction=red),
            make=_pair(domain_t=(0.5, 4))),
        Case(f"gaussian_nll_{red}", lambda lib, x, t, v, red=red: _F(lib).gaussian_nll_loss(
            x, t, v.abs() + 0.2, full=True, reduction=red), shapes=[(3, 4), (3, 4), (3, 1)]),
        Case(f"cosine_embedding_{red}", lambda lib, a, b, t, red=red: _F(lib).cosine_embedding_loss(
            a, b, t, margin=0.1, reduction=red),
            make=lambda rng, dt: [rng.standard_normal((5, 3)).astype(dt),
                                  rng.standard_normal((5, 3)).astype(dt),
                                  np.array([1, -1, 1, -1, -1], dtype=dt)],
            grad=[True, True, False]),
        Case(f"margin_ranking_{red}", lambda lib, a, b, t, red=red: _F(lib).margin_ranking_loss(
            a, b, t, margin=0.2, reduction=red), shapes=[(6,), (6,), (6,)]),
        Case(f"soft_margin_{red}", lambda lib, x, t, red=red: _F(lib).soft_margin_loss(
            x, t, reduction=red), make=_signs((3, 4)), grad=[True, False]),
        Case(f"hinge_embedding_{red}", lambda lib, x, t, red=red: _F(lib).hinge_embedding_loss(
            x, t, margin=0.5, reduction=red), make=_signs((3, 4)), grad=[True, False]),
    ]
    OTHER_CASES += [
        Case(f"multilabel_soft_margin_{red}", lambda lib, x, t, w, red=red:
             _F(lib).multilabel_soft_margin_loss(x, t, weight=w, reduction=red),
             make=lambda rng, dt: [rng.standard_normal((3, 4)).astype(dt),
                                   (rng.random((3, 4)) > 0.5).astype(dt),
                                   rng.uniform(0.5, 2, 4).astype(dt)]),
        Case(f"triplet_margin_{red}", lambda lib, a, p, n, red=red: _F(lib).triplet_margin_loss(
            a, p, n, margin=2.0, reduction=red), shapes=[(5, 3), (5, 3), (5, 3)]),
        Case(f"triplet_margin_swap_p1_{red}", lambda lib, a, p, n, red=red:
             _F(lib).triplet_margin_loss(a, p, n, p=1, swap=True, margin=1.5, reduction=red),
             shapes=[(5, 3), (5, 3), (5, 3)]),
    ]
    for p in (1, 2):
        OTHER_CASES += [
            Case(f"multi_margin_p{p}_{red}", lambda lib, x, t, w, p=p, red=red:
                 _F(lib).multi_margin_loss(x, t, p=p, margin=0.8, weight=w, reduction=red),
                 make=lambda rng, dt: [rng.standard_normal((4, 5)).astype(dt),
                                       np.array([0, 3, 4, 1]), rng.uniform(0.5, 2, 5).astype(dt)],
                 grad=[True, False, False]),
            Case(f"multi_margin_1d_p{p}_{red}", lambda lib, x, t, p=p, red=red:
                 _F(lib).multi_margin_loss(x, t, p=p, reduction=red),
                 make=lambda rng, dt: [rng.standard_normal(5).astype(dt), np.array(2)],
                 grad=[True, False])]


def _transposed_logits(c):
    return lambda rng, dt: [rng.standard_normal((c, 5)).astype(dt), rng.integers(0, c, 5)]


NONCONTIG_CASES = [
    Case("ce_transposed", lambda lib, x, t: _F(lib).cross_entropy(x.t(), t, label_smoothing=0.1),
         make=_transposed_logits(4), grad=[True, False]),
    Case("ce_wide_transposed", lambda lib, x, t: _F(lib).cross_entropy(x.t(), t),
         make=_transposed_logits(40), grad=[True, False]),
    Case("nll_transposed", lambda lib, x, t: _F(lib).nll_loss(x.t(), t, reduction="none"),
         make=_transposed_logits(4), grad=[True, False]),
    Case("ce_prob_transposed", lambda lib, x, t: _F(lib).cross_entropy(x.t(), t.t()),
         shapes=[(4, 5), (4, 5)], domain=(0.1, 1)),
    Case("bce_logits_transposed", lambda lib, x, t: _F(lib).binary_cross_entropy_with_logits(
        x.t(), t.t()), shapes=[(4, 5), (4, 5)], domain=(0.1, 1)),
]

CASES = register(*CE_CASES, *NONCONTIG_CASES, *NLL_CASES, *PROB_CASES, *BCE_CASES, *BCEL_CASES,
                 *POINT_CASES, *KL_CASES, *OTHER_CASES)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_matches_torch(case, dtype):
    check_case(case, dtype)


@pytest.mark.parametrize("case", [c for c in CASES if c.differentiable], ids=lambda c: c.name)
def test_gradcheck(case):
    gradcheck_case(case)


# ---- NaN 'mean' (nothing counted), extreme logits ------------------------------------------------
def _all_ignored(rng, dt):
    return [rng.standard_normal((3, 4)).astype(dt), np.full(3, -100)]


EDGE_CASES = register(
    Case("ce_all_ignored_mean", lambda lib, x, t: _F(lib).cross_entropy(x, t), make=_all_ignored,
         grad=[True, False]),
    Case("ce_all_ignored_mean_ls", lambda lib, x, t: _F(lib).cross_entropy(
        x, t, label_smoothing=0.3), make=_all_ignored, grad=[True, False]),
    Case("nll_all_ignored_sum", lambda lib, x, t: _F(lib).nll_loss(x, t, reduction="sum"),
         make=_all_ignored, grad=[True, False]),
    Case("ce_zero_weight", lambda lib, x, t, w: _F(lib).cross_entropy(x, t, w * 0),
         make=_class_make("2d", True, None), grad=[True, False, False]),
    Case("ce_empty_batch", lambda lib, x, t: _F(lib).cross_entropy(x, t),
         make=lambda rng, dt: [np.zeros((0, 4), dt), np.zeros(0, np.int64)], grad=[True, False]),
    Case("ce_uint8_target", lambda lib, x, t: _F(lib).cross_entropy(x, t, reduction="sum"),
         make=lambda rng, dt: [rng.standard_normal((3, 4)).astype(dt),
                               np.array([1, 0, 3], np.uint8)], grad=[True, False]),
    Case("ce_prob_f64_target", lambda lib, x, t: _F(lib).cross_entropy(x, t),
         make=lambda rng, dt: [rng.standard_normal((3, 4)).astype(dt), rng.random((3, 4))]),
    Case("ce_huge_logits", lambda lib, x, t: _F(lib).cross_entropy(x * 1e4, t, label_smoothing=0.1),
         make=_class_make("2d", False, None), grad=[True, False]),
    Case("bce_logits_huge", lambda lib, x, t, pw: _F(lib).binary_cross_entropy_with_logits(
        x * 1e4, t, pos_weight=pw), make=_bce_make(None, True, True), grad=[True, True, False]),
    Case("bce_clamped_log", lambda lib, x, t: _F(lib).binary_cross_entropy(x, t, reduction="none"),
         make=lambda rng, dt: [np.array([0.0, 1.0, 1e-30, 0.5], dt), np.array([1, 0, 1, 0.5], dt)]),
)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", EDGE_CASES, ids=lambda c: c.name)
def test_edge_cases_match_torch(case, dtype):
    check_case(case, dtype)


@pytest.mark.parametrize("lt", [1e4, -1e4])
def test_extreme_logits_are_finite(lt):
    x = np.array([[lt, 0.0, -lt], [0.0, lt, 1.0]], np.float32)
    X = nt.tensor(x, requires_grad=True)
    loss = nt.nn.functional.cross_entropy(X, nt.tensor([2, 1]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(X.grad.numpy()).all()
    assert loss.item() == pytest.approx(torch.nn.functional.cross_entropy(
        torch.tensor(x), torch.tensor([2, 1])).item(), rel=1e-6)
    Z = nt.tensor(x, requires_grad=True)
    loss = nt.nn.functional.binary_cross_entropy_with_logits(
        Z, nt.tensor([[1.0, 0, 1], [0, 1, 0]]), pos_weight=nt.tensor([2.0, 1, 3]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(Z.grad.numpy()).all()


# ---- bad input: PyTorch's exception class, and a message that names the problem -----------------
def _t(lib, a, **kw):
    return lib.tensor(a, **kw)


X35 = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
ERRORS = {
    "ce_target_too_big": (lambda lib: _F(lib).cross_entropy(_t(lib, X35), _t(lib, [0, 7, 1])),
                          ["Target 7", "5 classes"]),
    "ce_target_negative": (lambda lib: _F(lib).cross_entropy(_t(lib, X35), _t(lib, [0, -3, 1])),
                           ["Target -3", "5 classes"]),
    "ce_target_oob_ls": (lambda lib: _F(lib).cross_entropy(
        _t(lib, X35), _t(lib, [0, 5, 1]), label_smoothing=0.1), ["Target 5"]),
    "ce_target_oob_unbatched": (lambda lib: _F(lib).cross_entropy(
        _t(lib, X35[0]), _t(lib, 9)), ["Target 9"]),
    "ce_target_oob_kdim": (lambda lib: _F(lib).cross_entropy(
        _t(lib, np.zeros((2, 3, 2), np.float32)), _t(lib, [[0, 1], [3, 1]])), ["Target 3"]),
    "nll_target_oob": (lambda lib: _F(lib).nll_loss(_t(lib, X35), _t(lib, [0, 1, 5])),
                       ["Target 5"]),
    "ce_oob_not_ignored": (lambda lib: _F(lib).cross_entropy(
        _t(lib, X35), _t(lib, [-100, 1, 6])), ["Target 6"]),
    "ce_batch_mismatch": (lambda lib: _F(lib).cross_entropy(_t(lib, X35), _t(lib, [0, 1, 1, 2])),
                          ["Expected input batch_size (3) to match target batch_size (4)."]),
    "nll_batch_mismatch": (lambda lib: _F(lib).nll_loss(_t(lib, X35), _t(lib, [0, 1])),
                           ["input batch_size (3)", "target batch_size (2)"]),
    "ce_kdim_target_shape": (lambda lib: _F(lib).cross_entropy(
        _t(lib, np.zeros((3, 5, 2), np.float32)), _t(lib, np.zeros((3, 3), np.int64))),
        ["[3, 2]", "[3, 3]"]),
    "ce_target_2d": (lambda lib: _F(lib).cross_entropy(
        _t(lib, X35), _t(lib, np.zeros((3, 2), np.int64))), ["multi-target"]),
    "ce_prob_wrong_shape": (lambda lib: _F(lib).cross_entropy(
        _t(lib, X35), _t(lib, np.full((3, 4), 0.25, np.float32))), ["target"]),
    "ce_prob_int_target": (lambda lib: _F(lib).cross_entropy(
        _t(lib, X35), _t(lib, np.ones((3, 5), np.int64))), ["floating point", "Long"]),
    "ce_float_index_target": (lambda lib: _F(lib).cross_entropy(
        _t(lib, X35), _t(lib, [0.0, 1.0, 2.0])), ["Long or Byte", "Float"]),
    "ce_int32_target": (lambda lib: _F(lib).cross_entropy(
        _t(lib, X35), _t(lib, np.array([0, 1, 2], np.int32))), ["Long or Byte", "Int"]),
    "ce_unbatched_target_size": (lambda lib: _F(lib).cross_entropy(
        _t(lib, X35[0]), _t(lib, [1, 2])), ["size: 2"]),
    "ce_weight_size": (lambda lib: _F(lib).cross_entropy(
        _t(lib, X35), _t(lib, [0, 1, 2]), weight=lib.ones(4)), ["5 classes", "[4]"]),
    "ce_prob_weight_size": (lambda lib: _F(lib).cross_entropy(
        _t(lib, X35), _t(lib, np.full((3, 5), 0.2, np.float32)), weight=lib.ones(4)), ["[4]"]),
    "ce_weight_dtype": (lambda lib: _F(lib).cross_entropy(
        _t(lib, X35), _t(lib, [0, 1, 2]), weight=lib.ones(5, dtype=lib.float64)),
        ["Float", "Double"]),
    "ce_label_smoothing_gt_1": (lambda lib: _F(lib).cross_entropy(
        _t(lib, X35), _t(lib, [0, 1, 2]), label_smoothing=1.5), ["1.5"]),
    "ce_prob_ignore_index": (lambda lib: _F(lib).cross_entropy(
        _t(lib, X35), _t(lib, np.full((3, 5), 0.2, np.float32)), ignore_index=1),
        ["ignore_index"]),
    "ce_int_input": (lambda lib: _F(lib).cross_entropy(
        _t(lib, np.ones((3, 5), np.int64)), _t(lib, [0, 1, 2])), ["Long"]),
    "nll_0d_input": (lambda lib: _F(lib).nll_loss(_t(lib, 1.0), _t(lib, 0)), ["got 0"]),
    "nll_weight_requires_grad": (lambda lib: _F(lib).nll_loss(
        _t(lib, X35), _t(lib, [0, 1, 2]), weight=lib.ones(5, requires_grad=True)), ["weight"]),
    "bad_reduction": (lambda lib: _F(lib).cross_entropy(
        _t(lib, X35), _t(lib, [0, 1, 2]), reduction="avg"), ["avg"]),
    "mse_bad_reduction": (lambda lib: _F(lib).mse_loss(_t(lib, X35), _t(lib, X35),
                                                       reduction="x"), ["x"]),
    "bce_shape": (lambda lib: _F(lib).binary_cross_entropy(
        _t(lib, np.full((3, 4), 0.5, np.float32)), _t(lib, np.full(4, 0.5, np.float32))),
        ["[4]", "[3, 4]"]),
    "bce_out_of_range": (lambda lib: _F(lib).binary_cross_entropy(
        _t(lib, [0.5, 1.5]), _t(lib, [0.0, 1.0])), ["between 0 and 1"]),
    "bce_target_dtype": (lambda lib: _F(lib).binary_cross_entropy(
        _t(lib, [0.5, 0.5]), _t(lib, [0.0, 1.0], dtype=lib.float64)), ["Double", "Float"]),
    "bce_weight_too_big": (lambda lib: _F(lib).binary_cross_entropy(
        _t(lib, [0.5, 0.5]), _t(lib, [0.0, 1.0]), weight=lib.ones(3, 2)), ["[3, 2]"]),
    "bce_logits_shape": (lambda lib: _F(lib).binary_cross_entropy_with_logits(
        _t(lib, X35), _t(lib, X35[0])), ["[5]", "[3, 5]"]),
    "bce_logits_pos_weight": (lambda lib: _F(lib).binary_cross_entropy_with_logits(
        _t(lib, X35), _t(lib, X35), pos_weight=lib.ones(3)), ["(3)", "(5)"]),
    "mse_bad_broadcast": (lambda lib: _F(lib).mse_loss(_t(lib, X35), _t(lib, X35[0, :4])),
                          ["(5)", "(4)"]),
    "mse_weight_size": (lambda lib: _F(lib).mse_loss(
        _t(lib, X35), _t(lib, X35), weight=lib.ones(5)), ["same size"]),
    "smooth_l1_negative_beta": (lambda lib: _F(lib).smooth_l1_loss(
        _t(lib, X35), _t(lib, X35), beta=-1.0), ["beta"]),
    "huber_zero_delta": (lambda lib: _F(lib).huber_loss(
        _t(lib, X35), _t(lib, X35), delta=0.0), ["delta"]),
    "kl_div_int_target": (lambda lib: _F(lib).kl_div(
        _t(lib, X35), _t(lib, np.ones((3, 5), np.int64)), reduction="sum"), ["Integral"]),
    "multi_margin_p3": (lambda lib: _F(lib).multi_margin_loss(
        _t(lib, X35), _t(lib, [0, 1, 2]), p=3), ["p == 1"]),
    "multi_margin_oob": (lambda lib: _F(lib).multi_margin_loss(
        _t(lib, X35), _t(lib, [0, 1, 7])), ["out of range"]),
    "multi_margin_target_size": (lambda lib: _F(lib).multi_margin_loss(
        _t(lib, X35), _t(lib, [0, 1])), ["[3]", "[2]"]),
    "margin_ranking_dims": (lambda lib: _F(lib).margin_ranking_loss(
        _t(lib, X35[0]), _t(lib, X35[0]), _t(lib, X35[:1])), ["same dimension"]),
    "cosine_embedding_dims": (lambda lib: _F(lib).cosine_embedding_loss(
        _t(lib, X35[0]), _t(lib, X35), _t(lib, [1.0, -1.0, 1.0])), ["2D input"]),
    "triplet_margin_dims": (lambda lib: _F(lib).triplet_margin_loss(
        _t(lib, X35), _t(lib, X35), _t(lib, X35[0])), ["2D", "1D"]),
    "triplet_margin_nonpositive": (lambda lib: _F(lib).triplet_margin_loss(
        _t(lib, X35), _t(lib, X35), _t(lib, X35), margin=0.0), ["margin"]),
    "soft_margin_target_grad": (lambda lib: _F(lib).soft_margin_loss(
        _t(lib, X35, requires_grad=True), _t(lib, X35, requires_grad=True)), ["target"]),
}


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", sorted(ERRORS))
def test_bad_input_raises_like_torch(name):
    fn, words = ERRORS[name]
    with pytest.raises(Exception) as ref:
        fn(torch)
    with pytest.raises(Exception) as ours:
        fn(nt)
    assert type(ours.value) is type(ref.value), \
        f"numtorch raised {type(ours.value).__name__}({ours.value}), torch {ref.typename}"
    for w in words:
        assert w in str(ours.value), f"{w!r} not in {str(ours.value)!r}"


@pytest.mark.parametrize("call", [
    lambda lib, x, t: _F(lib).mse_loss(x, t[0]),
    lambda lib, x, t: _F(lib).l1_loss(x, t[:1]),
    lambda lib, x, t: _F(lib).huber_loss(x, t[0]),
    lambda lib, x, t: _F(lib).kl_div(x, t),
    lambda lib, x, t: _F(lib).mse_loss(x, t, size_average=False),
    lambda lib, x, t: _F(lib).cross_entropy(x, (t[:, 0] * 0).long(), reduce=False),
])
def test_warnings_like_torch(call):
    """Broadcast targets, kl_div's 'mean', and the legacy size_average/reduce flags warn."""
    got = {}
    for lib in (torch, nt):
        x, t = lib.tensor(X35), lib.tensor(X35 * 0.5)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            out = call(lib, x, t)
        got[lib] = ([type(m.message) for m in w], out.detach().numpy())
    assert got[nt][0] == got[torch][0] and got[torch][0]
    np.testing.assert_allclose(got[nt][1], got[torch][1], rtol=1e-5, atol=1e-6)


# ---- modules -------------------------------------------------------------------------------------
def _modules(lib, w, pw):
    nn = lib.nn
    return {
        "MSELoss": nn.MSELoss(reduction="sum"), "L1Loss": nn.L1Loss(),
        "SmoothL1Loss": nn.SmoothL1Loss(beta=0.3), "HuberLoss": nn.HuberLoss(delta=0.4),
        "CrossEntropyLoss": nn.CrossEntropyLoss(weight=w, ignore_index=2, label_smoothing=0.1),
        "NLLLoss": nn.NLLLoss(weight=w, reduction="none"), "BCELoss": nn.BCELoss(weight=w),
        "BCEWithLogitsLoss": nn.BCEWithLogitsLoss(weight=w, pos_weight=pw),
        "KLDivLoss": nn.KLDivLoss(reduction="batchmean", log_target=True),
        "PoissonNLLLoss": nn.PoissonNLLLoss(log_input=True, full=True),
        "GaussianNLLLoss": nn.GaussianNLLLoss(full=True),
        "CosineEmbeddingLoss": nn.CosineEmbeddingLoss(margin=0.2),
        "MarginRankingLoss": nn.MarginRankingLoss(margin=0.1),
        "SoftMarginLoss": nn.SoftMarginLoss(), "HingeEmbeddingLoss": nn.HingeEmbeddingLoss(0.5),
        "MultiMarginLoss": nn.MultiMarginLoss(p=2, weight=w),
        "MultiLabelSoftMarginLoss": nn.MultiLabelSoftMarginLoss(weight=w, reduction="none"),
        "TripletMarginLoss": nn.TripletMarginLoss(margin=2.0, p=1.0, swap=True),
    }


def _module_inputs(name, rng):
    x = rng.standard_normal((4, 5)).astype(np.float32)
    probs = rng.uniform(0.05, 0.95, (4, 5)).astype(np.float32)
    labels = np.array([0, 2, 4, 1])
    signs = np.where(rng.random((4, 5)) > 0.5, 1.0, -1.0).astype(np.float32)
    return {"CrossEntropyLoss": [x, labels], "NLLLoss": [x, labels], "MultiMarginLoss": [x, labels],
            "BCELoss": [probs, probs[::-1].copy()], "KLDivLoss": [x, -probs],
            "PoissonNLLLoss": [x, probs * 3], "GaussianNLLLoss": [x, probs, probs],
            "CosineEmbeddingLoss": [x, probs, signs[:, 0]],
            "MarginRankingLoss": [x[:, 0], probs[:, 0], signs[:, 0]],
            "SoftMarginLoss": [x, signs], "HingeEmbeddingLoss": [x, signs],
            "MultiLabelSoftMarginLoss": [x, (signs > 0).astype(np.float32)],
            "TripletMarginLoss": [x, probs, x[::-1].copy()],
            }.get(name, [x, probs])


@pytest.mark.parametrize("name", sorted(_modules(torch, None, None)))
def test_module_matches_torch(name):
    rng = np.random.default_rng(3)
    w, pw = rng.uniform(0.5, 2, 5).astype(np.float32), rng.uniform(0.5, 2, 5).astype(np.float32)
    res = {}
    for lib in (torch, nt):
        mod = _modules(lib, lib.tensor(w), lib.tensor(pw))[name]
        args = [lib.tensor(a) for a in _module_inputs(name, rng=np.random.default_rng(4))]
        args[0].requires_grad_(True)
        out = mod(*args)
        out.backward(lib.ones_like(out))
        res[lib] = (out.detach().numpy(), args[0].grad.numpy(), sorted(mod.state_dict()),
                    repr(mod), mod.reduction)
    o, r = res[nt], res[torch]
    np.testing.assert_allclose(o[0], r[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(o[1], r[1], rtol=1e-5, atol=1e-6)
    assert o[2:] == r[2:]


def test_weight_is_a_buffer():
    loss = nt.nn.CrossEntropyLoss(weight=nt.tensor([1.0, 2.0, 3.0]))
    assert [n for n, _ in loss.named_buffers()] == ["weight"] and not list(loss.parameters())
    assert list(nt.nn.CrossEntropyLoss().state_dict()) == []
    bce = nt.nn.BCEWithLogitsLoss(pos_weight=nt.ones(3))
    assert list(bce.state_dict()) == ["pos_weight"]
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert nt.nn.MSELoss(size_average=False).reduction == "sum"
    with pytest.raises(ValueError, match="p == 1"):
        nt.nn.MultiMarginLoss(p=3)
    with pytest.raises(TypeError, match="delta"):
        nt.nn.HuberLoss(delta="1")


@pytest.mark.parametrize("reduction", RED)
def test_mse_and_sigmoid_gradients_are_bit_exact(reduction):
    """MSE's backward ((x - t) * norm * gy, norm = 2/n in the input dtype) and sigmoid's
    ((gy * (1 - y)) * y) follow torch's operation order, so float32 gradients match bit for bit
    (sigmoid's wherever the forward values match: torch's vectorised exp differs in the last
    bit on some inputs)."""
    rng = np.random.default_rng(3)
    a, t, gy = (rng.standard_normal((7, 130)).astype(np.float32) for _ in range(3))
    out = []
    for lib in (nt, torch):
        x = lib.tensor(a, requires_grad=True)
        loss = _F(lib).mse_loss(x, lib.tensor(t), reduction=reduction)
        loss.backward(lib.tensor(gy) if reduction == "none" else lib.tensor(0.37))
        z = lib.tensor(a, requires_grad=True)
        y = lib.sigmoid(z)
        y.backward(lib.tensor(gy))
        out.append((x.grad.numpy(), y.detach().numpy(), z.grad.numpy()))
    (gx, y, gz), (gx_t, y_t, gz_t) = out
    np.testing.assert_array_equal(gx, gx_t)
    same = y == y_t
    assert same.mean() > 0.5
    np.testing.assert_array_equal(gz[same], gz_t[same])
