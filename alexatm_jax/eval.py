"""`python -m alexatm_jax.eval --gin_file=gin/runs/eval.gin --gin.NAME=VALUE`: T5X-style evaluation of a checkpoint.

    python -m alexatm_jax.eval --gin_file=gin/runs/eval.gin \\
      --gin.CHECKPOINT_PATH="'/path/checkpoint_or_model_dir'" --gin.EVAL_OUTPUT_DIR="'/tmp/eval'" \\
      --gin.MIXTURE_OR_TASK_NAME="'flores101_1shot_from_eng'" --gin.FLORES101_DIR="'/data/flores101_dataset'"

The work is `alexatm_jax.evaluation.evaluate` (bound by the gin file). Writes per-task metrics (JSON) and
predictions (JSONL), `metrics.json`, `results.md` and the operative `config.gin` under EVAL_OUTPUT_DIR.
Exit codes: 0 done, 2 configuration or data error (the message says how to fix it).
"""

from __future__ import annotations

import argparse
import importlib.util  # noqa: F401  gin-config 0.5.0 on Python 3.11 needs importlib.util imported first
import logging
import os
import sys


def _parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    from alexatm_jax import gin_utils

    bindings, rest = gin_utils.split_gin_args(argv)
    parser = argparse.ArgumentParser(prog="python -m alexatm_jax.eval", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gin_file", action="append", default=[], help="gin file(s), later ones override")
    parser.add_argument("--gin_bindings", action="append", default=[], help="NAME=VALUE (same as --gin.NAME=VALUE)")
    parser.add_argument("--gin_search_paths", action="append", default=[],
                        help="extra directories for gin files and includes (the repository's gin/ is built in)")
    parser.add_argument("--tfds_data_dir", default=None, help="TFDS data dir (SuperGLUE without jsonl, XSum)")
    parser.add_argument("--log_level", default="INFO")
    args = parser.parse_args(rest)
    return args, args.gin_bindings + bindings


def main(argv: list[str] | None = None) -> int:
    """Parses flags and gin, runs the evaluation; returns the exit code."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from alexatm_jax import gin_utils

    try:
        args, bindings = _parse_args(sys.argv[1:] if argv is None else argv)
    except gin_utils.GinConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alexatm_jax").setLevel(args.log_level.upper())

    import seqio

    import gin
    from alexatm_jax import evaluation
    from tasks.registry import UnknownTaskError

    if args.tfds_data_dir:
        seqio.set_tfds_data_dir_override(args.tfds_data_dir)
    try:
        gin_utils.parse(args.gin_file, bindings, args.gin_search_paths)
        output_dir = gin.query_parameter("%EVAL_OUTPUT_DIR")
        gin_utils.call(evaluation.evaluate)
    except (gin_utils.GinConfigError, evaluation.EvalSetupError, UnknownTaskError, FileNotFoundError) as e:
        # gin appends "In call to configurable ..." to errors raised inside a configurable: noise here.
        message = "\n".join(line for line in str(e).splitlines() if "In call to configurable" not in line)
        print(f"error: {message}", file=sys.stderr)
        return 2
    gin_utils.write_operative_config(output_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
