"""The training loop in-process on numpy batches: resume (input position restored or skipped to), NaN stop, SIGTERM,
metrics, microbatches.

The subprocess tests (kill -9, other meshes, multi-process, the gin CLI) are in test_train.py and test_multihost.py.
"""

from __future__ import annotations

import json
import logging
import os
import signal

import jax
import numpy as np
import optax
import pytest

import alexatm_jax
from alexatm_jax.checkpoint import run_dir
from alexatm_jax.checkpoint.manager import CheckpointConfig, TrainCheckpointer
from alexatm_jax.checkpoint.params import restore_params
from alexatm_jax.model.config import ModelConfig
from alexatm_jax.model.encoder_decoder import EncoderDecoderModel
from alexatm_jax.partitioning import Partitioner, shard_batch
from alexatm_jax.training.loop import NonFiniteLossError, run_training
from alexatm_jax.training.metrics import read_metrics
from alexatm_jax.training.optimizers import OptimizerConfig, make_optimizer
from alexatm_jax.training.trainer import Trainer, synthetic_batch

CONFIG = ModelConfig(vocab_size=32, d_model=16, num_encoder_layers=1, num_decoder_layers=1, num_encoder_heads=2,
                     num_decoder_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=16)
# No dropout here, so microbatched steps match; test_train.py covers dropout RNG on resume.
BATCH, ENC, DEC = 4, 12, 8


def make_batch(index, bad=False):
    batch = synthetic_batch(CONFIG, BATCH, ENC, DEC, seed=index)
    if bad:  # an out-of-vocabulary id: the embedding lookup gives NaN
        batch["encoder_input_tokens"][0, 0] = CONFIG.vocab_size + 5
    batch["decoder_segment_ids"][:, -2:] = 0  # some padding
    batch["decoder_loss_weights"][:, -2:] = 0
    batch["decoder_objective_ids"][:] = (np.arange(BATCH) % 2)[:, None]  # denoise and CLM rows
    batch["decoder_objective_ids"][:, -2:] = -1
    return batch


def batches(start, bad_batch=None):
    """Batches start, start+1, ... from a plain generator (no position to save)."""
    index = start
    while True:
        yield make_batch(index, bad=index == bad_batch)
        index += 1


class PositionedBatches:
    """The same batches from an iterator whose position saves to a checkpoint (`CheckpointableIterator`)."""

    def __init__(self, start):
        self.start = self.position = start
        self.produced = 0

    def __iter__(self):
        return self

    def __next__(self):
        self.position += 1
        self.produced += 1
        return make_batch(self.position - 1)

    def save(self, directory):
        (directory / "position").write_text(str(self.position))

    def restore(self, directory):
        self.position = int((directory / "position").read_text())


def opener(opened):
    """A `train_batches` callable that keeps every iterator it opens."""
    def open_batches(start):
        opened.append(PositionedBatches(start))
        return opened[-1]
    return open_batches


def make_trainer(num_microbatches=1):
    optimizer = make_optimizer(OptimizerConfig(learning_rate=3e-3, warmup_steps=1), 8)
    return Trainer(EncoderDecoderModel(CONFIG), optimizer, Partitioner(), num_microbatches=num_microbatches)


@pytest.fixture(scope="module")
def trainer():
    return make_trainer()


def train(trainer, model_dir, steps, **kwargs):
    checkpointer = TrainCheckpointer(model_dir, CheckpointConfig(save_every_steps=2, keep=5))
    try:
        return run_training(trainer=trainer, checkpointer=checkpointer, model_dir=model_dir, train_steps=steps,
                            train_batches=kwargs.pop("train_batches", batches), progress_bar=False,
                            log_every_steps=1, **kwargs)
    finally:
        checkpointer.close()


def final_params(model_dir):
    return restore_params(run_dir.find_checkpoint(model_dir), EncoderDecoderModel(CONFIG).param_shapes())


def test_resume_gives_bit_identical_parameters(trainer, tmp_path):
    straight = train(trainer, tmp_path / "a", 6)
    first = train(trainer, tmp_path / "b", 3)
    resumed = train(trainer, tmp_path / "b", 6)
    assert (straight.final_step, first.final_step, resumed.start_step, resumed.final_step) == (6, 3, 3, 6)
    assert straight.losses == first.losses + resumed.losses
    jax.tree_util.tree_map(np.testing.assert_array_equal, final_params(tmp_path / "a"), final_params(tmp_path / "b"))
    again = train(trainer, tmp_path / "b", 6)
    assert again.start_step == 6 and again.losses == []


def test_resume_restores_the_saved_input_position_without_re_reading(trainer, tmp_path):
    straight = train(trainer, tmp_path / "a", 6, train_batches=PositionedBatches)
    first = train(trainer, tmp_path / "b", 3, train_batches=PositionedBatches)
    assert (tmp_path / "b" / "3" / "data_iterator" / "position").read_text() == "3"
    opened = []
    resumed = train(trainer, tmp_path / "b", 6, train_batches=opener(opened))
    # Opened at batch 0, moved to the saved batch 3, then read exactly the 3 batches of steps 4-6.
    assert [(b.start, b.produced) for b in opened] == [(0, 3)]
    assert straight.losses == first.losses + resumed.losses
    jax.tree_util.tree_map(np.testing.assert_array_equal, final_params(tmp_path / "a"), final_params(tmp_path / "b"))


