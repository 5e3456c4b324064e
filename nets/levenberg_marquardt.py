"""Levenberg-Marquardt for a sparse linear map of a network's exponentiated outputs.

The residual is

    r(theta) = M exp(f_theta(x)) - y,

with ``f_theta`` a torch module giving one real number per input row (a log-probability, for a normalised
autoregressive model), ``x`` a fixed batch of inputs, ``M`` a sparse ``(rows, len(x))`` matrix and ``y`` a
target vector. Levenberg-Marquardt minimises ``||r||_2^2`` over the module's parameters (Nocedal & Wright,
*Numerical Optimization*, 2nd ed., section 10.3):

    delta = -(J^T J + lambda)^{-1} J^T r,    J = dr/dtheta = M diag(exp f) df/dtheta,

solved in the smaller of the row and parameter spaces (``J^T (J J^T + lambda)^{-1} r`` when there are fewer rows
than parameters). ``df/dtheta`` is built from per-input gradients (``torch.func.vmap`` of ``grad``), a block of
inputs at a time. ``lambda`` starts at ``1e-3`` times the mean diagonal of the normal matrix, shrinks 10x after a
step that lowers ``||r||_2`` and grows 4x after one that does not. It converges quadratically where first-order
methods stall, but holds a dense ``rows x parameters`` Jacobian: small problems only.
"""

from __future__ import annotations

import torch
from torch.func import functional_call, grad, vmap

__all__ = ["LevenbergMarquardt"]

#: Inputs per block of per-input gradients.
_BLOCK = 1024
#: Convergence by stalling: the L1 norm of the residual fell by less than 1% over this many iterations.
_STALL = 10


def _column_blocks(matrix, width: int):
    """A sparse ``(rows, cols)`` matrix cut into column blocks of ``width``: ``[(start, block), ...]``."""
    matrix = matrix.coalesce()
    rows, cols = matrix.indices()
    values = matrix.values()
    blocks = []
    for start in range(0, matrix.shape[1], width):
        stop = min(start + width, matrix.shape[1])
        keep = (cols >= start) & (cols < stop)
        blocks.append((start, torch.sparse_coo_tensor(torch.stack([rows[keep], cols[keep] - start]), values[keep],
                                                      (matrix.shape[0], stop - start), check_invariants=True)))
    return blocks


