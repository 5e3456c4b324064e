"""Real-time Krylov data: overlap rows on a uniform time grid and the projected matrices built from them.

For references ``|phi_a>`` (``a = 0..R-1``) and lags ``t_m = m dt`` (``m = 0..M-1``) the data are

    s[a, b, m] = <phi_a| exp(-i H t_m) |phi_b>,        h[a, b, m] = <phi_a| H exp(-i H t_m) |phi_b>.

The Krylov basis ``|phi_{k,a}> = exp(-i H k dt)|phi_a>`` (basis index ``k R + a``) then has

    S[(j,a),(k,b)] = s[a, b, k-j]              (k >= j),   conj(s[b, a, j-k])  (k < j),

because ``<phi_a|exp(+i H t)|phi_b> = conj(<phi_b|exp(-i H t)|phi_a>)``; ``H`` and the one-step unitary
``U = exp(-i H dt)`` (lag ``k - j + 1``) follow the same rule. With one reference S and H are Hermitian Toeplitz;
with several, the off-diagonal blocks need both ``s[a, b]`` and ``s[b, a]`` (both signs of the lag).
Reference: Klymko et al., PRX Quantum 3, 020323 (2022); Shen et al., Quantum 7, 1066 (2023).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from qdyn.errors import check_int, check_positive
from qdyn.results import Metadata, Resources, Result

__all__ = ["KrylovData", "check_times", "krylov_matrices", "time_grid"]


def time_grid(dt: float, n_times: int) -> np.ndarray:
    """The uniform grid ``t_m = m dt``, ``m = 0..n_times-1``."""
    return check_positive("dt", dt) * np.arange(check_int("n_times", n_times, minimum=2))


def check_times(times) -> tuple[np.ndarray, float]:
    """Validate a uniform grid ``t_m = m dt`` (``m = 0..M-1``, ``M >= 2``, ``dt > 0``); return ``(times, dt)``."""
    t = np.asarray(times, dtype=float)
    if t.ndim != 1 or t.size < 2:
        raise ValueError(f"times must be a 1-D grid of at least 2 times (K >= 2), got shape {t.shape}")
    if not np.all(np.isfinite(t)):
        raise ValueError("times must be finite")
    if t[0] != 0:
        raise ValueError(f"times must start at 0 (t_m = m*dt), got times[0] = {t[0]}")
    dt = float(t[1] - t[0])
    if dt <= 0:
        raise ValueError(f"the time step dt = times[1] - times[0] must be > 0, got {dt}")
    if not np.allclose(t, dt * np.arange(t.size), rtol=1e-9, atol=1e-12 * dt):
        raise ValueError("times must be a uniform grid t_m = m*dt")
    return dt * np.arange(t.size), dt


@dataclass(frozen=True)
class KrylovData(Result):
    """Overlap data of a real-time Krylov run (see the module docstring for the index conventions).

    ``s_err`` and ``h_err`` hold the standard errors of the real parts (``.real``) and imaginary parts (``.imag``)
    of every element; they are zero for noiseless data. ``h`` is ``None`` when only overlaps were measured.
    ``bounds`` is an interval containing the spectrum of ``H`` that the references see (from the Lanczos run of
    the exact backends, else the whole spectrum), used for phase unwrapping and the aliasing check.
    """

    times: np.ndarray
    dt: float
    s: np.ndarray  #: shape (R, R, M)
    h: np.ndarray | None  #: shape (R, R, M) or None
    s_err: np.ndarray
    h_err: np.ndarray | None
    bounds: tuple[float, float]
    backend: str
    resources: Resources = field(default_factory=Resources)
    metadata: Metadata = field(default_factory=Metadata)

    @property
    def n_refs(self) -> int:
        return int(self.s.shape[0])

    @property
    def n_times(self) -> int:
        return int(self.s.shape[2])

    @property
    def noisy(self) -> bool:
        return bool(np.any(self.s_err.real > 0) or np.any(self.s_err.imag > 0))

    @property
    def noise_level(self) -> float:
        """Root-mean-square standard error of one overlap element (0 for exact data)."""
        err = self.s_err[..., 1:] if self.n_times > 1 else self.s_err
        return float(np.sqrt(np.mean(err.real**2 + err.imag**2)))

    def replace(self, **changes) -> KrylovData:
        """A copy with some fields replaced (used by the bootstrap)."""
        import dataclasses

        return dataclasses.replace(self, **changes)


def _lagged(rows: np.ndarray, dim: int, shift: int) -> np.ndarray:
    """Block matrix ``M[(j,a),(k,b)] = rows[a, b, k-j+shift]`` (conjugate-transposed rows for negative lags)."""
    n_refs, _, n_lags = rows.shape
    need = dim - 1 + shift
    if need >= n_lags:
        raise ValueError(f"Krylov dimension {dim} needs lags up to {need}, but the data has {n_lags} times")
    out = np.empty((dim * n_refs, dim * n_refs), dtype=complex)
    for j in range(dim):
        for k in range(dim):
            lag = k - j + shift
            block = rows[:, :, lag] if lag >= 0 else rows[:, :, -lag].conj().T
            out[j * n_refs:(j + 1) * n_refs, k * n_refs:(k + 1) * n_refs] = block
    return out


def krylov_matrices(data: KrylovData, dim: int, *, which: str = "SH") -> dict[str, np.ndarray]:
    """The projected matrices of Krylov dimension ``dim`` (per reference): ``S``, and ``H`` and/or ``U``.

    ``which`` is any combination of ``"S"``, ``"H"``, ``"U"``.
    """
    out = {}
    if "S" in which:
        out["S"] = _lagged(data.s, dim, 0)
    if "H" in which:
        if data.h is None:
            raise ValueError("this data has no Hamiltonian rows h(t); acquire it with with_h=True")
        out["H"] = _lagged(data.h, dim, 0)
    if "U" in which:
        out["U"] = _lagged(data.s, dim, 1)
    return out