def test_a_step_without_a_saved_position_resumes_by_skipping(trainer, tmp_path, caplog):
    """Steps saved before input positions existed (here: by a generator, which has none) skip batches, warning."""
    straight = train(trainer, tmp_path / "a", 5)
    first = train(trainer, tmp_path / "b", 3)
    assert not (tmp_path / "b" / "3" / "data_iterator").exists()
    opened = []
    with caplog.at_level(logging.WARNING, logger="alexatm_jax.training.loop"):
        resumed = train(trainer, tmp_path / "b", 5, train_batches=opener(opened))
    assert [b.start for b in opened] == [3]
    assert "by skipping batches, because it saved none" in caplog.text
    assert straight.losses == first.losses + resumed.losses
    assert (tmp_path / "b" / "5" / "data_iterator" / "position").read_text() == "5"  # saved from now on

    opened.clear()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="alexatm_jax.training.loop"):
        train(trainer, tmp_path / "b", 6, train_batches=opener(opened), restore_data_iterator=False)
    assert [b.start for b in opened] == [5]
    assert "because restore_data_iterator=False" in caplog.text


def test_metrics_files_and_load(trainer, tmp_path):
    result = train(trainer, tmp_path, 2, eval_batches=lambda: [next(batches(100))], eval_every_steps=2)
    rows = read_metrics(tmp_path)
    assert [r["step"] for r in rows] == [1, 2]
    for key in ("loss", "accuracy", "denoise_loss", "clm_loss", "learning_rate", "grad_norm", "tokens_per_s",
                "step_time_s", "tflops_per_s_per_device"):
        assert key in rows[-1], key
    assert rows[0]["learning_rate"] == 0.0 and rows[1]["learning_rate"] > 0
    assert read_metrics(tmp_path, "validation")[0]["loss"] == pytest.approx(result.last_eval_loss)
    assert (tmp_path / "tensorboard" / "train").is_dir()
    assert sorted(int(p.name) for p in tmp_path.iterdir() if p.name.isdigit()) == [2]
    run_dir.write_model_config(tmp_path, CONFIG)
    model = alexatm_jax.load(tmp_path)
    assert model.logits(np.array([[5, 6, 7]]), np.array([[0, 5]])).shape == (1, 2, CONFIG.vocab_size)


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(trainer, tmp_path):
    train(trainer, tmp_path, 2)
    good = final_params(tmp_path)
    with pytest.raises(NonFiniteLossError, match=r"Non-finite loss at step 4 .*last good checkpoint is step 2"):
        train(trainer, tmp_path, 6, train_batches=lambda start: batches(start, bad_batch=3))
    assert TrainCheckpointer(tmp_path).all_steps() == [2]
    jax.tree_util.tree_map(np.testing.assert_array_equal, final_params(tmp_path), good)


def test_sigterm_saves_the_current_step_and_stops(trainer, tmp_path):
    def interrupted(start):
        for i, batch in enumerate(batches(start)):
            if i == 3:  # fetched after step 3; the loop finishes step 4, then saves and stops
                os.kill(os.getpid(), signal.SIGTERM)
            yield batch

    result = train(trainer, tmp_path, 8, train_batches=interrupted)
    assert result.preempted and result.final_step == 4
    assert TrainCheckpointer(tmp_path).latest_step() == 4
    record = json.loads((tmp_path / "4" / "state" / "metadata").read_text())
    assert record["data_batches"] == 4


def test_microbatches_give_the_same_update(trainer):
    two = make_trainer(num_microbatches=2)
    batch = next(batches(0))
    results = []
    for t in (trainer, two):
        state, metrics = t.train_step(trainer.init_state(), shard_batch(batch, t.partitioner.batch_sharding))
        results.append((jax.device_get(state.params), float(metrics["loss"])))
    assert results[0][1] == pytest.approx(results[1][1], rel=1e-5)
    jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a, b, atol=2e-6), results[0][0], results[1][0])


def test_batch_size_must_split_over_microbatches():
    with pytest.raises(ValueError, match="BATCH_SIZE=6 must be a multiple"):
        make_trainer(num_microbatches=4).check_batch_size(6)


def test_the_frozen_buffer_gets_no_gradient_and_no_share_of_the_gradient_norm(trainer):
    """`final_logits_bias` (a buffer) is left out of differentiation: the step's `grad_norm` is the norm of the
    trainable parameters' gradients, and the buffer, set non-zero here so that it matters, stays as it was."""
    state = trainer.init_state()
    bias = np.linspace(-1.0, 1.0, CONFIG.vocab_size).astype(np.float32)
    params = {**jax.device_get(state.params), "final_logits_bias": bias}
    state = trainer.init_state(params)
    batch = shard_batch(next(batches(0)), trainer.partitioner.batch_sharding)

    def loss(p):
        _, sums = trainer.model.loss_fn(p, batch, None)
        return sums["loss_sum"] / np.maximum(float(sums["weight_sum"]), 1.0)

    grads = jax.grad(loss)(params)
    assert np.abs(grads["final_logits_bias"]).max() > 0  # differentiated, the buffer would have a gradient
    trainable = {k: v for k, v in grads.items() if k != "final_logits_bias"}
    new_state, metrics = trainer.train_step(state, batch)
    assert float(metrics["grad_norm"]) == pytest.approx(float(optax.tree.norm(trainable)), rel=1e-5)
    np.testing.assert_array_equal(jax.device_get(new_state.params["final_logits_bias"]), bias)
