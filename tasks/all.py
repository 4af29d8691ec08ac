"""Registers every task, mixture and evaluation family of the project (imports seqio and TensorFlow)."""

import tasks.default_tasks  # noqa: F401
import tasks.flores101  # noqa: F401
import tasks.mlsum  # noqa: F401
import tasks.pretraining  # noqa: F401
import tasks.squad  # noqa: F401
import tasks.superglue  # noqa: F401
import tasks.xsum  # noqa: F401
