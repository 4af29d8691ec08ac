"""Converter tests that need no PyTorch: config mapping, the tensor table, round trips through the official
format, error messages for malformed directories, and that import streams (one shard at a time)."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import tracemalloc
from pathlib import Path

import flax.linen as nn
import ml_dtypes
import numpy as np
import pytest
from flax.traverse_util import flatten_dict
from jax.tree_util import tree_map as jax_tree_map
from safetensors.numpy import load_file, save_file

from alexatm_jax.checkpoint import params as checkpoints
from alexatm_jax.checkpoint import run_dir
from alexatm_jax.checkpoint.official import convert as cc
from alexatm_jax.checkpoint.official import files as official_files
from alexatm_jax.checkpoint.official import mapping as fmt
from alexatm_jax.model.config import ModelConfig
from alexatm_jax.model.encoder_decoder import EncoderDecoderModel

TINY = dict(vocab_size=37, d_model=12, num_encoder_layers=2, num_decoder_layers=3, num_encoder_heads=3,
            num_decoder_heads=2, encoder_ffn_dim=20, decoder_ffn_dim=16, max_position_embeddings=10,
            layer_norm_eps=1e-5, decoder_start_token_id=2)


def tiny_config(**overrides) -> ModelConfig:
    return ModelConfig(**{**TINY, **overrides})


def random_params(cfg: ModelConfig, seed: int = 0, dtype=np.float32) -> dict:
    """Random numpy params in `cfg`'s layout (the table's shapes equal the model's: see the test below)."""
    rng = np.random.default_rng(seed)
    tree: dict = {}
    for path, shape in fmt.stacked_shapes(fmt.parameter_table(cfg), cfg.scan_layers).items():
        node = tree
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = rng.standard_normal(shape).astype(dtype)
    return tree


def flat(tree) -> dict:
    return {k: np.asarray(v) for k, v in flatten_dict(tree).items()}


def assert_bitwise_equal(a, b) -> None:
    a, b = flat(a), flat(b)
    assert set(a) == set(b)
    for key in a:
        assert a[key].dtype == b[key].dtype, key
        assert a[key].shape == b[key].shape, key
        assert np.array_equal(a[key].view(np.uint8), b[key].view(np.uint8)), key


@pytest.fixture(scope="module")
def ours_dir(tmp_path_factory) -> tuple[Path, ModelConfig, dict]:
    """Our checkpoint of the 20B-like (untied) layout, scanned."""
    cfg = tiny_config()
    params = random_params(cfg)
    path = tmp_path_factory.mktemp("ours")
    checkpoints.save_params(path, params, cfg, force=True)
    return path, cfg, params


@pytest.fixture(scope="module")
def official_dir(ours_dir, tmp_path_factory) -> Path:
    """The same checkpoint exported to a single model.safetensors."""
    path = tmp_path_factory.mktemp("official") / "export"
    cc.export_official(ours_dir[0], path)
    return path


# ----------------------------------------------------------------------------------------------- mapping
@pytest.mark.parametrize("share,tie", [(False, False), (True, True), (True, False), (False, True)])
@pytest.mark.parametrize("scan", [True, False])
def test_table_covers_exactly_the_model_parameters(share, tie, scan):
    cfg = tiny_config(share_embeddings=share, tie_word_embeddings=tie, scan_layers=scan)
    abstract = flatten_dict(nn.meta.unbox(EncoderDecoderModel(cfg).abstract_params()))
    expected = {k: tuple(v.shape) for k, v in abstract.items()}
    assert fmt.stacked_shapes(fmt.parameter_table(cfg), scan) == expected


def test_official_names_are_unique_and_canonical_names_follow_transformers():
    for share, tie in [(False, False), (True, True), (False, True)]:
        table = fmt.parameter_table(tiny_config(share_embeddings=share, tie_word_embeddings=tie))
        names = [n for e in table for n in e.names]
        assert len(names) == len(set(names))
        canonical = {e.name for e in table}
        # What save_pretrained(safe_serialization=True) keeps: model.shared, never the encoder alias.
        assert "model.shared.weight" in canonical and "model.encoder.token_embeddings.weight" not in canonical
        assert ("lm_head.weight" in canonical) == (not tie)
        assert ("model.decoder.embed_tokens.weight" in canonical) == (not share)


