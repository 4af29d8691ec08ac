"""Padding lengths and batch sizes to a few buckets, so a stream of requests compiles a handful of programs."""

from __future__ import annotations


def bucket(n: int, *, minimum: int = 1, limit: int | None = None) -> int:
    """`n` rounded up to a power of two, at least `minimum`; capped at `limit` but never below `n`."""
    size = max(minimum, 1 << max(n - 1, 0).bit_length())
    return size if limit is None else max(min(size, limit), n)
