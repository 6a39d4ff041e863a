"""Benchmarks that print their figures (median, p95, machine, models)."""
