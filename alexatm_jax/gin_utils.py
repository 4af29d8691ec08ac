"""Gin for the entry points (T5X style): `--gin_file`, `--gin.NAME=VALUE`, search paths and helpful errors.

Library modules never import gin; gin files register what they bind with `from __gin__ import
dynamic_registration`. Errors name the macro or binding and show a flag that fixes it.
"""

from __future__ import annotations

import difflib
import importlib.util  # noqa: F401  gin-config 0.5.0 on Python 3.11 needs importlib.util imported first
import inspect
import logging
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import gin

CONFIG_FILENAME = "config.gin"
# Example values shown when a macro is missing.
MACRO_EXAMPLES = {
    "MODEL_DIR": "\"'/path/to/model_dir'\"",
    "MIXTURE_OR_TASK_NAME": "\"'alexatm_default_pretrain'\"",
    "TASK_FEATURE_LENGTHS": "\"{'inputs': 512, 'targets': 512}\"",
    "TRAIN_STEPS": "1000",
    "BATCH_SIZE": "32",
    "CHECKPOINT_PATH": "\"'/path/to/checkpoint'\"",
    "EVAL_OUTPUT_DIR": "\"'/path/to/eval_dir'\"",
}
_BINDING = re.compile(r"^\s*(?P<name>[\w./]+)\s*=(?P<value>.*)$", re.S)


class GinConfigError(ValueError):
    """A gin file or binding is missing, misspelt or incomplete; the message says how to fix it."""


def default_search_paths() -> list[str]:
    """The repository's `gin/` and, when installed as package data, `alexatm_jax/gin` or `<prefix>/share`."""
    package = Path(__file__).resolve().parent
    candidates = [package.parent / "gin", package / "gin", Path(sys.prefix) / "share" / "alexatm_jax" / "gin"]
    return [str(p) for p in candidates if p.is_dir()]


