"""The one command-line layer every entry point uses: absl flags plus gin (T5X style), verbosity, exit codes
(`app`), and gin files resolved through the project's own search path (`gin_config`)."""
