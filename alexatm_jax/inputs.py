"""Validation of what users pass to the public API, in one place, before any work starts.

Each check raises `TypeError` (wrong kind of value) or `ValueError` (right kind, unusable value) naming the
argument, what was given and what is accepted. Python would otherwise accept much of it silently (a float
truncated to a token id, bytes read as token ids, a NaN temperature that decodes greedily) or fail far away with a
message about something else (`'NoneType' object is not iterable`, `range() arg 3 must not be zero`). The range
rules of the decoding options stay with decoding (`decoding.predict.check_options`); these are the type rules.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

ACCEPTED = "a string, a list of token ids, or a list of strings / of token-id lists"


def examples(values: Any, name: str, *, allow_empty: bool = False) -> tuple[list[Any], bool, bool]:
    """(examples, single, is_text) for a string, a token-id list, or a list of either (not a mix)."""
    if isinstance(values, str):
        return [text(values, name)], True, True
    if values is None or isinstance(values, (bytes, bytearray, int, float, np.generic, dict, set)):
        raise TypeError(f"{name} must be {ACCEPTED}; got {_shown(values)}.{_bytes_hint(values)}")
    if isinstance(values, np.ndarray):
        _integer_array(values, name)
        values = values.tolist()
    if not isinstance(values, Sequence):
        raise TypeError(f"{name} must be {ACCEPTED}; got {_shown(values)}.")
    values = list(values)
    if not values:
        if allow_empty:
            return [], False, False
        raise ValueError(f"{name} is empty: pass {ACCEPTED}.")
    if all(isinstance(v, str) for v in values):
        return [text(v, f"{name}[{i}]") for i, v in enumerate(values)], False, True
    if not any(isinstance(v, (str, Sequence, np.ndarray)) for v in values):
        return [token_ids(values, name)], True, False
    if any(isinstance(v, str) for v in values):
        raise ValueError(f"{name} mixes strings and token ids: pass {ACCEPTED} (not a mix).")
    return [token_ids(v, f"{name}[{i}]") for i, v in enumerate(values)], False, False


def token_ids(values: Any, name: str) -> list[int]:
    """A list of Python ints from a sequence of integers (floats, bools, bytes and nested lists rejected)."""
    if isinstance(values, (str, bytes, bytearray)) or values is None:
        raise TypeError(f"{name} must be a list of token ids (integers); got {_shown(values)}.{_bytes_hint(values)}")
    if isinstance(values, np.ndarray):
        _integer_array(values, name)
        if values.ndim != 1:
            raise ValueError(f"{name} must be one list of token ids; got an array of shape {values.shape}.")
        return [int(v) for v in values]
    if not isinstance(values, Sequence):
        raise TypeError(f"{name} must be a list of token ids (integers); got {_shown(values)}.")
    for i, v in enumerate(values):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{name} must hold integer token ids; item {i} is {_shown(v)}"
                            + (": round or cast your ids to int first." if isinstance(v, (float, np.floating))
                               else "."))
    return [int(v) for v in values]


def text(value: str, name: str) -> str:
    """`value` if it is encodable Unicode (a lone surrogate, e.g. from bytes decoded with 'surrogateescape', is not)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError(f"{name} is not valid Unicode: {value[e.start:e.end]!r} at position {e.start} is a lone "
                         "surrogate. Decode the original bytes with errors='replace', or remove it.") from None
    return value


def token_matrix(values: Any, name: str) -> np.ndarray:
    """An int32 [batch, length] array from a 2-D (or 1-D: one row) integer array or equal-length lists."""
    if values is None or isinstance(values, (str, bytes, bytearray)):
        raise TypeError(f"{name} must be a [batch, length] array of integer token ids; got {_shown(values)}.")
    if not isinstance(values, np.ndarray):
        rows = list(values) if isinstance(values, Sequence) else None
        if rows and all(isinstance(r, (Sequence, np.ndarray)) and not isinstance(r, str) for r in rows):
            lengths = [len(r) for r in rows]
            if len(set(lengths)) > 1:
                raise ValueError(f"{name} rows have different lengths {lengths[:8]}: pad them to one length (and "
                                 "mark the padding with encoder_mask=0).")
        values = np.asarray(values)
    _integer_array(values, name)
    array = values[None] if values.ndim == 1 else values
    if array.ndim != 2:
        raise ValueError(f"{name} must be a [batch, length] array of integer token ids; got shape {values.shape}.")
    return array.astype(np.int32)


