"""Benchmarks (programs that print numbers; not tests)."""