def test_config_defaults_follow_transformers():
    cfg = fmt.config_from_official({"model_type": "alexatm", "bos_token_id": 5})
    assert (cfg.d_model, cfg.num_encoder_layers, cfg.num_encoder_heads) == (1024, 12, 16)
    assert cfg.vocab_size == 50265
    assert cfg.share_embeddings and cfg.tie_word_embeddings  # PretrainedConfig's tie default is True.
    assert cfg.decoder_start_token_id == 5  # Falls back to bos_token_id, as transformers does.
    assert cfg.dropout_rate == 0.1 and cfg.attention_dropout_rate == 0.0
    assert fmt.config_from_official({"decoder_start_token_id": 2}).decoder_start_token_id == 2


def test_config_round_trip():
    cfg = tiny_config(dropout_rate=0.2, share_embeddings=True, tie_word_embeddings=False, scan_layers=False)
    official = fmt.config_to_official(cfg)
    assert official["model_type"] == "alexatm"
    assert official["architectures"] == ["AlexaTMSeq2SeqForConditionalGeneration"]
    assert official["hidden_dropout_prob"] == 0.2
    assert fmt.config_from_official(official, scan_layers=False) == cfg


@pytest.mark.parametrize("field,value,match", [
    ("hidden_act", "relu", "hidden_act='relu'"),
    ("position_embedding_type", "relative_key", "position_embedding_type"),
    ("model_type", "bart", "model_type='bart'"),
    ("add_cross_attention", True, "add_cross_attention"),
])
def test_config_rejects_unsupported_architectures(field, value, match):
    with pytest.raises(ValueError, match=match):
        fmt.config_from_official({field: value})


# ----------------------------------------------------------------------------------------------- round trips
def test_export_writes_what_transformers_expects(ours_dir, official_dir):
    _, cfg, _ = ours_dir
    assert sorted(p.name for p in official_dir.iterdir()) == ["config.json", "model.safetensors"]
    config = json.loads((official_dir / "config.json").read_text())
    assert config["model_type"] == "alexatm" and config["torch_dtype"] == "float32"
    tensors = load_file(official_dir / "model.safetensors")
    assert set(tensors) == {e.name for e in fmt.parameter_table(cfg)} | {fmt.POSITION_IDS}
    assert tensors["model.decoder.layers.1.fc1.weight"].shape == (cfg.decoder_ffn_dim, cfg.d_model)
    np.testing.assert_array_equal(tensors[fmt.POSITION_IDS], np.arange(cfg.max_position_embeddings)[None])


@pytest.mark.parametrize("scan", [False, True])
def test_round_trip_is_bit_exact_through_sharded_safetensors(ours_dir, tmp_path, scan):
    path, cfg, params = ours_dir
    exported = cc.export_official(path, tmp_path / "official", max_shard_size="3KB")
    index = json.loads((exported / official_files.SAFETENSORS_INDEX).read_text())
    shards = sorted(p.name for p in exported.glob("model-*.safetensors"))
    assert len(shards) > 3 and set(index["weight_map"].values()) == set(shards)
    back = cc.import_official(exported, tmp_path / "back", scan_layers=scan)
    # Restored into the scanned layout of `cfg`.
    restored = checkpoints.restore_params(back, EncoderDecoderModel(cfg).param_shapes())
    assert_bitwise_equal(params, restored)
    assert run_dir.read_model_config(back) == cfg.replace(scan_layers=scan)


def test_round_trip_in_bfloat16_keeps_bits(tmp_path):
    cfg = tiny_config(share_embeddings=True, tie_word_embeddings=True, param_dtype="bfloat16",
                      dtype="bfloat16")
    params = random_params(cfg, seed=1, dtype=ml_dtypes.bfloat16)
    checkpoints.save_params(tmp_path / "ours", params, cfg)
    exported = cc.export_official(tmp_path / "ours", tmp_path / "official")
    assert load_file(exported / "model.safetensors")["model.shared.weight"].dtype == ml_dtypes.bfloat16
    back = cc.import_official(exported, tmp_path / "back", dtype="bfloat16")
    assert_bitwise_equal(params, checkpoints.restore_params(back, EncoderDecoderModel(cfg).param_shapes()))
    upcast = cc.read_official_params(exported, cfg.replace(param_dtype="float32"))
    assert_bitwise_equal(jax_tree_map(lambda x: x.astype(np.float32), params), upcast)


