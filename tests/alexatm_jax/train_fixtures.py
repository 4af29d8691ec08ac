"""A small synthetic seqio task and gin config for training tests (fast, no corpus, vocabulary of 64 ids).

Importing this module registers `synthetic_pretrain` (train/validation): inputs are random id sequences, targets
their reversal; rows alternate between the denoise (0) and CLM (1) objective ids so per-objective metrics show.
`synthetic_pretrain_counted` is the same data through a preprocessor that counts the examples it processes
(`PREPROCESSED`), to tell a restored input position from one reached by re-reading the data.
Subprocess tests import it by name (`DatasetConfig.module='train_fixtures'`) with this folder on PYTHONPATH.
"""

from __future__ import annotations

import collections
import functools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import seqio
import tensorflow as tf

VOCAB_SIZE = 64
TASK_NAME = "synthetic_pretrain"
COUNTED_TASK_NAME = "synthetic_pretrain_counted"
PREPROCESSED: collections.Counter[str] = collections.Counter()  # examples through the counting preprocessor
REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


@functools.cache
def _examples(split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0 if split == "train" else 1)
    n = 4000 if split == "train" else 64
    lengths = rng.integers(4, 14, n)
    inputs = np.zeros((n, 14), np.int32)
    for i, length in enumerate(lengths):
        inputs[i, :length] = rng.integers(7, VOCAB_SIZE, length)
    return inputs, lengths.astype(np.int32), (np.arange(n) % 2).astype(np.int32)


def _dataset_fn(split: str, shuffle_files: bool, seed: int | None = None) -> tf.data.Dataset:
    inputs, lengths, objectives = _examples(split)
    ds = tf.data.Dataset.from_tensor_slices({"tokens": inputs, "length": lengths, "objective": objectives})
    if shuffle_files:
        ds = ds.shuffle(len(inputs), seed=seed, reshuffle_each_iteration=True)

    def to_example(ex):
        tokens = ex["tokens"][: ex["length"]]
        return {"inputs": tokens, "targets": tf.concat([tokens[::-1], [2]], 0), "objective": ex["objective"]}

    return ds.map(to_example)


def count_examples(ds: tf.data.Dataset) -> tf.data.Dataset:
    """A seqio preprocessor that adds 1 to `PREPROCESSED["examples"]` per example it processes."""

    def bump():
        PREPROCESSED["examples"] += 1
        return 0

    def count(ex):
        with tf.control_dependencies([tf.py_function(bump, [], tf.int32)]):
            return {k: tf.identity(v) for k, v in ex.items()}

    return ds.map(count)


def register() -> None:
    vocab = seqio.PassThroughVocabulary(size=VOCAB_SIZE, eos_id=2)
    features = {
        "inputs": seqio.Feature(vocab, add_eos=False, dtype=tf.int32),
        "targets": seqio.Feature(vocab, add_eos=False, dtype=tf.int32),
    }
    for name, preprocessors in ((TASK_NAME, []), (COUNTED_TASK_NAME, [count_examples])):
        if name in seqio.TaskRegistry.names():
            seqio.TaskRegistry.remove(name)
        seqio.TaskRegistry.add(
            name,
            source=seqio.FunctionDataSource(_dataset_fn, splits=("train", "validation")),
            output_features=features,
            preprocessors=preprocessors,
        )


register()

MODEL_GIN = """
from __gin__ import dynamic_registration
from alexatm_jax.model import config
from alexatm_jax.model import encoder_decoder

MODEL = @encoder_decoder.EncoderDecoderModel()
encoder_decoder.EncoderDecoderModel.config = @config.ModelConfig()
config.ModelConfig:
  vocab_size = 64
  d_model = 32
  num_encoder_layers = 2
  num_decoder_layers = 1
  num_encoder_heads = 2
  num_decoder_heads = 2
  encoder_ffn_dim = 64
  decoder_ffn_dim = 64
  max_position_embeddings = 64
  dropout_rate = 0.1
  scan_layers = True
"""

RUN_GIN = """
from __gin__ import dynamic_registration
from alexatm_jax.checkpoint import manager as checkpoint_manager
from alexatm_jax.model import config
from alexatm_jax.training import input_pipeline
from alexatm_jax.training import optimizers
from alexatm_jax import train as train_script

include 'runs/pretrain.gin'

MIXTURE_OR_TASK_NAME = 'synthetic_pretrain'
TASK_FEATURE_LENGTHS = {'inputs': 32, 'targets': 32}
BATCH_SIZE = 8
EVAL_BATCHES = 2
train/input_pipeline.DatasetConfig.module = 'train_fixtures'
validation/input_pipeline.DatasetConfig.module = 'train_fixtures'
config.ModelConfig.dtype = 'float32'
optimizers.OptimizerConfig.learning_rate = 3e-3
optimizers.OptimizerConfig.warmup_steps = 2
train_script.train.progress_bar = False
train_script.train.log_every_steps = 1
train_script.train.eval_every_steps = 4
checkpoint_manager.CheckpointConfig.save_every_steps = 2
checkpoint_manager.CheckpointConfig.keep = 10
"""


def write_gin(directory: Path, extra: str = "") -> Path:
    """An experiment gin file for the synthetic task and test model (`extra` lines appended)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "test_model.gin").write_text(MODEL_GIN)
    path = directory / "test_experiment.gin"
    path.write_text("include 'test_model.gin'\n" + RUN_GIN + "\n" + extra + "\n")
    return path


def env(num_devices: int = 1, **extra: str) -> dict[str, str]:
    """Environment for a training subprocess: CPU, `num_devices` simulated devices, fixtures importable."""
    out = dict(os.environ)
    out.update({
        "JAX_PLATFORMS": "cpu",
        "XLA_FLAGS": f"--xla_force_host_platform_device_count={num_devices}",
        "PYTHONPATH": os.pathsep.join([str(HERE), str(REPO), out.get("PYTHONPATH", "")]),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    })
    out.update(extra)
    return out


def train_command(gin_file: Path, model_dir: Path, *bindings: str) -> list[str]:
    return [sys.executable, "-m", "alexatm_jax.train", f"--gin_file={gin_file}",
            f"--gin_search_paths={gin_file.parent}", f"--gin.MODEL_DIR='{model_dir}'", *bindings]


def restore_params(model_dir: Path):
    """The latest parameters of a training MODEL_DIR on this process's first device, whatever mesh saved them.

    Passes explicit shardings: without them orbax looks for the saving topology and fails on another one.
    """
    import jax

    from alexatm_jax.checkpoint import params, run_dir
    from alexatm_jax.model.encoder_decoder import EncoderDecoderModel

    shapes = EncoderDecoderModel(run_dir.read_model_config(model_dir)).param_shapes()
    device = jax.sharding.SingleDeviceSharding(jax.devices()[0])
    shardings = jax.tree_util.tree_map(lambda _: device, shapes)
    return params.restore_params(run_dir.find_checkpoint(model_dir), shapes, shardings=shardings)


def run_train(gin_file: Path, model_dir: Path, *bindings: str, num_devices: int = 1, timeout: float = 600,
              check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(train_command(gin_file, model_dir, *bindings), env=env(num_devices), cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"training failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr[-5000:]}")
    return proc
