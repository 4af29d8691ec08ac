"""Registers every task and mixture of the project (imports seqio and TensorFlow)."""

import importlib
import logging

import tasks.default_tasks  # noqa: F401
import tasks.pretraining  # noqa: F401

# Evaluation tasks, owned by their own modules; registered here when present.
for _module in ("tasks.flores101", "tasks.superglue", "tasks.xsum"):
    try:
        importlib.import_module(_module)
    except ModuleNotFoundError as e:
        if e.name != _module:  # a real missing dependency inside the module: surface it
            raise
        logging.getLogger(__name__).info("%s not available; its tasks are not registered", _module)
