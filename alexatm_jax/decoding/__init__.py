"""Decoding: greedy, sampling and beam search in one compiled loop over a model's callables.

`Decoder(model, ...)` takes any object with `encode` / `init_cache` / `decode_step` / `decode`
(`ModelFunctions`); nothing here imports a model class.
"""

from alexatm_jax.decoding.predict import Decoder, ModelFunctions

__all__ = ["Decoder", "ModelFunctions"]
