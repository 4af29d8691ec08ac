"""The public Python API: `load()` a checkpoint and get a `Seq2SeqLM` that scores and generates.

`load` reads a directory written by the converter or a training `MODEL_DIR` (latest complete step); its model
config is stored beside the parameters, and keyword overrides change run-time fields such as `attention_impl`.
With a `partitioner`, parameters are restored sharded over its mesh by the training rules, so a model too big
for one device runs across several.

Inputs are strings (tokenised with the checkpoint's vocabulary; strings come back) or lists of token ids (used
as they are; token-id lists come back). Batches are padded to power-of-two lengths and sizes so that a stream of
requests compiles a handful of functions, not one per request.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from alexatm_jax import batching, paths
from alexatm_jax import inputs as user_inputs
from alexatm_jax import prompting as tok
from alexatm_jax.checkpoint import run_dir
from alexatm_jax.checkpoint.params import restore_params
from alexatm_jax.decoding import Decoder
from alexatm_jax.model.config import ModelConfig
from alexatm_jax.model.encoder_decoder import EncoderDecoderModel
from alexatm_jax.partitioning import Partitioner
from alexatm_jax.shapes import bucket

TRUNCATIONS = ("left", "error")
MIN_BUCKET = 8  # shortest padded length: tiny prompts share one compiled program


class Seq2SeqLM:
    """A loaded model: config, parameters, vocabulary and the calls users make (`logits`, `score`, `generate`)."""

    def __init__(self, config: ModelConfig, params: Any, *, vocab_path: str | None = None,
                 partitioner: Partitioner | None = None, tokenization: str = tok.PROJECT_TOKENIZATION):
        self.config = config
        self.params = params
        self.vocab_path = vocab_path
        self.tokenization = tok.checkpoint_tokenization({}, tokenization)
        self.partitioner = partitioner
        self.model = EncoderDecoderModel(config)

    @functools.cached_property
    def tokenizer(self) -> Any | None:
        """The SentencePiece tokenizer of `vocab_path` in the checkpoint's tokenization convention (None without a
        vocabulary: token ids only)."""
        if self.vocab_path is None:
            return None
        tokenizer = tok.load_tokenizer(self.vocab_path, self.tokenization)
        problem = tok.vocabulary_size_problem(tokenizer.vocab_size, self.config.vocab_size)
        if problem:
            raise ValueError(f"The vocabulary {self.vocab_path} {problem} load(..., vocab_path=...) with the "
                             "vocabulary the checkpoint was trained with.")
        return tokenizer

    @functools.cached_property
    def _logits_fn(self):
        return jax.jit(self.model.logits)

    @functools.cached_property
    def _score_fn(self):
        return jax.jit(self.model.score_batch)

    @functools.cached_property
    def decoder(self) -> Decoder:
        """Compiled decoding for this model (its compiled programs live and die with this object)."""
        return decoder_for(self.model)

    def _context(self):
        return self.partitioner.activation_context() if self.partitioner else contextlib.nullcontext()

    def _put(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        if self.partitioner is None:
            return batch
        return {k: jax.device_put(v, self.partitioner.batch_sharding) for k, v in batch.items()}

    def _batch_rows(self, n: int) -> int:
        rows = bucket(n)
        if self.partitioner is not None:  # Every device of the batch axes gets rows (padding rows if needed).
            d = self.partitioner.batch_divisor
            rows = -(-rows // d) * d
        return rows

    def logits(self, encoder_input_tokens: Any, decoder_input_tokens: Any,
               encoder_mask: Any | None = None) -> np.ndarray:
        """Teacher-forced logits [batch, target_len, vocab] in float32.

        `encoder_mask` is 1 for real tokens and 0 for padding (default: all real). Token ids are used as given,
        whatever vocabulary produced them.
        """
        enc = user_inputs.token_matrix(encoder_input_tokens, "encoder_input_tokens")
        dec = user_inputs.token_matrix(decoder_input_tokens, "decoder_input_tokens")
        if enc.shape[0] != dec.shape[0]:
            raise ValueError(f"Batch sizes differ: encoder {enc.shape[0]} vs decoder {dec.shape[0]}.")
        for name, tokens in (("encoder", enc), ("decoder", dec)):
            if tokens.shape[1] > self.config.max_position_embeddings:
                raise ValueError(
                    f"{name} length {tokens.shape[1]} exceeds max_position_embeddings="
                    f"{self.config.max_position_embeddings}: truncate the input."
                )
            if tokens.size and (tokens.min() < 0 or tokens.max() >= self.config.vocab_size):
                raise ValueError(f"{name} token ids must lie in [0, {self.config.vocab_size}).")
        segment = np.ones(enc.shape, np.int32) if encoder_mask is None else (
            user_inputs.token_matrix(encoder_mask, "encoder_mask") != 0).astype(np.int32)
        if segment.shape != enc.shape:
            raise ValueError(f"encoder_mask shape {segment.shape} differs from encoder_input_tokens {enc.shape}.")
        batch = {"encoder_input_tokens": enc, "decoder_input_tokens": dec, "encoder_segment_ids": segment}
        with self._context():
            return np.asarray(self._logits_fn(self.params, batch), dtype=np.float32)

    # ----- inputs -----
    def _encode_inputs(self, inputs: Any, mode: str | None, *, max_input_length: int | None,
                       truncation: str) -> tuple[list[list[int]], list[bool], bool, bool]:
        """Token ids of every input (truncated), which were truncated, whether text, whether a single input."""
        examples, single, is_text = user_inputs.examples(inputs, "inputs")
        if is_text:
            ids = tok.encode_inputs(self._require_tokenizer("string inputs"), examples, mode)
        else:
            ids = [self._check_ids(x, f"Input {i}") for i, x in enumerate(examples)]
            for i, x in enumerate(ids):
                if not x:
                    raise ValueError(f"Input {i} is an empty token list: give every input at least one token.")
        limit = self.config.max_position_embeddings
        max_input_length = limit if max_input_length is None else max_input_length
        if not 1 <= max_input_length <= limit:
            raise ValueError(f"max_input_length={max_input_length} must lie in [1, {limit}] "
                             "(max_position_embeddings).")
        if truncation not in TRUNCATIONS:
            raise ValueError(f"truncation={truncation!r} is unknown: use one of {TRUNCATIONS}.")
        prefix = self.tokenizer.clm_prefix_ids() if self.tokenizer is not None else []
        out, truncated = [], []
        for i, x in enumerate(ids):
            truncated.append(len(x) > max_input_length)
            if len(x) > max_input_length:
                if truncation == "error":
                    raise ValueError(f"Input {i} has {len(x)} tokens, more than max_input_length={max_input_length}:"
                                     " shorten it, or pass truncation='left' to drop its oldest tokens.")
                head = tok.kept_prefix_length(x, max_input_length, prefix)  # the [CLM] prefix stays first
                warnings.warn(f"Input {i} has {len(x)} tokens; keeping its last {max_input_length - head}"
                              f"{' after [CLM]' if head else ''} (max_input_length={max_input_length}).",
                              stacklevel=3)
                x = tok.truncate_left(x, max_input_length, prefix)
            out.append(x)
        return out, truncated, is_text, single

    def _require_tokenizer(self, what: str) -> Any:
        if self.tokenizer is None:
            raise ValueError(f"{what} need a vocabulary, and this checkpoint names none: pass "
                             "load(..., vocab_path='/path/spm.model'), or give token-id lists.")
        return self.tokenizer

    def _check_ids(self, ids: Sequence[int], what: str) -> list[int]:
        ids = [int(t) for t in ids]
        bad = [t for t in ids if not 0 <= t < self.config.vocab_size]
        if bad:
            raise ValueError(f"{what} holds token ids {bad[:5]} outside [0, {self.config.vocab_size}).")
        return ids

    # ----- scoring -----
    def score(self, inputs: Any, targets: Any, *, mode: str | None = "clm", target_eos: bool = False,
              max_input_length: int | None = None, truncation: str = "left", batch_size: int = 32) -> np.ndarray:
        """Summed log-likelihood of each target given its input (teacher forcing), float32 [N].

        String targets are tokenised without EOS unless `target_eos` (rank classification compares candidate
        answers, not their endings), in the checkpoint's convention (official: `<s>` first, as
        `tokenizer(text_target=...)`); token-id targets are used as given. An empty target (no tokens) scores 0.
        """
        user_inputs.check_batching(batch_size=batch_size, max_input_length=max_input_length)
        tgt_examples, _, tgt_text = user_inputs.examples(targets, "targets", allow_empty=True)
        enc, _, _, single = self._encode_inputs(inputs, mode, max_input_length=max_input_length,
                                                truncation=truncation)
        if len(tgt_examples) != len(enc):
            raise ValueError(f"{len(enc)} inputs but {len(tgt_examples)} targets: give one target per input.")
        if tgt_text:
            tgt = tok.encode_targets(self._require_tokenizer("string targets"), tgt_examples, add_eos=target_eos)
        else:
            tgt = [self._check_ids(x, f"Target {i}") for i, x in enumerate(tgt_examples)]
        limit = self.config.max_position_embeddings
        too_long = [i for i, x in enumerate(tgt) if len(x) > limit]
        if too_long:
            raise ValueError(f"Target(s) {too_long[:5]} exceed max_position_embeddings={limit} tokens: shorten them.")
        scores = []
        for lo in range(0, len(enc), batch_size):
            e, t = enc[lo:lo + batch_size], tgt[lo:lo + batch_size]
            batch = batching.score_batch(
                e, t, decoder_start_token_id=self.config.decoder_start_token_id,
                input_length=bucket(max(map(len, e)), minimum=MIN_BUCKET, limit=limit),
                target_length=bucket(max(max(map(len, t)), 1), minimum=MIN_BUCKET, limit=limit),
                rows=self._batch_rows(len(e)))
            with self._context():
                scores.append(np.asarray(self._score_fn(self.params, self._put(batch)))[:len(e)])
        out = np.concatenate(scores).astype(np.float32)
        return out[0] if single else out

    # ----- generation -----
    def generate(
        self, inputs: Any, *, max_new_tokens: int, num_beams: int = 1, temperature: float = 0.0,
        top_k: int | None = None, top_p: float | None = None, mode: str | None = "clm", min_new_tokens: int = 0,
        stop_strings: Sequence[str] | None = None, stop_sequences: Sequence[Sequence[int]] | None = None,
        banned_sequences: Sequence[str | Sequence[int]] | None = None, seed: int = 0,
        max_input_length: int | None = None, truncation: str = "left", num_return_sequences: int = 1,
        length_penalty: float = 1.0, early_stopping: bool = True, batch_size: int = 32,
        return_details: bool = False,
    ) -> Any:
        """Generates from one input or a list of inputs (strings or token-id lists).

        `mode` (strings only): "clm" prefixes `[CLM] ` and the decoder continues the input; "denoising" sends
        the input as is and the decoder rewrites it; None uses the string as given. Token-id inputs are always
        used as given. Decoding: greedy (`temperature=0`), beam search (`num_beams > 1`, `length_penalty`,
        `early_stopping`, n-best with `num_return_sequences`) or sampling (`temperature > 0`, `top_k`, `top_p`,
        `seed`). Outputs end at EOS, at a stop sequence (token ids) or before the first stop string (text, cut
        after detokenisation; their tokenisations also end decoding early, which is all they do for token-id
        inputs); `banned_sequences` (token-id lists, or strings as the vocabulary tokenises them) never appear.
        Returns a string / id list per input (a list of them per input when `num_return_sequences > 1`); with
        `return_details`, dicts with `output`, `tokens` (EOS dropped), `finish_reason` ("eos", "stop" or
        "length"), `score`, `log_likelihood` (of the tokens generated, EOS included) and `input_truncated`.
        """
        user_inputs.check_generate(
            max_new_tokens=max_new_tokens, min_new_tokens=min_new_tokens, num_beams=num_beams,
            num_return_sequences=num_return_sequences, temperature=temperature, top_k=top_k, top_p=top_p,
            length_penalty=length_penalty, seed=seed, batch_size=batch_size, max_input_length=max_input_length,
            stop_strings=stop_strings, stop_sequences=stop_sequences, banned_sequences=banned_sequences)
        max_new_tokens = int(max_new_tokens)  # a numpy integer is accepted; plain int from here on
        enc, truncated, is_text, single = self._encode_inputs(inputs, mode, max_input_length=max_input_length,
                                                              truncation=truncation)
        if stop_strings and not is_text:
            self._require_tokenizer("stop_strings with token-id inputs")
        t = self.tokenizer
        banned = tok.encode_sequences(t, banned_sequences, name="banned_sequences")
        stops = tok.encode_sequences(t, stop_sequences, name="stop_sequences")
        stops += tok.encode_sequences(t, stop_strings, name="stop_strings", both_spacings=True)
        limit = self.config.max_position_embeddings
        options = dict(
            max_new_tokens=max_new_tokens, min_new_tokens=min_new_tokens, num_beams=num_beams,
            num_return_sequences=num_return_sequences, temperature=temperature, top_k=top_k, top_p=top_p,
            length_penalty=length_penalty, early_stopping=early_stopping, banned_sequences=banned,
            stop_sequences=stops, max_decode_length=min(bucket(max(max_new_tokens, 1), minimum=MIN_BUCKET), limit),
        )
        results = []
        for lo in range(0, len(enc), batch_size):
            chunk = enc[lo:lo + batch_size]
            length = bucket(max(map(len, chunk)), minimum=MIN_BUCKET, limit=limit)
            batch = batching.encoder_batch(chunk, length=length, rows=self._batch_rows(len(chunk)))
            with self._context():
                out = self.decoder.predict_batch(self.params, self._put(batch), seed=seed + lo, **options)
                out = {k: np.asarray(v)[:len(chunk)] for k, v in out.items()}
            for row in range(len(chunk)):
                results.append([self._output(out, row, j, is_text, stop_strings, truncated[lo + row], max_new_tokens)
                                for j in range(num_return_sequences)])
        if not return_details:
            results = [[r["output"] for r in rs] for rs in results]
        if num_return_sequences == 1:
            results = [rs[0] for rs in results]
        return results[0] if single else results

    def _output(self, out: dict[str, np.ndarray], row: int, j: int, is_text: bool,
                stop_strings: Sequence[str] | None, truncated: bool, max_new_tokens: int) -> dict[str, Any]:
        ids = [int(x) for x in out["sequences"][row, j, :out["lengths"][row, j]]]
        reason = "length" if len(ids) == max_new_tokens else "stop"
        if ids and ids[-1] == self.config.eos_token_id:
            ids, reason = ids[:-1], "eos"
        output: Any = ids
        if is_text:
            text = self.tokenizer.decode(ids, stop_at_eos=False)
            output = tok.truncate_at_stop_strings(text, stop_strings)
            reason = "stop" if len(output) < len(text) else reason
        return {"output": output, "tokens": ids, "finish_reason": reason, "score": float(out["scores"][row, j]),
                "log_likelihood": float(out["log_likelihoods"][row, j]), "input_truncated": truncated}


def decoder_for(model: EncoderDecoderModel, **options: Any) -> Decoder:
    """A `Decoder` over `model`'s callables with the special ids of its config (`options`: e.g. `max_compiled`)."""
    cfg = model.config
    return Decoder(model, decoder_start_token_id=cfg.decoder_start_token_id, eos_token_id=cfg.eos_token_id,
                   pad_token_id=cfg.pad_token_id, vocab_size=cfg.vocab_size, max_length=cfg.max_position_embeddings,
                   **options)


