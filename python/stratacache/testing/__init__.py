"""Helpers for testing code that uses stratacache: real Redis servers on loopback.

Import the submodule: ``from stratacache.testing import redis_servers``. (It is not imported
here, so that ``python -m stratacache.testing.redis_servers`` runs it cleanly.)
"""
