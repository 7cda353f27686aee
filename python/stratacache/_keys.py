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
UUID, Decimal, datetime, date, ...     ``UUID(hex)`` ``Decimal(1.0)`` ``datetime(iso)``
subclass of one of the above           ``<module.Qualname>`` then the base encoding
=====================================  ============================================

Anything else raises TypeError naming the argument.

Methods: a first parameter named ``self`` or ``cls`` is keyed by the identity of what it is
bound to (`identity`): a class by its qualified name, ``<class module.Qualname>``; an instance
by ``self.__cache_key__()`` when its class defines it (``<module.Qualname>`` then the encoding
of what it returns: a str, int, tuple, ...), else by its own encoding when its type is one of
the above; anything else raises TypeError at the call, naming the class and the fixes. Pass
``ignore=("self",)`` to share entries across all instances, or ``key=`` to choose the key.
Two classes with the same module and qualified name (made by one factory) share entries.

Keys longer than 250 UTF-8 bytes become a readable prefix, ``#`` and a 128-bit BLAKE2b hash.

Everything per function is computed at decoration time. The hot path does not bind at all:
`KeyBuilder.template` gives the source of a function with the decorated function's own
parameter list, so CPython binds the call (defaults included) and the key is one f-string
of ``repr()`` when every keyed argument is a plain scalar, `KeyBuilder.encode_bound`
otherwise. `KeyBuilder.build` (Signature.bind, then the same encoding) serves invalidate(),
key functions and callables whose signature cannot be written out.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import Enum
from typing import Any

__all__ = [
    "MAX_KEY_BYTES",
    "SAFE_CHARS",
    "KeyBuilder",
    "KeyFunction",
    "Template",
    "encode",
    "identity",
    "shorten",
]

#: Longest key, in UTF-8 bytes, that is kept as it is.
MAX_KEY_BYTES = 250
_DIGEST_HEX = 32  # blake2b with digest_size=16
_PREFIX_BYTES = MAX_KEY_BYTES - 1 - _DIGEST_HEX
#: A str of at most this many characters cannot exceed MAX_KEY_BYTES in UTF-8.
SAFE_CHARS = MAX_KEY_BYTES // 4

#: Exact types whose repr() is their encoding; the generated fast path accepts only these.
REPR_TYPES: frozenset[type] = frozenset({type(None), bool, int, float, str, bytes})
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
    import hashlib  # noqa: PLC0415 - long keys only; hashlib loads OpenSSL

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
    if t in REPR_TYPES:
        return _int(v) if t is int else repr(v)
    enc = _EXACT.get(t)
    if enc is not None:
        return enc(v)
    late = _late_bases()
    for base, base_enc in late:
        if t is base:
            _EXACT[t] = base_enc  # the next value of this type takes the lookup above
            return base_enc(v)
    if isinstance(v, Enum):
        return f"<{_type_name(t)}.{v.name}>"
    for base, base_enc in (*_BASES, *late):
        if isinstance(v, base):
            return f"<{_type_name(t)}>{base_enc(v)}"
    raise _UnsupportedError(t)


def identity(value: object, name: str = "self") -> str:
    """The key part of a method's ``self``/``cls`` (see the module docstring).

    Raises:
        TypeError: the instance has no ``__cache_key__`` and no encoding, or its
            ``__cache_key__()`` returned something without one.
    """
    t = type(value)
    method = getattr(t, "__cache_key__", None)
    try:
        if method is not None:
            return f"<{t.__module__}.{t.__qualname__}>{_encode(method(value))}"
        if isinstance(value, type):
            return f"<class {value.__module__}.{value.__qualname__}>"
        return _encode(value)
    except _UnsupportedError as e:
        cls = t.__qualname__
        if method is not None:
            msg = (
                f"{cls}.__cache_key__() returned a value holding type {e.kind.__qualname__!r}, "
                "which cannot be part of a cache key; return a str, int or tuple of them"
            )
        else:
            msg = (
                f"argument {name!r} of type {cls!r} cannot be part of a cache key: define "
                f"{cls}.__cache_key__() returning what identifies an instance, or pass "
                f"ignore=({name!r},) to share entries across instances, or key=..."
            )
        raise TypeError(msg) from None


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


def _timedelta(v: Any) -> str:
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
)
_EXACT: dict[type, Callable[[Any], str]] = dict(_BASES)


def _late_bases() -> list[tuple[type, Callable[[Any], str]]]:
    """UUID, Decimal and the datetime types, after the builtins in `_BASES`, for the modules
    loaded now: a value of one cannot exist before its module is, and importing uuid (which
    loads platform), decimal and datetime with every cache cost ~3 ms (issue 17)."""
    out: list[tuple[type, Callable[[Any], str]]] = []
    uuid = sys.modules.get("uuid")
    if uuid is not None:
        out.append((uuid.UUID, lambda v: f"UUID({v.hex})"))
    decimal = sys.modules.get("decimal")
    if decimal is not None:
        dec = decimal.Decimal
        out.append((dec, lambda v: f"Decimal({dec.__str__(v)})"))
    dt = sys.modules.get("datetime")
    if dt is not None:  # datetime before date: a datetime is a date too
        out += [
            (dt.datetime, lambda v: f"datetime({dt.datetime.isoformat(v)})"),
            (dt.date, lambda v: f"date({dt.date.isoformat(v)})"),
            (dt.time, lambda v: f"time({dt.time.isoformat(v)})"),
            (dt.timedelta, _timedelta),
        ]
    return out


