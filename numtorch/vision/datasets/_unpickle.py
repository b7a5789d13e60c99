"""A restricted pickle reader for dataset files (CIFAR batches): data only, never code.

Python's own unpickler runs whatever callables a pickle names. This reader does not use it: it
parses the opcodes with ``pickletools.genops`` (a parser that executes nothing) and interprets
only those that build data — containers, strings, bytes, numbers — plus the three numpy globals
that rebuild an ndarray. Any other global (``os.system``, ``builtins.eval``, ...) raises
``ForbiddenGlobalError`` when it is named, before anything could call it; any other opcode
(object instantiation, extensions, persistent ids, out-of-band buffers) is refused too.
"""
from __future__ import annotations

import pickle
import pickletools

import numpy as np

__all__ = ["ForbiddenGlobalError", "restricted_loads"]


class ForbiddenGlobalError(pickle.UnpicklingError):
    """A pickle named a global outside the allowed set; nothing in it was run."""


def _np_reconstruct():
    try:
        from numpy._core.multiarray import _reconstruct  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


# The globals the CIFAR files name (Python 2's cPickle of numpy arrays), under numpy 1 and 2.
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _np_reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _np_reconstruct,
    ("numpy", "ndarray"): lambda: np.ndarray,
    ("numpy", "dtype"): lambda: np.dtype,
}

_STRINGS = {"SHORT_BINSTRING", "BINSTRING", "STRING"}  # Python 2 ``str``: bytes in the file
_PUSH = {"BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8", "UNICODE", "BINBYTES",
         "SHORT_BINBYTES", "BINBYTES8", "BININT", "BININT1", "BININT2", "INT", "LONG", "LONG1",
         "LONG4", "BINFLOAT", "FLOAT"}
_CONST = {"NONE": None, "NEWTRUE": True, "NEWFALSE": False}
_NOOP = {"PROTO", "FRAME"}


def restricted_loads(data: bytes, name: str = "<pickle>", encoding: str = "latin1"):
    """Load a pickle holding only dicts, lists, tuples, strings, bytes, numbers and numpy arrays.

    Args:
        data (bytes): the pickle.
        name (str): named in error messages (the file).
        encoding (str): how Python 2 byte strings are read: ``'latin1'`` (as ``str``, as
            Python's unpickler gives them with that encoding) or ``'bytes'``.

    Raises ``ForbiddenGlobalError`` (an ``UnpicklingError``) for any other global, and
    ``UnpicklingError`` for a malformed pickle or an opcode outside that set.
    """
    def fail(msg: str):
        return pickle.UnpicklingError(f"{name}: {msg}")

    stack, marks, memo = [], [], {}
    try:
        for op, arg, pos in pickletools.genops(data):
            n = op.name
            if n in _PUSH:
                stack.append(arg)
            elif n in _STRINGS:  # pickletools decodes these as latin-1 already
                stack.append(arg.encode("latin1") if encoding == "bytes" else arg)
            elif n in _CONST:
                stack.append(_CONST[n])
            elif n in _NOOP:
                continue
            elif n in ("BINPUT", "LONG_BINPUT", "PUT"):
                memo[arg] = stack[-1]
            elif n == "MEMOIZE":
                memo[len(memo)] = stack[-1]
            elif n in ("BINGET", "LONG_BINGET", "GET"):
                stack.append(memo[arg])
            elif n == "MARK":
                marks.append(stack)
                stack = []
            elif n in ("EMPTY_DICT", "EMPTY_LIST", "EMPTY_TUPLE"):
                stack.append({"EMPTY_DICT": dict, "EMPTY_LIST": list,
                              "EMPTY_TUPLE": tuple}[n]())
            elif n in ("TUPLE", "LIST", "DICT", "APPENDS", "SETITEMS", "POP_MARK"):
                items, stack = stack, marks.pop()
                if n == "TUPLE":
                    stack.append(tuple(items))
                elif n == "LIST":
                    stack.append(items)
                elif n == "DICT":
                    stack.append(dict(zip(items[::2], items[1::2])))
                elif n == "APPENDS":
                    _container(stack, list, fail).extend(items)
                elif n == "SETITEMS":
                    _container(stack, dict, fail).update(zip(items[::2], items[1::2]))
            elif n in ("TUPLE1", "TUPLE2", "TUPLE3"):
                k = int(n[-1])
                items = tuple(stack[-k:])
                del stack[-k:]
                stack.append(items)
            elif n == "APPEND":
                v = stack.pop()
                _container(stack, list, fail).append(v)
            elif n == "SETITEM":
                v, k = stack.pop(), stack.pop()
                _container(stack, dict, fail)[k] = v
            elif n == "POP":
                stack.pop()
            elif n == "DUP":
                stack.append(stack[-1])
            elif n in ("GLOBAL", "STACK_GLOBAL"):
                if n == "GLOBAL":
                    module, qualname = arg.split(" ", 1)
                else:
                    qualname, module = stack.pop(), stack.pop()
                make = _ALLOWED.get((module, qualname))
                if make is None:
                    raise ForbiddenGlobalError(
                        f"{name}: refusing to unpickle forbidden global '{module}.{qualname}'; "
                        "dataset pickles may hold only dicts, lists, strings, numbers and numpy "
                        "arrays (the file is corrupt or malicious)")
                stack.append(make())
            elif n == "REDUCE":  # only allowed globals can be on the stack as callables
                args, func = stack.pop(), stack.pop()
                stack.append(_reduce(func, args, fail, pos))
            elif n == "BUILD":
                state, obj = stack.pop(), stack[-1]
                if isinstance(obj, np.ndarray):
                    obj.__setstate__(_array_state(state, fail, pos))
                elif isinstance(obj, np.dtype):
                    new = _dtype_state(obj, state, fail, pos)
                    stack[-1] = new
                    memo.update({k: new for k, v in memo.items() if v is obj})
                else:
                    raise fail(f"BUILD of a {type(obj).__name__} at byte {pos}")
            elif n == "STOP":
                if len(stack) != 1 or marks:
                    raise fail("malformed pickle (stack not empty at STOP)")
                return stack[0]
            else:
                raise fail(f"refusing pickle opcode {n} at byte {pos}: dataset pickles hold "
                           "only plain data and numpy arrays")
    except pickle.UnpicklingError:
        raise
    except (ValueError, IndexError, KeyError, TypeError, EOFError, OverflowError) as e:
        raise fail(f"malformed or truncated pickle: {type(e).__name__}: {e}") from None
    raise fail("truncated pickle (no STOP opcode)")


