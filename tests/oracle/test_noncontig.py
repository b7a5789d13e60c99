"""Every registered oracle case again, with every input of 2+ dimensions in Fortran (transposed,
non-contiguous) memory layout in both libraries."""
import dataclasses

import pytest

from tests.oracle.harness import ALL_CASES, check_case
from tests.oracle.test_registry import _load_all_case_modules

_load_all_case_modules()
CASES = [dataclasses.replace(c, noncontig=True) for c in ALL_CASES.values()
         if not c.noncontig]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_matches_torch_noncontiguous(case):
    arrays = case.inputs("float64")
    if not any(a.ndim >= 2 for a in arrays):
        pytest.skip("no input with 2+ dimensions")
    check_case(case, "float64")
