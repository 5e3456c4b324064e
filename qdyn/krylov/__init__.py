"""Real-time Krylov eigenvalue extraction: VQPE, UVQPE, ODMD, matrix pencil (see issue: being built)."""
