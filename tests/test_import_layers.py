"""The layer contracts of pyproject.toml hold (``lint-imports``), and a wrong import breaks them.

grimp reads a package from the file system, so the test lays out ``qdyn/`` with ``circuits/`` and ``nets/``
mapped into it (as setuptools' ``package-dir`` does for the installed package) in a temporary folder and runs
the real ``lint-imports`` command there, against the project's own ``pyproject.toml``.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def _layout(tmp_path: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "qdyn", tmp_path / "qdyn", ignore=ignore)
    shutil.copytree(ROOT / "circuits", tmp_path / "qdyn" / "circuits", ignore=ignore)
    shutil.copytree(ROOT / "nets", tmp_path / "qdyn" / "nets", ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _lint(folder: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(folder))
    return subprocess.run([str(LINT), str(folder / "pyproject.toml"), "--no-cache"], cwd=folder,
                          env=env, capture_output=True, text=True, timeout=300)


pytestmark = pytest.mark.skipif(not LINT.exists(), reason="import-linter is installed by the dev extra")


def test_layer_contracts_are_kept(tmp_path):
    run = _lint(_layout(tmp_path))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "BROKEN" not in run.stdout


@pytest.mark.parametrize("module, wrong_import", [
    ("exact/pauli_sum.py", "from qdyn.krylov import solve"),        # an engine importing an algorithm
    ("circuits/backends.py", "import qdyn.nets.training"),           # one wing importing the other
    ("operators.py", "from qdyn.exact import ground_state"),        # ground importing an engine
])
def test_a_wrong_import_breaks_the_contracts(tmp_path, module, wrong_import):
    folder = _layout(tmp_path)
    target = folder / "qdyn" / module
    target.write_text(target.read_text() + f"\n{wrong_import}  # deliberately wrong\n")
    run = _lint(folder)
    assert run.returncode != 0
    assert "BROKEN" in run.stdout