def test_sizes_and_shard_plans():
    assert official_files.parse_size("10GB") == 10**10
    assert official_files.parse_size("2MiB") == 2 * 2**20
    assert official_files.parse_size(" 1.5 kb") == 1500
    with pytest.raises(ValueError, match="10GB"):
        official_files.parse_size("ten gigs")
    sizes = [("a", 4), ("b", 4), ("big", 50), ("c", 1), ("d", 9)]
    assert official_files.plan_shards(sizes, 10) == [["a", "b"], ["big"], ["c", "d"]]


def test_import_accepts_aliases_instead_of_canonical_names(official_dir, tmp_path):
    """A .bin (or another writer) may hold the encoder embedding only as model.encoder.token_embeddings."""
    tensors = load_file(official_dir / "model.safetensors")
    tensors["model.encoder.token_embeddings.weight"] = tensors.pop("model.shared.weight")
    broken = _copy_with(official_dir, tmp_path / "alias", tensors)
    params = cc.read_official_params(broken, fmt.config_from_official(official_files.read_config(broken)))
    np.testing.assert_array_equal(params["encoder_embed"]["embedding"],
                                  tensors["model.encoder.token_embeddings.weight"])


# ----------------------------------------------------------------------------------------------- errors
def _copy_with(source: Path, target: Path, tensors: dict) -> Path:
    shutil.copytree(source, target)
    save_file(tensors, target / "model.safetensors", metadata={"format": "pt"})
    return target


@pytest.mark.parametrize("edit,match", [
    ("missing", r"Missing tensor\(s\) model.decoder.layers.2.fc2.bias"),
    ("unexpected", r"Unexpected tensor\(s\) model.decoder.layers.3.fc2.bias"),
    ("shape", r"model.encoder.pre_ln_encoder.layer.1.intermediate.dense.weight .* has shape \(20, 13\); "
              r"expected \(20, 12\)"),
])
def test_malformed_weights_name_the_tensor(official_dir, tmp_path, edit, match):
    tensors = load_file(official_dir / "model.safetensors")
    if edit == "missing":
        del tensors["model.decoder.layers.2.fc2.bias"]
    elif edit == "unexpected":
        tensors["model.decoder.layers.3.fc2.bias"] = np.zeros(12, np.float32)
    else:
        name = "model.encoder.pre_ln_encoder.layer.1.intermediate.dense.weight"
        tensors[name] = np.zeros((20, 13), np.float32)
    broken = _copy_with(official_dir, tmp_path / edit, tensors)
    with pytest.raises(ValueError, match=match):
        cc.import_official(broken, tmp_path / "out")
    assert not (tmp_path / "out" / "params").exists()


