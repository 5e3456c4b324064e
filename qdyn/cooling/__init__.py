"""Dynamical cooling with a QSP shifted-sign Hamiltonian, and state-preparation baselines (being built)."""
