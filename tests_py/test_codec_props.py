"""Property tests: any value built from the supported types round-trips exactly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stratacache import Codec

KEY = "prop:key"
Same = Callable[[Any, Any], bool]

hashable_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",))),
    st.binary(max_size=64),
    st.dates(),
    st.times(timezones=st.none() | st.timezones()),
    st.datetimes(timezones=st.none() | st.timezones()),
    st.timedeltas(),
    st.decimals(allow_nan=False),
    st.uuids(),
)
leaves = hashable_leaves | st.floats() | st.binary(max_size=64).map(bytearray)
hashables = st.recursive(
    hashable_leaves,
    lambda inner: st.tuples(inner, inner) | st.frozensets(inner, max_size=3),
    max_leaves=6,
)
values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.lists(inner, max_size=5).map(tuple)
        | st.dictionaries(hashables, inner, max_size=5)
        | st.sets(hashables, max_size=5)
        | st.frozensets(hashables, max_size=5)
    ),
    max_leaves=40,
)


CODECS = [
    Codec(),
    Codec(compression="zstd", compress_threshold=0),
    Codec(compression=None, encryption_keys=bytes(32)),
]


@settings(max_examples=150, deadline=None)
@given(value=values)
def test_any_value_round_trips(value: Any, same_value: Same) -> None:
    for codec in CODECS:
        assert same_value(codec.decode(KEY, codec.encode(KEY, value)), value)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(blacklist_categories=("Cs",))),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=100, deadline=None)
@given(value=json_values)
def test_any_json_value_round_trips(value: Any, same_value: Same) -> None:
    codec = Codec(serializer="json")
    assert same_value(codec.decode(KEY, codec.encode(KEY, value)), value)


@settings(max_examples=100, deadline=None)
@given(
    ttl=st.integers(0, 2**64 - 1),
    compute=st.integers(0, 2**64 - 1),
    created=st.integers(-(2**63), 2**63 - 1),
    tags=st.dictionaries(st.text(max_size=60), st.integers(0, 2**64 - 1), max_size=64),
)
def test_any_metadata_round_trips(
    ttl: int, compute: int, created: int, tags: dict[str, int]
) -> None:
    codec = Codec(signing_key=bytes(32))
    data = codec.encode_entry(
        KEY, None, ttl_ms=ttl, compute_us=compute, tags=tags, created_at_ms=created
    )
    entry = codec.decode_entry(KEY, data)
    assert (entry.ttl_ms, entry.compute_us, entry.created_at_ms, entry.tags) == (
        ttl,
        compute,
        created,
        tags,
    )
