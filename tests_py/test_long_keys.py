"""Keys past the store's 15 in-place bytes (kept in the shard's key slab, their last bytes in
the entry), through the public API of both classes and every policy."""

from __future__ import annotations

from typing import Any

from .conftest import call

# Around the in-place limit (the namespace separator adds a byte), the slab's largest block
# (1024) and the 16-bit size (65535), with multi-byte UTF-8 so a character can straddle the cut
# between block and in-place tail.
LENGTHS = [0, 1, 14, 15, 16, 17, 31, 32, 33, 64, 1019, 1020, 1030, 4096, 65534, 65535, 70000]


def key_of(n: int, fill: str = "k") -> str:
    return (f"{n}:" + fill * n)[:n] if n > 3 else fill * n


async def test_keys_of_every_length_round_trip(make_cache: Any) -> None:
    c = make_cache(max_entries=1000)
    keys = [key_of(n) for n in LENGTHS] + [key_of(n, "é") for n in LENGTHS]
    keys += [key_of(n, "€") + "x" * extra for n in (5, 11) for extra in range(6)]
    keys = list(dict.fromkeys(keys))
    for i, k in enumerate(keys):
        await call(c.set(k, i))
    for i, k in enumerate(keys):
        assert await call(c.get(k)) == i, len(k)
    # Same length, one character different, at the start, the middle and the very end.
    for k in keys:
        for at in {0, len(k) // 2, len(k) - 1} if k else set():
            other = k[:at] + ("#" if k[at] != "#" else "%") + k[at + 1 :]
            if other not in keys:
                assert await call(c.get(other, "miss")) == "miss", (len(k), at)
    assert len(c) == len(keys)


async def test_long_keys_are_deleted_and_their_room_reused(make_cache: Any) -> None:
    c = make_cache(max_entries=5000)
    for round_ in range(4):
        keys = [f"round{round_}:user:{i}".ljust(40, "-") for i in range(2000)]
        await call(c.set_many(dict.fromkeys(keys, round_)))
        assert await call(c.get(keys[1234])) == round_
        assert await call(c.delete_many(keys)) == len(keys)
        assert await call(c.get(keys[1234], None)) is None
    assert len(c) == 0


def test_cached_functions_with_long_keys_clear_only_their_own() -> None:
    import stratacache  # noqa: PLC0415

    c = stratacache.Cache(max_entries=1000)
    calls: list[str] = []

    @c.cache
    def render(template: str) -> str:
        calls.append(template)
        return template.upper()

    @c.cache
    def other(template: str) -> str:
        calls.append("other:" + template)
        return template

    long_arg = "templates/email/welcome-" + "x" * 50
    assert render(long_arg) == render(long_arg) == long_arg.upper()
    assert other(long_arg) == other(long_arg)
    assert len(calls) == 2
    assert render.cache_info().currsize == 1
    render.cache_clear()  # drops render's entries by prefix (keys() over the store)
    assert render.cache_info().currsize == 0
    assert other(long_arg) == long_arg
    assert len(calls) == 2  # other's entry stayed
    assert render(long_arg) == long_arg.upper()
    assert len(calls) == 3
