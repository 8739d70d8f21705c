"""Deterministic randomness for test data: the same seed, the same bytes, on any machine."""

from __future__ import annotations

import hashlib
import random

__all__ = ["mixed_seed", "rng"]


def mixed_seed(*parts: object) -> int:
    """A well-mixed 64-bit seed from several values (``random.Random`` refuses tuples)."""
    text = ",".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def rng(*parts: object) -> random.Random:
    """A deterministic generator seeded from ``parts`` (test data, not secrets)."""
    return random.Random(mixed_seed(*parts))  # noqa: S311
