"""The one command-line layer (T5X style) that every `python -m alexatm_jax.<command>` uses.

* Flags are absl flags, parsed into a fresh `FlagValues` per call (so commands can also be called from Python
  and tests, several per process). T5X-style `--gin.NAME=VALUE` is rewritten to `--gin_bindings=NAME=VALUE`.
* Common flags: `--verbosity` (0: quiet, the default; 1: library logs and tracebacks back; 2: debug),
  `--help`; with gin, `--gin_file`, `--gin_bindings`, `--gin_search_paths`; for multi-process commands,
  `--coordinator_address`, `--process_count`, `--process_id`, `--distributed_auto`.
* Quiet by default: TensorFlow/XLA C++ start-up lines, absl/orbax/jax/seqio log records and library warnings
  are off; the command prints its progress bar, a short summary and its results.
* Exit codes: 0 done, 1 failure (a traceback: a bug or an environment problem), 2 a configuration or data
  error (one paragraph saying what to fix, no traceback unless `--verbosity>=1`); commands may return others
  (143: stopped by SIGTERM with a saved checkpoint).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.abc
import importlib.util
import logging
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Sequence

from absl import flags

from alexatm_jax.errors import ConfigError, DataError

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
# OS errors that mean "the path you gave is wrong", not "the program is broken".
PATH_ERRORS = (FileNotFoundError, FileExistsError, NotADirectoryError, IsADirectoryError, PermissionError)
# Environment variables that silence native libraries' start-up logging (read when they load).
QUIET_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "3", "GRPC_VERBOSITY": "ERROR", "GLOG_minloglevel": "2"}
# Library loggers turned down to ERROR unless --verbosity >= 1.
LIBRARY_LOGGERS = ("absl", "jax", "orbax", "tensorflow", "seqio", "etils", "h5py", "matplotlib", "clu")
# Packages whose native libraries log to stderr while they load, whatever the environment says: TensorFlow 2.21's
# absl C++ logging prints "All log messages before absl::InitializeLog()...", oneDNN and CUDA-driver lines
# (docs/STACK.md, "Console noise").
NATIVE_NOISY_IMPORTS = ("tensorflow",)


@dataclasses.dataclass(frozen=True)
class Command:
    """An entry point: its flags and what it runs.

    `run(flag_values, positional_args)` returns an exit code. `user_errors` adds exception types (besides
    `ConfigError`, `DataError` and path errors) that the command reports as configuration or data errors.
    """

    name: str
    doc: str
    run: Callable[[flags.FlagValues, list[str]], int]
    define_flags: Callable[[flags.FlagValues], None] = lambda flag_values: None
    uses_gin: bool = False
    multi_process: bool = False
    positional: str | None = None  # usage of positional arguments, e.g. "EVAL_OUTPUT_DIR"; None: none taken
    user_errors: tuple[type[BaseException], ...] = ()

    @property
    def prog(self) -> str:
        return f"python -m alexatm_jax.{self.name}"


def rewrite_gin_args(argv: Sequence[str]) -> list[str]:
    """`--gin.NAME=VALUE` -> `--gin_bindings=NAME=VALUE`; `--gin.NAME` without a value is a usage error."""
    out = []
    for arg in argv:
        if arg.startswith("--gin."):
            body = arg[len("--gin."):]
            if "=" not in body:
                raise ConfigError(f"{arg!r} has no value: write --gin.NAME=VALUE, e.g. --gin.TRAIN_STEPS=1000.")
            out.append(f"--gin_bindings={body}")
        else:
            out.append(arg)
    return out


def define_common_flags(flag_values: flags.FlagValues, command: Command) -> None:
    fv = flag_values
    flags.DEFINE_integer("verbosity", 0, "0: quiet (progress, summary, results); 1: library logs and tracebacks "
                         "of errors; 2: debug.", short_name="v", flag_values=fv)
    flags.DEFINE_boolean("help", False, "Show this help.", short_name="h", flag_values=fv)
    if command.uses_gin:
        flags.DEFINE_multi_string("gin_file", [], "Gin file(s), later ones override earlier ones. Relative names "
                                  "are looked up in the project's gin/ first, then --gin_search_paths, then the "
                                  "working directory.", flag_values=fv)
        flags.DEFINE_multi_string("gin_bindings", [], "NAME=VALUE bindings (same as --gin.NAME=VALUE), applied "
                                  "after the files.", flag_values=fv)
        flags.DEFINE_multi_string("gin_search_paths", [], "Extra directories for gin files and includes.",
                                  flag_values=fv)
    if command.multi_process:
        flags.DEFINE_string("coordinator_address", None, "HOST:PORT of process 0 (multi-process); or set "
                            "ALEXATM_COORDINATOR_ADDRESS.", flag_values=fv)
        flags.DEFINE_integer("process_count", None, "Number of processes (or ALEXATM_NUM_PROCESSES).",
                             flag_values=fv)
        flags.DEFINE_integer("process_id", None, "This process's index (or ALEXATM_PROCESS_ID).", flag_values=fv)
        flags.DEFINE_boolean("distributed_auto", False, "Let JAX detect the cluster (SLURM, Open MPI, Cloud TPU).",
                             flag_values=fv)


def configure_console(verbosity: int) -> None:
    """Quiet by default: library start-up noise off, warnings only from this project; `verbosity >= 1` undoes it.

    Python-side noise (absl, orbax, jax, seqio log records; library warnings) is filtered here. Native start-up
    lines are silenced by environment variables (read when the libraries load) and, for libraries that ignore
    them (NATIVE_NOISY_IMPORTS), by sending file descriptor 2 to /dev/null while their first import runs.
    """
    quiet = verbosity < 1
    if quiet:
        # Set, not defaulted: `import jax` (before any command runs) sets TF_CPP_MIN_LOG_LEVEL=1 (docs/STACK.md).
        os.environ.update(QUIET_ENVIRONMENT)
        warnings.filterwarnings("ignore", module=r"^(?!alexatm_jax|tasks|kernels_pallas)")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
    _QuietNativeImports.install(NATIVE_NOISY_IMPORTS if quiet else ())
    level = logging.DEBUG if verbosity >= 2 else logging.INFO if verbosity == 1 else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR if quiet else level)
    logging.getLogger("alexatm_jax").setLevel(level)


@contextlib.contextmanager
def native_stderr_silenced():
    """File descriptor 2 goes to /dev/null (C/C++ code writes there directly, past `sys.stderr`)."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class _QuietNativeImports(importlib.abc.MetaPathFinder):
    """Runs the first import of the named packages with native stderr silenced.

    Written here because no library offers it: the noise comes from static initialisers of shared objects that
    the package loads, before any logging setting of theirs applies. Nothing is imported ahead of need (GPU
    machines and commands without TensorFlow never load it); Python exceptions raised by the import still
    propagate and print normally.
    """

    def __init__(self, names: Sequence[str]):
        self.names = frozenset(names)

    @classmethod
    def install(cls, names: Sequence[str]) -> None:
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, cls)]
        pending = [n for n in names if n not in sys.modules]
        if pending:
            sys.meta_path.insert(0, cls(pending))

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.names:
            return None
        self.names = self.names - {fullname}
        if not self.names and self in sys.meta_path:
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)  # the normal finders (this one no longer answers for it)
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _SilencedLoader(spec.loader)
        return spec


