"""1D Schrodinger eigenproblems: exact, classical and PINN solvers (being built)."""
