"""Error bounds of approximate eigenpairs from their residuals: Krylov-Weinstein and Kato-Temple.

For a normalised trial function ``psi`` with Rayleigh quotient ``E = <psi|H|psi>`` and residual
``r = ||H psi - E psi||``:

* **Krylov-Weinstein**: some eigenvalue lies in ``[E - r, E + r]`` - first order in ``r``, and blind to which.
* **Kato-Temple** (T. Kato, J. Phys. Soc. Japan 4, 334 (1949); G. Temple, Proc. R. Soc. A 119, 276 (1928)): if
  ``(alpha, beta)`` contains ``E`` and no eigenvalue but ``lambda``, then

      E - r^2 / (beta - E)  <=  lambda  <=  E + r^2 / (E - alpha),

  second order in ``r``: a residual of 1e-2 with a gap of 10 bounds the error by 1e-5. Here ``lambda`` is the
  ``n``-th level and ``alpha``, ``beta`` the levels next to it *that ``psi`` can overlap*: for a trial function of
  definite parity (a parity network of a mirror-symmetric problem) those of the same parity, ``lambda_{n-2}``
  and ``lambda_{n+2}`` (in 1D the ``n``-th level has parity ``(-1)^n``), else ``lambda_{n-1}`` and
  ``lambda_{n+1}`` (``alpha = -inf`` below the ground level).

The neighbouring levels come from the converged Chebyshev solve of the operator the trial functions live in
(:func:`qdyn.schrodinger.refine.refine`), and the gaps are shrunk by its error estimates, so the bound is
rigorous up to those estimates and the quadrature of ``E`` and ``r``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["kato_temple"]


def kato_temple(energies, residuals, levels, level_errors, indices, step: int) -> tuple[np.ndarray, np.ndarray]:
    """``(bounds, identified)`` for trial states ``n = indices[i]`` with Rayleigh quotients ``energies`` and
    residuals ``residuals``: ``max(r^2/(beta - E), r^2/(E - alpha))`` with ``alpha = levels[n - step]``,
    ``beta = levels[n + step]`` widened by ``level_errors`` (module docstring). Where ``E`` is not inside
    ``(alpha, beta)`` the state does not approximate the ``n``-th level: ``identified`` is ``False`` there and the
    bound is ``|E - levels[n]| + level_errors[n]`` (what the reference says), never the residual."""
    energies, residuals = np.asarray(energies, dtype=float), np.asarray(residuals, dtype=float)
    levels, level_errors = np.asarray(levels, dtype=float), np.asarray(level_errors, dtype=float)
    bounds, identified = np.empty(energies.size), np.ones(energies.size, dtype=bool)
    for i, (n, e, r) in enumerate(zip(indices, energies, residuals, strict=True)):
        alpha = levels[n - step] + level_errors[n - step] if n >= step else -np.inf
        beta = levels[n + step] - level_errors[n + step]
        if alpha < e < beta:
            bounds[i] = max(r * r / (beta - e), r * r / (e - alpha))
        else:
            identified[i] = False
            bounds[i] = abs(e - levels[n]) + level_errors[n]
    return bounds, identified
