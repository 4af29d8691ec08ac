"""Beam search as one `lax.while_loop`: length penalty, early stopping and an n-best list per example.

A hypothesis of `n` generated tokens (EOS or a stop sequence included) scores `log p / n**length_penalty`
(`length_penalty=0`: plain log-likelihood; larger values favour longer outputs). Every step extends the alive
beams by every token, keeps the best `2K` candidates, and splits them into finished ones (merged into the best
`K` finished) and alive ones (the best `K` unfinished). An example is done when
- `early_stopping=True`: it has `K` finished hypotheses (the usual Hugging Face semantics);
- `early_stopping=False`: no alive beam can still beat its `K`-th finished one (an exact bound: log-likelihoods
  only decrease, so the best reachable score is at the shortest or longest remaining length).
Examples not done at `max_new_tokens` also count their alive beams (of that length) as hypotheses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from alexatm_jax.decoding import sampling

NEG_INF = -jnp.inf
# (cache, history [B*K, P + T], tokens generated so far) -> (next-token logits [B*K, V], cache)
StepFn = Callable[[Any, jax.Array, jax.Array, jax.Array], tuple[jax.Array, Any]]
# (cache, flat beam indices [B*K]) -> cache
GatherFn = Callable[[Any, jax.Array], Any]


class BeamState(NamedTuple):
    index: jax.Array  # tokens generated so far (scalar)
    alive_seqs: jax.Array  # [B, K, P + T] history, `EMPTY` where nothing is generated yet
    alive_log_probs: jax.Array  # [B, K]
    finished_seqs: jax.Array  # [B, K, P + T]
    finished_scores: jax.Array  # [B, K] length-penalised, -inf for no hypothesis
    finished_log_probs: jax.Array  # [B, K]
    finished_lengths: jax.Array  # [B, K]
    done: jax.Array  # [B]
    cache: Any


def length_normaliser(length: jax.Array, length_penalty: jax.Array) -> jax.Array:
    return jnp.maximum(length, 1).astype(jnp.float32) ** length_penalty


def _gather_beams(x: jax.Array, beam_indices: jax.Array) -> jax.Array:
    """`x[b, beam_indices[b, j]]` for `x` of shape [B, K', ...] and indices [B, J]."""
    return jax.vmap(lambda xb, ib: xb[ib])(x, beam_indices)


def _top(values: jax.Array, k: int, *others: jax.Array) -> tuple[jax.Array, ...]:
    """The `k` largest `values` along axis 1, with the matching entries of `others`."""
    top_values, idx = jax.lax.top_k(values, k)
    return (top_values, *(_gather_beams(o, idx) for o in others))


def beam_search(
    *, step_fn: StepFn, gather_cache: GatherFn, cache: Any, batch_size: int, num_beams: int, vocab_size: int,
    max_decode_length: int, offset: int, max_new_tokens: jax.Array, min_new_tokens: jax.Array,
    length_penalty: jax.Array, early_stopping: bool, banned: jax.Array, stops: jax.Array, eos_token_id: int,
) -> BeamState:
    """Runs beam search; returns the final state with `finished_*` sorted best first.

    `cache` (if any) holds `batch_size * num_beams` rows, beam `j` of example `b` at row `b * num_beams + j`.
    """
    b, k = batch_size, num_beams
    width = offset + max_decode_length
    empty_seqs = jnp.full((b, k, width), sampling.EMPTY, jnp.int32)
    state = BeamState(
        index=jnp.array(0, jnp.int32),
        alive_seqs=empty_seqs,
        alive_log_probs=jnp.tile(jnp.array([0.0] + [NEG_INF] * (k - 1), jnp.float32), (b, 1)),
        finished_seqs=empty_seqs,
        finished_scores=jnp.full((b, k), NEG_INF, jnp.float32),
        finished_log_probs=jnp.full((b, k), NEG_INF, jnp.float32),
        finished_lengths=jnp.zeros((b, k), jnp.int32),
        done=jnp.zeros((b,), bool),
        cache=cache,
    )

    def best_reachable(alive_log_probs, index):
        shortest = alive_log_probs / length_normaliser(index + 1, length_penalty)
        longest = alive_log_probs / length_normaliser(max_new_tokens, length_penalty)
        return jnp.max(jnp.maximum(shortest, longest), axis=-1)

    def cond(s: BeamState):
        return (s.index < max_new_tokens) & ~jnp.all(s.done)

    def body(s: BeamState) -> BeamState:
        i = s.index
        flat_hist = s.alive_seqs.reshape(b * k, width)
        logits, cache = step_fn(s.cache, flat_hist, i)
        log_probs = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
        log_probs = sampling.mask_logits(
            log_probs, history=flat_hist, num_generated=i, banned=banned, min_new_tokens=min_new_tokens,
            eos_token_id=eos_token_id, offset=offset,
        )
        candidates = (s.alive_log_probs[:, :, None] + log_probs.reshape(b, k, vocab_size)).reshape(b, k * vocab_size)
        cand_log_probs, flat_idx = jax.lax.top_k(candidates, 2 * k)
        cand_beams, cand_tokens = flat_idx // vocab_size, (flat_idx % vocab_size).astype(jnp.int32)
        cand_seqs = _gather_beams(s.alive_seqs, cand_beams).at[:, :, offset + i].set(cand_tokens)
        stopped = sampling.ends_with_stop_sequence(
            cand_seqs.reshape(b * 2 * k, width), i + 1, stops, offset=offset).reshape(b, 2 * k)
        cand_finished = (cand_tokens == eos_token_id) | stopped

        # Alive: the best K unfinished candidates; their caches follow their parent beams.
        alive_log_probs, alive_seqs, alive_beams = _top(
            jnp.where(cand_finished, NEG_INF, cand_log_probs), k, cand_seqs, cand_beams)
        cache = gather_cache(cache, (jnp.arange(b)[:, None] * k + alive_beams).reshape(b * k))

        # Finished: merge the newly finished candidates into the best K so far (frozen once an example is done).
        cand_scores = jnp.where(cand_finished, cand_log_probs / length_normaliser(i + 1, length_penalty), NEG_INF)
        merged = _top(
            jnp.concatenate([s.finished_scores, cand_scores], axis=1), k,
            jnp.concatenate([s.finished_seqs, cand_seqs], axis=1),
            jnp.concatenate([s.finished_log_probs, cand_log_probs], axis=1),
            jnp.concatenate([s.finished_lengths, jnp.full((b, 2 * k), i + 1, jnp.int32)], axis=1),
        )
        keep_old = s.done
        f_scores, f_seqs, f_log_probs, f_lengths = (
            jnp.where(keep_old.reshape((b,) + (1,) * (new.ndim - 1)), old, new)
            for old, new in zip((s.finished_scores, s.finished_seqs, s.finished_log_probs, s.finished_lengths),
                                merged)
        )
        if early_stopping:
            done = jnp.all(jnp.isfinite(f_scores), axis=-1) | ~jnp.any(jnp.isfinite(alive_log_probs), axis=-1)
        else:
            done = f_scores[:, -1] >= best_reachable(alive_log_probs, i + 1)
        return BeamState(i + 1, alive_seqs, alive_log_probs, f_seqs, f_scores, f_log_probs, f_lengths,
                         s.done | done, cache)

    state = jax.lax.while_loop(cond, body, state)

    # Examples still searching at the length limit also count their alive beams as hypotheses.
    alive_scores = state.alive_log_probs / length_normaliser(state.index, length_penalty)
    alive_scores = jnp.where(state.done[:, None], NEG_INF, alive_scores)
    scores, seqs, log_probs, lengths = _top(
        jnp.concatenate([state.finished_scores, alive_scores], axis=1), k,
        jnp.concatenate([state.finished_seqs, state.alive_seqs], axis=1),
        jnp.concatenate([state.finished_log_probs, state.alive_log_probs], axis=1),
        jnp.concatenate([state.finished_lengths, jnp.full((b, k), state.index, jnp.int32)], axis=1),
    )
    return state._replace(finished_seqs=seqs, finished_scores=scores, finished_log_probs=log_probs,
                          finished_lengths=lengths)
