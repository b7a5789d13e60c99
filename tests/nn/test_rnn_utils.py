"""numtorch.nn.utils.rnn against torch.nn.utils.rnn: packing, padding and their gradients,
PackedSequence, and the errors."""
import numpy as np
import pytest
import torch

import numtorch as nt

R = {nt: nt.nn.utils.rnn, torch: torch.nn.utils.rnn}


def both(fn, *arrays, grad=True):
    """Run ``fn(lib, *tensors)`` in both libraries; backpropagate a fixed random gradient from
    every floating output; return (outputs, input grads) per library as arrays."""
    results = []
    for lib in (nt, torch):
        ts = [lib.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
        outs = fn(lib, *ts)
        outs = list(outs) if isinstance(outs, (tuple, list)) else [outs]
        flat = []
        for o in outs:
            flat += list(o) if isinstance(o, (tuple, list)) else [o]
        flat = [o for o in flat if o is not None]
        rng = np.random.default_rng(1)
        loss = None
        for o in flat:
            if o.requires_grad:
                term = (o * lib.tensor(rng.standard_normal(tuple(o.shape)).astype(
                    o.detach().numpy().dtype))).sum()
                loss = term if loss is None else loss + term
        if loss is not None:
            loss.backward()
        results.append(([o.detach().numpy() for o in flat],
                        [t.grad.numpy() for t in ts if t.requires_grad]))
    (vo, go), (vr, gr) = results
    assert len(vo) == len(vr) and len(go) == len(gr)
    for a, b in zip(vo + go, vr + gr):
        assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)
    return results


def packed_fields(p):
    return [p.data, p.batch_sizes, p.sorted_indices, p.unsorted_indices]


X = np.random.default_rng(0).standard_normal((5, 4, 3))


def padded(batch_first):
    """X, (T=5, B=4, 3), or its (B, T, 3) copy."""
    return X.transpose(1, 0, 2).copy() if batch_first else X


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths,sorted_", [([5, 3, 3, 1], True), ([2, 5, 1, 4], False),
                                             ([4, 4, 2, 2], False), ([3, 3, 3, 3], True)])
@pytest.mark.parametrize("as_tensor", [False, True])
def test_pack_padded_sequence(batch_first, lengths, sorted_, as_tensor):
    def fn(lib, x):
        ln = lib.tensor(lengths) if as_tensor else lengths
        return packed_fields(R[lib].pack_padded_sequence(x, ln, batch_first, sorted_))
    both(fn, padded(batch_first))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths", [[5, 3, 3, 1], [2, 5, 1, 4]])
@pytest.mark.parametrize("padding_value,total_length", [(0.0, None), (-2.5, 7)])
def test_pad_packed_sequence_roundtrip(batch_first, lengths, padding_value, total_length):
    def fn(lib, x):
        p = R[lib].pack_padded_sequence(x, lengths, batch_first, enforce_sorted=False)
        return R[lib].pad_packed_sequence(p, batch_first, padding_value, total_length)
    out = both(fn, padded(batch_first))
    assert out[0][0][1].dtype == np.int64


def test_pad_packed_sequence_of_a_hand_made_packed_sequence():
    data = np.random.default_rng(1).standard_normal((6, 2))

    def fn(lib, d):
        p = R[lib].PackedSequence(d, lib.tensor([3, 2, 1]), lib.tensor([2, 0, 1]))
        return packed_fields(p) + list(R[lib].pad_packed_sequence(p, batch_first=True))
    both(fn, data)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("padding_value", [0.0, 7.5])
def test_pad_sequence(batch_first, padding_side, padding_value):
    rng = np.random.default_rng(2)
    seqs = [rng.standard_normal((n, 2, 3)) for n in (2, 5, 1)]
    both(lambda lib, *s: R[lib].pad_sequence(list(s), batch_first, padding_value, padding_side),
         *seqs)


def test_pad_sequence_dtypes_tensor_input_and_equal_lengths():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((3, 2)), rng.standard_normal((4, 2)).astype("float32")
    both(lambda lib, x, y: R[lib].pad_sequence([x, y]), a, b)           # dtype of the first
    both(lambda lib, x, y: R[lib].pad_sequence((x, y)), b, b[:3].copy())
    both(lambda lib, x: R[lib].pad_sequence(x, batch_first=True), rng.standard_normal((3, 4)))
    ints = [np.arange(3), np.arange(2)]
    both(lambda lib, x, y: R[lib].pad_sequence([x, y], padding_value=1.5), *ints, grad=False)
    both(lambda lib, x, y: R[lib].pad_sequence([x, y], padding_value=-1.5, padding_side="left",
                                               batch_first=True), *ints, grad=False)


@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_unpack_sequence(enforce_sorted):
    rng = np.random.default_rng(4)
    lens = (4, 3, 1) if enforce_sorted else (1, 4, 3)
    seqs = [rng.standard_normal((n, 2)) for n in lens]

    def fn(lib, *s):
        p = R[lib].pack_sequence(list(s), enforce_sorted)
        return packed_fields(p) + R[lib].unpack_sequence(p)
    both(fn, *seqs)


