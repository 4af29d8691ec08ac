"""Optimisers: AdamW as in the AlexaTM paper (or Adafactor), with its schedule, clipping and freezing.

Paper recipe (docs/PAPER.md): Adam, peak lr 1e-4 decayed linearly to 5e-6 over 500k updates, weight decay 0.1 on
everything but biases and layer norms, the encoder frozen for the first ~100k updates. `final_logits_bias` is
a buffer in the official model, so it never changes here either.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from alexatm_jax.errors import ConfigError

OPTIMIZERS = ("adamw", "adafactor")
# Parameters that are buffers in the official release: never updated, never decayed.
ALWAYS_FROZEN = ("final_logits_bias",)
# Top-level parameter groups that belong to the encoder (frozen for `freeze_encoder_steps`).
ENCODER_GROUPS = ("encoder", "encoder_embed")
# Leaf names without weight decay: biases and layer-norm scales/biases (the paper's exclusions).
NO_DECAY_NAMES = ("bias", "scale")


@dataclasses.dataclass(frozen=True)
class OptimizerConfig:
    """What `make_optimizer` builds; gin binds it in `gin/runs/*.gin`.

    `decay_steps` (default: the run's TRAIN_STEPS) counts updates from 0 to the end of the linear decay; the
    warmup is linear from 0 to `learning_rate`. Adam's betas are not stated in the paper: optax's defaults.
    """

    name: str = "adamw"
    learning_rate: float = 1e-4
    end_learning_rate: float = 5e-6
    warmup_steps: int = 1000
    decay_steps: int | None = None
    weight_decay: float = 0.1
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8
    clip_grad_norm: float | None = 1.0
    freeze_encoder_steps: int = 0
    # Adafactor only: second-moment decay and per-parameter update clipping (optax's adafactor defaults).
    adafactor_decay_rate: float = 0.8
    adafactor_clipping_threshold: float | None = 1.0

    def __post_init__(self) -> None:
        if self.name not in OPTIMIZERS:
            raise ConfigError(f"OptimizerConfig.name={self.name!r} is unknown: use one of {OPTIMIZERS}.")
        if self.learning_rate <= 0 or self.end_learning_rate < 0:
            raise ConfigError("learning_rate must be > 0 and end_learning_rate >= 0 "
                             f"(got {self.learning_rate}, {self.end_learning_rate}).")
        if self.warmup_steps < 0 or self.freeze_encoder_steps < 0:
            raise ConfigError("warmup_steps and freeze_encoder_steps must be >= 0.")


class Optimizer(NamedTuple):
    """The optax transformation and its learning-rate schedule (for logging)."""

    tx: optax.GradientTransformation
    schedule: optax.Schedule


def make_schedule(config: OptimizerConfig, total_steps: int) -> optax.Schedule:
    """Linear warmup 0 -> peak over `warmup_steps`, then linear decay to `end_learning_rate` at `decay_steps`."""
    decay_steps = config.decay_steps or total_steps
    warmup = min(config.warmup_steps, max(decay_steps - 1, 0))
    decay = optax.linear_schedule(config.learning_rate, config.end_learning_rate, max(decay_steps - warmup, 1))
    if warmup == 0:
        return decay
    ramp = optax.linear_schedule(0.0, config.learning_rate, warmup)
    return optax.join_schedules([ramp, decay], [warmup])


def _names(path: tuple[Any, ...]) -> list[str]:
    return [str(getattr(k, "key", getattr(k, "name", k))) for k in path]


def _path_mask(predicate: Callable[[list[str]], bool]) -> Callable[[Any], Any]:
    """A callable mask (optax accepts these) deciding per leaf from its key path."""
    return lambda params: jax.tree_util.tree_map_with_path(lambda p, _: predicate(_names(p)), params)


def is_always_frozen(names: list[str]) -> bool:
    return names[-1] in ALWAYS_FROZEN


def without_buffer_gradients(params: Any) -> Any:
    """`params` with `stop_gradient` on the always-frozen buffers: differentiating through it gives them zero
    gradients without computing any. For `final_logits_bias` that was a sum over every logit of the batch, used
    only by the `grad_norm` metric: the slowest single op in a CPU profile of the 61M step (benchmarks/RESULTS.md).
    """
    return jax.tree_util.tree_map_with_path(
        lambda p, x: jax.lax.stop_gradient(x) if is_always_frozen(_names(p)) else x, params)


def is_encoder(names: list[str]) -> bool:
    return names[0] in ENCODER_GROUPS


def is_decayed(names: list[str]) -> bool:
    return not (is_always_frozen(names) or names[-1] in NO_DECAY_NAMES)


class _HoldState(NamedTuple):
    count: jax.Array
    inner_state: Any


def hold_for_steps(inner: optax.GradientTransformation, num_steps: int) -> optax.GradientTransformation:
    """Zero updates and an untouched `inner` state for the first `num_steps` calls.

    Frozen parameters thus start their Adam moments (and bias correction) when they unfreeze, like
    PyTorch's per-parameter state in the original DeepSpeed training.
    """

    def init(params):
        return _HoldState(jnp.zeros([], jnp.int32), inner.init(params))

    def update(updates, state, params=None):
        def hold(_):
            return jax.tree_util.tree_map(jnp.zeros_like, updates), state.inner_state

        def run(_):
            return inner.update(updates, state.inner_state, params)

        new_updates, inner_state = jax.lax.cond(state.count < num_steps, hold, run, None)
        return new_updates, _HoldState(optax.safe_increment(state.count), inner_state)

    return optax.GradientTransformation(init, update)


def freeze_for_steps(inner: optax.GradientTransformation, mask: Callable[[Any], Any],
                     num_steps: int) -> optax.GradientTransformation:
    """Zeroes gradients and updates of the `mask`ed leaves during the first `num_steps` updates.

    Gradients are zeroed before `inner` so frozen leaves add nothing to the clipping norm; updates after it so
    weight decay does not move them.
    """

    def init(params):
        return _HoldState(jnp.zeros([], jnp.int32), inner.init(params))

    def update(updates, state, params=None):
        frozen = state.count < num_steps

        def zero(tree):
            return jax.tree_util.tree_map(
                lambda u, m: jnp.where(frozen, jnp.zeros_like(u), u) if m else u, tree, mask(tree))

        new_updates, inner_state = inner.update(zero(updates), state.inner_state, params)
        return zero(new_updates), _HoldState(optax.safe_increment(state.count), inner_state)

    return optax.GradientTransformation(init, update)


def _preconditioner(config: OptimizerConfig) -> optax.GradientTransformation:
    if config.name == "adamw":
        return optax.scale_by_adam(b1=config.b1, b2=config.b2, eps=config.eps)
    parts = [optax.scale_by_factored_rms(decay_rate=config.adafactor_decay_rate)]
    if config.adafactor_clipping_threshold is not None:
        parts.append(optax.clip_by_block_rms(config.adafactor_clipping_threshold))
    return optax.chain(*parts)


def make_optimizer(config: OptimizerConfig, total_steps: int) -> Optimizer:
    """The full update rule: freeze buffers, clip, precondition, decay, scale by the schedule."""
    schedule = make_schedule(config, total_steps)
    frozen = _path_mask(is_always_frozen)
    precondition = _preconditioner(config)
    if config.freeze_encoder_steps:
        labels = lambda params: jax.tree_util.tree_map_with_path(
            lambda p, _: "encoder" if is_encoder(_names(p)) else "rest", params)
        precondition = optax.multi_transform(
            {"encoder": hold_for_steps(precondition, config.freeze_encoder_steps), "rest": precondition}, labels
        )
    parts = [optax.masked(optax.set_to_zero(), frozen)]
    if config.clip_grad_norm:
        parts.append(optax.clip_by_global_norm(config.clip_grad_norm))
    parts.append(precondition)
    if config.weight_decay:
        parts.append(optax.add_decayed_weights(config.weight_decay, mask=_path_mask(is_decayed)))
    parts.append(optax.scale_by_learning_rate(schedule))
    if config.name == "adafactor":
        parts.append(optax.scale_by_param_block_rms())
    parts.append(optax.masked(optax.set_to_zero(), frozen))
    tx = optax.chain(*parts)
    if config.freeze_encoder_steps:
        tx = freeze_for_steps(tx, _path_mask(is_encoder), config.freeze_encoder_steps)
    return Optimizer(tx, schedule)
