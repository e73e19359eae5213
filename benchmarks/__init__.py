"""Benchmark harnesses: run from a clone of the repository, never installed with rag."""
