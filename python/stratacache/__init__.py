"""stratacache: a multi-tier cache for Python with a C++ core."""
