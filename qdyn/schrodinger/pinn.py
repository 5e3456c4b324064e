"""Physics-informed neural network eigen-solvers, two methods of :func:`qdyn.schrodinger.solve_eigen`:

* ``method="pinn"`` - :func:`~qdyn.schrodinger.pinn_ritz.solve_pinn_ritz`: Rayleigh quotients by split
  Gauss-Legendre quadrature and a Rayleigh-Ritz step in each network's last hidden layer, all ``k`` levels at
  once, Adam then L-BFGS in float64;
* ``method="pinn-paper"`` - :func:`~qdyn.schrodinger.pinn_paper.solve_pinn_paper`: the residual method of
  "Physics-Informed Neural Networks for One-Dimensional Quantum Well Problems" (2025), one level, float32.

Both report each level's Rayleigh quotient, its residual ``r = ||H psi - E psi||`` on nodes finer than the
training ones, and the Kato-Temple bound ``r^2 / gap`` of its error, judged against ``tol``
(:mod:`qdyn.schrodinger.pinn_common`). ``solve_pinn(problem, k, mode="default" | "paper")`` is the
former front door, kept one release as a deprecated alias.
"""

from __future__ import annotations

from qdyn.deprecation import warn_deprecated
from qdyn.errors import check_choice
from qdyn.schrodinger.pinn_paper import solve_pinn_paper
from qdyn.schrodinger.pinn_ritz import solve_pinn_ritz

__all__ = ["MODES", "PINN_SOLVERS", "method_for_mode", "solve_pinn", "solve_pinn_paper", "solve_pinn_ritz"]

#: the ``solve_eigen`` method names and their solvers
PINN_SOLVERS = {"pinn": solve_pinn_ritz, "pinn-paper": solve_pinn_paper}
_METHOD_OF_MODE = {"default": "pinn", "paper": "pinn-paper"}
MODES = tuple(_METHOD_OF_MODE)  #: the former (deprecated) ``mode=`` values


def method_for_mode(mode, *, stacklevel: int = 4) -> str:
    """The ``solve_eigen`` method that replaced ``mode`` (``"default"`` -> ``"pinn"``, ``"paper"`` ->
    ``"pinn-paper"``), with a ``DeprecationWarning`` attributed ``stacklevel`` frames up (4: the caller of the
    function that calls this)."""
    check_choice("mode", mode, MODES)
    method = _METHOD_OF_MODE[mode]
    warn_deprecated(f"the PINN mode={mode!r} is deprecated; use qdyn.schrodinger.solve_eigen(problem, k, "
                    f"method={method!r}) or {PINN_SOLVERS[method].__name__}(problem, k)", stacklevel=stacklevel)
    return method


def solve_pinn(problem, k: int = 1, mode: str = "default", **options):
    """Deprecated: ``mode="default"`` is :func:`solve_pinn_ritz` (``method="pinn"``), ``mode="paper"``
    :func:`solve_pinn_paper` (``method="pinn-paper"``); ``options`` go to that solver."""
    return PINN_SOLVERS[method_for_mode(mode)](problem, k, **options)