def load(path: str | Path, *, dtype: Any = None, partitioner: Partitioner | None = None,
         vocab_path: str | Path | None = None, tokenization: str | None = None,
         **config_overrides: Any) -> Seq2SeqLM:
    """Loads a converted checkpoint directory or the latest step of a training `MODEL_DIR`.

    Paths may be relative (to the working directory) or start with `~`. `dtype` (e.g. "bfloat16") sets the
    compute dtype and casts the parameters to it; `partitioner` restores the parameters sharded over its mesh
    (training's logical rules) and runs every call under them; `vocab_path` overrides the vocabulary named in the
    checkpoint metadata; `tokenization` ("official" or "project") overrides the convention it records (strings are
    tokenised as the checkpoint was trained: `prompting.checkpoint_tokenization`); other keywords override config
    fields (e.g. `attention_impl="pallas"`, `scan_layers=False`).
    """
    checkpoint_dir = run_dir.find_checkpoint(paths.resolve(path))
    vocab_path = paths.resolve_optional(vocab_path)
    config = run_dir.read_model_config(run_dir.config_dir(checkpoint_dir))
    if dtype is not None:
        name = jnp.dtype(dtype).name
        config_overrides = {"dtype": name, "param_dtype": name, **config_overrides}
    config = config.replace(**config_overrides)
    model = EncoderDecoderModel(config)
    shardings = None if partitioner is None else partitioner.shardings(model.logical_axes())
    params = restore_params(checkpoint_dir, model.param_shapes(), dtype=config.weights_dtype, shardings=shardings)
    metadata = run_dir.read_metadata(checkpoint_dir)
    vocab_path = str(vocab_path) if vocab_path else metadata.get(run_dir.VOCAB_PATH_FIELD)
    return Seq2SeqLM(config, params, vocab_path=vocab_path, partitioner=partitioner,
                     tokenization=tok.checkpoint_tokenization(metadata, tokenization))
