"""Core's periodic sweeps: each concern registers its own with `@periodic.sweep`."""
