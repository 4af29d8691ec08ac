"""Pallas attention kernels (flash attention forward/backward, flash-decoding) and their references.

Knows nothing of models; depends only on jax and numpy. On CPU the kernels run in Pallas interpret
mode (correct but slow); on GPU they compile through the Triton backend.
"""

from kernels_pallas import reference
from kernels_pallas.api import BACKENDS, decode_attention, flash_attention

__all__ = ["BACKENDS", "decode_attention", "flash_attention", "reference"]
