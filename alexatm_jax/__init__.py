"""alexatm-jax: AlexaTM-style multilingual encoder-decoder models in JAX/Flax.

`load()` and `Seq2SeqLM` are imported lazily so that `import alexatm_jax` stays cheap.
"""

from alexatm_jax.model.config import ModelConfig

__all__ = ["ModelConfig", "Seq2SeqLM", "load"]


def __getattr__(name):
    if name in ("load", "Seq2SeqLM"):
        from alexatm_jax import api

        return getattr(api, name)
    raise AttributeError(f"module 'alexatm_jax' has no attribute {name!r}")
