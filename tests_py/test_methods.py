"""Cached methods through the C descriptor (`_core.cached_method`): what binding gives."""

from __future__ import annotations

import gc
import inspect
import weakref
from typing import Any

import pytest

import stratacache


class Item:
    """Unhashable (defines __eq__ without __hash__), keyed by __cache_key__."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls = 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Item) and other.name == self.name

    __hash__ = None  # type: ignore[assignment]

    def __cache_key__(self) -> str:
        return self.name


def _methods(cache: stratacache.Cache) -> type[Item]:
    class Priced(Item):
        @cache.cache
        def price(self, a: int, b: int = 0, *, c: int = 0) -> tuple[str, int, int, int]:
            """Prices."""
            self.calls += 1
            return (self.name, a, b, c)

        @cache.cache
        def many(self, *args: int) -> int:
            self.calls += 1
            return sum(args)

    return Priced


def test_a_bound_method_is_bound_to_an_unhashable_instance() -> None:
    priced = _methods(stratacache.Cache())
    x, y = priced("x"), priced("y")
    bound = x.price
    assert bound.__self__ is x
    assert bound(1) == ("x", 1, 0, 0)
    assert x.price(1) == bound(1) == ("x", 1, 0, 0)  # a hit, through either form
    assert x.calls == 1
    assert y.price(1) == ("y", 1, 0, 0)
    assert x.price(1, 2, c=3) == ("x", 1, 2, 3)  # keywords pass through the binding
    assert priced.price(x, 1, 2, c=3) == ("x", 1, 2, 3)  # through the class, self first
    assert x.calls == 2
    assert bound.invalidate(1) is True
    assert bound.invalidate(1) is False
    assert y.price.cache_info().loader_calls == 3


def test_a_bound_call_with_many_arguments() -> None:
    priced = _methods(stratacache.Cache())
    x = priced("x")
    args = tuple(range(20))  # more than the binding's on-stack room
    assert x.many(*args) == sum(args)
    assert x.many(*args) == sum(args)
    assert x.calls == 1
    assert x.many.invalidate(*args) is True


def test_a_bound_method_looks_like_one() -> None:
    priced = _methods(stratacache.Cache())
    x = priced("x")
    assert x.price.__name__ == "price"
    assert x.price.__doc__ == priced.price.__doc__ == "Prices."
    assert list(inspect.signature(x.price).parameters) == ["a", "b", "c"]
    assert list(inspect.signature(priced.price).parameters) == ["self", "a", "b", "c"]
    assert priced.price.__get__(None, priced) is priced.price


def test_a_bound_method_keeps_no_instance_alive_after_use() -> None:
    priced = _methods(stratacache.Cache())
    x = priced("x")
    x.price(1)
    ref = weakref.ref(x)
    del x
    gc.collect()
    assert ref() is None


def test_a_method_error_propagates_through_the_binding() -> None:
    cache = stratacache.Cache()

    class Failing(Item):
        @cache.cache
        def boom(self, a: int) -> Any:
            raise ValueError(a)

    with pytest.raises(ValueError, match="7"):
        Failing("f").boom(7)
    with pytest.raises(TypeError):
        Failing("f").boom()  # type: ignore[call-arg]
