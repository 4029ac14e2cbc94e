"""Benchmarks that measure hotline-bridge against the budgets in DESIGN.md (``make bench``)."""
