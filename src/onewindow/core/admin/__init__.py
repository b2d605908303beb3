"""Admin screens for core reference data, one module per concern."""
