"""Cache keys of decorated functions: canonical argument binding and a type-tagged encoding.

A key is ``<module>.<qualname>:<arguments>``. Arguments are bound to the function's parameters
with defaults applied, so ``f(1, b=2)``, ``f(1, 2)``, ``f(a=1, b=2)`` and (when ``b`` defaults
to 2) ``f(1)`` share a key; ``*args`` is encoded as a tuple and ``**kwargs`` as a dict sorted by
name. Each value is written in a deterministic grammar that is injective within the supported
types and never depends on ``hash()``, because keys will be shared between processes by L2:

=====================================  ============================================
None, bool, int, float, str, bytes     ``repr()``: ``None True 1 1.0 '1' b'1'``
tuple, list                            ``(a,b)`` ``(a,)`` ``[a,b]``
dict, set, frozenset                   ``{k:v,...}`` ``set{...}`` ``frozenset{...}``, sorted
Enum member                            ``<module.Qualname.NAME>``
UUID, Decimal, datetime, date, ...     ``UUID(hex)`` ``Decimal('1.0')`` ``datetime(iso)``
subclass of one of the above           ``<module.Qualname>`` then the base encoding
=====================================  ============================================

Anything else raises TypeError naming the argument. Methods: a first parameter named ``self``
or ``cls`` is left out of the key, so entries are shared by all instances (and subclasses) of
the class; pass ``ignore=()`` to keep it (it must then be encodable) or ``key=`` to choose.

Keys longer than 250 UTF-8 bytes become a readable prefix, ``#`` and a 128-bit BLAKE2b hash.
Everything per function is precomputed at decoration time; a call that passes exactly the
positional parameters, all of plain scalar types, takes a generated fast path without
`inspect.Signature.bind`.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import inspect
import uuid
from collections.abc import Callable, Collection
from decimal import Decimal
from enum import Enum
from typing import Any

__all__ = ["MAX_KEY_BYTES", "KeyBuilder", "KeyFunction", "encode", "shorten"]

#: Longest key, in UTF-8 bytes, that is kept as it is.
MAX_KEY_BYTES = 250
_DIGEST_HEX = 32  # blake2b with digest_size=16
_PREFIX_BYTES = MAX_KEY_BYTES - 1 - _DIGEST_HEX
# A str of at most this many characters cannot exceed MAX_KEY_BYTES in UTF-8.
_SAFE_CHARS = MAX_KEY_BYTES // 4

#: Exact types whose repr() is their encoding; the fast path accepts only these.
_REPR_TYPES: frozenset[type] = frozenset({type(None), bool, int, float, str, bytes})
#: Parameter names left out of the key by default when they come first.
_SELF_NAMES = ("self", "cls")

KeyFunction = Callable[[tuple[Any, ...], dict[str, Any]], str]


class _UnsupportedError(Exception):
    """Internal: a value of type `kind` has no encoding."""

    def __init__(self, kind: type) -> None:
        super().__init__(kind)
        self.kind = kind


def shorten(key: str) -> str:
    """Returns `key`, or a readable prefix + ``#`` + 128-bit hex hash if it exceeds 250 bytes."""
    raw = key.encode("utf-8", "surrogatepass")
    if len(raw) <= MAX_KEY_BYTES:
        return key
    digest = hashlib.blake2b(raw, digest_size=16).hexdigest()
    # Cutting may split a multi-byte character; "ignore" drops the partial tail.
    head = raw[:_PREFIX_BYTES].decode("utf-8", "ignore")
    return f"{head}#{digest}"


def encode(value: object, name: str) -> str:
    """The canonical encoding of one argument value.

    Raises:
        TypeError: the value (or something inside it) has no encoding; the message names
            the argument `name`.
    """
    try:
        return _encode(value)
    except _UnsupportedError as e:
        inner = "" if e.kind is type(value) else f" holds a value of type {e.kind.__qualname__!r}"
        outer = f"argument {name!r} of type {type(value).__qualname__!r}"
        msg = f"{outer}{inner} cannot be part of a cache key; pass key=... or ignore=..."
        raise TypeError(msg) from None
    except RecursionError:
        msg = f"argument {name!r} is nested too deeply to be part of a cache key"
        raise TypeError(msg) from None


