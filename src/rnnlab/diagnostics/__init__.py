"""Gradient flow through time: Jacobian products and spectra, the theory lines, the fitted
growth rate, gate paths, and clipping statistics. Importing this package imports torch."""
