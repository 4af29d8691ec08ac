import pytest

from alexatm_jax.model.config import ModelConfig


def test_dict_round_trip():
    cfg = ModelConfig(d_model=64, num_encoder_heads=4, num_decoder_heads=2, attention_impl="pallas")
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg


def test_heads_must_divide_d_model():
    with pytest.raises(ValueError, match="num_encoder_heads=7"):
        ModelConfig(d_model=64, num_encoder_heads=7)


@pytest.mark.parametrize("field,value", [("attention_impl", "flash"), ("remat_policy", "some"), ("dtype", "fp8")])
def test_bad_choices_name_the_options(field, value):
    with pytest.raises(ValueError, match=field):
        ModelConfig(**{field: value})


def test_unknown_override_lists_known_fields():
    with pytest.raises(ValueError, match="d_model"):
        ModelConfig().replace(dmodel=3)
