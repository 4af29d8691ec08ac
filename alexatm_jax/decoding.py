"""Batched incremental decoding with the KV cache: greedy, sampling and beam search, each one compiled loop.

`predict_batch(model, params, batch, ...)` encodes once, computes the cross-attention keys/values once
(`EncoderDecoderModel.init_cache`), then runs a `lax.while_loop` of `decode_step`s. The decoder starts from
`config.decoder_start_token_id` and an output ends at `config.eos_token_id` or at a stop sequence. Encoder
padding comes from `encoder_segment_ids` (0 = padding), never from token values.

What is compiled depends only on shapes and on the static choices (beams, sampling, filtering, buffer
length); `max_new_tokens`, `min_new_tokens`, `temperature`, `top_k`, `top_p` and `length_penalty` are run-time
values, so a caller that pads lengths to a few buckets compiles a few functions.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from alexatm_jax import beam_search, sampling
from alexatm_jax.models import EncoderDecoderModel
from alexatm_jax.network import Transformer

Params = Any
DecodeOutput = dict[str, jax.Array]


@dataclasses.dataclass(frozen=True)
class DecodeSpec:
    """The static choices of a decoding run: one compiled function per spec and input shape."""

    max_decode_length: int  # length of the output buffer and self-attention cache (>= max_new_tokens)
    num_beams: int = 1
    num_return_sequences: int = 1
    do_sample: bool = False
    filter_logits: bool = False  # top-k / top-p given (their values are run-time)
    early_stopping: bool = True
    use_cache: bool = True


def predict_batch(
    model: EncoderDecoderModel, params: Params, batch: Mapping[str, Any], *, max_new_tokens: int,
    min_new_tokens: int = 0, num_beams: int = 1, num_return_sequences: int = 1, temperature: float = 0.0,
    top_k: int | None = None, top_p: float | None = None, length_penalty: float = 1.0,
    early_stopping: bool = True, banned_sequences: Sequence[Sequence[int]] | None = None,
    stop_sequences: Sequence[Sequence[int]] | None = None, seed: int = 0, rng: jax.Array | None = None,
    use_cache: bool = True, max_decode_length: int | None = None,
) -> DecodeOutput:
    """Decodes a batch (`encoder_input_tokens`, optional `encoder_segment_ids` / `encoder_positions`).

    `temperature=0` is greedy (or beam search with `num_beams > 1`); `temperature > 0` samples, optionally
    after top-k / top-p filtering. Returns arrays with `N = num_return_sequences` outputs per example, best
    first: `sequences` [B, N, max_decode_length] (generated tokens, EOS included, then `pad_token_id`),
    `lengths` [B, N], `log_likelihoods` [B, N] (sum of the model's log-probabilities of the generated tokens)
    and `scores` [B, N] (beam search: length-penalised; otherwise the log-likelihood).
    """
    cfg = model.config
    max_decode_length = max_decode_length or max_new_tokens
    check_options(cfg, max_new_tokens=max_new_tokens, min_new_tokens=min_new_tokens, num_beams=num_beams,
                  num_return_sequences=num_return_sequences, temperature=temperature, top_k=top_k, top_p=top_p,
                  max_decode_length=max_decode_length)
    spec = DecodeSpec(  # Beam search returns every beam; the n-best slice is taken outside the compiled loop.
        max_decode_length=max_decode_length, num_beams=num_beams,
        num_return_sequences=num_return_sequences if num_beams == 1 else 1,
        do_sample=temperature > 0, filter_logits=top_k is not None or top_p is not None,
        early_stopping=early_stopping,
        use_cache=use_cache,
    )
    tokens = jnp.asarray(batch["encoder_input_tokens"], jnp.int32)
    segment_ids = batch.get("encoder_segment_ids")
    segment_ids = jnp.ones_like(tokens) if segment_ids is None else jnp.asarray(segment_ids, jnp.int32)
    positions = batch.get("encoder_positions")
    if positions is None:
        positions = jnp.broadcast_to(jnp.arange(tokens.shape[1], dtype=jnp.int32), tokens.shape)
    scalars = {
        "max_new_tokens": jnp.int32(max_new_tokens), "min_new_tokens": jnp.int32(min_new_tokens),
        "temperature": jnp.float32(max(temperature, 1e-30)), "top_p": jnp.float32(1.0 if top_p is None else top_p),
        "top_k": jnp.int32(min(top_k or cfg.vocab_size, cfg.vocab_size)),
        "length_penalty": jnp.float32(length_penalty),
    }
    banned = sampling.pack_token_sequences(banned_sequences, name="banned_sequences", vocab_size=cfg.vocab_size)
    stops = sampling.pack_token_sequences(stop_sequences, name="stop_sequences", vocab_size=cfg.vocab_size)
    rng = jax.random.PRNGKey(seed) if rng is None else rng
    out = compiled_decode(model, spec)(params, tokens, segment_ids, positions, rng, scalars, banned, stops)
    return {k: v[:, :num_return_sequences] for k, v in out.items()}


def check_options(cfg: Any, *, max_new_tokens: int, min_new_tokens: int, num_beams: int,
                  num_return_sequences: int, temperature: float, top_k: int | None, top_p: float | None,
                  max_decode_length: int) -> None:
    """Raises `ValueError` naming the bad decoding option and how to fix it."""
    limit = cfg.max_position_embeddings
    if not 1 <= max_new_tokens <= limit:
        raise ValueError(f"max_new_tokens={max_new_tokens} must lie in [1, {limit}] (the decoder's "
                         "max_position_embeddings).")
    if not max_new_tokens <= max_decode_length <= limit:
        raise ValueError(f"max_decode_length={max_decode_length} must lie in [max_new_tokens={max_new_tokens}, "
                         f"{limit}].")
    if not 0 <= min_new_tokens <= max_new_tokens:
        raise ValueError(f"min_new_tokens={min_new_tokens} must lie in [0, max_new_tokens={max_new_tokens}].")
    if num_beams < 1 or num_return_sequences < 1:
        raise ValueError("num_beams and num_return_sequences must be >= 1.")
    if temperature < 0:
        raise ValueError(f"temperature={temperature} is negative: use 0 for greedy/beam search or > 0 to sample.")
    if num_beams > 1:
        if temperature > 0:
            raise ValueError("Beam search does not sample: use temperature=0.0 with num_beams > 1, or num_beams=1 "
                             "to sample.")
        if num_return_sequences > num_beams:
            raise ValueError(f"num_return_sequences={num_return_sequences} exceeds num_beams={num_beams}: beam "
                             "search returns at most one output per beam.")
    elif temperature == 0:
        if top_k is not None or top_p is not None:
            raise ValueError("top_k / top_p filter a sampled distribution: set temperature > 0 (e.g. 1.0) to "
                             "sample, or drop them for greedy decoding.")
        if num_return_sequences > 1:
            raise ValueError("Greedy decoding gives one output per input: use num_beams >= num_return_sequences "
                             "or sample (temperature > 0) for several.")
    if top_k is not None and not 1 <= top_k:
        raise ValueError(f"top_k={top_k} must be >= 1.")
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError(f"top_p={top_p} must lie in (0, 1].")


@functools.lru_cache(maxsize=128)
def compiled_decode(model: EncoderDecoderModel, spec: DecodeSpec):
    """The jitted decoding function for `model` and `spec` (cached; jit caches the shapes)."""
    return jax.jit(functools.partial(_decode, model, spec))


def _decode(model: EncoderDecoderModel, spec: DecodeSpec, params, tokens, segment_ids, positions, rng, scalars,
            banned, stops) -> DecodeOutput:
    cfg = model.config
    batch = tokens.shape[0]
    rows = spec.num_beams if spec.num_beams > 1 else spec.num_return_sequences
    encoded = model.encode(params, tokens, segment_ids, positions)
    encoded, segment_ids = (jnp.repeat(x, rows, axis=0) for x in (encoded, segment_ids))
    offset = max(banned.shape[1], stops.shape[1])
    length = spec.max_decode_length
    start = jnp.int32(cfg.decoder_start_token_id)

    def feed(history, i):
        previous = jax.lax.dynamic_slice_in_dim(history, offset + i - 1, 1, axis=1)
        return jnp.where(i == 0, start, previous)

    if spec.use_cache:
        cache = model.init_cache(params, encoded, segment_ids, length)

        def step_fn(cache, history, i):
            tok = feed(history, i)
            logits, cache = model.decode_step(params, cache, encoded, segment_ids, tok, jnp.full(tok.shape, i))
            return logits[:, 0], cache
    else:  # Recomputes the whole prefix every step: the reference the cached path is tested against.
        cache = None

        def step_fn(cache, history, i):
            prefix = history[:, offset:offset + length - 1]
            prefix = jnp.where(prefix == sampling.EMPTY, cfg.pad_token_id, prefix)
            dec_in = jnp.concatenate([jnp.full((prefix.shape[0], 1), start), prefix], axis=1)
            logits = model.module.apply({"params": params}, encoded, dec_in, segment_ids, None, None,
                                        method=Transformer.decode)
            return jax.lax.dynamic_index_in_dim(logits, i, axis=1, keepdims=False), cache

    common = dict(max_new_tokens=scalars["max_new_tokens"], min_new_tokens=scalars["min_new_tokens"],
                  banned=banned, stops=stops, eos_token_id=cfg.eos_token_id)
    if spec.num_beams > 1:
        state = beam_search.beam_search(
            step_fn=step_fn, gather_cache=_cache_gatherer(model, params, encoded, segment_ids, length),
            cache=cache, batch_size=batch, num_beams=spec.num_beams, vocab_size=cfg.vocab_size,
            max_decode_length=length, offset=offset, length_penalty=scalars["length_penalty"],
            early_stopping=spec.early_stopping, **common,
        )
        history, lengths = state.finished_seqs, state.finished_lengths
        scores, log_likelihoods = state.finished_scores, state.finished_log_probs
    else:
        history, lengths, log_likelihoods = _sample_loop(
            spec, step_fn, cache, rng, rows=batch * rows, length=length, offset=offset,
            temperature=scalars["temperature"], top_k=scalars["top_k"], top_p=scalars["top_p"],
            pad_token_id=cfg.pad_token_id, **common,
        )
        history, lengths, log_likelihoods = (x.reshape((batch, rows) + x.shape[1:])
                                             for x in (history, lengths, log_likelihoods))
        scores = log_likelihoods
    sequences = history[..., offset:]
    sequences = jnp.where(jnp.arange(length) < lengths[..., None], sequences, cfg.pad_token_id)
    return {"sequences": sequences.astype(jnp.int32), "lengths": lengths, "scores": scores,
            "log_likelihoods": log_likelihoods}


def _sample_loop(spec: DecodeSpec, step_fn, cache, rng, *, rows: int, length: int, offset: int,
                 max_new_tokens, min_new_tokens, temperature, top_k, top_p, banned, stops, eos_token_id: int,
                 pad_token_id: int):
    """Greedy or sampled decoding of `rows` sequences; returns (history, lengths, log-likelihoods)."""
    history = jnp.full((rows, offset + length), sampling.EMPTY, jnp.int32)
    finished = jnp.zeros((rows,), bool)
    lengths = jnp.zeros((rows,), jnp.int32)
    log_lik = jnp.zeros((rows,), jnp.float32)

    def cond(state):
        i, _, _, finished, *_ = state
        return (i < max_new_tokens) & ~jnp.all(finished)

    def body(state):
        i, history, cache, finished, lengths, log_lik, rng = state
        logits, cache = step_fn(cache, history, i)
        logits = logits.astype(jnp.float32)
        log_probs = jax.nn.log_softmax(logits, axis=-1)
        masked = sampling.mask_logits(logits, history=history, num_generated=i, banned=banned,
                                      min_new_tokens=min_new_tokens, eos_token_id=eos_token_id, offset=offset)
        rng, key = jax.random.split(rng)
        token = sampling.choose_tokens(masked, key, do_sample=spec.do_sample, filter_logits=spec.filter_logits,
                                       temperature=temperature, top_k=top_k, top_p=top_p)
        token = jnp.where(finished, pad_token_id, token)
        token_log_prob = jnp.take_along_axis(log_probs, token[:, None], axis=-1)[:, 0]
        log_lik = log_lik + jnp.where(finished, 0.0, token_log_prob)
        lengths = lengths + (~finished).astype(jnp.int32)
        history = jax.lax.dynamic_update_slice_in_dim(history, token[:, None], offset + i, axis=1)
        ended = (token == eos_token_id) | sampling.ends_with_stop_sequence(history, i + 1, stops, offset=offset)
        return i + 1, history, cache, finished | ended, lengths, log_lik, rng

    state = (jnp.array(0, jnp.int32), history, cache, finished, lengths, log_lik, rng)
    _, history, _, _, lengths, log_lik, _ = jax.lax.while_loop(cond, body, state)
    return history, lengths, log_lik


def _cache_gatherer(model: EncoderDecoderModel, params, encoded, segment_ids, length: int):
    """A function reordering the self-attention cache rows (beam search); cross-attention rows never move
    between examples, so they are left alone. The batch axis of each cache leaf is found from shapes."""
    def shapes(rows):
        enc = jax.ShapeDtypeStruct((rows,) + encoded.shape[1:], encoded.dtype)
        seg = jax.ShapeDtypeStruct((rows,) + segment_ids.shape[1:], segment_ids.dtype)
        return jax.eval_shape(lambda p, e, s: model.init_cache(p, e, s, length), params, enc, seg)

    def batch_axis(a, b):
        diff = [ax for ax, (x, y) in enumerate(zip(a.shape, b.shape)) if x != y]
        return diff[0] if diff else None

    axes = jax.tree_util.tree_map(batch_axis, shapes(1), shapes(2))

    def gather(cache, indices):
        if cache is None:
            return None

        def take(path, leaf, axis):
            if axis is None or any(getattr(p, "key", None) == "cross_attn" for p in path):
                return leaf
            return jnp.take(leaf, indices, axis=axis)

        return jax.tree_util.tree_map_with_path(take, cache, axes)

    return gather


@functools.lru_cache(maxsize=32)
def _compiled_score(model: EncoderDecoderModel):
    return jax.jit(model.score_batch)


def score_batch(model: EncoderDecoderModel, params: Params, batch: Mapping[str, Any]) -> jax.Array:
    """Per-example summed log-likelihood of `decoder_target_tokens` weighted by `decoder_loss_weights` (teacher
    forcing), float32 [B]; a jitted `EncoderDecoderModel.score_batch`."""
    return _compiled_score(model)(params, {k: jnp.asarray(v) for k, v in batch.items()})


def make_score_batch(encoder_tokens: Sequence[Sequence[int]], target_tokens: Sequence[Sequence[int]], *,
                     decoder_start_token_id: int, input_length: int, target_length: int,
                     batch_size: int | None = None) -> dict[str, np.ndarray]:
    """A padded numpy scoring batch from token lists (right padding, segment ids 1 for tokens, 0 for padding);
    rows beyond the examples (up to `batch_size`) are all padding and score 0."""
    n = batch_size or len(encoder_tokens)
    batch = {name: np.zeros((n, size), np.int32) for name, size in (
        ("encoder_input_tokens", input_length), ("encoder_segment_ids", input_length),
        ("decoder_input_tokens", target_length), ("decoder_target_tokens", target_length),
        ("decoder_loss_weights", target_length))}
    batch["decoder_input_tokens"][:, 0] = decoder_start_token_id
    for row, (enc, tgt) in enumerate(zip(encoder_tokens, target_tokens)):
        batch["encoder_input_tokens"][row, :len(enc)] = enc
        batch["encoder_segment_ids"][row, :len(enc)] = 1
        batch["decoder_target_tokens"][row, :len(tgt)] = tgt
        batch["decoder_input_tokens"][row, 1:len(tgt)] = tgt[:-1] if len(tgt) else []
        batch["decoder_loss_weights"][row, :len(tgt)] = 1
    return batch
