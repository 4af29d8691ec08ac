"""`python -m alexatm_jax.verify_checkpoint PATH`: is every step of a training MODEL_DIR (or a converted checkpoint
directory) intact? Each step is reported as intact or damaged, naming the item and the file.

    python -m alexatm_jax.verify_checkpoint runs/tiny
      step 2       intact (41 files, sizes and CRC-32 as written)
      step 4       DAMAGED: params/ocdbt.process_0/d/9f3c... has 512 bytes, expected 4,096 (truncated or overwritten)
      model_config.json  intact

This is the full check (`alexatm_jax.checkpoint.integrity`): every file's size and CRC-32 against the manifest
written when the checkpoint was saved (reads every byte); a step without a manifest (saved before manifests
existed, or killed between its commit and its manifest) has its structure checked and every array read back.
`load` and resume run the quick check only and fall back to the newest intact step.
Exit codes: 0 all intact, 1 something damaged, 2 not a checkpoint (the message says why).
"""

from __future__ import annotations

from pathlib import Path

from absl import flags

from alexatm_jax import paths
from alexatm_jax.checkpoint import integrity, run_dir
from alexatm_jax.checkpoint.manager import ITEMS as TRAINING_ITEMS
from alexatm_jax.checkpoint.params import read_error, read_tree
from alexatm_jax.cli import app
from alexatm_jax.errors import ConfigError, DataError

INCOMPLETE_MARKER = ".orbax-checkpoint-tmp"  # orbax's name for a step still (or never finished) being written


def verify_step(directory: Path, items: tuple[str, ...]) -> tuple[list[integrity.Damage], str]:
    """(damage, how it was checked) for one checkpoint or step directory."""
    damage = run_dir.check(directory, items, optional=(run_dir.DATA_ITERATOR_ITEM,), full=True)
    if integrity.has_manifest(directory) or damage:
        return damage, "sizes and CRC-32 as written"
    for item in items:
        if run_dir.ITEM_FORMATS.get(item) is integrity.ItemFormat.TREE:
            try:
                read_tree(directory / item)
            except Exception as e:  # noqa: BLE001  any failure to read an array is damage, whatever raised it
                cause = e.__cause__ if isinstance(e, DataError) and e.__cause__ else e
                damage.append(integrity.Damage(f"{item}/", f"cannot be read back ({read_error(cause)})"))
    return damage, "no manifest: structure checked and every array read back"


def verify(path: Path) -> list[tuple[str, str]]:
    """(name, verdict) rows for every step (or the checkpoint) and the model config; a verdict starting with
    "DAMAGED" marks damage."""
    found = run_dir.kind(path)
    if found not in (run_dir.DirKind.CHECKPOINT, run_dir.DirKind.TRAINING_RUN):
        raise DataError(f"{path} is not a checkpoint ({found.value}): pass a training MODEL_DIR or a directory "
                        "written by `python -m alexatm_jax.convert_checkpoint`.")
    if found is run_dir.DirKind.CHECKPOINT:
        targets = [(path.name, path, (run_dir.PARAMS_ITEM,))]
    else:
        targets = [(f"step {step}", d, TRAINING_ITEMS) for step, d in run_dir.step_dirs(path)]
    rows = []
    for name, directory, items in targets:
        damage, how = verify_step(directory, items)
        verdict = f"DAMAGED: {integrity.describe(damage, limit=5)}" if damage else f"intact ({how})"
        rows.append((name, verdict))
    if found is run_dir.DirKind.TRAINING_RUN and not targets:
        rows.append(("steps", "none saved yet"))
    for other in sorted(path.iterdir()):
        if other.name.endswith(run_dir.DAMAGED_SUFFIX) or run_dir.DAMAGED_SUFFIX + "-" in other.name:
            rows.append((other.name, "damaged step moved aside by resume (delete it when no longer needed)"))
        elif INCOMPLETE_MARKER in other.name:
            rows.append((other.name, "an interrupted save (never a step; removed when training resumes)"))
    try:
        run_dir.read_model_config(path)
        rows.append((run_dir.MODEL_CONFIG_FILE, "intact"))
    except DataError as e:
        rows.append((run_dir.MODEL_CONFIG_FILE, f"DAMAGED: {e}"))
    return rows


def _run(fv: flags.FlagValues, args: list[str]) -> int:
    del fv
    if len(args) != 1:
        raise ConfigError(f"Give one directory, got {len(args)} arguments {args}: e.g. "
                          "`python -m alexatm_jax.verify_checkpoint runs/default_tiny`.")
    path = paths.resolve(args[0])
    rows = verify(path)
    width = max(len(name) for name, _ in rows)
    print(f"{path}:")
    for name, verdict in rows:
        print(f"  {name:<{width}}  {verdict}")
    damaged = [name for name, verdict in rows if verdict.startswith("DAMAGED")]
    if damaged:
        print(f"{len(damaged)} damaged: {', '.join(damaged)}. `load` and resume use the newest intact step.")
        return app.EXIT_FAILURE
    print("All intact.")
    return app.EXIT_OK


COMMAND = app.Command(name="verify_checkpoint", doc=__doc__, run=_run, positional="MODEL_DIR_OR_CHECKPOINT")


def main(argv: list[str] | None = None) -> int:
    return app.main(COMMAND, argv)


if __name__ == "__main__":
    app.run(COMMAND)
