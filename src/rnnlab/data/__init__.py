"""Data: sources, validation, chronological splits, scaling fitted on training data, windows."""
