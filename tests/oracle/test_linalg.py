"""Oracle tests for the matrix products (numtorch/ops/linalg.py) against torch."""
import numpy as np
import pytest
import torch

import numtorch as nt
from tests.oracle.harness import Case, check_case, gradcheck_case, register

MM = lambda lib, a, b: a @ b  # noqa: E731


def _diag_input(rng, dtype):
    return [rng.standard_normal((3, 3)).astype(dtype)]


CASES = register(
    Case("matmul_2d", MM, shapes=[(3, 4), (4, 5)]),
    Case("matmul_vv", MM, shapes=[(4,), (4,)]),
    Case("matmul_mv", MM, shapes=[(3, 4), (4,)]),
    Case("matmul_vm", MM, shapes=[(4,), (4, 5)]),
    Case("matmul_bmm", MM, shapes=[(2, 3, 4), (2, 4, 5)]),
    Case("matmul_3d_2d", MM, shapes=[(2, 3, 4), (4, 5)]),
    Case("matmul_2d_3d", MM, shapes=[(3, 4), (2, 4, 5)]),
    Case("matmul_bcast", lambda lib, a, b: lib.matmul(a, b), shapes=[(2, 1, 3, 4), (5, 4, 2)]),
    Case("matmul_vec_batched", MM, shapes=[(4,), (2, 4, 3)]),
    Case("matmul_batched_vec", MM, shapes=[(2, 3, 4), (4,)]),
    Case("matmul_k0", MM, shapes=[(3, 0), (0, 2)]),
    Case("matmul_n0", MM, shapes=[(0, 4), (4, 2)]),
    Case("matmul_transposed", lambda lib, a, b: a.mT @ b.t(), shapes=[(4, 3), (5, 4)]),
    Case("matmul_rmatmul_chain", lambda lib, a, b, c: (a @ b) @ c,
         shapes=[(2, 3), (3, 4), (4, 2)]),
    Case("matmul_int", lambda lib, a, b: (a * 10).long() @ (b * 10).long(), shapes=[(2, 3), (3, 2)],
         differentiable=False),
    Case("mm", lambda lib, a, b: lib.mm(a, b), shapes=[(3, 4), (4, 5)]),
    Case("mm_method", lambda lib, a, b: a.mm(b.t()), shapes=[(3, 4), (5, 4)]),
    Case("bmm", lambda lib, a, b: lib.bmm(a, b), shapes=[(2, 3, 4), (2, 4, 5)]),
    Case("bmm_method", lambda lib, a, b: a.bmm(b), shapes=[(1, 2, 3), (1, 3, 1)]),
    Case("mv", lambda lib, a, b: lib.mv(a, b), shapes=[(3, 4), (4,)]),
    Case("mv_method", lambda lib, a, b: a.mv(b), shapes=[(2, 4), (4,)]),
    Case("dot", lambda lib, a, b: lib.dot(a, b), shapes=[(5,), (5,)]),
    Case("dot_method", lambda lib, a, b: a.dot(b), shapes=[(5,), (5,)]),
    Case("dot_empty", lambda lib, a, b: lib.dot(a, b), shapes=[(0,), (0,)]),
    Case("vdot", lambda lib, a, b: lib.vdot(a, b), shapes=[(4,), (4,)]),
    Case("inner_1d", lambda lib, a, b: lib.inner(a, b), shapes=[(4,), (4,)]),
    Case("inner_nd", lambda lib, a, b: a.inner(b), shapes=[(2, 3), (4, 3)]),
    Case("inner_3d_1d", lambda lib, a, b: lib.inner(a, b), shapes=[(2, 5, 3), (3,)]),
    Case("inner_scalar", lambda lib, a, b: lib.inner(a, b), shapes=[(), (2, 3)]),
    Case("outer", lambda lib, a, b: lib.outer(a, b), shapes=[(3,), (4,)]),
    Case("outer_method", lambda lib, a, b: a.outer(b), shapes=[(2,), (3,)]),
    Case("ger", lambda lib, a, b: lib.ger(a, b), shapes=[(2,), (3,)]),
    Case("outer_mixed", lambda lib, a, b: lib.outer(a, b.double()), shapes=[(2,), (3,)]),
    Case("linear", lambda lib, x, w, b: lib.nn.functional.linear(x, w, b),
         shapes=[(5, 3), (4, 3), (4,)]),
    Case("linear_3d_nobias", lambda lib, x, w: lib.nn.functional.linear(x, w),
         shapes=[(2, 5, 3), (4, 3)]),
    Case("linear_1d", lambda lib, x, w, b: lib.nn.functional.linear(x, w, b),
         shapes=[(3,), (4, 3), (4,)]),
    Case("linear_vector_weight", lambda lib, x, w, b: lib.nn.functional.linear(x, w, b),
         shapes=[(2, 5, 3), (3,), ()]),
    Case("linear_vector_weight_2d", lambda lib, x, w: lib.nn.functional.linear(x, w),
         shapes=[(5, 3), (3,)]),
    Case("linear_2d_bias", lambda lib, x, w, b: lib.nn.functional.linear(x, w, b),
         shapes=[(5, 3), (4, 3), (5, 4)]),
    # einsum
    Case("einsum_mm", lambda lib, a, b: lib.einsum("ij,jk->ik", a, b), shapes=[(3, 4), (4, 5)]),
    Case("einsum_bmm", lambda lib, a, b: lib.einsum("bij,bjk->bik", a, b),
         shapes=[(2, 3, 4), (2, 4, 5)]),
    Case("einsum_implicit", lambda lib, a, b: lib.einsum("ij,jk", a, b), shapes=[(3, 4), (4, 5)]),
    Case("einsum_implicit_transpose", lambda lib, a: lib.einsum("ba", a), shapes=[(3, 4)]),
    Case("einsum_outer", lambda lib, a, b: lib.einsum("i,j->ij", a, b), shapes=[(3,), (4,)]),
    Case("einsum_sum_all", lambda lib, a: lib.einsum("ij->", a), shapes=[(3, 4)]),
    Case("einsum_sum_dim", lambda lib, a: lib.einsum("ijk->ik", a), shapes=[(2, 3, 4)]),
    Case("einsum_ellipsis", lambda lib, a, b: lib.einsum("...ij,...jk->...ik", a, b),
         shapes=[(2, 1, 3, 4), (5, 4, 2)]),
    Case("einsum_ellipsis_implicit", lambda lib, a, b: lib.einsum("...ij,...jk", a, b),
         shapes=[(2, 3, 4), (4, 2)]),
    Case("einsum_ellipsis_sum", lambda lib, a: lib.einsum("i...->...", a), shapes=[(3, 2, 4)]),
    Case("einsum_bcast_size1", lambda lib, a, b: lib.einsum("bi,bi->b", a, b),
         shapes=[(2, 3), (1, 3)]),
    Case("einsum_three", lambda lib, a, b, c: lib.einsum("ij,jk,kl->il", a, b, c),
         shapes=[(2, 3), (3, 4), (4, 2)]),
    Case("einsum_list", lambda lib, a, b: lib.einsum("i,i", [a, b]), shapes=[(3,), (3,)]),
    Case("einsum_spaces", lambda lib, a, b: lib.einsum(" i j , j k -> k i", a, b),
         shapes=[(3, 4), (4, 5)]),
    Case("einsum_unused_dim", lambda lib, a, b: lib.einsum("ij,kl->il", a, b),
         shapes=[(2, 3), (4, 5)]),
    Case("einsum_trace", lambda lib, a: lib.einsum("ii", a), make=_diag_input),
    Case("einsum_diag", lambda lib, a: lib.einsum("ii->i", a), make=_diag_input),
    Case("einsum_batch_diag", lambda lib, a: lib.einsum("bii->bi", a), shapes=[(2, 3, 3)]),
    Case("einsum_diag_product", lambda lib, a, b: lib.einsum("ii,ij->j", a, b),
         shapes=[(3, 3), (3, 2)]),
    Case("einsum_attention", lambda lib, q, k: lib.einsum("bhqd,bhkd->bhqk", q, k),
         shapes=[(2, 2, 3, 4), (2, 2, 5, 4)]),
    Case("einsum_int", lambda lib, a, b: lib.einsum("ij,jk->ik", (a * 10).long(), (b * 10).long()),
         shapes=[(2, 3), (3, 2)], differentiable=False),
)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_matches_torch(case, dtype):
    check_case(case, dtype)