class LevenbergMarquardt:
    """Levenberg-Marquardt iterations on ``module``'s trainable parameters for ``r = M exp(module(x)) - y``.

    Parameters
    ----------
    module : a torch module mapping ``x`` (a batch) to one real value per row.
    inputs : the batch ``x``, evaluated whole (``module(x)``) and row by row for the Jacobian.
    matrix : the sparse ``M`` (``torch.sparse_coo_tensor``), shape ``(rows, len(x))``.
    target : ``y``, a tensor of length ``rows`` or a scalar.
    call_kwargs : keyword arguments of the per-row calls (e.g. ``{"validate": False}`` to skip input checks
        that ``vmap`` cannot trace).

    Each accepted :meth:`step` writes the new parameters into the module. :attr:`losses` holds ``||r||_1`` at the
    start and after every accepted step; :attr:`converged` turns true when no damping lowers ``||r||_2`` (the
    precision's limit) or ``||r||_1`` fell by less than 1% over the last 10 iterations.
    """

    def __init__(self, module, inputs, matrix, target, *, call_kwargs: dict | None = None):
        if not matrix.is_sparse or matrix.ndim != 2 or matrix.shape[1] != inputs.shape[0]:
            raise ValueError(f"matrix must be a sparse (rows, {inputs.shape[0]}) tensor, got "
                             f"{'sparse' if matrix.is_sparse else 'dense'} {tuple(matrix.shape)}")
        named = [(k, p) for k, p in module.named_parameters() if p.requires_grad]
        self._module, self._inputs, self._matrix, self._target = module, inputs, matrix, target
        self._parameters = [p for _, p in named]
        self._names, self._shapes = [k for k, _ in named], [p.shape for _, p in named]
        self._sizes = [p.numel() for _, p in named]
        self._theta = torch.cat([p.detach().reshape(-1) for _, p in named])
        self._blocks = _column_blocks(matrix, _BLOCK)
        kwargs = dict(call_kwargs or {})

        def single(params, row):
            return functional_call(module, params, (row[None],), kwargs)[0]

        self._per_row = vmap(grad(single), in_dims=(None, 0))
        with torch.no_grad():
            self._r, self._values = self._residual(self._theta)
        self._cost = float(self._r @ self._r)
        self._lam = None
        self.losses = [float(self._r.abs().sum())]
        self.converged = False

    @property
    def loss(self) -> float:
        """``||r||_1`` of the current parameters."""
        return self.losses[-1]

    def _unflatten(self, vector):
        return {k: t.reshape(shape)
                for k, t, shape in zip(self._names, torch.split(vector, self._sizes), self._shapes, strict=True)}

    def _residual(self, vector):
        values = torch.exp(functional_call(self._module, self._unflatten(vector), (self._inputs,)))
        return torch.sparse.mm(self._matrix, values[:, None])[:, 0] - self._target, values

    def _jacobian(self):
        params = self._unflatten(self._theta)
        J = torch.zeros(self._matrix.shape[0], self._theta.numel(), dtype=self._theta.dtype,
                        device=self._theta.device)
        for start, block in self._blocks:
            stop = start + block.shape[1]
            g = self._per_row(params, self._inputs[start:stop])
            with torch.no_grad():
                G = torch.cat([g[k].reshape(g[k].shape[0], -1) for k in self._names], 1)
                J += torch.sparse.mm(block, G * self._values[start:stop, None])
        return J

    def step(self) -> float:
        """One iteration (one Jacobian, damped solves until ``||r||_2`` drops); returns ``||r||_1`` after it."""
        if self.converged:
            return self.loss
        J = self._jacobian()
        with torch.no_grad():
            dual = J.shape[0] <= J.shape[1]
            G = J @ J.T if dual else J.T @ J
            rhs = self._r if dual else J.T @ self._r
            eye = torch.eye(G.shape[0], dtype=G.dtype, device=G.device)
            scale = float(G.diagonal().mean()) + 1e-300
            self._lam = 1e-3 * scale if self._lam is None else self._lam
            while self._lam < 1e12 * scale:
                solution = torch.linalg.solve(G + self._lam * eye, rhs)
                candidate = self._theta - (J.T @ solution if dual else solution)
                r_new, values_new = self._residual(candidate)
                if float(r_new @ r_new) < self._cost:
                    self._theta, self._r, self._values = candidate, r_new, values_new
                    self._cost = float(r_new @ r_new)
                    self._lam /= 10
                    break
                self._lam *= 4
            else:  # no damping lowers the loss: converged as far as this precision allows
                self.converged = True
                return self.loss
            for p, value in zip(self._parameters, self._unflatten(self._theta).values(), strict=True):
                p.copy_(value)
        self.losses.append(float(self._r.abs().sum()))
        if len(self.losses) > _STALL and self.losses[-1] > 0.99 * self.losses[-1 - _STALL]:
            self.converged = True
        return self.loss

    def state_dict(self) -> dict:
        """The damping, the loss history and the convergence flag (plain numbers, for a checkpoint); the
        parameters themselves live in the module."""
        return {"lam": self._lam, "losses": list(self.losses), "converged": self.converged}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned, on an instance built over the module's restored parameters."""
        self._lam, self.losses, self.converged = state["lam"], list(state["losses"]), bool(state["converged"])

    def run(self, max_iter: int, tol: float = 0.0) -> list[float]:
        """Up to ``max_iter`` iterations, stopping at convergence or once ``||r||_1 <= tol``; returns
        :attr:`losses`."""
        for _ in range(max_iter):
            if self.converged or self.loss <= tol:
                break
            self.step()
        return self.losses