def test_missing_config_or_weights_or_shard(ours_dir, official_dir, tmp_path):
    no_config = shutil.copytree(official_dir, tmp_path / "no_config")
    (no_config / "config.json").unlink()
    with pytest.raises(FileNotFoundError, match="config.json not found"):
        cc.import_official(no_config, tmp_path / "out")
    no_weights = shutil.copytree(official_dir, tmp_path / "no_weights")
    (no_weights / "model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="No weights"):
        cc.import_official(no_weights, tmp_path / "out")
    sharded = cc.export_official(ours_dir[0], tmp_path / "sharded", max_shard_size="20KB")
    sorted(sharded.glob("model-*.safetensors"))[-1].unlink()
    match = r"names shard file\(s\) \['model-0000\d-of-0000\d.safetensors'\]"
    with pytest.raises(FileNotFoundError, match=match):
        cc.import_official(sharded, tmp_path / "out")


def test_bin_without_torch_says_what_to_install(official_dir, tmp_path, monkeypatch):
    import zipfile

    target = shutil.copytree(official_dir, tmp_path / "bin")
    (target / "model.safetensors").unlink()
    with zipfile.ZipFile(target / "pytorch_model.bin", "w") as archive:  # the format torch.save writes
        archive.writestr("archive/data.pkl", b"")
    monkeypatch.setitem(sys.modules, "torch", None)  # Import fails whether or not torch is installed.
    with pytest.raises(ImportError, match="needs PyTorch.*safetensors files need no PyTorch"):
        cc.import_official(target, tmp_path / "out")


def test_existing_output_needs_overwrite(official_dir, tmp_path):
    cc.import_official(official_dir, tmp_path / "out")
    with pytest.raises(FileExistsError, match="--overwrite"):
        cc.import_official(official_dir, tmp_path / "out")
    cc.import_official(official_dir, tmp_path / "out", overwrite=True)


# ----------------------------------------------------------------------------------------------- streaming
def test_import_reads_one_shard_at_a_time_and_each_tensor_once(ours_dir, tmp_path, monkeypatch):
    path, cfg, params = ours_dir
    exported = cc.export_official(path, tmp_path / "official", max_shard_size="4KB")
    events: list[tuple[str, str]] = []
    real_open = official_files.open_weights

    @contextlib.contextmanager
    def recording_open(file):
        events.append(("open", file.name))
        with real_open(file) as reader:
            real_get = reader.get

            def get(name):
                events.append(("get", name))
                return real_get(name)

            reader.get = get
            yield reader
        events.append(("close", file.name))

    monkeypatch.setattr(official_files, "open_weights", recording_open)
    loaded = cc.read_official_params(exported, cfg)
    assert_bitwise_equal(params, loaded)
    open_now = 0
    for kind, _ in events:
        open_now += {"open": 1, "close": -1, "get": 0}[kind]
        assert open_now <= 1  # Never two files open at once.
        if kind == "get":
            assert open_now == 1
    gets = [name for kind, name in events if kind == "get"]
    assert sorted(gets) == sorted(e.name for e in fmt.parameter_table(cfg))  # Each tensor read exactly once.


def test_import_peak_memory_is_one_model_plus_one_tensor(tmp_path):
    cfg = tiny_config(vocab_size=4000, d_model=64, num_encoder_heads=4, num_decoder_heads=4)
    params = random_params(cfg)
    total = sum(v.nbytes for v in flat(params).values())
    largest = max(v.nbytes for v in flat(params).values())
    checkpoints.save_params(tmp_path / "ours", params, cfg)
    exported = cc.export_official(tmp_path / "ours", tmp_path / "official", max_shard_size="300KB")
    del params
    tracemalloc.start()  # numpy reports its allocations to tracemalloc.
    try:
        cc.read_official_params(exported, cfg)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total <= peak < total + 2 * largest


# ----------------------------------------------------------------------------------------------- vocab + CLI
def test_vocab_in_input_dir_is_copied_and_recorded(official_dir, tmp_path):
    source = shutil.copytree(official_dir, tmp_path / "with_vocab")
    (source / "20b_tokenizer.model").write_bytes(b"not really sentencepiece")
    out = cc.import_official(source, tmp_path / "out")
    assert (out / "20b_tokenizer.model").read_bytes() == b"not really sentencepiece"
    assert run_dir.read_metadata(out)["vocab_path"] == str(out / "20b_tokenizer.model")
    exported = cc.export_official(out, tmp_path / "back")
    assert (exported / "20b_tokenizer.model").is_file()


def test_cli_import_and_export(official_dir, tmp_path):
    run = lambda *args: subprocess.run([sys.executable, "-m", "alexatm_jax.convert_checkpoint", *args],
                                       capture_output=True, text=True, check=False)
    done = run(f"--input={official_dir}", f"--output={tmp_path / 'ours'}", "--scan_layers=false")
    assert done.returncode == 0, done.stderr
    assert run_dir.read_model_config(tmp_path / "ours").scan_layers is False
    done = run("--export", f"--input={tmp_path / 'ours'}", f"--output={tmp_path / 'back'}",
               "--max_shard_size=5KB")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "back" / official_files.SAFETENSORS_INDEX).is_file()


# ----------------------------------------------------------------------------------------------- misuse
def _snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def _training_run(tmp_path: Path, ours_dir) -> Path:
    path, cfg, params = ours_dir
    run = tmp_path / "run"
    checkpoints.save_params(run / "4", params, cfg)
    run_dir.write_model_config(run, cfg)
    run_dir.write_metadata(run, vocab_path="/the/run/vocab.model")
    (run / run_dir.OPERATIVE_CONFIG_FILE).write_text("TRAIN_STEPS = 4\n")
    return run