@pytest.mark.parametrize("case", [c for c in CASES if c.differentiable], ids=lambda c: c.name)
def test_gradcheck(case):
    gradcheck_case(case)


def _raises_like(fn, *shapes, dtypes=None):
    errs = []
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    dtypes = dtypes or ["float32"] * len(shapes)
    for lib in (torch, nt):
        ts = [lib.tensor(a, dtype=getattr(lib, d)) for a, d in zip(arrays, dtypes)]
        try:
            fn(lib, *ts)
        except Exception as e:  # noqa: BLE001 - we compare the classes
            errs.append(e)
        else:
            errs.append(None)
    assert errs[0] is not None, "torch did not raise"
    assert errs[1] is not None, f"numtorch did not raise; torch raised {errs[0]!r}"
    assert type(errs[1]) is type(errs[0]), f"numtorch raised {errs[1]!r}, torch {errs[0]!r}"
    return str(errs[1])


ERRORS = [
    # name, fn, shapes, dtypes, words the message must contain (both shapes, as a rule)
    ("matmul_2d", MM, [(3, 4), (5, 6)], None, ["3x4", "5x6"]),
    ("matmul_vv", MM, [(4,), (5,)], None, ["[4]", "[5]"]),
    ("matmul_mv", MM, [(3, 4), (5,)], None, ["3x4", "5"]),
    ("matmul_vm", MM, [(4,), (5, 6)], None, ["4", "5x6"]),
    ("matmul_batched_k", MM, [(2, 3, 4), (2, 5, 6)], None, ["[2, 3, 4]", "[2, 5, 6]"]),
    ("matmul_batch", MM, [(2, 3, 4), (3, 4, 6)], None, ["2", "3"]),
    ("matmul_0d", lambda lib, a, b: lib.matmul(a, b), [(), (3,)], None, ["0D"]),
    ("matmul_dtype", MM, [(3, 4), (4, 2)], ["float32", "float64"], ["float", "double"]),
    ("mm_shape", lambda lib, a, b: lib.mm(a, b), [(3, 4), (5, 6)], None, ["3x4", "5x6"]),
    ("mm_1d", lambda lib, a, b: lib.mm(a, b), [(3,), (3, 6)], None, ["matrix"]),
    ("mm_dtype", lambda lib, a, b: lib.mm(a, b), [(3, 4), (4, 2)], ["float32", "float64"],
     ["float", "double"]),
    ("bmm_batch", lambda lib, a, b: lib.bmm(a, b), [(2, 3, 4), (3, 4, 6)], None, ["[2, 4]"]),
    ("bmm_k", lambda lib, a, b: lib.bmm(a, b), [(2, 3, 4), (2, 5, 6)], None, ["[2, 5]"]),
    ("bmm_2d", lambda lib, a, b: lib.bmm(a, b), [(3, 4), (2, 4, 6)], None, ["3D"]),
    ("mv_shape", lambda lib, a, b: lib.mv(a, b), [(3, 4), (5,)], None, ["3x4", "5"]),
    ("mv_2d_vec", lambda lib, a, b: lib.mv(a, b), [(3, 4), (4, 1)], None, ["2"]),
    ("dot_size", lambda lib, a, b: lib.dot(a, b), [(3,), (4,)], None, ["[3]", "[4]"]),
    ("dot_2d", lambda lib, a, b: lib.dot(a, b), [(3, 1), (3,)], None, ["2D"]),
    ("dot_dtype", lambda lib, a, b: lib.dot(a, b), [(3,), (3,)], ["float32", "float64"],
     ["Float", "Double"]),
    ("outer_2d", lambda lib, a, b: lib.outer(a, b), [(3, 1), (3,)], None, ["1-D"]),
    ("inner_last", lambda lib, a, b: lib.inner(a, b), [(2, 3), (4, 2)], None, ["[2, 3]", "[4, 2]"]),
    ("linear_shape", lambda lib, x, w: lib.nn.functional.linear(x, w), [(5, 3), (4, 2)], None,
     ["5x3", "2x4"]),
    ("linear_0d", lambda lib, x, w: lib.nn.functional.linear(x, w), [(), (4, 3)], None, ["0D"]),
    ("linear_dtype", lambda lib, x, w: lib.nn.functional.linear(x, w), [(5, 3), (4, 3)],
     ["float32", "float64"], ["float", "double"]),
    ("linear_bias_dtype", lambda lib, x, w, b: lib.nn.functional.linear(x, w, b),
     [(5, 3), (4, 3), (4,)], ["float32", "float32", "float64"], ["Double", "Float"]),
    ("linear_bias_shape", lambda lib, x, w, b: lib.nn.functional.linear(x, w, b),
     [(2, 3), (4, 3), (5,)], None, ["4", "5"]),
    ("einsum_size", lambda lib, a, b: lib.einsum("ij,jk->ik", a, b), [(3, 4), (5, 6)], None,
     ["size 5", "4"]),
    ("einsum_operands", lambda lib, a: lib.einsum("ij,jk->ik", a), [(3, 4)], None, ["fewer"]),
    ("einsum_more_operands", lambda lib, a, b: lib.einsum("ij->ij", a, b), [(3, 4), (3, 4)], None,
     ["more"]),
    ("einsum_out_unknown", lambda lib, a: lib.einsum("ij->ik", a), [(3, 4)], None, ["k"]),
    ("einsum_out_repeated", lambda lib, a: lib.einsum("ij->ii", a), [(3, 4)], None, ["i"]),
    ("einsum_ndim", lambda lib, a: lib.einsum("ijk->ij", a), [(3, 4)], None, ["3", "2"]),
    ("einsum_diag_sizes", lambda lib, a: lib.einsum("ii->i", a), [(3, 4)], None, ["3", "4"]),
    ("einsum_dtype", lambda lib, a, b: lib.einsum("ij,jk", a, b), [(3, 4), (4, 2)],
     ["float32", "float64"], ["Float", "Double"]),
]


@pytest.mark.parametrize("name,fn,shapes,dtypes,needles", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_torch(name, fn, shapes, dtypes, needles):
    msg = _raises_like(fn, *shapes, dtypes=dtypes)
    for n in needles:
        assert n in msg, f"message {msg!r} should name {n!r}"


def test_matmul_saved_inputs_modified_inplace_raises():
    for lib in (torch, nt):
        a = lib.ones(2, 3, requires_grad=True)
        b = lib.ones(3, 2, requires_grad=True)
        h = a * 2
        y = h @ b
        h.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
