"""JSON bytes for Codec(serializer="json"): written by orjson when installed, read by json.

The value was already checked to be in the JSON subset (dict with str keys, list, str, 64-bit
int, finite float, bool, None), where orjson and json write equivalent JSON. Reading always
uses json: orjson turns integers beyond 64 bits, which other writers may produce, into floats.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

json_dumps: Callable[[Any], bytes]
json_loads: Callable[[bytes], Any] = json.loads


def _std_dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


try:
    import orjson
except ImportError:  # pragma: no cover - depends on the environment
    json_dumps = _std_dumps
else:
    json_dumps = orjson.dumps
