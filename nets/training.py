"""Shared helpers for torch training loops: progress bars, atomic checkpoints and problem fingerprints.

A checkpoint is a ``dict`` of tensors, numbers, strings, lists and dicts (what ``torch.load(weights_only=True)``
accepts), written to ``path + ".tmp"`` and renamed over ``path``, so an interruption never leaves a broken
file. It may carry the *fingerprint* of the problem it belongs to: a flat ``{name: value}`` dict of plain
values (numbers, strings, None) and digests (:func:`digest`) of the large parts (an operator, a network layout).
:func:`load_checkpoint` compares it with the fingerprint of the run that wants to resume and refuses another
problem's checkpoint with a :class:`CheckpointError` naming what differs; an unreadable file (empty, truncated,
not a checkpoint) is a :class:`CheckpointError` naming the file, never a raw ``OSError``/``EOFError``/unpickling
error.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import numpy as np
import torch

__all__ = ["CheckpointError", "digest", "load_checkpoint", "progress_bar", "save_checkpoint"]

#: Significant digits kept when floating-point arrays are digested (rounding hides last-bit differences between
#: machines for data computed, not typed in).
_DIGEST_DIGITS = 12


class CheckpointError(ValueError):
    """A checkpoint cannot be used: unreadable, or written for another problem. The message names the file,
    what differs, and ``resume=False`` (start afresh)."""


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


def _feed(hasher, value) -> None:
    """Feed a canonical encoding of ``value`` (nested dicts, sequences, arrays, tensors, scalars) to ``hasher``."""
    if isinstance(value, dict):
        hasher.update(b"{")
        for key in sorted(value, key=repr):
            _feed(hasher, key)
            _feed(hasher, value[key])
        hasher.update(b"}")
    elif isinstance(value, list | tuple):
        hasher.update(b"[")
        for item in value:
            _feed(hasher, item)
        hasher.update(b"]")
    elif isinstance(value, torch.Tensor | np.ndarray):
        array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value
        if np.issubdtype(array.dtype, np.inexact):
            scale = float(np.max(np.abs(array))) if array.size else 0.0
            array = np.round(array / scale, _DIGEST_DIGITS) * scale if scale > 0 else array
            array = array.astype(np.complex128 if np.iscomplexobj(array) else np.float64)
        array = np.ascontiguousarray(array)
        hasher.update(f"array{array.dtype.str}{array.shape}".encode())
        hasher.update(array.tobytes())
    elif isinstance(value, float | np.floating):
        hasher.update(repr(float(value)).encode())
    elif value is None or isinstance(value, bool | int | str | np.integer):
        hasher.update(f"{type(value).__name__}:{value}".encode())
    else:
        raise TypeError(f"cannot digest a {type(value).__name__}")


def digest(value) -> str:
    """``"sha256:<16 hex digits>"`` of nested dicts, lists, tuples, numpy arrays, torch tensors and scalars.

    Floating-point arrays are rounded to 12 significant digits of their largest entry first, so the digest of
    the same data computed on two machines agrees; dict keys are sorted.
    """
    hasher = hashlib.sha256()
    _feed(hasher, value)
    return "sha256:" + hasher.hexdigest()[:16]


def save_checkpoint(path, payload: dict, *, fingerprint: dict | None = None) -> None:
    """Write ``payload`` (and ``fingerprint``, under the key ``"fingerprint"``) to ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fingerprint is not None:
        payload = {**payload, "fingerprint": dict(fingerprint)}
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def _differences(stored: dict, expected: dict) -> list[str]:
    out = []
    for key in sorted(set(stored) | set(expected)):
        old, new = stored.get(key, "<absent>"), expected.get(key, "<absent>")
        if old != new:
            out.append(f"{key} ({old!r} in the file, {new!r} now)")
    return out


def load_checkpoint(path, *, fingerprint: dict | None = None) -> dict | None:
    """The payload saved at ``path`` (``torch.load(weights_only=True)``), or ``None`` when there is no file.

    ``fingerprint``: the problem of the run that wants to resume; a checkpoint without one, or with another, is a
    :class:`CheckpointError` listing what differs. An unreadable file is a :class:`CheckpointError` naming it.
    """
    path = Path(path)
    if not path.exists():
        return None
    advice = f"delete {path} or pass resume=False to start afresh"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # torch's remarks on the pickle protocol of a bad file
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises EOFError, RuntimeError, UnpicklingError, KeyError ... on a bad file
        raise CheckpointError(f"cannot read the checkpoint {path}: it is empty, truncated or not a qdyn checkpoint "
                              f"({type(exc).__name__}); {advice}") from None
    if not isinstance(payload, dict):
        raise CheckpointError(f"the checkpoint {path} holds a {type(payload).__name__}, not a qdyn checkpoint; "
                              f"{advice}")
    if fingerprint is not None:
        stored = payload.get("fingerprint")
        if not isinstance(stored, dict):
            raise CheckpointError(f"the checkpoint {path} records no problem fingerprint (written by an earlier "
                                  f"release), so it cannot be matched to this run; {advice}")
        differences = _differences(stored, dict(fingerprint))
        if differences:
            raise CheckpointError(f"the checkpoint {path} belongs to another problem: "
                                  f"{'; '.join(differences)}. Resume with the same problem and settings, or "
                                  f"{advice}")
    return payload
