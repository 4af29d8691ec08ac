"""Runs in the main (JAX) venv for `test_official_decoding.py`: converts the official models and decodes greedily.

Usage: python official_decoding_worker.py JOB.json; writes `work/result.json` with, per decoding path, the
generated tokens (EOS included when generated) and their log-likelihoods, and for the string-prompt job the ids
our API fed the model, the tokens it generated and their text.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jax
import numpy as np


def token_id_paths(job: dict, work: Path) -> dict:
    import alexatm_jax
    from alexatm_jax.checkpoint.official import convert

    converted = convert.import_official(job["official"], work / "converted")
    inputs, max_new = job["inputs"], job["max_new_tokens"]
    result = {}
    for name, overrides in (("api", {}), ("api_unscanned", {"scan_layers": False})):
        lm = alexatm_jax.load(converted, **overrides)
        details = lm.generate(inputs, max_new_tokens=max_new, return_details=True)
        eos = [lm.config.eos_token_id]
        result[name] = {
            "tokens": [d["tokens"] + (eos if d["finish_reason"] == "eos" else []) for d in details],
            "log_likelihoods": [d["log_likelihood"] for d in details],
        }
    lm = alexatm_jax.load(converted)
    width = max(map(len, inputs))
    batch = {"encoder_input_tokens": np.array([x + [1] * (width - len(x)) for x in inputs], np.int32),
             "encoder_segment_ids": np.array([[1] * len(x) + [0] * (width - len(x)) for x in inputs], np.int32)}
    for name, use_cache in (("predict_batch", True), ("uncached", False)):
        out = jax.device_get(lm.decoder.predict_batch(lm.params, batch, max_new_tokens=max_new, use_cache=use_cache))
        result[name] = {
            "tokens": [[int(t) for t in s[0, :n[0]]] for s, n in zip(out["sequences"], out["lengths"])],
            "log_likelihoods": [float(x[0]) for x in out["log_likelihoods"]],
        }
    return result


def string_prompts(job: dict, work: Path) -> dict:
    """Converts the official model with its vocabulary (the converter records the official tokenization), then
    generates greedily from the string prompts through `Seq2SeqLM.generate`, as a user does."""
    import alexatm_jax
    from alexatm_jax import prompting
    from alexatm_jax.checkpoint.official import convert

    converted = convert.import_official(job["official"], work / "converted_text", vocab_path=job["vocab"])
    lm = alexatm_jax.load(converted)
    out = {"tokenization": lm.tokenization, "input_ids": [], "tokens": [], "texts": []}
    for prompt, mode in zip(job["prompts"], job["modes"]):
        out["input_ids"].append(prompting.encode_inputs(lm.tokenizer, [prompt], mode)[0])
        detail = lm.generate(prompt, mode=mode, max_new_tokens=job["max_new_tokens"],
                             banned_sequences=job["banned"], return_details=True)
        eos = [lm.config.eos_token_id] if detail["finish_reason"] == "eos" else []
        out["tokens"].append(detail["tokens"] + eos)
        out["texts"].append(detail["output"])
    return out


def main(job_path: str) -> None:
    job = json.loads(Path(job_path).read_text())
    work = Path(job["work"])
    result = token_id_paths(job, work)
    result["text"] = string_prompts(job["text"], work)
    (work / "result.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1])
