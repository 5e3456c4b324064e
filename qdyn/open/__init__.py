"""Open quantum systems: Lindbladians, exact references, POVM formulation (being built)."""
