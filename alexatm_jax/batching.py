"""Padded numpy batches for inference from lists of token ids (right padding; segment ids 1 for tokens, 0 for
padding). Rows past the examples are all padding: they score 0 and generate nothing anyone reads."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def encoder_batch(inputs: Sequence[Sequence[int]], *, length: int, rows: int) -> dict[str, np.ndarray]:
    """`encoder_input_tokens` and `encoder_segment_ids` [rows, length]."""
    tokens = np.zeros((rows, length), np.int32)
    segment_ids = np.zeros((rows, length), np.int32)
    for row, ids in enumerate(inputs):
        tokens[row, :len(ids)] = ids
        segment_ids[row, :len(ids)] = 1
    return {"encoder_input_tokens": tokens, "encoder_segment_ids": segment_ids}


def score_batch(encoder_tokens: Sequence[Sequence[int]], target_tokens: Sequence[Sequence[int]], *,
                decoder_start_token_id: int, input_length: int, target_length: int,
                rows: int | None = None) -> dict[str, np.ndarray]:
    """A teacher-forcing batch: encoder inputs, decoder inputs (targets shifted right after the start token),
    targets and loss weights (1 on target tokens)."""
    n = rows or len(encoder_tokens)
    batch = encoder_batch(encoder_tokens, length=input_length, rows=n)
    for name in ("decoder_input_tokens", "decoder_target_tokens", "decoder_loss_weights"):
        batch[name] = np.zeros((n, target_length), np.int32)
    batch["decoder_input_tokens"][:, 0] = decoder_start_token_id
    for row, tgt in enumerate(target_tokens):
        batch["decoder_target_tokens"][row, :len(tgt)] = tgt
        batch["decoder_input_tokens"][row, 1:len(tgt)] = tgt[:-1] if len(tgt) else []
        batch["decoder_loss_weights"][row, :len(tgt)] = 1
    return batch
