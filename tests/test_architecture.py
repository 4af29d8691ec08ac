"""The layer rules of docs/ARCHITECTURE.md, checked from the source (an AST walk over every import).

Dependencies point one way: entry points -> api / training / evaluation -> decoding -> model -> kernels, with
checkpoint below training and api, partitioning reached by training and inference, small utilities
(`errors`, `paths`, `shapes`, `console`) at the bottom. `tasks/` and `kernels_pallas/` import nothing from
`alexatm_jax`; decoding imports no model; only the CLI layer imports gin; the model, decoding, kernels,
checkpoints, partitioning and the API never import seqio or TensorFlow (GPU machines have neither). No import
circles, function-local imports included (`if TYPE_CHECKING:` blocks excepted).
"""

from __future__ import annotations

import ast
import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("alexatm_jax", "tasks", "kernels_pallas")
UTILITIES = ("alexatm_jax.errors", "alexatm_jax.paths", "alexatm_jax.shapes", "alexatm_jax.console")
ENTRY_POINTS = tuple(f"alexatm_jax.{name}" for name in (
    "train", "eval", "infer", "convert_checkpoint", "verify_checkpoint", "plan", "demo", "report", "__main__"))
API = ("alexatm_jax.api", "alexatm_jax.prompting", "alexatm_jax.batching", "alexatm_jax.inputs")
NO_TF = ("seqio", "tensorflow", "tensorflow_datasets", "tensorflow_text", "gin")


@dataclasses.dataclass(frozen=True)
class Rule:
    """Modules under `layer` may import project modules under `allowed` only, and no `forbidden` library."""

    layer: tuple[str, ...]
    allowed: tuple[str, ...]
    forbidden: tuple[str, ...] = ()
    exceptions: tuple[str, ...] = ()  # modules of the layer that `allowed_in_exceptions` widens
    allowed_in_exceptions: tuple[str, ...] = ()


RULES = (
    Rule(("kernels_pallas",), ("kernels_pallas",), NO_TF),
    Rule(("tasks",), ("tasks",)),
    Rule(UTILITIES, UTILITIES, NO_TF),
    Rule(("alexatm_jax.model",), ("alexatm_jax.model", "kernels_pallas", *UTILITIES), (*NO_TF, "orbax")),
    Rule(("alexatm_jax.decoding",), ("alexatm_jax.decoding", *UTILITIES), NO_TF),
    Rule(("alexatm_jax.partitioning",), UTILITIES, NO_TF),
    Rule(("alexatm_jax.checkpoint",), ("alexatm_jax.checkpoint", "alexatm_jax.model.config", *UTILITIES), NO_TF),
    Rule(("alexatm_jax.training",),
         ("alexatm_jax.training", "alexatm_jax.model", "alexatm_jax.checkpoint", "alexatm_jax.partitioning",
          *UTILITIES), NO_TF,
         exceptions=("alexatm_jax.training.input_pipeline",), allowed_in_exceptions=("tasks", "seqio", "tensorflow")),
    Rule(API, (*API, "alexatm_jax.decoding", "alexatm_jax.model", "alexatm_jax.checkpoint",
               "alexatm_jax.partitioning", "tasks.vocabulary", *UTILITIES), NO_TF),
    Rule(("alexatm_jax.evaluation",),
         ("alexatm_jax.evaluation", *API, "alexatm_jax.model", "alexatm_jax.checkpoint", "alexatm_jax.partitioning",
          "tasks", *UTILITIES), ("gin",)),
    Rule(("alexatm_jax.cli",), ("alexatm_jax.cli", "alexatm_jax.training.distributed", *UTILITIES)),
    Rule(("alexatm_jax.__init__",), ("alexatm_jax.api", "alexatm_jax.model.config"), NO_TF),
)
GIN_ALLOWED = ("alexatm_jax.cli.gin_config",)


