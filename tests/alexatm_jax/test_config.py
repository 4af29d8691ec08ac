import pytest

from alexatm_jax.config import ModelConfig


def test_json_round_trip(tmp_path):
    cfg = ModelConfig(d_model=64, num_encoder_heads=4, num_decoder_heads=2, attention_impl="pallas")
    cfg.save(tmp_path)
    assert ModelConfig.load(tmp_path) == cfg


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


def test_missing_config_file_explains(tmp_path):
    with pytest.raises(FileNotFoundError, match="convert_checkpoint"):
        ModelConfig.load(tmp_path)
