"""Train state and the compiled train/eval steps (T5X's Trainer, without TensorFlow or seqio).

One call of the train step is one optimiser update over the global batch: the batch is split into
`num_microbatches` slices whose gradients are summed in a `lax.scan`, then normalised by the total target
weight, so the update does not depend on the number of microbatches (up to float rounding). Dropout uses
`fold_in(seed, step)`: no RNG state is carried, so a resumed run draws the same masks.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from alexatm_jax.errors import ConfigError
from alexatm_jax.model.encoder_decoder import EncoderDecoderModel
from alexatm_jax.partitioning import Partitioner
from alexatm_jax.training.optimizers import Optimizer, without_buffer_gradients

Batch = Mapping[str, Any]
# Per-objective sums appear when the batch has `decoder_objective_ids` (see EncoderDecoderModel.loss_fn).
SUM_KEYS = ("loss_sum", "z_loss_sum", "weight_sum", "correct_sum")


@flax.struct.dataclass
class TrainState:
    """Everything a step changes: the step counter, parameters and optimiser state (RNG derives from step)."""

    step: jax.Array
    params: Any
    opt_state: Any


class Trainer:
    """Builds sharded train state and the `jax.jit`-compiled steps for a model, optimiser and partitioner."""

    def __init__(self, model: EncoderDecoderModel, optimizer: Optimizer, partitioner: Partitioner, *,
                 seed: int = 0, num_microbatches: int = 1, label_smoothing: float = 0.0, z_loss: float = 0.0,
                 loss_normalizing_factor: float | None = None):
        if num_microbatches < 1:
            raise ConfigError(f"num_microbatches must be >= 1, got {num_microbatches}.")
        self.model = model
        self.optimizer = optimizer
        self.partitioner = partitioner
        self.seed = seed
        self.num_microbatches = num_microbatches
        self.label_smoothing = label_smoothing
        self.z_loss = z_loss
        self.loss_normalizing_factor = loss_normalizing_factor
        cfg = model.config
        self.uses_dropout = max(cfg.dropout_rate, cfg.attention_dropout_rate, cfg.activation_dropout_rate) > 0
        self._compiled: dict[Any, Any] = {}

    # ----- state and its placement -----
    @functools.cached_property
    def abstract_params(self) -> Any:
        # Unboxed under eval_shape: inside `activation_context` unboxing applies sharding constraints, which only
        # traced values accept.
        return jax.tree_util.tree_map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype),
                                      jax.eval_shape(nn.meta.unbox, self._boxed_abstract_params))

    @functools.cached_property
    def param_shardings(self) -> Any:
        return self.partitioner.shardings(nn.get_partition_spec(self._boxed_abstract_params))

    @functools.cached_property
    def _boxed_abstract_params(self) -> Any:
        return self.model.abstract_params()

    @functools.cached_property
    def _abstract_opt_state(self) -> Any:
        return jax.eval_shape(self.optimizer.tx.init, self.abstract_params)

    @functools.cached_property
    def state_shardings(self) -> TrainState:
        """Shardings of every state leaf: optimiser copies of a parameter follow that parameter's sharding."""
        abstract_opt = self._abstract_opt_state
        opt_shardings = follow_param_shardings(abstract_opt, self.abstract_params, self.param_shardings,
                                               self.partitioner.replicated)
        return TrainState(step=self.partitioner.replicated, params=self.param_shardings, opt_state=opt_shardings)

    def abstract_state(self) -> TrainState:
        """Shapes, dtypes and shardings of the train state (targets for checkpoint restore)."""
        return self._abstract_state

    @functools.cached_property
    def _abstract_state(self) -> TrainState:
        shapes = TrainState(step=jax.ShapeDtypeStruct((), jnp.int32), params=self.abstract_params,
                            opt_state=self._abstract_opt_state)
        return jax.tree_util.tree_map(
            lambda x, s: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=s), shapes, self.state_shardings)

    def _init_state(self, rng: jax.Array) -> TrainState:
        params = nn.meta.unbox(self.model.init(rng))
        return TrainState(step=jnp.zeros([], jnp.int32), params=params,
                          opt_state=self.optimizer.tx.init(params))

    def init_state(self, params: Any = None) -> TrainState:
        """Fresh state in its sharded placement: parameters from `seed`, or the given ones (fine-tuning)."""
        with self.partitioner.activation_context():
            if params is None:
                return self._jit_init(jax.random.fold_in(jax.random.PRNGKey(self.seed), 0))
            params = jax.device_put(params, self.param_shardings)
            init_opt = jax.jit(self.optimizer.tx.init, out_shardings=self.state_shardings.opt_state)
            step = jax.make_array_from_callback((), self.state_shardings.step, lambda _: np.zeros([], np.int32))
            return TrainState(step=step, params=params, opt_state=init_opt(params))

    def state_from(self, params: Any, opt_state: Any, step: int) -> TrainState:
        """The state of a restored checkpoint (arrays already placed by the restore) at `step`."""
        value = np.asarray(step, np.int32)
        step_array = jax.make_array_from_callback((), self.state_shardings.step, lambda _: value)
        return TrainState(step=step_array, params=params, opt_state=opt_state)

    @functools.cached_property
    def _jit_init(self) -> Any:
        return jax.jit(self._init_state, out_shardings=self.state_shardings)

    # ----- steps -----
    def _microbatch_grads(self, params: Any, batch: Batch, rng: jax.Array | None) -> tuple[Any, dict]:
        """Summed (unnormalised) loss gradients and metric sums over the microbatches of `batch`."""
        m = self.num_microbatches

        def grad_fn(p, mb, i):
            dropout_rng = None if rng is None else jax.random.fold_in(rng, i)

            def loss_sum(q):
                _, sums = self.model.loss_fn(without_buffer_gradients(q), mb, dropout_rng,
                                             label_smoothing=self.label_smoothing, z_loss=self.z_loss)
                return sums["loss_sum"], sums

            (_, sums), grads = jax.value_and_grad(loss_sum, has_aux=True)(p)
            return grads, sums

        if m == 1:
            return grad_fn(params, batch, 0)

        def split(x):  # microbatch i takes rows i, i+m, ...: every microbatch keeps the batch sharding.
            x = x.reshape((x.shape[0] // m, m) + x.shape[1:]).swapaxes(0, 1)
            return x

        micro = {k: split(v) for k, v in batch.items()}

        def body(carry, i):
            mb = {k: jax.lax.with_sharding_constraint(v[i], self.partitioner.batch_sharding)
                  for k, v in micro.items()}
            grads, sums = grad_fn(params, mb, i)
            return jax.tree_util.tree_map(jnp.add, carry, (grads, sums)), None

        zeros = jax.tree_util.tree_map(jnp.zeros_like, jax.eval_shape(grad_fn, params, batch_slice(batch, m), 0))
        (grads, sums), _ = jax.lax.scan(body, zeros, jnp.arange(m))
        return grads, sums

    def _train_step(self, state: TrainState, batch: Batch) -> tuple[TrainState, dict[str, jax.Array]]:
        rng = None
        if self.uses_dropout:
            rng = jax.random.fold_in(jax.random.fold_in(jax.random.PRNGKey(self.seed), 1), state.step)
        grads, sums = self._microbatch_grads(state.params, batch, rng)
        denominator = self.loss_normalizing_factor or jnp.maximum(sums["weight_sum"], 1.0)
        grads = jax.tree_util.tree_map(lambda g: g / denominator, grads)
        updates, opt_state = self.optimizer.tx.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        metrics = dict(sums)
        metrics["loss"] = sums["loss_sum"] / denominator
        metrics["grad_norm"] = optax.tree.norm(grads)
        metrics["learning_rate"] = jnp.asarray(self.optimizer.schedule(state.step), jnp.float32)
        metrics.update(token_counts(batch))
        new_state = TrainState(step=state.step + 1, params=params, opt_state=opt_state)
        return new_state, metrics

    def _eval_step(self, params: Any, batch: Batch) -> dict[str, jax.Array]:
        _, sums = self.model.loss_fn(params, batch, None)
        return sums

    def _batch_shardings(self, batch: Batch) -> dict[str, Any]:
        return {k: self.partitioner.batch_sharding for k in batch}

    def check_batch_size(self, global_batch_size: int) -> None:
        """Explains a global batch size that the mesh or the microbatches cannot split evenly."""
        divisor = self.partitioner.batch_divisor
        if global_batch_size % (divisor * self.num_microbatches):
            raise ConfigError(
                f"BATCH_SIZE={global_batch_size} must be a multiple of (devices along the batch axes = {divisor}) x "
                f"(num_microbatches = {self.num_microbatches}) = {divisor * self.num_microbatches}: change "
                f"--gin.BATCH_SIZE or the mesh (--gin.partitioning.Partitioner.mesh_shape).")

    def compile_train_step(self, batch: Batch) -> Any:
        """The ahead-of-time compiled train step for batches shaped like `batch` (global shapes)."""
        key = ("train", _signature(batch))
        if key not in self._compiled:
            self.check_batch_size(next(iter(batch.values())).shape[0])
            fn = jax.jit(self._train_step, in_shardings=(self.state_shardings, self._batch_shardings(batch)),
                         out_shardings=(self.state_shardings, self.partitioner.replicated), donate_argnums=(0,))
            with self.partitioner.activation_context():
                self._compiled[key] = fn.lower(self.abstract_state(), _abstract_batch(batch, self)).compile()
        return self._compiled[key]

    def compile_eval_step(self, batch: Batch) -> Any:
        key = ("eval", _signature(batch))
        if key not in self._compiled:
            fn = jax.jit(self._eval_step, in_shardings=(self.param_shardings, self._batch_shardings(batch)),
                         out_shardings=self.partitioner.replicated)
            abstract_params = self.abstract_state().params
            with self.partitioner.activation_context():
                self._compiled[key] = fn.lower(abstract_params, _abstract_batch(batch, self)).compile()
        return self._compiled[key]

    def train_step(self, state: TrainState, batch: Batch) -> tuple[TrainState, dict[str, jax.Array]]:
        """One update; `batch` is a dict of global `jax.Array`s (see `partitioning.shard_batch`). Donates `state`."""
        return self.compile_train_step(batch)(state, dict(batch))

    def eval_step(self, params: Any, batch: Batch) -> dict[str, jax.Array]:
        """Loss and accuracy sums over `batch` (no dropout, no update)."""
        return self.compile_eval_step(batch)(params, dict(batch))


def follow_param_shardings(tree: Any, params: Any, param_shardings: Any, default: Any) -> Any:
    """For each leaf of an optimiser-state `tree`: the sharding of the parameter it mirrors, else `default`.

    A leaf mirrors a parameter when the dict keys ending its path are that parameter's path and the shapes
    agree (Adam moments do; Adafactor's factored rows/columns and step counters get `default`). Works through
    `optax.masked` / `multi_transform` states, unlike `optax.tree_map_params`.
    """
    by_path = {}
    for (path, p), (_, s) in zip(jax.tree_util.tree_leaves_with_path(params),
                                 jax.tree_util.tree_leaves_with_path(param_shardings)):
        by_path[tuple(k.key for k in path)] = (p.shape, s)

    def pick(path, leaf):
        keys = []
        for k in reversed(path):
            if not isinstance(k, jax.tree_util.DictKey):
                break
            keys.insert(0, k.key)
        for start in range(len(keys)):
            hit = by_path.get(tuple(keys[start:]))
            if hit is not None:
                return hit[1] if hit[0] == getattr(leaf, "shape", None) else default
        return default

    return jax.tree_util.tree_map_with_path(pick, tree)


def token_counts(batch: Batch) -> dict[str, jax.Array]:
    """Non-padding encoder and decoder tokens of a batch (segment id > 0), for throughput and FLOPs."""
    out = {}
    for side in ("encoder", "decoder"):
        seg = batch.get(f"{side}_segment_ids")
        tokens = batch[f"{side}_input_tokens"]
        count = jnp.sum(seg > 0) if seg is not None else jnp.asarray(tokens.size)
        out[f"{side}_tokens"] = count.astype(jnp.float32)
    return out


def batch_slice(batch: Batch, num_microbatches: int) -> dict[str, jax.ShapeDtypeStruct]:
    return {k: jax.ShapeDtypeStruct((v.shape[0] // num_microbatches,) + v.shape[1:], v.dtype)
            for k, v in batch.items()}


def _signature(batch: Batch) -> tuple:
    return tuple(sorted((k, tuple(v.shape), str(v.dtype)) for k, v in batch.items()))


def _abstract_batch(batch: Batch, trainer: Trainer) -> dict[str, jax.ShapeDtypeStruct]:
    return {k: jax.ShapeDtypeStruct(v.shape, v.dtype, sharding=trainer.partitioner.batch_sharding)
            for k, v in batch.items()}


def synthetic_batch(config: Any, batch_size: int, encoder_length: int, decoder_length: int, *,
                    seed: int = 0) -> dict[str, np.ndarray]:
    """A fully packed (no padding) random batch in the model's batch format, for benchmarks and tests."""
    rng = np.random.default_rng(seed)
    vocab = config.vocab_size

    def side(length):
        return (rng.integers(7, vocab, (batch_size, length), dtype=np.int32),
                np.ones((batch_size, length), np.int32),
                np.broadcast_to(np.arange(length, dtype=np.int32), (batch_size, length)).copy())

    enc, enc_seg, enc_pos = side(encoder_length)
    targets, dec_seg, dec_pos = side(decoder_length)
    dec_in = np.concatenate([np.full((batch_size, 1), config.decoder_start_token_id, np.int32), targets[:, :-1]], 1)
    return {
        "encoder_input_tokens": enc, "encoder_segment_ids": enc_seg, "encoder_positions": enc_pos,
        "decoder_input_tokens": dec_in, "decoder_target_tokens": targets,
        "decoder_loss_weights": np.ones_like(targets), "decoder_segment_ids": dec_seg,
        "decoder_positions": dec_pos,
        "decoder_objective_ids": (rng.random((batch_size, 1)) < 0.2).astype(np.int32) * np.ones_like(targets),
    }