def _encode(v: Any) -> str:
    t = type(v)
    if t in _REPR_TYPES:
        return _int(v) if t is int else repr(v)
    enc = _EXACT.get(t)
    if enc is not None:
        return enc(v)
    if isinstance(v, Enum):
        return f"<{_type_name(t)}.{v.name}>"
    for base, base_enc in _BASES:
        if isinstance(v, base):
            return f"<{_type_name(t)}>{base_enc(v)}"
    raise _UnsupportedError(t)


def _type_name(t: type) -> str:
    return f"{t.__module__}.{t.__qualname__}"


def _int(v: int) -> str:
    try:
        return int.__repr__(v)
    except ValueError:  # beyond sys.get_int_max_str_digits(); "0x" cannot start a decimal
        return hex(v)


def _tuple(v: tuple[Any, ...]) -> str:
    if len(v) == 1:
        return f"({_encode(v[0])},)"
    return "(" + ",".join(map(_encode, v)) + ")"


def _list(v: list[Any]) -> str:
    return "[" + ",".join(map(_encode, v)) + "]"


def _dict(v: dict[Any, Any]) -> str:
    return "{" + ",".join(sorted(f"{_encode(k)}:{_encode(x)}" for k, x in v.items())) + "}"


def _set(v: set[Any]) -> str:
    return "set{" + ",".join(sorted(map(_encode, v))) + "}"


def _frozenset(v: frozenset[Any]) -> str:
    return "frozenset{" + ",".join(sorted(map(_encode, v))) + "}"


def _timedelta(v: _dt.timedelta) -> str:
    return f"timedelta({v.days},{v.seconds},{v.microseconds})"


# Order matters for the isinstance scan of subclasses: datetime is a subclass of date.
_BASES: tuple[tuple[type, Callable[[Any], str]], ...] = (
    (int, _int),
    (float, float.__repr__),
    (str, str.__repr__),
    (bytes, bytes.__repr__),
    (tuple, _tuple),
    (list, _list),
    (dict, _dict),
    (set, _set),
    (frozenset, _frozenset),
    (uuid.UUID, lambda v: f"UUID({v.hex})"),
    (Decimal, lambda v: f"Decimal({Decimal.__str__(v)})"),
    (_dt.datetime, lambda v: f"datetime({_dt.datetime.isoformat(v)})"),
    (_dt.date, lambda v: f"date({_dt.date.isoformat(v)})"),
    (_dt.time, lambda v: f"time({_dt.time.isoformat(v)})"),
    (_dt.timedelta, _timedelta),
)
_EXACT: dict[type, Callable[[Any], str]] = dict(_BASES)


