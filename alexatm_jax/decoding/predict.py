"""Batched incremental decoding with the KV cache: greedy, sampling and beam search, each one compiled loop.

A `Decoder` is built from a model's decoding callables (`ModelFunctions`: `encode`, `init_cache`,
`decode_step`, `decode`; T5X style, so this layer knows no model class) and its special token ids. Its
`predict_batch` encodes once, computes the cross-attention keys/values once (`init_cache`), then runs a
`lax.while_loop` of `decode_step`s. The decoder starts from `decoder_start_token_id` and an output ends at
`eos_token_id` or at a stop sequence. Encoder padding comes from `encoder_segment_ids` (0 = padding), never from
token values.

What is compiled depends only on shapes and on the static choices (beams, sampling, filtering, buffer
length); `max_new_tokens`, `min_new_tokens`, `temperature`, `top_k`, `top_p` and `length_penalty` are run-time
values, so a caller that pads lengths to a few buckets compiles a few functions. A `Decoder` keeps at most
`max_compiled` of them (least recently used dropped), and they die with it.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import jax
import jax.numpy as jnp

from alexatm_jax.decoding import beam_search, sampling

Params = Any
DecodeOutput = dict[str, jax.Array]


class ModelFunctions(Protocol):
    """The encoder/decoder split a model offers for decoding (e.g. `EncoderDecoderModel`)."""

    def encode(self, params: Params, encoder_input_tokens: jax.Array, encoder_segment_ids: jax.Array,
               encoder_positions: jax.Array) -> jax.Array:
        """Encoder output [B, S_enc, D]."""

    def init_cache(self, params: Params, encoded: jax.Array, encoder_segment_ids: jax.Array,
                   max_decode_length: int) -> Any:
        """An empty self-attention cache for `max_decode_length` tokens plus the cross-attention keys/values."""

    def decode_step(self, params: Params, cache: Any, encoded: jax.Array, encoder_segment_ids: jax.Array,
                    tokens: jax.Array, positions: jax.Array) -> tuple[jax.Array, Any]:
        """Logits [B, S, V] of `tokens` [B, S] at `positions`, appended to the cache; and the new cache."""

    def decode(self, params: Params, encoded: jax.Array, encoder_segment_ids: jax.Array,
               decoder_input_tokens: jax.Array) -> jax.Array:
        """Teacher-forced logits [B, S, V] of the whole decoder input (no cache)."""


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


class Decoder:
    """Decoding for one model: its callables and special ids, and its compiled decoding functions."""

    def __init__(self, model: ModelFunctions, *, decoder_start_token_id: int, eos_token_id: int, pad_token_id: int,
                 vocab_size: int, max_length: int, max_compiled: int = 8):
        self.model = model
        self.decoder_start_token_id = decoder_start_token_id
        self.eos_token_id = eos_token_id
        self.pad_token_id = pad_token_id
        self.vocab_size = vocab_size
        self.max_length = max_length  # the decoder's positions: no output is longer
        self.max_compiled = max_compiled
        self._compiled: collections.OrderedDict[DecodeSpec, Callable] = collections.OrderedDict()

    def predict_batch(
        self, params: Params, batch: Mapping[str, Any], *, max_new_tokens: int, min_new_tokens: int = 0,
        num_beams: int = 1, num_return_sequences: int = 1, temperature: float = 0.0, top_k: int | None = None,
        top_p: float | None = None, length_penalty: float = 1.0, early_stopping: bool = True,
        banned_sequences: Sequence[Sequence[int]] | None = None,
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
        max_decode_length = max_decode_length or max_new_tokens
        check_options(self.max_length, max_new_tokens=max_new_tokens, min_new_tokens=min_new_tokens,
                      num_beams=num_beams, num_return_sequences=num_return_sequences, temperature=temperature,
                      top_k=top_k, top_p=top_p, max_decode_length=max_decode_length)
        spec = DecodeSpec(  # Beam search returns every beam; the n-best slice is taken outside the compiled loop.
            max_decode_length=max_decode_length, num_beams=num_beams,
            num_return_sequences=num_return_sequences if num_beams == 1 else 1,
            do_sample=temperature > 0, filter_logits=top_k is not None or top_p is not None,
            early_stopping=early_stopping, use_cache=use_cache,
        )
        tokens = jnp.asarray(batch["encoder_input_tokens"], jnp.int32)
        segment_ids = batch.get("encoder_segment_ids")
        segment_ids = jnp.ones_like(tokens) if segment_ids is None else jnp.asarray(segment_ids, jnp.int32)
        positions = batch.get("encoder_positions")
        if positions is None:
            positions = jnp.broadcast_to(jnp.arange(tokens.shape[1], dtype=jnp.int32), tokens.shape)
        vocab = self.vocab_size
        scalars = {
            "max_new_tokens": jnp.int32(max_new_tokens), "min_new_tokens": jnp.int32(min_new_tokens),
            "temperature": jnp.float32(max(temperature, 1e-30)),
            "top_p": jnp.float32(1.0 if top_p is None else top_p),
            "top_k": jnp.int32(min(top_k or vocab, vocab)), "length_penalty": jnp.float32(length_penalty),
        }
        banned = sampling.pack_token_sequences(banned_sequences, name="banned_sequences", vocab_size=vocab)
        stops = sampling.pack_token_sequences(stop_sequences, name="stop_sequences", vocab_size=vocab)
        rng = jax.random.PRNGKey(seed) if rng is None else rng
        out = self._compiled_for(spec)(params, tokens, segment_ids, positions, rng, scalars, banned, stops)
        return {k: v[:, :num_return_sequences] for k, v in out.items()}

    def _compiled_for(self, spec: DecodeSpec) -> Callable:
        """The jitted decoding function of `spec` (jit caches the shapes); at most `max_compiled` are kept."""
        if spec in self._compiled:
            self._compiled.move_to_end(spec)
        else:
            self._compiled[spec] = jax.jit(functools.partial(_decode, self, spec))
            while len(self._compiled) > self.max_compiled:
                self._compiled.popitem(last=False)
        return self._compiled[spec]


def check_options(limit: int, *, max_new_tokens: int, min_new_tokens: int, num_beams: int,
                  num_return_sequences: int, temperature: float, top_k: int | None, top_p: float | None,
                  max_decode_length: int) -> None:
    """Raises `ValueError` naming the bad decoding option and how to fix it (`limit`: the decoder's positions)."""
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


def _decode(decoder: Decoder, spec: DecodeSpec, params, tokens, segment_ids, positions, rng, scalars,
            banned, stops) -> DecodeOutput:
    model = decoder.model
    batch = tokens.shape[0]
    rows = spec.num_beams if spec.num_beams > 1 else spec.num_return_sequences
    encoded = model.encode(params, tokens, segment_ids, positions)
    encoded, segment_ids = (jnp.repeat(x, rows, axis=0) for x in (encoded, segment_ids))
    offset = max(banned.shape[1], stops.shape[1])
    length = spec.max_decode_length
    start = jnp.int32(decoder.decoder_start_token_id)

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
            prefix = jnp.where(prefix == sampling.EMPTY, decoder.pad_token_id, prefix)
            dec_in = jnp.concatenate([jnp.full((prefix.shape[0], 1), start), prefix], axis=1)
            logits = model.decode(params, encoded, segment_ids, dec_in)
            return jax.lax.dynamic_index_in_dim(logits, i, axis=1, keepdims=False), cache

    common = dict(max_new_tokens=scalars["max_new_tokens"], min_new_tokens=scalars["min_new_tokens"],
                  banned=banned, stops=stops, eos_token_id=decoder.eos_token_id)
    if spec.num_beams > 1:
        state = beam_search.beam_search(
            step_fn=step_fn, gather_cache=_cache_gatherer(model, params, encoded, segment_ids, length),
            cache=cache, batch_size=batch, num_beams=spec.num_beams, vocab_size=decoder.vocab_size,
            max_decode_length=length, offset=offset, length_penalty=scalars["length_penalty"],
            early_stopping=spec.early_stopping, **common,
        )
        history, lengths = state.finished_seqs, state.finished_lengths
        scores, log_likelihoods = state.finished_scores, state.finished_log_probs
    else:
        history, lengths, log_likelihoods = _sample_loop(
            spec, step_fn, cache, rng, rows=batch * rows, length=length, offset=offset,
            temperature=scalars["temperature"], top_k=scalars["top_k"], top_p=scalars["top_p"],
            pad_token_id=decoder.pad_token_id, **common,
        )
        history, lengths, log_likelihoods = (x.reshape((batch, rows) + x.shape[1:])
                                             for x in (history, lengths, log_likelihoods))
        scores = log_likelihoods
    sequences = history[..., offset:]
    sequences = jnp.where(jnp.arange(length) < lengths[..., None], sequences, decoder.pad_token_id)
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


def _cache_gatherer(model: ModelFunctions, params, encoded, segment_ids, length: int):
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
