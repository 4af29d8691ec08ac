"""Shared fixtures: tiny model configs and parameters, so every test runs in seconds on CPU."""

from __future__ import annotations

import os

# Interpret-mode kernels must run on the CPU even on a GPU machine (docs/STACK.md: interpret mode does not move them).
os.environ.setdefault("JAX_PLATFORMS", "cpu")
# Tests are dominated by XLA compile time on CPU; LLVM optimisation level 0 compiles ~3x faster and the
# tests compare values with tolerances (or two runs under the same flags), never against fixed timings.
if "--xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0").strip()

import flax.linen as nn  # noqa: E402
import jax  # noqa: E402
import pytest  # noqa: E402

from alexatm_jax.model.config import ModelConfig  # noqa: E402
from alexatm_jax.model.encoder_decoder import EncoderDecoderModel  # noqa: E402
from tests.main_job_fixtures import tiny_main_job  # noqa: E402, F401  (session fixture: the tiny main job)

TINY = dict(
    vocab_size=64, d_model=32, num_encoder_layers=2, num_decoder_layers=2, num_encoder_heads=4,
    num_decoder_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=48, max_position_embeddings=64,
)


@pytest.fixture
def tiny_config() -> ModelConfig:
    return ModelConfig(**TINY)


@pytest.fixture
def tiny_model_and_params(tiny_config):
    model = EncoderDecoderModel(tiny_config)
    params = nn.meta.unbox(model.init(jax.random.PRNGKey(0)))
    return model, params