class KeyBuilder:
    """Everything about one function's keys that can be computed at decoration time.

    Args:
        func: the function whose calls are keyed.
        ignore: parameter names left out of the key; None means the first parameter when it
            is named ``self`` or ``cls``.
        key: a callable taking the call's arguments and returning the key (a str), used
            instead of the canonical encoding and without the function-name prefix.

    Raises:
        ValueError: `ignore` names a parameter `func` does not have.
    """

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        ignore: Collection[str] | None = None,
        key: Callable[..., str] | None = None,
    ) -> None:
        self.func_name = getattr(func, "__qualname__", repr(func))
        self.head = f"{getattr(func, '__module__', None)}.{self.func_name}:"
        self.signature = inspect.signature(func)
        params = list(self.signature.parameters.values())
        if isinstance(ignore, str):
            ignore = (ignore,)
        if ignore is None:
            first = params[0] if params else None
            ignore = (first.name,) if first and _is_self(first) else ()
        unknown = set(ignore) - {p.name for p in params}
        if unknown:
            msg = f"ignore names no parameter of {self.func_name}: {sorted(unknown)}"
            raise ValueError(msg)
        self.ignored = frozenset(ignore)
        # A method's invalidate() is called as obj.method.invalidate(...), without self, unless
        # a key function (which may use self) decides the key.
        self.implicit_first = (
            key is None and bool(params) and _is_self(params[0]) and params[0].name in ignore
        )
        self._params = params
        self._positional = [p for p in params if p.kind in _POSITIONAL]
        self._n_required = sum(p.default is p.empty for p in self._positional)
        self._tail = self._encode_tail(params)
        self._custom = key
        self.build: KeyFunction = self._make_custom() if key else self._make_fast()

    def _encode_tail(self, params: list[inspect.Parameter]) -> str | None:
        """Encoded parameters after the positional ones, for a call passing none of them.

        None when that call is impossible (a required keyword-only parameter) or a default has
        no encoding (the slow path then reports it by name).
        """
        parts = []
        for p in params:
            if p.kind in _POSITIONAL or p.name in self.ignored:
                continue
            if p.kind is p.VAR_POSITIONAL:
                parts.append("()")
            elif p.kind is p.VAR_KEYWORD:
                parts.append("{}")
            elif p.default is p.empty:
                return None
            else:
                try:
                    parts.append(_encode(p.default))
                except (_UnsupportedError, RecursionError):
                    return None
        return ",".join(parts)

    def _make_custom(self) -> KeyFunction:
        custom, name = self._custom, self.func_name
        assert custom is not None

        def build(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
            k = custom(*args, **kwargs)
            if type(k) is not str:
                msg = f"the key function of {name} must return a str, not {type(k).__name__}"
                raise TypeError(msg)
            return k if len(k) <= _SAFE_CHARS else shorten(k)

        return build

    def _make_fast(self) -> KeyFunction:
        """A builder with the fast path generated for exactly len(positional) scalar arguments.

        The generated source holds only parameter counts and fixed variable names; every
        string from the user's code (names, head, encoded defaults) is passed as a value.
        """
        slow = self.slow_build
        if self._tail is None:
            return slow
        names = ["_" if p.name in self.ignored else f"a{i}" for i, p in enumerate(self._positional)]
        used = [n for n in names if n != "_"]
        tail = self._tail
        if used and tail:
            tail = "," + tail
        unpack = "".join(f"{n}," for n in names)
        check = " and ".join(f"type({n}) in S" for n in used) or "True"
        fmt = ",".join(f"{{{n}!r}}" for n in used)
        src = (
            "def build(args, kwargs):\n"
            f"    if not kwargs and len(args) == {len(names)}:\n"
            f"        {unpack} = args\n"
            f"        if {check}:\n"
            "            try:\n"
            f'                k = f"{{head}}{fmt}{{tail}}"\n'
            "            except ValueError:\n"  # an int beyond the repr() digit limit
            "                return slow(args, kwargs)\n"
            "            return k if len(k) <= SAFE else shorten(k)\n"
            "    return slow(args, kwargs)\n"
        )
        if not names:
            src = src.replace(f"        {unpack} = args\n", "")
        namespace: dict[str, Any] = {
            "S": _REPR_TYPES,
            "head": self.head,
            "tail": tail,
            "slow": slow,
            "SAFE": _SAFE_CHARS,
            "shorten": shorten,
        }
        exec(src, namespace)  # noqa: S102 - fixed template, see docstring
        build: KeyFunction = namespace["build"]
        return build

    def slow_build(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        """The key of any call: positional calls without binding, others through bind()."""
        if not kwargs and self._tail is not None and len(args) <= len(self._positional):
            parts = self._positional_parts(args)
            if parts is not None:
                if self._tail:
                    parts.append(self._tail)
                return self._finish(parts)
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as e:
            msg = f"{self.func_name}(): {e}"
            raise TypeError(msg) from None
        bound.apply_defaults()
        values = bound.arguments
        parts = []
        for p in self._params:
            if p.name in self.ignored:
                continue
            v = values[p.name]
            if p.kind is p.VAR_KEYWORD:  # same text as _dict, each value named by its keyword
                parts.append("{" + ",".join(sorted(f"{k!r}:{encode(v[k], k)}" for k in v)) + "}")
            else:
                parts.append(encode(tuple(v) if p.kind is p.VAR_POSITIONAL else v, p.name))
        return self._finish(parts)

    def _positional_parts(self, args: tuple[Any, ...]) -> list[str] | None:
        """Encoded positional parameters for a call passing `args` only; None if a required
        one is missing (bind() then raises the usual TypeError)."""
        if len(args) < self._n_required:
            return None
        parts = []
        for i, p in enumerate(self._positional):
            if p.name in self.ignored:
                continue
            parts.append(encode(args[i] if i < len(args) else p.default, p.name))
        return parts

    def _finish(self, parts: list[str]) -> str:
        k = self.head + ",".join(parts)
        return k if len(k) <= _SAFE_CHARS else shorten(k)

    def invalidation_key(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        """The key for `invalidate(*args, **kwargs)`: the call's arguments, without the ignored
        self/cls of a method (any placeholder stands in for it)."""
        if self.implicit_first:
            args = (None, *args)
        return self.build(args, kwargs)


_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def _is_self(p: inspect.Parameter) -> bool:
    return p.name in _SELF_NAMES and p.kind in _POSITIONAL