def integer(value: Any, name: str, *, minimum: int | None = None, optional: bool = False) -> int | None:
    """`value` as an int (None allowed when `optional`), at least `minimum`."""
    if value is None and optional:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer{' or None' if optional else ''}; got {_shown(value)}.")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name}={value} must be >= {minimum}" + (" (or None for no limit)." if optional else "."))
    return int(value)


def real(value: Any, name: str, *, optional: bool = False) -> float | None:
    """`value` as a finite float (None allowed when `optional`)."""
    if value is None and optional:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number{' or None' if optional else ''}; got {_shown(value)}.")
    if not math.isfinite(value):
        raise ValueError(f"{name}={value} is not a finite number.")
    return float(value)


def strings_or_ids(values: Any, name: str) -> None:
    """A list whose items are strings or token-id lists (stop strings, banned or stop sequences), or None."""
    if values is None:
        return
    if isinstance(values, (str, bytes, bytearray)) or not isinstance(values, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a list (of strings or token-id lists); got {_shown(values)}"
                        + (f": pass [{values!r}]." if isinstance(values, str) else "."))
    for i, v in enumerate(values):
        if isinstance(v, str):
            text(v, f"{name}[{i}]")
        else:
            token_ids(v, f"{name}[{i}]")


def check_generate(*, max_new_tokens: Any, min_new_tokens: Any, num_beams: Any, num_return_sequences: Any,
                   temperature: Any, top_k: Any, top_p: Any, length_penalty: Any, seed: Any, batch_size: Any,
                   max_input_length: Any, stop_strings: Any, stop_sequences: Any, banned_sequences: Any) -> None:
    """The types of `Seq2SeqLM.generate`'s options (their ranges: `decoding.predict.check_options`)."""
    integer(max_new_tokens, "max_new_tokens", minimum=1)
    integer(min_new_tokens, "min_new_tokens", minimum=0)
    integer(num_beams, "num_beams", minimum=1)
    integer(num_return_sequences, "num_return_sequences", minimum=1)
    if real(temperature, "temperature") < 0:
        raise ValueError(f"temperature={temperature} is negative: use 0 for greedy/beam search or > 0 to sample.")
    integer(top_k, "top_k", minimum=1, optional=True)
    real(top_p, "top_p", optional=True)
    real(length_penalty, "length_penalty")
    integer(seed, "seed")
    check_batching(batch_size=batch_size, max_input_length=max_input_length)
    for values, name in ((stop_strings, "stop_strings"), (stop_sequences, "stop_sequences"),
                         (banned_sequences, "banned_sequences")):
        strings_or_ids(values, name)


def check_batching(*, batch_size: Any, max_input_length: Any) -> None:
    """`batch_size` >= 1; `max_input_length` None (the model's positions) or >= 1."""
    integer(batch_size, "batch_size", minimum=1)
    integer(max_input_length, "max_input_length", minimum=1, optional=True)


def _integer_array(array: np.ndarray, name: str) -> None:
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name} must hold integer token ids; got an array of {array.dtype}"
                        + (": round or cast your ids to int first." if np.issubdtype(array.dtype, np.floating)
                           else "."))


def _shown(value: Any) -> str:
    shown = repr(value)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    return f"{shown} ({type(value).__name__})"


def _bytes_hint(value: Any) -> str:
    return " Decode bytes to text first (value.decode('utf-8')), or pass a list of token ids." if isinstance(
        value, (bytes, bytearray)) else ""
