"""krylov.plan: circuits, costs and device time on a fake device, without running anything."""

import numpy as np
import pytest

import qdyn.krylov as kr
from qdyn import models, states
from qdyn.circuits.mitigation import Mitigation
from qdyn.krylov.plan import CIRCUIT_OVERHEAD_S

#: two-qubit gates of the largest circuit before control-free overlaps and layered Trotter circuits (controlled
#: Hadamard test, term-by-term controlled rotations), measured with the previous code on FakeTorino for the
#: problem below (lags 0..5, one Strang step per dt; depth 2542)
HADAMARD_BEFORE = 702


@pytest.fixture(scope="module")
def chain():
    """The issue's problem: open Heisenberg chain n = 6 from the Neel state, K = 6 lags of dt = 0.4."""
    return models.heisenberg(6, periodic=False), states.neel_state(6), kr.time_grid(0.4, 6)


@pytest.fixture(scope="module")
def torino(chain):
    H, psi, grid = chain
    return kr.plan(H, psi, grid, backend="fake:FakeTorino", shots=4000, trotter={"steps_per_dt": 1, "order": 2},
                   with_h=False, seed=1)


def test_control_free_circuits_are_five_times_smaller(chain, torino):
    H, psi, grid = chain
    assert torino.overlaps == "control-free"
    hadamard = kr.plan(H, psi, grid, backend="fake:FakeTorino", shots=4000, overlaps="hadamard",
                       trotter={"steps_per_dt": 1, "order": 2}, with_h=False, seed=1)
    # 5 Strang steps of 3-CNOT bond blocks (5 * 15 + 9 = 84 CZ) + 12 for the vacuum branch, laid out on a line
    # of the heavy-hex lattice with no SWAP; the controlled Hadamard test needs over 700
    assert torino.resources.two_qubit_gates == 96
    assert 5 * torino.resources.two_qubit_gates <= min(HADAMARD_BEFORE, hadamard.resources.two_qubit_gates)
    assert 5 * torino.resources.depth <= hadamard.resources.depth
    assert set(torino.circuits[-1].count_ops()) <= {"cz", "rz", "sx", "x", "measure", "barrier"}  # native gates


def test_counts_shots_and_device_time(torino):
    # lags 0..5, Re and Im each (Im of lag 0 is 0 by definition): 11 circuits of one measurement setting
    assert len(torino.circuits) == 11 and torino.executed_circuits == 11 and torino.shots == 11 * 4000
    assert torino.resources.shots == torino.shots and torino.resources.evolutions == 10
    np.testing.assert_array_equal(torino.settings, 1)
    assert torino.resources.two_qubit_gates == torino.two_qubit_gates.max()
    # a circuit lasts microseconds (CZ 68 ns, readout 1.6 us): far below the 250 us between shots
    assert np.all((torino.durations > 1e-6) & (torino.durations < 2e-5))
    want = np.sum(4000 * (torino.durations + 250e-6)) + 11 * CIRCUIT_OVERHEAD_S
    assert torino.device_time == pytest.approx(want, rel=1e-12)
    rows = torino.to_pandas()
    assert len(rows) == 11 and rows["two_qubit_gates"].max() == torino.resources.two_qubit_gates


def test_mitigation_overhead_is_counted(chain):
    H, psi, grid = chain
    mitigation = Mitigation(twirling=4, readout=True, zne=(1, 3))
    planned = kr.plan(H, psi, grid[:3], backend="fake:FakeTorino", shots=1000, mitigation=mitigation,
                      trotter={"steps_per_dt": 1, "order": 2}, with_h=False, seed=1)
    over = mitigation.overhead(1000)
    # 5 logical circuits, each run at 2 noise factors x 4 randomizations, plus the readout calibration
    assert planned.executed_circuits == 5 * over.circuits + over.calibration_circuits == 44
    assert planned.shots == 5 * over.shots + over.calibration_shots
    assert planned.metadata.options["mitigation"]["zne"] == [1.0, 3.0]


def test_simulators_and_bad_input(chain):
    H, psi, grid = chain
    aer = kr.plan(H, psi, grid[:2], backend="aer", shots=100, trotter={"steps_per_dt": 1, "order": 2})
    assert aer.device_time is None and aer.durations is None and aer.overlaps == "control-free"
    assert aer.settings.sum() == aer.executed_circuits > 2  # with_h: the coupled basis states add circuits
    with pytest.raises(ValueError, match="two-qubit gates"):
        kr.plan(H, psi, grid, backend="fake:FakeTorino", shots=100, trotter=None)
    with pytest.raises(ValueError, match="shots"):
        kr.plan(H, psi, grid, backend="fake:FakeTorino", shots=0, trotter={"steps_per_dt": 1})
    with pytest.raises(ValueError, match="overhead_per_circuit"):
        kr.plan(H, psi, grid, backend="aer", shots=10, trotter={"steps_per_dt": 1}, overhead_per_circuit=-1)
