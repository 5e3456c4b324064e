"""The command line: `qdyn info` and `qdyn demo`."""

import json
import subprocess
import sys

import pytest

from qdyn.cli import main
from qdyn.demo import ground_energy_table, run_demo


def test_info_reports_credentials_without_the_token(capsys, monkeypatch):
    secret = "not-a-real-token-0123456789"
    monkeypatch.setenv("QISKIT_IBM_TOKEN", secret)
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "QISKIT_IBM_TOKEN" in out and secret not in out
    assert main(["info", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert "cpu" in report["torch_devices"] and "qiskit" in report["versions"]
    assert secret not in json.dumps(report)


def test_info_without_credentials(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("QISKIT_IBM_TOKEN", raising=False)
    monkeypatch.setenv("QISKIT_IBM_RUNTIME_CONFIG", str(tmp_path / "none.json"))
    main(["info"])
    assert "not configured" in capsys.readouterr().out


def test_demo_table_matches_the_references():
    rows = ground_energy_table(quick=True)
    assert {r["source"] for r in rows} >= {"free fermions", "Bethe ansatz", "full CI (published)"}
    for row in rows:
        # The references are quoted to 1e-7 (H2 full CI) or better; everything else is exact.
        assert row["|error|"] < 1e-6, row


def test_python_dash_m_runs_the_cli():
    out = subprocess.run([sys.executable, "-m", "qdyn", "info"], capture_output=True, text=True, check=True).stdout
    assert "qdyn environment" in out and "Aer devices" in out


def test_quick_demo_writes_tables_figures_and_report(tmp_path):
    printed = []
    out = run_demo(quick=True, out=tmp_path / "report", echo=printed.append)
    text = "\n".join(printed)
    for solver in ("vqpe", "uvqpe", "odmd", "cooling", "liouvillian", "exact_povm", "transformer", "cheb",
                   "pinn_default"):
        assert solver in text
    report = (out / "report.md").read_text()
    for key in ("eigen", "open", "schrodinger"):
        assert (out / f"{key}.csv").is_file()
        png = (out / f"{key}.png").read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 10_000
        assert f"({key}.png)" in report


def test_version_flag_prints_the_installed_version(capsys):
    import qdyn

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"qdyn {qdyn.__version__}"
    assert qdyn.__version__[0].isdigit()


def test_compare_and_plot_are_attributes_loaded_on_first_use():
    code = ("import sys, qdyn; eager = 'qdyn.compare' in sys.modules or 'qdyn.plot' in sys.modules; "
            "print(eager, callable(qdyn.compare.compare), callable(qdyn.plot.error_vs_cost))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True", "True"]
