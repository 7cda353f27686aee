"""Keys of decorated functions: canonical binding, type-tagged encoding, long keys, errors."""

from __future__ import annotations

import copy
import datetime as dt
import enum
import subprocess
import sys
import uuid
from collections import OrderedDict, namedtuple
from decimal import Decimal
from typing import Any

import pytest

from stratacache._keys import MAX_KEY_BYTES, KeyBuilder, encode, shorten


def key(func: Any, *args: Any, **kwargs: Any) -> str:
    return KeyBuilder(func).build(args, kwargs)


def two(a: Any, b: Any = 2) -> None: ...


class Color(enum.Enum):
    RED = 1


class Level(enum.IntEnum):
    ONE = 1


class UserId(int):
    pass


Point = namedtuple("Point", "x y")


def test_equivalent_calls_share_a_key() -> None:
    calls = [((1, 2), {}), ((1,), {"b": 2}), ((), {"a": 1, "b": 2}), ((), {"b": 2, "a": 1})]
    keys = {key(two, *args, **kwargs) for args, kwargs in calls}
    keys.add(key(two, 1))  # b defaults to 2
    assert keys == {key(two, 1, 2)}
    assert key(two, 1, 3) != key(two, 1, 2)


def test_key_names_the_function() -> None:
    assert key(two, 1, 2) == f"{__name__}.two:1,2"


def varargs(a: Any, *args: Any, k: Any = 0, **kwargs: Any) -> None: ...
def kwonly(a: Any, *, k: Any = "x") -> None: ...
def posonly(a: Any, /, b: Any = None) -> None: ...
def nothing() -> None: ...


@pytest.mark.parametrize(
    ("func", "args", "kwargs"),
    [
        (varargs, (1,), {}),
        (varargs, (1, 2, 3), {"z": 1, "y": 2}),
        (varargs, (1,), {"k": 5}),
        (kwonly, (1,), {}),
        (kwonly, (1,), {"k": "x"}),
        (posonly, (1, None), {}),
        (posonly, (1,), {}),
        (nothing, (), {}),
        (two, ("long" * 100, 2), {}),
        (two, (10**5000, 2), {}),
        (two, ([1], {"a": (1,)}), {}),
    ],
)
def test_generated_and_bound_paths_agree(func: Any, args: Any, kwargs: Any) -> None:
    builder = KeyBuilder(func)
    slow = builder.build(args, kwargs)
    assert builder.exact_build()(*args, **kwargs) == slow
    # Keyword and default-filled forms of the same call land on the same key.
    if not kwargs and func in (two, kwonly, nothing):
        names = list(builder.signature.parameters)
        by_name = dict(zip(names, args, strict=False))
        assert builder.exact_build()(**by_name) == slow


@pytest.mark.parametrize("value", [object(), [1, object()]], ids=["object", "list-holding-object"])
def test_generated_path_names_unsupported_arguments(value: Any) -> None:
    with pytest.raises(TypeError, match="argument 'b'"):
        KeyBuilder(two).exact_build()(1, value)


def test_reserved_or_missing_signature_uses_the_generic_path() -> None:
    def reserved(_sc_key: int, x: int = 1) -> None: ...

    builder = KeyBuilder(reserved)
    assert builder.template().params == "*_sc_args, **_sc_kwargs"
    assert builder.exact_build()(1) == builder.exact_build()(_sc_key=1, x=1)
    no_signature = KeyBuilder(max)  # builtins.max has no introspectable signature
    assert no_signature.exact_build()(1, 2) == "builtins.max:(1,2),{}"


def test_kwargs_are_sorted_by_name() -> None:
    assert key(varargs, 1, y=2, z=3) == key(varargs, 1, z=3, y=2)
    assert key(varargs, 1, 2) != key(varargs, 1, k=2)


ONE_LIKE: list[Any] = [
    1,
    1.0,
    True,
    "1",
    b"1",
    None,
    (1,),
    [1],
    {1},
    frozenset({1}),
    {1: 1},
    Color.RED,
    Level.ONE,
    UserId(1),
    Decimal(1),
    uuid.UUID(int=1),
    dt.date(2001, 1, 1),
    dt.datetime(2001, 1, 1),
    dt.timedelta(seconds=1),
    dt.time(1),
    Point(1, 1),
    (1, 1),
    OrderedDict({1: 1}),
    0,
    -0.0,
    0.0,
]


def test_types_are_tagged() -> None:
    encoded = [encode(v, "x") for v in ONE_LIKE]
    assert len(set(encoded)) == len(encoded), encoded


@pytest.mark.parametrize("value", ONE_LIKE, ids=lambda v: type(v).__name__)
def test_equal_values_encode_equally(value: Any) -> None:
    assert encode(copy.deepcopy(value), "x") == encode(value, "x")


def test_containers_are_order_independent() -> None:
    assert encode({"a": 1, "b": 2}, "x") == encode({"b": 2, "a": 1}, "x")
    assert encode({"b", "a", "c"}, "x") == encode({"c", "a", "b"}, "x")
    assert encode(frozenset({"b", "a"}), "x") == "frozenset{'a','b'}"
    assert encode([1, 2], "x") != encode([2, 1], "x")