@pytest.mark.parametrize("batch_first", [False, True])
def test_unpad_sequence(batch_first):
    x = np.random.default_rng(5).standard_normal((4, 3, 2) if not batch_first else (3, 4, 2))
    # (t * 1: torch transposes its input in place, which a leaf requiring grad refuses)
    both(lambda lib, t: R[lib].unpad_sequence(t * 1, lib.tensor([4, 1, 3]), batch_first), x)


def test_unpad_sequence_leaves_the_input_alone():
    # Differs from torch, which transposes the padded input in place when batch_first=False.
    x = nt.zeros(4, 3, 2)
    nt.nn.utils.rnn.unpad_sequence(x, nt.tensor([4, 1, 3]))
    assert tuple(x.shape) == (4, 3, 2)


def test_invert_permutation_and_packed_sequence_api():
    for lib in (nt, torch):
        assert R[lib].invert_permutation(None) is None
    perm = np.array([2, 0, 3, 1])
    a = nt.nn.utils.rnn.invert_permutation(nt.tensor(perm)).numpy()
    b = torch.nn.utils.rnn.invert_permutation(torch.tensor(perm)).numpy()
    assert a.tolist() == b.tolist() and a.dtype == b.dtype
    data = nt.randn(4, 2)
    p = nt.nn.utils.rnn.PackedSequence(data, nt.tensor([2, 1, 1]))
    assert p.sorted_indices is None and p.unsorted_indices is None and len(p) == 4
    d, bs, s, u = p
    assert d is data and p.data is data and bs.tolist() == [2, 1, 1]
    q = nt.nn.utils.rnn.PackedSequence((data, nt.tensor([2, 2])), sorted_indices=nt.tensor([1, 0]))
    assert q.unsorted_indices.tolist() == [1, 0] and q.data is data
    assert p.double().data.dtype == nt.float64 and p.double().batch_sizes is p.batch_sizes
    assert p.to(nt.float32) is p and p.float() is p and not p.is_cuda
    assert isinstance(p, tuple) and type(p).__name__ == "PackedSequence"
    with pytest.raises(AssertionError):
        nt.nn.utils.rnn.PackedSequence(data)


ERRORS = {
    "unsorted": lambda lib: R[lib].pack_padded_sequence(lib.zeros(5, 3, 2), [3, 5, 2]),
    "zero_length": lambda lib: R[lib].pack_padded_sequence(lib.zeros(5, 3, 2), [5, 3, 0]),
    "zero_length_unsorted": lambda lib: R[lib].pack_padded_sequence(
        lib.zeros(5, 3, 2), [0, 3, 5], enforce_sorted=False),
    "negative_length": lambda lib: R[lib].pack_padded_sequence(lib.zeros(5, 3, 2), [5, 3, -1]),
    "too_few_lengths": lambda lib: R[lib].pack_padded_sequence(lib.zeros(5, 3, 2), [5, 3]),
    "too_many_lengths": lambda lib: R[lib].pack_padded_sequence(lib.zeros(5, 3, 2), [5, 3, 2, 1]),
    "lengths_2d": lambda lib: R[lib].pack_padded_sequence(lib.zeros(5, 3, 2),
                                                          lib.tensor([[5, 3, 2]])),
    "empty": lambda lib: R[lib].pack_padded_sequence(lib.zeros(0, 3, 2), [1, 1, 1]),
    "input_1d": lambda lib: R[lib].pack_padded_sequence(lib.zeros(5), [5]),
    "total_length": lambda lib: R[lib].pad_packed_sequence(
        R[lib].pack_padded_sequence(lib.zeros(5, 3, 2), [5, 3, 2]), total_length=4),
    "pad_empty": lambda lib: R[lib].pad_sequence([]),
    "pad_side": lambda lib: R[lib].pad_sequence([lib.zeros(2)], padding_side="middle"),
    "pad_not_iterable": lambda lib: R[lib].pad_sequence(5),
    "pad_trailing": lambda lib: R[lib].pad_sequence([lib.zeros(3, 2), lib.zeros(4, 3)]),
    "pad_trailing_ndim": lambda lib: R[lib].pad_sequence([lib.zeros(3, 2), lib.zeros(4, 2, 1)]),
    "pad_broadcast_shape": lambda lib: R[lib].pad_sequence([lib.zeros(3, 2), lib.zeros(4, 3, 2)]),
    "unpad_count": lambda lib: R[lib].unpad_sequence(lib.zeros(4, 3, 2), lib.tensor([4, 2])),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_match_torch(case):
    errs = []
    for lib in (nt, torch):
        with pytest.raises(Exception) as info:
            ERRORS[case](lib)
        errs.append(info.value)
    assert type(errs[0]) is type(errs[1]), (errs[0], errs[1])
    assert str(errs[0]) == str(errs[1])


def test_lengths_longer_than_the_sequence_raise():
    # Differs from torch, which reads past the end of the input here.
    with pytest.raises(RuntimeError, match="longer than the padded sequences"):
        nt.nn.utils.rnn.pack_padded_sequence(nt.zeros(5, 3, 2), [6, 3, 2])


def test_fewer_lengths_than_sequences_when_unsorted_packs_a_subset():
    both(lambda lib, x: packed_fields(R[lib].pack_padded_sequence(x, [3, 5], False, False)), X)
