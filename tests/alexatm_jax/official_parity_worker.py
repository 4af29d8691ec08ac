"""Runs in the main (JAX) venv for `test_official_parity.py`, which runs in the reference (PyTorch) venv.

Usage: python official_parity_worker.py JOBS.json. For each job: convert the official directory, load it
with `alexatm_jax.load` under both `scan_layers` choices, write the logits of the job's inputs to `.npy`, and
export the converted checkpoint back to the official format. A job that fails writes `error.txt` instead.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path

import numpy as np


def run_job(job: dict) -> None:
    import alexatm_jax
    from alexatm_jax.checkpoint.official import convert

    work = Path(job["work"])
    converted = convert.import_official(job["official"], work / "converted",
                                                   scan_layers=job["scan_layers"], dtype=job["dtype"])
    inputs = np.load(job["inputs"])
    for scan in (True, False):
        model = alexatm_jax.load(converted, scan_layers=scan, dtype=job.get("load_dtype"))
        logits = model.logits(inputs["encoder_input_tokens"], inputs["decoder_input_tokens"],
                              inputs["encoder_mask"])
        np.save(work / f"logits_scan{int(scan)}.npy", logits)
    convert.export_official(converted, work / "exported",
                                       max_shard_size=job["export_max_shard_size"])


def main(jobs_path: str) -> None:
    # `.bin` checkpoints need PyTorch, which this venv may lack: borrow the reference venv's, after ours.
    torch_site = os.environ.get("ALEXATM_PARITY_TORCH_SITE")
    if torch_site:
        sys.path.append(torch_site)
    for job in json.loads(Path(jobs_path).read_text()):
        try:
            run_job(job)
        except Exception:  # Reported per job, to the test that owns it.
            Path(job["work"]).mkdir(parents=True, exist_ok=True)
            (Path(job["work"]) / "error.txt").write_text(traceback.format_exc())


if __name__ == "__main__":
    main(sys.argv[1])
