"""PINN trial wavefunctions for 1D eigenproblems on ``[a, b]`` with ``psi(a) = psi(b) = 0`` by construction.

``psi(x) = (1 - t^2) N(f(x))``, ``t = (x - m) / h`` (``m``, ``h`` the domain's centre and half-width), with ``N``
a fully connected network with a smooth activation and ``f(x)`` its input features: ``feature_scale * t``
(``feature_scale > 1`` stretches the input so that features much narrower than the domain - decay lengths of a
deep well - need no large first-layer weights, which Adam would take thousands of steps to grow) and, for every
declared kink position ``d`` (a jump of the potential, where ``psi''`` jumps), ``u |u|`` with ``u = (x - d) / h``,
whose second derivative jumps at ``d`` - so a smooth network can follow the exact wavefunction's kinks. With
``parity=+1`` or ``-1`` (potential and domain symmetric about ``m``) ``N`` is symmetrised,
``(N(f(x)) + parity N(f(2m - x))) / 2``, so ``psi`` has that parity exactly.

``derivatives(x)`` propagates ``(value, d/dx, d^2/dx^2)`` through the layers in one forward pass (for
``z = W h + b``: ``z' = W h'``, ``z'' = W h''``; ``sigma(z)'' = sigma''(z) z'^2 + sigma'(z) z''``), which is far
cheaper than nested automatic differentiation. Weights come from a seeded ``torch.Generator`` (Xavier-normal
weights, normal biases of standard deviation 0.5 - non-zero, else the even part of a tanh network vanishes),
float64 by default.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from qdyn.errors import check_choice, check_int
from qdyn.seeding import torch_generator

__all__ = ["PINNWavefunction", "ACTIVATIONS"]


def _tanh(z):
    a = torch.tanh(z)
    d1 = 1.0 - a * a
    return a, d1, -2.0 * a * d1


def _sin(z):
    s, c = torch.sin(z), torch.cos(z)
    return s, c, -s


#: activation -> function returning (sigma, sigma', sigma'')
ACTIVATIONS = {"tanh": _tanh, "sin": _sin}


class PINNWavefunction(nn.Module):
    """``psi(x)`` vanishing at the ends of ``domain``; ``forward(x)`` maps shape ``(n,)`` to ``(n,)``.

    Options (keyword-only): ``width`` x ``depth`` hidden units, ``activation`` (``"tanh"`` or ``"sin"``),
    ``parity`` (``None``, ``+1``, ``-1``), ``kinks`` (positions of the potential's jumps), ``decay`` (initial
    ``alpha`` of a trainable envelope ``exp(-alpha (t - t_c)^2)``; 0 for none) centred at ``envelope_center``
    (``x``, default the domain's centre; ``t_c`` its scaled position), ``input_scale`` (first-layer weight
    scale), ``feature_scale``, ``seed`` (int), ``dtype``, ``device``.
    """

    def __init__(
        self,
        domain,
        *,
        width: int = 32,
        depth: int = 2,
        activation: str = "tanh",
        parity: int | None = None,
        kinks=(),
        decay: float = 0.0,
        envelope_center: float | None = None,
        input_scale: float = 1.0,
        feature_scale: float = 1.0,
        seed: int = 0,
        dtype=torch.float64,
        device: str = "cpu",
    ):
        super().__init__()
        a, b = (float(v) for v in domain)
        if not a < b:
            raise ValueError(f"domain must have a < b, got ({a}, {b})")
        width = check_int("width", width, minimum=1)
        depth = check_int("depth", depth, minimum=1)
        check_choice("activation", activation, ACTIVATIONS)
        if parity not in (None, 1, -1):
            raise ValueError(f"parity must be None, +1 or -1, got {parity!r}")
        self.a, self.b = a, b
        self.center, self.half = 0.5 * (a + b), 0.5 * (b - a)
        self.parity = parity
        if not (math.isfinite(feature_scale) and feature_scale > 0):
            raise ValueError(f"feature_scale must be a positive number, got {feature_scale!r}")
        self.feature_scale = float(feature_scale)
        self.kinks = tuple(float(d) for d in kinks)
        if envelope_center is None:
            envelope_center = self.center
        if not math.isfinite(envelope_center) or (parity is not None and envelope_center != self.center):
            raise ValueError("envelope_center must be a finite number, the domain's centre for a parity network; "
                             f"got {envelope_center!r}")
        self.shift = (float(envelope_center) - self.center) / self.half
        self.log_decay = (
            nn.Parameter(torch.tensor(math.log(decay), dtype=dtype, device=device)) if decay else None
        )
        self.activation = ACTIVATIONS[activation]
        sizes = [1 + len(self.kinks)] + [width] * depth + [1]
        self.layers = nn.ModuleList(
            nn.Linear(i, o, dtype=dtype, device=device) for i, o in zip(sizes[:-1], sizes[1:], strict=True)
        )
        gen = torch_generator(seed, "cpu")
        with torch.no_grad():
            for i, layer in enumerate(self.layers):
                std = math.sqrt(2.0 / (layer.in_features + layer.out_features))
                scale = input_scale if i == 0 else 1.0
                layer.weight.copy_(
                    torch.randn(layer.weight.shape, generator=gen, dtype=dtype).to(device) * std * scale
                )
                layer.bias.copy_(
                    torch.randn(layer.bias.shape, generator=gen, dtype=dtype).to(device) * 0.5 * scale
                )

    def _features(self, x: torch.Tensor):
        """Input features and their first and second x-derivatives, each of shape ``(n, 1 + len(kinks))``."""
        t = self.feature_scale * (x - self.center) / self.half
        cols, d1, d2 = [t], [torch.full_like(t, self.feature_scale / self.half)], [torch.zeros_like(t)]
        for d in self.kinks:
            u = (x - d) / self.half
            cols.append(u * u.abs())
            d1.append(2.0 * u.abs() / self.half)
            d2.append(2.0 * torch.sign(u) / self.half**2)
        return torch.stack(cols, 1), torch.stack(d1, 1), torch.stack(d2, 1)

    def _hidden(self, x: torch.Tensor):
        """The last hidden layer's outputs and their x-derivatives, each ``(n, width)``."""
        h, h1, h2 = self._features(x)
        for layer in self.layers[:-1]:
            z, z1, z2 = layer(h), h1 @ layer.weight.T, h2 @ layer.weight.T
            s, s1, s2 = self.activation(z)
            h, h1, h2 = s, s1 * z1, s2 * z1 * z1 + s1 * z2
        return h, h1, h2

    def basis(self, x: torch.Tensor):
        """``(phi, phi', phi'')``, each ``(n, n_basis)``: the envelope times the last hidden layer's outputs
        and, unless ``parity == -1`` (whose odd part of a constant vanishes), a constant - all of the given
        parity, so that ``psi = phi @ output_coefficients()``."""
        h, h1, h2 = self._hidden(x)
        if self.parity is not None:
            m, m1, m2 = self._hidden(2.0 * self.center - x)  # d/dx of N(2m - x) flips the sign of N'
            p = self.parity
            h, h1, h2 = 0.5 * (h + p * m), 0.5 * (h1 - p * m1), 0.5 * (h2 + p * m2)
        if self.parity != -1:
            ones = torch.ones_like(h[:, :1])
            h, h1, h2 = torch.cat([h, ones], 1), torch.cat([h1, 0 * ones], 1), torch.cat([h2, 0 * ones], 1)
        t = ((x - self.center) / self.half)[:, None]
        e, e1, e2 = 1.0 - t * t, -2.0 * t / self.half, -2.0 / self.half**2
        if self.log_decay is not None:
            alpha = torch.exp(self.log_decay)
            u = t - self.shift
            q = torch.exp(-alpha * u * u)
            q1, q2 = (
                -2.0 * alpha * u * q / self.half,
                (4.0 * alpha**2 * u * u - 2.0 * alpha) * q / self.half**2,
            )
            e, e1, e2 = e * q, e1 * q + e * q1, e2 * q + 2.0 * e1 * q1 + e * q2
        return e * h, e1 * h + e * h1, e2 * h + 2.0 * e1 * h1 + e * h2

    def output_coefficients(self) -> torch.Tensor:
        """The output layer's weights (and bias unless ``parity == -1``): ``psi = basis(x)[0] @ this``."""
        last = self.layers[-1]
        return last.weight[0] if self.parity == -1 else torch.cat([last.weight[0], last.bias])

    def derivatives(self, x: torch.Tensor):
        """``(psi, psi', psi'')`` at the points ``x`` (shape ``(n,)``)."""
        coef = self.output_coefficients()
        return tuple(f @ coef for f in self.basis(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.derivatives(x)[0]
