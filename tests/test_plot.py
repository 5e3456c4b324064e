"""qdyn.plot: each figure is written, without a display, as a readable PNG with labelled axes and units."""

import subprocess
import sys

import numpy as np
import pytest

import qdyn.compare as C
from qdyn import plot
from qdyn.models import tfim
from qdyn.states import plus_state

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def no_display(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)


def check_png(path, fig):
    """A PNG file of non-trivial size whose pixels are not blank, from a figure with labelled axes."""
    import matplotlib.image

    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 10_000  # a blank 720x500 PNG compresses to ~3 kB; text and curves make it larger
    pixels = matplotlib.image.imread(path)
    assert pixels.shape[0] > 200 and pixels.shape[1] > 300
    assert pixels[..., :3].std() > 0.01  # something was drawn
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel()
        assert "(" in ax.get_xlabel() or ax.get_xlabel().startswith(("Krylov", "cooling"))
        assert "(" in ax.get_ylabel()  # units stated in parentheses


@pytest.fixture(scope="module")
def eigen_runs():
    problem = C.eigen_problem(tfim(4, 1.0, 0.8, periodic=False), refs=plus_state(4), n_times=10)
    table, runs = C.compare(problem, ["exact", "lanczos", "vqpe", "odmd", "cooling"],
                            options={"cooling": {"steps": 8}}, return_runs=True)
    return problem, table, runs


def test_import_does_not_load_matplotlib():
    code = "import sys, qdyn.plot; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_error_vs_cost_png(tmp_path, eigen_runs):
    import matplotlib

    _, table, _ = eigen_runs
    fig = plot.error_vs_cost(table, "wall_time", path=tmp_path / "cost.png")
    assert matplotlib.get_backend().lower() in ("agg", "module://matplotlib_inline.backend_inline")
    check_png(tmp_path / "cost.png", fig)
    assert fig.axes[0].get_xlabel() == "wall time (s)"
    # solvers are named in a legend (never as text beside the points, where close points overlap)
    assert not fig.axes[0].texts
    shown = {t.get_text() for t in fig.axes[0].get_legend().get_texts()}
    assert shown == {s for s, w in zip(table["solver"], table["wall_time"], strict=True) if w > 0}
    with pytest.raises(ValueError, match="no column 'flops'"):
        plot.error_vs_cost(table, "flops")


def test_convergence_png(tmp_path, eigen_runs):
    problem, _, runs = eigen_runs
    fig = plot.convergence({k: runs[k] for k in ("vqpe", "odmd", "cooling")}, problem.reference[0],
                           path=tmp_path / "conv.png")
    check_png(tmp_path / "conv.png", fig)
    assert [ax.get_xlabel() for ax in fig.axes] == ["Krylov dimension K", "cooling step"]
    with pytest.raises(TypeError, match="KrylovResult or CoolingResult"):
        plot.convergence({"exact": runs["exact"]}, problem.reference[0])


def test_observables_vs_time_png(tmp_path):
    from qdyn.open import dissipative_ising

    problem = C.open_problem(dissipative_ising(2), t_final=0.3, tau=0.05)
    _, runs = C.compare(problem, ["liouvillian", "exact_povm"], return_runs=True)
    noisy = C.SolverRun("noisy", runs["liouvillian"].values, runs["liouvillian"].result,
                        errors=np.full_like(runs["liouvillian"].values, 0.02))
    fig = plot.observables_vs_time(problem, {**runs, "noisy": noisy}, "Z", path=tmp_path / "obs.png")
    check_png(tmp_path / "obs.png", fig)
    assert fig.axes[0].get_ylabel() == "<Z> (dimensionless)"
    with pytest.raises(ValueError, match="not one of"):
        plot.observables_vs_time(problem, runs, "W")


def test_wavefunctions_png(tmp_path):
    from qdyn.schrodinger import finite_well, solve_eigen

    well = finite_well()
    results = {m: solve_eigen(well, 2, method=m) for m in ("cheb", "fd")}
    fig = plot.wavefunctions(results, reference="cheb", path=tmp_path / "psi.png")
    check_png(tmp_path / "psi.png", fig)
    assert len(fig.axes) == 2
    with pytest.raises(ValueError, match="reference 'pinn'"):
        plot.wavefunctions(results, reference="pinn")
    with pytest.raises(TypeError, match="EigenResult"):
        plot.wavefunctions({"x": 1})
