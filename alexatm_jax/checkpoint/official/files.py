"""Reading and writing directories in the official release's format (what transformers' `save_pretrained`
writes): `config.json` plus `model.safetensors` or `pytorch_model.bin`, or shards named by a `*.index.json`.

Files are opened one at a time and tensors read one by one (safetensors and `torch.load(mmap=True)` both
map the file rather than reading it whole). `.bin` files need PyTorch and are loaded with
`weights_only=True`, which never runs pickled code; safetensors files need only `safetensors`. A file that is not
what its name says (a plain pickle, a legacy-format or truncated `.bin`, a damaged safetensors header) is named in
a `DataError` before PyTorch or safetensors sees it, or with their message translated.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import numpy as np

from alexatm_jax.errors import ConfigError, DataError

CONFIG_NAME = "config.json"
SAFETENSORS_NAME = "model.safetensors"
SAFETENSORS_INDEX = "model.safetensors.index.json"
BIN_NAME = "pytorch_model.bin"
BIN_INDEX = "pytorch_model.bin.index.json"
# transformers requires this metadata in safetensors files it loads.
SAFETENSORS_METADATA = {"format": "pt"}
# How a file written by `pickle.dump` begins (protocol 2+), and how torch.save's legacy (pre-1.6, non-zip) format
# begins: a pickled magic number. `torch.load(mmap=True)` reads only the zip format torch.save has written since.
PICKLE_PREFIX = b"\x80"
LEGACY_TORCH_PREFIX = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19"


class TensorInfo(NamedTuple):
    shape: tuple[int, ...]
    file: Path


class ShardReader(Protocol):
    def shapes(self) -> dict[str, tuple[int, ...]]: ...

    def get(self, name: str) -> np.ndarray: ...


def read_config(directory: str | Path) -> dict[str, Any]:
    path = Path(directory) / CONFIG_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: an official checkpoint directory holds {CONFIG_NAME} "
                                "next to its weights (as written by `save_pretrained`).")
    try:
        config = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataError(f"{path} is not valid JSON ({e}): restore it from the release.") from e
    if not isinstance(config, dict):
        raise DataError(f"{path} must hold a JSON object, found {type(config).__name__}.")
    return config


def weight_files(directory: str | Path) -> tuple[list[Path], dict[str, str] | None]:
    """The weight files to read, in order, and the index's weight map when sharded.

    Like transformers, prefers safetensors over `.bin` when both are present.
    """
    directory = Path(directory)
    for single, index in ((SAFETENSORS_NAME, SAFETENSORS_INDEX), (BIN_NAME, BIN_INDEX)):
        if (directory / single).is_file():
            return [directory / single], None
        if (directory / index).is_file():
            weight_map = json.loads((directory / index).read_text()).get("weight_map")
            if not isinstance(weight_map, dict) or not weight_map:
                raise DataError(f"{directory / index} has no `weight_map`: it must map tensor names to "
                                 "shard files.")
            files = [directory / name for name in sorted(set(weight_map.values()))]
            missing = [f.name for f in files if not f.is_file()]
            if missing:
                raise FileNotFoundError(f"{directory / index} names shard file(s) {missing} that are not in "
                                        f"{directory}: copy every shard next to the index.")
            return files, weight_map
    raise FileNotFoundError(
        f"No weights in {directory}: expected {SAFETENSORS_NAME}, {SAFETENSORS_INDEX} (+ shards), {BIN_NAME} "
        f"or {BIN_INDEX} (+ shards)."
    )


def inventory(files: list[Path], weight_map: dict[str, str] | None) -> dict[str, TensorInfo]:
    """Names and shapes of every tensor in `files`, read from headers only; checks the index against them."""
    found: dict[str, TensorInfo] = {}
    for path in files:
        with open_weights(path) as reader:
            for name, shape in reader.shapes().items():
                if name in found:
                    raise DataError(f"Tensor {name} is stored twice: in {found[name].file.name} and "
                                     f"{path.name}.")
                found[name] = TensorInfo(shape, path)
    if weight_map is not None:
        for name, file in weight_map.items():
            if name not in found or found[name].file.name != file:
                where = found[name].file.name if name in found else "no shard"
                raise DataError(f"The index maps tensor {name} to {file}, but {where} holds it: the "
                                 "index does not match the shards.")
    return found


@contextlib.contextmanager
def open_weights(path: Path) -> Iterator[ShardReader]:
    """A reader over one weight file (safetensors or PyTorch `.bin`)."""
    if path.name.endswith(".safetensors"):
        from safetensors import SafetensorError, safe_open

        try:
            handle = safe_open(str(path), framework="np")
        except SafetensorError as e:
            raise DataError(f"{path} is not a readable safetensors file ({e}): it is damaged or truncated, or "
                            "another kind of file; copy it again from the release.") from e
        with handle:
            yield _SafetensorsReader(handle)
    elif path.name.endswith(".bin"):
        reader = _TorchReader(path)
        try:
            yield reader
        finally:
            reader.state.clear()
    else:
        raise DataError(f"{path.name}: unknown weight file type (expected .safetensors or .bin).")


class _SafetensorsReader:
    def __init__(self, handle: Any):
        self.handle = handle

    def shapes(self) -> dict[str, tuple[int, ...]]:
        return {name: tuple(self.handle.get_slice(name).get_shape()) for name in self.handle.keys()}

    def get(self, name: str) -> np.ndarray:
        return self.handle.get_tensor(name)


class _TorchReader:
    def __init__(self, path: Path):
        check_torch_file(path)
        torch = import_torch(path)
        self.torch = torch
        try:
            self.state = torch.load(str(path), map_location="cpu", weights_only=True, mmap=True)
        except Exception as e:  # torch raises UnpicklingError, RuntimeError, ... for what it refuses or cannot read
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise DataError(f"{path} could not be loaded as plain tensors ({first}): it holds other Python objects, "
                            "or is damaged. Nothing in it was run (weights_only=True). Use the release's weight "
                            "files, or convert them to safetensors.") from e
        if not isinstance(self.state, dict):
            raise DataError(f"{path} holds a {type(self.state).__name__}, not a state dict of tensors.")

    def shapes(self) -> dict[str, tuple[int, ...]]:
        return {name: tuple(tensor.shape) for name, tensor in self.state.items()}

    def get(self, name: str) -> np.ndarray:
        tensor = self.state.pop(name).detach()
        if tensor.dtype == self.torch.bfloat16:  # numpy has no bfloat16: reinterpret the bits via ml_dtypes.
            import ml_dtypes

            return tensor.view(self.torch.int16).numpy().view(ml_dtypes.bfloat16)
        return tensor.numpy()


def check_torch_file(path: Path) -> None:
    """Raises `DataError` unless `path` is in the zip format `torch.save` writes (checked without PyTorch)."""
    if zipfile.is_zipfile(path):
        return
    with open(path, "rb") as f:
        head = f.read(len(LEGACY_TORCH_PREFIX))
    if head.startswith(LEGACY_TORCH_PREFIX):
        what = "saved in PyTorch's legacy (pre-1.6) format, which cannot be memory-mapped"
    elif head.startswith(PICKLE_PREFIX):
        what = "a plain Python pickle, not a PyTorch checkpoint (never unpickled here: it could run code)"
    else:
        what = "not a PyTorch checkpoint (nor a complete one: a truncated zip has lost its index)"
    raise DataError(f"{path} is {what}. Re-save the state dict with a current `torch.save`, or as safetensors.")


def import_torch(path: Path) -> Any:
    try:
        import torch
    except ImportError as error:
        raise ImportError(
            f"Reading {path.name} needs PyTorch, which is not installed: `pip install torch` (CPU is "
            "enough), or convert the checkpoint to safetensors first (safetensors files need no PyTorch)."
        ) from error
    return torch


# ----------------------------------------------------------------------------------------------- writing
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?I?B)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def parse_size(size: str | int) -> int:
    """Bytes in "10GB", "500MiB", "2000" (transformers' convention: GB = 10**9 bytes)."""
    if isinstance(size, int):
        return size
    match = _SIZE.match(size)
    if not match:
        raise ConfigError(f"Cannot read size {size!r}: write e.g. 10GB, 500MB, 2GiB or a number of bytes.")
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "").upper()])


