"""What a person sees while a command runs: one progress bar per long loop (tqdm), nothing when disabled."""

from __future__ import annotations

from typing import Any


class _NoProgress:
    """Stands in for a tqdm bar when progress is off (or tqdm is missing)."""

    def update(self, n: int = 1) -> None:
        del n

    def set_postfix(self, **values: Any) -> None:
        del values

    def close(self) -> None:
        pass


def progress_bar(*, total: int | None, desc: str, unit: str, initial: int = 0, enabled: bool = True) -> Any:
    """A tqdm bar (auto: notebook widget or terminal), or a no-op object with the same methods."""
    if not enabled:
        return _NoProgress()
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _NoProgress()
    return tqdm(total=total, initial=initial, desc=desc, unit=unit, dynamic_ncols=True, mininterval=1.0)
