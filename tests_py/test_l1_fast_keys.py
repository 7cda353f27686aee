"""The L1 get/set fast paths read an ASCII key's bytes and cached hash in place and reuse one
buffer for dropped values: keys in every other form still meet the same entries, and a value
whose __del__ re-enters the cache while it is being evicted still works."""

from __future__ import annotations

import gc

import pytest

import stratacache


@pytest.mark.parametrize("policy", stratacache.POLICIES)
def test_a_key_whose_hash_is_not_computed_yet_meets_its_entry(policy: str) -> None:
    c = stratacache.Cache(max_entries=100, policy=policy)
    n = 42
    fresh = f"user:{n}"  # built at run time: its hash is not cached yet
    c.set(fresh, "v")
    assert c.get("user:42") == "v"
    other = f"user:{n + 1}"
    c.set("user:43", "w")
    assert c.get(other) == "w"


class OwnHash(str):
    __slots__ = ()

    def __hash__(self) -> int:
        return 7


@pytest.mark.parametrize("policy", stratacache.POLICIES)
def test_non_ascii_and_subclass_keys_meet_plain_str_keys(policy: str) -> None:
    c = stratacache.Cache(max_entries=100, policy=policy)
    c.set("clé:ü", 1)
    tail = "ü"
    assert c.get(f"clé:{tail}") == 1
    c.set(OwnHash("sub"), 2)  # str's hash and bytes, not the subclass's __hash__
    assert c.get("sub") == 2
    c.set("plain", 3)
    assert c.get(OwnHash("plain")) == 3


@pytest.mark.parametrize("policy", stratacache.POLICIES)
def test_keys_of_every_length_are_told_apart_by_any_byte(policy: str) -> None:
    c = stratacache.Cache(max_entries=10_000, policy=policy)
    keys = ["".join(chr(97 + (i * 7 + n) % 26) for i in range(n)) for n in range(41)]
    for k in keys:
        c.set(k, k)
    for k in keys:
        assert c.get(k) == k
        for at in range(len(k)):
            near = k[:at] + chr(ord(k[at]) ^ 1) + k[at + 1 :]
            assert c.get(near) in (None, near)  # never k's value
    c2 = stratacache.Cache(max_entries=100, policy=policy, namespace="a-longer-namespace")
    c2.set("x" * 30, 1)
    assert c2.get("x" * 30) == 1
    assert c2.get("x" * 29 + "y") is None


@pytest.mark.parametrize("policy", stratacache.POLICIES)
def test_a_destructor_re_entering_set_during_evictions(policy: str) -> None:
    c = stratacache.Cache(max_entries=8, policy=policy)
    reentered: list[int] = []

    class CallsBack:
        def __init__(self, n: int) -> None:
            self.n = n

        def __del__(self) -> None:
            reentered.append(self.n)
            c.set(f"from-del-{self.n}", self.n)  # evicts, in turn, while the outer set drops

    for i in range(200):
        c.set(f"k{i}", CallsBack(i))
    gc.collect()
    assert len(reentered) > 100
    assert len(c) <= 8
    for n in reentered:  # each key holds the value set for it, or nothing (evicted since)
        assert c.get(f"from-del-{n}") in (None, n)
    assert sum(c.get(f"k{i}") is not None for i in range(200)) <= 8