def _reduce(func, args, fail, pos):
    """Call one of the two allowed constructors, on arguments as numpy's own pickles give them.

    ``_reconstruct`` only ever makes the empty array that BUILD then fills, so a file cannot
    ask for a large allocation here; ``numpy.dtype`` gets a type string and two flags.
    """
    if not isinstance(args, tuple):
        raise fail(f"REDUCE with arguments of type {type(args).__name__} at byte {pos}")
    if func is _np_reconstruct():
        if len(args) != 3 or args[0] is not np.ndarray or args[1] != (0,) or \
                args[2] not in (b"b", "b"):
            raise fail(f"unexpected numpy _reconstruct arguments {args!r:.100} at byte {pos}")
        return func(np.ndarray, (0,), b"b")
    if func is np.dtype:
        if not (1 <= len(args) <= 3 and isinstance(args[0], str)
                and all(type(a) is bool for a in args[1:])):
            raise fail(f"unexpected numpy dtype arguments {args!r:.100} at byte {pos}")
        return _plain_dtype(np.dtype(*args), fail, pos)
    raise fail(f"REDUCE of a non-allowed object at byte {pos}")


def _plain_dtype(dt, fail, pos):
    """``dt`` if it is a plain (not object, structured or sub-array) dtype."""
    if dt.hasobject or dt.fields is not None or dt.subdtype is not None:
        raise fail(f"refusing numpy dtype {dt!s:.100} at byte {pos}: only plain numeric, bytes "
                   "and string dtypes are allowed")
    return dt


def _dtype_state(dt, state, fail, pos):
    """The dtype that BUILD with ``state`` would give; only the byte order may change.

    NOTE: ``dtype.__setstate__`` is never called: it trusts its input (sizes, fields), so a
    crafted state could corrupt memory; a plain dtype's state holds nothing else we need.
    """
    if not (isinstance(state, tuple) and len(state) in (8, 9) and state[1] in "<>|="
            and state[2] is None and state[3] is None and state[4] is None):
        raise fail(f"unexpected numpy dtype state {state!r:.100} at byte {pos}")
    return _plain_dtype(dt.newbyteorder(state[1]) if state[1] in "<>" else dt, fail, pos)


def _array_state(state, fail, pos):
    """``state`` for ``ndarray.__setstate__`` once checked: a plain dtype, a shape and exactly
    the bytes that shape needs (numpy's own check comes after its allocation, and object
    arrays would let the file choose Python objects)."""
    if isinstance(state, tuple) and len(state) == 5 and state[0] == 1:
        state = state[1:]
    if not (isinstance(state, tuple) and len(state) == 4):
        raise fail(f"unexpected numpy array state at byte {pos}")
    shape, dt, fortran, raw = state
    if not (isinstance(shape, tuple) and len(shape) <= 32
            and all(type(s) is int and s >= 0 for s in shape)):
        raise fail(f"invalid numpy array shape {shape!r:.100} at byte {pos}")
    if not isinstance(dt, np.dtype) or type(fortran) is not bool:
        raise fail(f"unexpected numpy array state at byte {pos}")
    _plain_dtype(dt, fail, pos)
    if isinstance(raw, str):
        raw = raw.encode("latin1")     # Python 2 byte strings read as latin-1 text
    if not isinstance(raw, (bytes, bytearray)):
        raise fail(f"numpy array data of type {type(raw).__name__} at byte {pos}")
    count = dt.itemsize
    for s in shape:
        count *= s
    if count != len(raw):
        raise fail(f"numpy array of shape {shape} and dtype {dt} needs {count} bytes, the "
                   f"file holds {len(raw)} (at byte {pos})")
    return shape, dt, fortran, raw


def _container(stack, kind, fail):
    c = stack[-1]
    if type(c) is not kind:
        raise fail(f"cannot add items to a {type(c).__name__}")
    return c
