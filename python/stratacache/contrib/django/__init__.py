"""Django integration: `StrataCache`, a CACHES backend over a stratacache `Cache`.

    CACHES = {
        "default": {
            "BACKEND": "stratacache.contrib.django.StrataCache",
            "LOCATION": "redis://127.0.0.1:6379/0",  # or "" / a name: L1 alone
            "OPTIONS": {"max_entries": 100_000},
        }
    }

Needs the `django` extra (``pip install 'stratacache[django]'``).
"""

from __future__ import annotations

from .cache import StrataCache

__all__ = ["StrataCache"]
