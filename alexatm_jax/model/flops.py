"""Training FLOPs of the encoder-decoder and peak FLOP/s per device, for MFU (MaxText style: explicit formula).

Per trained token a matmul with N weights costs 2N FLOPs forward and 4N backward: 6N. Counting only
non-padding tokens (`T_enc`, `T_dec`) of a step, with `d` = d_model, `L_e`/`L_d` layers, `S_e`/`S_d` the
padded lengths the attention is computed over:

  FLOPs = T_enc * (6 * (N_enc + N_cross_kv) + 12 * L_e * S_e * d)
        + T_dec * (6 * (N_dec + N_head) + 12 * L_d * d * (S_d / 2 + S_e))

* `N_enc`: encoder matmul weights per token (4 d^2 attention + 2 d F_e MLP per layer);
* `N_cross_kv`: the decoder's cross-attention key/value projections (2 d^2 per decoder layer), which run on
  encoder tokens;
* `N_dec`: decoder matmul weights applied per decoder token (4 d^2 self-attention, 2 d^2 cross-attention
  query/output, 2 d F_d MLP per layer); `N_head` = d * vocab (the LM head);
* attention: per query token and layer, Q.K^T and P.V cost 2 * 2 * S_kv * d forward, x3 with backward = 12 S_kv d;
  causal self-attention counts half its keys (S_d / 2), cross-attention all S_e keys.
Embedding lookups, layer norms, softmax and the loss are not counted (as in MaxText and the PaLM MFU paper).
"""

from __future__ import annotations

import dataclasses
from typing import Any

# Dense bf16 peak FLOP/s per device (vendor datasheets; SXM parts for GPUs). Matched as a substring of
# `jax.Device.device_kind`, longest key first. MFU is relative to this bf16 peak whatever the run's dtype.
PEAK_FLOPS_PER_DEVICE: dict[str, float] = {
    "H200": 989e12,
    "H100": 989e12,
    "GH200": 989e12,
    "B200": 2250e12,
    "A100": 312e12,
    "A10G": 125e12,
    "L4": 121e12,
    "V100": 125e12,
    "TPU v4": 275e12,
    "TPU v5 lite": 197e12,
    "TPU v5e": 197e12,
    "TPU v5p": 459e12,
    "TPU v5": 459e12,
    "TPU v6 lite": 918e12,
    "TPU v6e": 918e12,
}


@dataclasses.dataclass(frozen=True)
class FlopCounts:
    """Matmul weights per token of each part of the model (see the module docstring)."""

    encoder: int
    cross_kv: int
    decoder: int
    lm_head: int


def weight_counts(config: Any) -> FlopCounts:
    """Per-token matmul weight counts of a `ModelConfig`."""
    d = config.d_model
    enc = config.num_encoder_layers * (4 * d * d + 2 * d * config.encoder_ffn_dim)
    cross_kv = config.num_decoder_layers * 2 * d * d
    dec = config.num_decoder_layers * (4 * d * d + 2 * d * d + 2 * d * config.decoder_ffn_dim)
    return FlopCounts(enc, cross_kv, dec, d * config.vocab_size)


def train_flops(config: Any, *, encoder_tokens: float, decoder_tokens: float, encoder_length: int,
                decoder_length: int) -> float:
    """FLOPs of one training step (forward + backward) over the given non-padding token counts."""
    w = weight_counts(config)
    d = config.d_model
    enc_attn = 12 * config.num_encoder_layers * encoder_length * d
    dec_attn = 12 * config.num_decoder_layers * d * (decoder_length / 2 + encoder_length)
    per_enc = 6 * (w.encoder + w.cross_kv) + enc_attn
    per_dec = 6 * (w.decoder + w.lm_head) + dec_attn
    return float(encoder_tokens * per_enc + decoder_tokens * per_dec)


def peak_flops_per_device(device_kind: str | None = None, override: float | None = None) -> float | None:
    """Peak FLOP/s of one device: `override` if given, else the table entry for `device_kind`, else None.

    CPUs have no entry (MFU is then omitted); pass `override` (gin: `train.peak_flops_per_device`) to get one.
    """
    if override:
        return float(override)
    if device_kind is None:
        import jax

        device_kind = jax.devices()[0].device_kind
    for key in sorted(PEAK_FLOPS_PER_DEVICE, key=len, reverse=True):
        if key.lower() in device_kind.lower():
            return PEAK_FLOPS_PER_DEVICE[key]
    return None


def mfu(flops: float, seconds: float, num_devices: int, peak_per_device: float | None) -> float | None:
    """Model FLOPs utilisation in [0, 1], or None when the peak is unknown."""
    if not peak_per_device or seconds <= 0:
        return None
    return flops / seconds / (num_devices * peak_per_device)