def test_the_converter_never_writes_into_a_training_run(official_dir, ours_dir, tmp_path, capsys):
    from alexatm_jax import convert_checkpoint

    run = _training_run(tmp_path, ours_dir)
    before = _snapshot(run)
    for output, extra in ((run, []), (run, ["--overwrite"]), (run / "4", ["--overwrite"])):
        assert convert_checkpoint.main([f"--input={official_dir}", f"--output={output}", *extra]) == 2
        err = capsys.readouterr().err
        assert "training MODEL_DIR" in err and "Choose another --output" in err and "Traceback" not in err
    for extra in ([], ["--overwrite"]):
        assert convert_checkpoint.main(["--export", f"--input={ours_dir[0]}", f"--output={run}", *extra]) == 2
        assert "training MODEL_DIR" in capsys.readouterr().err
    assert _snapshot(run) == before  # nothing written, nothing replaced
    assert run_dir.find_checkpoint(run) == run / "4"


def test_the_converter_needs_overwrite_for_a_directory_with_other_files(official_dir, ours_dir, tmp_path):
    user_dir = tmp_path / "mine"
    user_dir.mkdir()
    (user_dir / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="holds files .*pass --overwrite"):
        cc.import_official(official_dir, user_dir)
    assert sorted(p.name for p in user_dir.iterdir()) == ["notes.txt"]
    cc.import_official(official_dir, user_dir, overwrite=True)
    assert (user_dir / "notes.txt").read_text() == "keep me" and (user_dir / "params").is_dir()
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="holds files"):
        cc.export_official(ours_dir[0], other)
    cc.export_official(ours_dir[0], other, overwrite=True)
    assert (other / "notes.txt").read_text() == "keep me" and (other / "config.json").is_file()
    with pytest.raises(ValueError, match="converted checkpoint directory: the official files would be mixed"):
        cc.export_official(ours_dir[0], user_dir, overwrite=True)
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(FileExistsError, match="is a file"):
        cc.import_official(official_dir, tmp_path / "a_file", overwrite=True)


def test_export_then_import_keeps_the_vocabulary_and_normal_permissions(ours_dir, tmp_path):
    import os

    from tests.alexatm_jax.decoding_fixtures import VOCAB_PATH

    path, cfg, params = ours_dir
    ours = tmp_path / "ours"
    checkpoints.save_params(ours, params, cfg, vocab_path=str(VOCAB_PATH))
    previous = os.umask(0o027)
    try:
        exported = cc.export_official(ours, tmp_path / "official", max_shard_size="20KB")
    finally:
        os.umask(previous)
    assert (exported / cc.OFFICIAL_VOCAB_NAME).read_bytes() == VOCAB_PATH.read_bytes()
    modes = {p.name: p.stat().st_mode & 0o777 for p in exported.iterdir()}
    assert set(modes.values()) == {0o640}, modes  # what open() gives under umask 027 (safetensors alone: 0600)
    back = cc.import_official(exported, tmp_path / "back")
    assert run_dir.read_metadata(back)["vocab_path"] == str(back / cc.OFFICIAL_VOCAB_NAME)
    assert (back / cc.OFFICIAL_VOCAB_NAME).read_bytes() == VOCAB_PATH.read_bytes()


@pytest.mark.parametrize("content,match", [
    (b"\x00\x01 random bytes, not a checkpoint" * 10, "is not a PyTorch checkpoint"),
    (__import__("pickle").dumps({"encoder.weight": [1.0, 2.0]}), "is a plain Python pickle"),
    (b"\x80\x02\x8a\nl\xfc\x9cF\xf9 j\xa8P\x19." + b"\x00" * 20, "is saved in PyTorch's legacy \\(pre-1.6\\) format"),
])
def test_a_bin_that_is_not_a_torch_zip_checkpoint_is_named_before_torch_sees_it(official_dir, tmp_path, content,
                                                                                   match, monkeypatch):
    target = shutil.copytree(official_dir, tmp_path / "bin")
    (target / "model.safetensors").unlink()
    (target / "pytorch_model.bin").write_bytes(content)
    monkeypatch.setitem(sys.modules, "torch", None)  # the check needs no PyTorch
    with pytest.raises(ValueError, match=f"pytorch_model.bin {match}.*Re-save the state dict"):
        cc.import_official(target, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_damaged_official_files_are_named(official_dir, tmp_path):
    target = shutil.copytree(official_dir, tmp_path / "damaged")
    weights = target / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:50])
    with pytest.raises(ValueError, match="model.safetensors is not a readable safetensors file"):
        cc.import_official(target, tmp_path / "out")
    (target / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="config.json is not valid JSON"):
        cc.import_official(target, tmp_path / "out")
