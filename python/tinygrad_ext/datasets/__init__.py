"""Bundled and synthetic data sets."""
