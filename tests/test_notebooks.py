"""notebooks/*.ipynb: committed without outputs, linked from the README with Colab badges, and each run top to
bottom in a fresh kernel (nbclient), as Jupyter runs it: from the notebooks/ folder of this checkout, in the
user's environment. A checkout where the main job ran (`runs/default_tiny`, as in CI) lends its model to the
notebooks that load one; without it they train the tiny model themselves.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.main_job_fixtures import REPO, user_environment

NOTEBOOK_DIR = REPO / "notebooks"
NOTEBOOKS = ("quickstart", "pretraining_objective", "train_and_resume", "sharding", "few_shot_evaluation",
             "attention_kernels")
COLAB_URL = "https://colab.research.google.com/github/alexatm-jax/alexatm-jax/blob/main/notebooks/{}.ipynb"
CELL_TIMEOUT_S = 900
# What library start-up noise looks like (the notebooks silence it as the commands do: `app.configure_console`).
NOISE = re.compile(r"oneDNN custom operations|absl::InitializeLog|cuInit|^WARNING:absl|^I0000 ", re.M)


def read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)


def code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code"]


def execute(path: Path) -> tuple[nbformat.NotebookNode, float]:
    """Runs the notebook at `path` in a fresh python3 kernel started in its folder; returns it with its outputs
    and the wall time. A failing cell raises `nbclient.exceptions.CellExecutionError` naming the cell."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    started = time.perf_counter()
    client.execute(env=user_environment())
    return nb, time.perf_counter() - started


def outputs(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [o for c in code_cells(nb) for o in c.get("outputs", [])]


def test_every_notebook_is_there():
    assert sorted(p.stem for p in NOTEBOOK_DIR.glob("*.ipynb")) == sorted(NOTEBOOKS)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_without_outputs_or_execution_counts(name):
    nb = read(name)
    nbformat.validate(nb)
    for index, cell in enumerate(code_cells(nb)):
        assert cell.outputs == [], f"{name}.ipynb code cell {index} has outputs: clear them before committing"
        assert cell.execution_count is None, f"{name}.ipynb code cell {index} has an execution count"
    assert "widgets" not in nb.metadata, f"{name}.ipynb carries widget state: clear it before committing"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_first_cell_installs_only_in_colab_and_nothing_names_a_local_path(name):
    nb = read(name)
    first = code_cells(nb)[0].source
    guard = 'if "google.colab" in sys.modules:'
    assert guard in first and '"pip", "install"' in first
    assert first.index(guard) < first.index('"pip", "install"')  # pip runs only under the Colab check
    for cell in nb.cells:
        assert not re.search(r"(?<![\w.])(/work|/home|/Users|/tmp)/", cell.source), (name, cell.source[:200])


def test_readme_links_every_notebook_with_an_open_in_colab_badge():
    readme = (REPO / "README.md").read_text()
    for name in NOTEBOOKS:
        url = COLAB_URL.format(name)
        assert re.search(rf"\[!\[Open In Colab\]\([^)]*colab-badge\.svg\)\]\({re.escape(url)}\)", readme), name


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_top_to_bottom_with_a_plot_and_no_noise(name):
    nb, seconds = execute(NOTEBOOK_DIR / f"{name}.ipynb")
    print(f"{name}.ipynb ran in {seconds:.0f} s")
    shown = outputs(nb)
    assert not [o for o in shown if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in shown), f"{name}.ipynb drew no image"
    stderr = "".join(o.text for o in shown if o.output_type == "stream" and o.name == "stderr")
    assert not NOISE.search(stderr), f"{name}.ipynb printed library noise:\n{stderr[-2000:]}"
