"""Converting parameter trees between the scanned layout (`stack/layers`, a leading layer axis) and the
unscanned one (`layers_0`, `layers_1`, ...), so any checkpoint loads under either `scan_layers` choice."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

STACKS = ("encoder", "decoder")
_LAYER_KEY = re.compile(r"^layers_(\d+)$")


def is_scanned(params: dict[str, Any]) -> bool:
    return any("stack" in params.get(name, {}) for name in STACKS)


def unstack_layers(params: dict[str, Any]) -> dict[str, Any]:
    """Scanned -> unscanned: `encoder/stack/layers/...` [L, ...] becomes `encoder/layers_i/...`."""
    out = dict(params)
    for name in STACKS:
        sub = dict(out.get(name, {}))
        stack = sub.pop("stack", None)
        if stack is None:
            continue
        layers = stack["layers"]
        num_layers = _leading_dim(layers)
        for i in range(num_layers):
            sub[f"layers_{i}"] = _map(lambda x, i=i: x[i], layers)
        out[name] = sub
    return out


def stack_layers(params: dict[str, Any]) -> dict[str, Any]:
    """Unscanned -> scanned: the inverse of `unstack_layers`."""
    out = dict(params)
    for name in STACKS:
        sub = dict(out.get(name, {}))
        indices = sorted(int(m.group(1)) for k in sub if (m := _LAYER_KEY.match(k)))
        if not indices:
            continue
        if indices != list(range(len(indices))):
            raise ValueError(f"{name} layers are not numbered 0..{len(indices) - 1}: found {indices}.")
        layers = [sub.pop(f"layers_{i}") for i in indices]
        stack = _array_module(layers[0]).stack
        sub["stack"] = {"layers": _map_many(lambda *xs, stack=stack: stack(xs), layers)}
        out[name] = sub
    return out


def to_layout(params: dict[str, Any], scan_layers: bool) -> dict[str, Any]:
    """Returns `params` in the layout that a model with this `scan_layers` expects."""
    if scan_layers == is_scanned(params):
        return params
    return stack_layers(params) if scan_layers else unstack_layers(params)


def _map(fn, tree):
    if isinstance(tree, dict):
        return {k: _map(fn, v) for k, v in tree.items()}
    return fn(tree)


def _map_many(fn, trees):
    if isinstance(trees[0], dict):
        return {k: _map_many(fn, [t[k] for t in trees]) for k in trees[0]}
    return fn(*trees)


def _leading_dim(tree) -> int:
    while isinstance(tree, dict):
        tree = next(iter(tree.values()))
    return int(tree.shape[0])


def _array_module(tree):
    while isinstance(tree, dict):
        tree = next(iter(tree.values()))
    if isinstance(tree, np.ndarray):
        return np
    import jax.numpy as jnp

    return jnp
