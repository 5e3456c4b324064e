"""1D Schrodinger eigenproblems ``-c psi'' + V psi = E psi`` (``c = hbar^2/2m``): problems with declared jumps,
analytic references, classical solvers that refine until they converge (or say they did not), and
physics-informed neural networks that bound their error::

    problem = qdyn.schrodinger.finite_well()                  # V = 20 outside |x| < 1.7, walls at +-6, atomic
    exact = problem.exact(4)                                  # transcendental equations, Brent's method
    cheb = qdyn.schrodinger.solve_eigen(problem, 4, method="cheb")    # split Chebyshev to tol=1e-10, in ms
    cheb.error_estimates, cheb.converged, cheb.discretisation          # what it says about itself
    pinn = qdyn.schrodinger.solve_eigen(problem, 4, method="pinn", seed=0)  # Rayleigh-Ritz, Kato-Temple bounds
    paper = qdyn.schrodinger.solve_eigen(problem, 1, method="pinn-paper", seed=0)  # the paper's residual PINN

A user's potential is any vectorised callable: ``Problem(lambda x: x**4, (-8, 8), "decaying")`` is the quartic
oscillator on the line, whose window the solvers widen when the states have not decayed at its edges.

References: "Physics-Informed Neural Networks for One-Dimensional Quantum Well Problems" (2025) for
``method="pinn-paper"``; Colbert & Miller, J. Chem. Phys. 96, 1982 (1992) for the DVR; Trefethen, Spectral
Methods in MATLAB.
"""

from qdyn.schrodinger import exact, potentials
from qdyn.schrodinger.potentials import Potential
from qdyn.schrodinger.problems import (
    Problem,
    barrier,
    double_well,
    finite_well,
    harmonic_oscillator,
    infinite_well,
    morse,
    poschl_teller,
    quartic_oscillator,
)
from qdyn.schrodinger.quadrature import split_gauss_legendre
from qdyn.schrodinger.reference import reference_levels
from qdyn.schrodinger.result import EigenResult
from qdyn.schrodinger.solve import METHODS, solve_eigen
from qdyn.schrodinger.units import ATOMIC, NATURAL, Units, as_units

__all__ = [
    "ATOMIC",
    "METHODS",
    "NATURAL",
    "EigenResult",
    "Potential",
    "Problem",
    "Units",
    "as_units",
    "barrier",
    "double_well",
    "exact",
    "finite_well",
    "harmonic_oscillator",
    "infinite_well",
    "morse",
    "poschl_teller",
    "potentials",
    "quartic_oscillator",
    "reference_levels",
    "solve_eigen",
    "split_gauss_legendre",
]
