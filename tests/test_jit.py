"""backend.jit: the gateway to the optional numba kernels."""
import subprocess
import sys

import pytest

from numtorch.backend import jit


def _run(code, **env):
    import os
    e = dict(os.environ, **env)
    return subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_import_numtorch_does_not_import_numba():
    assert _run("import sys, numtorch; numtorch.nn.LSTM(3, 4); "
                "print('numba' in sys.modules)") == "False"


def test_environment_turns_kernels_off():
    code = ("from numtorch.backend import jit; "
            "print(jit.enabled(), jit.load('numtorch.ops._rnn_jit'))")
    assert _run(code, NUMTORCH_JIT="0") == "False None"


def test_set_enabled_without_numba_raises(monkeypatch):
    monkeypatch.setattr(jit, "available", lambda: False)
    monkeypatch.setattr(jit, "_enabled", None)
    assert not jit.enabled()
    with pytest.raises(ImportError, match="numba"):
        jit.set_enabled(True)
    assert jit.load("numtorch.ops._rnn_jit") is None


def test_set_enabled_returns_previous_setting():
    pytest.importorskip("numba")
    before = jit.set_enabled(False)
    try:
        assert jit.load("numtorch.ops._rnn_jit") is None
        assert jit.set_enabled(True) is False
        assert jit.load("numtorch.ops._rnn_jit") is not None
    finally:
        jit.set_enabled(before)
