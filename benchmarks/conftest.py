"""Benchmarks run with pytest-benchmark; in CI they run once each as plain tests (--benchmark-disable)."""