#: Prefix of every name the generated code uses for itself; no parameter may start with it.
RESERVED = "_sc_"

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
_STARS: dict[Any, str] = {
    inspect.Parameter.VAR_POSITIONAL: "*",
    inspect.Parameter.VAR_KEYWORD: "**",
}
_ANY_SIGNATURE = inspect.Signature(
    [
        inspect.Parameter("args", inspect.Parameter.VAR_POSITIONAL),
        inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD),
    ]
)


@dataclass(frozen=True)
class Template:
    """Source pieces of a function taking the decorated function's parameters.

    params: the parameter list, defaults referring to names in `namespace`.
    key_lines: statements, indented one level, leaving the key in ``_sc_key``.
    call_args, call_kwargs: a tuple and a dict expression re-creating the call.
    namespace: the globals those pieces use; every name starts with `RESERVED`.
    """

    params: str
    key_lines: str
    call_args: str
    call_kwargs: str
    namespace: dict[str, Any]


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
        self.func_name: str = getattr(func, "__qualname__", None) or repr(func)
        self.head = f"{getattr(func, '__module__', None)}.{self.func_name}:"
        try:
            self.signature = inspect.signature(func)
            self.exact = True
        except (TypeError, ValueError):  # no introspectable signature: key *args and **kwargs
            self.signature, self.exact = _ANY_SIGNATURE, False
        params = list(self.signature.parameters.values())
        if isinstance(ignore, str):
            ignore = (ignore,)
        #: A first self/cls keyed by what it is bound to (`identity`); None if there is none.
        self.identity_param: str | None = None
        if ignore is None:
            ignore = ()
            if key is None and params and _is_self(params[0]):
                self.identity_param = params[0].name
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
        self._keyed = [p for p in params if p.name not in self.ignored]
        self._custom = key
        self.build: KeyFunction = self.slow_build if key is None else self._make_custom()

    def fast_arity(self) -> int | None:
        """Parameter count when the C fast path (`_core.cached_call`) builds the same keys as
        `template` for positional calls of scalars: every parameter positional and keyed, no
        key function, and an ASCII head that leaves room for arguments; None otherwise."""
        simple = (
            self._custom is None
            and self.exact
            and not self.ignored
            and not (self._params and _is_self(self._params[0]))  # CachedCall binds no self
            and all(p.kind in _POSITIONAL for p in self._params)
            and not any(p.name.startswith(RESERVED) for p in self._params)
            and self.head.isascii()
            and len(self.head) < MAX_KEY_BYTES
        )
        return len(self._params) if simple else None

    def stored_head(self) -> str | None:
        """The prefix every stored key of this function starts with (shortened keys keep only
        its first bytes); None with a key function, whose keys share no prefix."""
        if self._custom is not None:
            return None
        raw = self.head.encode("utf-8", "surrogatepass")
        if len(raw) <= _PREFIX_BYTES:
            return self.head
        return raw[:_PREFIX_BYTES].decode("utf-8", "ignore")

    def _make_custom(self) -> KeyFunction:
        custom, name = self._custom, self.func_name
        assert custom is not None

        def build(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
            k = custom(*args, **kwargs)
            if type(k) is not str:
                msg = f"the key function of {name} must return a str, not {type(k).__name__}"
                raise TypeError(msg)
            return k if len(k) <= SAFE_CHARS else shorten(k)

        return build

    def slow_build(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        """The key of a call given as (args, kwargs), bound with Signature.bind."""
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as e:
            msg = f"{self.func_name}(): {e}"
            raise TypeError(msg) from None
        bound.apply_defaults()
        values = bound.arguments
        k = self.encode_bound(*(values[p.name] for p in self._keyed))
        return k if len(k) <= SAFE_CHARS else shorten(k)

    def encode_bound(self, *values: Any) -> str:
        """The unshortened key, from the bound values of the keyed parameters, in order."""
        parts = []
        for p, v in zip(self._keyed, values, strict=True):
            if p.name == self.identity_param:
                parts.append(identity(v, p.name))
            elif p.kind is p.VAR_KEYWORD:  # the text of _dict, each value named by its keyword
                parts.append("{" + ",".join(sorted(f"{k!r}:{encode(v[k], k)}" for k in v)) + "}")
            else:
                parts.append(encode(tuple(v) if p.kind is p.VAR_POSITIONAL else v, p.name))
        return self.head + ",".join(parts)

    def invalidation_key(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        """The key for `invalidate(*args, **kwargs)`: the call's arguments, without the ignored
        self/cls of a method (any placeholder stands in for it)."""
        if self.implicit_first:
            args = (None, *args)
        return self.build(args, kwargs)

    def template(self) -> Template:
        """Source pieces of a function computing the key of its call into ``_sc_key``.

        Canonical keys get this function's own parameter list, so CPython binds the call; key
        functions, callables without a signature and parameters named ``_sc_*`` get
        ``(*_sc_args, **_sc_kwargs)`` and `build`. The source holds only parameter names
        (identifiers, by inspect's own check) and fixed text; defaults, the function name and
        helpers are passed in the namespace.
        """
        ns: dict[str, Any] = {
            "_sc_S": REPR_TYPES,
            "_sc_head": self.head,
            "_sc_slow": self.encode_bound,
            "_sc_shorten": shorten,
            "_sc_build": self.build,
            "_sc_ident": identity,
        }
        reserved = any(p.name.startswith(RESERVED) for p in self._params)
        if self._custom is not None or not self.exact or reserved:
            key_lines = "    _sc_key = _sc_build(_sc_args, _sc_kwargs)\n"
            return Template("*_sc_args, **_sc_kwargs", key_lines, "_sc_args", "_sc_kwargs", ns)
        params = self._param_list(ns)
        checks, fmt, names = [], [], []
        for p in self._keyed:
            names.append(p.name)
            if p.name == self.identity_param:
                fmt.append(f"{{_sc_ident({p.name}, {p.name!r})}}")
            elif p.kind is p.VAR_POSITIONAL:
                checks.append(f"not {p.name}")
                fmt.append("()")
            elif p.kind is p.VAR_KEYWORD:
                checks.append(f"not {p.name}")
                fmt.append("{{}}")
            else:
                checks.append(f"type({p.name}) in _sc_S")
                fmt.append(f"{{{p.name}!r}}")
        slow = f"_sc_slow({', '.join(names)})"
        key_lines = (
            f"    if {' and '.join(checks) or 'True'}:\n"
            "        try:\n"
            f'            _sc_key = f"{{_sc_head}}{",".join(fmt)}"\n'
            "        except ValueError:\n"  # an int beyond the repr() digit limit
            f"            _sc_key = {slow}\n"
            "    else:\n"
            f"        _sc_key = {slow}\n"
            f"    if len(_sc_key) > {SAFE_CHARS}:\n"
            "        _sc_key = _sc_shorten(_sc_key)\n"
        )
        call_args = "".join(
            f"*{p.name}, " if p.kind is p.VAR_POSITIONAL else f"{p.name}, "
            for p in self._params
            if p.kind in (*_POSITIONAL, p.VAR_POSITIONAL)
        )
        kwargs = [
            f"**{p.name}" if p.kind is p.VAR_KEYWORD else f"{p.name!r}: {p.name}"
            for p in self._params
            if p.kind in (p.KEYWORD_ONLY, p.VAR_KEYWORD)
        ]
        call_kwargs = "{" + ", ".join(kwargs) + "}"
        return Template(params, key_lines, f"({call_args})", call_kwargs, ns)

    def _param_list(self, ns: dict[str, Any]) -> str:
        """The parameter list as source, with / and * where the signature has them."""
        out: list[str] = []
        prev: Any = None
        for i, p in enumerate(self._params):
            if prev is p.POSITIONAL_ONLY and p.kind is not p.POSITIONAL_ONLY:
                out.append("/")
            if p.kind is p.KEYWORD_ONLY and prev not in (p.KEYWORD_ONLY, p.VAR_POSITIONAL):
                out.append("*")
            text = _STARS.get(p.kind, "") + p.name
            if p.default is not p.empty:
                ns[f"_sc_d{i}"] = p.default
                text += f"=_sc_d{i}"
            out.append(text)
            prev = p.kind
        if prev is inspect.Parameter.POSITIONAL_ONLY:
            out.append("/")
        return ", ".join(out)

    def exact_build(self) -> Callable[..., str]:
        """A function with this function's parameters returning the key (for tests)."""
        t = self.template()
        src = f"def _sc_key_of({t.params}):\n{t.key_lines}    return _sc_key\n"
        return compile_function(src, "_sc_key_of", t.namespace, self.func_name)


def compile_function(
    source: str, name: str, namespace: dict[str, Any], label: str
) -> Callable[..., Any]:
    """Compiles generated `source` and returns its function `name` (tracebacks show `label`)."""
    code = compile(source, f"<stratacache wrapper of {label}>", "exec")
    exec(code, namespace)  # noqa: S102 - template text only, see KeyBuilder.template
    fn: Callable[..., Any] = namespace[name]
    return fn


def _is_self(p: inspect.Parameter) -> bool:
    return p.name in _SELF_NAMES and p.kind in _POSITIONAL
