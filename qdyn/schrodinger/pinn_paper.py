"""The paper's PINN eigen-solver: ``solve_eigen(problem, 1, method="pinn-paper")``.

After "Physics-Informed Neural Networks for One-Dimensional Quantum Well Problems" (2025): the hard-Dirichlet trial
function ``psi = (x - a)(b - x) N(x)`` with ``N`` a tanh network, the loss
``mean((-c psi'' + V psi - E psi)^2) + lambda (L mean(psi^2) - 1)^2`` on seeded uniform collocation points,
``E`` fixed (``energy=``, e.g. ``pi^2`` for the infinite well) or a trainable scalar, Adam, float32 by default,
one state (``k=1``). The choices the paper leaves open are made so that it works on stiff problems too (the
atomic-unit well ``-psi''/2 + V psi``, ``V = 20`` outside ``|x| < 1.7``, walls at ``+-6``, failed with 0.62
relative error under the earlier choices: its untrained, box-wide ``psi`` has a Rayleigh quotient near
``max V``, the trainable ``E`` followed it up and the network settled on a high level; and the residual loss
is ill-conditioned there, its curvature along the next even level ``(E_2 - E_0)^2`` being ~50 times below
``(max V)^2``):

* input ``feature_scale * t``, ``t`` the position scaled to ``[-1, 1]`` and the stretch the half-width over
  two decay lengths ``sqrt(c / s)`` (``s`` the energy scale; 19 for that well, 1 for the infinite well);
* an even network (``N(x) + N(-x)``) when the problem is mirror symmetric (``parity=True``): the ground state
  is even, so the network cannot slide to the odd first excited state;
* ``E = E_init + u theta`` with ``theta`` trained, ``E_init`` a rough guess (``energy_init=``, default the
  lowest level of an 8-point finite-difference grid, 1e-2 to 2e-1 off) and ``u`` a quarter of
  ``E_init - min V``, so ``E`` drifts to the nearest level instead of chasing the untrained Rayleigh quotient;
* ``lambda = (E_init - min V)^2`` (a stiffer penalty pins ``|psi|`` and slows Adam; this one still makes
  ``psi = 0`` lose), 512 fixed seeded collocation points, Adam with the learning rate decaying geometrically
  from ``1e-2`` to ``1e-3`` over 6000 epochs, and the iterate of lowest loss kept (not the last one).

The reported energy is the Rayleigh quotient of the trained ``psi`` by split Gauss-Legendre quadrature, with its
residual ``r`` and Kato-Temple error bound (:mod:`qdyn.schrodinger.pinn_common`; ``tol`` default 1e-3, the
paper's accuracy); the paper's trained ``E`` is in ``history[0]["energy"]``
(near a jump of ``V`` it is biased by the network's smoothing of the kink in ``psi''``, ~1e-2, whereas the
Rayleigh quotient is second order in the error of ``psi``).
"""

from __future__ import annotations

import numpy as np

from qdyn.errors import check_int, check_positive
from qdyn.results import Stopwatch
from qdyn.schrodinger.pinn_common import (
    box_of,
    check_problem,
    energy_scale,
    judge,
    neighbour_levels,
    pinn_fingerprint,
    pinn_result,
    pinn_setup,
    rayleigh_residuals,
)
from qdyn.schrodinger.pinn_grid import PINNGrid

__all__ = ["solve_pinn_paper"]