def split_gin_args(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """Turns T5X-style `--gin.NAME=VALUE` arguments into gin bindings; returns (bindings, other arguments)."""
    bindings, rest = [], []
    for arg in argv:
        if arg.startswith("--gin."):
            body = arg[len("--gin."):]
            if "=" not in body:
                raise GinConfigError(f"{arg!r} has no value: write --gin.NAME=VALUE, e.g. --gin.TRAIN_STEPS=1000.")
            name, value = body.split("=", 1)
            bindings.append(f"{name}={value}")
        else:
            rest.append(arg)
    return bindings, rest


def _flag(name: str, value: str | None = None) -> str:
    return f"--gin.{name}={value or MACRO_EXAMPLES.get(name, 'VALUE')}"


def _macros() -> set[str]:
    return {scope for (scope, selector) in gin.config._CONFIG if selector == "gin.macro"}


def _missing_required() -> list[str]:
    """Every binding or macro still set to %gin.REQUIRED (gin itself reports only the first)."""
    missing = []
    for (scope, selector), params in gin.config._CONFIG.items():
        for param, value in params.items():
            if (isinstance(value, gin.config.ConfigurableReference)
                    and value.configurable.wrapped == gin.config._retrieve_constant
                    and value.scoped_configurable_fn() is gin.REQUIRED):
                scoped = f"{scope}/{selector}" if scope else selector
                missing.append(scope if selector == "gin.macro" else f"{scoped}.{param}")
    return missing


def _configurable_params(selector: str) -> list[str]:
    match = gin.config._REGISTRY.get_match(selector)
    if match is None:
        return []
    try:
        return list(inspect.signature(match.wrapped).parameters)
    except (TypeError, ValueError):
        return []


def _explain_binding_error(binding: str, error: Exception, file_macros: set[str]) -> str:
    name = _BINDING.match(binding).group("name") if _BINDING.match(binding) else binding
    text = str(error).split("\n")[0].rstrip(".")
    hint = ""
    if m := re.search(r"Configurable '([^']+)' doesn't have a parameter named '([^']+)'", text):
        close = difflib.get_close_matches(m.group(2), _configurable_params(m.group(1)), n=3)
        if close:
            hint = f" Did you mean {', '.join(close)}? e.g. --gin.{m.group(1)}.{close[0]}=VALUE"
        else:
            hint = f" Known parameters: {', '.join(_configurable_params(m.group(1))) or 'unknown'}."
    elif m := re.search(r"No configurable matching '([^']+)'", text):
        known = sorted({".".join(sel.split(".")[-2:]) for sel, _ in gin.config._REGISTRY.items()
                        if not sel.startswith("gin.")})
        close = difflib.get_close_matches(m.group(1).split("/")[-1], known, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        hint += " Configurables need their module imported by a gin file (e.g. `from alexatm_jax import optimizers`)."
    elif "Unable to parse" in text or isinstance(error, SyntaxError):
        value = binding.split("=", 1)[1] if "=" in binding else ""
        hint = (f" Values are Python literals: quote strings inside shell quotes, e.g. "
                f"--gin.{name}=\"'{value.strip()}'\".")
    return f"Gin binding --gin.{binding} is invalid: {text}.{hint}"


def _check_macro_binding(binding: str, file_macros: set[str], bindings: Sequence[str]) -> None:
    m = _BINDING.match(binding)
    if not m or "." in m.group("name") or "/" in m.group("name"):
        return
    name = m.group("name")
    referenced = any(f"%{name}" in b for b in bindings if b is not binding)
    if name not in file_macros and not referenced:
        close = difflib.get_close_matches(name, sorted(file_macros), n=3)
        hint = f" Did you mean {', '.join(close)}? e.g. {_flag(close[0])}." if close else ""
        raise GinConfigError(
            f"--gin.{binding}: no gin file uses a macro named {name!r}, so it would have no effect.{hint} "
            f"Macros of these files: {', '.join(sorted(file_macros)) or 'none'}.")


def parse(gin_files: Sequence[str], gin_bindings: Sequence[str] = (),
          search_paths: Sequence[str] | None = None) -> None:
    """Parses files then bindings (later ones win) and finalises the config, or raises `GinConfigError`."""
    # gin logs an ERROR for every search path an include is not under; only real failures matter.
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.CRITICAL)
    try:
        _parse(gin_files, gin_bindings, search_paths)
    finally:
        root.setLevel(level)


def _parse(gin_files: Sequence[str], gin_bindings: Sequence[str], search_paths: Sequence[str] | None) -> None:
    paths = list(search_paths or []) + default_search_paths()
    for path in paths:
        gin.add_config_file_search_path(path)
    if not gin_files:
        experiments = sorted(p.name for d in paths for p in (Path(d) / "experiments").glob("*.gin"))
        raise GinConfigError("No --gin_file given: pass an experiment, e.g. "
                             f"--gin_file=gin/experiments/default_tiny.gin (found: {', '.join(experiments)}).")
    for gin_file in gin_files:
        try:
            gin.parse_config_files_and_bindings([gin_file], None, finalize_config=False)
        except OSError as e:
            raise GinConfigError(f"Gin file {gin_file!r} not found (search paths: {paths}): {e}") from e
        except (ValueError, SyntaxError) as e:
            raise GinConfigError(f"Error in gin file {gin_file!r}: {e}") from e
    file_macros = _macros()
    for binding in gin_bindings:
        _check_macro_binding(binding, file_macros, gin_bindings)
        try:
            gin.parse_config_files_and_bindings([], [binding], finalize_config=False)
        except (ValueError, SyntaxError) as e:
            raise GinConfigError(_explain_binding_error(binding, e, file_macros)) from e
    missing = _missing_required()
    if missing:
        lines = [f"{name} is required: pass {_flag(name)}" for name in missing]
        raise GinConfigError("Missing gin settings:\n  " + "\n  ".join(lines))
    try:
        gin.finalize()
    except ValueError as e:
        raise GinConfigError(f"Gin config is incomplete: {e}") from e


def call(fn):
    """Calls gin-configured `fn`, turning gin's errors about unbound or undefined names into `GinConfigError`."""
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


def write_operative_config(model_dir: str | Path) -> Path:
    """Writes the operative config (what the run actually used) to `MODEL_DIR/config.gin`."""
    path = Path(model_dir) / CONFIG_FILENAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(gin.operative_config_str())
    return path