def test_encoding_does_not_depend_on_hash_seed() -> None:
    code = (
        "from stratacache._keys import encode;"
        "print(encode({frozenset({'a', 'b', 'c'}): {'x', 'y', 'z'}}, 'x'))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={"PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1


def test_huge_int_is_encoded() -> None:
    big = 10**5000  # beyond the default repr() digit limit
    assert key(two, big, 1) != key(two, big + 1, 1)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (object(), "argument 'a' of type 'object'"),
        ([1, object()], "argument 'a' of type 'list' holds a value of type 'object'"),
        ({"k": {1: lambda: 0}}, "holds a value of type 'function'"),
    ],
)
def test_unsupported_argument_is_named(value: Any, fragment: str) -> None:
    with pytest.raises(TypeError, match="cannot be part of a cache key") as info:
        key(two, value)
    assert fragment in str(info.value)
    with pytest.raises(TypeError, match="argument 'b'"):
        key(two, 1, b=value)


def test_unsupported_keyword_argument_is_named_by_keyword() -> None:
    with pytest.raises(TypeError, match="argument 'conn'"):
        key(varargs, 1, conn=object())


def test_cyclic_argument_is_a_type_error() -> None:
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    with pytest.raises(TypeError, match="argument 'a' is nested too deeply"):
        key(two, cyclic)


def test_unencodable_default_is_reported_only_when_used() -> None:
    sentinel = object()

    def f(a: Any, *, conn: Any = sentinel) -> None: ...

    with pytest.raises(TypeError, match="argument 'conn'"):
        key(f, 1)
    assert KeyBuilder(f, ignore=("conn",)).build((1,), {"conn": object()}).endswith(":1")


def test_wrong_call_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"two\(\): .*argument"):
        key(two)
    with pytest.raises(TypeError, match=r"two\(\)"):
        key(two, 1, c=3)


def test_long_keys_are_hashed_with_readable_prefix() -> None:
    a = key(two, "x" * 300)
    b = key(two, "x" * 299 + "y")
    assert a != b
    for k in (a, b):
        assert len(k.encode()) <= MAX_KEY_BYTES
        assert k.startswith(f"{__name__}.two:'xxxx")
    short = key(two, "x" * 10)
    assert "#" not in short


def test_shorten_keeps_short_keys_and_cuts_on_characters() -> None:
    exact = "k" * MAX_KEY_BYTES
    assert shorten(exact) is exact
    long = "é" * 200  # 400 bytes; the cut must not split a character
    short = shorten(long)
    assert len(short.encode()) <= MAX_KEY_BYTES
    prefix, digest = short.rsplit("#", 1)
    assert set(prefix) == {"é"}
    assert len(digest) == 32
    assert shorten("é" * 201) != short


class Service:
    def __init__(self, region: str = "eu") -> None:
        self.region = region

    def __cache_key__(self) -> tuple[str, int]:
        return (self.region, 1)

    def lookup(self, user: int) -> None: ...

    @classmethod
    def build(cls, user: int) -> None: ...


class Opaque:
    def lookup(self, user: int) -> None: ...


def test_self_is_keyed_by_cache_key_and_cls_by_its_name() -> None:
    k1 = key(Service.lookup, Service(), 1)
    assert k1 == key(Service.lookup, Service(), user=1)
    assert k1.endswith(f"Service.lookup:<{__name__}.Service>('eu',1),1")
    assert k1 != key(Service.lookup, Service("us"), 1)
    assert key(Service.build.__func__, Service, 1).endswith(f":<class {__name__}.Service>,1")
    assert key(Service.build.__func__, Service, 1) == key(Service.build.__func__, Service, user=1)


def test_a_self_without_an_identity_is_a_type_error_naming_the_fixes() -> None:
    with pytest.raises(TypeError, match=r"'Opaque'.*__cache_key__.*ignore=\('self',\).*key="):
        key(Opaque.lookup, Opaque(), 1)
    assert key(Opaque.lookup, "s", 1).endswith("Opaque.lookup:'s',1")  # an encodable self
    bad = type("Bad", (), {"__cache_key__": lambda self: object(), "m": Opaque.lookup})
    with pytest.raises(TypeError, match=r"Bad.__cache_key__\(\) returned"):
        key(bad.m, bad(), 1)


def test_methods_never_take_the_c_fast_path() -> None:
    assert KeyBuilder(Service.lookup).fast_arity() is None
    assert KeyBuilder(Service.lookup, ignore=()).fast_arity() is None
    assert KeyBuilder(two).fast_arity() == 2


def test_ignore_chooses_parameters() -> None:
    with pytest.raises(TypeError, match="argument 'self'"):
        KeyBuilder(Opaque.lookup, ignore=()).build((Opaque(), 1), {})
    builder = KeyBuilder(two, ignore="b")
    assert builder.build((1, 5), {}) == builder.build((1, 6), {})
    with pytest.raises(ValueError, match="ignore names no parameter"):
        KeyBuilder(two, ignore=("c",))


def test_invalidation_key_of_an_ignored_self_omits_it() -> None:
    builder = KeyBuilder(Opaque.lookup, ignore=("self",))
    assert builder.invalidation_key((1,), {}) == builder.build((Opaque(), 1), {})
    assert builder.invalidation_key((), {"user": 1}) == builder.build((Opaque(), 1), {})
    keyed = KeyBuilder(Service.lookup)  # a keyed self is passed: obj.method.invalidate binds it
    assert keyed.invalidation_key((Service(), 1), {}) == keyed.build((Service(), 1), {})


def test_custom_key_function_overrides_everything() -> None:
    builder = KeyBuilder(two, key=lambda a, b=2: f"user:{a}")
    assert builder.build((7,), {}) == "user:7"
    assert builder.build((), {"a": 7, "b": 3}) == "user:7"
    assert len(builder.build(("x" * 400,), {}).encode()) <= MAX_KEY_BYTES
    bad = KeyBuilder(two, key=lambda a, b=2: a)
    with pytest.raises(TypeError, match="must return a str, not int"):
        bad.build((1,), {})
