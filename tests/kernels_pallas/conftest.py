"""Kernel tests run Pallas in interpret mode on the CPU (about 3 s of compilation per case).

`JAX_PLATFORMS=cuda pytest tests/kernels_pallas` runs the same tests compiled for the GPU instead,
plus those marked `gpu`.
"""

import importlib.util
import os
import sys
from pathlib import Path

# Interpret mode on a GPU machine would otherwise run on the GPU.
os.environ.setdefault("JAX_PLATFORMS", "cpu")

# Without an up-to-date editable install, `kernels_pallas` resolves to the tests/kernels_pallas folder
# (a namespace package): use the checkout's package instead.
_spec = importlib.util.find_spec("kernels_pallas")
if _spec is None or _spec.origin is None:
    sys.modules.pop("kernels_pallas", None)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
