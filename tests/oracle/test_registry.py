"""Every primitive in numtorch.ops.PRIMITIVES has an oracle case and a gradcheck case.

Oracle cases are registered with ``harness.register`` in the test modules; each registered
differentiable case is run both against torch and through float64 gradcheck by its module.
"""
import importlib
import pathlib

from numtorch.ops import PRIMITIVES
from tests.oracle.harness import ALL_CASES, primitives_used

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _load_all_case_modules():
    for path in sorted(ROOT.rglob("test_*.py")):
        if "register(" in path.read_text():
            mod = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts)
            importlib.import_module(mod)


def test_every_primitive_has_oracle_and_gradcheck_cases():
    _load_all_case_modules()
    covered = set()
    for case in ALL_CASES.values():
        if case.differentiable:
            covered |= primitives_used(case)
    missing = sorted(set(PRIMITIVES) - covered)
    assert not missing, f"primitives without a registered differentiable oracle case: {missing}"
