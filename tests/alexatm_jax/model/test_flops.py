"""FLOP counts agree with the model's actual weights; peak FLOP/s lookup and MFU."""

from __future__ import annotations

import flax.linen as nn
import jax
import pytest

from alexatm_jax.model import flops
from alexatm_jax.model.config import ModelConfig
from alexatm_jax.model.encoder_decoder import EncoderDecoderModel


def _kernel_sizes(tree, keep):
    total = 0
    for path, leaf in jax.tree_util.tree_leaves_with_path(tree):
        names = [str(k.key) for k in path]
        if names[-1] == "kernel" and keep(names):
            total += leaf.size
    return total


def test_weight_counts_match_the_model_kernels(tiny_config):
    params = nn.meta.unbox(EncoderDecoderModel(tiny_config).abstract_params())
    counts = flops.weight_counts(tiny_config)
    assert counts.encoder == _kernel_sizes(params["encoder"], lambda n: True)
    cross_kv = _kernel_sizes(params["decoder"], lambda n: "cross_attn" in n and n[-2] in ("key", "value"))
    assert counts.cross_kv == cross_kv
    assert counts.decoder == _kernel_sizes(params["decoder"], lambda n: True) - cross_kv
    assert counts.lm_head == params["lm_head"].size


def test_train_flops_formula():
    cfg = ModelConfig(vocab_size=100, d_model=8, num_encoder_layers=1, num_decoder_layers=1, num_encoder_heads=2,
                      num_decoder_heads=2, encoder_ffn_dim=16, decoder_ffn_dim=16)
    w = flops.weight_counts(cfg)
    assert (w.encoder, w.cross_kv, w.decoder, w.lm_head) == (4 * 64 + 2 * 128, 128, 6 * 64 + 2 * 128, 800)
    got = flops.train_flops(cfg, encoder_tokens=10, decoder_tokens=4, encoder_length=16, decoder_length=8)
    expected = 10 * (6 * (512 + 128) + 12 * 16 * 8) + 4 * (6 * (640 + 800) + 12 * 8 * (4 + 16))
    assert got == expected


def test_peak_flops_table_override_and_mfu():
    assert flops.peak_flops_per_device("NVIDIA H100 80GB HBM3") == 989e12
    assert flops.peak_flops_per_device("NVIDIA A100-SXM4-40GB") == 312e12
    assert flops.peak_flops_per_device("TPU v5 lite") == 197e12
    assert flops.peak_flops_per_device("cpu") is None
    assert flops.peak_flops_per_device("cpu", override=1e11) == 1e11
    assert flops.mfu(1e12, 2.0, 4, 1e12) == pytest.approx(0.125)
    assert flops.mfu(1e12, 2.0, 4, None) is None