@dataclasses.dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    local: bool  # inside a function


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def _type_checking_block(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def imports_of(path: Path, root: Path, known: set[str]) -> Iterator[Import]:
    """Every import in a file (module level and inside functions), `from p import m` resolved to `p.m` when
    `p.m` is a module."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def visit(node: ast.AST, local: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if _type_checking_block(child):
                continue
            inner = local or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield Import(name, alias.name, child.lineno, inner)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")
                    anchor = anchor[:len(anchor) - child.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in child.names:
                    candidate = f"{base}.{alias.name}"
                    yield Import(name, candidate if candidate in known else base, child.lineno, inner)
            yield from visit(child, inner)

    yield from visit(ast.parse(path.read_text(), filename=str(path)), False)


def source_files(root: Path) -> list[Path]:
    return sorted(p for package in PACKAGES for p in (root / package).rglob("*.py"))


def _under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def violations(root: Path) -> list[str]:
    """Every import that breaks a rule, and every import circle, as readable lines."""
    files = source_files(root)
    known = {module_name(f, root) for f in files}
    found = [imp for f in files for imp in imports_of(f, root, known)]
    problems = []
    for imp in found:
        ours = _under(imp.imported, PACKAGES)
        if imp.imported.split(".")[0] == "gin" and not _under(imp.importer, GIN_ALLOWED):
            problems.append(f"{imp.importer}:{imp.line} imports gin: only the CLI layer may")
        if _under(imp.importer, ENTRY_POINTS):
            continue
        for rule in RULES:
            layer_module = imp.importer if not imp.importer == "alexatm_jax" else "alexatm_jax.__init__"
            if not _under(layer_module, rule.layer):
                continue
            allowed = rule.allowed
            if _under(imp.importer, rule.exceptions):
                allowed = (*allowed, *rule.allowed_in_exceptions)
            if ours and not _under(imp.imported, allowed):
                problems.append(f"{imp.importer}:{imp.line} imports {imp.imported}: not allowed below "
                                f"{rule.layer[0]}")
            if not ours and _under(imp.imported, rule.forbidden) and not _under(imp.imported, allowed):
                problems.append(f"{imp.importer}:{imp.line} imports {imp.imported}: {rule.layer[0]} must not")
            break
    problems += [f"import circle: {' -> '.join(cycle)}" for cycle in cycles(found, known)]
    return problems


def cycles(found: list[Import], known: set[str]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each as a list of module names."""
    graph: dict[str, set[str]] = {m: set() for m in known}
    for imp in found:
        if imp.imported in known and imp.imported != imp.importer:
            graph[imp.importer].add(imp.imported)
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return out


def test_the_source_follows_the_layer_rules():
    assert violations(REPO) == []


@pytest.fixture
def source_copy(tmp_path):
    for package in PACKAGES:
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "data"))
    return tmp_path


def _append(path: Path, code: str) -> None:
    path.write_text(path.read_text() + "\n" + code + "\n")


@pytest.mark.parametrize("target,code,expected", [
    ("alexatm_jax/model/layers.py", "from alexatm_jax.training import trainer", "not allowed below alexatm_jax.model"),
    ("alexatm_jax/decoding/sampling.py", "def f():\n    from alexatm_jax.model import network",
     "not allowed below alexatm_jax.decoding"),
    ("kernels_pallas/masks.py", "import alexatm_jax", "not allowed below kernels_pallas"),
    ("tasks/prompts.py", "from alexatm_jax import api", "not allowed below tasks"),
    ("alexatm_jax/model/network.py", "import seqio", "alexatm_jax.model must not"),
    ("alexatm_jax/api.py", "import tensorflow as tf", "alexatm_jax.api must not"),
    ("alexatm_jax/training/loop.py", "import gin", "only the CLI layer may"),
    ("alexatm_jax/checkpoint/run_dir.py", "from alexatm_jax.training.trainer import TrainState",
     "not allowed below alexatm_jax.checkpoint"),
])
def test_a_forbidden_import_is_caught(source_copy, target, code, expected):
    _append(source_copy / target, code)
    problems = violations(source_copy)
    assert any(expected in p for p in problems), problems


def test_an_import_circle_is_caught(source_copy):
    _append(source_copy / "alexatm_jax/paths.py", "def f():\n    from alexatm_jax import shapes")
    _append(source_copy / "alexatm_jax/shapes.py", "from alexatm_jax import paths")
    assert any("import circle" in p and "alexatm_jax.paths" in p for p in violations(source_copy))


def test_type_checking_imports_are_exempt(source_copy):
    _append(source_copy / "alexatm_jax/decoding/sampling.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from alexatm_jax.model import network")
    assert violations(source_copy) == []
