"""Benchmarks, and the development set and evaluation measures they share with the tests (not part
of the shipped library: `python bench/NAME.py` runs one)."""
