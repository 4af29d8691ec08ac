"""benchmarks/input_pipeline.py: its stages cover the real preprocessing chains, its figures hang together, and the
command runs as a user types it."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import seqio

import tasks.default_tasks  # noqa: F401  (registers the mixtures)
import tasks.pretraining  # noqa: F401

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench(load_benchmark):
    return load_benchmark("input_pipeline")


@pytest.mark.parametrize("mixture", ["alexatm_default_pretrain", "alexatm_pretrain"])
def test_every_task_chain_maps_onto_the_stages_in_order(bench, mixture):
    # A preprocessor added to the chain without a stage fails here, not silently in the benchmark's table.
    for task in seqio.get_mixture_or_task(mixture).tasks:
        assert [stage for stage, _ in bench.stage_chain(task.preprocessors)] == [
            "text", "tokenise", "documents", "objective"], task.name


def test_accelerator_need_matches_six_n_per_token(bench):
    """tokens/s at 50% MFU on an H100 agree with 6 x parameters per token (the formula adds attention, drops
    embeddings: within 15%)."""
    import gin
    from alexatm_jax.model.config import ModelConfig
    from alexatm_jax.model.encoder_decoder import EncoderDecoderModel

    lengths = {"inputs": 1024, "targets": 1024}
    try:
        need = bench.accelerator_need("gin/models/alexatm_1b.gin", "H100", 0.5, lengths)
        config = gin.get_configurable(ModelConfig)()
    finally:
        gin.clear_config()
    params = EncoderDecoderModel(config).num_params()
    six_n = 0.5 * 989e12 / (6 * params)  # token pairs (one encoder + one decoder position) per second
    assert need["tokens_per_s"] == pytest.approx(2 * six_n, rel=0.15)
    assert need["tokens_per_s"] == pytest.approx(need["rows_per_s"] * 2048)


@pytest.mark.parametrize("flag", [
    "--mixtures=alexatm_pretrian", "--mc4_chars=1000", "--device=H1000", "--model_gin=gin/models/alexatm_1bb.gin",
    "--languages=en,xx", "--vocabulary=~/no_such.model", "--rows=0", "--mfu_goal=50",
])
def test_bad_flags_exit_2_naming_the_flag(bench, flag, capsys):
    with pytest.raises(SystemExit) as exit_info:
        bench.parse_args([flag])
    assert exit_info.value.code == 2
    assert flag.split("=")[0] in capsys.readouterr().err


def _tables(text: str) -> list[list[dict[str, str]]]:
    """The markdown tables of the output, as rows of {column: cell}."""
    tables, header = [], None
    for line in text.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if header is None:
            header = cells
            tables.append([])
        elif not set(line) <= set("|-"):
            tables[-1].append(dict(zip(header, cells)))
    return tables


def _number(cell: str) -> float:
    return float(cell.replace(",", "").rstrip("%"))


@pytest.mark.slow
def test_the_command_prints_its_tables():
    """As a user runs it (tiny sizes, one language): stage and end-to-end tables, the need, the goals."""
    command = [sys.executable, "benchmarks/input_pipeline.py", "--input_length=64", "--target_length=64",
               "--documents=100", "--rows=16", "--warmup_rows=8", "--docs_per_source=10", "--languages=en"]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    stages, end_to_end, goals = _tables(result.stdout)
    mixtures = ["alexatm_default_pretrain", "alexatm_pretrain"]
    for mixture in mixtures:
        rows = [r for r in stages if r["mixture"] == mixture]
        assert [r["stage"] for r in rows][-1] == "total" and len(rows) == 7
        assert sum(_number(r["share"]) for r in rows[:-1]) == pytest.approx(100, abs=4)
        assert _number(rows[-1]["CPU ms/row"]) == pytest.approx(sum(_number(r["CPU ms/row"]) for r in rows[:-1]),
                                                                rel=0.05)
    assert [r["mixture"] for r in end_to_end] == mixtures
    assert all(30 <= _number(r["fill"]) <= 100 and _number(r["rows"]) == 16 for r in end_to_end)
    assert re.search(r"Need: alexatm_1b on H100 at 50% MFU: .* tokens/s per accelerator", result.stdout)
    assert len(goals) == 6 and all(_number(r["ratio"]) > 0 for r in goals)
    assert "Traceback" not in result.stderr and "WARNING" not in result.stderr  # a quiet console
