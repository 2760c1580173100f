"""Reliability runs: fuzzing, concurrency and crash loops against a real mock server, with figures.

Each run is a function with its size as a parameter: ``python -m reliability`` runs them long and prints the
figures; the test suite (``tests/test_reliability_*.py``) runs the same functions small enough for CI.
Every run talks to a server on loopback only, bounded in request count and time.
"""
