"""Solver comparison: several solvers on one problem, one table (being built)."""
