import subprocess
import sys
import textwrap

import jax
import pytest

from alexatm_jax.partitioning import FSDP_TP_RULES, Partitioner, resolve_mesh_shape


def test_mesh_shape_fills_minus_one():
    assert resolve_mesh_shape((-1, 2, 1), 8) == (4, 2, 1)
    assert resolve_mesh_shape((1, -1, 2), 8) == (1, 4, 2)


@pytest.mark.parametrize("shape,msg", [((-1, -1, 1), "more than one -1"), ((3, -1, 1), "not divisible"),
                                       ((2, 2, 1), "covers 4 devices"), ((8, 1), "needs 3 sizes")])
def test_bad_mesh_shapes_explain(shape, msg):
    with pytest.raises(ValueError, match=msg):
        resolve_mesh_shape(shape, 8)


def test_sharded_loss_equals_single_device_loss():
    """The same model and batch give the same loss on 1 device and on a 2x2x2 mesh of 8 simulated devices."""
    script = textwrap.dedent("""
        import os, sys
        os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"
        os.environ["JAX_PLATFORMS"] = "cpu"
        import flax.linen as nn, jax, numpy as np
        from alexatm_jax.model.config import ModelConfig
        from alexatm_jax.model.encoder_decoder import EncoderDecoderModel
        from alexatm_jax.partitioning import FSDP_TP_RULES, Partitioner, shard_batch
        cfg = ModelConfig(vocab_size=64, d_model=32, num_encoder_layers=2, num_decoder_layers=2,
                          num_encoder_heads=4, num_decoder_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64,
                          max_position_embeddings=64)
        model = EncoderDecoderModel(cfg)
        params = nn.meta.unbox(model.init(jax.random.PRNGKey(0)))
        rng = np.random.default_rng(0)
        batch = {k: rng.integers(0, 64, (8, n)).astype(np.int32) for k, n in
                 (("encoder_input_tokens", 6), ("decoder_input_tokens", 5), ("decoder_target_tokens", 5))}
        single = float(jax.jit(lambda p, b: model.loss_fn(p, b, None)[0])(params, batch))
        part = Partitioner((2, 2, 2), FSDP_TP_RULES)
        shardings = part.shardings(model.logical_axes())
        with part.activation_context():
            sharded_params = jax.device_put(params, shardings)
            step = jax.jit(lambda p, b: model.loss_fn(p, b, None)[0], in_shardings=(shardings, part.batch_sharding))
            sharded = float(step(sharded_params, shard_batch(batch, part.batch_sharding)))
        assert len(sharded_params["encoder"]["stack"]["layers"]["mlp"]["wi"]["kernel"].sharding.device_set) == 8
        print(single, sharded)
        assert abs(single - sharded) < 1e-5, (single, sharded)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]


def test_layout_names_every_parameter_with_its_axes(tiny_model_and_params):
    model, _ = tiny_model_and_params
    rows = Partitioner((1, 1, 1), FSDP_TP_RULES).layout(model.logical_axes(), model.param_shapes())
    by_name = {r["name"]: r for r in rows}
    assert len(rows) == len(by_name) == len(jax.tree_util.tree_leaves(model.param_shapes()))
    head = by_name["lm_head"]
    assert head["logical"] == ("embed", "vocab") and tuple(head["mesh"]) == ("fsdp", "tensor")
    assert head["shape"] == head["shard"] == (32, 64)  # one device holds everything
    wi = by_name["encoder/stack/layers/mlp/wi/kernel"]
    assert wi["logical"] == ("layers", "embed", "mlp") and tuple(wi["mesh"]) == (None, "fsdp", "tensor")
    with pytest.raises(ValueError, match="matching trees"):
        Partitioner().layout(model.logical_axes(), [1, 2])
