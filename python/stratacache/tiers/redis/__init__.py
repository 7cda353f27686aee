"""The Redis tier: configuration, keys and plans, breaker, state, drivers, executors and
coherence (standalone, Sentinel and Cluster through redis-py)."""
