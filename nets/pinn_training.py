"""Training loops for PINN eigen-solvers (see :mod:`qdyn.nets.pinn` for the networks).

Two objectives, on tensors prepared by :mod:`qdyn.schrodinger.pinn_ritz` and :mod:`qdyn.schrodinger.pinn_paper`:

* :func:`ritz_objective` (``method="pinn"``): every parity network spans a subspace ``phi_j(x)`` (its last hidden
  layer times the envelope); the Rayleigh-Ritz step solves ``A y = E B y`` with ``B_ij = <phi_i|phi_j>`` and
  ``A_ij = <phi_i|H|phi_j> = int (c phi_i' phi_j' + V phi_i phi_j) dx`` by Gauss-Legendre quadrature split at the
  jumps. The lowest Ritz values are Rayleigh quotients of orthonormal trial functions, hence upper bounds of the
  exact levels (min-max), and the higher ones are deflated against the lower by construction. The loss is
  ``sum_n log(E_n - min V) + w sum_n ||H psi_n - E_n psi_n||^2 / s^2`` over the wanted states (``s`` an energy
  scale; the residual of a normalised Ritz vector is scale invariant).
* :func:`paper_objective` (``method="pinn-paper"``): mean squared residual ``(-c psi'' + V psi - E psi)^2`` on
  collocation points plus ``lambda (L mean(psi^2) - 1)^2``, with ``E`` fixed or trainable.

:func:`train` runs rounds of Adam then L-BFGS on such an objective with tqdm progress, a history, a callback,
and checkpoint/resume: the networks, optimiser state, round, phase, epoch and history are saved every
``checkpoint_every`` epochs, at the end of each phase and on ``KeyboardInterrupt``, with the fingerprint of the
problem, and a checkpoint of another problem or an unreadable one is refused (:mod:`qdyn.nets.training`).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from qdyn.nets.training import CheckpointError, load_checkpoint, progress_bar, save_checkpoint

__all__ = ["ritz_basis", "ritz_eigenpairs", "ritz_objective", "paper_objective", "train"]


def ritz_basis(model, x, w, tolerance: float = 1e-7):
    """An orthonormal basis ``g = f @ M`` (``sum w g_i g_j = delta_ij``) of the span of the columns ``f`` of
    ``model.basis(x)``. With ``D`` the column norms, the QR factorisation ``sqrt(w) f D^-1 = Q R`` flags the
    columns nearly in the span of the previous ones (``|R_jj| < tolerance max |R_ii|``), which are dropped; the
    QR of the kept columns gives ``M = D^-1 R^-1`` and a Cholesky pass restores orthonormality to rounding.
    QR, unlike an eigen-decomposition of the Gram matrix, has a derivative free of ``1/(s_i - s_j)`` factors.
    Returns ``(g, g', g'', M)`` (``M`` maps the kept columns; dropped rows are zero)."""
    f, f1, f2 = model.basis(x)
    sw = torch.sqrt(w)[:, None]
    d = torch.sqrt((sw * f).square().sum(0))
    diag = torch.linalg.qr(sw * f / d)[1].diagonal().abs()
    keep = diag > tolerance * diag.max()
    r = torch.linalg.qr(sw * f[:, keep] / d[keep])[1]
    eye = torch.eye(r.shape[0], dtype=r.dtype, device=r.device)
    m_keep = torch.linalg.solve_triangular(r, eye, upper=True) / d[keep][:, None]  # D^-1 R^-1
    chol = torch.linalg.cholesky((f[:, keep] @ m_keep).T @ (w[:, None] * (f[:, keep] @ m_keep)))
    m_keep = torch.linalg.solve_triangular(chol.T, m_keep, upper=True, left=False)  # m chol^-T
    m = torch.zeros(f.shape[1], m_keep.shape[1], dtype=f.dtype, device=f.device)
    m[keep] = m_keep
    return f @ m, f1 @ m, f2 @ m, m


def ritz_eigenpairs(model, x, w, v, c: float, n_states: int):
    """The ``n_states`` lowest Ritz values and vectors of ``H = -c d^2 + V`` in the span of ``model.basis``:
    ``(E, psi, psi', psi'', coefficients)`` with ``psi = model.basis(x)[0] @ coefficients`` (columns).

    In the orthonormal basis ``g``, ``A - v_min = G^T G`` with ``G = [sqrt(c w) g'; sqrt(w (V - v_min)) g]``,
    so ``E = v_min + sigma^2`` from the singular values of ``G``: their absolute error is ``eps ||G||``, whereas
    an eigen-solver on ``A`` would err by ``eps ||A|| = eps ||G||^2`` - large when nearly dependent basis
    functions give a few huge, high-energy directions."""
    g, g1, g2, m = ritz_basis(model, x, w)
    v_min = float(v.min())
    big_g = torch.cat([torch.sqrt(c * w)[:, None] * g1, torch.sqrt(w * (v - v_min))[:, None] * g], 0)
    _, sigma, vh = torch.linalg.svd(big_g, full_matrices=False)
    sigma, y = sigma.flip(0)[:n_states], vh.flip(0)[:n_states].T
    return v_min + sigma**2, g @ y, g1 @ y, g2 @ y, m @ y


def ritz_objective(
    models: dict, counts: dict, x, w, v, c: float, scale: float, residual_weight: float = 0.0
) -> Callable:
    """Loss closure over parity networks ``models[p]``, each giving its ``counts[p]`` lowest states.

    Each Ritz value enters as ``log(E_n - min V)``, whose gradient ``grad E_n / (E_n - min V)`` makes every
    level improve at the same relative rate - the ground state is not drowned by the larger excited energies.
    (This loss replaced ``E_n / (E_n - min V)`` with a detached denominator: same gradient, but its value is
    the constant ``k`` when ``min V = 0``, so L-BFGS's line search saw no decrease and stopped at once.) The
    ``E_n`` are the Rayleigh quotients of the Ritz vectors' function values, stationary in the rounding errors
    of the basis.
    """
    v_min = float(v.min())

    def objective():
        loss, energies = 0.0, []
        for p, model in models.items():
            _, psi, d1, d2, _ = ritz_eigenpairs(model, x, w, v, c, counts[p])
            # Rayleigh quotients of the Ritz vectors' function values: stationary in rounding errors of the
            # basis, so smooth to ~eps, unlike v_min + sigma^2 (which carries the basis' orthonormality error).
            e = (w[:, None] * (c * d1 * d1 + v[:, None] * psi * psi)).sum(0) / (w[:, None] * psi * psi).sum(0)
            loss = loss + torch.log((e - v_min).clamp(min=1e-12 * scale)).sum()
            if residual_weight:
                res = -c * d2 + (v[:, None] - e[None, :]) * psi
                loss = loss + residual_weight * (w[:, None] * res * res).sum() / scale**2
            energies.extend(float(val) for val in e.detach())
        return loss, sorted(energies)

    return objective


def paper_objective(model, energy: Callable, x, v, c: float, length: float, norm_weight: float = 1.0) -> Callable:
    """Mean squared residual ``(-c psi'' + V psi - E psi)^2`` on collocation points ``x`` plus
    ``norm_weight (length mean(psi^2) - 1)^2``; ``energy()`` gives ``E`` (a fixed or trainable scalar)."""

    def objective():
        e = energy()
        psi, _, d2 = model.derivatives(x)
        res = -c * d2 + (v - e) * psi
        norm = length * (psi * psi).mean()
        loss = (res * res).mean() + norm_weight * (norm - 1.0) ** 2
        return loss, [float(e.detach())]

    return objective


def train(
    objective: Callable,
    modules: dict,
    *,
    adam_epochs: int,
    lbfgs_iters: int = 0,
    lr: float = 1e-3,
    lr_final: float | None = None,
    rounds: int = 1,
    after_round: Callable[[], tuple[float, bool]] | None = None,
    progress: bool = False,
    desc: str = "",
    checkpoint=None,
    resume: bool = True,
    fingerprint: dict | None = None,
    checkpoint_every: int = 100,
    callback: Callable | None = None,
    lbfgs_chunk: int = 20,
    keep_best: bool = False,
    lbfgs_guard: Callable[[], Callable[[], float]] | None = None,
) -> dict:
    """Up to ``rounds`` rounds of Adam for ``adam_epochs`` (learning rate decaying geometrically from ``lr`` to
    ``lr_final``, constant when ``None``) then L-BFGS (strong Wolfe) for up to ``lbfgs_iters`` iterations. Every
    round restarts the decay at ``lr`` (a warm restart: Loshchilov & Hutter, ICLR 2017; on the ``sech^2`` well
    the Ritz PINN's worst relative error after two rounds fell from 2.6e-6, at a tenth of the rate, to 4.3e-9).
    Options are keyword-only.

    ``modules`` maps names to ``nn.Module`` objects trained together (their parameters are the optimiser's).
    ``objective()`` returns ``(loss, energies)``; its value must be the function whose gradient it gives
    (L-BFGS's line search compares values). Returns the history ``{"loss": [...], "energy": [[...], ...]}``
    (one entry per Adam epoch or L-BFGS chunk), ``"epochs"``, ``"rounds"`` (the rounds run) and
    ``"best_epoch"``. ``callback(epoch, loss, energies)`` runs after each entry.

    ``after_round()`` returns ``(score, done)`` after each round: the modules end with the parameters of the
    round of lowest score, and training stops after a round that is ``done``. With ``keep_best`` the Adam phase
    ends at its iterate of lowest loss (``history["best_epoch"]``, 1-based) rather than the last one.
    ``lbfgs_guard()``, when given, is called at the start of every L-BFGS phase and returns an acceptance
    test: a chunk is kept only when the test's value falls below its value for the last kept chunk.

    ``checkpoint`` (a path): the networks, optimiser states, round, phase, epoch and history are saved every
    ``checkpoint_every`` epochs, at the end of each phase and on ``KeyboardInterrupt``, with ``fingerprint``
    (:func:`qdyn.nets.training.save_checkpoint`); with ``resume`` an existing file is loaded - refused with a
    :class:`~qdyn.nets.training.CheckpointError` when it is unreadable or records another fingerprint - and
    training continues where it stopped.

    L-BFGS minimises ``objective / g0`` with ``g0`` the largest gradient component when it starts: torch's
    L-BFGS takes a first step of ``min(1, 1/|g|_1)`` along ``-g``, which after Adam (``|g| ~ 1e-6``) changes the
    loss by less than its rounding noise, so the line search used to fail and L-BFGS stopped at once. A chunk
    that ends before ``lbfgs_chunk`` iterations without running out of evaluations has converged.
    """
    params = [p for m in modules.values() for p in m.parameters()]
    adam = torch.optim.Adam(params, lr=lr)
    lbfgs = torch.optim.LBFGS(
        params,
        lr=1.0,
        max_iter=lbfgs_chunk,
        max_eval=5 * lbfgs_chunk,
        history_size=50,
        tolerance_grad=1e-14,
        tolerance_change=1e-15,
        line_search_fn="strong_wolfe",
    )
    per_round = adam_epochs + lbfgs_iters
    history = {"loss": [], "energy": []}
    state = {"round": 0, "phase": "adam", "epoch": 0, "round_start": 0, "lbfgs_scale": None,
             "best": {"loss": float("inf"), "epoch": 0, "modules": None},
             "best_round": {"score": float("inf"), "modules": None}}
    saved = load_checkpoint(checkpoint, fingerprint=fingerprint) if (checkpoint is not None and resume) else None
    if saved is not None:
        try:
            for name, m in modules.items():
                m.load_state_dict(saved["modules"][name])
            adam.load_state_dict(saved["adam"])
            if saved["lbfgs"] is not None:
                lbfgs.load_state_dict(saved["lbfgs"])
            history, state = saved["history"], saved["state"]
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            raise CheckpointError(f"the checkpoint {checkpoint} does not hold this PINN's training state "
                                  f"({type(exc).__name__}: {exc}); delete it or pass resume=False to start "
                                  "afresh") from None

    def snapshot():
        return {name: {k: v.detach().clone() for k, v in m.state_dict().items()} for name, m in modules.items()}

    def restore(snap):
        for name, m in modules.items():
            m.load_state_dict(snap[name])

    def save():
        if checkpoint is not None:
            save_checkpoint(
                checkpoint,
                {
                    "modules": {name: m.state_dict() for name, m in modules.items()},
                    "adam": adam.state_dict(),
                    "lbfgs": lbfgs.state_dict() if state["phase"] == "lbfgs" else None,
                    "history": history,
                    "state": state,
                },
                fingerprint=fingerprint,
            )

    def record(loss, energies):
        history["loss"].append(float(loss))
        history["energy"].append(list(energies))
        if callback is not None:
            callback(state["epoch"], float(loss), energies)

    def closure():
        lbfgs.zero_grad()
        loss, _ = objective()
        loss = loss * state["lbfgs_scale"]
        loss.backward()
        return loss

    bar = progress_bar(rounds * per_round, progress, desc, initial=min(state["epoch"], rounds * per_round))
    try:
        while state["phase"] != "done":
            start = state["round_start"]  # first epoch of this round
            while state["phase"] == "adam" and state["epoch"] < start + adam_epochs:
                if lr_final is not None:
                    for group in adam.param_groups:
                        group["lr"] = lr * (lr_final / lr) ** ((state["epoch"] - start) / adam_epochs)
                adam.zero_grad()
                loss, energies = objective()
                loss.backward()
                if keep_best and float(loss.detach()) < state["best"]["loss"]:
                    # the parameters that gave this loss (before the step below moves them)
                    state["best"] = {"loss": float(loss.detach()), "epoch": state["epoch"] + 1,
                                     "modules": snapshot()}
                adam.step()
                state["epoch"] += 1
                record(loss.detach(), energies)
                bar.update(1)
                bar.set_postfix(loss=f"{float(loss.detach()):.3e}", E0=f"{energies[0]:.10g}")
                if checkpoint is not None and state["epoch"] % checkpoint_every == 0:
                    save()
            if state["phase"] == "adam":
                if keep_best and state["best"]["modules"] is not None:
                    restore(state["best"]["modules"])
                state["phase"], state["lbfgs_scale"] = "lbfgs", None
                lbfgs.state.clear()
                save()
            _lbfgs_phase(state, start + per_round, lbfgs, closure, objective, params, modules, lbfgs_guard, snapshot,
                         restore, record, bar, lbfgs_chunk, checkpoint is not None and checkpoint_every, save)
            score, done = after_round() if after_round is not None else (0.0, True)
            if score < state["best_round"]["score"]:
                state["best_round"] = {"score": score, "modules": snapshot()}
            state["round"], state["round_start"] = state["round"] + 1, state["epoch"]
            state["phase"] = "done" if (done or state["round"] >= rounds) else "adam"
            save()
        if state["best_round"]["modules"] is not None:
            restore(state["best_round"]["modules"])
    except KeyboardInterrupt:
        save()
        raise
    finally:
        bar.close()
    history["epochs"] = state["epoch"]
    history["rounds"] = state["round"]
    history["best_epoch"] = state["best"]["epoch"] if keep_best else None
    return history


def _lbfgs_phase(state, stop, lbfgs, closure, objective, params, modules, guard_factory, snapshot, restore, record,
                 bar, chunk, every, save) -> None:
    """L-BFGS chunks of ``chunk`` iterations until epoch ``stop`` (see :func:`train`)."""
    if state["phase"] != "lbfgs" or state["epoch"] >= stop:
        return
    if state["lbfgs_scale"] is None:
        lbfgs.zero_grad()
        objective()[0].backward()
        largest = max(float(p.grad.abs().max()) for p in params if p.grad is not None)
        state["lbfgs_scale"] = 1.0 / largest if largest > 0 else 1.0
    guard = guard_factory() if guard_factory is not None else None
    accepted = (guard(), snapshot()) if guard is not None else None
    last_loss = float("inf")
    while state["epoch"] < stop:
        opt_state = lbfgs.state[params[0]] if params[0] in lbfgs.state else {}
        before, evals = opt_state.get("n_iter", 0), opt_state.get("func_evals", 0)
        lbfgs.step(closure)
        opt_state = lbfgs.state[params[0]]
        done = opt_state["n_iter"] - before
        state["epoch"] += done
        if accepted is not None:
            value = guard()
            if not value < accepted[0]:
                restore(accepted[1])
                break
            accepted = (value, snapshot())
        with torch.no_grad():
            loss, energies = objective()
        record(loss, energies)
        bar.update(done)
        bar.set_postfix(loss=f"{float(loss.detach()):.3e}", E0=f"{energies[0]:.10g}")
        if done < chunk and opt_state["func_evals"] - evals < 5 * chunk:
            # stopped early: converged, or the line search found no decrease along a direction spoilt by the
            # objective's rounding noise (~1e-11 relative for the Ritz values). Restart from steepest descent
            # after a chunk that made progress; stop after one that did not.
            if float(loss) >= last_loss:
                break
            lbfgs.state.clear()
        last_loss = float(loss)
        if every and state["epoch"] % every < chunk:
            save()