def plan_shards(sizes: list[tuple[str, int]], max_bytes: int) -> list[list[str]]:
    """Groups names (in order) into shards of at most `max_bytes` (a larger tensor gets its own shard)."""
    shards: list[list[str]] = [[]]
    used = 0
    for name, nbytes in sizes:
        if shards[-1] and used + nbytes > max_bytes:
            shards.append([])
            used = 0
        shards[-1].append(name)
        used += nbytes
    return shards


def shard_name(index: int, count: int) -> str:
    if count == 1:
        return SAFETENSORS_NAME
    return f"model-{index + 1:05d}-of-{count:05d}.safetensors"


def save_shard(path: Path, tensors: dict[str, np.ndarray]) -> None:
    """One safetensors file, with the permissions `open()` would give it (safetensors writes mode 0600)."""
    from safetensors.numpy import save_file

    contiguous = {k: np.ascontiguousarray(v) for k, v in tensors.items()}
    save_file(contiguous, str(path), metadata=SAFETENSORS_METADATA)
    os.chmod(path, 0o666 & ~_umask())


def _umask() -> int:
    """The process umask: from /proc where it can be read; else set and restored at once (not thread-safe)."""
    try:
        with open("/proc/self/status") as f:
            return int(next(line.split()[1] for line in f if line.startswith("Umask:")), 8)
    except (OSError, StopIteration, ValueError):
        mask = os.umask(0o022)
        os.umask(mask)
        return mask


def write_index(directory: Path, weight_map: dict[str, str], total_size: int) -> Path:
    path = directory / SAFETENSORS_INDEX
    index = {"metadata": {"total_size": total_size}, "weight_map": dict(sorted(weight_map.items()))}
    path.write_text(json.dumps(index, indent=2) + "\n")
    return path


def write_config(directory: Path, config: dict[str, Any]) -> Path:
    path = directory / CONFIG_NAME
    path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    return path
