"""The fault-tolerant training loop: resume, step, log, evaluate, checkpoint, stop on SIGTERM or a bad loss.

TensorFlow-free: batches come from callables returning iterators of host-local numpy batches, so any input
pipeline plugs in (`alexatm_jax.training.input_pipeline` for seqio). One step consumes one global batch, so the data
position of a checkpoint at step n is batch n. An iterator that can save its position
(`checkpoint.data_iterator.CheckpointableIterator`) saves it with every checkpoint and a resumed run restores
it, so resuming costs no re-reading of the data; other iterators (and steps saved without a position) resume
by skipping n batches. Metrics are fetched one step late, keeping one step queued on the device, and nothing
else waits for the device between steps (preemption is agreed without it, `training.preemption`); before each
checkpoint metrics are flushed, so a state whose loss or gradient was not finite is never saved.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import jax
import numpy as np

from alexatm_jax import console
from alexatm_jax.checkpoint.data_iterator import CheckpointableIterator
from alexatm_jax.checkpoint.manager import TrainCheckpointer
from alexatm_jax.model import flops as flops_lib
from alexatm_jax.partitioning import shard_batch
from alexatm_jax.training.metrics import MetricsWriter, add_sums, loss_metrics, summarize_window
from alexatm_jax.training.preemption import PreemptionWatch
from alexatm_jax.training.trainer import Trainer, TrainState

log = logging.getLogger(__name__)
PREEMPTED_EXIT_CODE = 143  # 128 + SIGTERM, what schedulers expect from a terminated job
# Record fields that change what a resumed run computes; a mismatch is reported.
DATA_FIELDS = ("train_dataset", "batch_size", "task_feature_lengths", "data_seed", "num_shards")


class NonFiniteLossError(FloatingPointError):
    """The loss or gradient norm of a step was NaN or infinite; the run stopped without saving it."""

    def __init__(self, step: int, loss: float, grad_norm: float, last_checkpoint: int | None, model_dir: Path):
        self.step = step
        where = (f"the last good checkpoint is step {last_checkpoint} in {model_dir}" if last_checkpoint is not None
                 else "no checkpoint was saved")
        super().__init__(
            f"Non-finite loss at step {step} (loss={loss}, grad_norm={grad_norm}): training stopped and this "
            f"state was not saved; {where}. Lower the learning rate, raise the warmup, or check the data.")


@dataclasses.dataclass
class TrainResult:
    """What a run did (also printed as the final summary and written to MODEL_DIR/train_summary.json)."""

    start_step: int
    final_step: int
    first_loss: float | None = None
    last_loss: float | None = None
    tokens_per_s: float | None = None
    step_time_s: float | None = None
    mfu: float | None = None
    compile_s: float = 0.0
    train_s: float = 0.0
    last_eval_loss: float | None = None
    checkpoint: str | None = None
    preempted: bool = False
    losses: list[float] = dataclasses.field(default_factory=list)


def run_training(
    *,
    trainer: Trainer,
    checkpointer: TrainCheckpointer,
    model_dir: str | Path,
    train_steps: int,
    train_batches: Callable[[int], Iterator[dict[str, np.ndarray]]],
    eval_batches: Callable[[], Iterable[dict[str, np.ndarray]]] | None = None,
    record: dict[str, Any] | None = None,
    initial_params: Any = None,
    log_every_steps: int = 100,
    eval_every_steps: int | None = None,
    peak_flops_per_device: float | None = None,
    progress_bar: bool = True,
    throttle_s: float = 0.0,
    restore_data_iterator: bool = True,
) -> TrainResult:
    """Trains from the latest checkpoint in `model_dir` (or from scratch / `initial_params`) to `train_steps`.

    `train_batches(n)` yields this process's rows of global batches n, n+1, ...; `record` (JSON-serialisable)
    is stored with each checkpoint. `restore_data_iterator=False` resumes by skipping batches even when the
    checkpoint saved the input position (after changing the data streams). `throttle_s` sleeps after each step
    (tests use it to interrupt a run).
    """
    model_dir = Path(model_dir)
    record = dict(record or {})
    main = jax.process_index() == 0
    writer = MetricsWriter(model_dir, enabled=main)
    start = resumed = checkpointer.latest_intact_step()
    if start is not None:
        abstract = trainer.abstract_state()
        params, opt_state, saved = checkpointer.restore(start, abstract.params, abstract.opt_state)
        state = trainer.state_from(params, opt_state, int(saved["step"]))
        _check_record(saved, record)
        data_position = int(saved.get("data_batches", start))
        log.info("Resumed from step %d (data batch %d) in %s", start, data_position, model_dir)
    else:
        state = trainer.init_state(initial_params)
        start, data_position = 0, 0
    result = TrainResult(start_step=start, final_step=start)
    if start >= train_steps:
        log.info("MODEL_DIR %s is already at step %d >= TRAIN_STEPS=%d: nothing to do.", model_dir, start,
                 train_steps)
        result.checkpoint = str(model_dir / str(start))
        writer.close()
        return result

    batches = _resumed_batches(train_batches, checkpointer, resumed, data_position, restore_data_iterator)
    saves_position = isinstance(batches, CheckpointableIterator)
    num_devices = jax.device_count()
    peak = flops_lib.peak_flops_per_device(jax.devices()[0].device_kind, peak_flops_per_device)
    config = trainer.model.config
    preemption = PreemptionWatch(start_step=start, fallback_every_steps=log_every_steps)
    bar = console.progress_bar(total=train_steps, initial=start, desc="train", unit="step",
                               enabled=progress_bar and main)
    step = start
    window: list[dict[str, float]] = []
    pending: list[tuple[int, Any]] = []  # (step number after the update, device metrics)
    total_tokens, total_flops, train_s = 0.0, 0.0, 0.0

    def save(at_step: int, state: TrainState) -> None:
        checkpointer.save(at_step, state.params, state.opt_state, {**record, "data_batches": data_position},
                          data_iterator=batches if saves_position else None)
        result.checkpoint = str(model_dir / str(at_step))

    def fetch(keep_last: bool) -> None:
        """Brings pending metrics to the host (all but the step just queued when `keep_last`) and checks them.

        Fetching the previous step's metrics every step is the loop's one wait for the device, hidden behind the
        queued step. Deferring them to one bulk transfer per log window was tried and was slower on a GPU: each
        array still costs its own transfer, then outside the shadow of a running step.
        """
        while len(pending) > (1 if keep_last else 0):
            at, device_metrics = pending.pop(0)
            m = {k: float(v) for k, v in jax.device_get(device_metrics).items()}
            if not (math.isfinite(m["loss"]) and math.isfinite(m["grad_norm"])):
                checkpointer.wait()
                raise NonFiniteLossError(at, m["loss"], m["grad_norm"], checkpointer.latest_step(), model_dir)
            result.losses.append(m["loss"])
            window.append(m)

    try:
        host_batch = _next_batch(batches, step)
        lengths = (host_batch["encoder_input_tokens"].shape[1], host_batch["decoder_input_tokens"].shape[1])
        step_flops = lambda m: flops_lib.train_flops(
            config, encoder_tokens=m["encoder_tokens"], decoder_tokens=m["decoder_tokens"],
            encoder_length=lengths[0], decoder_length=lengths[1])
        t0 = time.perf_counter()
        batch = shard_batch(host_batch, trainer.partitioner.batch_sharding)
        trainer.compile_train_step(batch)
        result.compile_s = time.perf_counter() - t0
        log.info("Compiled the train step in %.1f s", result.compile_s)
        window_start = time.perf_counter()
        while step < train_steps:
            state, device_metrics = trainer.train_step(state, batch)
            step += 1
            data_position += 1
            pending.append((step, device_metrics))
            fetch(keep_last=True)
            last = step == train_steps
            if step % log_every_steps == 0 or last:
                fetch(keep_last=False)
                seconds = time.perf_counter() - window_start
                train_s += seconds
                summary = summarize_window(window, seconds, step_flops=step_flops, num_devices=num_devices,
                                           peak_flops_per_device=peak)
                total_tokens += summary["tokens_per_s"] * seconds
                total_flops += sum(step_flops(m) for m in window)
                writer.write(step, "train", summary)
                bar.set_postfix(loss=f"{summary['loss']:.3f}", tok_s=f"{summary['tokens_per_s']:.0f}")
                result.last_loss = summary["loss"]
                window.clear()
                window_start = time.perf_counter()
            if checkpointer.should_save(step) or last:
                fetch(keep_last=False)
                save(step, state)
            if eval_batches is not None and eval_every_steps and (step % eval_every_steps == 0 or last):
                fetch(keep_last=False)
                eval_summary = evaluate(trainer, state.params, eval_batches())
                if eval_summary:
                    writer.write(step, "validation", eval_summary)
                    result.last_eval_loss = eval_summary.get("loss")
                    log.info("step %d validation %s", step, _fmt(eval_summary))
                window_start = time.perf_counter()
            bar.update(1)
            if preemption.reached(step) and not last:
                fetch(keep_last=False)
                save(step, state)
                checkpointer.wait()
                log.warning("SIGTERM: saved step %d to %s; exiting.", step, model_dir)
                result.preempted = True
                break
            if throttle_s:
                time.sleep(throttle_s)
            if not last:
                host_batch = _next_batch(batches, step)
                batch = shard_batch(host_batch, trainer.partitioner.batch_sharding)
        fetch(keep_last=False)
        checkpointer.wait()
    finally:
        preemption.close()
        bar.close()
        writer.close()
    result.final_step = step
    result.first_loss = result.losses[0] if result.losses else None
    result.train_s = train_s
    if train_s > 0:
        result.tokens_per_s = total_tokens / train_s
        result.step_time_s = train_s / max(step - start, 1)
        result.mfu = flops_lib.mfu(total_flops, train_s, num_devices, peak)
    return result


def evaluate(trainer: Trainer, params: Any, batches: Iterable[dict[str, np.ndarray]]) -> dict[str, float]:
    """Loss, accuracy and per-objective losses over `batches` (this process's rows of each global batch)."""
    sums: dict[str, float] = {}
    for host_batch in batches:
        batch = shard_batch(host_batch, trainer.partitioner.batch_sharding)
        add_sums(sums, {k: float(v) for k, v in jax.device_get(trainer.eval_step(params, batch)).items()})
    return loss_metrics(sums) if sums else {}


def _resumed_batches(train_batches: Callable[[int], Iterator[dict[str, np.ndarray]]], checkpointer: TrainCheckpointer,
                     step: int | None, data_position: int, restore: bool) -> Iterator[dict[str, np.ndarray]]:
    """The batches from `data_position` on: the position saved at `step` restored when there is one, else by
    skipping (which re-reads every batch skipped)."""
    if step is None or data_position == 0:
        return train_batches(0)
    if restore and checkpointer.has_data_iterator(step):
        batches = train_batches(0)
        if isinstance(batches, CheckpointableIterator):
            checkpointer.restore_data_iterator(step, batches)
            log.info("Restored the input position (batch %d) saved at step %d.", data_position, step)
            return batches
        log.warning("Step %d saved an input position, but this run's batches cannot restore one: skipping %d "
                    "batches instead.", step, data_position)
    batches = train_batches(data_position)
    if isinstance(batches, CheckpointableIterator):
        why = ("it saved none (written before input positions were saved)" if restore
               else "restore_data_iterator=False")
        log.warning("Resuming the data at batch %d of step %d by skipping batches, because %s: the skipped "
                    "batches are read and preprocessed again. Later checkpoints save the position.",
                    data_position, step, why)
    return batches


def _next_batch(batches: Iterator[dict[str, np.ndarray]], step: int) -> dict[str, np.ndarray]:
    try:
        return next(batches)
    except StopIteration:
        raise RuntimeError(f"The training data ran out after {step} steps: train with num_epochs=None "
                           "(repeat) or fewer TRAIN_STEPS.") from None


def _check_record(saved: dict[str, Any], current: dict[str, Any]) -> None:
    changed = {k: (saved.get(k), current.get(k)) for k in DATA_FIELDS
               if k in saved and k in current and saved.get(k) != current.get(k)}
    if changed:
        log.warning("Resuming with different data settings %s (saved, now): the data position (batch index) "
                    "no longer points to the same examples.", changed)


def _fmt(values: dict[str, float]) -> str:
    return " ".join(f"{k}={v:.4g}" for k, v in values.items())