class _SilencedLoader(importlib.abc.Loader):
    """Delegates to the package's own loader, with native stderr silenced while the module executes."""

    def __init__(self, inner: importlib.abc.Loader):
        self.inner = inner

    def create_module(self, spec):
        return self.inner.create_module(spec)

    def exec_module(self, module) -> None:
        module.__loader__ = module.__spec__.loader = self.inner  # the wrapper is gone once imported
        with native_stderr_silenced():
            self.inner.exec_module(module)


def help_text(command: Command, flag_values: flags.FlagValues) -> str:
    usage = f"usage: {command.prog} [flags]" + (f" {command.positional}" if command.positional else "")
    return f"{command.doc.strip()}\n\n{usage}\n\n{flag_values.get_help()}"


def main(command: Command, argv: Sequence[str] | None = None) -> int:
    """Parses flags, sets up the console (and multi-process JAX), runs the command; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    fv = flags.FlagValues()
    define_common_flags(fv, command)
    command.define_flags(fv)
    try:
        positional = fv([command.prog, *rewrite_gin_args(argv)])[1:]
    except (flags.Error, ConfigError) as e:
        print(f"error: {e}\n(see {command.prog} --help)", file=sys.stderr)
        return EXIT_USAGE
    if fv.help:
        print(help_text(command, fv))
        return EXIT_OK
    if positional and command.positional is None:
        print(f"error: unexpected arguments {positional}: {command.prog} takes flags only (see --help).",
              file=sys.stderr)
        return EXIT_USAGE
    configure_console(fv.verbosity)
    user_errors = (ConfigError, DataError, *PATH_ERRORS, *command.user_errors)
    try:
        if command.multi_process:
            from alexatm_jax.training import distributed

            distributed.initialize(fv.coordinator_address, fv.process_count, fv.process_id,
                                   auto=fv.distributed_auto)
        return command.run(fv, positional)
    except user_errors as e:
        if fv.verbosity >= 1:
            traceback.print_exc()
        message = "\n".join(line for line in str(e).splitlines() if "In call to configurable" not in line)
        print(f"error: {message.strip()}", file=sys.stderr)
        if fv.verbosity < 1:
            print("(run again with --verbosity=1 for the traceback)", file=sys.stderr)
        return EXIT_USAGE


def run(command: Command) -> None:
    """`if __name__ == "__main__": app.run(COMMAND)`: exits with the command's code."""
    sys.exit(main(command))
