"""Seeds: every stochastic routine takes ``seed`` (int, ``numpy.random.Generator`` or None).

:func:`make_rng` turns it into a generator and an integer that is stored in the result's metadata, so that
the same recorded seed reproduces the same numbers on the same device.
"""

from __future__ import annotations

import numpy as np

__all__ = ["make_rng", "torch_generator"]


def make_rng(seed=None) -> tuple[np.random.Generator, int]:
    """Return ``(generator, recorded_seed)``.

    * ``int``: used as is.
    * ``None``: fresh OS entropy, drawn once and recorded, so the run can be repeated.
    * ``Generator``: an integer seed is drawn from it (advancing it), so a caller's generator still controls
      the stream and the result still records a reproducible integer.
    """
    if seed is None:
        recorded = int(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
    elif isinstance(seed, np.random.Generator):
        recorded = int(seed.integers(0, 2**63 - 1))
    elif isinstance(seed, int | np.integer) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed}")
        recorded = int(seed)
    else:
        raise TypeError(f"seed must be an int, a numpy Generator or None, got {type(seed).__name__}")
    return np.random.default_rng(recorded), recorded


def torch_generator(seed: int, device: str = "cpu"):
    """A ``torch.Generator`` on ``device`` seeded with the recorded integer ``seed``."""
    import torch

    gen = torch.Generator(device=device)
    gen.manual_seed(int(seed) % (2**63))
    return gen