def solve_pinn_paper(
    problem,
    k: int = 1,
    *,
    tol: float = 1e-3,
    seed=None,
    device: str = "cpu",
    precision: str = "single",
    width: int = 32,
    depth: int = 2,
    adam_epochs: int = 6000,
    lbfgs_iters: int = 0,
    lr: float = 1e-2,
    lr_final: float | None = None,
    n_quad: int = 48,
    parity: bool = True,
    feature_scale: float | None = None,
    energy: float | None = None,
    energy_init: float | None = None,
    n_collocation: int = 512,
    norm_weight: float | None = None,
    progress: bool = False,
    checkpoint=None,
    resume: bool = True,
    checkpoint_every: int = 100,
    callback=None,
):
    """The ground level of ``problem`` by the paper's residual PINN (see the module docstring); ``k`` must be 1.

    One ``width`` x ``depth`` tanh network (even when ``parity`` and the problem is mirror symmetric), trained by
    Adam for ``adam_epochs`` from ``lr`` to ``lr_final`` (default ``lr / 10``), keeping the iterate of lowest
    loss, then ``lbfgs_iters`` L-BFGS iterations (default none). ``feature_scale``, ``energy`` (fixed ``E``),
    ``energy_init``, ``n_collocation`` and ``norm_weight`` default as in the module docstring; ``n_quad`` sets
    the evaluation nodes. ``precision`` (default the paper's ``"single"``), ``device``, ``seed`` and the long-work
    options as in :func:`qdyn.schrodinger.pinn_ritz.solve_pinn_ritz`. Returns an
    :class:`~qdyn.schrodinger.result.EigenResult` with ``method="pinn-paper"``.
    """
    k, tol = check_problem(problem, k, tol)
    if k != 1:
        raise ValueError(f"method='pinn-paper' solves one state (k=1), as in the paper; got k={k}. "
                         "Use method='pinn' for excited states.")
    grid = PINNGrid(box_of(problem), problem.breakpoints, 0.5 * sum(problem.domain))
    setup = pinn_setup(problem, seed=seed, device=device, precision=precision, width=width, depth=depth,
                       adam_epochs=adam_epochs, lbfgs_iters=lbfgs_iters, lr=lr, lr_final=lr_final,
                       lr_final_ratio=1 / 10, n_quad=n_quad, tol=tol, grid=grid)
    from qdyn.nets.pinn import PINNWavefunction
    from qdyn.nets.pinn_training import paper_objective, train

    torch, tensor, c, (a, b) = setup.torch, setup.tensor, problem.c, problem.domain
    with Stopwatch() as clock:
        rng = np.random.default_rng(setup.seed)
        x_col = np.sort(rng.uniform(a, b, check_int("n_collocation", n_collocation, minimum=8)))
        v_min = float(problem.V(setup.nodes).min())
        fixed = energy is not None
        e0 = float(energy if fixed else (energy_init if energy_init is not None else _energy_guess(problem)))
        # Energy unit of the trainable E (E = e0 + unit * theta, Adam moves theta by ~lr a step): a quarter of the
        # guess above min V, so E drifts to the level nearest the guess instead of chasing the untrained psi's
        # Rayleigh quotient (up to max V) and landing on a higher level.
        unit = 0.25 * max(e0 - v_min, problem.c * (np.pi / problem.length) ** 2)
        # the ground state of a mirror-symmetric problem is even: an even network cannot drift to the odd first
        # excited state (the barrier's tunnelling partner lies only 38% higher)
        even = bool(parity and problem.parity_center is not None)
        model = PINNWavefunction(
            problem.domain,
            width=setup.width,
            depth=setup.depth,
            parity=1 if even else None,
            feature_scale=check_positive(
                "feature_scale", _feature_scale(problem) if feature_scale is None else feature_scale),
            seed=setup.seed,
            dtype=setup.dtype,
            device=setup.device,
        )
        theta = torch.nn.Parameter(tensor(0.0), requires_grad=not fixed)
        modules = {"psi": model} if fixed else {"psi": model, "energy": _Scalar(theta)}

        def energy_value():
            return e0 + unit * theta

        # A stiff penalty (the residual's scale squared) pins |psi| and slows Adam along the constraint;
        # (E - min V)^2 still makes psi = 0 (loss norm_weight) worse than a state whose mean squared residual is
        # below it.
        norm_weight = check_positive("norm_weight", (e0 - v_min) ** 2 if norm_weight is None else norm_weight)
        objective = paper_objective(model, energy_value, tensor(x_col), tensor(problem.V(x_col)), c,
                                    problem.length, norm_weight)
        fingerprint = pinn_fingerprint(problem, k, "pinn-paper", setup, modules, parity=even,
                                       feature_scale=model.feature_scale, energy=energy, energy_init=e0,
                                       n_collocation=int(x_col.size), norm_weight=norm_weight)
        history = train(objective, modules, adam_epochs=setup.adam_epochs, lbfgs_iters=setup.lbfgs_iters,
                        lr=setup.lr, lr_final=setup.lr_final, progress=progress,
                        desc=f"PINN (paper) {problem.name}", checkpoint=checkpoint, resume=resume,
                        fingerprint=fingerprint, checkpoint_every=checkpoint_every, callback=callback,
                        keep_best=True)
        with torch.no_grad():
            psi, d1, d2 = (f.detach()[:, None] for f in model.derivatives(setup.x_eval))
            e, res = rayleigh_residuals(psi, d1, d2, setup.w_eval, setup.v_eval, c)
            states = model(tensor(setup.x_grid)).detach().cpu().numpy()[None, :]
        step = 2 if even else 1
        levels = neighbour_levels(problem, setup, [0], step)
        judged = judge(problem, setup, levels, [float(e[0])], [float(res[0])], [0], step)
    return pinn_result(problem, k, "pinn-paper", setup, energies=[float(e[0])], residuals=[float(res[0])],
                       states=states, modules=modules, history=history, wall_time=clock.elapsed, judged=judged,
                       extra_history={"best_epoch": history["best_epoch"]})


def _energy_guess(problem) -> float:
    """Starting energy, a rough hand estimate: the lowest level of an 8-point finite-difference grid (1e-2 to
    2e-1 relative error on the wells and barriers here)."""
    from qdyn.schrodinger.fd import fd_eigen

    return float(fd_eigen(problem, 1, n=8)[0][0])


def _feature_scale(problem) -> float:
    """Input stretch: the half-width over two decay lengths ``sqrt(c / s)`` (``s`` the energy scale), at least 1 -
    about 19 for the atomic-unit well, 1 for the infinite well on [0, 1]."""
    return max(1.0, 0.5 * (problem.length / 2) * np.sqrt(energy_scale(problem) / problem.c))


class _Scalar:
    """Holds the trainable energy so :func:`qdyn.nets.pinn_training.train` can optimise and checkpoint it."""

    def __init__(self, param):
        self.param = param

    def parameters(self):
        return [self.param]

    def state_dict(self):
        return {"value": self.param.detach().clone()}

    def load_state_dict(self, state):
        self.param.data.copy_(state["value"])
