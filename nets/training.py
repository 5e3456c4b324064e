"""Shared helpers for torch training loops: progress bars and atomic checkpoints.

A checkpoint is a ``dict`` of tensors, numbers, strings, lists and dicts (what
``torch.load(weights_only=True)``
accepts), written to ``path + ".tmp"`` and renamed over ``path``, so an interruption never leaves a broken
file.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

__all__ = ["progress_bar", "save_checkpoint", "load_checkpoint"]


class _NoBar:
    """Stands in for a tqdm bar when progress is off."""

    def update(self, n=1):
        pass

    def set_postfix(self, *args, **kwargs):
        pass

    def close(self):
        pass


def progress_bar(total: int, enabled: bool = True, desc: str = "", initial: int = 0):
    """A ``tqdm`` bar (or a silent stand-in when ``enabled`` is false)."""
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, initial=initial, leave=False)


def save_checkpoint(path, payload: dict) -> None:
    """Write ``payload`` to ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def load_checkpoint(path) -> dict | None:
    """The payload saved at ``path``, or ``None`` when there is no file."""
    path = Path(path)
    if not path.exists():
        return None
    return torch.load(path, map_location="cpu", weights_only=True)
