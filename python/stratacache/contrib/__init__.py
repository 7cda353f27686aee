"""Integrations of stratacache with the frameworks and tools around it.

Each submodule sits behind a pip extra and raises
:class:`stratacache.MissingExtraError` when that extra is not installed.
"""
