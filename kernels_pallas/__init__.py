"""Pallas attention kernels (flash attention forward/backward, flash-decoding) and their references.

Knows nothing of models; depends only on jax and numpy. On CPU the kernels run in Pallas interpret
mode (correct but slow); on GPU they compile through the Triton backend, or the flash-attention forward through
Mosaic GPU (`backend="mosaic_gpu"`, Hopper). `kernels_pallas.masks` (the visibility rule) and
`kernels_pallas.reference` import no Pallas code; the kernels are imported on first use. `kernels_pallas.sharded`
runs them per device on a mesh (`shard_map` over batch and heads).
"""

from __future__ import annotations

from typing import Any

__all__ = ["BACKENDS", "decode_attention", "flash_attention", "reference", "sharded_decode_attention",
           "sharded_flash_attention"]


def __getattr__(name: str) -> Any:
    if name in ("BACKENDS", "decode_attention", "flash_attention"):
        from kernels_pallas import api

        return getattr(api, name)
    if name in ("sharded_decode_attention", "sharded_flash_attention"):
        from kernels_pallas import sharded

        return getattr(sharded, name)
    if name == "reference":
        from kernels_pallas import reference

        return reference
    raise AttributeError(f"module 'kernels_pallas' has no attribute {name!r}")
