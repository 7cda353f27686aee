"""JSON bytes for Codec(serializer="json"): orjson when installed, else the json module.

The value was already checked to be in the JSON subset (dict with str keys, list, str, 64-bit
int, finite float, bool, None), where both produce equivalent JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

json_dumps: Callable[[Any], bytes]
json_loads: Callable[[bytes], Any]


def _std_dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


try:
    import orjson
except ImportError:  # pragma: no cover - depends on the environment
    json_dumps = _std_dumps
    json_loads = json.loads
else:

    def _orjson_loads(data: bytes) -> Any:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            # Other writers may use integers beyond 64 bits, which only json reads.
            return json.loads(data)

    json_dumps = orjson.dumps
    json_loads = _orjson_loads
