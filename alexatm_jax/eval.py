"""`python -m alexatm_jax.eval --gin_file=gin/runs/eval.gin --gin.NAME=VALUE`: T5X-style evaluation of a checkpoint.

    python -m alexatm_jax.eval --gin_file=gin/runs/eval.gin \\
      --gin.CHECKPOINT_PATH="'runs/default_tiny'" --gin.EVAL_OUTPUT_DIR="'eval/default_tiny'" \\
      --gin.MIXTURE_OR_TASK_NAME="'flores101_1shot_from_eng'" --gin.FLORES101_DIR="'data/flores101_dataset'"

The work is `alexatm_jax.evaluation.evaluator.evaluate` (bound by the gin file). Writes per-task metrics (JSON)
and predictions (JSONL), `metrics.json` and the operative `config.gin` under EVAL_OUTPUT_DIR, then the results
report (`python -m alexatm_jax.report EVAL_OUTPUT_DIR`: the table beside the paper's numbers, the plots).
Exit codes: 0 done, 2 configuration or data error (the message says how to fix it).
"""

from __future__ import annotations

from absl import flags

from alexatm_jax import paths
from alexatm_jax.checkpoint import run_dir
from alexatm_jax.cli import app
from tasks.registry import TaskDataError, UnknownTaskError


def _define_flags(fv: flags.FlagValues) -> None:
    flags.DEFINE_string("tfds_data_dir", None, "TFDS data dir (SuperGLUE without jsonl, XSum, SQuAD v2 without "
                        "a JSON file).", flag_values=fv)


def _run(fv: flags.FlagValues, args: list[str]) -> int:
    del args
    from alexatm_jax.cli import gin_config
    from alexatm_jax.evaluation import evaluator, results_report
    from tasks import registry

    if fv.tfds_data_dir:
        registry.set_tfds_data_dir(str(paths.resolve(fv.tfds_data_dir)))
    gin_config.parse(fv.gin_file, fv.gin_bindings, fv.gin_search_paths)
    output_dir = paths.resolve(gin_config.macro("EVAL_OUTPUT_DIR"))
    gin_config.call(evaluator.evaluate)
    run_dir.operative_config_path(output_dir).write_text(gin_config.operative_config())
    text, written = results_report.write_report(output_dir)
    print(text)
    print("Wrote " + ", ".join(str(p) for p in written))
    return app.EXIT_OK


COMMAND = app.Command(name="eval", doc=__doc__, run=_run, define_flags=_define_flags, uses_gin=True,
                      multi_process=True, user_errors=(UnknownTaskError, TaskDataError))


def main(argv: list[str] | None = None) -> int:
    return app.main(COMMAND, argv)


if __name__ == "__main__":
    app.run(COMMAND)
