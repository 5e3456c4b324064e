"""The main job: a compact tour of qdyn on embedded default problems, printed as comparison tables.

For now it compares the exact engine's ground energies of the built-in models with independent references:
the free-fermion formula (TFIM), the Bethe-ansatz value (Heisenberg ring), the two-site Hubbard formula and
published full-CI energies (H2). It grows as the modules land.
"""

from __future__ import annotations

import numpy as np

from qdyn import exact, models

__all__ = ["ground_energy_table", "format_table", "run_demo"]


def _tfim_reference(n: int, J: float = 1.0, g: float = 1.0) -> float:
    m = np.arange(1, n // 2 + 1)
    return -float(np.sum(2 * np.sqrt(J**2 + g**2 - 2 * J * g * np.cos((2 * m - 1) * np.pi / n))))


def _problems(quick: bool):
    big = 12 if quick else 18
    yield "TFIM n=8 (g=1)", models.tfim(8), None, _tfim_reference(8), "free fermions"
    yield f"TFIM n={big} (g=1)", models.tfim(big), None, _tfim_reference(big), "free fermions"
    yield "Heisenberg ring n=8", models.heisenberg(8), None, -14.6043736357, "Bethe ansatz"
    yield "Hubbard 2 sites U=4 (N=2)", models.hubbard(2, U=4.0), 2, (4 - np.sqrt(32)) / 2, "analytic"
    yield "H2 STO-3G 0.74 A", models.h2(0.74).hamiltonian, None, -1.1372838, "full CI (published)"


def ground_energy_table(quick: bool = False, seed: int = 0) -> list[dict]:
    """One row per built-in problem: exact-engine ground energy, reference, error and cost."""
    rows = []
    for name, H, weight, reference, source in _problems(quick):
        result = exact.ground_state(H, hamming_weight=weight, seed=seed)
        rows.append({
            "problem": name, "qubits": H.num_qubits, "method": result.method,
            "E0": result.energy, "reference": reference, "source": source,
            "|error|": abs(result.energy - reference), "matvecs": result.resources.matvecs,
            "seconds": result.resources.wall_time,
        })
    return rows


def format_table(rows: list[dict]) -> str:
    """Plain-text table with aligned columns."""
    def cell(value):
        if isinstance(value, float):
            return f"{value:.3e}" if (abs(value) < 1e-3 and value != 0) else f"{value:.10g}"
        return str(value)

    headers = list(rows[0])
    cells = [[cell(r[h]) for h in headers] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def run_demo(quick: bool = False) -> str:
    """Run the tour and return the printed text."""
    parts = ["Exact ground energies of the built-in models against independent references", ""]
    parts.append(format_table(ground_energy_table(quick=quick)))
    return "\n".join(parts)
