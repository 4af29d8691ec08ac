"""Gin for the entry points (T5X style): `--gin_file`, `--gin.NAME=VALUE`, search paths and errors that say
how to fix them. Uses gin through its public API only.

**Finding gin files.** A relative `--gin_file` or `include` is looked up in the project's own gin directories
first (the repository's `gin/`, then the installed copy under `<prefix>/share/alexatm_jax/gin`; a leading `gin/`
is optional), then in `--gin_search_paths`, then in the working directory. gin itself never resolves a relative
name: gin-config 0.5.0 would try the working directory first and then turn `include 'runs/x.gin'` into
`importlib.util.find_spec("runs")`, which a user folder named `runs/` breaks (docs/STACK.md). So each file is
copied, with every `include` rewritten to the absolute path of its (likewise rewritten) copy, into a temporary
directory, and gin parses the copies; error messages name the original files.

Library modules never import gin; gin files register what they bind with `from __gin__ import
dynamic_registration`.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import importlib.util  # noqa: F401  gin-config 0.5.0 on Python 3.11 needs importlib.util imported first
import inspect
import os
import re
import sys
import tempfile
import tokenize
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gin
from alexatm_jax import paths
from alexatm_jax.errors import ConfigError

# Example values shown when a macro is missing.
MACRO_EXAMPLES = {
    "MODEL_DIR": "\"'runs/my_model'\"",
    "MIXTURE_OR_TASK_NAME": "\"'alexatm_default_pretrain'\"",
    "TASK_FEATURE_LENGTHS": "\"{'inputs': 512, 'targets': 512}\"",
    "TRAIN_STEPS": "1000",
    "BATCH_SIZE": "32",
    "CHECKPOINT_PATH": "\"'runs/my_model'\"",
    "EVAL_OUTPUT_DIR": "\"'eval/my_model'\"",
    "INFER_OUTPUT_DIR": "\"'infer/my_model'\"",
    "INPUT_FILE": "\"'prompts.jsonl'\"",
}
_INCLUDE = re.compile(r"""^(?P<indent>\s*)include\s+(?P<quote>['"])(?P<name>.+?)(?P=quote)\s*$""", re.M)
_BINDING = re.compile(r"^\s*(?P<name>[\w./]+)\s*=(?P<value>.*)$", re.S)
_MACRO_LINE = re.compile(r"^(?P<name>[A-Za-z_]\w*)\s*=", re.M)
_REQUIRED_LINE = re.compile(r"^(?P<name>[\w./]+)\s*=\s*%gin\.REQUIRED\s*$", re.M)
_IMPORT_LINE = re.compile(r"^(?:from\s+(?P<package>[\w.]+)\s+)?import\s+(?P<module>[\w.]+)(?:\s+as\s+(?P<alias>\w+))?",
                          re.M)


class GinConfigError(ConfigError):
    """A gin file or binding is missing, misspelt or incomplete; the message says how to fix it."""


def project_search_paths() -> list[Path]:
    """The project's gin directories: the repository's `gin/` (a source checkout) and the installed copy."""
    repo_gin = Path(__file__).resolve().parents[2] / "gin"
    installed = Path(sys.prefix) / "share" / "alexatm_jax" / "gin"
    return [p for p in (repo_gin, installed) if p.is_dir()]


def resolve_gin_file(name: str, search_paths: Sequence[Path] = ()) -> Path:
    """The absolute path of gin file `name` (see the module docstring for the order), or `GinConfigError`."""
    expanded = os.path.expanduser(name)
    if os.path.isabs(expanded):
        if os.path.isfile(expanded):
            return Path(expanded)
        raise GinConfigError(f"Gin file {name} not found.")
    variants = [expanded]
    if expanded.startswith("gin/"):
        variants.append(expanded[len("gin/"):])
    roots = [*project_search_paths(), *search_paths]
    for root in roots:
        for variant in variants:
            if (root / variant).is_file():
                return root / variant
    cwd_path = paths.resolve(expanded)
    if cwd_path.is_file():
        return cwd_path
    known = sorted(str(p.relative_to(root)) for root in project_search_paths() for p in root.glob("*/*.gin"))
    close = difflib.get_close_matches(expanded.removeprefix("gin/"), known, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise GinConfigError(f"Gin file {name!r} not found in {[str(r) for r in roots]} or the working directory."
                         f"{hint}")


@dataclasses.dataclass
class _Materialised:
    """Rewritten copies of gin files with absolute includes, and the way back to the original names."""

    directory: Path
    originals: dict[Path, Path] = dataclasses.field(default_factory=dict)

    def copy_of(self, source: Path, search_paths: Sequence[Path], stack: tuple[Path, ...] = ()) -> Path:
        if source in stack:
            chain = " -> ".join(str(p) for p in (*stack, source))
            raise GinConfigError(f"Gin files include each other in a circle: {chain}.")
        for copy, original in self.originals.items():
            if original == source:
                return copy

        def rewrite(match: re.Match) -> str:
            try:
                included = resolve_gin_file(match.group("name"), search_paths)
            except GinConfigError as e:
                raise GinConfigError(f"{source}: include {match.group('name')!r}: {e}") from None
            copy = self.copy_of(included, search_paths, (*stack, source))
            return f"{match.group('indent')}include '{copy}'"

        text = _INCLUDE.sub(rewrite, source.read_text())
        copy = self.directory / f"{len(self.originals)}_{source.name}"
        copy.write_text(text)
        self.originals[copy] = source
        return copy

    def explain(self, message: str) -> str:
        for copy, original in self.originals.items():
            message = message.replace(str(copy), str(original))
        return message


def parse(gin_files: Sequence[str], gin_bindings: Sequence[str] = (),
          search_paths: Sequence[str] = ()) -> None:
    """Parses files then bindings (later ones win) and finalises the config, or raises `GinConfigError`."""
    if not gin_files:
        experiments = sorted(p.name for root in project_search_paths() for p in (root / "experiments").glob("*.gin"))
        raise GinConfigError("No --gin_file given: pass an experiment, e.g. "
                             f"--gin_file=gin/experiments/default_tiny.gin (found: {', '.join(experiments)}).")
    extra = [paths.resolve(p) for p in search_paths]
    gin.clear_config()
    with tempfile.TemporaryDirectory(prefix="alexatm-gin-") as tmp:
        files = _Materialised(Path(tmp))
        for name in gin_files:
            copy = files.copy_of(resolve_gin_file(name, extra), extra)
            try:
                gin.parse_config_file(str(copy))
            except (ValueError, SyntaxError, ImportError, OSError, tokenize.TokenError) as e:
                raise GinConfigError(f"Error in gin file {name!r}: {files.explain(str(e))}") from e
    macros = _macro_names()
    for binding in gin_bindings:
        _check_macro_binding(binding, macros, gin_bindings)
        try:
            gin.parse_config([binding])
        except (ValueError, SyntaxError, ImportError, tokenize.TokenError) as e:
            raise GinConfigError(_explain_binding_error(binding, e)) from e
    missing = _REQUIRED_LINE.findall(gin.config_str())
    if missing:
        lines = [f"{name} is required: pass {_flag(name)}" for name in missing]
        raise GinConfigError("Missing gin settings:\n  " + "\n  ".join(lines))
    try:
        gin.finalize()
    except ValueError as e:
        raise GinConfigError(f"Gin config is incomplete: {e}") from e


def call(fn: Callable[..., Any]) -> Any:
    """Calls gin-configured `fn`, turning gin's errors about unbound names into `GinConfigError`.

    gin re-raises errors from inside a configurable with "In call to configurable ..." appended: that line is
    dropped, the exception type kept.
    """
    try:
        return gin.get_configurable(fn)()
    except (TypeError, ValueError) as e:
        text = str(e)
        if m := re.search(r"No bindings specified for '([^'/]+)/gin.macro'", text):
            raise GinConfigError(f"Macro {m.group(1)} is used but never set: pass {_flag(m.group(1))}.") from e
        first = text.split("\n")[0]
        if first.startswith(f"{fn.__name__}()") and (m := re.search(r"missing \d+ required .*?: (.*)$", first)):
            raise GinConfigError(f"{fn.__name__} needs {m.group(1)}: bind them in a gin file or with "
                                 f"--gin.{fn.__module__.split('.')[-1]}.{fn.__name__}.NAME=VALUE.") from e
        raise


def macro(name: str, default: Any = None) -> Any:
    """The value of macro `name` in the parsed config, or `default` when unset."""
    try:
        return gin.query_parameter(f"%{name}")
    except ValueError:
        return default


def operative_config() -> str:
    """The operative config (what the run actually used), for `config.gin` next to its outputs."""
    return gin.operative_config_str()


def strip_gin_context(message: str) -> str:
    """An error message without the "In call to configurable ..." lines gin appends."""
    return "\n".join(line for line in message.splitlines() if "In call to configurable" not in line).strip()


def _flag(name: str, value: str | None = None) -> str:
    return f"--gin.{name}={value or MACRO_EXAMPLES.get(name, 'VALUE')}"


def _macro_names() -> set[str]:
    """Macros defined by the parsed files (the `# Macros:` section of `gin.config_str()`)."""
    text = gin.config_str()
    if "# Macros:" not in text:
        return set()
    section = text.split("# Macros:", 1)[1].split("\n# Parameters for", 1)[0]
    return set(_MACRO_LINE.findall(section))


def _check_macro_binding(binding: str, macros: set[str], bindings: Sequence[str]) -> None:
    m = _BINDING.match(binding)
    if not m or "." in m.group("name") or "/" in m.group("name"):
        return
    name = m.group("name")
    referenced = any(f"%{name}" in b for b in bindings if b is not binding)
    if name not in macros and not referenced:
        close = difflib.get_close_matches(name, sorted(macros), n=3)
        hint = f" Did you mean {', '.join(close)}? e.g. {_flag(close[0])}." if close else ""
        raise GinConfigError(
            f"--gin.{binding}: no gin file uses a macro named {name!r}, so it would have no effect.{hint} "
            f"Macros of these files: {', '.join(sorted(macros)) or 'none'}.")


def _parameters(selector: str) -> list[str]:
    """Parameter names of a configurable (its original signature, behind gin's wrapper)."""
    try:
        target = gin.get_configurable(selector)
    except ValueError:
        return []
    target = target.__init__ if inspect.isclass(target) else target
    try:
        return [p for p in inspect.signature(inspect.unwrap(target)).parameters if p not in ("self", "args", "kwargs")]
    except (TypeError, ValueError):
        return []


def _known_configurables() -> list[str]:
    """`module.Name` of the public classes and functions in the modules the parsed files import."""
    names = set()
    for m in _IMPORT_LINE.finditer(gin.config_str()):
        package, module, alias = m.group("package"), m.group("module"), m.group("alias")
        if package == "__gin__" or module == "config" and package == "gin":
            continue
        full = f"{package}.{module}" if package else module
        try:
            imported = importlib.import_module(full)
        except ImportError:
            continue
        prefix = alias or module.split(".")[-1]
        names.update(f"{prefix}.{attr}" for attr, value in vars(imported).items()
                     if not attr.startswith("_") and (inspect.isclass(value) or inspect.isfunction(value))
                     and getattr(value, "__module__", None) == imported.__name__)
    return sorted(names)


def _explain_binding_error(binding: str, error: Exception) -> str:
    name = _BINDING.match(binding).group("name") if _BINDING.match(binding) else binding
    text = str(error).split("\n")[0].rstrip(".")
    hint = ""
    if m := re.search(r"Configurable '([^']+)' doesn't have a parameter named '([^']+)'", text):
        known = _parameters(m.group(1))
        close = difflib.get_close_matches(m.group(2), known, n=3)
        if close:
            hint = f" Did you mean {', '.join(close)}? e.g. --gin.{m.group(1)}.{close[0]}=VALUE"
        else:
            hint = f" Known parameters: {', '.join(known) or 'unknown'}."
    elif m := re.search(r"No configurable matching '([^']+)'|Could not find (\S+) in the Gin registry", text):
        wanted = (m.group(1) or m.group(2)).split("/")[-1]
        close = difflib.get_close_matches(wanted, _known_configurables(), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        hint += (" Configurables need their module imported by a gin file (e.g. "
                 "`from alexatm_jax.training import optimizers`).")
    elif "Unable to parse" in text or isinstance(error, SyntaxError):
        value = binding.split("=", 1)[1] if "=" in binding else ""
        hint = (f" Values are Python literals: quote strings inside shell quotes, e.g. "
                f"--gin.{name}=\"'{value.strip()}'\".")
    return f"Gin binding --gin.{binding} is invalid: {text}.{hint}"
