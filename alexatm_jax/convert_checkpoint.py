r"""`python -m alexatm_jax.convert_checkpoint`: between the official AlexaTM release (PyTorch / transformers
format) and our checkpoints, both ways.

Import (official -> orbax checkpoint that `alexatm_jax.load` reads):
  python -m alexatm_jax.convert_checkpoint --input=official/alexatm-20b --output=ckpt/alexatm-20b \
      [--scan_layers=true] [--dtype=float32|bfloat16] [--vocab=official/20b_tokenizer.model]
Export (ours -> official directory that `AlexaTMSeq2SeqForConditionalGeneration.from_pretrained` reads):
  python -m alexatm_jax.convert_checkpoint --export --input=ckpt/alexatm-20b --output=official/export \
      [--max_shard_size=10GB] [--dtype=...]

`.bin` files are read with `torch.load(weights_only=True)`, which never runs pickled code; safetensors need no
PyTorch. Exit codes: 0 done, 2 configuration or data error.
"""

from __future__ import annotations

import logging

from absl import flags

from alexatm_jax import paths
from alexatm_jax.checkpoint.official import convert
from alexatm_jax.cli import app

log = logging.getLogger("alexatm_jax.convert_checkpoint")


def _define_flags(fv: flags.FlagValues) -> None:
    flags.DEFINE_string("input", None, "Official directory (import), or our checkpoint or MODEL_DIR (--export).",
                        required=True, flag_values=fv)
    flags.DEFINE_string("output", None, "Directory to write.", required=True, flag_values=fv)
    flags.DEFINE_boolean("export", False, "Write the official format from our checkpoint instead of importing.",
                         flag_values=fv)
    flags.DEFINE_boolean("scan_layers", True, "Import: store layers stacked (scanned) or as layers_<i>.",
                         flag_values=fv)
    flags.DEFINE_enum("dtype", None, ["float32", "bfloat16"], "Parameter dtype to write, and on import the "
                      "model's compute dtype (import default float32; export default: as stored).", flag_values=fv)
    flags.DEFINE_string("vocab", None, "Import: SentencePiece model to record (default: 20b_tokenizer.model or "
                        "spiece.model in --input, if present); copied into --output.", flag_values=fv)
    flags.DEFINE_string("max_shard_size", convert.DEFAULT_MAX_SHARD_SIZE, "Export: largest safetensors shard "
                        "(10GB, 500MB).", flag_values=fv)
    flags.DEFINE_boolean("overwrite", False, "Replace an existing output.", flag_values=fv)


def _run(fv: flags.FlagValues, args: list[str]) -> int:
    del args
    source, target = paths.resolve(fv.input), paths.resolve(fv.output)
    if fv.export:
        out = convert.export_official(source, target, dtype=fv.dtype, max_shard_size=fv.max_shard_size,
                                      overwrite=fv.overwrite)
    else:
        out = convert.import_official(source, target, scan_layers=fv.scan_layers, dtype=fv.dtype or "float32",
                                      vocab_path=paths.resolve_optional(fv.vocab), overwrite=fv.overwrite)
    print(f"Wrote {out}", flush=True)
    return app.EXIT_OK


COMMAND = app.Command(name="convert_checkpoint", doc=__doc__, run=_run, define_flags=_define_flags)


def main(argv: list[str] | None = None) -> int:
    return app.main(COMMAND, argv)


if __name__ == "__main__":
    app.run(COMMAND)
