"""`python -m alexatm_jax.report EVAL_OUTPUT_DIR`: the results of an evaluation run beside the paper's numbers.

    python -m alexatm_jax.report eval/alexatm_20b

Prints one table of every task scored in EVAL_OUTPUT_DIR (its `<task>-metrics.json` files) with the paper's
published number where one is known (docs/PAPER.md names the source), and writes there `results.md`,
`flores101_summary.md` and `flores101_spbleu.png` (a source x target heat map) when Flores-101 was scored, and
`superglue.png` (a bar chart beside the paper) when SuperGLUE was. `python -m alexatm_jax.eval` runs it at the end.
Exit codes: 0 done, 2 no results there (the message says what to run).
"""

from __future__ import annotations

from absl import flags

from alexatm_jax import paths
from alexatm_jax.cli import app
from alexatm_jax.errors import ConfigError


def _run(fv: flags.FlagValues, args: list[str]) -> int:
    del fv
    from alexatm_jax.evaluation import results_report

    if len(args) != 1:
        raise ConfigError(f"Give one EVAL_OUTPUT_DIR, got {len(args)} arguments {args}: e.g. "
                          "`python -m alexatm_jax.report eval/my_run`.")
    output_dir = paths.resolve(args[0])
    text, written = results_report.write_report(output_dir)
    print(text)
    print("Wrote " + ", ".join(str(p) for p in written))
    return app.EXIT_OK


COMMAND = app.Command(name="report", doc=__doc__, run=_run, positional="EVAL_OUTPUT_DIR")


def main(argv: list[str] | None = None) -> int:
    return app.main(COMMAND, argv)


if __name__ == "__main__":
    app.run(COMMAND)
